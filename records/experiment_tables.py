"""The tables of the MSA experiment's records, for querying (revision ``0005``).

They are registered on :data:`records.tables.metadata` beside the decisions tables, so
``tests/records`` compares the whole schema with the migrations. They never create anything.
"""

from __future__ import annotations

import sqlalchemy as sa

from records.tables import UTCDateTime, metadata

__all__ = [
    "agency_registers",
    "baseline_people",
    "draw_arms",
    "draws",
    "experiment_loads",
    "outcomes",
    "register_agencies",
]

agency_registers = sa.Table(
    "agency_registers",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("loaded_at", UTCDateTime(), nullable=False),
    sa.Column("loaded_by", sa.String(128), nullable=False),
    sa.Column("source", sa.String(512), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("columns", sa.JSON(), nullable=False),
    sa.Column("n_agencies", sa.Integer(), nullable=False),
)

register_agencies = sa.Table(
    "register_agencies",
    metadata,
    sa.Column(
        "register_version",
        sa.Integer(),
        sa.ForeignKey("agency_registers.version", name="fk_register_agencies_register_version"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("agency_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("share_long_term_unemployed", sa.Float(), nullable=True),
    sa.Column("share_rsa", sa.Float(), nullable=True),
    sa.Column("baseline_employment_rate", sa.Float(), nullable=True),
    sa.Column("added_by_hand", sa.Boolean(), nullable=False),
    sa.Column("arm_by_hand", sa.String(16), nullable=True),
)

draws = sa.Table(
    "draws",
    metadata,
    sa.Column("sequence", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column(
        "register_version",
        sa.Integer(),
        sa.ForeignKey("agency_registers.version", name="fk_draws_register_version"),
        nullable=False,
    ),
    sa.Column("seed", sa.BigInteger(), nullable=False),
    sa.Column("arms", sa.JSON(), nullable=False),
    sa.Column("strata", sa.JSON(), nullable=False),
    sa.Column("algorithm_version", sa.String(256), nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("output_sha256", sa.String(64), nullable=False),
    sa.Column("command", sa.Text(), nullable=True),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("replaces", sa.Integer(), sa.ForeignKey("draws.sequence", name="fk_draws_replaces"), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.UniqueConstraint("replaces", name="uq_draws_replaces"),
)

draw_arms = sa.Table(
    "draw_arms",
    metadata,
    sa.Column(
        "draw_sequence",
        sa.Integer(),
        sa.ForeignKey("draws.sequence", name="fk_draw_arms_draw_sequence"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("agency_id", sa.String(64), primary_key=True, index=True),
    sa.Column("arm", sa.String(16), nullable=False),
    sa.Column("stratum", sa.String(256), nullable=False),
    sa.Column("added_by_hand", sa.Boolean(), nullable=False),
    sa.Column("served_arm", sa.String(16), nullable=True),
)

experiment_loads = sa.Table(
    "experiment_loads",
    metadata,
    sa.Column("load_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("loaded_at", UTCDateTime(), nullable=False),
    sa.Column("loaded_by", sa.String(128), nullable=False),
    sa.Column("source", sa.String(512), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("n_rows", sa.Integer(), nullable=False),
)

baseline_people = sa.Table(
    "baseline_people",
    metadata,
    sa.Column("person_id", sa.String(64), primary_key=True),
    sa.Column("agency_id", sa.String(64), nullable=False, index=True),
    sa.Column("p_employed", sa.Float(), nullable=False),
    sa.Column("tier", sa.String(16), nullable=True),
    sa.Column("need", sa.String(64), nullable=True),
    sa.Column(
        "load_id",
        sa.String(36),
        sa.ForeignKey("experiment_loads.load_id", name="fk_baseline_people_load_id"),
        nullable=False,
    ),
)

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column(
        "person_id",
        sa.String(64),
        sa.ForeignKey("baseline_people.person_id", name="fk_outcomes_person_id"),
        primary_key=True,
    ),
    sa.Column("agency_id", sa.String(64), nullable=False),
    sa.Column("observed_on", sa.Date(), nullable=False),
    sa.Column("employed_6m", sa.Boolean(), nullable=True),
    sa.Column("days_worked", sa.Integer(), nullable=True),
    sa.Column(
        "load_id", sa.String(36), sa.ForeignKey("experiment_loads.load_id", name="fk_outcomes_load_id"), nullable=False
    ),
)
