"""Model 2's memory: who had intensive support, who is in it now and with which référent.

The allocation reads a table of intensive-support episodes (the records store keeps them:
person, référent, start, planned end, actual end). As of the allocation date an episode is
*ongoing* if it started on or before that date and ends after it (actual end if recorded,
else planned end); a person is *already served* if any of their episodes started before.
Episodes of people absent from the scored table are ignored: they are no longer registered,
so they hold no place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.errors import InvalidInput

#: Columns the allocation needs from the episodes (``end_date``: actual end, else planned end).
EPISODE_COLUMNS: tuple[str, ...] = ("person_id", "referent_id", "start_date", "end_date")


class EpisodeInputError(InvalidInput):
    """An episodes table that cannot be used (missing column, bad date, overlapping episodes)."""


@dataclass(frozen=True)
class History:
    """Per row of the scored table: ongoing episode (référent, end) and whether already served."""

    ongoing: np.ndarray
    referent: np.ndarray  # object: the ongoing episode's référent id, else None
    end: np.ndarray  # datetime64[D]: the ongoing episode's end, else NaT
    served: np.ndarray
    episodes: int

    @staticmethod
    def empty(n: int) -> History:
        return History(
            np.zeros(n, dtype=bool),
            np.full(n, None, dtype=object),
            np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
            np.zeros(n, dtype=bool),
            0,
        )


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_datetime(frame[column], errors="coerce")
    bad = values.isna()
    if bad.any():
        example = frame.loc[bad, column].iloc[0]
        raise EpisodeInputError(f"episodes.{column}: {int(bad.sum())} value(s) are not dates, e.g. {example!r}")
    days: np.ndarray = values.to_numpy().astype("datetime64[D]")
    return days


def read_history(person_ids: pd.Series, episodes: pd.DataFrame | None, as_of: date) -> History:
    """Who is in intensive support on ``as_of`` and who was served before, for each row of ``person_ids``."""
    n = len(person_ids)
    if episodes is None or not len(episodes):
        return History.empty(n)
    missing = [c for c in EPISODE_COLUMNS if c not in episodes.columns]
    if missing:
        raise EpisodeInputError(f"episodes: missing column(s) {', '.join(missing)}")
    start = _dates(episodes, "start_date")
    end = _dates(episodes, "end_date")
    if (end <= start).any():
        k = int(np.flatnonzero(end <= start)[0])
        raise EpisodeInputError(
            f"episodes: the episode of person {episodes['person_id'].iloc[k]!r} ends ({end[k]}) on or before "
            f"it starts ({start[k]})"
        )
    day = np.datetime64(as_of, "D")
    ids = person_ids.astype(str).to_numpy()
    index = pd.Index(ids)
    row = index.get_indexer(episodes["person_id"].astype(str).to_numpy())
    known = row >= 0
    ongoing_ep = known & (start <= day) & (end > day)
    served_ep = known & (start < day)
    rows = row[ongoing_ep]
    if len(np.unique(rows)) < len(rows):
        twice = ids[int(np.flatnonzero(np.bincount(rows) > 1)[0])]
        raise EpisodeInputError(f"episodes: person {twice!r} has two ongoing episodes on {as_of}")
    history = History.empty(n)
    history.ongoing[rows] = True
    history.referent[rows] = episodes["referent_id"].astype(str).to_numpy()[ongoing_ep]
    history.end[rows] = end[ongoing_ep]
    history.served[row[served_ep]] = True
    return History(history.ongoing, history.referent, history.end, history.served, int(known.sum()))
