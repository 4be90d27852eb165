"""The MDE formula: its algebra, its refusals, and its agreement with a simulation of the design."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from core.errors import InvalidInput
from evaluation.power import Design, estimate_design, experiment_power, minimum_detectable_effect, simulate_power


def test_formula_by_hand():
    design = Design(20, 800, 100, 0.02, 0.4)
    assert design.design_effect == pytest.approx(1 + 99 * 0.02)
    by_hand = math.sqrt(0.4 * 0.6 * design.design_effect / 100 * (1 / 20 + 1 / 800))
    assert design.standard_error(adjusted=False) == pytest.approx(by_hand, rel=1e-12)
    multiplier = stats.t.ppf(0.975, 19) + stats.t.ppf(0.8, 19)
    assert design.mde(adjusted=False) == pytest.approx(multiplier * by_hand, rel=1e-12)
    assert design.predicted_power(design.mde()) == pytest.approx(0.80, abs=0.002)
    assert design.predicted_power(0.0) == pytest.approx(0.05, abs=1e-9)


def test_covariate_adjustment_and_unequal_agencies_move_the_mde_the_right_way():
    plain = Design(80, 800, 200, 0.03, 0.42)
    adjusted = Design(80, 800, 200, 0.03, 0.42, r2=0.3)
    assert adjusted.mde() < plain.mde() == pytest.approx(adjusted.mde(adjusted=False))
    result = minimum_detectable_effect(adjusted, "MODEL_1")
    assert result.adjustment_gain == pytest.approx(1 - adjusted.mde() / plain.mde())
    assert Design(80, 800, 200, 0.03, 0.42, cluster_size_cv=0.5).mde() > plain.mde()
    assert Design(80, 800, 200, 0.03, 0.42, r2_agency=0.5).mde() < plain.mde()
    table = experiment_power({"MODEL_1": 80, "MODEL_2": 20}, 900, 200, 0.03, 0.42, r2=0.3)
    assert list(table["arm"]) == ["MODEL_1", "MODEL_2"]
    assert (table["control_agencies"] == 800).all()
    assert table.loc[1, "mde"] > table.loc[0, "mde"]  # 20 agencies detect less than 80


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"treated_agencies": 1}, "treated_agencies"),
        ({"icc": 1.2}, "icc: must be in"),
        ({"baseline_rate": 0.0}, "baseline_rate"),
        ({"r2": -0.1}, "r2: must be in"),
    ],
)
def test_bad_designs_are_refused(kwargs, message):
    values = {
        "treated_agencies": 20,
        "control_agencies": 800,
        "people_per_agency": 100,
        "icc": 0.02,
        "baseline_rate": 0.4,
    } | kwargs
    with pytest.raises(InvalidInput, match=message):
        Design(**values)
    with pytest.raises(InvalidInput, match="leave -10 controls"):
        experiment_power({"MODEL_1": 80, "MODEL_2": 20}, 90, 100, 0.02, 0.4)


@pytest.mark.parametrize(
    "design",
    [
        Design(8, 30, 30, 0.05, 0.4, r2=0.2),
        Design(6, 40, 25, 0.03, 0.3, r2=0.1, r2_agency=0.4, cluster_size_cv=0.3),
    ],
)
def test_formula_agrees_with_the_simulated_design(design):
    at_mde = simulate_power(design, design.mde(), 300, seed=1)
    assert at_mde.rejection_rate == pytest.approx(0.80, abs=0.08)
    assert at_mde.sd_estimate == pytest.approx(design.standard_error(), rel=0.12)
    assert at_mde.mean_estimate == pytest.approx(design.mde(), abs=0.2 * design.standard_error())
    null = simulate_power(design, 0.0, 300, seed=2)
    assert 0.01 <= null.rejection_rate <= 0.10
    assert simulate_power(design, 0.0, 20, seed=3) == simulate_power(design, 0.0, 20, seed=3)


def test_design_parameters_are_recovered_from_a_table():
    rng = np.random.default_rng(3)
    agencies, size, icc, rate = 300, 60, 0.05, 0.4
    agency = np.repeat(np.arange(agencies), size)
    shift = rng.normal(0, math.sqrt(icc * rate * (1 - rate)), agencies)
    covariate = rng.choice([-0.15, 0.15], len(agency))
    y = (rng.random(len(agency)) < rate + shift[agency] + covariate).astype(float)
    found = estimate_design(y, covariate, agency)
    assert found.icc == pytest.approx(icc, abs=0.015)
    assert found.r2 == pytest.approx(0.15**2 / (rate * (1 - rate) * (1 - icc)), abs=0.03)
    assert found.people_per_agency == size
    assert found.cluster_size_cv == 0
    assert found.agencies == agencies
