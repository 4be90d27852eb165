"""What a database error means: the kind a client acts on, the cause for the log."""

from __future__ import annotations

import shutil
import sqlite3
from collections import namedtuple

import pytest
from sqlalchemy.exc import OperationalError

from records.faults import SQLITE_MIN_FREE_BYTES, free_space_error, store_error, write_error

Usage = namedtuple("Usage", "total used free")


def sqlite_error(sql: str, path) -> OperationalError:
    """A real SQLite error, raised by SQLite itself on ``path``."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        connection.execute(sql)
    except sqlite3.Error as exc:
        return OperationalError(sql, {}, exc)
    finally:
        connection.close()
    raise AssertionError(f"{sql} did not fail")


@pytest.fixture
def read_only_error(tmp_path) -> OperationalError:
    path = tmp_path / "decisions.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    return sqlite_error("INSERT INTO t VALUES (1)", path)


def test_a_read_only_database_is_named_so(read_only_error, tmp_path) -> None:
    error = store_error(read_only_error, doing="write")
    assert error.kind == "read-only"
    assert "nothing was recorded" in str(error)
    assert error.cause == "OperationalError (SQLITE_READONLY): attempt to write a readonly database"
    assert write_error(read_only_error, f"sqlite:///{tmp_path / 'decisions.db'}").kind == "read-only"


def test_a_write_failing_on_a_full_disk_names_the_disk(read_only_error, tmp_path, monkeypatch) -> None:
    """SQLite on a full disk may report a read-only file: the disk, the cause to act on, is named."""
    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: Usage(10**9, 10**9 - 4096, 4096))
    assert free_space_error(url) is not None
    error = write_error(read_only_error, url)
    assert error.kind == "full"
    assert str(error) == "decisions store unavailable (the database disk is full): nothing was recorded; retry later"
    assert error.cause == (
        "OperationalError (SQLITE_READONLY): attempt to write a readonly database; "
        "4096 bytes free on the database's disk"
    )


def test_free_space_is_checked_for_sqlite_files_only(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: Usage(10**9, 0, SQLITE_MIN_FREE_BYTES - 1))
    assert free_space_error(f"sqlite:///{tmp_path / 'd.db'}") is not None
    assert free_space_error("sqlite://") is None
    assert free_space_error("postgresql+psycopg://u@localhost/jalon") is None
