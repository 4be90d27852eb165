"""The decisions store: every model suggestion and every advisor decision, for audit.

A suggestion (what the model proposed, with its explanation) is recorded when it is shown
to an advisor; the advisor then confirms or overrides it, and may later revise that
decision. Nothing is ever updated or deleted: a revision is a new row pointing to the
decision it supersedes (EU AI Act Art. 12 record keeping).

Privacy: the store receives a hash of the profile (``input_hash``), never the profile
itself, and this module logs nothing.

Schema: created and upgraded only by the Alembic revisions in ``records/migrations``, run
programmatically when a :class:`DecisionStore` opens (idempotent). The table objects below
mirror those revisions for querying; they never create anything.

Concurrency and durability on SQLite: write-ahead log (WAL) with
``synchronous=FULL``, so a committed write is on disk before ``commit`` returns; a busy
timeout of 10 s for concurrent writers; foreign keys on. Write transactions start with
``BEGIN IMMEDIATE`` (take the write lock first, so a transaction never has to upgrade a
read lock, the case where SQLite fails with "database is locked" without waiting); read
transactions start with a plain ``BEGIN``.

Race safety of decisions (any backend): see :meth:`DecisionStore.record_decision` and the
revision ``0001`` - a UNIQUE ``(suggestion_id, sequence)`` constraint decides, not a
check-then-insert in Python.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from features.schema import NEED_CODES, TIER_CODES
from core.errors import Conflict, NotFound, Unavailable
from core.config import get_settings

__all__ = [
    "ACTIONS",
    "DecisionConflict",
    "DecisionRecord",
    "DecisionStore",
    "MIGRATIONS_DIR",
    "StoreError",
    "SuggestionNotFound",
    "SuggestionRecord",
    "lock_for_migration",
    "make_engine",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ACTIONS: tuple[str, ...] = ("confirm", "override")
BUSY_TIMEOUT_S = 10.0
#: Keys of the model's suggested need in a suggestion's ``output`` (first one found), for override_rates.
SUGGESTED_NEED_KEYS: tuple[str, ...] = ("primary_need", "need")
UNKNOWN_NEED = "UNKNOWN"

_MAX_ID = 128
_REVISION_ATTEMPTS = 5
_IN_CHUNK = 500
_WRITE = "jalon_write"
# Any constant: the PostgreSQL advisory lock that serialises concurrent migrations.
_PG_MIGRATION_LOCK = 0x4A41_4C4F4E  # "JALON"


# --------------------------------------------------------------------------- errors


class SuggestionNotFound(NotFound):
    """No suggestion with this id was recorded."""


class DecisionConflict(Conflict):
    """The suggestion already has a decision and ``revision=True`` was not given."""


class StoreError(Unavailable):
    """Another integrity or database problem (duplicate id, database unavailable...)."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class DecisionRecord:
    decision_id: str
    suggestion_id: str
    advisor_id: str
    action: str
    final_need: str
    final_tier: str
    reason: str | None
    revision_of: str | None
    recommendation: dict | None
    milestone_date: dt.date | None
    created_at: dt.datetime


@dataclass(frozen=True)
class SuggestionRecord:
    suggestion_id: str
    created_at: dt.datetime
    model_version: str
    agency_id: str | None
    person_id: str
    advisor_id: str
    input_hash: str
    output: dict
    explanation: dict
    decisions: list[DecisionRecord]  # oldest first

    @property
    def latest_decision(self) -> DecisionRecord | None:
        return self.decisions[-1] if self.decisions else None


# --------------------------------------------------------------------------- tables


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = _aware_utc(value, "created_at")
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


metadata = sa.MetaData()

