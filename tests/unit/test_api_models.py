"""The API's profile model derives from the schema and refuses what it refuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from features.api_models import Profile
from features.schema import fields_with_role, profile_fields


def test_profile_has_every_profile_column_and_no_label(records) -> None:
    assert set(Profile.model_fields) == {f.name for f in profile_fields()}
    assert not {f.name for f in fields_with_role("label", "truth")} & set(Profile.model_fields)
    Profile.model_validate(records[0])


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("age", "30", "int_type"),
        ("age", 12, "greater_than_equal"),
        ("sex", "X", "literal_error"),
        ("driving_licence", 1, "bool_type"),
        ("person_id", "Jean Dupont", "string_pattern_mismatch"),
        ("surname", "Dupont", "extra_forbidden"),
    ],
)
def test_bad_values_name_field_and_rule(records, field: str, value, kind: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Profile.model_validate({**records[0], field: value})
    errors = caught.value.errors()
    assert [(e["loc"][0], e["type"]) for e in errors] == [(field, kind)]


def test_optional_fields_may_be_omitted(records) -> None:
    profile = {k: v for k, v in records[0].items() if k not in ("sex", "nationality_group", "project_clarity")}
    assert Profile.model_validate(profile).project_clarity is None
