"""Checks and conversions of the values the store receives, before any database work.

A broken value raises ``ValueError`` naming the field (the service answers 422 with it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from core.text import SAFE_TEXT_RULE, unsafe_characters
from features.schema import NEED_CODES, PERSON_VIEW_CODES, TIER_CODES
from models.suggestion import Suggestion
from policy import OVERRIDE_REASON_CODES
from records.entities import STORED_FIELDS, DecisionRecord, suggestion_from_row

MAX_ID_LENGTH = 128


def json_dumps(value: Any) -> str:
    """JSON as the store writes it: UTF-8 text kept as is, NaN and infinities refused."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def aware_utc(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware (UTC recommended)")
    return value.astimezone(dt.UTC)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def require_id(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{name} must be at most {MAX_ID_LENGTH} characters")
    return value


def require_safe_text(value: str | None, name: str) -> None:
    """Free text the records keep: no control or bidirectional characters (:mod:`core.text`)."""
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    bad = unsafe_characters(value)
    if bad:
        raise ValueError(f"{name} contains {', '.join(bad)}: {SAFE_TEXT_RULE}")


def require_reason_code(code: str | None, action: str) -> None:
    """A coded override reason: one of ``policy.OVERRIDE_REASON_CODES``, and for overrides only."""
    if code is None:
        return
    if code not in OVERRIDE_REASON_CODES:
        raise ValueError(f"reason_code must be one of {', '.join(OVERRIDE_REASON_CODES)} (got {code!r})")
    if action != "override":
        raise ValueError("reason_code is for an override only (a confirmation has no override reason)")


def require_json_object(value: Any, name: str, *, optional: bool = False) -> dict | None:
    if value is None and optional:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a JSON object (dict)")
    try:
        # Round trip: rejects NaN/inf and non-JSON types (numpy scalars...), string keys.
        copy: dict = json.loads(json_dumps(dict(value)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be JSON-serialisable (no NaN, no non-JSON types)") from exc
    return copy


#: What an advisor may do with a suggestion.
ACTIONS: tuple[str, ...] = ("confirm", "override")


def decision_values(
    *,
    suggestion_id: str,
    advisor_id: str,
    action: str,
    final_need: str,
    final_tier: str,
    reason: str | None,
    recommendation: dict | None,
    milestone_date: dt.date | None,
    person_view_need: str | None,
    reason_code: str | None,
    actor: str | None,
    on_behalf_reason: str | None,
) -> dict[str, Any]:
    """The checked values of a decision row (all but its id, sequence, predecessor and time).

    ``actor`` defaults to ``advisor_id``; another actor acts on the advisor's behalf, recorded as
    ``on_behalf_of``, with a required ``on_behalf_reason``. Blank reasons count as none.
    """
    require_id(suggestion_id, "suggestion_id")
    require_id(advisor_id, "advisor_id")
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)} (got {action!r})")
    if final_need not in NEED_CODES:
        raise ValueError(f"final_need must be one of {', '.join(NEED_CODES)} (got {final_need!r})")
    if final_tier not in TIER_CODES:
        raise ValueError(f"final_tier must be one of {', '.join(TIER_CODES)} (got {final_tier!r})")
    if person_view_need is not None and person_view_need not in PERSON_VIEW_CODES:
        raise ValueError(f"person_view_need must be one of {', '.join(PERSON_VIEW_CODES)} (got {person_view_need!r})")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("reason must be a string")
    if reason is not None and not reason.strip():
        reason = None
    if action == "override" and reason is None:
        raise ValueError("reason is required (non-empty) when action is override")
    require_safe_text(reason, "reason")
    require_reason_code(reason_code, action)
    actor = advisor_id if actor is None else actor
    require_id(actor, "actor")
    on_behalf_of = advisor_id if actor != advisor_id else None
    if on_behalf_reason is not None and not on_behalf_reason.strip():
        on_behalf_reason = None
    if on_behalf_of is not None and on_behalf_reason is None:
        raise ValueError(f"on_behalf_reason is required when {actor!r} records a decision for {advisor_id!r}")
    if on_behalf_of is None and on_behalf_reason is not None:
        raise ValueError("on_behalf_reason is only for a decision recorded on another advisor's behalf")
    require_safe_text(on_behalf_reason, "on_behalf_reason")
    recommendation = require_json_object(recommendation, "recommendation", optional=True)
    if milestone_date is not None and (
        not isinstance(milestone_date, dt.date) or isinstance(milestone_date, dt.datetime)
    ):
        raise ValueError("milestone_date must be a datetime.date (not a datetime)")
    return {
        "suggestion_id": suggestion_id,
        "advisor_id": advisor_id,
        "action": action,
        "final_need": final_need,
        "final_tier": final_tier,
        "reason": reason,
        "recommendation": recommendation,
        "milestone_date": milestone_date,
        "person_view_need": person_view_need,
        "actor": actor,
        "on_behalf_of": on_behalf_of,
        "on_behalf_reason": on_behalf_reason,
        "reason_code": reason_code,
    }


def suggestion_row(
    *,
    suggestion_id: str,
    model_version: str,
    person_id: str,
    advisor_id: str,
    input_hash: str,
    output: dict,
    explanation: dict,
    agency_id: str | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    require_id(suggestion_id, "suggestion_id")
    require_id(model_version, "model_version")
    require_id(person_id, "person_id")
    require_id(advisor_id, "advisor_id")
    require_id(agency_id, "agency_id", optional=True)
    require_id(input_hash, "input_hash")
    if any(ch.isspace() for ch in input_hash):
        raise ValueError("input_hash must be a hash of the profile (no whitespace), never the profile itself")
    row = {
        "suggestion_id": suggestion_id,
        "created_at": now_utc() if created_at is None else aware_utc(created_at, "created_at"),
        "model_version": model_version,
        "agency_id": agency_id,
        "person_id": person_id,
        "advisor_id": advisor_id,
        "input_hash": input_hash,
        "output": require_json_object(output, "output"),
        "explanation": require_json_object(explanation, "explanation"),
    }
    suggestion_from_row(row)  # what is written must read back as the contract
    return row


def row_from_suggestion(
    suggestion: Suggestion, *, advisor_id: str, input_hash: str, policy_context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The keyword arguments of :meth:`DecisionStore.record_suggestion` for a contract suggestion.

    ``output`` keeps the contract's fields as JSON plus the barrier fields the policy catalogue
    needs to recompute a path when the advisor overrides the need or tier (``policy_context``:
    kept, never returned); ``explanation`` keeps the explanations.
    """
    output = suggestion.model_dump(mode="json", include=set(STORED_FIELDS))
    output["policy_context"] = dict(policy_context or {})
    return {
        "suggestion_id": suggestion.suggestion_id,
        "model_version": suggestion.model_version,
        "person_id": suggestion.person_id,
        "agency_id": suggestion.agency_id,
        "advisor_id": advisor_id,
        "input_hash": input_hash,
        "output": output,
        "explanation": suggestion.explanations.model_dump(mode="json"),
        "created_at": suggestion.created_at,
    }


def decision_record(row: Mapping[Any, Any]) -> DecisionRecord:
    return DecisionRecord(
        decision_id=row["decision_id"],
        suggestion_id=row["suggestion_id"],
        advisor_id=row["advisor_id"],
        action=row["action"],
        final_need=row["final_need"],
        final_tier=row["final_tier"],
        reason=row["reason"],
        revision_of=row["revision_of"],
        recommendation=row["recommendation"],
        milestone_date=row["milestone_date"],
        created_at=row["created_at"],
        person_view_need=row.get("person_view_need"),
        actor=row.get("actor"),
        on_behalf_of=row.get("on_behalf_of"),
        on_behalf_reason=row.get("on_behalf_reason"),
        reason_code=row.get("reason_code"),
    )
