"""Store faults and broken tokens are visible and survivable, on a real server.

The server's database lives on a small tmpfs of its own, so that the test can make it
read-only (``chattr +i``: root ignores file modes, not the immutable flag) and fill its disk
for real. Each fault must give 503 with a message saying what is wrong (English in the API),
fail readiness with the cause in the log, and heal without a restart once fixed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from records import DecisionStore
from records.faults import SQLITE_MIN_FREE_BYTES
from tests.support.launcher import ServerProcess, free_port, jalon_command, served_env

pytestmark = pytest.mark.slow

TMPFS_SIZE = SQLITE_MIN_FREE_BYTES * 2


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({done.stderr.strip()}): these tests need root, to mount a small tmpfs "
            "and set the immutable flag (CI runs as root)",
            pytrace=False,
        )


def immutable(path: Path, on: bool) -> None:
    """Read-only for everyone, root included (root ignores file modes)."""
    if os.geteuid() == 0:
        run("chattr", "+i" if on else "-i", str(path))
    else:
        path.chmod(0o400 if on else 0o600)


@contextmanager
def faulty_server(served_home, root: Path, *, read_only: bool) -> Iterator[tuple[ServerProcess, Path, Path]]:
    """A server whose database is on a small tmpfs of its own (read-only from the start if
    ``read_only``), with a tokens file of its own."""
    home, tag, tokens = served_home
    disk = root / "disk"
    disk.mkdir()
    run("mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(disk))
    server = None
    try:
        database = disk / "decisions.db"
        DecisionStore(f"sqlite:///{database}").dispose()  # created and migrated, then closed
        tokens_file = root / "tokens.json"
        shutil.copy(home / "tokens.json", tokens_file)
        if read_only:
            immutable(database, True)
        port = free_port()
        # One worker: readiness and the log lines are per worker, and with two the tests would
        # depend on which one the kernel hands each probe to.
        env = served_env(
            home, tag, JALON_DB_URL=f"sqlite:///{database}", JALON_TOKENS_FILE=str(tokens_file), JALON_WORKERS="1"
        )
        # Up (alive) but not ready: readiness is what the tests watch.
        server = ServerProcess(jalon_command(port), env, port, root / "server.log", name="jalon", ready_path="/livez")
        server.start()
        server.tokens = tokens  # type: ignore[attr-defined]
        yield server, database, tokens_file
    finally:
        if server is not None:
            server.stop()
        if (disk / "decisions.db").exists():
            subprocess.run(["chattr", "-i", str(disk / "decisions.db")], capture_output=True)
        subprocess.run(["umount", str(disk)], capture_output=True)


@pytest.fixture
def read_only_at_start(served_home, tmp_path) -> Iterator[tuple[ServerProcess, Path, Path]]:
    with faulty_server(served_home, tmp_path, read_only=True) as made:
        yield made


@pytest.fixture(scope="module")
def faulty(served_home, tmp_path_factory) -> Iterator[tuple[ServerProcess, Path, Path]]:
    """Shared by tests that each put back what they broke (xdist may run them anywhere, in any order)."""
    with faulty_server(served_home, tmp_path_factory.mktemp("faults"), read_only=False) as made:
        yield made


def call(server: ServerProcess, path: str, body=None, token: str = "advisor", method: str = "POST") -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": f"Bearer {server.tokens[token]}"}  # type: ignore[attr-defined]
    content = json.dumps(body).encode() if body is not None else None
    return httpx.request(method, f"{server.url}{path}", content=content, headers=headers, timeout=60)


def ready(server: ServerProcess) -> httpx.Response:
    return httpx.get(f"{server.url}/readyz", timeout=30)


def until(condition, timeout: float = 30.0) -> bool:  # generous: CI runs two suites side by side
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def fill(path: Path) -> int | None:
    """Write to ``path`` until the disk refuses; the error number it refused with."""
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 20))
                handle.flush()
        except OSError as exc:
            return exc.errno
    return None


def test_a_database_read_only_at_start_is_503_then_heals(read_only_at_start, records) -> None:
    server, database, _ = read_only_at_start
    refused = call(server, "/suggest", {"profile": records[30]})
    assert refused.status_code == 503, refused.text
    assert "read-only" in refused.json()["error"]
    assert "nothing was recorded" in refused.json()["error"]
    assert refused.headers["retry-after"]
    probe = ready(server)
    assert probe.status_code == 503
    assert any("read-only" in p for p in probe.json()["problems"])
    assert until(lambda: "attempt to write a readonly database" in server.logs())

    immutable(database, False)  # fixed by an operator: no restart
    assert until(lambda: all(ready(server).status_code == 200 for _ in range(4)))
    made = call(server, "/suggest", {"profile": records[30]})
    assert made.status_code == 200, made.text
    decided = call(
        server,
        "/decisions",
        {"suggestion_id": made.json()["suggestion_id"], "advisor_id": "advisor-1", "action": "confirm"},
    )
    assert decided.status_code == 200, decided.text
    assert until(lambda: "decisions store writable again" in server.logs())
    for name in ("decisions.db", "decisions.db-wal", "decisions.db-shm"):
        assert stat.S_IMODE((database.parent / name).stat().st_mode) == 0o600, name


def test_a_full_disk_is_503_with_its_cause_then_heals(faulty, records) -> None:
    server, database, _ = faulty
    filler = database.parent / "filler"
    assert fill(filler) == errno.ENOSPC
    try:
        assert until(lambda: ready(server).status_code == 503)
        problems = ready(server).json()["problems"]
        assert any("disk is full" in p for p in problems), problems
        batch = call(server, "/suggest_batch", {"profiles": records[:200]})
        assert batch.status_code == 503, batch.text[:500]
        assert "disk is full" in batch.json()["error"]
        # The cause is in the log: SQLite's own words, and the free space when SQLite blamed
        # something else (on a full disk it may report a read-only file).
        causes = ("database or disk is full", "bytes free on the database's disk")
        assert until(lambda: any(cause in server.logs() for cause in causes))
    finally:
        filler.unlink()
    assert until(lambda: all(ready(server).status_code == 200 for _ in range(4))), ready(server).text
    again = call(server, "/suggest_batch", {"profiles": records[:200]})
    assert again.status_code == 200, again.text[:500]


def test_a_corrupt_tokens_file_is_503_at_once_and_heals(faulty) -> None:
    server, _, tokens_file = faulty
    good = tokens_file.read_text()
    tokens_file.write_text('[{"subject": "advisor-1", "role": "advisor", "sha256": ')
    try:
        time.sleep(1.2)
        started = time.monotonic()
        refused = call(server, "/whoami", {})
        assert refused.status_code == 503
        assert time.monotonic() - started < 2
        assert "tokens" in refused.json()["error"]
        assert until(lambda: ready(server).status_code == 503)
        problems = ready(server).json()["problems"]
        assert any(str(tokens_file) in p and "not JSON" in p for p in problems), problems
        lines = [line for line in server.logs().splitlines() if "tokens unusable" in line]
        assert lines
        assert len(lines) <= 2, "one line per worker, not one per request"
        assert all(str(tokens_file) in line and "[ERROR]" in line for line in lines)
    finally:
        tokens_file.write_text(good)
    assert until(lambda: all(call(server, "/whoami", {}).status_code == 200 for _ in range(4)))
    assert until(lambda: ready(server).status_code == 200), ready(server).text
