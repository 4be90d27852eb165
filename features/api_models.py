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

from core.text import ID_PATTERN
from features.schema import Field, profile_fields
from features.spec import PROFILE_SPEC_NAME, TrainingSpec

__all__ = ["ID_PATTERN", "Profile", "fields_from_spec", "json_int", "profile_model", "row_to_profile"]


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
        return Literal[f.codes]
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
    __doc__="A job seeker's profile as sent to the service (the profile columns of features.schema).",
    **{f.name: _pydantic_field(f) for f in profile_fields()},
)


def row_to_profile(row: Mapping[str, Any]) -> dict[str, Any]:
    """A data-file row (a pandas row or mapping) as an API profile: the profile columns only,
    missing values as ``None`` and numpy scalars as plain Python values."""
    record: dict[str, Any] = {}
    for f in profile_fields():
        value = row[f.name] if f.name in row else None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            record[f.name] = None
        else:
            record[f.name] = value.item() if hasattr(value, "item") else value
    return record


# --------------------------------------------------------------------------- any spec

_SPEC_KINDS = {"categorical": "category", "numeric": "number", "integer": "integer", "boolean": "boolean"}
_SPEC_ROLES = {
    "id": "id",
    "feature": "feature",
    "sensitive": "sensitive",
    "protected": "protected",
    "audit": "protected",
}
_SPEC_GROUPS = {"id": "identification", "protected": "audit", "audit": "audit"}


def fields_from_spec(spec: TrainingSpec, seen_missing: list[str] | tuple[str, ...] = ()) -> tuple[Field, ...]:
    """What a profile carries for a model trained on ``spec``: its ids, inputs and audited columns.

    The reference profile keeps its schema (:func:`features.schema.profile_fields`). For any
    other spec, each column becomes a field with the spec's type, codes, range and French
    label; an input may be left out only if training saw it missing.
    """
    if spec.name == PROFILE_SPEC_NAME:
        return profile_fields()
    fields = []
    for column in spec.columns:
        if column.role not in _SPEC_ROLES:
            continue
        kind = "string" if column.role == "id" else _SPEC_KINDS.get(column.type or "string", "string")
        role = _SPEC_ROLES[column.role]
        if role == "sensitive" and column.name not in seen_missing:
            role = "feature"  # an input the model never saw missing is required, sensitive or not
        fields.append(
            Field(
                name=column.name,
                role=role,  # type: ignore[arg-type]
                kind=kind,  # type: ignore[arg-type]
                label_fr=column.display_label,
                group=_SPEC_GROUPS.get(column.role, "situation"),
                codes=tuple(column.categories) if column.categories else None,
                minimum=column.minimum,
                maximum=column.maximum,
                nullable=column.is_input and column.name in seen_missing,
            )
        )
    return tuple(fields)


def profile_model(fields: tuple[Field, ...], name: str = "Profile") -> type[BaseModel]:
    """A strict pydantic model of a profile made of ``fields`` (the API's request model)."""
    return create_model(  # type: ignore[call-overload]
        name,
        __base__=_StrictModel,
        __doc__="A job seeker's profile as sent to the service (columns of the served model's spec).",
        **{f.name: _pydantic_field(f) for f in fields},
    )
