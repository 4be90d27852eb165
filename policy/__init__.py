"""Pure model 1 and model 2 rules, independent of the model and of the decisions store.

- :mod:`policy.catalogue`: the versioned catalogue of offers and rules (model 1);
- :mod:`policy.recommendation`: a person's (or a table's) suggested path and milestone;
- :mod:`policy.allocation`: capacity-aware allocation to support tracks (model 2), with the
  memory of past intensive-support episodes and named référents;
- :mod:`policy.staffing`: an agency's staff, working time, workload norms and portfolio caps;
- :mod:`policy.dates`: calendar-month arithmetic for milestones and end dates.

Callers import from ``policy`` itself; the modules behind it may move.
"""

from policy.allocation import (
    ALREADY_SERVED_RULES,
    EPISODE_COLUMNS,
    GROUP_COLUMNS,
    TRACK_LABELS_FR,
    TRACKS,
    AgencyConfig,
    AgencyConfigError,
    AllocationInputError,
    AllocationResult,
    EpisodeInputError,
    allocate,
    left_out_path,
    load_agency_config,
    parse_agency_config,
    propose_track,
    summary_path,
    write_allocation,
)
from policy.catalogue import (
    MODALITIES,
    PACKAGED_CATALOGUE,
    PARCOURS,
    Catalogue,
    CatalogueError,
    load_catalogue,
)
from policy.dates import add_months, add_months_array
from policy.override_reasons import OVERRIDE_REASON_CODES, OVERRIDE_REASONS, reason_label_fr
from policy.recommendation import Recommendation, recommend, recommend_frame
from policy.staffing import PACKAGED_STAFFING, SCENARIOS, Staffing, StaffingError, load_staffing

__all__ = [
    "ALREADY_SERVED_RULES",
    "EPISODE_COLUMNS",
    "GROUP_COLUMNS",
    "MODALITIES",
    "OVERRIDE_REASONS",
    "OVERRIDE_REASON_CODES",
    "PACKAGED_CATALOGUE",
    "PACKAGED_STAFFING",
    "PARCOURS",
    "SCENARIOS",
    "TRACKS",
    "TRACK_LABELS_FR",
    "AgencyConfig",
    "AgencyConfigError",
    "AllocationInputError",
    "AllocationResult",
    "Catalogue",
    "CatalogueError",
    "EpisodeInputError",
    "Recommendation",
    "Staffing",
    "StaffingError",
    "add_months",
    "add_months_array",
    "allocate",
    "left_out_path",
    "load_agency_config",
    "load_catalogue",
    "load_staffing",
    "parse_agency_config",
    "propose_track",
    "reason_label_fr",
    "recommend",
    "recommend_frame",
    "summary_path",
    "write_allocation",
]
