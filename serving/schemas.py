"""Request and response models of the API (pydantic; the profile comes from the schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.api_models import ID_PATTERN, Profile
from features.schema import NEED_CODES, TIER_CODES
from models.suggestion import Recommendation, Suggestion

MAX_BATCH = 1000
NeedCode = Literal[NEED_CODES]  # type: ignore[valid-type]
TierCode = Literal[TIER_CODES]  # type: ignore[valid-type]


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

    @model_validator(mode="after")
    def _override_needs_a_change_and_a_reason(self) -> DecisionIn:
        if self.action == "override":
            if self.need is None and self.tier is None:
                raise ValueError("an override needs a need or a tier (or both)")
            if not (self.reason and self.reason.strip()):
                raise ValueError("an override needs a reason")
        return self


class DecisionOut(BaseModel):
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


class SuggestionHistory(BaseModel):
    """``GET /suggestions/{id}``: the suggestion and its decisions, oldest first."""

    model_config = ConfigDict(extra="forbid")

    suggestion: SuggestionRead
    decisions: list[DecisionOut]


ProfileBatch = Annotated[list[Profile], Field(min_length=1, max_length=MAX_BATCH)]  # type: ignore[valid-type]
