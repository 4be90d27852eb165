"""Request and response models of the API (pydantic; the profile comes from the schema).

Every request model is strict and closed (:class:`Strict`): unknown fields are refused at
every level, and nothing is coerced (``"yes"``, ``1`` or ``"5"`` are not a boolean or an
integer). The BentoML service takes these models as its input specs, and the OpenAPI
document (:mod:`serving.openapi`) is generated from the same classes, so the document and
the validation cannot drift apart. Response models are closed too, and say which fields
may be null.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from core.text import SAFE_TEXT_PATTERN
from features.api_models import ID_PATTERN, Profile, json_int
from features.schema import NEED_CODES, PERSON_VIEW_CODES, TIER_CODES
from models.suggestion import Recommendation, Suggestion
from policy import OVERRIDE_REASON_CODES

MAX_BATCH = 1000
MAX_REASON = 2000
#: Suggestion ids: the store's ids (32 hexadecimal digits for the service's own), never free text.
SUGGESTION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
NeedCode = Literal[NEED_CODES]  # type: ignore[valid-type]
TierCode = Literal[TIER_CODES]  # type: ignore[valid-type]
PersonViewCode = Literal[PERSON_VIEW_CODES]  # type: ignore[valid-type]
ReasonCode = Literal[OVERRIDE_REASON_CODES]  # type: ignore[valid-type]
RoleName = Literal["advisor", "auditor", "admin", "metrics"]


class Strict(BaseModel):
    """A request body: unknown fields refused, no coercion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Closed(BaseModel):
    """A response body: exactly the documented fields."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- requests


def suggestion_requests(profile: type[BaseModel]) -> tuple[Any, Any]:
    """The request models of ``POST /suggest`` (one profile) and ``POST /suggest_batch`` (up to
    1,000) for a profile model: the reference profile's here, a served spec's (:mod:`serving.served`)."""
    single = create_model(
        "SuggestIn", __base__=Strict, __doc__="``POST /suggest``: one profile.", profile=(profile, ...)
    )
    batch = create_model(
        "SuggestBatchIn",
        __base__=Strict,
        __doc__="``POST /suggest_batch``: up to 1,000 profiles.",
        profiles=(list[profile], Field(min_length=1, max_length=MAX_BATCH)),  # type: ignore[valid-type]
    )
    return single, batch


SuggestIn, SuggestBatchIn = suggestion_requests(Profile)


#: The cross-field rules of a decision, in JSON Schema (checked by :meth:`DecisionIn._rules`).
_DECISION_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"action": {"const": "override"}}, "required": ["action"]},
            "then": {
                "required": ["reason", "reason_code"],
                "properties": {"reason": {"type": "string", "pattern": r"\S"}, "reason_code": {"type": "string"}},
                "anyOf": [
                    {"required": ["need"], "properties": {"need": {"type": "string"}}},
                    {"required": ["tier"], "properties": {"tier": {"type": "string"}}},
                ],
            },
            "else": {"properties": {"reason_code": {"type": "null"}}},
        }
    ]
}


class DecisionIn(Strict):
    """An advisor's decision on a suggestion: confirm it, or override the need and/or tier.

    A confirmation keeps the suggested need and tier (it may name them, or give the one a
    model did not suggest; it has no ``reason_code``). An override gives a need or a tier (or
    both), a ``reason_code`` and a non-blank ``reason``. ``advisor_id`` must be the
    authenticated advisor; an admin may name the advisor who holds the case and act for
    them, with an ``on_behalf_reason``.
    """

    model_config = ConfigDict(json_schema_extra=_DECISION_RULES)

    suggestion_id: str = Field(pattern=SUGGESTION_ID_PATTERN)
    advisor_id: str = Field(
        pattern=ID_PATTERN, description="the advisor the decision belongs to: the signed-in advisor themself"
    )
    action: Literal["confirm", "override"]
    need: NeedCode | None = Field(default=None, description="override: the need retained")
    tier: TierCode | None = Field(default=None, description="override: the tier retained")
    reason_code: ReasonCode | None = Field(default=None, description="override: the coded reason (French list)")
    reason: str | None = Field(
        default=None,
        max_length=MAX_REASON,
        pattern=SAFE_TEXT_PATTERN,
        description="override: what happened, in words (printed on the person's report)",
    )
    revision: bool = Field(default=False, description="revise the current decision (the history is kept)")
    on_behalf_reason: str | None = Field(
        default=None,
        max_length=MAX_REASON,
        pattern=SAFE_TEXT_PATTERN,
        description="admin only: why the admin records this decision for the advisor",
    )
    person_view_need: PersonViewCode | None = Field(
        default=None,
        description="the need the person named themself, asked before the suggestion was shown "
        "(a need code, or UNKNOWN for « ne sait pas »); null if not asked",
    )

    @model_validator(mode="after")
    def _rules(self) -> DecisionIn:
        if self.action == "override":
            if self.need is None and self.tier is None:
                raise ValueError("an override needs a need or a tier (or both)")
            if not (self.reason and self.reason.strip()):
                raise ValueError("an override needs a reason")
            if self.reason_code is None:
                raise ValueError("an override needs a reason_code (one of " + ", ".join(OVERRIDE_REASON_CODES) + ")")
        elif self.reason_code is not None:
            raise ValueError("reason_code is for an override (a confirmation has no override reason)")
        return self


class MyDecisionsIn(Strict):
    """``POST /my_decisions``."""

    limit: json_int(1, 200) = Field(default=20, description="how many recent decisions (1 to 200)")  # type: ignore[valid-type]


class EmptyIn(Strict):
    """A request without parameters (``{}``)."""


_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


#: Text that is not blank, in JSON Schema (the validators' ``strip()`` checks).
_NOT_BLANK: dict[str, Any] = {"type": "string", "pattern": r"\S"}


class ContestIn(Strict):
    """``POST /contests``: a person's contest of the latest decision on a suggestion."""

    model_config = ConfigDict(json_schema_extra={"allOf": [{"properties": {"statement": _NOT_BLANK}}]})

    suggestion_id: str = Field(pattern=SUGGESTION_ID_PATTERN)
    received_on: str = Field(
        pattern=_DATE_PATTERN,
        json_schema_extra={"format": "date"},
        description="when the contest was received, YYYY-MM-DD (a calendar date)",
    )
    statement: str = Field(
        min_length=1, max_length=4000, pattern=SAFE_TEXT_PATTERN, description="the person's own words"
    )

    @model_validator(mode="after")
    def _checks(self) -> ContestIn:
        if not self.statement.strip():
            raise ValueError("statement must not be blank: write the person's words")
        _check_date(self.received_on, "received_on")
        return self


