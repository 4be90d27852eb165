"""Agency staffing and workload norms, declared in a validated file (YAML).

A staffing file says who works in an agency (advisors by role, in FTE: CDDE, CDE with the
share of their time kept for employers, référents de parcours), how many hours they work
and how many of them go to their portfolio, what each modality and model 2 track costs
(contacts per month, minutes per contact, minutes per milestone review) and how many people
an advisor may hold at most (caps). Every default of the packaged example
(``policy/staffing.yaml``) is sourced or labelled an assumption in ``docs/planning.md``.

Private modules: ``_schema`` (the file's structure), ``_loading`` (files and errors),
``_resolve`` (the file applied to the agencies of a scored table, the portfolio rule, the
caps check).
"""

from policy.staffing._loading import PACKAGED_STAFFING, StaffingError, load_staffing, parse_staffing
from policy.staffing._resolve import (
    HELD_BY_SCENARIO,
    SCENARIO_LABELS_FR,
    SCENARIOS,
    AgencyStaff,
    PortfolioSplit,
    check_caps,
    portfolio_split,
    resolve_agencies,
)
from policy.staffing._schema import (
    HELD_KEYS,
    MODEL2_TRACKS,
    NORM_KEYS,
    PORTFOLIO_MODALITIES,
    ROLE_LABELS_FR,
    ROLES,
    Norm,
    Staffing,
)

__all__ = [
    "HELD_BY_SCENARIO",
    "HELD_KEYS",
    "MODEL2_TRACKS",
    "NORM_KEYS",
    "PACKAGED_STAFFING",
    "PORTFOLIO_MODALITIES",
    "ROLES",
    "ROLE_LABELS_FR",
    "SCENARIOS",
    "SCENARIO_LABELS_FR",
    "AgencyStaff",
    "Norm",
    "PortfolioSplit",
    "Staffing",
    "StaffingError",
    "check_caps",
    "load_staffing",
    "parse_staffing",
    "portfolio_split",
    "resolve_agencies",
]
