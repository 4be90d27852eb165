"""Request and response models of the API (pydantic; the profile comes from the schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.api_models import ID_PATTERN, Profile
from features.schema import NEED_CODES, PERSON_VIEW_CODES, TIER_CODES
from models.suggestion import Recommendation, Suggestion

MAX_BATCH = 1000
NeedCode = Literal[NEED_CODES]  # type: ignore[valid-type]
TierCode = Literal[TIER_CODES]  # type: ignore[valid-type]
PersonViewCode = Literal[PERSON_VIEW_CODES]  # type: ignore[valid-type]


class BatchOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suggestions: list[Suggestion]


class SuggestionRead(Suggestion):
    """A recorded suggestion as an auditor reads it: who asked, and the hash of the profile."""

    advisor_id: str
    input_hash: str = Field(description="SHA-256 of the canonical profile (the profile itself is never kept)")


class DecisionIn(BaseModel):
    """An advisor's decision on a suggestion: confirm it, or override the need and/or tier."""

    model_config = ConfigDict(extra="forbid", strict=True)

    suggestion_id: str = Field(min_length=1, max_length=64)
    advisor_id: str = Field(pattern=ID_PATTERN)
    action: Literal["confirm", "override"]
    need: NeedCode | None = None
    tier: TierCode | None = None
    reason: str | None = Field(default=None, max_length=2000)
    revision: bool = False
    person_view_need: PersonViewCode | None = Field(
        default=None,
        description="the need the person named themself, asked before the suggestion was shown "
        "(a need code, or UNKNOWN for « ne sait pas »); null if not asked",
    )

    @model_validator(mode="after")
    def _override_needs_a_change_and_a_reason(self) -> DecisionIn:
        if self.action == "override":
            if self.need is None and self.tier is None:
                raise ValueError("an override needs a need or a tier (or both)")
            if not (self.reason and self.reason.strip()):
                raise ValueError("an override needs a reason")
        return self


class DecisionOut(BaseModel):
    person_id: str | None = Field(default=None, description="the person's pseudonymous id (lists of decisions)")
    decision_id: str
    suggestion_id: str
    advisor_id: str
    action: str
    final_need: str
    final_tier: str
    reason: str | None
    revision_of: str | None
    created_at: str
    recommendation: Recommendation | None
    milestone_date: str | None
    person_view_need: str | None = Field(
        default=None, description="the need the person named themself (a need code or UNKNOWN); null if not asked"
    )


class ContestOutcomeOut(BaseModel):
    outcome: Literal["revised", "maintained"]
    reason: str
    decided_by: str
    revision_decision_id: str | None
    created_at: str


class ContestOut(BaseModel):
    """A person's contest of a decision, and its re-examination's outcome (null while open)."""

    contest_id: str
    suggestion_id: str
    decision_id: str = Field(description="the decision contested (the latest one when the contest was recorded)")
    person_id: str
    agency_id: str | None
    received_on: str = Field(description="the date the contest was received, YYYY-MM-DD")
    statement: str = Field(description="the person's own words")
    recorded_by: str
    created_at: str
    status: Literal["open", "revised", "maintained"]
    age_days: int = Field(description="days since the contest was received")
    may_reexamine: bool = Field(description="whether the caller may record the re-examination's outcome")
    outcome: ContestOutcomeOut | None


class SuggestionHistory(BaseModel):
    """``GET /suggestions/{id}``: the suggestion, its decisions (oldest first) and its contests."""

    model_config = ConfigDict(extra="forbid")

    suggestion: SuggestionRead
    decisions: list[DecisionOut]
    contests: list[ContestOut] = Field(default_factory=list)


_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class ContestIn(BaseModel):
    """``POST /contests``: a person's contest of the latest decision on a suggestion."""

    model_config = ConfigDict(extra="forbid", strict=True)

    suggestion_id: str = Field(min_length=1, max_length=128)
    received_on: str = Field(pattern=_DATE_PATTERN, description="when the contest was received, YYYY-MM-DD")
    statement: str = Field(min_length=1, max_length=4000, description="the person's own words")

    @model_validator(mode="after")
    def _checks(self) -> ContestIn:
        if not self.statement.strip():
            raise ValueError("statement must not be blank: write the person's words")
        _check_date(self.received_on, "received_on")
        return self


class ContestOutcomeIn(BaseModel):
    """``POST /contest_outcomes``: another advisor maintains or revises the contested decision."""

    model_config = ConfigDict(extra="forbid", strict=True)

    contest_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["revised", "maintained"]
    reason: str = Field(min_length=1, max_length=2000, description="written for the person: shown on their report")
    need: NeedCode | None = Field(default=None, description="revised: the new need (default: unchanged)")
    tier: TierCode | None = Field(default=None, description="revised: the new tier (default: unchanged)")

    @model_validator(mode="after")
    def _checks(self) -> ContestOutcomeIn:
        if not self.reason.strip():
            raise ValueError("reason must not be blank")
        if self.outcome == "revised" and self.need is None and self.tier is None:
            raise ValueError("a revised outcome needs a need or a tier (or both)")
        if self.outcome == "maintained" and (self.need is not None or self.tier is not None):
            raise ValueError("a maintained outcome keeps the decision: give no need or tier")
        return self


class ContestResolution(BaseModel):
    """What ``POST /contest_outcomes`` returns: the closed contest and the revision (null if maintained)."""

    contest: ContestOut
    decision: DecisionOut | None


class PathPreviewIn(BaseModel):
    """``POST /path_preview``: the path a decision with this need and tier would record (nothing is recorded)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    suggestion_id: str = Field(min_length=1, max_length=128)
    need: NeedCode | None = None
    tier: TierCode | None = None


def _check_date(text: str, name: str) -> None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not a calendar date: {text!r}") from None


ProfileBatch = Annotated[list[Profile], Field(min_length=1, max_length=MAX_BATCH)]  # type: ignore[valid-type]
