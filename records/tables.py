"""The tables of the records, for querying.

Schema: created and upgraded only by the Alembic revisions in ``records/migrations``. The
table objects below mirror those revisions (``tests/records`` compares them); they never
create anything.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from records.validation import aware_utc

__all__ = ["UTCDateTime", "contest_outcomes", "contests", "decisions", "metadata", "store_health", "suggestions"]


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = aware_utc(value, "created_at")
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


metadata = sa.MetaData()

suggestions = sa.Table(
    "suggestions",
    metadata,
    sa.Column("suggestion_id", sa.String(128), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("model_version", sa.String(128), nullable=False),
    sa.Column("agency_id", sa.String(128), nullable=True),
    sa.Column("person_id", sa.String(128), nullable=False, index=True),
    sa.Column("advisor_id", sa.String(128), nullable=False, index=True),
    sa.Column("input_hash", sa.String(128), nullable=False),
    sa.Column("output", sa.JSON(), nullable=False),
    sa.Column("explanation", sa.JSON(), nullable=False),
    sa.Index("ix_suggestions_agency_id_created_at", "agency_id", "created_at"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("decision_id", sa.String(36), primary_key=True),
    sa.Column("suggestion_id", sa.String(128), sa.ForeignKey("suggestions.suggestion_id"), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("advisor_id", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("final_need", sa.String(64), nullable=False),
    sa.Column("final_tier", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("revision_of", sa.String(36), sa.ForeignKey("decisions.decision_id"), nullable=True, unique=True),
    sa.Column("recommendation", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("milestone_date", sa.Date(), nullable=True, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Revision 0004: the need the person named themself (a need code, UNKNOWN, or NULL).
    sa.Column("person_view_need", sa.String(32), nullable=True),
    # Revision 0006: who really acted, for whom, and the coded reason of an override.
    sa.Column("actor", sa.String(128), nullable=True, index=True),
    sa.Column("on_behalf_of", sa.String(128), nullable=True),
    sa.Column("on_behalf_reason", sa.Text(), nullable=True),
    sa.Column("reason_code", sa.String(32), nullable=True),
    sa.UniqueConstraint("suggestion_id", "sequence", name="uq_decisions_suggestion_id_sequence"),
    sa.Index("ix_decisions_advisor_id_created_at", "advisor_id", "created_at"),
)

# Revision 0004: contests of a decision and the re-examination's outcome (at most one).
contests = sa.Table(
    "contests",
    metadata,
    sa.Column("contest_id", sa.String(36), primary_key=True),
    sa.Column("suggestion_id", sa.String(128), sa.ForeignKey("suggestions.suggestion_id"), nullable=False, index=True),
    sa.Column("decision_id", sa.String(36), sa.ForeignKey("decisions.decision_id"), nullable=False),
    sa.Column("received_on", sa.Date(), nullable=False),
    sa.Column("statement", sa.Text(), nullable=False),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
)

contest_outcomes = sa.Table(
    "contest_outcomes",
    metadata,
    sa.Column("contest_id", sa.String(36), sa.ForeignKey("contests.contest_id"), primary_key=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("decided_by", sa.String(128), nullable=False),
    sa.Column("revision_decision_id", sa.String(36), sa.ForeignKey("decisions.decision_id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

#: One row, rewritten by the readiness probe (:meth:`records.DecisionStore.check_writable`).
store_health = sa.Table(
    "store_health",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("checked_at", UTCDateTime(), nullable=False),
)
