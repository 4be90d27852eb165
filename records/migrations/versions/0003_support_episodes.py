"""Intensive-support episodes (model 2's memory) and their ends, append-only.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01

An episode is a person's period of intensive support with a named référent de parcours:
start and planned end are recorded when the allocation gives the place; the actual end
(earlier when the person finds work or leaves the register, or at the planned end) is a
row of its own in ``support_episode_ends`` (at most one per episode: its primary key), so
that both tables stay append-only like the decisions: nothing is updated or deleted.
Existing rows of other tables are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("support_episodes", "support_episode_ends")
END_REASONS = ("PLANNED_END", "EMPLOYMENT", "LEFT_REGISTER", "REORIENTED", "OTHER")


def upgrade() -> None:
    op.create_table(
        "support_episodes",
        sa.Column("episode_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(128), nullable=False),
        sa.Column("agency_id", sa.String(128), nullable=False),
        sa.Column("referent_id", sa.String(128), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("planned_end_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("episode_id", name="pk_support_episodes"),
        sa.CheckConstraint("planned_end_date > start_date", name="ck_support_episodes_dates"),
    )
    op.create_index("ix_support_episodes_person_id", "support_episodes", ["person_id"])
    op.create_index("ix_support_episodes_agency_id", "support_episodes", ["agency_id"])

    op.create_table(
        "support_episode_ends",
        sa.Column("episode_id", sa.String(36), nullable=False),
        sa.Column("actual_end_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("episode_id", name="pk_support_episode_ends"),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["support_episodes.episode_id"], name="fk_support_episode_ends_episode_id_support_episodes"
        ),
        sa.CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in END_REASONS) + ")", name="ck_support_episode_ends_reason"
        ),
    )
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_table("support_episode_ends")
    op.drop_index("ix_support_episodes_agency_id", table_name="support_episodes")
    op.drop_index("ix_support_episodes_person_id", table_name="support_episodes")
    op.drop_table("support_episodes")


def _dialect() -> str:
    return op.get_context().dialect.name


def _create_append_only_triggers() -> None:
    dialect = _dialect()
    if dialect == "sqlite":
        for table in _TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_append_only_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} is not allowed'); END"
                )
    elif dialect == "postgresql":
        # Same function as revision 0001 (replaced with the same body, so this revision stands alone).
        op.execute(
            "CREATE OR REPLACE FUNCTION jalon_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP; END; $$"
        )
        for table in _TABLES:
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
    if dialect == "sqlite":
        for table in _TABLES:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{event}")
    elif dialect == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table}")
