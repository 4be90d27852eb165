"""Fairness audit by group, with bootstrap confidence intervals, that says what it did.

Audited columns are the spec's protected, sensitive and audit columns. Each is grouped:
categories and booleans by value, an age (``bands: age`` in the spec, in years or months)
in the bands of :mod:`core.age` (the same as the allocation's fairness shares), other
numbers in terciles. For each group: its size, need macro-F1, the share in each tier, the
*missed support* rate (people who did not find work but were put in tier A, so given less
support), the calibration error of the employment probability and, where truth columns
exist (synthetic data), its recorded employment rate against its true mean probability.

Gaps between groups come with bootstrap confidence intervals (rows resampled within each
group, ``AUDIT_BOOTSTRAP`` times, 95 % percentile intervals). An *alert* needs both the gap
and its whole interval beyond the threshold, so noise in small groups does not raise one.
Groups smaller than ``AUDIT_MIN_GROUP_SIZE`` are not compared; they are listed with their
size. A spec that declares nothing to audit gives an audit whose status is "not audited",
and the promotion gate refuses such a version unless a reason is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from core.age import MISSING_BAND, age_band
from core.thresholds import (
    AUDIT_BOOTSTRAP,
    AUDIT_CONFIDENCE,
    AUDIT_ECE_GAP_ALERT,
    AUDIT_LABEL_TRUTH_GAP_ALERT,
    AUDIT_MIN_GROUP_SIZE,
    AUDIT_MISSED_GAP_ALERT,
)
from features.spec import TrainingSpec
from models.calibration import expected_calibration_error

NOT_AUDITED = "not audited"
AUDITED = "audited"


def ece_bins(n: int) -> int:
    """About 100 people a bin, 2 to 15 bins: with a fixed 15 bins, small groups show a large error from noise."""
    return int(np.clip(n // 100, 2, 15))


def group_ece(y: np.ndarray, p: np.ndarray) -> float:
    return expected_calibration_error(y, p, n_bins=ece_bins(len(p)))


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
        if column.is_age:
            band = age_band(series, unit=column.unit or "years")
            groups[f"{column.name}_band"] = band.replace(MISSING_BAND, "missing")
        elif column.type in ("numeric", "integer"):
            values = series.astype("Float64")
            groups[f"{column.name}_tercile"] = pd.qcut(
                values, 3, labels=["low", "mid", "high"], duplicates="drop"
            ).astype(str)
        else:
            groups[column.name] = series.astype(object).where(series.notna(), "missing").astype(str)
    return groups


@dataclass
class Gap:
    """The largest gap of one kind in one grouping, with its interval and whether it alerts."""

    kind: str
    column: str
    group: str
    reference: str | None
    gap: float
    low: float
    high: float
    threshold: float
    alert: bool

    def finding(self) -> str:
        interval = f"(95 % CI {self.low:+.1%} to {self.high:+.1%}, alert above {self.threshold:.1%})"
        if self.kind == "label_truth":
            return (
                f"{self.column}={self.group}: recorded employment rate differs from the true probability by "
                f"{self.gap:+.1%} {interval}: its labels look biased"
            )
        what = {
            "missed_support": "missed-support rate",
            "missed_support_excess": "missed-support rate, beyond the gap the true probabilities give,",
            "calibration": "calibration error",
        }[self.kind]
        text = f"{self.column}={self.group}: {what} {self.gap:.1%} above {self.reference} {interval}"
        if self.kind == "missed_support" and not self.alert:
            text += "; a disparity that differences in employability between groups can explain, not an alert"
        return text


@dataclass
class FairnessAudit:
    """The audit's tables, gaps and findings (``to_dict`` is the ``fairness.json`` artifact)."""

    status: str
    audited_columns: list[str]
    tables: dict[str, pd.DataFrame]
    gaps: list[Gap]
    small_groups: list[dict[str, Any]]
    metrics: dict[str, float]
    findings: list[str]
    worst: dict[str, Any] = field(default_factory=dict)
    min_group_size: int = AUDIT_MIN_GROUP_SIZE
    bootstrap: int = AUDIT_BOOTSTRAP

    @property
    def alerts(self) -> list[Gap]:
        return [g for g in self.gaps if g.alert]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "audited_columns": self.audited_columns,
            "method": {
                "bootstrap_resamples": self.bootstrap,
                "confidence": AUDIT_CONFIDENCE,
                "min_group_size": self.min_group_size,
                "alert_rule": "the gap and its whole confidence interval beyond the threshold",
            },
            "metrics": self.metrics,
            "findings": self.findings,
            "gaps": [g.__dict__ for g in self.gaps],
            "small_groups": self.small_groups,
            "worst": self.worst,
            "groups": {name: table.reset_index().to_dict(orient="records") for name, table in self.tables.items()},
        }


