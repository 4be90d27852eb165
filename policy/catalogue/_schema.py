"""The structure of a catalogue file, checked field by field with pydantic.

Validators raise ``ValueError`` (pydantic's convention); the loader turns the collected
errors into one :class:`~policy.catalogue.CatalogueError` naming each entry.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from features.schema import NEED_CODES, TIER_CODES
from policy._validation import StrictModel
from policy.catalogue._entries import MODALITIES, PARCOURS

MIN_DURATION, MAX_DURATION = 1, 24


def check_code(value: Any, codes: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``codes``, else ``ValueError`` naming the expected codes."""
    if not isinstance(value, str) or value not in codes:
        raise ValueError(f"unknown {what} code {value!r}; expected one of {', '.join(codes)}")
    return value


def _code_list(value: Any, codes: tuple[str, ...], what: str) -> list[str]:
    if value == "*":
        return list(codes)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f'must be "*" or a non-empty list of {what} codes')
    for item in value:
        if not isinstance(item, str) or item not in codes:
            raise ValueError(f"unknown {what} code {item!r}; expected one of {', '.join(codes)}")
    if len(set(value)) != len(value):
        raise ValueError(f"a {what} code is listed twice")
    return list(value)


def _non_empty_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty text")
    return value


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or any(ch in value for ch in " ;,"):
        raise ValueError(f"id must be a non-empty text without spaces, commas or semicolons, got {value!r}")
    return value


class _OfferModel(StrictModel):
    id: Any
    name_fr: Any
    needs: Any = "*"
    description_fr: str | None = None

    @field_validator("id")
    @classmethod
    def check_id(cls, v: Any) -> str:
        return _identifier(v)

    @field_validator("name_fr")
    @classmethod
    def check_name(cls, v: Any) -> str:
        return _non_empty_text(v, "name_fr")

    @field_validator("needs")
    @classmethod
    def check_needs(cls, v: Any) -> list[str]:
        return _code_list(v, NEED_CODES, "need")


class _SelectorModel(StrictModel):
    id: Any
    needs: Any = "*"
    tiers: Any = "*"
    when: dict[str, Any] | None = None
    when_any: dict[str, Any] | None = None
    offers: Any

    @field_validator("id")
    @classmethod
    def check_id(cls, v: Any) -> str:
        return _identifier(v)

    @field_validator("needs")
    @classmethod
    def check_needs(cls, v: Any) -> list[str]:
        return _code_list(v, NEED_CODES, "need")

    @field_validator("tiers")
    @classmethod
    def check_tiers(cls, v: Any) -> list[str]:
        return _code_list(v, TIER_CODES, "tier")

    @field_validator("offers")
    @classmethod
    def check_offers(cls, v: Any) -> list[str]:
        if not isinstance(v, list) or not v or not all(isinstance(o, str) for o in v):
            raise ValueError("offers must be a non-empty list of offer ids")
        return v


class _RuleModel(_SelectorModel):
    parcours: Any
    modality: Any
    objective_fr: Any
    duration_months: Any
    note_fr: str | None = None

    @field_validator("objective_fr")
    @classmethod
    def check_objective(cls, v: Any) -> str:
        return _non_empty_text(v, "objective_fr")

    @field_validator("parcours")
    @classmethod
    def check_parcours(cls, v: Any) -> str:
        return check_code(v, tuple(PARCOURS), "parcours")

    @field_validator("modality")
    @classmethod
    def check_modality(cls, v: Any) -> str:
        return check_code(v, tuple(MODALITIES), "modality")

    @field_validator("duration_months")
    @classmethod
    def check_duration(cls, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"duration_months must be a whole number of months, got {v!r}")
        if not MIN_DURATION <= v <= MAX_DURATION:
            raise ValueError(f"duration_months must be between {MIN_DURATION} and {MAX_DURATION} months, got {v}")
        return v


class _ComplementModel(_SelectorModel):
    pass


class CatalogueModel(StrictModel):
    version: Any
    offers: list[_OfferModel]
    rules: list[_RuleModel]
    complements: list[_ComplementModel] = Field(default_factory=list)
    base_version: str | None = None
    description_fr: str | None = None

    @field_validator("version")
    @classmethod
    def check_version(cls, v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            hint = ' (quote it in YAML, e.g. version: "2025.1")' if isinstance(v, float) else ""
            raise ValueError(f"version must be a text or a whole number, got {type(v).__name__} {v!r}{hint}")
        if isinstance(v, str) and not v.strip():
            raise ValueError("version must not be empty")
        return str(v)

    @field_validator("offers", "rules")
    @classmethod
    def check_non_empty(cls, v: list) -> list:
        if not v:
            raise ValueError("must list at least one entry")
        return v
