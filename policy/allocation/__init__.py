"""Model 2 — capacity-aware allocation to intensive support, the provider, large portfolios.

The rules are in ``_assign`` (see :func:`allocate`) and ``docs/policy.md``.

Private modules: ``_agency_config`` (capacities and priority, from a YAML/JSON file),
``_assign`` (the allocation), ``_proposal`` (one person's track proposal, served in
MODEL_2 agencies), ``_result`` (its outcome, group shares and files).
"""

from policy.allocation._agency_config import (
    AgencyConfig,
    AgencyConfigError,
    ResolvedCapacity,
    load_agency_config,
    parse_agency_config,
)
from policy.allocation._assign import AllocationInputError, allocate
from policy.allocation._proposal import DEFAULT_INTENSIVE_MONTHS, propose_track
from policy.allocation._result import (
    GROUP_COLUMNS,
    TRACK_LABELS_FR,
    TRACKS,
    AllocationResult,
    summary_path,
    write_allocation,
)

__all__ = [
    "DEFAULT_INTENSIVE_MONTHS",
    "GROUP_COLUMNS",
    "TRACKS",
    "TRACK_LABELS_FR",
    "AgencyConfig",
    "AgencyConfigError",
    "AllocationInputError",
    "AllocationResult",
    "ResolvedCapacity",
    "allocate",
    "load_agency_config",
    "parse_agency_config",
    "propose_track",
    "summary_path",
    "write_allocation",
]
