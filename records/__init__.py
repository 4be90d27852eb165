"""Records layer: the decisions store, its migrations and every table of the records.

Modules: :mod:`records.store` (the store), :mod:`records.entities` (what it returns and
raises), :mod:`records.tables` (table definitions), :mod:`records.episodes` (model 2's
intensive-support episodes: their tables and store), :mod:`records.engine` (engines, the
writers' lock, migrations at start), :mod:`records.validation` (value checks);
:mod:`records.experiment` (the MSA experiment: agency registers, draws and arms; the baseline
cohort and outcomes in :mod:`records.experiment_people`; its tables in
:mod:`records.experiment_tables`, its file checks in :mod:`records.experiment_inputs`);
:mod:`records.faults` (what a database error means), :mod:`records.audit` (the auditors'
listing and exports) and :mod:`records.oversight` (the oversight figures). Callers import
from here.
"""

from records.audit import ACTION_FILTERS, MAX_PAGE, AuditFilter, AuditPage, AuditRow, iter_rows, list_page
from records.engine import MIGRATIONS_DIR, lock_for_migration, make_engine, upgrade_database
from records.entities import (
    DecisionConflict,
    DecisionRecord,
    StoreError,
    SuggestionNotFound,
    SuggestionRecord,
    suggestion_from_row,
)
from records.episodes import (
    END_REASONS,
    EpisodeConflict,
    EpisodeError,
    EpisodeNotFound,
    EpisodeRecord,
    EpisodeStore,
)
from records.experiment import (
    AgencyArm,
    ArmLookup,
    ExperimentRecords,
    LoadSummary,
    RecordedDraw,
    RegisterVersion,
)
from records.oversight import OversightFigures, oversight_figures
from records.store import ACTIONS, UNKNOWN_NEED, DecisionStore
from records.validation import row_from_suggestion

__all__ = [
    "ACTIONS",
    "ACTION_FILTERS",
    "END_REASONS",
    "MAX_PAGE",
    "MIGRATIONS_DIR",
    "UNKNOWN_NEED",
    "AgencyArm",
    "ArmLookup",
    "AuditFilter",
    "AuditPage",
    "AuditRow",
    "DecisionConflict",
    "DecisionRecord",
    "DecisionStore",
    "EpisodeConflict",
    "EpisodeError",
    "EpisodeNotFound",
    "EpisodeRecord",
    "EpisodeStore",
    "ExperimentRecords",
    "LoadSummary",
    "OversightFigures",
    "RecordedDraw",
    "RegisterVersion",
    "StoreError",
    "SuggestionNotFound",
    "SuggestionRecord",
    "iter_rows",
    "list_page",
    "lock_for_migration",
    "make_engine",
    "oversight_figures",
    "row_from_suggestion",
    "suggestion_from_row",
    "upgrade_database",
]
