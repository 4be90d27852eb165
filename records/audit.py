"""What an auditor lists and exports: every suggestion with the outcome of its decisions.

One row per suggestion (decided or not): what the model suggested (need, tier, review flag),
who holds the case, and its decisions summed up (how many, the first one's action and delay,
the latest one's action, reason code, author). Filters: agency, advisor, date range (the day
the suggestion was made, UTC, both ends included), suggested need and tier, the latest
decision's action (or ``undecided``), the review flag, and whether the person contested it.

Pages are ordered by (suggestion time, id) and follow a *cursor*: an opaque token naming the
last row of a page, so that pages do not shift when new suggestions are recorded meanwhile.
Exports (:func:`iter_rows`) walk the same query without a limit, a chunk at a time.

``has_contest``: the person contested a decision on the suggestion (a row of ``contests``,
open or re-examined).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInput
from records.store import DecisionStore
from records.tables import contests, decisions, suggestions

__all__ = [
    "ACTION_FILTERS",
    "MAX_PAGE",
    "AuditFilter",
    "AuditPage",
    "AuditRow",
    "decode_cursor",
    "encode_cursor",
    "iter_rows",
    "list_page",
]

#: The ``action`` filter: the latest decision's action, or no decision yet.
ACTION_FILTERS: tuple[str, ...] = ("confirm", "override", "undecided")
#: The largest page of the JSON listing (exports are not paged).
MAX_PAGE = 500
_EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class AuditFilter:
    """Which suggestions to list (every field optional; all given ones must hold)."""

    agency_id: str | None = None
    advisor_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    need: str | None = None
    tier: str | None = None
    action: Literal["confirm", "override", "undecided"] | None = None
    needs_review: bool | None = None
    has_contest: bool | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise InvalidInput(f"until ({self.until}) is before since ({self.since})")
        if self.action is not None and self.action not in ACTION_FILTERS:
            raise InvalidInput(f"action must be one of {', '.join(ACTION_FILTERS)} (got {self.action!r})")


class AuditRow(BaseModel):
    """One suggestion as an auditor lists it (``GET /audit/suggestions``, CSV and Parquet exports)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suggestion_id: str
    created_at: dt.datetime = Field(description="when the suggestion was made (UTC)")
    model_version: str
    agency_id: str | None
    person_id: str = Field(description="pseudonymous id of the person")
    advisor_id: str = Field(description="the advisor who asked for the suggestion (who holds the case)")
    suggested_need: str | None = Field(description="need code suggested (null for a model without need)")
    need_probability: float | None
    suggested_tier: str | None = Field(description="tier suggested (null for a model without employability)")
    employability_probability: float | None
    needs_review: bool = Field(description="flagged « à examiner » by the model")
    review_reasons: list[str] = Field(description="review reason codes (LOW_CONFIDENCE, CLOSE_CALL, TIER_BORDERLINE)")
    decision_count: int = Field(description="decisions recorded (the first one and its revisions)")
    first_action: str | None = Field(description="confirm or override: the first decision (null: undecided)")
    seconds_to_first_decision: float | None = Field(description="from the suggestion to its first decision")
    latest_decision_id: str | None
    latest_action: str | None = Field(description="confirm or override, as finally decided (null: undecided)")
    decided_at: dt.datetime | None = Field(description="when the latest decision was recorded")
    decided_by: str | None = Field(description="the advisor the latest decision belongs to")
    actor: str | None = Field(description="who recorded the latest decision (null: recorded before authors were kept)")
    on_behalf_of: str | None = Field(description="the advisor an admin acted for (null: the advisor acted)")
    final_need: str | None
    final_tier: str | None
    reason_code: str | None = Field(description="coded reason of an override (null: confirmation or uncoded)")
    reason: str | None = Field(description="the advisor's free-text reason")
    revised: bool = Field(description="the first decision was revised at least once")
    has_contest: bool = Field(description="the person contested the suggestion or decision")


