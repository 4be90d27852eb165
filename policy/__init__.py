"""Pure model 1 and model 2 rules, independent of the model and of the decisions store.

- :mod:`policy.catalogue`: the versioned catalogue of offers and rules (model 1);
- :mod:`policy.recommendation`: a person's (or a table's) suggested path and milestone;
- :mod:`policy.allocation`: capacity-aware allocation to support tracks (model 2);
- :mod:`policy.dates`: calendar-month arithmetic for milestones and end dates.

Callers import from ``policy`` itself; the modules behind it may move.
"""

from policy.allocation import (
    GROUP_COLUMNS,
    TRACK_LABELS_FR,
    TRACKS,
    AgencyConfig,
    AgencyConfigError,
    AllocationInputError,
    AllocationResult,
    allocate,
    load_agency_config,
    parse_agency_config,
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

__all__ = [
    "GROUP_COLUMNS",
    "MODALITIES",
    "OVERRIDE_REASONS",
    "OVERRIDE_REASON_CODES",
    "PACKAGED_CATALOGUE",
    "PARCOURS",
    "TRACKS",
    "TRACK_LABELS_FR",
    "AgencyConfig",
    "AgencyConfigError",
    "AllocationInputError",
    "AllocationResult",
    "Catalogue",
    "CatalogueError",
    "Recommendation",
    "add_months",
    "add_months_array",
    "allocate",
    "load_agency_config",
    "load_catalogue",
    "parse_agency_config",
    "reason_label_fr",
    "recommend",
    "recommend_frame",
    "summary_path",
    "write_allocation",
]
