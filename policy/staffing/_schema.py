"""The staffing file's structure: roles with FTE, working time, norms, caps and model 2 settings.

Every field is checked by pydantic (unknown fields refused, numbers in range); the
cross-field rules (every modality and track has a norm, caps only where advisors hold a
portfolio, no agency both counted and named référents) are model validators whose
messages name the field and the rule. What depends on the people (caps against the stock
at the start) is checked when the plan resolves the file against a scored table
(:func:`policy.staffing.resolve_agencies`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from core.thresholds import REEXAMINATION_MAX_MONTHS
from features.schema import NEED_CODES
from policy._validation import StrictModel

#: Model 1 (and today's) modalities held in advisors' portfolios, most intensive first.
PORTFOLIO_MODALITIES: tuple[str, ...] = ("GLOBAL", "RENFORCE", "GUIDE", "SUIVI")
#: Model 2 tracks (as :data:`policy.allocation.TRACKS`).
MODEL2_TRACKS: tuple[str, ...] = ("INTENSIVE", "EXTERNAL", "LARGE_PORTFOLIO", "UNALLOCATED")
#: Every key of ``norms``: each modality and each track needs its contact norm.
NORM_KEYS: tuple[str, ...] = (*PORTFOLIO_MODALITIES, *MODEL2_TRACKS)
#: Keys whose people sit in an agency advisor's portfolio, hence have a cap per advisor. The
#: provider (EXTERNAL) has places, not caps; the waiting list (UNALLOCATED) is nobody's portfolio.
HELD_KEYS: tuple[str, ...] = (*PORTFOLIO_MODALITIES, "INTENSIVE", "LARGE_PORTFOLIO")
#: Advisors' roles: CDDE (conseiller à dominante demandeurs d'emploi), CDE (conseiller à dominante
#: entreprise, a share of whose time goes to employers), REFERENT (référent de parcours, model 2).
ROLES: tuple[str, ...] = ("CDDE", "CDE", "REFERENT")
ROLE_LABELS_FR: dict[str, str] = {
    "CDDE": "conseillers à dominante demandeurs d'emploi (CDDE)",
    "CDE": "conseillers à dominante entreprise (CDE)",
    "REFERENT": "référents de parcours",
}
OVER_CAP_POLICIES: tuple[str, ...] = ("accept", "waiting_list")
ALREADY_SERVED_POLICIES: tuple[str, ...] = ("last", "last_within_tier", "ignore")


class Norm(StrictModel):
    """The work one person of a modality or track costs an agency."""

    contacts_per_month: float = Field(ge=0, le=31)
    minutes_per_contact: float = Field(ge=0, le=480)
    review_minutes: float = Field(ge=0, le=480)
    cap: int | None = Field(default=None, ge=1)

    @property
    def contact_hours_per_month(self) -> float:
        return self.contacts_per_month * self.minutes_per_contact / 60.0


class WorkingTime(StrictModel):
    """Hours an advisor works in a month, and the share of them left for their portfolio."""

    hours_per_fte_month: float = Field(gt=0, le=744)
    portfolio_share: float = Field(gt=0, le=1)


class StaffRatios(StrictModel):
    """Default FTE per 1,000 people in the agency's portfolios at the start of the plan."""

    CDDE: float = Field(default=0, ge=0)
    CDE: float = Field(default=0, ge=0)
    REFERENT: float = Field(default=0, ge=0)


class Staff(StrictModel):
    per_1000_people: StaffRatios | None = None
    #: Share of a CDE's time kept for employers; the rest goes to a job seekers' portfolio.
    cde_employer_share: float = Field(ge=0, le=1)


class AgencyStaffing(StrictModel):
    """One agency's advisors, in FTE. ``referents`` names each référent de parcours with their FTE
    (instead of a count in ``REFERENT``); ``provider_places`` overrides ``model2.provider_places_per_1000``."""

    CDDE: float = Field(default=0, ge=0)
    CDE: float = Field(default=0, ge=0)
    REFERENT: float | None = Field(default=None, ge=0)
    referents: dict[str, float] | None = None
    provider_places: int | None = Field(default=None, ge=0)

    @field_validator("referents")
    @classmethod
    def check_referents(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        for name, fte in v.items():
            if not str(name).strip() or any(ch.isspace() for ch in str(name)):
                raise ValueError(f"référent id {name!r} must be a pseudonymous id without spaces")
            if not 0 < fte <= 1:
                raise ValueError(f"référent {name!r}: FTE must be above 0 and at most 1 (got {fte})")
        return v

    @model_validator(mode="after")
    def one_way_to_count_referents(self) -> AgencyStaffing:
        if self.referents is not None and self.REFERENT is not None:
            raise ValueError("REFERENT: give either REFERENT (FTE) or referents (named, with FTE each), not both")
        return self

    @property
    def referent_fte(self) -> float:
        if self.referents is not None:
            return float(sum(self.referents.values()))
        return float(self.REFERENT or 0.0)


class Reexamination(StrictModel):
    #: The MSA rule for models 1 and 2: nobody waits longer than this between two examinations.
    max_months: int = Field(default=REEXAMINATION_MAX_MONTHS, ge=1, le=24)
    #: Today's organisation: a follow-up interview every so many months (no milestone).
    current_every_months: int = Field(ge=1, le=60)


class Model2(StrictModel):
    intensive_months: int = Field(default=6, ge=1, le=24)
    excluded_needs: tuple[str, ...] = ("DIRECT_EMPLOYMENT",)
    already_served: Literal["last", "last_within_tier", "ignore"] = "last"
    provider_places_per_1000: float = Field(default=0, ge=0, le=1000)

    @field_validator("excluded_needs")
    @classmethod
    def check_needs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in v if n not in NEED_CODES]
        if bad:
            raise ValueError(f"unknown need code(s) {', '.join(map(repr, bad))}; expected {', '.join(NEED_CODES)}")
        return tuple(dict.fromkeys(v))


