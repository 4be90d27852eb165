"""Calendar-month arithmetic for milestones and the end of intensive support.

A duration of *n* months ends on the same day *n* months later, clamped to the last
day of a shorter month (31 August + 6 months = 28 February), as advisors count it.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, the day clamped to the month's end.

    >>> add_months(date(2025, 1, 31), 1)
    datetime.date(2025, 2, 28)
    """
    index = start.year * 12 + (start.month - 1) + int(months)
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last))


def add_months_array(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Vectorised :func:`add_months` on ``datetime64[D]`` values (NaT stays NaT)."""
    month_start = days.astype("datetime64[M]")
    day0 = (days - month_start.astype("datetime64[D]")).astype("int64")
    target = month_start + months.astype("int64").astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype("int64")
    shifted: np.ndarray = target.astype("datetime64[D]") + np.minimum(day0, length - 1).astype("timedelta64[D]")
    return shifted
