"""Request and response models of the API (pydantic; the profile comes from the schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.api_models import ID_PATTERN, Profile
from features.schema import NEED_CODES, TIER_CODES

MAX_BATCH = 1000
NeedCode = Literal[NEED_CODES]  # type: ignore[valid-type]
TierCode = Literal[TIER_CODES]  # type: ignore[valid-type]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class NeedShare(_Out):
    code: str
    label_fr: str
    probability: float


class NeedOut(NeedShare):
    distribution: list[NeedShare]


class EmployabilityOut(_Out):
    probability: float = Field(description="calibrated probability of a job of at least one month within 6 months")
    tier: str
    tier_label_fr: str
    bands: dict[str, float]


class Factor(_Out):
    field: str
    label_fr: str
    value: Any
    display_value: str
    contribution: float = Field(description="signed SHAP value, in the explanation's units")
    direction: Literal["towards", "against"]
    sentence_fr: str


class Explanation(_Out):
    target: str
    units: str
    base_value: float
    raw_score: float = Field(description="base_value + sum of all contributions (shown and other)")
    factors: list[Factor]
    other_contribution: float = Field(description="sum of the contributions of the fields not shown")


class Explanations(_Out):
    need: Explanation | None
    employability: Explanation | None


class ReviewReason(_Out):
    code: str
    message_fr: str


class SuggestionOut(_Out):
    suggestion_id: str
    model_version: str
    created_at: str
    person_id: str
    agency_id: str | None
    need: NeedOut | None
    employability: EmployabilityOut | None
    needs_review: bool
    review_reasons: list[ReviewReason]
    explanations: Explanations
    recommendation: dict[str, Any] | None = Field(
        default=None, description="model 1 path suggested from the need, tier and barriers (policy catalogue)")


class BatchOut(BaseModel):
    suggestions: list[SuggestionOut]


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
    def _override_needs_a_change_and_a_reason(self) -> "DecisionIn":
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
    recommendation: dict[str, Any] | None
    milestone_date: str | None


class SuggestionWithDecisions(BaseModel):
    suggestion: dict[str, Any]
    decisions: list[DecisionOut]


ProfileBatch = Annotated[list[Profile], Field(min_length=1, max_length=MAX_BATCH)]  # type: ignore[valid-type]
