"""Model 2 — capacity-aware allocation to intensive support, the provider, large portfolios.

The rules are in ``_assign`` (see :func:`allocate`) and ``docs/policy.md``.

Private modules: ``_agency_config`` (capacities and priority, from a YAML/JSON file),
``_assign`` (the allocation), ``_history`` (model 2's memory: past and ongoing intensive
episodes), ``_proposal`` (one person's track proposal, served in MODEL_2 agencies),
``_ranking`` (the vectorised priority and référent rules, shared with the plan), ``_result``
(its outcome, group shares and files).
"""

from policy.allocation._agency_config import (
    AgencyConfig,
    AgencyConfigError,
    ResolvedCapacity,
    load_agency_config,
    parse_agency_config,
)
from policy.allocation._assign import AllocationInputError, allocate
from policy.allocation._history import EPISODE_COLUMNS, EpisodeInputError
from policy.allocation._proposal import DEFAULT_INTENSIVE_MONTHS, propose_track
from policy.allocation._ranking import (
    ALREADY_SERVED_RULES,
    TIER_RANK,
    priority_positions,
    rank_within,
    referent_slots,
    take_slots,
)
from policy.allocation._result import (
    GROUP_COLUMNS,
    TRACK_LABELS_FR,
    TRACKS,
    AllocationResult,
    left_out_path,
    summary_path,
    write_allocation,
)

__all__ = [
    "ALREADY_SERVED_RULES",
    "DEFAULT_INTENSIVE_MONTHS",
    "EPISODE_COLUMNS",
    "GROUP_COLUMNS",
    "TIER_RANK",
    "TRACKS",
    "TRACK_LABELS_FR",
    "AgencyConfig",
    "AgencyConfigError",
    "AllocationInputError",
    "AllocationResult",
    "EpisodeInputError",
    "ResolvedCapacity",
    "allocate",
    "left_out_path",
    "load_agency_config",
    "parse_agency_config",
    "priority_positions",
    "propose_track",
    "rank_within",
    "referent_slots",
    "summary_path",
    "take_slots",
    "write_allocation",
]
