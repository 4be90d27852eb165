"""Who really acted, coded override reasons, audit indexes and the store's write probe.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Columns added to ``decisions`` (all nullable, so every existing row is kept as it is; no
past row is updated):

* ``actor``: the authenticated subject who recorded the decision. NULL only for decisions
  recorded before this revision, whose true author was not kept.
* ``on_behalf_of``: the advisor an admin acted for (NULL when the advisor acted themself);
  ``on_behalf_reason``: the admin's reason for acting for them (mandatory then).
* ``reason_code``: the coded reason of an override (``policy.override_reasons``); NULL for
  confirmations and for overrides recorded before this revision.

The rules on these columns for new rows (an actor on every decision, a reason code on every
override, a reason whenever an admin acts for an advisor) are enforced by the store: a CHECK
constraint added to existing tables would need SQLite to rebuild the append-only table.

Indexes for the auditors' listings and figures: decisions by actor, suggestions by agency
and date. ``store_health`` holds one row that the service's readiness probe rewrites, so that
readiness proves the database accepts a committed write (a read-only or full database fails it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("actor", sa.String(128), nullable=True))
    op.add_column("decisions", sa.Column("on_behalf_of", sa.String(128), nullable=True))
    op.add_column("decisions", sa.Column("on_behalf_reason", sa.Text(), nullable=True))
    op.add_column("decisions", sa.Column("reason_code", sa.String(32), nullable=True))
    op.create_index("ix_decisions_actor", "decisions", ["actor"])
    op.create_index("ix_suggestions_agency_id_created_at", "suggestions", ["agency_id", "created_at"])
    op.create_table(
        "store_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_store_health"),
    )
    op.execute("INSERT INTO store_health (id, checked_at) VALUES (1, CURRENT_TIMESTAMP)")


def downgrade() -> None:
    op.drop_table("store_health")
    op.drop_index("ix_suggestions_agency_id_created_at", table_name="suggestions")
    op.drop_index("ix_decisions_actor", table_name="decisions")
    for column in ("reason_code", "on_behalf_reason", "on_behalf_of", "actor"):
        op.drop_column("decisions", column)
