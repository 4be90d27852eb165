"""Write features/reference_table.csv: each agency's local unemployment rate and each
occupation domain's tension in that agency, from the synthetic population's territory.

These are the synthetic territory's values (an assumption, labelled so in the file and on
the advisor page): an agency replaces the file with its own (``JALON_REFERENCE``), built
from INSEE's localised unemployment rates (zone d'emploi, latest quarter) and the DARES /
France Travail labour-market tension indicator by occupation. Run from the project root:

    python scripts/make_reference_table.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from features.schema import ROME_DOMAINS
from synthetic._draws import _DOMAIN_TENSION
from synthetic._territory import agency_table

OUT = Path(__file__).resolve().parents[1] / "features" / "reference_table.csv"


def main() -> None:
    agencies = agency_table()
    domains = list(ROME_DOMAINS)
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "# Reference table (ASSUMPTION: the synthetic population's territory, not official figures).\n"
            "# local_unemployment_rate: proportion (0.085 = 8.5 %); tension_<domain>: 0-1 index.\n"
            "# Replace with INSEE localised unemployment rates and the DARES / France Travail tension indicator.\n"
        )
        writer = csv.writer(handle)
        writer.writerow(["agency_id", "local_unemployment_rate", *(f"tension_{d}" for d in domains)])
        for i, agency_id in enumerate(agencies.agency_id):
            tension = np.clip(_DOMAIN_TENSION + agencies.tension_shift[i], 0.0, 1.0)
            writer.writerow([agency_id, f"{agencies.unemployment_rate[i]:.3f}", *(f"{t:.2f}" for t in tension)])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
