"""Quality metrics on the test split, and the Bayes reference from the truth columns.

Metric keys are a contract (MLflow, the promotion gate, the reports): ``need_accuracy``,
``need_macro_f1``, ``need_log_loss``, ``need_top2_accuracy``, ``emp_auc``, ``emp_brier``,
``emp_ece``, ``tier_accuracy``; the Bayes reference ``bayes_*``; baselines under
``baseline_logreg_`` and ``baseline_rules_``.

``tier_accuracy`` compares the predicted tier with the tier of the *true* probability,
so it exists only where truth columns exist (synthetic data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, roc_auc_score

from core.errors import InvalidInput
from models.calibration import expected_calibration_error
from models.segmentation import Scores, TierBands
from training.fairness import FairnessAudit

_CLIP = 1e-12


@dataclass
class Evaluation:
    """Everything measured on the test split."""

    metrics: dict[str, float]
    audit: FairnessAudit | None
    test: pd.DataFrame
    scores: Scores
    baseline_figures: dict[str, dict[str, float]]


def need_metrics(y_true: np.ndarray, proba: np.ndarray, classes: list[str], prefix: str = "need_") -> dict[str, float]:
    """Accuracy, macro-F1, log loss and top-2 accuracy of need probabilities."""
    y_idx = _class_indices(y_true, classes)
    pred = proba.argmax(axis=1)
    top2 = np.argsort(-proba, axis=1)[:, :2]
    clipped = np.clip(proba, _CLIP, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    return {
        f"{prefix}accuracy": float(accuracy_score(y_idx, pred)),
        f"{prefix}macro_f1": float(f1_score(y_idx, pred, average="macro", labels=range(len(classes)))),
        f"{prefix}log_loss": float(log_loss(y_idx, clipped, labels=range(len(classes)))),
        f"{prefix}top2_accuracy": float(np.mean((top2 == y_idx[:, None]).any(axis=1))),
    }


def employment_metrics(y_true: np.ndarray, p: np.ndarray, prefix: str = "emp_") -> dict[str, float]:
    """ROC-AUC, Brier score and expected calibration error of employment probabilities."""
    y = np.asarray(y_true, dtype=int)
    return {
        f"{prefix}auc": float(roc_auc_score(y, p)),
        f"{prefix}brier": float(brier_score_loss(y, p)),
        f"{prefix}ece": expected_calibration_error(y, p),
    }


def tier_accuracy(p_pred: np.ndarray, p_true: np.ndarray, bands: TierBands) -> float:
    """Share of people whose predicted tier equals the tier of their true probability."""
    return float(np.mean(bands.tier(p_pred) == bands.tier(p_true)))


def bayes_metrics(
    y_need: np.ndarray | None,
    truth_need: np.ndarray | None,
    classes: list[str],
    y_emp: np.ndarray | None,
    truth_emp: np.ndarray | None,
) -> dict[str, float]:
    """The best possible model's figures: the truth columns used as predictions."""
    out: dict[str, float] = {}
    if y_need is not None and truth_need is not None:
        m = need_metrics(y_need, truth_need, classes, prefix="bayes_need_")
        out.update({k: v for k, v in m.items() if not k.endswith("top2_accuracy")})
    if y_emp is not None and truth_emp is not None:
        m = employment_metrics(y_emp, truth_emp, prefix="bayes_emp_")
        out.update({k: v for k, v in m.items() if not k.endswith("ece")})
    return out


def _class_indices(y: np.ndarray, classes: list[str]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    try:
        return np.fromiter((lookup[v] for v in y), dtype=int, count=len(y))
    except KeyError as exc:
        raise InvalidInput(f"label {exc.args[0]!r} is not a known class ({', '.join(classes)})") from None


def confusion(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> np.ndarray:
    """Confusion counts, rows = recorded need, columns = suggested need."""
    y_idx = _class_indices(y_true, classes)
    pred = proba.argmax(axis=1)
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(matrix, (y_idx, pred), 1)
    return matrix
