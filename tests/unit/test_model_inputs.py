"""Which inputs a fitted model needs: read from a real model (recorded list, and from its boosters)."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import InvalidInput
from features.spec import default_spec
from models.inputs import input_requirements, missing_required

SELF_ASSESSMENTS = {"project_clarity", "job_search_autonomy", "digital_autonomy"}


def requirements_of(model, recorded: bool):
    spec = model.spec
    return input_requirements(
        model.feature_names,
        model.boosters,
        seen_missing=model.inputs_seen_missing if recorded else None,
        categorical=[c.name for c in spec.inputs if c.type == "categorical"],
        nullable=[c.name for c in spec.inputs if c.nullable],
    )


def test_training_records_the_inputs_it_saw_missing(model, population):
    assert set(model.inputs_seen_missing) == {c for c in default_spec().input_names if population[c].isna().any()}
    assert set(model.inputs_seen_missing) == SELF_ASSESSMENTS


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded-list", "read-from-boosters"])
def test_age_and_disability_are_required_self_assessments_may_be_missing(model, recorded):
    needs = requirements_of(model, recorded)
    assert {"age", "disability_recognition", "target_occupation_domain", "local_unemployment_rate"} <= set(
        needs.required
    )
    assert set(needs.may_be_missing) == SELF_ASSESSMENTS
    assert set(needs.required) | set(needs.may_be_missing) | set(needs.unused) == set(model.feature_names)


def test_an_older_model_without_the_list_reads_the_same_from_its_boosters(model):
    older = dataclasses.replace(model, inputs_seen_missing=None)
    assert requirements_of(older, recorded=False) == requirements_of(model, recorded=True)


def test_missing_required_names_each_field(model, records):
    needs = requirements_of(model, recorded=True)
    record = {**records[0], "age": None, "disability_recognition": None, "project_clarity": None}
    assert missing_required(record, needs) == [n for n in needs.required if n in ("age", "disability_recognition")]


def test_advisory_refuses_a_profile_without_age(model, records, tmp_path):
    from records import DecisionStore
    from serving.auth import Principal, Role
    from serving.logic import Advisory

    store = DecisionStore(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        advisory = Advisory(model, "1", store)
        with pytest.raises(InvalidInput, match=r"profile\.age: required by the served model"):
            advisory.suggest([{**records[0], "age": None}], Principal("adv-1", Role.ADVISOR))
        # A missing self-assessment was seen in training: the suggestion is made.
        (made,) = advisory.suggest([{**records[0], "project_clarity": None}], Principal("adv-1", Role.ADVISOR))
        assert made.need is not None
    finally:
        store.dispose()