class ContestOutcomeIn(Strict):
    """``POST /contest_outcomes``: another advisor maintains or revises the contested decision."""

    # The cross-field rules of :meth:`_checks`, in JSON Schema.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"properties": {"reason": _NOT_BLANK}},
                {
                    "if": {"properties": {"outcome": {"const": "revised"}}, "required": ["outcome"]},
                    "then": {
                        "anyOf": [
                            {"required": ["need"], "properties": {"need": {"type": "string"}}},
                            {"required": ["tier"], "properties": {"tier": {"type": "string"}}},
                        ]
                    },
                    "else": {"properties": {"need": {"type": "null"}, "tier": {"type": "null"}}},
                },
            ]
        }
    )

    contest_id: str = Field(pattern=SUGGESTION_ID_PATTERN)
    outcome: Literal["revised", "maintained"]
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON,
        pattern=SAFE_TEXT_PATTERN,
        description="written for the person: shown on their report",
    )
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


class PathPreviewIn(Strict):
    """``POST /path_preview``: the path a decision with this need and tier would record (nothing is recorded)."""

    suggestion_id: str = Field(pattern=SUGGESTION_ID_PATTERN)
    need: NeedCode | None = None
    tier: TierCode | None = None


def _check_date(text: str, name: str) -> None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not a calendar date: {text!r}") from None


