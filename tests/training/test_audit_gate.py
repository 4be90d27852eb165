"""The audit says what it did (not audited, small groups, intervals) and the gate acts on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.thresholds import AUDIT_MIN_GROUP_SIZE
from features.spec import parse_spec
from training import registry
from training.fairness import NOT_AUDITED, run_audit

FEATURES = [{"name": "x", "role": "feature", "type": "numeric"}, {"name": "y", "role": "employment_label"}]


def _audit(spec_columns: list[dict], frame: pd.DataFrame, p: np.ndarray, y: np.ndarray, truth=None):
    spec = parse_spec({"name": "t", "columns": [*FEATURES, *spec_columns]})
    tier = np.where(p >= 0.6, "A", np.where(p >= 0.3, "B", "C"))
    return run_audit(frame, spec, y_need=None, need_pred=None, y_emp=y, p_emp=p, tier=tier, truth_emp=truth, seed=1)


def _calibrated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, n)
    return p, (rng.random(n) < p).astype(int)


def test_nothing_declared_is_not_audited_and_is_not_a_pass() -> None:
    p, y = _calibrated(500)
    audit = _audit([], pd.DataFrame({"x": p}), p, y)
    assert audit.status == NOT_AUDITED
    assert audit.metrics == {"fair_audited": 0.0}
    assert audit.findings[0].startswith("not audited: the spec declares no protected, sensitive or audit column")
    assert "no gap" not in " ".join(audit.findings)


def test_small_groups_are_listed_with_their_size() -> None:
    p, y = _calibrated(600)
    group = np.where(np.arange(600) < 12, "rare", "common")
    audit = _audit([{"name": "g", "role": "protected", "type": "categorical"}], pd.DataFrame({"g": group}), p, y)
    assert audit.small_groups == [{"column": "g", "group": "rare", "size": 12, "minimum": AUDIT_MIN_GROUP_SIZE}]
    assert f"g=rare: 12 test rows, under the minimum of {AUDIT_MIN_GROUP_SIZE}: not compared" in audit.findings


def test_a_noisy_gap_does_not_alert_but_a_clear_one_does() -> None:
    n = 4000
    p, y = _calibrated(n, seed=3)
    group = np.where(np.arange(n) % 10 == 0, "small", "large")  # 400 people in the small group
    frame = pd.DataFrame({"g": group})
    column = [{"name": "g", "role": "protected", "type": "categorical"}]
    clean = _audit(column, frame, p, y, truth=p)
    assert clean.alerts == []
    assert {g.kind for g in clean.gaps} >= {"calibration", "label_truth"}
    for gap in clean.gaps:
        assert gap.low <= gap.gap <= gap.high
    # the small group's recorded outcomes are made worse than its truth: labels look biased
    biased_y = y.copy()
    flip = (group == "small") & (y == 1) & (np.random.default_rng(9).random(n) < 0.4)
    biased_y[flip] = 0
    biased = _audit(column, frame, p, biased_y, truth=p)
    kinds = {(g.kind, g.group) for g in biased.alerts}
    assert ("label_truth", "small") in kinds
    assert biased.metrics["fair_alerts"] >= 1
    assert any("its labels look biased" in f and "95 % CI" in f for f in biased.findings)


def test_gate_refuses_an_unaudited_version_unless_a_reason_is_given() -> None:
    metrics = {"fair_audited": 0.0, "emp_auc": 0.8}
    reasons = registry.gate(metrics, None)
    assert any("not audited" in r and "--no-audit-reason" in r for r in reasons)
    assert registry.gate(metrics, None, no_audit_reason="no protected column in this extract") == []


def test_gate_does_not_compare_versions_trained_on_other_inputs() -> None:
    champion = {"fair_audited": 1.0, "emp_auc": 0.70}
    candidate = {"fair_audited": 1.0, "emp_auc": 0.90}
    reasons = registry.gate(
        candidate, champion, candidate_tags={"input_signature": "aaa"}, champion_tags={"input_signature": "bbb"}
    )
    assert len(reasons) == 1
    assert "differ from the champion's" in reasons[0]
    same = {"input_signature": "aaa"}
    assert registry.gate(candidate, champion, candidate_tags=same, champion_tags=same) == []


@pytest.mark.parametrize(("low", "refused"), [(0.01, False), (0.08, True)])
def test_gate_reads_fairness_gaps_at_the_low_end_of_their_interval(low, refused) -> None:
    metrics = {"fair_audited": 1.0, "fair_max_ece_gap": 0.09, "fair_max_ece_gap_ci_low": low}
    assert bool(registry.gate(metrics, None)) is refused
