"""Named thresholds and the shims that keep registered models loading."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from core import thresholds
from core.errors import InvalidInput
from core.thresholds import ReviewPolicy, TierBands, confidence_level


def test_tier_bands_follow_the_named_thresholds() -> None:
    bands = TierBands()
    p = np.array(
        [thresholds.TIER_A_MIN, thresholds.TIER_A_MIN - 1e-9, thresholds.TIER_B_MIN, thresholds.TIER_B_MIN - 1e-9]
    )
    assert bands.tier(p).tolist() == ["A", "B", "B", "C"]
    with pytest.raises(InvalidInput, match="tier bands"):
        TierBands(a=0.3, b=0.6)


def test_review_flags_use_the_named_thresholds() -> None:
    policy = ReviewPolicy()
    need = np.array([[0.45, 0.40, 0.15], [0.80, 0.10, 0.10]])
    p = np.array([thresholds.TIER_A_MIN + thresholds.REVIEW_TIER_BORDERLINE / 2, 0.45])
    flags = policy.flags(need, p, TierBands())
    assert flags["LOW_CONFIDENCE"].tolist() == [True, False]
    assert flags["CLOSE_CALL"].tolist() == [True, False]
    assert flags["TIER_BORDERLINE"].tolist() == [True, False]


def test_confidence_words_bands() -> None:
    assert confidence_level(thresholds.CONFIDENCE_HIGH_MIN) == "high"
    assert confidence_level(thresholds.CONFIDENCE_MEDIUM_MIN) == "medium"
    assert confidence_level(thresholds.CONFIDENCE_MEDIUM_MIN - 0.01) == "low"
    assert confidence_level(None) is None


@pytest.mark.parametrize("obj", [TierBands(a=0.7, b=0.2), ReviewPolicy(min_margin=0.2)])
def test_models_pickled_before_the_move_still_load(obj) -> None:
    """A champion registered by the previous release refers to models.segmentation.TierBands and
    .ReviewPolicy: those paths must still resolve (the shim kept for one release)."""
    old = pickle.dumps(obj, protocol=0).replace(b"core.thresholds\n", b"models.segmentation\n")
    assert b"models.segmentation" in old
    assert pickle.loads(old) == obj
