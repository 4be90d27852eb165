"""The suggestion contract: one typed shape from the model to the API, the store and the reports.

:class:`ModelSuggestion` is what :class:`~models.segmentation.SegmentationModel` produces
for one profile (need, employability, review reasons, explanations). :class:`Suggestion`
adds what the service knows (its id, the model version, the person, the model 1 path
from the policy catalogue); the records store keeps it, the API returns it, and the
advisor page, the person's report, the milestone review and the oversight figures read
it back through this one model. Every model forbids unknown fields, so a drift between
producer and reader fails loudly instead of being read as ``None``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TierCode = Literal["A", "B", "C"]
ReviewCode = Literal["LOW_CONFIDENCE", "CLOSE_CALL", "TIER_BORDERLINE"]
FactorValue = bool | int | float | str | None


class Contract(BaseModel):
    """Base of the contract's models: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NeedShare(Contract):
    code: str = Field(description="need code (the six axes de travail of the default spec)")
    label_fr: str
    probability: float = Field(ge=0, le=1)


class NeedSuggestion(NeedShare):
    """The suggested primary need (the most probable) and the whole distribution, most probable first."""

    distribution: list[NeedShare]


class TierBandsOut(Contract):
    A: float = Field(description="a calibrated probability at or above this is tier A")
    B: float = Field(description="at or above this (and below A) is tier B; below is C")


class EmployabilityOut(Contract):
    probability: float = Field(
        ge=0,
        le=1,
        description="calibrated probability of the outcome (a job of at least one month within the spec's horizon)",
    )
    tier: TierCode
    tier_label_fr: str
    bands: TierBandsOut


class Factor(Contract):
    """One profile field's contribution to a score, with the sentence an advisor reads."""

    field: str
    label_fr: str
    value: FactorValue
    display_value: str
    contribution: float = Field(description="signed SHAP value, in the explanation's units")
    direction: Literal["towards", "against"]
    sentence_fr: str
    protected: bool = Field(description="a protected attribute: never given to the person as a reason")


class Explanation(Contract):
    target: str = Field(description="the need code explained, or the employability label")
    units: str
    base_value: float
    raw_score: float = Field(description="base_value + the sum of all contributions (shown and other)")
    factors: list[Factor]
    other_contribution: float = Field(description="sum of the contributions of the fields not shown")


class Explanations(Contract):
    need: Explanation | None
    employability: Explanation | None


class ReviewReason(Contract):
    code: ReviewCode
    message_fr: str


class ModelSuggestion(Contract):
    """What the model says about one profile. Either part is ``None`` for a model trained without that label."""

    need: NeedSuggestion | None
    employability: EmployabilityOut | None
    needs_review: bool
    review_reasons: list[ReviewReason]
    explanations: Explanations | None = Field(default=None, description="absent when not asked for (batch)")

    @property
    def need_code(self) -> str | None:
        return None if self.need is None else self.need.code

    @property
    def tier(self) -> str | None:
        return None if self.employability is None else self.employability.tier


class Offer(Contract):
    id: str
    name_fr: str


class Recommendation(Contract):
    """A model 1 path for one person (policy catalogue), to be confirmed or overridden by the advisor."""

    rule_id: str
    catalogue_version: str
    parcours: str
    parcours_label_fr: str
    modality: str
    modality_label_fr: str
    objective_fr: str
    offers: list[Offer]
    duration_months: int = Field(ge=1)
    milestone_date: dt.date
    need: str
    need_label_fr: str
    tier: TierCode
    tier_label_fr: str
    complement_ids: tuple[str, ...]
    explanation_fr: str


ServedArm = Literal["MODEL_1", "MODEL_2"]


class ExperimentArm(Contract):
    """The MSA experiment's arm of the person's agency, as recorded when the suggestion was made.

    Absent (``None`` on the suggestion) when no draw is recorded: the tool then works as
    before the experiment. A ``CONTROL`` agency never gets a suggestion, so it never appears here.
    """

    arm: ServedArm = Field(description="the model the agency runs: MODEL_1 (segmentation by need) or MODEL_2")
    arm_label_fr: str
    added_by_hand: bool = Field(
        description="true for an agency added outside the draw: it runs its model but is left out of the "
        "experiment's main analysis"
    )
    draw_sequence: int = Field(ge=1, description="the recorded draw this arm comes from (1 = first draw)")


class TrackProposal(Contract):
    """Model 2: the track proposed for one person, by the allocation's eligibility rule.

    The capacity-aware allocation (who actually gets one of the agency's intensive places)
    stays a batch job (``jalon allocate``); this proposal says whether the person is
    eligible for intensive support, which rule says so, and their place in the priority order.
    """

    eligible_intensive: bool = Field(description="eligible for intensive support by a path referent")
    track: Literal["INTENSIVE", "EXTERNAL"] = Field(
        description="INTENSIVE if eligible (within the agency's places), else EXTERNAL (provider or large portfolio)"
    )
    track_label_fr: str
    rule_id: str
    rule_fr: str = Field(description="the rule behind the proposal, in French")
    priority_score: float | None = Field(
        ge=0,
        le=1,
        description="the value ordering intensive places (p_employed by default; lower is served first); "
        "null for a model without employability",
    )
    priority_order_by: str
    excluded_needs: tuple[str, ...]
    intensive_months: int = Field(ge=1, description="intensive support is limited in time: its length in months")
    explanation_fr: str


class Suggestion(ModelSuggestion):
    """A recorded suggestion, as the API returns it and the store keeps it."""

    suggestion_id: str
    model_version: str
    created_at: dt.datetime
    person_id: str
    agency_id: str | None
    explanations: Explanations  # always explained when served
    recommendation: Recommendation | None = Field(
        description="model 1 path suggested from the need, tier and barriers (policy catalogue); "
        "null in a MODEL_2 agency of the MSA experiment"
    )
    experiment: ExperimentArm | None = Field(
        default=None, description="the agency's arm in the MSA experiment; null when no draw is recorded"
    )
    track_proposal: TrackProposal | None = Field(
        default=None, description="model 2 track proposal, in a MODEL_2 agency of the MSA experiment only"
    )