def _missed_support(y: np.ndarray, tier_a: np.ndarray) -> float:
    not_employed = y == 0
    return float(np.mean(tier_a[not_employed])) if not_employed.any() else float("nan")


def _table(groups: pd.Series, y_need, need_pred, y_emp, p_emp, tier, truth_emp) -> pd.DataFrame:
    rows = []
    labels = groups.to_numpy()
    for value in sorted(pd.unique(labels), key=str):
        inside = labels == value
        row: dict[str, Any] = {"group": value, "count": int(inside.sum())}
        if y_need is not None and need_pred is not None:
            row["need_macro_f1"] = float(f1_score(y_need[inside], need_pred[inside], average="macro"))
        if y_emp is not None and p_emp is not None:
            row["employment_rate"] = float(np.mean(y_emp[inside]))
            row["mean_probability"] = float(np.mean(p_emp[inside]))
            row["ece"] = group_ece(y_emp[inside], p_emp[inside])
            if tier is not None:
                row["missed_support_rate"] = _missed_support(y_emp[inside], tier[inside] == "A")
                for t in "ABC":
                    row[f"share_tier_{t}"] = float(np.mean(tier[inside] == t))
            if truth_emp is not None:
                row["true_mean_probability"] = float(np.mean(truth_emp[inside]))
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")


