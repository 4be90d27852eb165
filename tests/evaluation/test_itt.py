"""ITT by Frisch-Waugh-Lovell on agency sums equals the library's regression; randomisation inference is sound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import synthetic
from core.errors import InvalidInput
from evaluation._sufficient import AgencySums, fit_assignments
from evaluation.itt import itt_effects, ri_seeds
from policy.draw import DrawResult, draw_arms


def small_experiment(seed: int, effect: dict[str, float], agencies: int = 60, rows: int = 6_000):
    table = synthetic.generate_agencies(agencies, seed)
    people = synthetic.generate_population(rows, seed, agencies=agencies, icc=0.03)
    draw = draw_arms(table, {"MODEL_1": 10, "MODEL_2": 6}, ["region"], seed=seed)
    outcomes = synthetic.simulate_outcomes(people, draw, effect, seed=seed + 100)
    scores = synthetic.oracle_scores(people)
    frame = pd.DataFrame(
        {
            "agency_id": people["agency_id"].astype(str),
            "employed_6m": outcomes["employed_6m"],
            "p_employed": scores["p_employed"],
            "tier": scores["tier"].astype(str),
        }
    )
    return frame, draw


def library_fit(frame: pd.DataFrame, draw: DrawResult, arm: str, mask: np.ndarray | None = None):
    arms = frame["agency_id"].map(draw.assignment.set_index("agency_id")["arm"])
    stratum = frame["agency_id"].map(draw.assignment.set_index("agency_id")["stratum"])
    data = frame.assign(T=(arms == arm).astype(float), stratum=stratum, arm=arms)
    keep = data["arm"].isin([arm, "CONTROL"]) & (True if mask is None else pd.Series(mask, index=data.index))
    data = data[keep].assign(y=lambda d: d["employed_6m"].astype(float))
    model = smf.ols("y ~ T + C(stratum) + p_employed", data)
    return model.fit(cov_type="cluster", cov_kwds={"groups": data["agency_id"]})


def test_sufficient_statistics_equal_statsmodels_on_a_raw_design():
    rng = np.random.default_rng(5)
    agencies, strata = 70, 5
    stratum = rng.integers(0, strata, agencies)
    agency = np.repeat(np.arange(agencies), rng.integers(3, 80, agencies))
    arm = rng.integers(0, 3, agencies)
    p = rng.random(len(agency))
    y = (rng.random(len(agency)) < 0.15 + 0.6 * p + 0.05 * (arm[agency] == 1)).astype(float)
    fit = fit_assignments(
        AgencySums.from_people(agency, y, p, stratum, strata, p_centre=0.37), (arm == 1)[None, :], (arm != 2)[None, :]
    )
    data = pd.DataFrame({"y": y, "p": p, "T": (arm[agency] == 1).astype(float), "s": stratum[agency], "g": agency})
    data = data[arm[agency] != 2]
    reference = smf.ols("y ~ T + C(s) + p", data).fit(cov_type="cluster", cov_kwds={"groups": data["g"]})
    assert abs(fit.estimate[0] - reference.params["T"]) < 1e-10
    assert abs(fit.std_error[0] - reference.bse["T"]) < 1e-10
    assert fit.n_treated_people[0] + fit.n_control_people[0] == len(data)


def test_itt_effects_equal_statsmodels_for_each_arm_and_subgroup():
    frame, draw = small_experiment(1, {"MODEL_1": 0.05, "MODEL_2": 0.0})
    effects = itt_effects(frame, draw, ri_draws=0, subgroups=("tier",)).set_index(["arm", "subgroup", "group"])
    for arm in ("MODEL_1", "MODEL_2"):
        reference = library_fit(frame, draw, arm)
        row = effects.loc[(arm, "ALL", "ALL")]
        assert abs(row["estimate"] - reference.params["T"]) < 1e-10
        assert abs(row["std_error"] - reference.bse["T"]) < 1e-10
        assert row["n_people"] + row["n_control_people"] == reference.nobs
        tier_b = library_fit(frame, draw, arm, (frame["tier"] == "B").to_numpy())
        assert abs(effects.loc[(arm, "tier", "B"), "estimate"] - tier_b.params["T"]) < 1e-10
        assert abs(effects.loc[(arm, "tier", "B"), "std_error"] - tier_b.bse["T"]) < 1e-10
    row = effects.loc[("MODEL_1", "ALL", "ALL")]
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["degrees_of_freedom"] == 9  # min(10 agencies of the arm, controls) - 1


def test_randomisation_p_value_is_reproducible_and_small_for_a_large_effect():
    frame, draw = small_experiment(2, {"MODEL_1": 0.25, "MODEL_2": 0.0})
    first = itt_effects(frame, draw, ri_draws=199, ri_seed=4, subgroups=())
    again = itt_effects(frame, draw, ri_draws=199, ri_seed=4, subgroups=())
    assert first.equals(again)
    p_values = first.set_index("arm")["p_value_ri"]
    assert p_values["MODEL_1"] == pytest.approx(1 / 200)  # no re-draw as extreme as the real one
    assert p_values["MODEL_2"] > 0.05
    assert draw.seed not in ri_seeds(4, 199, draw.seed)


def test_randomisation_p_value_is_uniform_under_the_null():
    """200 experiments without effect (new draw and outcomes each time): p-values spread evenly."""
    table = synthetic.generate_agencies(40, 8)
    people = synthetic.generate_population(2_400, 8, agencies=40, icc=0.05)
    p_employed = synthetic.oracle_scores(people)["p_employed"]
    p_values = []
    for replication in range(200):
        draw = draw_arms(table, {"MODEL_1": 6, "MODEL_2": 4}, ["region"], seed=1_000 + replication)
        outcomes = synthetic.simulate_outcomes(people, draw, {}, seed=replication)
        frame = pd.DataFrame(
            {"agency_id": people["agency_id"], "employed_6m": outcomes["employed_6m"], "p_employed": p_employed}
        )
        effects = itt_effects(frame, draw, ri_draws=99, ri_seed=replication, subgroups=())
        p_values += effects["p_value_ri"].tolist()
    p_values = np.array(p_values)  # 400: two arms per experiment
    assert 0.02 <= (p_values <= 0.05).mean() <= 0.09
    assert 0.43 <= (p_values <= 0.5).mean() <= 0.57
    assert 0.45 <= p_values.mean() <= 0.55


def test_a_draw_that_its_seed_does_not_give_is_refused():
    frame, draw = small_experiment(3, {})
    tampered = draw.assignment.copy()
    first_control = tampered.index[tampered["arm"] == "CONTROL"][0]
    first_drawn = tampered.index[tampered["arm"] == "MODEL_1"][0]
    tampered.loc[[first_control, first_drawn], "arm"] = ["MODEL_1", "CONTROL"]
    forged = DrawResult(tampered, draw.arms, draw.strata, draw.seed, draw.input_sha256)
    with pytest.raises(InvalidInput, match="cannot be verified"):
        itt_effects(frame, forged, ri_draws=0)
    with pytest.raises(InvalidInput, match="is not in the draw"):
        itt_effects(frame.assign(agency_id="NOWHERE"), draw, ri_draws=0)
