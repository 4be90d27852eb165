"""Start and stop a server subprocess: the real `bentoml serve` for tests and benchmarks.

A server runs in its own session, and its whole process tree is listed before any signal
is sent, because BentoML starts its workers in sessions of their own: signalling the
group alone would leave orphaned workers when the arbiter dies first (``kill -9``).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil

from core.config import PROJECT_ROOT

#: Environment variables that must not leak from the caller into a server over another home.
FOREIGN_ENV = ("MLFLOW_TRACKING_URI", "JALON_DB_URL", "JALON_TOKENS", "JALON_TOKENS_FILE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jalon_command(port: int, service: str = "serving.service:Jalon", host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", service, "--host", host, "--port", str(port)]


def served_env(home: Path, bento_tag: str, **extra: str) -> dict[str, str]:
    """The environment of a Jalon server over ``home`` serving the BentoML model ``bento_tag``.

    Each server gets a BentoML home of its own, whose model store is the home's: BentoML empties
    ``$BENTOML_HOME/prometheus_multiproc_dir`` when a server starts, which would erase the
    metrics of another server running over the same home.
    """
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    models = home / "bentoml" / "models"
    models.mkdir(parents=True, exist_ok=True)
    own = Path(tempfile.mkdtemp(prefix="bentoml-", dir=home))
    (own / "models").symlink_to(models, target_is_directory=True)
    env.update(
        JALON_HOME=str(home),
        BENTOML_HOME=str(own),
        JALON_BENTO_MODEL=bento_tag,
        BENTOML_DO_NOT_TRACK="True",
        **extra,
    )
    return env


@dataclass
class ServerProcess:
    """A server subprocess answering ``GET /readyz`` (or ``ready_path``) on ``port`` once it is up."""

    command: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    name: str = "server"
    #: The route whose 200 says the server is up (``/livez`` for a server meant to start not ready).
    ready_path: str = "/readyz"
    process: subprocess.Popen | None = None
    _log: IO[str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> ServerProcess:
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # A server in a session of its own outlives its test process unless stopped: if a
        # fixture's teardown never runs (an xdist worker shutting down), stop it at exit.
        atexit.register(self.stop, graceful=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early ({self.process.returncode}):\n{self.logs()[-4000:]}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop(graceful=False)
        raise RuntimeError(f"{self.name} not ready in {timeout:.0f} s:\n{self.logs()[-4000:]}")

    def tree(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def stop(self, graceful: bool = True) -> None:
        """SIGTERM (or, not graceful, SIGKILL: a crash) the whole tree; SIGKILL what is left."""
        if self.process is not None and self.process.poll() is None:
            tree = self.tree()
            for proc in tree:
                try:
                    proc.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
                except psutil.Error:
                    pass
            _, alive = psutil.wait_procs(tree, timeout=20 if graceful else 5)
            for proc in alive:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            psutil.wait_procs(alive, timeout=10)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def logs(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
