"""Engines, the writers' lock and migrations of the decisions database.

Concurrency and durability on SQLite: write-ahead log (WAL) with ``synchronous=FULL``, so a
committed write is on disk before ``commit`` returns; a busy timeout of 10 s for concurrent
writers; foreign keys on. Write transactions start with ``BEGIN IMMEDIATE`` (take the write
lock first, so a transaction never has to upgrade a read lock, the case where SQLite fails
with "database is locked" without waiting); read transactions start with a plain ``BEGIN``.

On PostgreSQL the engine is SQLAlchemy's own (``postgresql+psycopg://...``, pre-ping on);
concurrent migrations are serialised by an advisory lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from records.faults import store_error
from records.validation import json_dumps

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS_DIR",
    "WRITE_OPTION",
    "WriteLock",
    "alembic_config",
    "lock_for_migration",
    "make_engine",
    "private_database_files",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 10.0
#: Execution option of the connections that write: their transactions start with BEGIN IMMEDIATE.
WRITE_OPTION = "jalon_write"
# Any constant: the PostgreSQL advisory lock that serialises concurrent migrations.
_PG_MIGRATION_LOCK = 0x4A41_4C4F4E  # "JALON"


def make_engine(url: str) -> Engine:
    """An engine for the decisions database, with Jalon's SQLite settings.

    For SQLite files the parent folder is created. Connections opened with the execution
    option ``jalon_write=True`` (:data:`WRITE_OPTION`) start their transactions with
    ``BEGIN IMMEDIATE``.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"json_serializer": json_dumps}
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_database_files(path)
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

    return engine


#: Files SQLite keeps beside a database (they hold recent writes too), and the writers' lock.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal", ".write-lock")


def private_database_files(path: Path) -> None:
    """Create a SQLite database file readable by its owner only (0600), or tighten an existing one.

    SQLite gives its write-ahead log and shared-memory files the database file's permissions,
    so a private database file keeps them private too. Files of another owner are left alone.
    """
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return
    except FileExistsError:
        pass
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            info = candidate.stat()
            if info.st_mode & 0o077 and info.st_uid == os.geteuid():
                os.chmod(candidate, 0o600)
        except OSError:  # absent, or not ours to change (e.g. immutable): SQLite will say what it can do
            continue


def lock_for_migration(conn: Connection) -> None:
    """Serialise migrations between processes, inside ``conn``'s current transaction.

    SQLite: the transaction was opened with BEGIN IMMEDIATE (write lock already held).
    PostgreSQL: a transaction-scoped advisory lock. Other backends: no lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})


def alembic_config(url: str | None = None) -> Any:
    """Alembic's configuration of the store's migrations (``url``: for ``--sql`` output)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


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
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                lock_for_migration(conn)
                if _current_revisions(conn) == heads:
                    return
                cfg = config if config is not None else alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    finally:
        if own_engine:
            eng.dispose()


class WriteLock:
    """Serialise write transactions: a thread lock, plus for a SQLite file an exclusive
    ``flock`` on a sidecar file so that several server processes queue in the kernel
    (woken as soon as the holder commits) instead of polling SQLite's lock."""

    def __init__(self, url: str) -> None:
        self._thread_lock = threading.Lock()
        parsed = make_url(url)
        database = parsed.database or ""
        self._path: Path | None = None
        if (
            parsed.get_backend_name() == "sqlite"
            and database
            and database != ":memory:"
            and not database.startswith("file:")
        ):
            self._path = Path(database).expanduser().with_name(Path(database).name + ".write-lock")
        self._file: IO[bytes] | None = None

    def __enter__(self) -> WriteLock:
        self._thread_lock.acquire()
        if self._path is not None:
            try:
                if self._file is None:  # kept open for the store's life: closed by close()
                    self._file = os.fdopen(os.open(self._path, os.O_CREAT | os.O_RDWR | os.O_APPEND, 0o600), "a+b")
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


def connect_database(url: str) -> tuple[Engine, Engine, WriteLock]:
    """The engine, its writing twin and the writers' lock over ``url``, not yet migrated."""
    engine = make_engine(url)
    return engine, engine.execution_options(**{WRITE_OPTION: True}), WriteLock(url)


def migrate_or_dispose(engine: Engine) -> None:
    """Migrate ``engine``'s database to head; on failure dispose of it and raise :class:`StoreError`."""
    try:
        upgrade_database(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise store_error(exc, doing="open") from exc
    except BaseException:
        engine.dispose()
        raise


def open_database(url: str) -> tuple[Engine, Engine, WriteLock]:
    """The engine, its writing twin and the writers' lock over ``url``, migrated to head.

    :class:`StoreError` if the database cannot be opened or migrated (nothing is left open).
    """
    engine, write_engine, write_lock = connect_database(url)
    migrate_or_dispose(engine)
    return engine, write_engine, write_lock
