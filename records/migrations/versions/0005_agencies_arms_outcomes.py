"""The MSA experiment: agency registers, draws and each agency's arm, the baseline cohort, outcomes.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-15

Existing rows are untouched: this revision only adds tables.

- ``agency_registers`` / ``register_agencies``: each load of the agency register is a new
  version (1, 2, ...) with its agencies; a register is never edited, a corrected one is
  a new version. ``added_by_hand`` marks an agency added outside the draw, and
  ``arm_by_hand`` the model it runs (required exactly for those agencies).
- ``draws`` / ``draw_arms``: each recorded draw (1 = the first; a later one replaces the
  one before it and must give a reason) and the arm it gave every agency of its register.
  An agency's arm is its row in the latest draw; its history, its rows in every draw.
  ``served_arm`` is the model the agency runs: the arm drawn, ``arm_by_hand`` for an
  agency added by hand, nothing for a control.
- ``experiment_loads``: each loaded file of people (the baseline cohort, the outcomes):
  who, when, which file and its sha256.
- ``baseline_people``: the experiment's cohort at the start, with the agency and the
  baseline score (``jalon score`` before the experiment); ``outcomes``: one per person of
  the cohort (a foreign key: an outcome for someone outside the cohort cannot exist).

Race safety: draw sequence numbers and register versions are primary keys, so of two
concurrent first draws the database accepts exactly one. Append-only: as in ``0001``,
triggers reject UPDATE and DELETE (and TRUNCATE on PostgreSQL) on every table here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "agency_registers",
    "register_agencies",
    "draws",
    "draw_arms",
    "experiment_loads",
    "baseline_people",
    "outcomes",
)


def upgrade() -> None:
    op.create_table(
        "agency_registers",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(128), nullable=False),
        sa.Column("source", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("n_agencies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_agency_registers"),
        sa.CheckConstraint("version >= 1", name="ck_agency_registers_version"),
    )
    op.create_table(
        "register_agencies",
        sa.Column("register_version", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("share_long_term_unemployed", sa.Float(), nullable=True),
        sa.Column("share_rsa", sa.Float(), nullable=True),
        sa.Column("baseline_employment_rate", sa.Float(), nullable=True),
        sa.Column("added_by_hand", sa.Boolean(), nullable=False),
        sa.Column("arm_by_hand", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("register_version", "agency_id", name="pk_register_agencies"),
        sa.ForeignKeyConstraint(
            ["register_version"], ["agency_registers.version"], name="fk_register_agencies_register_version"
        ),
        sa.CheckConstraint(
            "(added_by_hand AND arm_by_hand IN ('MODEL_1', 'MODEL_2')) OR (NOT added_by_hand AND arm_by_hand IS NULL)",
            name="ck_register_agencies_arm_by_hand",
        ),
    )
    op.create_table(
        "draws",
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("register_version", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("algorithm_version", sa.String(256), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("output_sha256", sa.String(64), nullable=False),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("replaces", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("sequence", name="pk_draws"),
        sa.ForeignKeyConstraint(["register_version"], ["agency_registers.version"], name="fk_draws_register_version"),
        sa.ForeignKeyConstraint(["replaces"], ["draws.sequence"], name="fk_draws_replaces"),
        sa.UniqueConstraint("replaces", name="uq_draws_replaces"),
        sa.CheckConstraint(
            "(sequence = 1 AND replaces IS NULL AND reason IS NULL) OR "
            "(sequence > 1 AND replaces = sequence - 1 AND reason IS NOT NULL AND length(trim(reason)) > 0)",
            name="ck_draws_replacement",
        ),
    )
    op.create_table(
        "draw_arms",
        sa.Column("draw_sequence", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("stratum", sa.String(256), nullable=False),
        sa.Column("added_by_hand", sa.Boolean(), nullable=False),
        sa.Column("served_arm", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("draw_sequence", "agency_id", name="pk_draw_arms"),
        sa.ForeignKeyConstraint(["draw_sequence"], ["draws.sequence"], name="fk_draw_arms_draw_sequence"),
        sa.CheckConstraint("arm IN ('MODEL_1', 'MODEL_2', 'CONTROL', 'HAND_ADDED')", name="ck_draw_arms_arm"),
        sa.CheckConstraint(
            "(arm = 'CONTROL' AND served_arm IS NULL) OR (arm IN ('MODEL_1', 'MODEL_2') AND served_arm = arm) OR "
            "(arm = 'HAND_ADDED' AND served_arm IN ('MODEL_1', 'MODEL_2'))",
            name="ck_draw_arms_served_arm",
        ),
    )
    op.create_index("ix_draw_arms_agency_id", "draw_arms", ["agency_id"])
    op.create_table(
        "experiment_loads",
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(128), nullable=False),
        sa.Column("source", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("load_id", name="pk_experiment_loads"),
        sa.CheckConstraint("kind IN ('BASELINE', 'OUTCOMES')", name="ck_experiment_loads_kind"),
    )
    op.create_table(
        "baseline_people",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("p_employed", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("need", sa.String(64), nullable=True),
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_baseline_people"),
        sa.ForeignKeyConstraint(["load_id"], ["experiment_loads.load_id"], name="fk_baseline_people_load_id"),
        sa.CheckConstraint("p_employed >= 0 AND p_employed <= 1", name="ck_baseline_people_p_employed"),
    )
    op.create_index("ix_baseline_people_agency_id", "baseline_people", ["agency_id"])
    op.create_table(
        "outcomes",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("employed_6m", sa.Boolean(), nullable=True),
        sa.Column("days_worked", sa.Integer(), nullable=True),
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_outcomes"),
        sa.ForeignKeyConstraint(["person_id"], ["baseline_people.person_id"], name="fk_outcomes_person_id"),
        sa.ForeignKeyConstraint(["load_id"], ["experiment_loads.load_id"], name="fk_outcomes_load_id"),
        sa.CheckConstraint("employed_6m IS NOT NULL OR days_worked IS NOT NULL", name="ck_outcomes_measured"),
        sa.CheckConstraint(
            "days_worked IS NULL OR (days_worked >= 0 AND days_worked <= 184)", name="ck_outcomes_days_worked"
        ),
    )
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_table("outcomes")
    op.drop_index("ix_baseline_people_agency_id", table_name="baseline_people")
    op.drop_table("baseline_people")
    op.drop_table("experiment_loads")
    op.drop_index("ix_draw_arms_agency_id", table_name="draw_arms")
    op.drop_table("draw_arms")
    op.drop_table("draws")
    op.drop_table("register_agencies")
    op.drop_table("agency_registers")


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
        # The trigger function of revision 0001 (jalon_append_only) is shared; re-created here
        # so that this revision stands alone whatever order the revisions are chained in.
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