class AuditPage(BaseModel):
    """A page of the listing; ``next_cursor`` fetches the next one (null on the last page)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: list[AuditRow]
    next_cursor: str | None


# --------------------------------------------------------------------------- cursor


def encode_cursor(created_at: dt.datetime, suggestion_id: str) -> str:
    raw = json.dumps([created_at.astimezone(dt.UTC).isoformat(), suggestion_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The (time, id) a cursor names; :class:`InvalidInput` naming ``cursor`` if it was not made here."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, suggestion_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(when)
        if moment.tzinfo is None or not isinstance(suggestion_id, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor returned by this listing (use next_cursor as given)") from None
    return moment.astimezone(dt.UTC), suggestion_id


# --------------------------------------------------------------------------- query


def _query(filters: AuditFilter) -> sa.Select:
    output = suggestions.c.output
    need = output[("need", "code")].as_string()
    tier = output[("employability", "tier")].as_string()
    needs_review = output["needs_review"].as_boolean()
    stats = (
        sa.select(
            decisions.c.suggestion_id,
            sa.func.count().label("decision_count"),
            sa.func.max(decisions.c.sequence).label("latest_sequence"),
        )
        .group_by(decisions.c.suggestion_id)
        .subquery("decision_stats")
    )
    first = decisions.alias("first_decision")
    latest = decisions.alias("latest_decision")
    contested: sa.ColumnElement[bool] = sa.exists().where(contests.c.suggestion_id == suggestions.c.suggestion_id)
    query = sa.select(
        suggestions.c.suggestion_id,
        suggestions.c.created_at,
        suggestions.c.model_version,
        suggestions.c.agency_id,
        suggestions.c.person_id,
        suggestions.c.advisor_id,
        need.label("suggested_need"),
        output[("need", "probability")].as_float().label("need_probability"),
        tier.label("suggested_tier"),
        output[("employability", "probability")].as_float().label("employability_probability"),
        needs_review.label("needs_review"),
        output["review_reasons"].label("review_reasons"),
        stats.c.decision_count,
        first.c.action.label("first_action"),
        first.c.created_at.label("first_decided_at"),
        latest.c.decision_id.label("latest_decision_id"),
        latest.c.action.label("latest_action"),
        latest.c.created_at.label("decided_at"),
        latest.c.advisor_id.label("decided_by"),
        latest.c.actor,
        latest.c.on_behalf_of,
        latest.c.final_need,
        latest.c.final_tier,
        latest.c.reason_code,
        latest.c.reason,
        contested.label("has_contest"),
    ).select_from(
        suggestions.outerjoin(stats, stats.c.suggestion_id == suggestions.c.suggestion_id)
        .outerjoin(first, sa.and_(first.c.suggestion_id == suggestions.c.suggestion_id, first.c.sequence == 0))
        .outerjoin(
            latest,
            sa.and_(
                latest.c.suggestion_id == suggestions.c.suggestion_id, latest.c.sequence == stats.c.latest_sequence
            ),
        )
    )
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.agency_id is not None:
        conditions.append(suggestions.c.agency_id == filters.agency_id)
    if filters.advisor_id is not None:
        conditions.append(suggestions.c.advisor_id == filters.advisor_id)
    if filters.since is not None:
        conditions.append(suggestions.c.created_at >= _day_start(filters.since))
    if filters.until is not None:
        conditions.append(suggestions.c.created_at < _day_start(filters.until + dt.timedelta(days=1)))
    if filters.need is not None:
        conditions.append(need == filters.need)
    if filters.tier is not None:
        conditions.append(tier == filters.tier)
    if filters.action == "undecided":
        conditions.append(stats.c.decision_count.is_(None))
    elif filters.action is not None:
        conditions.append(latest.c.action == filters.action)
    if filters.needs_review is not None:
        conditions.append(needs_review == filters.needs_review)
    if filters.has_contest is not None:
        conditions.append(contested if filters.has_contest else sa.not_(contested))
    return query.where(*conditions).order_by(suggestions.c.created_at, suggestions.c.suggestion_id)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _after(query: sa.Select, cursor: tuple[dt.datetime, str]) -> sa.Select:
    when, suggestion_id = cursor
    return query.where(
        sa.or_(
            suggestions.c.created_at > when,
            sa.and_(suggestions.c.created_at == when, suggestions.c.suggestion_id > suggestion_id),
        )
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _row(mapping: Any) -> AuditRow:
    created = _utc(mapping["created_at"])
    first_at = _utc(mapping["first_decided_at"])
    assert created is not None
    reasons = mapping["review_reasons"] or []
    count = int(mapping["decision_count"] or 0)
    return AuditRow(
        suggestion_id=mapping["suggestion_id"],
        created_at=created,
        model_version=mapping["model_version"],
        agency_id=mapping["agency_id"],
        person_id=mapping["person_id"],
        advisor_id=mapping["advisor_id"],
        suggested_need=mapping["suggested_need"],
        need_probability=mapping["need_probability"],
        suggested_tier=mapping["suggested_tier"],
        employability_probability=mapping["employability_probability"],
        needs_review=bool(mapping["needs_review"]),
        review_reasons=[r["code"] for r in reasons],
        decision_count=count,
        first_action=mapping["first_action"],
        seconds_to_first_decision=None if first_at is None else (first_at - created).total_seconds(),
        latest_decision_id=mapping["latest_decision_id"],
        latest_action=mapping["latest_action"],
        decided_at=_utc(mapping["decided_at"]),
        decided_by=mapping["decided_by"],
        actor=mapping["actor"],
        on_behalf_of=mapping["on_behalf_of"],
        final_need=mapping["final_need"],
        final_tier=mapping["final_tier"],
        reason_code=mapping["reason_code"],
        reason=mapping["reason"],
        revised=count > 1,
        has_contest=bool(mapping["has_contest"]),
    )


def list_page(store: DecisionStore, filters: AuditFilter, *, limit: int = 100, cursor: str | None = None) -> AuditPage:
    """One page of at most ``limit`` rows after ``cursor`` (None: the first page)."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_PAGE} (got {limit!r})")
    after = decode_cursor(cursor) if cursor is not None else None
    with store.reading() as conn:
        query = _query(filters)
        if after is not None:
            query = _after(query, after)
        rows = [_row(r._mapping) for r in conn.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].suggestion_id) if more else None
    return AuditPage(items=rows, next_cursor=next_cursor)


def iter_rows(store: DecisionStore, filters: AuditFilter) -> Iterator[AuditRow]:
    """Every matching row, in order, read a chunk at a time (for exports and the oversight figures)."""
    after: tuple[dt.datetime, str] | None = None
    while True:
        with store.reading() as conn:
            query = _query(filters)
            if after is not None:
                query = _after(query, after)
            rows = [_row(r._mapping) for r in conn.execute(query.limit(_EXPORT_CHUNK))]
        yield from rows
        if len(rows) < _EXPORT_CHUNK:
            return
        after = (rows[-1].created_at, rows[-1].suggestion_id)
