"""Suggestions in and out of the store, through the one suggestion contract.

The store keeps a suggestion's contract fields as JSON (``output`` and ``explanation``)
beside the barrier fields the policy catalogue needs to recompute a path when the
advisor overrides the need or tier (``policy_context``: kept, never returned). Reading
back always goes through :class:`models.suggestion.Suggestion`, so a stored row that
drifted from the contract fails loudly instead of being read as missing values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.suggestion import Suggestion
from records.store import SuggestionRecord

STORED_FIELDS = ("need", "employability", "needs_review", "review_reasons", "recommendation")


def suggestion_row(suggestion: Suggestion, *, advisor_id: str, input_hash: str,
                   policy_context: Mapping[str, Any]) -> dict[str, Any]:
    """The store's row of a suggestion: the contract's fields as JSON, and the barrier fields
    the catalogue needs to recompute a path on override (``policy_context``, never returned)."""
    output = suggestion.model_dump(mode="json", include=set(STORED_FIELDS))
    output["policy_context"] = dict(policy_context)
    return {"suggestion_id": suggestion.suggestion_id, "model_version": suggestion.model_version,
            "person_id": suggestion.person_id, "agency_id": suggestion.agency_id, "advisor_id": advisor_id,
            "input_hash": input_hash, "output": output,
            "explanation": suggestion.explanations.model_dump(mode="json"), "created_at": suggestion.created_at}


def stored_suggestion(record: SuggestionRecord) -> Suggestion:
    """The recorded suggestion, read back through the contract."""
    return Suggestion.model_validate({
        "suggestion_id": record.suggestion_id, "model_version": record.model_version,
        "created_at": record.created_at, "person_id": record.person_id, "agency_id": record.agency_id,
        **{k: record.output.get(k) for k in STORED_FIELDS}, "explanations": record.explanation,
    })
