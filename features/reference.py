"""The reference table: local unemployment rate by agency, occupation tension by agency and domain.

Advisors do not type these two model inputs: the advisor page fills them from the person's
agency and target occupation domain (ROME). The packaged table
(``features/reference_table.csv``) holds the synthetic population's territory — an
**assumption**, labelled as such on the page — so that a demonstration runs on the values
the model was trained on. An agency replaces it with its own file (``JALON_REFERENCE``, same
columns), built from INSEE's localised unemployment rates (zone d'emploi, latest quarter)
and the DARES / France Travail labour-market tension indicator by occupation.

Format: CSV with ``#`` comment lines first; columns ``agency_id``,
``local_unemployment_rate`` (a proportion, 0.085 = 8.5 %) and ``tension_<domain>`` for each
ROME domain (a 0-1 index). Values outside the profile's ranges are refused at load.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from core.config import get_settings
from core.errors import ConfigError
from features.schema import FIELDS_BY_NAME, ROME_DOMAINS

__all__ = ["PACKAGED_REFERENCE", "Reference", "ReferenceError", "load_reference"]

PACKAGED_REFERENCE = Path(__file__).resolve().parent / "reference_table.csv"
#: Said on the advisor page next to the filled values when the packaged table is used.
ASSUMPTION_FR = (
    "Valeurs de démonstration (hypothèse : territoire de la population synthétique), "
    "à remplacer par les taux de chômage localisés de l'INSEE et l'indicateur de tension de la DARES."
)


class ReferenceError(ConfigError):
    """A reference table that cannot be used."""


@dataclass(frozen=True)
class Reference:
    """Rates and tensions by agency; ``source_fr`` says where they come from."""

    unemployment: dict[str, float]
    tension: dict[str, dict[str, float]]
    source_fr: str
    is_assumption: bool

    def lookup(self, agency_id: str, domain: str | None) -> dict[str, float | None]:
        """The two inputs for a person (None where the table has no value)."""
        return {
            "local_unemployment_rate": self.unemployment.get(agency_id),
            "occupation_tension": self.tension.get(agency_id, {}).get(domain or ""),
        }

    def to_json(self) -> dict[str, object]:
        """What the advisor page embeds (no personal data: agencies and domains only)."""
        return {
            "unemployment": self.unemployment,
            "tension": self.tension,
            "source_fr": self.source_fr,
            "is_assumption": self.is_assumption,
        }


def _in_range(name: str, value: float, where: str) -> float:
    f = FIELDS_BY_NAME[name]
    if f.minimum is not None and f.maximum is not None and not f.minimum <= value <= f.maximum:
        raise ReferenceError(f"{where}: {name} {value} is outside {f.minimum}-{f.maximum}")
    return value


def load_reference(path: str | Path | None = None) -> Reference:
    """The agency's table (``path``, else ``$JALON_REFERENCE``), else the packaged one."""
    given = path if path is not None else get_settings().reference_file
    source = Path(given) if given is not None else PACKAGED_REFERENCE
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceError(f"{source}: cannot read the reference table ({exc.strerror})") from exc
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    if not rows or "agency_id" not in rows[0] or "local_unemployment_rate" not in rows[0]:
        raise ReferenceError(f"{source}: needs columns agency_id, local_unemployment_rate, tension_<domain>")
    unemployment: dict[str, float] = {}
    tension: dict[str, dict[str, float]] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{source} row {number}"
        agency = (row.get("agency_id") or "").strip()
        if not agency:
            raise ReferenceError(f"{where}: agency_id is empty")
        try:
            unemployment[agency] = _in_range("local_unemployment_rate", float(row["local_unemployment_rate"]), where)
            tension[agency] = {
                d: _in_range("occupation_tension", float(row[f"tension_{d}"]), where)
                for d in ROME_DOMAINS
                if row.get(f"tension_{d}") not in (None, "")
            }
        except ValueError as exc:
            raise ReferenceError(f"{where}: not a number ({exc})") from None
    packaged = source == PACKAGED_REFERENCE
    return Reference(
        unemployment,
        tension,
        ASSUMPTION_FR if packaged else f"Référentiel de l'agence ({source.name}).",
        packaged,
    )
