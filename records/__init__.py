"""Records layer: the decisions store, its migrations and every table of the records.

Modules: :mod:`records.store` (the store), :mod:`records.entities` (what it returns and
raises), :mod:`records.tables` (table definitions), :mod:`records.engine` (engines, the
writers' lock, migrations at start), :mod:`records.validation` (value checks);
:mod:`records.experiment` (the MSA experiment: agency registers, draws and arms; the baseline
cohort and outcomes in :mod:`records.experiment_people`; its tables in
:mod:`records.experiment_tables`, its file checks in :mod:`records.experiment_inputs`). Callers import from here.
"""

from records.engine import MIGRATIONS_DIR, lock_for_migration, make_engine, upgrade_database
from records.entities import (
    DecisionConflict,
    DecisionRecord,
    StoreError,
    SuggestionNotFound,
    SuggestionRecord,
    suggestion_from_row,
)
from records.experiment import (
    AgencyArm,
    ArmLookup,
    ExperimentRecords,
    LoadSummary,
    RecordedDraw,
    RegisterVersion,
)
from records.store import ACTIONS, UNKNOWN_NEED, DecisionStore
from records.validation import row_from_suggestion

__all__ = [
    "ACTIONS",
    "MIGRATIONS_DIR",
    "UNKNOWN_NEED",
    "AgencyArm",
    "ArmLookup",
    "DecisionConflict",
    "DecisionRecord",
    "DecisionStore",
    "ExperimentRecords",
    "LoadSummary",
    "RecordedDraw",
    "RegisterVersion",
    "StoreError",
    "SuggestionNotFound",
    "SuggestionRecord",
    "lock_for_migration",
    "make_engine",
    "row_from_suggestion",
    "suggestion_from_row",
    "upgrade_database",
]
