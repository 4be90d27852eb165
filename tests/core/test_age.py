"""Age bands: one definition, half-open intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.age import AGE_BAND_LABELS, MISSING_BAND, age_band


def test_bands_are_half_open_and_cover_every_age() -> None:
    ages = pd.Series([16, 24, 24.9, 25, 49, 49.5, 50, 70, None], index=list("abcdefghi"))
    assert age_band(ages).tolist() == ["<25", "<25", "<25", "25-49", "25-49", "25-49", "50+", "50+", MISSING_BAND]
    assert list(age_band(ages).index) == list("abcdefghi")


def test_arrays_and_labels() -> None:
    assert age_band(np.array([25.0, np.nan])).tolist() == ["25-49", MISSING_BAND]
    assert AGE_BAND_LABELS == ("<25", "25-49", "50+")
