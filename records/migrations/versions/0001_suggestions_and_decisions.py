"""Suggestions and advisor decisions (append-only audit log).

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Types are portable (VARCHAR, TEXT, JSON, DATE, TIMESTAMP WITH TIME ZONE, INTEGER), so the
same revision runs on SQLite and PostgreSQL. Constraint names are explicit so that later
revisions can refer to them on every backend.

Race safety of decisions: every decision of a suggestion has a ``sequence`` number, 0 for
the first decision and n for the n-th revision, and ``(suggestion_id, sequence)`` is
UNIQUE. Two advisors (or two processes) recording a first decision on the same suggestion
both try to insert sequence 0; the database accepts exactly one and rejects the other
with an integrity error, whatever the isolation level. ``revision_of`` is UNIQUE too:
a decision is superseded at most once, so the history is a single chain
0 -> 1 -> 2 ..., and a CHECK ties the two columns (sequence 0 <=> no revision_of).

Append-only: on SQLite and PostgreSQL, triggers reject UPDATE and DELETE (and TRUNCATE on
PostgreSQL) on both tables. A retention purge must be a deliberate later migration.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY_TABLES = ("suggestions", "decisions")


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("suggestion_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("agency_id", sa.String(128), nullable=True),
        sa.Column("person_id", sa.String(128), nullable=False),
        sa.Column("advisor_id", sa.String(128), nullable=False),
        sa.Column("input_hash", sa.String(128), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("suggestion_id", name="pk_suggestions"),
    )
    op.create_index("ix_suggestions_person_id", "suggestions", ["person_id"])
    op.create_index("ix_suggestions_advisor_id", "suggestions", ["advisor_id"])
    op.create_index("ix_suggestions_created_at", "suggestions", ["created_at"])

    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("suggestion_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("final_need", sa.String(64), nullable=False),
        sa.Column("final_tier", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revision_of", sa.String(36), nullable=True),
        sa.Column("recommendation", sa.JSON(), nullable=True),
        sa.Column("milestone_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["suggestion_id"], ["suggestions.suggestion_id"], name="fk_decisions_suggestion_id_suggestions"
        ),
        sa.ForeignKeyConstraint(["revision_of"], ["decisions.decision_id"], name="fk_decisions_revision_of_decisions"),
        # The race-safety constraint (see module docstring); also serves as the index on
        # suggestion_id (leading column).
        sa.UniqueConstraint("suggestion_id", "sequence", name="uq_decisions_suggestion_id_sequence"),
        sa.UniqueConstraint("revision_of", name="uq_decisions_revision_of"),
        sa.CheckConstraint("action IN ('confirm', 'override')", name="ck_decisions_action"),
        sa.CheckConstraint(
            "(sequence = 0 AND revision_of IS NULL) OR (sequence > 0 AND revision_of IS NOT NULL)",
            name="ck_decisions_sequence_revision_of",
        ),
        sa.CheckConstraint(
            "action <> 'override' OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
            name="ck_decisions_override_reason",
        ),
    )
    op.create_index("ix_decisions_advisor_id_created_at", "decisions", ["advisor_id", "created_at"])
    op.create_index("ix_decisions_milestone_date", "decisions", ["milestone_date"])

    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_index("ix_decisions_milestone_date", table_name="decisions")
    op.drop_index("ix_decisions_advisor_id_created_at", table_name="decisions")
    op.drop_table("decisions")
    op.drop_index("ix_suggestions_created_at", table_name="suggestions")
    op.drop_index("ix_suggestions_advisor_id", table_name="suggestions")
    op.drop_index("ix_suggestions_person_id", table_name="suggestions")
    op.drop_table("suggestions")


def _dialect() -> str:
    # op.get_context() works online and offline (--sql), unlike op.get_bind().
    return op.get_context().dialect.name


def _create_append_only_triggers() -> None:
    dialect = _dialect()
    if dialect == "sqlite":
        for table in _APPEND_ONLY_TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_append_only_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} is not allowed'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION jalon_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP; END; $$"
        )
        for table in _APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION jalon_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION jalon_append_only()"
            )
    # Other backends: append-only is enforced by the store only.


def _drop_append_only_triggers() -> None:
    dialect = _dialect()
    if dialect == "sqlite":
        for table in _APPEND_ONLY_TABLES:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{event}")
    elif dialect == "postgresql":
        for table in _APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS jalon_append_only()")
