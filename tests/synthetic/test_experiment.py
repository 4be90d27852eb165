"""Synthetic agencies, the agency random effect (ICC) and simulated outcomes; the default population is unchanged."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import synthetic
from core.errors import InvalidInput
from evaluation.power import estimate_design
from policy.draw import draw_arms

#: sha256 of ``generate_population(50000, 1)`` (names, dtypes and pandas hashes of every column),
#: measured before the agency effect was added: the default output must not move.
DEFAULT_POPULATION_SHA256 = "578f0aa1fd8bb38e4d354459cb58a33f1fddd8f843b61bc481653912ed4f2658"


def frame_sha256(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for name in frame.columns:
        digest.update(name.encode())
        digest.update(str(frame[name].dtype).encode())
        digest.update(pd.util.hash_pandas_object(frame[name], index=False).to_numpy().tobytes())
    return digest.hexdigest()


def test_default_population_is_byte_identical_to_before():
    assert frame_sha256(synthetic.generate_population(50_000, 1)) == DEFAULT_POPULATION_SHA256


def test_agency_table_is_deterministic_and_complete():
    table = synthetic.generate_agencies(900, 4)
    assert list(table.columns) == list(synthetic.AGENCY_COLUMNS)
    assert table.equals(synthetic.generate_agencies(900, 4))
    assert not table.equals(synthetic.generate_agencies(900, 5))
    assert table["agency_id"].is_unique
    assert len(table) == 900
    assert not table["added_by_hand"].any()
    assert set(table["region"]) == {code for code, *_ in synthetic.REGIONS}
    assert table["size"].between(600, 30_000).all()
    for column in ("share_long_term_unemployed", "share_rsa", "baseline_employment_rate"):
        assert table[column].between(0, 1).all()
    assert 4_000 < table["size"].median() < 7_000


def test_people_join_the_agencies_and_keep_their_profiles():
    plain = synthetic.generate_population(5_000, 2)
    placed = synthetic.generate_population(5_000, 2, agencies=50)
    table = synthetic.generate_agencies(50, 2)
    assert set(placed["agency_id"]) <= set(table["agency_id"])
    assert placed["agency_id"].nunique() == 50
    same = [c for c in plain.columns if c != "agency_id"]
    assert placed[same].equals(plain[same])  # icc 0: only the agency changes
    shifted = synthetic.generate_population(5_000, 2, agencies=50, icc=0.1)
    untouched = [c for c in same if c not in ("true_p_employed_6m", "employed_6m")]
    assert shifted[untouched].equals(plain[untouched])
    assert not np.allclose(shifted["true_p_employed_6m"], plain["true_p_employed_6m"])
    assert shifted.equals(synthetic.generate_population(5_000, 2, agencies=50, icc=0.1))


@pytest.mark.parametrize("icc", [0.02, 0.08])
def test_the_intra_agency_correlation_is_the_one_asked_for(icc):
    people = synthetic.generate_population(60_000, 3, agencies=150, icc=icc)
    p = people["true_p_employed_6m"].to_numpy()
    by_agency = people.groupby("agency_id")["true_p_employed_6m"]
    # between-agency variance of the true probability over the outcome's variance, less the sampling part
    sampling = (by_agency.var() / by_agency.size()).mean()
    measured = (by_agency.mean().var() - sampling) / (p.mean() * (1 - p.mean()))
    assert measured == pytest.approx(icc, rel=0.25)
    # and on the recorded outcome, by the ANOVA estimator of evaluation.power
    design = estimate_design(people["employed_6m"].to_numpy(float), p, people["agency_id"].to_numpy())
    assert design.icc == pytest.approx(icc, abs=0.012)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"icc": 0.05}, "icc needs agencies"),
        ({"agencies": 10, "icc": 0.7}, "icc must be between 0 and 0.5"),
        ({"agencies": 0}, "agencies must be a whole number of at least 1"),
    ],
)
def test_bad_agency_requests_are_invalid_input(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        synthetic.generate_population(100, 1, **kwargs)


def test_outcomes_add_each_arms_effect_and_are_reproducible():
    agencies = synthetic.generate_agencies(60, 1)
    people = synthetic.generate_population(6_000, 1, agencies=60, icc=0.02)
    draw = draw_arms(agencies, {"MODEL_1": 10, "MODEL_2": 5}, ["region"], seed=2)
    outcomes = synthetic.simulate_outcomes(people, draw, {"MODEL_1": 1.0, "MODEL_2": -1.0}, seed=9)
    assert list(outcomes.columns) == list(synthetic.OUTCOME_COLUMNS)
    arm = people["agency_id"].map(draw.assignment.set_index("agency_id")["arm"])
    assert outcomes.loc[(arm == "MODEL_1").to_numpy(), "employed_6m"].all()
    assert not outcomes.loc[(arm == "MODEL_2").to_numpy(), "employed_6m"].any()
    control = (arm == "CONTROL").to_numpy()
    rate = outcomes.loc[control, "employed_6m"].mean()
    assert rate == pytest.approx(people.loc[control, "true_p_employed_6m"].mean(), abs=0.03)
    again = synthetic.simulate_outcomes(people, draw, {"MODEL_1": 1.0, "MODEL_2": -1.0}, seed=9)
    assert outcomes.equals(again)
    assert (outcomes["observed_on"] == pd.Timestamp(synthetic.DEFAULT_OBSERVED_ON)).all()
    with pytest.raises(InvalidInput, match="unknown arm 'CONTROL'"):
        synthetic.simulate_outcomes(people, draw, {"CONTROL": 0.1}, seed=9)
    with pytest.raises(InvalidInput, match="is not in the draw"):
        synthetic.simulate_outcomes(people, draw.assignment.iloc[1:], {"MODEL_1": 0.1}, seed=9)


def test_oracle_scores_look_like_a_scored_file():
    people = synthetic.generate_population(2_000, 5, agencies=20, icc=0.05)
    scores = synthetic.oracle_scores(people)
    assert list(scores.columns) == ["person_id", "agency_id", "need", "p_employed", "tier"]
    plain = synthetic.generate_population(2_000, 5)
    # the baseline cannot see the agency effect: it is the truth from the model inputs only
    assert np.allclose(scores["p_employed"], plain["true_p_employed_6m"])
    expected_tier = np.where(scores["p_employed"] >= 0.6, "A", np.where(scores["p_employed"] >= 0.3, "B", "C"))
    assert (scores["tier"].to_numpy() == expected_tier).all()


def test_command_line_helpers():
    assert synthetic.parse_arm_effect("MODEL_1=0.02,MODEL_2=-0.01") == {"MODEL_1": 0.02, "MODEL_2": -0.01}
    for text in ("MODEL_1=much", "MODEL_1=2", "CONTROL=0.1", "MODEL_1"):
        with pytest.raises(InvalidInput, match="arm_effect"):
            synthetic.parse_arm_effect(text)
    assert synthetic.agencies_path("out/people.parquet").as_posix() == "out/people.agencies.parquet"
