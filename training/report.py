"""The model report (self-contained HTML) and the model card (Markdown), as MLflow artifacts.

The report is for data scientists and auditors: mean |SHAP| per profile field for each
need and for employability, beeswarm plots, the calibration curve, the confusion
matrix, the model against its baselines and the Bayes reference, and the fairness
tables. The model card is the technical documentation and the instructions for use
that the AI Act asks of a high-risk system (Art. 11, 13, 14).
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sklearn.calibration import calibration_curve

from features.schema import FIELDS_BY_NAME, NEEDS
from models.card import KNOWN_LIMITS, OVERSIGHT
from models.explainer import Contributions
from models.segmentation import SegmentationModel
from training import evaluate

if TYPE_CHECKING:
    from training.evaluate import Evaluation
    from training.train import FittedModels

SAMPLE_ROWS = 1000
TEMPLATES = Path(__file__).with_name("templates")
COMPARED = (
    ("need_accuracy", "higher"),
    ("need_macro_f1", "higher"),
    ("need_log_loss", "lower"),
    ("need_top2_accuracy", "higher"),
    ("emp_auc", "higher"),
    ("emp_brier", "lower"),
    ("emp_ece", "lower"),
    ("tier_accuracy", "higher"),
)


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _label(name: str) -> str:
    field = FIELDS_BY_NAME.get(name)
    return field.label_fr if field else name


def explanation_sets(model: SegmentationModel, X: np.ndarray) -> dict[str, Contributions]:
    """SHAP values of every row of ``X`` for each need class, and for employability."""
    out: dict[str, Contributions] = {}
    for index, code in enumerate(model.need_classes if model.has_need else []):
        out[code] = model.explain_need(X, np.full(len(X), index))
    if model.has_employability:
        out["employability"] = model.explain_employability(X)
    return out


def importance_tables(explained: dict[str, Contributions], names: list[str]) -> dict[str, pd.Series]:
    """Mean |SHAP| per profile field: one series per need, and one for employability."""
    return {target: pd.Series(np.abs(c.values).mean(axis=0), index=names) for target, c in explained.items()}


def _beeswarm(values: np.ndarray, base: np.ndarray, X: np.ndarray, names: list[str], title: str) -> str:
    explanation = shap.Explanation(values=values, base_values=base, data=X, feature_names=names)
    shap.plots.beeswarm(explanation, max_display=12, show=False)
    fig = plt.gcf()
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def _importance_plot(tables: dict[str, pd.Series]) -> str:
    frame = pd.DataFrame(tables)
    frame = frame.loc[frame.sum(axis=1).sort_values().index[-15:]]
    frame.index = [_label(n) for n in frame.index]
    fig, ax = plt.subplots(figsize=(8, 6))
    frame.plot.barh(ax=ax, width=0.8)
    ax.set_xlabel("mean |SHAP| (log-odds)")
    ax.legend(fontsize=7)
    return _png(fig)


def _calibration_plot(y: np.ndarray, p_cal: np.ndarray, p_raw: np.ndarray) -> str:
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, p in (("calibrated", p_cal), ("raw LightGBM", p_raw)):
        observed, predicted = calibration_curve(y, p, n_bins=15, strategy="quantile")
        ax.plot(predicted, observed, marker="o", label=label)
    ax.plot([0, 1], [0, 1], "k--", label="perfect")
    ax.set_xlabel("predicted probability of work within 6 months")
    ax.set_ylabel("observed rate")
    ax.legend()
    return _png(fig)


def _confusion_plot(matrix: np.ndarray, classes: list[str]) -> str:
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if count > matrix.max() / 2 else "black",
        )
    ax.set_xlabel("suggested need")
    ax.set_ylabel("recorded need")
    return _png(fig)


def comparison_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Model, baselines and Bayes side by side, metric by metric."""
    rows = []
    for key, better in COMPARED:
        if key not in metrics:
            continue
        rows.append(
            {
                "metric": key,
                "better": better,
                "model": metrics.get(key),
                "logreg": metrics.get(f"baseline_logreg_{key}"),
                "rules": metrics.get(f"baseline_rules_{key}"),
                "bayes": metrics.get(f"bayes_{key}"),
            }
        )
    return rows


def build_context(
    model: SegmentationModel, evaluation: Evaluation, fitted: FittedModels, tags: dict[str, str]
) -> dict[str, Any]:
    test = evaluation.test
    sample = test.iloc[:SAMPLE_ROWS]
    X = model.encode_frame(sample)
    names = model.feature_names
    labels = [_label(n) for n in names]
    explained = explanation_sets(model, X)
    tables = importance_tables(explained, names)
    plots: dict[str, str] = {"importance": _importance_plot(tables)}
    titles = {"employability": "Employabilité (accès à l'emploi en 6 mois)", **NEEDS}
    order = ["employability", *[c for c in explained if c != "employability"]]
    beeswarms = [
        (titles.get(target, target), _beeswarm(explained[target].values, explained[target].base, X, labels, target))
        for target in order
        if target in explained
    ]
    spec = model.spec
    scores = evaluation.scores
    if spec.employment_label is not None and scores.p_employed is not None and scores.p_employed_raw is not None:
        y = test[spec.employment_label.name].astype(bool).to_numpy().astype(int)
        plots["calibration"] = _calibration_plot(y, scores.p_employed, scores.p_employed_raw)
    if spec.need_label is not None and scores.need_proba is not None:
        matrix = evaluate.confusion(
            test[spec.need_label.name].astype(str).to_numpy(), scores.need_proba, model.need_classes
        )
        plots["confusion"] = _confusion_plot(matrix, model.need_classes)
    importance = pd.DataFrame(tables)
    importance = importance.loc[importance.sum(axis=1).sort_values(ascending=False).index]
    importance.index = [f"{_label(n)} ({n})" for n in importance.index]
    audit = evaluation.audit
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "tags": tags,
        "metrics": evaluation.metrics,
        "comparison": comparison_rows(evaluation.metrics),
        "plots": plots,
        "beeswarms": beeswarms,
        "importance_html": importance.to_html(float_format=lambda v: f"{v:.3f}", classes="table"),
        "fairness_html": {
            name: t.to_html(float_format=lambda v: f"{v:.3f}", classes="table")
            for name, t in (audit.tables.items() if audit else [])
        },
        "findings": audit.findings if audit else [],
        "worst": audit.worst if audit else {},
        "searches": {k: v.__dict__ for k, v in fitted.searches.items()},
        "calibration_method": model.calibrator.method_ if model.calibrator is not None else None,
        "bands": model.tier_bands.to_dict(),
        "spec": spec,
        "classes": model.need_classes,
        "inputs": [(_label(c.name), c.name, c.role) for c in spec.inputs],
        "audited": [c.name for c in spec.audited],
        "split": {
            "train": len(fitted.split.train),
            "validation": len(fitted.split.validation),
            "test": len(fitted.split.test),
        },
        "review": model.review,
        "limits": KNOWN_LIMITS,
        "oversight": OVERSIGHT,
    }


def write_reports(
    model: SegmentationModel, evaluation: Evaluation, fitted: FittedModels, tags: dict[str, str], folder: Path
) -> list[Path]:
    """Write ``model_report.html`` and ``model_card.md`` into ``folder``; return their paths."""
    context = build_context(model, evaluation, fitted, tags)
    env = _environment()
    report_path = folder / "model_report.html"
    report_path.write_text(env.get_template("model_report.html.j2").render(**context), encoding="utf-8")
    card_path = folder / "model_card.md"
    card_path.write_text(env.get_template("model_card.md.j2").render(**context), encoding="utf-8")
    return [report_path, card_path]
