"""Schema codes as the generator uses them: code positions and column groups, never redefined here."""

from __future__ import annotations

from features.schema import FIELDS, FIELDS_BY_NAME


def codes(name: str) -> tuple[str, ...]:
    """The codes of a category column of the schema, in schema order."""
    field_codes = FIELDS_BY_NAME[name].codes
    assert field_codes is not None, name
    return field_codes


def _positions(name: str) -> dict[str, int]:
    return {code: position for position, code in enumerate(codes(name))}


#: Position of each code in its column's codes: the generator works on int8 code indices.
CODE_POSITION: dict[str, dict[str, int]] = {
    "qual": _positions("qualification"),
    "cat": _positions("category"),
    "contract": _positions("last_contract"),
    "french": _positions("french_proficiency"),
    "transport": _positions("public_transport"),
    "housing": _positions("housing"),
    "childcare": _positions("childcare_constraint"),
    "health": _positions("health_limitation"),
    "sex": _positions("sex"),
    "nat": _positions("nationality_group"),
}

NULLABLE_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.nullable)
#: The columns the truth is a function of: model inputs (features + sensitive).
TRUTH_INPUT_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.is_model_input)
