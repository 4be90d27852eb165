"""Proportions with their uncertainty: every rate people act on comes with an interval.

The interval is Wilson's score interval (SciPy's ``binomtest(...).proportion_ci``): unlike
the textbook normal approximation it stays inside [0, 1] and keeps close to its nominal
coverage for small counts and rates near 0 or 1, the usual case of an advisor's override
rate. ``tests/core/test_stats.py`` checks its coverage by simulation against known rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

from core.errors import InvalidInput
from core.thresholds import OVERSIGHT_CONFIDENCE


@dataclass(frozen=True)
class Proportion:
    """``count`` events out of ``total`` trials, the rate and its confidence interval (None when total is 0)."""

    count: int
    total: int
    rate: float | None
    low: float | None
    high: float | None
    confidence: float = OVERSIGHT_CONFIDENCE


def wilson_interval(count: int, total: int, confidence: float = OVERSIGHT_CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval of ``count / total`` at ``confidence``; None when ``total`` is 0."""
    if not (isinstance(count, int) and isinstance(total, int)) or not 0 <= count <= total:
        raise InvalidInput(f"a proportion needs 0 <= count <= total as integers (got {count!r} of {total!r})")
    if not 0 < confidence < 1:
        raise InvalidInput(f"confidence must be between 0 and 1 (got {confidence!r})")
    if total == 0:
        return None
    interval = binomtest(count, total).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def proportion(count: int, total: int, confidence: float = OVERSIGHT_CONFIDENCE) -> Proportion:
    """The rate ``count / total`` with its Wilson interval."""
    interval = wilson_interval(count, total, confidence)
    if interval is None:
        return Proportion(count, total, None, None, None, confidence)
    return Proportion(count, total, count / total, interval[0], interval[1], confidence)