class Flows(StrictModel):
    #: ``steady``: entries balance the exits expected from the stock at the start (a stationary
    #: registered population); or a number: entries per month per 1,000 people of the start stock.
    entries: Literal["steady"] | float = "steady"
    #: Monthly probability of leaving the register for a reason other than work (0 = only work).
    other_exits_per_month: float = Field(default=0, ge=0, lt=1)

    @field_validator("entries")
    @classmethod
    def check_entries(cls, v: Any) -> Any:
        if isinstance(v, bool) or (not isinstance(v, str) and v < 0):
            raise ValueError("entries must be 'steady' or a number of entries per month per 1,000 people (>= 0)")
        return v


class Staffing(StrictModel):
    """An agency staffing file (see ``docs/planning.md``)."""

    version: str
    working_time: WorkingTime
    staff: Staff
    agencies: dict[str, AgencyStaffing] = Field(default_factory=dict)
    norms: dict[str, Norm]
    entry_minutes: float = Field(ge=0, le=480)
    over_cap: Literal["accept", "waiting_list"] | None = None
    reexamination: Reexamination
    model2: Model2 = Model2()
    flows: Flows = Flows()
    #: Where each figure comes from, by field path (``norms.RENFORCE.cap``): French text starting
    #: with « Source » (published figure) or « Hypothèse » (assumption). Shown in the plan report.
    sources: dict[str, str] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def check_sources(cls, v: dict[str, str]) -> dict[str, str]:
        for key, text in v.items():
            root = key.split(".")[0]
            if root not in cls.model_fields or root == "sources":
                raise ValueError(f"{key!r} is not a field of the staffing file")
            if not text.strip().startswith(("Source", "Hypothèse")):
                raise ValueError(f"{key}: must start with « Source » (published figure) or « Hypothèse » (assumption)")
        return v

    @field_validator("version", mode="before")
    @classmethod
    def check_version(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise ValueError('version must be text (quote dotted versions: "2026.1")')
        return str(v)

    @field_validator("agencies", mode="before")
    @classmethod
    def agency_keys_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: val for k, val in v.items()}
        return {} if v is None else v

    @model_validator(mode="after")
    def check_norms(self) -> Staffing:
        unknown = [k for k in self.norms if k not in NORM_KEYS]
        if unknown:
            hint = " (model 2 intensive support is INTENSIVE)" if "INTENSIF" in unknown else ""
            raise ValueError(
                f"norms: unknown key(s) {', '.join(map(repr, unknown))}{hint}; expected {', '.join(NORM_KEYS)}"
            )
        missing = [k for k in NORM_KEYS if k not in self.norms]
        if missing:
            raise ValueError(
                f"norms: no norm for {', '.join(missing)}; every modality and track needs contacts_per_month, "
                "minutes_per_contact and review_minutes (a modality without a norm would cost no work)"
            )
        for key in HELD_KEYS:
            if self.norms[key].cap is None:
                raise ValueError(f"norms.{key}.cap: missing field (people per advisor at most, for a held portfolio)")
        for key in ("EXTERNAL", "UNALLOCATED"):
            if self.norms[key].cap is not None:
                where = "model2.provider_places_per_1000 or agencies.<id>.provider_places" if key == "EXTERNAL" else ""
                raise ValueError(
                    f"norms.{key}.cap: not allowed: nobody in the agency holds these people in a portfolio"
                    + (f" (the provider's places are {where})" if where else "")
                )
        if not self.agencies and self.staff.per_1000_people is None:
            raise ValueError(
                "staff.per_1000_people: missing field (no agency is listed under agencies:, so every agency's "
                "staff must come from the ratios)"
            )
        return self

    def norm_array(self, keys: tuple[str, ...], attribute: str) -> list[float]:
        return [float(getattr(self.norms[k], attribute) or 0.0) for k in keys]
