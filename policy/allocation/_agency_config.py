"""Model 2 capacities and priority: the agency configuration file (YAML or JSON).

Either one pool (``referents`` etc. at the top level, ``agency_id`` optional) or one
entry per agency under ``agencies:`` whose missing values inherit the top level.
Errors name the file and the field (``agencies.75012.referents: missing field``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from core.errors import ConfigError
from features.schema import NEED_CODES
from policy._validation import StrictModel, problems_message


class AgencyConfigError(ConfigError):
    """An agency configuration that cannot be used; the message names the file and field."""


class PriorityConfig(StrictModel):
    """Who may receive intensive support and in which order."""

    excluded_needs: tuple[str, ...] = ("DIRECT_EMPLOYMENT",)
    order_by: str = "p_employed"
    ascending: bool = True
    #: Memory of model 2: people who already had intensive support come after those never
    #: served (``last``), after those never served of their tier (``last_within_tier``), or as
    #: anyone else (``ignore``). Only matters when the allocation is given the episodes.
    already_served: Literal["last", "last_within_tier", "ignore"] = "last"

    @field_validator("excluded_needs")
    @classmethod
    def check_needs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in v if n not in NEED_CODES]
        if bad:
            raise ValueError(f"unknown need code(s) {', '.join(map(repr, bad))}; expected {', '.join(NEED_CODES)}")
        return tuple(dict.fromkeys(v))

    @field_validator("order_by")
    @classmethod
    def check_order(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("order_by must name a numeric column")
        return v


class AgencyCapacity(StrictModel):
    """Per-agency values; a field left out inherits the top-level value."""

    referents: int | None = Field(default=None, ge=0)
    caseload_per_referent: int | None = Field(default=None, ge=1)
    intensive_months: int | None = Field(default=None, ge=1, le=24)
    external_provider_places: int | None = Field(default=None, ge=0)
    large_portfolio_places: int | None = Field(default=None, ge=0)
    referent_ids: tuple[str, ...] | None = None

    @field_validator("referent_ids")
    @classmethod
    def check_ids(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _check_referent_ids(v)


def _check_referent_ids(v: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if v is None:
        return v
    for name in v:
        if not name.strip() or any(ch.isspace() for ch in name):
            raise ValueError(f"référent id {name!r} must be a pseudonymous id without spaces")
    if len(set(v)) < len(v):
        raise ValueError("référent ids must be unique")
    return v


@dataclass(frozen=True)
class ResolvedCapacity:
    """The capacities applying to one agency (or to the whole pool)."""

    agency_id: str | None
    referents: int
    caseload_per_referent: int
    intensive_months: int
    external_provider_places: int
    large_portfolio_places: int | None
    named_referents: tuple[str, ...] | None = None

    @property
    def intensive_places(self) -> int:
        return self.referents * self.caseload_per_referent

    @property
    def referent_ids(self) -> tuple[str, ...]:
        """The référents' names: as configured, else ``<agency>-REF01``… (``REF01``… for one pool)."""
        if self.named_referents is not None:
            return self.named_referents
        prefix = f"{self.agency_id}-" if self.agency_id else ""
        return tuple(f"{prefix}REF{k + 1:02d}" for k in range(self.referents))

    def capacity(self, track: str) -> int | None:
        return {
            "INTENSIVE": self.intensive_places,
            "EXTERNAL": self.external_provider_places,
            "LARGE_PORTFOLIO": self.large_portfolio_places,
            "UNALLOCATED": None,
        }[track]


