"""A throwaway PostgreSQL server for the tests, and a fresh database per test.

CI exports ``JALON_TEST_PG_URL`` (a server it started itself, see ``.ci/run``); elsewhere
the session starts its own cluster from Debian's server binaries (``initdb`` into a
temporary folder, a free loopback port, trust authentication, as the ``postgres`` user when
running as root, since PostgreSQL refuses to run as root) and stops it at the end.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.support.launcher import free_port

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
MISSING_SERVER = (
    "PostgreSQL server binaries not found (initdb, pg_ctl in /usr/lib/postgresql/*/bin): "
    "apt-get install postgresql (or set JALON_TEST_PG_URL to a server's URL)"
)
_OWNER = "postgres"  # the user that owns the cluster when the tests run as root


def server_binaries() -> Path | None:
    """The newest installed version's ``bin`` folder that has initdb and pg_ctl, if any."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", Path(path).parent.name))

    for folder in sorted(glob.glob(PG_BIN_GLOB), key=version, reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", _OWNER, "--", *command] if os.geteuid() == 0 else command


@dataclass
class PostgresCluster:
    """One throwaway cluster: its folder (data, socket, log) and its loopback port."""

    bindir: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        """The superuser's URL to the ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls, bindir: Path) -> PostgresCluster:
        # Not under pytest's tmp_path: its parents are private to root, and the server runs
        # as the postgres user when the tests run as root.
        root = Path(tempfile.mkdtemp(prefix="jalon-pg-"))
        if os.geteuid() == 0:
            shutil.chown(root, _OWNER, _OWNER)
        cluster = cls(bindir, root, free_port())
        try:
            cluster._run(
                "initdb",
                "-D",
                str(root / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
            options = f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
            cluster._run(
                "pg_ctl",
                "-D",
                str(root / "data"),
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            )
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            _as_owner([str(self.bindir / program), *args]), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")


@contextmanager
def running_server() -> Iterator[str]:
    """The admin URL of a PostgreSQL server: ``JALON_TEST_PG_URL``, else a cluster started here.

    ``RuntimeError(MISSING_SERVER)`` when neither is available.
    """
    given = os.environ.get("JALON_TEST_PG_URL")
    if given:
        yield given
        return
    bindir = server_binaries()
    if bindir is None:
        raise RuntimeError(MISSING_SERVER)
    cluster = PostgresCluster.start(bindir)
    try:
        yield cluster.url
    finally:
        cluster.stop()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url``; dropped (connections closed) afterwards."""
    name = f"jalon_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
