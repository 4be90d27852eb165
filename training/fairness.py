"""Fairness audit by group, with fairlearn's MetricFrame.

For every audited column (protected, sensitive and declared audit columns; age in the
bands <25, 25–49, 50+) and each of its groups: need macro-F1, the share in each tier,
the *missed support* rate (people who did not find work within 6 months but were put
in tier A, i.e. judged close to employment and so given less support), and the
calibration error of the employment probability. The worst gaps between groups are
the headline metrics ``fair_max_missed_support_gap`` and ``fair_max_ece_gap``.

Where truth columns exist, the audit also compares each group's *recorded* employment
rate with its *true* mean probability: a group whose labels are systematically worse
than its truth (biased recording) shows there, and in its calibration gap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import f1_score

from core.age import MISSING_BAND, age_band
from core.thresholds import (
    AUDIT_ECE_GAP_ALERT,
    AUDIT_LABEL_TRUTH_GAP_ALERT,
    AUDIT_MIN_GROUP_SIZE,
    AUDIT_MISSED_GAP_ALERT,
)
from features.spec import TrainingSpec
from models.calibration import expected_calibration_error


def group_ece(y: np.ndarray, p: np.ndarray) -> float:
    """ECE with fewer bins for small groups (about 100 people a bin, 2 to 15 bins): with a
    fixed 15 bins, small groups show a large error from noise alone."""
    return expected_calibration_error(y, p, n_bins=int(np.clip(len(p) // 100, 2, 15)))


def _tier_share(tier: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The share of a group put in ``tier`` (a MetricFrame metric: y_true, y_pred)."""

    def share(_y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(y_pred == tier))

    return share


def audit_groups(frame: pd.DataFrame, spec: TrainingSpec) -> dict[str, pd.Series]:
    """The grouping of each audited column present in ``frame``, as text labels."""
    groups = {}
    for column in spec.audited:
        if column.name not in frame.columns:
            continue
        series = frame[column.name]
        if column.name == "age":
            # the audit writes every column's missing group as "missing"
            groups["age_band"] = age_band(series).replace(MISSING_BAND, "missing")
        elif column.type in ("numeric", "integer"):
            values = series.astype("Float64")
            groups[f"{column.name}_tercile"] = pd.qcut(
                values, 3, labels=["low", "mid", "high"], duplicates="drop"
            ).astype(str)
        else:
            groups[column.name] = series.astype(object).where(series.notna(), "missing").astype(str)
    return groups


def _missed_support(y_emp: np.ndarray, tier: np.ndarray) -> float:
    not_employed = ~y_emp.astype(bool)
    return float(np.mean(tier[not_employed] == "A")) if not_employed.any() else float("nan")


@dataclass
class FairnessAudit:
    """The audit's tables and headline figures (``to_dict`` is the ``fairness.json`` artifact)."""

    tables: dict[str, pd.DataFrame]
    metrics: dict[str, float]
    findings: list[str]
    worst: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "findings": self.findings,
            "worst": self.worst,
            "groups": {name: table.reset_index().to_dict(orient="records") for name, table in self.tables.items()},
        }