def _resampled(rows: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """``n_boot`` resamples (with replacement) of a group's row positions."""
    return rows[rng.integers(0, len(rows), size=(n_boot, len(rows)))]


def _boot_ece(y: np.ndarray, p: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """ECE of each resample (rows of ``idx``), with the group's bin count."""
    n_boot, n = idx.shape
    n_bins = ece_bins(n)
    pb, yb = p[idx], y[idx]
    bins = np.minimum((pb * n_bins).astype(int), n_bins - 1) + np.arange(n_boot)[:, None] * n_bins
    size = n_boot * n_bins
    sum_p = np.bincount(bins.ravel(), weights=pb.ravel(), minlength=size).reshape(n_boot, n_bins)
    sum_y = np.bincount(bins.ravel(), weights=yb.ravel(), minlength=size).reshape(n_boot, n_bins)
    return np.abs(sum_y - sum_p).sum(axis=1) / n


def _boot_missed(y: np.ndarray, tier_a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    not_employed = y[idx] == 0
    with np.errstate(invalid="ignore"):
        return (tier_a[idx] & not_employed).sum(axis=1) / not_employed.sum(axis=1)


def _interval(values: np.ndarray) -> tuple[float, float]:
    tail = (1 - AUDIT_CONFIDENCE) / 2 * 100
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _grouping_gaps(
    name: str, groups: pd.Series, table: pd.DataFrame, y_emp, p_emp, tier, truth_emp, truth_tier, rng, n_boot, alerts
) -> list[Gap]:
    sized = [g for g in table.index if table.at[g, "count"] >= AUDIT_MIN_GROUP_SIZE]
    if y_emp is None or p_emp is None or not sized:
        return []
    labels = groups.to_numpy()
    draws = {g: _resampled(np.flatnonzero(labels == g), rng, n_boot) for g in sized}
    gaps = []
    kinds: list[tuple[str, Any]] = [("calibration", lambda idx: _boot_ece(y_emp, p_emp, idx))]
    if tier is not None:
        tier_a = np.asarray(tier) == "A"
        kinds.append(("missed_support", lambda idx: _boot_missed(y_emp, tier_a, idx)))
    column_of = {"calibration": "ece", "missed_support": "missed_support_rate"}
    for kind, statistic in kinds:
        values = table.loc[sized, column_of[kind]].astype(float).dropna()
        if len(values) < 2:
            continue
        worst, best = values.idxmax(), values.idxmin()
        boot = statistic(draws[worst]) - statistic(draws[best])
        gap = float(values[worst] - values[best])
        threshold = alerts[kind]
        if kind == "missed_support":
            # Groups differ in employability, so their missed-support rates differ even under the
            # best possible model: a disparity to report, not evidence against the model. Only
            # the part above the Bayes tiers' own gap (truth known: synthetic data) can alert.
            low, high = _interval(boot)
            gaps.append(Gap(kind, name, str(worst), str(best), gap, low, high, threshold, False))
            if truth_tier is None:
                continue
            bayes_a = np.asarray(truth_tier) == "A"
            bayes_gap = _missed_support(y_emp[labels == worst], bayes_a[labels == worst]) - _missed_support(
                y_emp[labels == best], bayes_a[labels == best]
            )
            boot = boot - (_boot_missed(y_emp, bayes_a, draws[worst]) - _boot_missed(y_emp, bayes_a, draws[best]))
            gap = gap - bayes_gap
            kind = "missed_support_excess"
        low, high = _interval(boot)
        gaps.append(
            Gap(kind, name, str(worst), str(best), gap, low, high, threshold, gap > threshold and low > threshold)
        )
    if truth_emp is not None and "true_mean_probability" in table:
        diff = (table.loc[sized, "employment_rate"] - table.loc[sized, "true_mean_probability"]).astype(float)
        worst = diff.abs().idxmax()
        boot = (y_emp[draws[worst]] - truth_emp[draws[worst]]).mean(axis=1)
        low, high = _interval(boot)
        gap = float(diff[worst])
        threshold = alerts["label_truth"]
        beyond = (low > threshold) if gap > 0 else (high < -threshold)
        gaps.append(
            Gap("label_truth", name, str(worst), None, gap, low, high, threshold, abs(gap) > threshold and beyond)
        )
    return gaps


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
    truth_tier: np.ndarray | None = None,
    seed: int = 0,
    n_boot: int = AUDIT_BOOTSTRAP,
    ece_gap_alert: float = AUDIT_ECE_GAP_ALERT,
    missed_gap_alert: float = AUDIT_MISSED_GAP_ALERT,
    label_truth_alert: float = AUDIT_LABEL_TRUTH_GAP_ALERT,
) -> FairnessAudit:
    """Audit predictions on ``frame`` (the test split) group by group."""
    groupings = audit_groups(frame, spec)
    if not groupings:
        declared = [c.name for c in spec.audited]
        why = (
            f"the audited column(s) {', '.join(declared)} are absent from the data"
            if declared
            else "the spec declares no protected, sensitive or audit column"
        )
        return FairnessAudit(
            status=NOT_AUDITED,
            audited_columns=[],
            tables={},
            gaps=[],
            small_groups=[],
            metrics={"fair_audited": 0.0},
            findings=[f"not audited: {why}; nothing was compared, so nothing can be said about fairness"],
        )
    rng = np.random.default_rng(seed)
    alerts = {"calibration": ece_gap_alert, "missed_support": missed_gap_alert, "label_truth": label_truth_alert}
    y = None if y_emp is None else np.asarray(y_emp, dtype=int)
    p = None if p_emp is None else np.asarray(p_emp, dtype=float)
    truth = None if truth_emp is None else np.asarray(truth_emp, dtype=float)
    tables, gaps, small = {}, [], []
    for name, groups in groupings.items():
        groups = groups.reset_index(drop=True)
        table = _table(
            groups,
            None if y_need is None else np.asarray(y_need),
            None if need_pred is None else np.asarray(need_pred),
            y,
            p,
            None if tier is None else np.asarray(tier),
            truth,
        )
        tables[name] = table
        small += [
            {"column": name, "group": str(g), "size": int(table.at[g, "count"]), "minimum": AUDIT_MIN_GROUP_SIZE}
            for g in table.index
            if table.at[g, "count"] < AUDIT_MIN_GROUP_SIZE
        ]
        gaps += _grouping_gaps(name, groups, table, y, p, tier, truth, truth_tier, rng, n_boot, alerts)
    return _summarise(list(groupings), tables, gaps, small)


_METRIC = {
    "missed_support": "fair_max_missed_support_gap",
    "missed_support_excess": "fair_max_missed_support_excess",
    "calibration": "fair_max_ece_gap",
    "label_truth": "fair_max_label_truth_gap",
}


def _summarise(columns: list[str], tables, gaps: list[Gap], small: list[dict[str, Any]]) -> FairnessAudit:
    metrics: dict[str, float] = {"fair_audited": 1.0, "fair_alerts": float(sum(g.alert for g in gaps))}
    worst: dict[str, Any] = {}
    for kind, metric in _METRIC.items():
        of_kind = [g for g in gaps if g.kind == kind]
        if not of_kind:
            continue
        top = max(of_kind, key=lambda g: abs(g.gap))
        metrics[metric] = abs(top.gap)
        metrics[f"{metric}_ci_low"] = top.low if top.gap >= 0 else -top.high
        worst[kind] = {
            "column": top.column,
            "group": top.group,
            "gap": top.gap,
            "ci": [top.low, top.high],
        }
    findings = [g.finding() for g in sorted(gaps, key=lambda g: -abs(g.gap)) if g.alert]
    if not findings:
        findings.append(f"audited {', '.join(columns)}: no gap whose confidence interval clears its alert threshold")
    findings += [
        g.finding() for g in gaps if g.kind == "missed_support" and g.gap > g.threshold and g.low > g.threshold
    ]
    for entry in small:
        findings.append(
            f"{entry['column']}={entry['group']}: {entry['size']} test rows, under the minimum of "
            f"{entry['minimum']}: not compared"
        )
    return FairnessAudit(
        status=AUDITED,
        audited_columns=columns,
        tables=tables,
        gaps=gaps,
        small_groups=small,
        metrics=metrics,
        findings=findings,
        worst=worst,
    )
