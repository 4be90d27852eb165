"""The model 1 catalogue: service offers and the ordered rules that suggest a path.

A versioned YAML catalogue (``policy/catalogue.yaml``, or an agency's file named by the
settings' ``catalogue_file`` — ``JALON_CATALOGUE`` — or passed to :func:`load_catalogue`)
lists the service offers and ordered rules mapping (need, tier, barriers) to a parcours
(EMPLOI / SOCIO_PRO / SOCIAL), a modality (SUIVI / GUIDE / RENFORCE / GLOBAL), a
priority objective in French, offers and a duration ending at the milestone. An agency
file may also extend the packaged one (``extends: default``).

The catalogue is validated on load (:class:`CatalogueError` names the file, the entry
and the rule broken), including the guarantee that every need × tier combination has a
rule without barrier conditions. See ``docs/policy.md``.

Private modules: ``_entries`` (the compiled data classes), ``_schema`` (the file's
structure, pydantic), ``_merge`` (agency extensions), ``_build`` (cross-entry checks and
compilation), ``_loading`` (files and cache), ``_problems`` (error messages).
"""

from policy.catalogue._entries import (
    BARRIER_FIELDS,
    MODALITIES,
    PARCOURS,
    Catalogue,
    Complement,
    Condition,
    Offer,
    Rule,
    Selector,
)
from policy.catalogue._loading import PACKAGED_CATALOGUE, load_catalogue
from policy.catalogue._problems import CatalogueError
from policy.catalogue._schema import check_code

__all__ = [
    "BARRIER_FIELDS",
    "MODALITIES",
    "PACKAGED_CATALOGUE",
    "PARCOURS",
    "Catalogue",
    "CatalogueError",
    "Complement",
    "Condition",
    "Offer",
    "Rule",
    "Selector",
    "check_code",
    "load_catalogue",
]
