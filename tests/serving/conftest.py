"""A real `bentoml serve` process on a free port, over a trained JALON_HOME."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from jalon.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running server and what a test needs to call it."""

    home: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> "Server":
        self.log_path = self.home / f"server-{self.port}-{int(time.time() * 1000)}.log"
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bentoml", "serve", "serving.service:Jalon", "--host", "127.0.0.1",
             "--port", str(self.port)], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.kill()
        raise RuntimeError(f"server not ready in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path else ""


def server_env(home: Path, tag: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "JALON_DB_URL")}
    env.update(JALON_HOME=str(home), BENTOML_HOME=str(home / "bentoml"), JALON_BENTO_MODEL=tag,
               BENTOML_DO_NOT_TRACK="True", **extra)
    return env


@pytest.fixture(scope="session")
def served_home(trained_home: Path) -> tuple[Path, str, dict[str, str]]:
    """The trained home with the champion imported into BentoML and three tokens."""
    from jalon.config import get_settings
    from serving.auth import issue_token
    from serving.bento_model import import_champion

    previous = {k: os.environ.get(k) for k in ("JALON_HOME", "BENTOML_HOME")}
    os.environ["JALON_HOME"] = str(trained_home)
    os.environ["BENTOML_HOME"] = str(trained_home / "bentoml")
    try:
        settings = get_settings()
        tag, _ = import_champion(settings)
        tokens = {role: issue_token(settings.tokens_file, f"{role}-1", role)
                  for role in ("advisor", "auditor", "admin")}
        tokens["advisor2"] = issue_token(settings.tokens_file, "advisor-2", "advisor")
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return trained_home, tag, tokens


@pytest.fixture(scope="session")
def server(served_home):
    home, tag, tokens = served_home
    running = Server(home=home, env=server_env(home, tag)).start()
    running.tokens = tokens  # type: ignore[attr-defined]
    yield running
    running.kill(signal.SIGTERM)
