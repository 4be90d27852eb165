"""The person's own view on decisions, contests and their outcomes (append-only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

- ``decisions.person_view_need``: the need the person named themself, recorded by the
  advisor before the suggestion was shown (one of the six need codes, or ``UNKNOWN`` for
  « ne sait pas »); NULL for decisions recorded before this revision or by a client that
  did not ask. Existing rows are kept as they are (the column is added, nothing updated).
- ``contests``: a person's contest of a decision (the date it was received, the person's
  words, who recorded it, and the decision contested: the latest one when it was recorded).
- ``contest_outcomes``: the re-examination's outcome, at most one per contest (UNIQUE):
  ``revised`` (with the revision decision it produced) or ``maintained``, always with a
  reason. A contest is open while it has no outcome; nothing is ever updated.

Both new tables are append-only like the first two (triggers on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_TABLES = ("contests", "contest_outcomes")
#: The six need codes and UNKNOWN (« ne sait pas »), as the check constraint lists them.
_PERSON_VIEWS = (
    "DIRECT_EMPLOYMENT",
    "SEARCH_SKILLS",
    "CAREER_PROJECT",
    "TRAINING",
    "SOCIAL_BARRIERS",
    "BUSINESS_CREATION",
    "UNKNOWN",
)
_PERSON_VIEW_CHECK = "person_view_need IS NULL OR person_view_need IN ({})".format(
    ", ".join(f"'{code}'" for code in _PERSON_VIEWS)
)


def _dialect() -> str:
    return op.get_context().dialect.name


def upgrade() -> None:
    if _dialect() == "sqlite":
        # SQLite accepts a CHECK in ADD COLUMN (and checks it against existing rows, all NULL).
        op.execute(f"ALTER TABLE decisions ADD COLUMN person_view_need VARCHAR(32) CHECK ({_PERSON_VIEW_CHECK})")
    else:
        op.add_column("decisions", sa.Column("person_view_need", sa.String(32), nullable=True))
        op.create_check_constraint("ck_decisions_person_view_need", "decisions", _PERSON_VIEW_CHECK)

    op.create_table(
        "contests",
        sa.Column("contest_id", sa.String(36), nullable=False),
        sa.Column("suggestion_id", sa.String(128), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contest_id", name="pk_contests"),
        sa.ForeignKeyConstraint(
            ["suggestion_id"], ["suggestions.suggestion_id"], name="fk_contests_suggestion_id_suggestions"
        ),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.decision_id"], name="fk_contests_decision_id_decisions"),
        sa.CheckConstraint("length(trim(statement)) > 0", name="ck_contests_statement"),
    )
    op.create_index("ix_contests_suggestion_id", "contests", ["suggestion_id"])
    op.create_index("ix_contests_created_at", "contests", ["created_at"])

    op.create_table(
        "contest_outcomes",
        sa.Column("contest_id", sa.String(36), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=False),
        sa.Column("revision_decision_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # One outcome per contest: the primary key is the contest, so a second outcome
        # (two advisors answering at once) is rejected by the database.
        sa.PrimaryKeyConstraint("contest_id", name="pk_contest_outcomes"),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.contest_id"], name="fk_contest_outcomes_contest_id_contests"
        ),
        sa.ForeignKeyConstraint(
            ["revision_decision_id"],
            ["decisions.decision_id"],
            name="fk_contest_outcomes_revision_decision_id_decisions",
        ),
        sa.CheckConstraint("outcome IN ('revised', 'maintained')", name="ck_contest_outcomes_outcome"),
        sa.CheckConstraint(
            "(outcome = 'revised' AND revision_decision_id IS NOT NULL) "
            "OR (outcome = 'maintained' AND revision_decision_id IS NULL)",
            name="ck_contest_outcomes_revision",
        ),
        sa.CheckConstraint("length(trim(reason)) > 0", name="ck_contest_outcomes_reason"),
    )
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_table("contest_outcomes")
    op.drop_index("ix_contests_created_at", table_name="contests")
    op.drop_index("ix_contests_suggestion_id", table_name="contests")
    op.drop_table("contests")
    if _dialect() == "sqlite":
        op.execute("ALTER TABLE decisions DROP COLUMN person_view_need")
    else:
        op.drop_constraint("ck_decisions_person_view_need", "decisions", type_="check")
        op.drop_column("decisions", "person_view_need")


def _create_append_only_triggers() -> None:
    dialect = _dialect()
    if dialect == "sqlite":
        for table in _NEW_TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_append_only_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} is not allowed'); END"
                )
    elif dialect == "postgresql":
        # jalon_append_only() was created by revision 0001.
        for table in _NEW_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION jalon_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION jalon_append_only()"
            )


def _drop_append_only_triggers() -> None:
    dialect = _dialect()
    for table in _NEW_TABLES:
        if dialect == "sqlite":
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{event}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table}")