def run_audit(
    frame: pd.DataFrame,
    spec: TrainingSpec,
    *,
    y_need: np.ndarray | None,
    need_pred: np.ndarray | None,
    y_emp: np.ndarray | None,
    p_emp: np.ndarray | None,
    tier: np.ndarray | None,
    truth_emp: np.ndarray | None = None,
    ece_gap_alert: float = AUDIT_ECE_GAP_ALERT,
    missed_gap_alert: float = AUDIT_MISSED_GAP_ALERT,
) -> FairnessAudit:
    """Audit predictions on ``frame`` (the test split) group by group."""
    tables: dict[str, pd.DataFrame] = {}
    missed_gaps, ece_gaps, label_gaps = {}, {}, {}
    for name, groups in audit_groups(frame, spec).items():
        columns: dict[str, pd.Series] = {}
        if y_need is not None and need_pred is not None:
            mf = MetricFrame(
                metrics={"need_macro_f1": lambda y, p: f1_score(y, p, average="macro")},
                y_true=np.asarray(y_need),
                y_pred=np.asarray(need_pred),
                sensitive_features=groups,
            )
            columns["need_macro_f1"] = mf.by_group["need_macro_f1"]
        if y_emp is not None and p_emp is not None:
            y = np.asarray(y_emp, dtype=int)
            mf = MetricFrame(
                metrics={
                    "count": lambda yt, pp: len(yt),
                    "employment_rate": lambda yt, pp: float(np.mean(yt)),
                    "mean_probability": lambda yt, pp: float(np.mean(pp)),
                    "ece": group_ece,
                },
                y_true=y,
                y_pred=np.asarray(p_emp),
                sensitive_features=groups,
            )
            for key in ("count", "employment_rate", "mean_probability", "ece"):
                columns[key] = mf.by_group[key]
            if tier is not None:
                tier_arr = np.asarray(tier)
                mf_tier = MetricFrame(
                    metrics={
                        "missed_support_rate": _missed_support,
                        **{f"share_tier_{t}": _tier_share(t) for t in "ABC"},
                    },
                    y_true=y,
                    y_pred=tier_arr,
                    sensitive_features=groups,
                )
                for key in mf_tier.by_group.columns:
                    columns[key] = mf_tier.by_group[key]
            if truth_emp is not None:
                mf_truth = MetricFrame(
                    metrics={"true_mean_probability": lambda yt, pp: float(np.mean(pp))},
                    y_true=y,
                    y_pred=np.asarray(truth_emp),
                    sensitive_features=groups,
                )
                columns["true_mean_probability"] = mf_truth.by_group["true_mean_probability"]
        table = pd.DataFrame(columns)
        table.index.name = "group"
        tables[name] = table
        sized = table[table["count"] >= AUDIT_MIN_GROUP_SIZE] if "count" in table else table
        if "missed_support_rate" in sized and len(sized) > 1:
            missed_gaps[name] = (
                sized["missed_support_rate"].max() - sized["missed_support_rate"].min(),
                sized["missed_support_rate"].idxmax(),
            )
        if "ece" in sized and len(sized) > 1:
            ece_gaps[name] = (sized["ece"].max() - sized["ece"].min(), sized["ece"].idxmax())
        if "true_mean_probability" in sized and len(sized) > 0:
            gap = sized["employment_rate"] - sized["true_mean_probability"]
            label_gaps[name] = (float(gap.abs().max()), gap.abs().idxmax(), float(gap[gap.abs().idxmax()]))
    return _summarise(tables, missed_gaps, ece_gaps, label_gaps, ece_gap_alert, missed_gap_alert)


def _summarise(tables, missed_gaps, ece_gaps, label_gaps, ece_alert, missed_alert) -> FairnessAudit:
    metrics: dict[str, float] = {}
    worst: dict[str, Any] = {}
    findings: list[str] = []
    for gaps, metric, key, alert, wording in (
        (
            missed_gaps,
            "fair_max_missed_support_gap",
            "missed_support",
            missed_alert,
            "missed-support rate {gap:.1%} above the best-treated group",
        ),
        (
            ece_gaps,
            "fair_max_ece_gap",
            "calibration",
            ece_alert,
            "calibration error {gap:.1%} above the best-calibrated group",
        ),
    ):
        if not gaps:
            continue
        column, (gap, group) = max(gaps.items(), key=lambda kv: kv[1][0])
        metrics[metric] = float(gap)
        worst[key] = {"column": column, "group": group, "gap": float(gap)}
        findings += [
            f"{col}={grp}: " + wording.format(gap=g)
            for col, (g, grp) in sorted(gaps.items(), key=lambda kv: -kv[1][0])
            if g > alert
        ]
    if label_gaps:
        column, (gap, group, signed) = max(label_gaps.items(), key=lambda kv: kv[1][0])
        metrics["fair_max_label_truth_gap"] = float(gap)
        worst["label_truth"] = {"column": column, "group": group, "gap": float(signed)}
        if gap > AUDIT_LABEL_TRUTH_GAP_ALERT:
            findings.append(
                f"{column}={group}: recorded employment rate differs from the true probability "
                f"by {signed:+.1%}: its labels look biased"
            )
    if not findings:
        findings.append("no group gap above the alert thresholds")
    return FairnessAudit(tables=tables, metrics=metrics, findings=findings, worst=worst)
