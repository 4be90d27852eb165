"""Model behaviour: directional, invariance and minimum-functionality tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.thresholds import TIER_A_MIN, TIER_B_MIN
from features.schema import PROTECTED_COLUMNS


def _vary(records: list[dict], **changes) -> list[dict]:
    return [{**r, **changes} for r in records]


def test_more_months_worked_raises_employability(model, records) -> None:
    base = records[:100]
    low = model.score(model.encode_records(_vary(base, months_worked_24m=0)))
    high = model.score(model.encode_records(_vary(base, months_worked_24m=20)))
    assert (high.emp_raw > low.emp_raw).mean() > 0.95
    assert (high.p_employed >= low.p_employed - 1e-9).all()  # calibration is monotone
    assert high.p_employed.mean() > low.p_employed.mean() + 0.05


def test_protected_attributes_change_no_suggestion(model, records) -> None:
    assert not set(PROTECTED_COLUMNS) & set(model.feature_names)
    base = records[:100]
    reference = model.suggest_records(base)
    for changes in ({"sex": "F"}, {"sex": "M"}, {"nationality_group": "NON_EU"}, {"nationality_group": None}):
        assert model.suggest_records(_vary(base, **changes)) == reference


def _typical(records: list[dict]) -> dict:
    return {
        **records[0],
        "housing": "STABLE",
        "health_limitation": "NONE",
        "childcare_constraint": "NONE",
        "financial_difficulty": False,
        "french_proficiency": "NATIVE",
        "driving_licence": True,
        "vehicle_access": True,
        "public_transport": "GOOD",
        "business_creation_interest": False,
        "rsa_recipient": False,
        "single_parent": False,
    }


def test_obvious_cases_get_the_obvious_need(model, records) -> None:
    typical = _typical(records)
    creator = {**typical, "business_creation_interest": True, "last_contract": "SELF_EMPLOYED", "project_clarity": 4}
    barriers = {
        **typical,
        "housing": "NONE",
        "health_limitation": "SEVERE",
        "financial_difficulty": True,
        "driving_licence": False,
        "vehicle_access": False,
        "public_transport": "NONE",
        "french_proficiency": "BASIC",
        "rsa_recipient": True,
        "months_worked_24m": 0,
    }
    ready = {
        **typical,
        "months_worked_24m": 22,
        "experience_years": 12.0,
        "project_clarity": 4,
        "job_search_autonomy": 4,
        "occupation_tension": 0.9,
        "registration_months": 1,
        "education_level": "BAC2",
        "qualification": "SKILLED_EMPLOYEE",
        "age": 35,
    }
    needs = [s.need.code for s in model.suggest_records([creator, barriers, ready])]
    assert needs == ["BUSINESS_CREATION", "SOCIAL_BARRIERS", "DIRECT_EMPLOYMENT"]


def test_missing_self_assessments_are_handled(model, records) -> None:
    unanswered = _vary(records[:20], project_clarity=None, job_search_autonomy=None, digital_autonomy=None)
    out = model.suggest_records(unanswered)
    assert all(np.isclose(sum(d.probability for d in s.need.distribution), 1.0) for s in out)


def test_tier_follows_the_bands(model, population) -> None:
    frame = model.predict_frame(population.head(2000))
    p = frame["p_employed"]
    expected = np.where(p >= TIER_A_MIN, "A", np.where(p >= TIER_B_MIN, "B", "C"))
    assert (frame["tier"].to_numpy() == expected).all()
    assert set(frame["tier"]) == {"A", "B", "C"}
    assert isinstance(frame, pd.DataFrame)


def test_review_flags_agree_between_frame_and_suggestions(model, population) -> None:
    sample = population.head(300)
    frame = model.predict_frame(sample)
    suggestions = model.suggest_encoded(model.encode_frame(sample), explain=False)
    assert frame["needs_review"].tolist() == [s.needs_review for s in suggestions]
    assert 0 < frame["needs_review"].mean() < 1
    codes = {r.code for s in suggestions for r in s.review_reasons}
    assert codes <= {"LOW_CONFIDENCE", "CLOSE_CALL", "TIER_BORDERLINE"}
    assert codes


def test_empty_input_gives_empty_output(model, population) -> None:
    assert model.suggest_records([]) == []
    assert model.predict_frame(population.head(0)).empty
