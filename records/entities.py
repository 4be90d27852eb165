"""What the decisions store hands out: its records and its errors.

The errors derive from :mod:`core.errors`, so the command line and the service can catch
``JalonError`` for what a user can act on: an unknown suggestion is a ``NotFound`` (and
still a ``LookupError``), a second first decision a ``Conflict``, a database problem
``Unavailable``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.errors import Conflict, NotFound, Unavailable
from models.suggestion import NeedSuggestion, Suggestion

__all__ = [
    "STORED_FIELDS",
    "DecisionConflict",
    "DecisionNotFound",
    "DecisionRecord",
    "StoreError",
    "SuggestionNotFound",
    "SuggestionRecord",
    "suggested_need",
    "suggestion_from_row",
]

#: The contract's fields kept in a suggestion's ``output`` column (explanations have their own).
STORED_FIELDS: tuple[str, ...] = (
    "need",
    "employability",
    "needs_review",
    "review_reasons",
    "recommendation",
    "experiment",
    "track_proposal",
)


class SuggestionNotFound(NotFound, LookupError):
    """No suggestion with this id was recorded."""


class DecisionNotFound(NotFound, LookupError):
    """No decision with this id was recorded."""


class DecisionConflict(Conflict):
    """The suggestion already has a decision and ``revision=True`` was not given."""


class StoreError(Unavailable):
    """Another integrity or database problem (duplicate id, database unavailable...).

    ``kind`` says what is wrong in a word a client can act on (``read-only``, ``full``,
    ``unreachable``, ``busy``, ``unavailable``, ``integrity``); ``cause`` is the database's own
    primary message (never a row's values), for the log.
    """

    def __init__(self, message: str, *, kind: str = "unavailable", cause: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.cause = cause


@dataclass(frozen=True)
class DecisionRecord:
    decision_id: str
    suggestion_id: str
    advisor_id: str
    action: str
    final_need: str
    final_tier: str
    reason: str | None
    revision_of: str | None
    recommendation: dict | None
    milestone_date: dt.date | None
    created_at: dt.datetime
    #: The need the person named themself (a need code or ``UNKNOWN``); None if not asked.
    person_view_need: str | None = None
    #: The authenticated subject who recorded it (None: recorded before authors were kept).
    actor: str | None = None
    #: The advisor an admin acted for (None when the advisor acted themself).
    on_behalf_of: str | None = None
    on_behalf_reason: str | None = None
    #: The coded reason of an override (``policy.OVERRIDE_REASONS``; None for a confirmation).
    reason_code: str | None = None


@dataclass(frozen=True)
class SuggestionRecord:
    suggestion_id: str
    created_at: dt.datetime
    model_version: str
    agency_id: str | None
    person_id: str
    advisor_id: str
    input_hash: str
    output: dict
    explanation: dict
    decisions: list[DecisionRecord]  # oldest first

    @property
    def latest_decision(self) -> DecisionRecord | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def suggestion(self) -> Suggestion:
        """The recorded suggestion, read back through the contract."""
        return suggestion_from_row(self.__dict__)

    @property
    def policy_context(self) -> dict[str, Any]:
        """The barrier fields kept to recompute a path on override (never returned by the API)."""
        return dict(self.output.get("policy_context") or {})


def suggestion_from_row(row: Mapping[str, Any]) -> Suggestion:
    """A suggestion row (or record) as the contract's :class:`Suggestion`; ``ValueError`` if it drifted.

    The same function checks a row before it is written and reads it back, so what the
    store accepts is exactly what it can return.
    """
    output = row["output"]
    try:
        return Suggestion.model_validate(
            {
                "suggestion_id": row["suggestion_id"],
                "model_version": row["model_version"],
                "created_at": row["created_at"],
                "person_id": row["person_id"],
                "agency_id": row["agency_id"],
                **{key: output.get(key) for key in STORED_FIELDS},
                "explanations": row["explanation"],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"the suggestion does not follow the contract: {where}: {first['msg']}") from None


def suggested_need(output: Mapping[str, Any]) -> str | None:
    """The need code the model suggested, from a stored ``output`` (None for a model without need)."""
    need = output.get("need")
    return None if need is None else NeedSuggestion.model_validate(need).code