# --------------------------------------------------------------------------- responses


class BatchOut(Closed):
    suggestions: list[Suggestion]


class SuggestionRead(Suggestion):
    """A recorded suggestion as an auditor reads it: who asked, and the hash of the profile."""

    advisor_id: str
    input_hash: str = Field(description="SHA-256 of the canonical profile (the profile itself is never kept)")


class DecisionOut(Closed):
    """A recorded decision."""

    person_id: str | None = Field(default=None, description="the person's pseudonymous id (lists of decisions)")
    decision_id: str
    suggestion_id: str
    advisor_id: str = Field(description="the advisor the decision belongs to")
    actor: str | None = Field(
        description="the authenticated subject who recorded it (null: recorded before authors were kept)"
    )
    on_behalf_of: str | None = Field(description="the advisor an admin acted for; null when the advisor acted")
    on_behalf_reason: str | None = Field(description="why the admin acted for the advisor")
    action: Literal["confirm", "override"]
    final_need: NeedCode
    final_tier: TierCode
    reason_code: ReasonCode | None = Field(description="coded reason of an override (null: confirmation, or older)")
    reason: str | None
    revision_of: str | None = Field(description="the decision this one revises (null for a first decision)")
    created_at: dt.datetime
    recommendation: Recommendation | None
    milestone_date: dt.date | None
    person_view_need: PersonViewCode | None = Field(
        default=None, description="the need the person named themself (a need code or UNKNOWN); null if not asked"
    )


class ContestOutcomeOut(Closed):
    outcome: Literal["revised", "maintained"]
    reason: str
    decided_by: str
    revision_decision_id: str | None
    created_at: dt.datetime


class ContestOut(Closed):
    """A person's contest of a decision, and its re-examination's outcome (null while open)."""

    contest_id: str
    suggestion_id: str
    decision_id: str = Field(description="the decision contested (the latest one when the contest was recorded)")
    person_id: str
    agency_id: str | None
    received_on: dt.date = Field(description="the date the contest was received")
    statement: str = Field(description="the person's own words")
    recorded_by: str
    created_at: dt.datetime
    status: Literal["open", "revised", "maintained"]
    age_days: int = Field(description="days since the contest was received")
    may_reexamine: bool = Field(description="whether the caller may record the re-examination's outcome")
    outcome: ContestOutcomeOut | None


class ContestResolution(Closed):
    """What ``POST /contest_outcomes`` returns: the closed contest and the revision (null if maintained)."""

    contest: ContestOut
    decision: DecisionOut | None


class SuggestionHistory(Closed):
    """``GET /suggestions/{id}``: the suggestion, its decisions (oldest first) and its contests."""

    suggestion: SuggestionRead
    decisions: list[DecisionOut]
    contests: list[ContestOut]


class ModelInputs(Closed):
    """``POST /model_inputs``: what the served model reads."""

    required: list[str] = Field(description="inputs training never saw missing: a profile must give them")
    may_be_missing: list[str] = Field(description="inputs training saw missing (« non renseigné » allowed)")
    unused: list[str] = Field(description="profile fields the served model does not use")


class WhoAmI(Closed):
    subject: str
    role: RoleName
    model_version: str


class ErrorItem(Closed):
    """One broken rule: where (``loc``: the path to the field), what (``type``) and the rule in words."""

    type: str
    loc: list[str | int]
    msg: str
    url: str | None = None


class ErrorBody(Closed):
    """Every 4xx and 5xx body: ``error`` says what is wrong; ``detail`` lists each broken rule of a 400."""

    error: str
    detail: list[ErrorItem] | None = None


class NotReady(Closed):
    """``GET /readyz`` when the service cannot serve: what is wrong."""

    ready: Literal[False]
    problems: list[str]


ProfileBatch = Annotated[list[Profile], Field(min_length=1, max_length=MAX_BATCH)]  # type: ignore[valid-type]
