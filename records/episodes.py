"""Intensive-support episodes: model 2's memory of who had a référent de parcours, and until when.

An episode (person, agency, référent, start, planned end) is recorded when the allocation
gives a place (``jalon allocate --record``); its actual end (earlier when the person finds
work or leaves the register, or at the planned end) is recorded later, as a row of its own:
both tables are append-only, like the decisions (revision ``0003``). The author of each row
is the subject who recorded it (``recorded_by``).

A person has at most one episode at a time: a new episode overlapping one of theirs is
refused (:class:`EpisodeConflict`). The check runs inside the write transaction, which
holds the writers' lock (SQLite) or a PostgreSQL advisory lock, so two processes cannot both
pass it. Nothing personal is logged.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.config import get_settings
from core.errors import Conflict, InvalidInput, NotFound
from records.engine import open_database
from records.entities import StoreError
from records.tables import UTCDateTime, metadata
from records.validation import now_utc, require_id

__all__ = [
    "END_REASONS",
    "EpisodeConflict",
    "EpisodeError",
    "EpisodeNotFound",
    "EpisodeRecord",
    "EpisodeStore",
    "support_episode_ends",
    "support_episodes",
]

#: Why an episode ended: at its planned end, work found, left the register, path changed, other.
END_REASONS: tuple[str, ...] = ("PLANNED_END", "EMPLOYMENT", "LEFT_REGISTER", "REORIENTED", "OTHER")
_PG_EPISODE_LOCK = 0x4A41_4C45_50  # "JALEP": serialises episode writers on PostgreSQL

support_episodes = sa.Table(
    "support_episodes",
    metadata,
    sa.Column("episode_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(128), nullable=False, index=True),
    sa.Column("agency_id", sa.String(128), nullable=False, index=True),
    sa.Column("referent_id", sa.String(128), nullable=False),
    sa.Column("start_date", sa.Date(), nullable=False),
    sa.Column("planned_end_date", sa.Date(), nullable=False),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("planned_end_date > start_date", name="ck_support_episodes_dates"),
)

support_episode_ends = sa.Table(
    "support_episode_ends",
    metadata,
    sa.Column("episode_id", sa.String(36), sa.ForeignKey("support_episodes.episode_id"), primary_key=True),
    sa.Column("actual_end_date", sa.Date(), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)


class EpisodeError(InvalidInput):
    """An episode that breaks a rule (bad date, unknown end reason); the message names the field."""


class EpisodeConflict(Conflict):
    """The episode overlaps one of the person's, or was already ended."""


class EpisodeNotFound(NotFound, LookupError):
    """No episode with this id."""


@dataclass(frozen=True)
class EpisodeRecord:
    episode_id: str
    person_id: str
    agency_id: str
    referent_id: str
    start_date: dt.date
    planned_end_date: dt.date
    recorded_by: str
    created_at: dt.datetime
    actual_end_date: dt.date | None = None
    end_reason: str | None = None
    ended_by: str | None = None

    @property
    def end_date(self) -> dt.date:
        """When the place is (or will be) free: the actual end if recorded, else the planned end."""
        return self.actual_end_date or self.planned_end_date

    def ongoing_on(self, day: dt.date) -> bool:
        return self.start_date <= day < self.end_date


def _day(value: Any, name: str) -> dt.date:
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise EpisodeError(f"{name} must be a date (not a datetime), got {type(value).__name__}")
    return value


def _id(value: Any, name: str) -> str:
    try:
        return str(require_id(value, name))
    except ValueError as exc:
        raise EpisodeError(str(exc)) from None


