"""Measuring a population against its targets, and what the best possible model reaches on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.age import AGE_BAND_LABELS, age_band
from features.schema import EMPLOYMENT_LABEL, NEED_CODES, NEED_LABEL, TRUTH_EMPLOYMENT_COLUMN, TRUTH_NEED_COLUMNS
from synthetic._targets import (
    DISABLED_50_PLUS,
    DISABLED_REGISTERED_1Y,
    EMPLOYED_6M_AB,
    EMPLOYED_6M_C,
    NEED_SHARES,
    QPV_BELOW_BAC,
    SHARE_AGE,
    SHARE_BAC_PLUS,
    SHARE_CATEGORY,
    SHARE_DISABILITY,
    SHARE_QPV,
    SHARE_REGISTERED_1Y,
    SHARE_RSA,
    SHARE_WOMEN,
)


class CalibrationRow(NamedTuple):
    indicator: str
    measured: float
    target: float
    tolerance: float
    ok: bool


@dataclass(frozen=True)
class CalibrationTarget:
    indicator: str
    target: float
    tolerance: float
    source: str  # the published source, or "assumption"


_BELOW_BAC = ("NONE", "CAP_BEP")
#: The indicator of each age band of core.age.
_AGE_INDICATOR = {"<25": "aged under 25", "25-49": "aged 25-49", "50+": "aged 50 or more"}
assert tuple(_AGE_INDICATOR) == AGE_BAND_LABELS

#: Every indicator of :func:`calibration_report`, with its source. Tolerances of the
#: published figures are those of shared/calibration.md; the sub-shares without a
#: stated tolerance (disabled aged 50+, disabled registered 1 year+, QPV below the bac)
#: get ±3 pts, and the assumptions ±2 or ±3 pts (our choice, see docs/data-card.md).
CALIBRATION_TARGETS: tuple[CalibrationTarget, ...] = (
    CalibrationTarget("category A share", SHARE_CATEGORY["A"], 0.02, "INSEE Références 2025"),
    CalibrationTarget("category B share", SHARE_CATEGORY["B"], 0.02, "INSEE Références 2025"),
    CalibrationTarget("category C share", SHARE_CATEGORY["C"], 0.02, "INSEE Références 2025"),
    CalibrationTarget("women", SHARE_WOMEN, 0.015, "INSEE Références 2025"),
    *(
        CalibrationTarget(_AGE_INDICATOR[band], SHARE_AGE[band], 0.015, "INSEE Références 2025")
        for band in AGE_BAND_LABELS
    ),
    CalibrationTarget("registered 12 months or more", SHARE_REGISTERED_1Y, 0.02, "INSEE Références 2025"),
    CalibrationTarget("recognised disability", SHARE_DISABILITY, 0.015, "Agefiph 2024"),
    CalibrationTarget("disabled: aged 50 or more", DISABLED_50_PLUS, 0.03, "Agefiph 2024"),
    CalibrationTarget("disabled: registered 12 months or more", DISABLED_REGISTERED_1Y, 0.03, "Agefiph 2024"),
    CalibrationTarget("baccalaureat or higher", SHARE_BAC_PLUS, 0.03, "Agefiph 2024"),
    CalibrationTarget("RSA recipients", SHARE_RSA, 0.03, "DARES Sept 2024; Unédic"),
    CalibrationTarget("QPV residents", SHARE_QPV, 0.02, "ONPV"),
    CalibrationTarget("QPV residents: below the bac", QPV_BELOW_BAC, 0.03, "ONPV"),
    CalibrationTarget(
        "employed_6m, categories A and B", EMPLOYED_6M_AB, 0.02, "France Travail, Stats & indicateurs 25.027"
    ),
    CalibrationTarget("employed_6m, category C", EMPLOYED_6M_C, 0.03, "assumption"),
    *(CalibrationTarget(f"primary_need {k}", v, 0.02, "assumption") for k, v in NEED_SHARES.items()),
)


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else float("nan")


def _measure(frame: pd.DataFrame) -> dict[str, float]:
    cat = frame["category"].astype(str)
    band = age_band(frame["age"]).to_numpy()
    dis = frame["disability_recognition"].to_numpy(dtype=bool)
    reg1y = frame["registration_months"].to_numpy(dtype=np.float64) >= 12
    below = frame["education_level"].astype(str).isin(_BELOW_BAC).to_numpy()
    qpv = frame["qpv_resident"].to_numpy(dtype=bool)
    emp = frame[EMPLOYMENT_LABEL].to_numpy(dtype=bool)
    ab = cat.isin(["A", "B"]).to_numpy()
    need = frame[NEED_LABEL].astype(str)

    m = {
        "category A share": _mean(cat.to_numpy() == "A"),
        "category B share": _mean(cat.to_numpy() == "B"),
        "category C share": _mean(cat.to_numpy() == "C"),
        "women": _mean(frame["sex"].astype(str).to_numpy() == "F"),
        **{_AGE_INDICATOR[label]: _mean(band == label) for label in AGE_BAND_LABELS},
        "registered 12 months or more": _mean(reg1y),
        "recognised disability": _mean(dis),
        "disabled: aged 50 or more": _mean(band[dis] == "50+"),
        "disabled: registered 12 months or more": _mean(reg1y[dis]),
        "baccalaureat or higher": _mean(~below),
        "RSA recipients": _mean(frame["rsa_recipient"].to_numpy(dtype=bool)),
        "QPV residents": _mean(qpv),
        "QPV residents: below the bac": _mean(below[qpv]),
        "employed_6m, categories A and B": _mean(emp[ab]),
        "employed_6m, category C": _mean(emp[~ab]),
    }
    for k in NEED_CODES:
        m[f"primary_need {k}"] = _mean(need.to_numpy() == k)
    return m


def calibration_report(frame: pd.DataFrame) -> list[CalibrationRow]:
    """Measured marginals of ``frame`` against :data:`CALIBRATION_TARGETS`.

    Labels are the *recorded* ones: a frame generated with a label bias will (and
    should) miss the employment and need targets.
    """
    measured = _measure(frame)
    rows = []
    for t in CALIBRATION_TARGETS:
        value = measured[t.indicator]
        ok = bool(np.isfinite(value) and abs(value - t.target) <= t.tolerance + 1e-12)
        rows.append(CalibrationRow(t.indicator, value, t.target, t.tolerance, ok))
    return rows


def bayes_reference(frame: pd.DataFrame) -> dict[str, float]:
    """What the best possible model reaches on ``frame``: the truth columns as predictions.

    ``need_accuracy`` and ``need_macro_f1`` compare argmax of the true need
    probabilities with the recorded need; ``emp_auc`` is the ROC-AUC of
    ``true_p_employed_6m`` against the recorded ``employed_6m``;
    ``need_accuracy_expected`` is the mean of the largest true probability (the
    accuracy the Bayes rule reaches in expectation, free of sampling noise).
    """
    from sklearn.metrics import roc_auc_score  # imported here: only this function needs scikit-learn

    p = frame[list(TRUTH_NEED_COLUMNS)].to_numpy(dtype=np.float64)
    k = len(NEED_CODES)
    pred = p.argmax(axis=1)
    true = pd.Categorical(frame[NEED_LABEL].astype(str), categories=NEED_CODES).codes.astype(np.int64)
    confusion = np.bincount(true * k + pred, minlength=k * k).reshape(k, k).astype(np.float64)
    tp = np.diag(confusion)
    precision = np.divide(tp, confusion.sum(axis=0), out=np.zeros(k), where=confusion.sum(axis=0) > 0)
    recall = np.divide(tp, confusion.sum(axis=1), out=np.zeros(k), where=confusion.sum(axis=1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    y = frame[EMPLOYMENT_LABEL].to_numpy(dtype=bool)
    return {
        "need_accuracy": float(tp.sum() / max(len(true), 1)),
        "need_macro_f1": float(f1.mean()),
        "need_accuracy_expected": float(p.max(axis=1).mean()),
        "emp_auc": float(roc_auc_score(y, frame[TRUTH_EMPLOYMENT_COLUMN].to_numpy(dtype=np.float64))),
    }
