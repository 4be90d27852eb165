"""Age bands: one definition for the fairness audit, the allocation's group shares and reports.

Bands are half-open intervals in whole years, ``[low, high)``: a person aged 25 is in
"25-49", aged 50 in "50+". These are the bands of the published statistics on
registered job seekers (INSEE, DARES: under 25, 25 to 49, 50 and over), so figures from
Jalon can be compared with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING_BAND = "MISSING"


@dataclass(frozen=True)
class AgeBand:
    label: str
    low: float
    high: float  # exclusive; ``inf`` for the last band

    def contains(self, age: float) -> bool:
        return self.low <= age < self.high


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("<25", 0, 25),
    AgeBand("25-49", 25, 50),
    AgeBand("50+", 50, float("inf")),
)
AGE_BAND_LABELS: tuple[str, ...] = tuple(band.label for band in AGE_BANDS)


#: Units an age may be recorded in, and how many of them make a year.
AGE_UNITS: dict[str, float] = {"years": 1.0, "months": 12.0}


def age_band(age: pd.Series | np.ndarray | list[float], unit: str = "years") -> pd.Series:
    """The band label of each age recorded in ``unit`` (years or months); ``MISSING`` where missing."""
    if unit not in AGE_UNITS:
        raise ValueError(f"an age unit must be one of {', '.join(AGE_UNITS)}; got {unit!r}")
    values = pd.to_numeric(pd.Series(age), errors="coerce").to_numpy(dtype=float) / AGE_UNITS[unit]
    conditions = [(values >= band.low) & (values < band.high) for band in AGE_BANDS]
    labels = np.select(conditions, list(AGE_BAND_LABELS), default=MISSING_BAND)
    index = age.index if isinstance(age, pd.Series) else None
    return pd.Series(labels, index=index, dtype=object)
