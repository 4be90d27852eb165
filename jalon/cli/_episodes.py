"""Model 2's memory on the command line: read the recorded episodes, record the new ones.

``jalon allocate`` reads the intensive-support episodes from the decisions database (``--db-url``,
default ``JALON_DB_URL`` or ``$JALON_HOME/decisions.db`` when that file exists) and, with
``--record --by STAFF_ID``, records the episodes it starts, with that subject as their author.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from jalon.cli._common import fail, resolve_database_url


def database_url(db_url: str | None, create: bool = False) -> tuple[str, bool]:
    """(URL, exists): an explicit ``--db-url`` must exist unless episodes are to be recorded in it
    (``create``); the default may be absent (no history)."""
    url, database = resolve_database_url(db_url)
    if database is None:
        return url, True
    exists = Path(database).is_file()
    if db_url is not None and not exists and not create:
        fail(f"no decisions database at {database} (give --record --by STAFF_ID to start one)")
    return url, exists


def open_episodes(db_url: str | None, record: bool) -> tuple[Any, str]:
    """The episode store (None when there is no database and nothing to record) and a line saying so."""
    from records import EpisodeStore, StoreError

    url, exists = database_url(db_url, create=record)
    if not exists and not record:
        return None, f"history: none (no decisions database at {url.removeprefix('sqlite:///')})"
    try:
        return EpisodeStore(url), f"history: episodes read from {url.split('@')[-1]}"
    except StoreError as exc:
        fail(str(exc))


def history(store: Any) -> pd.DataFrame | None:
    return None if store is None else store.history_frame()


def record_new(store: Any, new_episodes: pd.DataFrame, agency_id: str | None, by: str) -> int:
    """Record the episodes the allocation started (all or none); returns how many."""
    items = []
    for row in new_episodes.to_dict("records"):
        agency = row.get("agency_id", agency_id)
        if agency is None or (isinstance(agency, float) and pd.isna(agency)):
            fail("--record: episodes need an agency: give agency_id in the scored file or in the configuration")
        items.append(
            {
                "person_id": str(row["person_id"]),
                "agency_id": str(agency),
                "referent_id": str(row["referent_id"]),
                "start_date": _day(row["start_date"]),
                "planned_end_date": _day(row["planned_end_date"]),
            }
        )
    store.start_episodes(items, by)
    return len(items)


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()