suggestions = sa.Table(
    "suggestions",
    metadata,
    sa.Column("suggestion_id", sa.String(128), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("model_version", sa.String(128), nullable=False),
    sa.Column("agency_id", sa.String(128), nullable=True),
    sa.Column("person_id", sa.String(128), nullable=False, index=True),
    sa.Column("advisor_id", sa.String(128), nullable=False, index=True),
    sa.Column("input_hash", sa.String(128), nullable=False),
    sa.Column("output", sa.JSON(), nullable=False),
    sa.Column("explanation", sa.JSON(), nullable=False),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("decision_id", sa.String(36), primary_key=True),
    sa.Column("suggestion_id", sa.String(128), sa.ForeignKey("suggestions.suggestion_id"), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("advisor_id", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("final_need", sa.String(64), nullable=False),
    sa.Column("final_tier", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("revision_of", sa.String(36), sa.ForeignKey("decisions.decision_id"), nullable=True, unique=True),
    sa.Column("recommendation", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("milestone_date", sa.Date(), nullable=True, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("suggestion_id", "sequence", name="uq_decisions_suggestion_id_sequence"),
    sa.Index("ix_decisions_advisor_id_created_at", "advisor_id", "created_at"),
)


# --------------------------------------------------------------------------- engine and migrations


def make_engine(url: str) -> Engine:
    """An engine for the decisions database, with Jalon's SQLite settings.

    For SQLite files the parent folder is created. Connections opened with the execution
    option ``jalon_write=True`` start their transactions with ``BEGIN IMMEDIATE``.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (sqlite3's legacy mode never BEGINs before a
        # SELECT or DDL), so reads are repeatable and migrations are transactional.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            if database and database != ":memory:":
                # WAL with synchronous=FULL: a commit is one fsync of the log (durable when it
                # returns), instead of the rollback journal's several syncs and file churn.
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def lock_for_migration(conn: Connection) -> None:
    """Serialise migrations between processes, inside ``conn``'s current transaction.

    SQLite: the transaction was opened with BEGIN IMMEDIATE (write lock already held).
    PostgreSQL: a transaction-scoped advisory lock. Other backends: no lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})


def _alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _current_revisions(conn: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(conn).get_current_heads())


def upgrade_database(engine: Engine | str, *, config: Any = None) -> None:
    """``alembic upgrade head`` on ``engine`` (or URL), safe when processes start together.

    A quick read first: if the database is already at head nothing is locked. Otherwise the
    upgrade runs in one write transaction holding the migration lock, and re-checks the
    version inside it, so a second process waits and then finds nothing to do.
    """
    from alembic import command

    own_engine = isinstance(engine, str)
    eng = make_engine(engine) if isinstance(engine, str) else engine
    try:
        heads = _head_revisions()
        with eng.connect() as conn:
            with conn.begin():
                if _current_revisions(conn) == heads:
                    return
        with eng.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                lock_for_migration(conn)
                if _current_revisions(conn) == heads:
                    return
                cfg = config if config is not None else _alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    finally:
        if own_engine:
            eng.dispose()


# --------------------------------------------------------------------------- validation helpers


def _aware_utc(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware (UTC recommended)")
    return value.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _require_id(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > _MAX_ID:
        raise ValueError(f"{name} must be at most {_MAX_ID} characters")
    return value


def _require_json_object(value: Any, name: str, *, optional: bool = False) -> dict | None:
    if value is None and optional:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a JSON object (dict)")
    try:
        # Round trip: rejects NaN/inf and non-JSON types (numpy scalars...), string keys.
        return json.loads(_json_dumps(dict(value)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be JSON-serialisable (no NaN, no non-JSON types)") from exc


def _suggestion_row(
    *,
    suggestion_id: str,
    model_version: str,
    person_id: str,
    advisor_id: str,
    input_hash: str,
    output: dict,
    explanation: dict,
    agency_id: str | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    _require_id(suggestion_id, "suggestion_id")
    _require_id(model_version, "model_version")
    _require_id(person_id, "person_id")
    _require_id(advisor_id, "advisor_id")
    _require_id(agency_id, "agency_id", optional=True)
    _require_id(input_hash, "input_hash")
    if any(ch.isspace() for ch in input_hash):
        raise ValueError("input_hash must be a hash of the profile (no whitespace), never the profile itself")
    return {
        "suggestion_id": suggestion_id,
        "created_at": _now() if created_at is None else _aware_utc(created_at, "created_at"),
        "model_version": model_version,
        "agency_id": agency_id,
        "person_id": person_id,
        "advisor_id": advisor_id,
        "input_hash": input_hash,
        "output": _require_json_object(output, "output"),
        "explanation": _require_json_object(explanation, "explanation"),
    }


def _decision_record(row: Mapping[str, Any]) -> DecisionRecord:
    return DecisionRecord(
        decision_id=row["decision_id"],
        suggestion_id=row["suggestion_id"],
        advisor_id=row["advisor_id"],
        action=row["action"],
        final_need=row["final_need"],
        final_tier=row["final_tier"],
        reason=row["reason"],
        revision_of=row["revision_of"],
        recommendation=row["recommendation"],
        milestone_date=row["milestone_date"],
        created_at=row["created_at"],
    )


def _suggested_need(output: Any) -> str:
    if isinstance(output, Mapping):
        for key in SUGGESTED_NEED_KEYS:
            value = output.get(key)
            if isinstance(value, str) and value:
                return value
    return UNKNOWN_NEED


# --------------------------------------------------------------------------- the store


class _WriteLock:
    """Serialise write transactions: a thread lock, plus for a SQLite file an exclusive
    ``flock`` on a sidecar file so that several server processes queue in the kernel
    (woken as soon as the holder commits) instead of polling SQLite's lock."""

    def __init__(self, url: str) -> None:
        self._thread_lock = threading.Lock()
        parsed = make_url(url)
        database = parsed.database or ""
        self._path = None
        if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
                and not database.startswith("file:"):
            self._path = Path(database).expanduser().with_name(Path(database).name + ".write-lock")
        self._file = None

    def __enter__(self) -> "_WriteLock":
        self._thread_lock.acquire()
        if self._path is not None:
            try:
                if self._file is None:
                    self._file = open(self._path, "a+b")  # noqa: SIM115 - kept open for the store's life
                fcntl.flock(self._file, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class DecisionStore:
    """Suggestions and advisor decisions in a SQL database (SQLite file by default)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or get_settings().db_url
        self._engine = make_engine(self.url)
        self._write_engine = self._engine.execution_options(**{_WRITE: True})
        self._write_lock = _WriteLock(self.url)
        try:
            upgrade_database(self._engine)
        except DBAPIError as exc:
            self._engine.dispose()
            raise StoreError(f"could not open or migrate the decisions database ({type(exc.orig).__name__})") from exc
        except BaseException:
            self._engine.dispose()
            raise

    # -- plumbing

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise StoreError(f"decisions database error ({type(exc.orig).__name__})") from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction; IntegrityError is left to the caller to interpret.

        Writers queue on :class:`_WriteLock` rather than in SQLite's busy handler, which
        sleeps with back-off and turns concurrent requests (threads or server workers) into
        long tails.
        """
        try:
            with self._write_lock, self._write_engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreError(f"decisions database error ({type(exc.orig).__name__})") from exc

    def dispose(self) -> None:
        self._write_lock.close()
        self._engine.dispose()

    def __enter__(self) -> DecisionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # -- suggestions

    def record_suggestion(
        self,
        *,
        suggestion_id: str,
        model_version: str,
        person_id: str,
        advisor_id: str,
        input_hash: str,
        output: dict,
        explanation: dict,
        agency_id: str | None = None,
        created_at: dt.datetime | None = None,
    ) -> SuggestionRecord:
        """Record one suggestion; :class:`StoreError` if its id is already recorded."""
        row = _suggestion_row(
            suggestion_id=suggestion_id,
            model_version=model_version,
            person_id=person_id,
            advisor_id=advisor_id,
            input_hash=input_hash,
            output=output,
            explanation=explanation,
            agency_id=agency_id,
            created_at=created_at,
        )
        try:
            with self._write() as conn:
                conn.execute(sa.insert(suggestions), row)
        except IntegrityError as exc:
            raise StoreError(f"suggestion {suggestion_id!r} is already recorded") from exc
        return SuggestionRecord(**row, decisions=[])

    def record_suggestions(self, items: list[dict]) -> None:
        """Record many suggestions in one transaction: all or none.

        Each item has the keyword arguments of :meth:`record_suggestion`. ValueError names
        the item index; :class:`StoreError` if an id is already recorded.
        """
        rows = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise ValueError(f"items[{index}] must be a dict")
            try:
                row = _suggestion_row(**item)
            except TypeError as exc:  # unknown or missing key
                raise ValueError(f"items[{index}]: {exc}") from exc
            except ValueError as exc:
                raise ValueError(f"items[{index}]: {exc}") from exc
            if row["suggestion_id"] in seen:
                raise ValueError(f"items[{index}]: suggestion_id {row['suggestion_id']!r} appears twice in the batch")
            seen.add(row["suggestion_id"])
            rows.append(row)
        if not rows:
            return
        try:
            with self._write() as conn:
                conn.execute(sa.insert(suggestions), rows)
        except IntegrityError as exc:
            raise StoreError("a suggestion of the batch is already recorded; nothing was recorded") from exc

    def get_suggestion(self, suggestion_id: str) -> SuggestionRecord:
        with self._read() as conn:
            found = self._load_suggestions(conn, [suggestion_id])
        if suggestion_id not in found:
            raise SuggestionNotFound(f"suggestion_id {suggestion_id!r}: no such suggestion")
        return found[suggestion_id]

    def suggestions_for_person(self, person_id: str) -> list[SuggestionRecord]:
        """The person's suggestions, oldest first, each with its decisions."""
        with self._read() as conn:
            ids = list(
                conn.scalars(
                    sa.select(suggestions.c.suggestion_id)
                    .where(suggestions.c.person_id == person_id)
                    .order_by(suggestions.c.created_at, suggestions.c.suggestion_id)
                )
            )
            found = self._load_suggestions(conn, ids)
        return [found[i] for i in ids]

    # -- decisions

    def record_decision(
        self,
        *,
        suggestion_id: str,
        advisor_id: str,
        action: str,
        final_need: str,
        final_tier: str,
        reason: str | None = None,
        revision: bool = False,
        recommendation: dict | None = None,
        milestone_date: dt.date | None = None,
    ) -> DecisionRecord:
        """Append the advisor's decision on a suggestion.

        The first decision of a suggestion gets ``sequence`` 0. It is *not* checked for in
        Python before inserting: the insert itself is the test, and the UNIQUE
        ``(suggestion_id, sequence)`` constraint lets exactly one of two concurrent first
        decisions in (on SQLite the write lock already serialises them; on PostgreSQL the
        constraint is what decides). The loser gets :class:`DecisionConflict`.

        With ``revision=True`` the decision is appended after the current latest one
        (sequence + 1, ``revision_of`` = its id). If another revision lands in between,
        the constraint rejects ours and it is re-based on the new latest decision and
        retried (a revision always supersedes whatever is latest when it is written).
        ``revision=True`` on an undecided suggestion records a plain first decision.
        """
        _require_id(suggestion_id, "suggestion_id")
        _require_id(advisor_id, "advisor_id")
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)} (got {action!r})")
        if final_need not in NEED_CODES:
            raise ValueError(f"final_need must be one of {', '.join(NEED_CODES)} (got {final_need!r})")
        if final_tier not in TIER_CODES:
            raise ValueError(f"final_tier must be one of {', '.join(TIER_CODES)} (got {final_tier!r})")
        if reason is not None and not isinstance(reason, str):
            raise ValueError("reason must be a string")
        if reason is not None and not reason.strip():
            reason = None
        if action == "override" and reason is None:
            raise ValueError("reason is required (non-empty) when action is override")
        recommendation = _require_json_object(recommendation, "recommendation", optional=True)
        if milestone_date is not None and (
            not isinstance(milestone_date, dt.date) or isinstance(milestone_date, dt.datetime)
        ):
            raise ValueError("milestone_date must be a datetime.date (not a datetime)")

        for _attempt in range(_REVISION_ATTEMPTS):
            row = {
                "decision_id": str(uuid.uuid4()),
                "suggestion_id": suggestion_id,
                "advisor_id": advisor_id,
                "action": action,
                "final_need": final_need,
                "final_tier": final_tier,
                "reason": reason,
                "recommendation": recommendation,
                "milestone_date": milestone_date,
                "created_at": _now(),
            }
            try:
                with self._write() as conn:
                    self._require_suggestion(conn, suggestion_id)
                    latest = None
                    if revision:
                        latest = conn.execute(
                            sa.select(decisions.c.decision_id, decisions.c.sequence)
                            .where(decisions.c.suggestion_id == suggestion_id)
                            .order_by(decisions.c.sequence.desc())
                            .limit(1)
                        ).first()
                    row["sequence"] = 0 if latest is None else latest.sequence + 1
                    row["revision_of"] = None if latest is None else latest.decision_id
                    conn.execute(sa.insert(decisions), row)
            except IntegrityError as exc:
                taken = self._decision_at(suggestion_id, row.get("sequence", 0))
                if taken is None:
                    raise StoreError(
                        f"decision on suggestion {suggestion_id!r} violates an integrity constraint"
                    ) from exc
                if not revision:
                    raise DecisionConflict(
                        f"suggestion {suggestion_id!r} already has a decision ({taken}); "
                        "pass revision=True to revise it"
                    ) from exc
                continue  # a concurrent revision took our sequence number: re-base and retry
            return _decision_record(row)
        raise StoreError(
            f"could not append a revision on suggestion {suggestion_id!r}: "
            f"{_REVISION_ATTEMPTS} concurrent revisions in a row"
        )

    def decisions_by_advisor(self, advisor_id: str, limit: int = 20) -> list[DecisionRecord]:
        """The advisor's most recent decisions (revisions included), most recent first."""
        if not isinstance(limit, int) or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        with self._read() as conn:
            rows = conn.execute(
                sa.select(decisions)
                .where(decisions.c.advisor_id == advisor_id)
                .order_by(decisions.c.created_at.desc(), decisions.c.sequence.desc(), decisions.c.decision_id.desc())
                .limit(limit)
            ).all()
        return [_decision_record(r._mapping) for r in rows]

    def latest_decisions(
        self, milestone_due_by: dt.date | None = None
    ) -> list[tuple[SuggestionRecord, DecisionRecord]]:
        """For each person, their most recent decision (over all their suggestions).

        With ``milestone_due_by``, keep only the people whose most recent decision has a
        ``milestone_date`` on or before it (an older decision's milestone, superseded by a
        later decision, does not count). Ordered by milestone date (none last), then person.
        """
        if milestone_due_by is not None and (
            not isinstance(milestone_due_by, dt.date) or isinstance(milestone_due_by, dt.datetime)
        ):
            raise ValueError("milestone_due_by must be a datetime.date (not a datetime)")
        rank = (
            sa.func.row_number()
            .over(
                partition_by=suggestions.c.person_id,
                order_by=(decisions.c.created_at.desc(), decisions.c.sequence.desc(), decisions.c.decision_id.desc()),
            )
            .label("rank")
        )
        ranked = (
            sa.select(decisions, suggestions.c.person_id, rank)
            .join(suggestions, suggestions.c.suggestion_id == decisions.c.suggestion_id)
            .subquery("ranked")
        )
        query = sa.select(ranked).where(ranked.c.rank == 1)
        if milestone_due_by is not None:
            query = query.where(ranked.c.milestone_date.is_not(None), ranked.c.milestone_date <= milestone_due_by)
        with self._read() as conn:
            rows = conn.execute(query).all()
            found = self._load_suggestions(conn, sorted({r.suggestion_id for r in rows}))
        pairs = [(r.person_id, found[r.suggestion_id], _decision_record(r._mapping)) for r in rows]
        pairs.sort(key=lambda p: (p[2].milestone_date is None, p[2].milestone_date or dt.date.min, p[0]))
        return [(s, d) for _, s, d in pairs]

    def override_rates(self) -> dict:
        """Confirm / override counts, overall and by the need the model suggested.

        One count per decided suggestion, using its *latest* decision (a revised decision
        is counted once, as finally decided). The suggested need is read from the
        suggestion's ``output`` (key ``primary_need``, else ``need``; ``UNKNOWN`` if absent).
        ``by_need`` lists every need code, with zeros when unused.
        """
        later = decisions.alias("later")
        query = (
            sa.select(decisions.c.action, suggestions.c.output)
            .join(suggestions, suggestions.c.suggestion_id == decisions.c.suggestion_id)
            .where(~sa.exists().where(later.c.revision_of == decisions.c.decision_id))
        )
        by_need: dict[str, dict[str, int]] = {need: {"total": 0, "overrides": 0} for need in NEED_CODES}
        total = overrides = 0
        with self._read() as conn:
            for action, output in conn.execute(query.execution_options(yield_per=1000)):
                need = by_need.setdefault(_suggested_need(output), {"total": 0, "overrides": 0})
                total += 1
                need["total"] += 1
                if action == "override":
                    overrides += 1
                    need["overrides"] += 1
        return {"total": total, "overrides": overrides, "by_need": by_need}

    # -- internals

    @staticmethod
    def _require_suggestion(conn: Connection, suggestion_id: str) -> None:
        exists = conn.scalar(
            sa.select(suggestions.c.suggestion_id).where(suggestions.c.suggestion_id == suggestion_id)
        )
        if exists is None:
            raise SuggestionNotFound(f"suggestion_id {suggestion_id!r}: no such suggestion")

    def _decision_at(self, suggestion_id: str, sequence: int) -> str | None:
        with self._read() as conn:
            return conn.scalar(
                sa.select(decisions.c.decision_id).where(
                    decisions.c.suggestion_id == suggestion_id, decisions.c.sequence == sequence
                )
            )

    @staticmethod
    def _load_suggestions(conn: Connection, ids: list[str]) -> dict[str, SuggestionRecord]:
        by_id: dict[str, SuggestionRecord] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            history: dict[str, list[DecisionRecord]] = {i: [] for i in chunk}
            for d in conn.execute(
                sa.select(decisions)
                .where(decisions.c.suggestion_id.in_(chunk))
                .order_by(decisions.c.suggestion_id, decisions.c.sequence)
            ):
                history[d.suggestion_id].append(_decision_record(d._mapping))
            for s in conn.execute(sa.select(suggestions).where(suggestions.c.suggestion_id.in_(chunk))):
                by_id[s.suggestion_id] = SuggestionRecord(
                    suggestion_id=s.suggestion_id,
                    created_at=s.created_at,
                    model_version=s.model_version,
                    agency_id=s.agency_id,
                    person_id=s.person_id,
                    advisor_id=s.advisor_id,
                    input_hash=s.input_hash,
                    output=s.output,
                    explanation=s.explanation,
                    decisions=history[s.suggestion_id],
                )
        return by_id
