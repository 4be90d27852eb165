"""What the decisions store hands out: its records and its errors.

The errors derive from :mod:`core.errors`, so the command line and the service can catch
``JalonError`` for what a user can act on: an unknown suggestion is a ``NotFound`` (and
still a ``LookupError``), a second first decision a ``Conflict``, a database problem
``Unavailable``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.errors import Conflict, NotFound, Unavailable

__all__ = ["DecisionConflict", "DecisionRecord", "StoreError", "SuggestionNotFound", "SuggestionRecord"]


class SuggestionNotFound(NotFound, LookupError):
    """No suggestion with this id was recorded."""


class DecisionConflict(Conflict):
    """The suggestion already has a decision and ``revision=True`` was not given."""


class StoreError(Unavailable):
    """Another integrity or database problem (duplicate id, database unavailable...)."""


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
