"""Rates with their intervals, validated by simulation against known rates (fixed seeds)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from core.errors import InvalidInput
from core.stats import proportion, wilson_interval
from records import AuditRow
from records.oversight import figures_from_rows

SIMULATIONS = 2000


def test_wilson_interval_known_values() -> None:
    # Wilson's interval for 3 of 20 at 95 % (Newcombe 1998, method 3): 0.0524 to 0.3604.
    low, high = wilson_interval(3, 20)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3604)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) is None
    assert proportion(0, 0).rate is None
    with pytest.raises(InvalidInput):
        wilson_interval(5, 3)


@pytest.mark.parametrize(("true_rate", "n"), [(0.1, 30), (0.3, 30), (0.5, 100), (0.2, 400), (0.05, 200)])
def test_wilson_interval_covers_the_true_rate_about_95_times_in_100(true_rate: float, n: int) -> None:
    rng = np.random.default_rng(20261201)
    counts = rng.binomial(n, true_rate, size=SIMULATIONS)
    covered = 0
    for k in counts:
        low, high = wilson_interval(int(k), n)
        covered += low <= true_rate <= high
    coverage = covered / SIMULATIONS
    # Wilson's coverage oscillates around the nominal level; with 2,000 draws the simulation's own
    # standard error is 0.5 points.
    assert 0.925 <= coverage <= 0.98, coverage


def _row(i: int, advisor: str, override: bool) -> AuditRow:
    made = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    return AuditRow(
        suggestion_id=f"s{i}",
        created_at=made,
        model_version="sim",
        agency_id="AG-1",
        person_id=f"P{i}",
        advisor_id=advisor,
        suggested_need="TRAINING",
        need_probability=0.6,
        suggested_tier="B",
        employability_probability=0.4,
        needs_review=False,
        review_reasons=[],
        decision_count=1,
        first_action="override" if override else "confirm",
        seconds_to_first_decision=60.0,
        latest_decision_id=f"d{i}",
        latest_action="override" if override else "confirm",
        decided_at=made,
        decided_by=advisor,
        actor=advisor,
        on_behalf_of=None,
        final_need="TRAINING",
        final_tier="B",
        reason_code="OTHER" if override else None,
        reason="x" if override else None,
        revised=False,
        has_contest=False,
    )


def test_oversight_intervals_cover_known_advisor_rates() -> None:
    """The whole procedure (rows -> figures -> interval) on simulated periods: each advisor's true
    override rate is known; their intervals must cover it at about the nominal rate."""
    rng = np.random.default_rng(7)
    truths = {"adv-low": 0.08, "adv-mid": 0.25, "adv-high": 0.6}
    covered = dict.fromkeys(truths, 0)
    periods = 300
    for _ in range(periods):
        rows = []
        for advisor, rate in truths.items():
            for flip in rng.random(60) < rate:
                rows.append(_row(len(rows), advisor, bool(flip)))
        figures = figures_from_rows(rows)
        for advisor, rate in truths.items():
            ci = figures.by_advisor[advisor].override_rate_ci
            assert ci is not None
            covered[advisor] += ci.low <= rate <= ci.high
    for advisor, hits in covered.items():
        assert 0.91 <= hits / periods <= 0.99, (advisor, hits / periods)
