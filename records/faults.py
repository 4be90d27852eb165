"""What a database error means for the people waiting on it: read-only, full, unreachable, busy.

A store error becomes a :class:`~records.entities.StoreError` whose ``kind`` a client can act
on and whose ``cause`` is the database's own primary message, for the log. The primary
message never carries row values: SQLite's messages name no values, and for PostgreSQL only
``diag.message_primary`` is kept (its DETAIL line, which may repeat a failing row, is not).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from records.entities import StoreError

__all__ = ["KIND_MEANINGS", "SQLITE_MIN_FREE_BYTES", "free_space_error", "store_error", "write_error"]

#: A SQLite store is « full » for readiness below this much free disk. A batch of 1,000 explained
#: suggestions appends about 8 MB to the write-ahead log, and as much again reaches the database
#: file at the next checkpoint: below 32 MiB the next batch may fail half-way through its commit.
#: (A small write can still succeed in log space SQLite reuses, so readiness cannot rely on the
#: probe's one-row write alone.)
SQLITE_MIN_FREE_BYTES = 32 * 1024 * 1024

#: What each kind means, in the English of API messages and logs.
KIND_MEANINGS: dict[str, str] = {
    "read-only": "the database is read-only",
    "full": "the database disk is full",
    "unreachable": "the database cannot be reached or opened",
    "busy": "the database is busy",
    "unavailable": "the database failed",
}

_SQLITE_KINDS = {
    "SQLITE_READONLY": "read-only",
    "SQLITE_FULL": "full",
    "SQLITE_CANTOPEN": "unreachable",
    "SQLITE_NOTADB": "unreachable",
    "SQLITE_CORRUPT": "unavailable",
    "SQLITE_BUSY": "busy",
    "SQLITE_LOCKED": "busy",
    "SQLITE_IOERR": "unavailable",
    "SQLITE_PERM": "read-only",
}
_PG_KINDS = {  # SQLSTATE classes and codes
    "25006": "read-only",  # read_only_sql_transaction (a standby, default_transaction_read_only)
    "42501": "read-only",  # insufficient_privilege
    "53100": "full",  # disk_full
    "08": "unreachable",  # connection exceptions
    "57P": "unreachable",  # admin / crash shutdown, cannot connect now
    "53": "busy",  # insufficient resources (memory, connections)
    "55P03": "busy",  # lock_not_available
}


def _sqlite_kind(orig: BaseException) -> str | None:
    name = getattr(orig, "sqlite_errorname", None)
    if not isinstance(name, str):
        return None
    base = name.split("_", 2)
    for candidate in (name, "_".join(base[:2])):
        if candidate in _SQLITE_KINDS:
            return _SQLITE_KINDS[candidate]
    return None


def _pg_kind(orig: BaseException) -> str | None:
    state = getattr(orig, "sqlstate", None)
    if not isinstance(state, str):
        return None
    for prefix in sorted(_PG_KINDS, key=len, reverse=True):
        if state.startswith(prefix):
            return _PG_KINDS[prefix]
    return None


def _primary_message(orig: BaseException) -> str:
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary if isinstance(primary, str) and primary else str(orig).split("\n", 1)[0]
    # SQLite's extended code tells apart causes its message shares (a read-only file, a WAL
    # that needs recovery, a database moved...): part of the cause, never a value.
    code = getattr(orig, "sqlite_errorname", None)
    return f"{type(orig).__name__}{f' ({code})' if isinstance(code, str) else ''}: {text.strip()}"


def store_error(exc: DBAPIError, *, doing: Literal["read", "write", "open"]) -> StoreError:
    """The :class:`StoreError` for a database error raised while reading, writing or opening the store."""
    orig = exc.orig if isinstance(exc.orig, BaseException) else exc
    kind = _sqlite_kind(orig) or _pg_kind(orig) or ("unreachable" if exc.connection_invalidated else "unavailable")
    message = {
        "read": f"decisions store unavailable ({KIND_MEANINGS[kind]}): retry later",
        "write": f"decisions store unavailable ({KIND_MEANINGS[kind]}): nothing was recorded; retry later",
        "open": f"could not open or migrate the decisions database ({KIND_MEANINGS[kind]})",
    }[doing]
    return StoreError(message, kind=kind, cause=_primary_message(orig))


def write_error(exc: DBAPIError, url: str) -> StoreError:
    """The :class:`StoreError` of a failed write. On a full disk SQLite may report another error
    (a read-only file, an I/O error): the disk is then named, the cause an operator can act on."""
    error = store_error(exc, doing="write")
    full = free_space_error(url) if error.kind != "full" else None
    if full is None:
        return error
    return StoreError(
        f"decisions store unavailable ({KIND_MEANINGS['full']}): nothing was recorded; retry later",
        kind="full",
        cause=f"{error.cause}; {full.cause}",
    )


def free_space_error(url: str) -> StoreError | None:
    """For a SQLite file, a « full » error when its disk has less than :data:`SQLITE_MIN_FREE_BYTES` free."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    try:
        free = shutil.disk_usage(Path(database).expanduser().parent).free
    except OSError:
        return None
    if free >= SQLITE_MIN_FREE_BYTES:
        return None
    return StoreError(
        f"decisions store unavailable ({KIND_MEANINGS['full']}): {free:,} bytes free, "
        f"at least {SQLITE_MIN_FREE_BYTES:,} needed; writes may fail",
        kind="full",
        cause=f"{free} bytes free on the database's disk",
    )