class AgencyConfig(StrictModel):
    """Capacities and priority for model 2 (from YAML/JSON with :func:`load_agency_config`).

    Either one pool (``referents`` etc. at the top level, ``agency_id`` optional) or one
    entry per agency under ``agencies:`` (top-level values are then defaults).
    """

    agency_id: str | None = None
    referents: int | None = Field(default=None, ge=0)
    caseload_per_referent: int = Field(default=50, ge=1)
    intensive_months: int = Field(default=6, ge=1, le=24)
    external_provider_places: int = Field(default=0, ge=0)
    large_portfolio_places: int | None = Field(default=None, ge=0)
    referent_ids: tuple[str, ...] | None = None
    priority: PriorityConfig = PriorityConfig()
    agencies: dict[str, AgencyCapacity] | None = None

    @field_validator("referent_ids")
    @classmethod
    def check_ids(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _check_referent_ids(v)

    @field_validator("agency_id", mode="before")
    @classmethod
    def check_agency_id(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("agencies", mode="before")
    @classmethod
    def check_agency_keys(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: val for k, val in v.items()}
        return v

    @model_validator(mode="after")
    def check_referents(self) -> AgencyConfig:
        if self.agencies is None:
            if self.referents is None:
                raise ValueError("referents: missing field (number of path referents for intensive support)")
            if self.referent_ids is not None and len(self.referent_ids) != self.referents:
                raise ValueError(f"referent_ids: {len(self.referent_ids)} name(s) for {self.referents} référent(s)")
        else:
            if not self.agencies:
                raise ValueError("agencies: must list at least one agency")
            if self.agency_id is not None:
                raise ValueError(
                    "agency_id: give either agency_id (one agency) or agencies (one entry per agency), not both"
                )
            if self.referent_ids is not None:
                raise ValueError("referent_ids: name each agency's référents under agencies.<id>.referent_ids")
            for key, entry in self.agencies.items():
                if entry.referents is None and self.referents is None:
                    raise ValueError(f"agencies.{key}.referents: missing field (and no top-level default)")
                count = entry.referents if entry.referents is not None else self.referents
                if entry.referent_ids is not None and len(entry.referent_ids) != count:
                    raise ValueError(
                        f"agencies.{key}.referent_ids: {len(entry.referent_ids)} name(s) for {count} référent(s)"
                    )
        return self

    def for_agency(self, agency_id: str | None) -> ResolvedCapacity:
        """Capacities for ``agency_id`` (or the single pool when not per agency)."""
        if self.agencies is None:
            return ResolvedCapacity(
                self.agency_id,
                int(self.referents or 0),
                self.caseload_per_referent,
                self.intensive_months,
                self.external_provider_places,
                self.large_portfolio_places,
                self.referent_ids,
            )
        if agency_id not in self.agencies:
            raise KeyError(agency_id)
        e = self.agencies[agency_id]
        given = e.model_fields_set

        def pick(name: str) -> Any:
            return getattr(e, name) if name in given else getattr(self, name)

        return ResolvedCapacity(
            agency_id,
            int(pick("referents")),
            pick("caseload_per_referent"),
            pick("intensive_months"),
            pick("external_provider_places"),
            pick("large_portfolio_places"),
            e.referent_ids,
        )


def _config_errors(exc: ValidationError, source: str) -> AgencyConfigError:
    return AgencyConfigError(problems_message(exc, source))


def parse_agency_config(data: Any, source: str = "agency config") -> AgencyConfig:
    """Validate a mapping into an :class:`AgencyConfig` (errors name the field)."""
    if not isinstance(data, dict):
        raise AgencyConfigError(f"{source}: must be a mapping of settings (referents, caseload_per_referent…)")
    try:
        return AgencyConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_errors(exc, source) from None


def load_agency_config(path: str | Path) -> AgencyConfig:
    """Read an agency configuration from a ``.yaml`` / ``.yml`` or ``.json`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise AgencyConfigError(f"{path}: unsupported extension {suffix!r}; use .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AgencyConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AgencyConfigError(f"{path}: cannot be read: {exc}") from exc
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise AgencyConfigError(f"{path}: bad JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown position"
        raise AgencyConfigError(f"{path}: bad YAML at {where}: {getattr(exc, 'problem', None) or exc}") from exc
    return parse_agency_config(data, str(path))
