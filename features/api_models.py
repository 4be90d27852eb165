"""Pydantic models of a profile, derived from :data:`features.schema.FIELDS`.

The API refuses what the schema refuses: unknown fields, unknown codes, out-of-range
values and wrong JSON types (``strict``: ``"30"`` is not an age, ``1`` is not ``true``;
``30.0`` is the integer 30, as JSON Schema has it).
Optional answers (self-assessments, protected and sensitive columns) may be omitted or
``null``; they reach the model as missing values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, create_model
from pydantic import Field as PydanticField

from features.schema import Field, profile_fields

#: Pseudonymous ids only: letters, digits, dash and underscore (no names, no spaces).
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _integral_number(value: Any) -> Any:
    """A JSON number with no fractional part is an integer (JSON Schema's own rule: ``20.0``
    is the integer 20). Text, booleans and fractions stay refused by strict validation."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def json_int(minimum: float | None = None, maximum: float | None = None) -> Any:
    """An integer as JSON Schema defines it: ``20`` or ``20.0``, never ``"20"``, ``true`` or ``20.5``;
    the bounds come before the conversion so that they also appear in the JSON Schema."""
    return Annotated[int, PydanticField(ge=minimum, le=maximum), BeforeValidator(_integral_number)]


def _annotation(f: Field) -> Any:
    if f.kind == "category":
        return Literal[f.codes]  # type: ignore[valid-type]
    if f.kind == "integer":
        return json_int(f.minimum, f.maximum)
    if f.kind == "number":
        return Annotated[float, PydanticField(ge=f.minimum, le=f.maximum)]
    return {"string": str, "boolean": bool}[f.kind]


def _pydantic_field(f: Field) -> tuple[Any, Any]:
    constraints: dict[str, Any] = {"description": f.label_fr, "title": f.name}
    annotation = _annotation(f)  # bounds inside the type: they reach the JSON Schema of optional fields too
    if f.kind == "string":
        constraints.update(pattern=ID_PATTERN)
    if f.optional_in_api:
        return annotation | None, PydanticField(default=None, **constraints)
    return annotation, PydanticField(..., **constraints)


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Profile: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Profile",
    __base__=_StrictModel,
    __doc__="A job seeker's profile as sent to the service (columns of shared/profile.md).",
    **{f.name: _pydantic_field(f) for f in profile_fields()},
)


def row_to_profile(row: Mapping[str, Any]) -> dict[str, Any]:
    """A data-file row (a pandas row or mapping) as an API profile: the profile columns only,
    missing values as ``None`` and numpy scalars as plain Python values."""
    record = {}
    for f in profile_fields():
        value = row[f.name] if f.name in row else None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            record[f.name] = None
        else:
            record[f.name] = value.item() if hasattr(value, "item") else value
    return record