class EpisodeStore:
    """Intensive-support episodes in the decisions database (SQLite file or PostgreSQL)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or get_settings().db_url
        self._engine, self._write_engine, self._write_lock = open_database(self.url)

    def dispose(self) -> None:
        self._write_lock.close()
        self._engine.dispose()

    def __enter__(self) -> EpisodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise StoreError(f"decisions database error ({type(exc.orig).__name__})") from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._write_lock, self._write_engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_EPISODE_LOCK})
                yield conn
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreError(f"decisions database error ({type(exc.orig).__name__})") from exc

    # -- writing

    def start_episodes(self, items: Sequence[Mapping[str, Any]], recorded_by: str) -> list[EpisodeRecord]:
        """Record new episodes, all or none. Each item: person_id, agency_id, referent_id, start_date,
        planned_end_date. Refused if one overlaps another of the person's (recorded or in the batch)."""
        author = _id(recorded_by, "recorded_by")
        rows: list[dict[str, Any]] = []
        now = now_utc()
        for index, item in enumerate(items):
            where = f"episodes[{index}]"
            try:
                row: dict[str, Any] = {
                    "episode_id": str(uuid.uuid4()),
                    "person_id": _id(item.get("person_id"), f"{where}.person_id"),
                    "agency_id": _id(item.get("agency_id"), f"{where}.agency_id"),
                    "referent_id": _id(item.get("referent_id"), f"{where}.referent_id"),
                    "start_date": _day(item.get("start_date"), f"{where}.start_date"),
                    "planned_end_date": _day(item.get("planned_end_date"), f"{where}.planned_end_date"),
                    "recorded_by": author,
                    "created_at": now,
                }
            except AttributeError:
                raise EpisodeError(f"{where} must be a mapping") from None
            if row["planned_end_date"] <= row["start_date"]:
                raise EpisodeError(f"{where}.planned_end_date must be after start_date")
            rows.append(row)
        if not rows:
            return []
        by_person: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_person.setdefault(row["person_id"], []).append(row)
        with self._write() as conn:
            existing = self._load(conn, person_ids=sorted(by_person))
            for person, new in by_person.items():
                spans = [(e.start_date, e.end_date) for e in existing if e.person_id == person]
                for row in sorted(new, key=lambda r: r["start_date"]):
                    for start, end in spans:
                        if row["start_date"] < end and start < row["planned_end_date"]:
                            raise EpisodeConflict(
                                f"person {person!r} already has an episode from {start} to {end}, which overlaps "
                                f"the new one from {row['start_date']}; nothing was recorded"
                            )
                    spans.append((row["start_date"], row["planned_end_date"]))
            conn.execute(sa.insert(support_episodes), rows)
        return [EpisodeRecord(**row) for row in rows]

    def end_episode(self, episode_id: str, actual_end_date: dt.date, reason: str, recorded_by: str) -> EpisodeRecord:
        """Record when and why an episode ended (once); the place is free from that date."""
        author = _id(recorded_by, "recorded_by")
        day = _day(actual_end_date, "actual_end_date")
        if reason not in END_REASONS:
            raise EpisodeError(f"reason must be one of {', '.join(END_REASONS)} (got {reason!r})")
        with self._write() as conn:
            found = self._load(conn, episode_ids=[episode_id])
            if not found:
                raise EpisodeNotFound(f"episode_id {episode_id!r}: no such episode")
            episode = found[0]
            if episode.actual_end_date is not None:
                raise EpisodeConflict(f"episode {episode_id!r} already ended on {episode.actual_end_date}")
            if day <= episode.start_date:
                raise EpisodeError(f"actual_end_date must be after the episode's start ({episode.start_date})")
            row = {"episode_id": episode_id, "actual_end_date": day, "reason": reason, "recorded_by": author}
            conn.execute(sa.insert(support_episode_ends), {**row, "created_at": now_utc()})
        return EpisodeRecord(
            **{k: getattr(episode, k) for k in ("episode_id", "person_id", "agency_id", "referent_id")},
            start_date=episode.start_date,
            planned_end_date=episode.planned_end_date,
            recorded_by=episode.recorded_by,
            created_at=episode.created_at,
            actual_end_date=day,
            end_reason=reason,
            ended_by=author,
        )

    # -- reading

    def episodes(self, agency_id: str | None = None, person_ids: Sequence[str] | None = None) -> list[EpisodeRecord]:
        """Episodes (with their end when recorded), ordered by agency, person and start."""
        with self._read() as conn:
            return self._load(conn, agency_id=agency_id, person_ids=person_ids)

    def history_frame(self, agency_id: str | None = None) -> pd.DataFrame:
        """The episodes as the allocation reads them (``policy.allocation.EPISODE_COLUMNS`` and more)."""
        found = self.episodes(agency_id=agency_id)
        return pd.DataFrame(
            {
                "person_id": [e.person_id for e in found],
                "agency_id": [e.agency_id for e in found],
                "referent_id": [e.referent_id for e in found],
                "start_date": pd.to_datetime([e.start_date for e in found]),
                "end_date": pd.to_datetime([e.end_date for e in found]),
                "planned_end_date": pd.to_datetime([e.planned_end_date for e in found]),
                "actual_end_date": pd.to_datetime([e.actual_end_date for e in found]),
            }
        )

    @staticmethod
    def _load(
        conn: Connection,
        *,
        agency_id: str | None = None,
        person_ids: Sequence[str] | None = None,
        episode_ids: Sequence[str] | None = None,
    ) -> list[EpisodeRecord]:
        e, x = support_episodes, support_episode_ends
        query = sa.select(
            e, x.c.actual_end_date, x.c.reason.label("end_reason"), x.c.recorded_by.label("ended_by")
        ).select_from(e.outerjoin(x, x.c.episode_id == e.c.episode_id))
        if agency_id is not None:
            query = query.where(e.c.agency_id == agency_id)
        out: list[EpisodeRecord] = []
        chunks: list[Sequence[str] | None] = [None]
        column = None
        if person_ids is not None or episode_ids is not None:
            column = e.c.person_id if person_ids is not None else e.c.episode_id
            values = list(person_ids if person_ids is not None else episode_ids or [])
            chunks = [values[k : k + 500] for k in range(0, len(values), 500)]
        for chunk in chunks:
            q = query if chunk is None or column is None else query.where(column.in_(chunk))
            for r in conn.execute(q):
                out.append(EpisodeRecord(**dict(r._mapping)))
        out.sort(key=lambda ep: (ep.agency_id, ep.person_id, ep.start_date, ep.episode_id))
        return out
