"""Browser tests: Debian's Chromium driven by Playwright against a real `bentoml serve`.

One server and one browser per session. The server runs over the shared ``trained_home``
(a promoted champion in MLflow), with the champion imported into BentoML and an advisor
token ``adv-test``. Playwright's own browser download cannot work here: Chromium comes
from the system (``/usr/bin/chromium``, or ``$JALON_CHROMIUM``). Without it, these tests
fail when ``$CI`` is set (a CI run must not pass by skipping them) and skip locally.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("JALON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ADVISOR = "adv-test"
READY_TIMEOUT_S = 90
#: Variables that would point the server (or the test's view of it) at another state.
_FOREIGN_ENV = ("MLFLOW_TRACKING_URI", "JALON_DB_URL", "JALON_TOKENS", "JALON_TOKENS_FILE", "JALON_BENTO_MODEL")


def _unavailable(reason: str) -> None:
    """Fail under CI, skip locally."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run: {reason} (CI is set, so this is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The system Chromium, checked before any server is started."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) "
                     "or set JALON_CHROMIUM to a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    return CHROMIUM


@contextmanager
def _environ(**values: str | None) -> Iterator[None]:
    previous = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _home_environ(home: Path) -> dict[str, str | None]:
    return {"JALON_HOME": str(home), "BENTOML_HOME": str(home / "bentoml"),
            **{k: None for k in _FOREIGN_ENV}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    """The server a browser test talks to."""

    url: str
    token: str
    advisor: str
    db_url: str
    process: subprocess.Popen
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def jalon_server(chromium_path: Path, trained_home: Path) -> Iterator[Running]:
    """`bentoml serve serving.service:Jalon` on a free port, killed at the end of the session."""
    from jalon.config import get_settings
    from serving.auth import issue_token
    from serving.bento_model import import_champion

    with _environ(**_home_environ(trained_home)):
        settings = get_settings()
        tag, _version = import_champion(settings)
        token = issue_token(settings.tokens_file, ADVISOR, "advisor")
        db_url = settings.db_url

    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env.update(JALON_HOME=str(trained_home), BENTOML_HOME=str(trained_home / "bentoml"), JALON_BENTO_MODEL=tag,
               BENTOML_DO_NOT_TRACK="True")
    port = _free_port()
    log_path = trained_home / f"browser-server-{port}.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bentoml", "serve", "serving.service:Jalon", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    running = Running(url=f"http://127.0.0.1:{port}", token=token, advisor=ADVISOR, db_url=db_url,
                      process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bentoml serve exited early ({process.returncode}):\n{running.logs()[-4000:]}")
            try:
                if httpx.get(f"{running.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bentoml serve not ready in {READY_TIMEOUT_S} s:\n{running.logs()[-4000:]}")
            time.sleep(0.5)
        yield running
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's process group (the server and its workers, nothing else)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def browser(chromium_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser, jalon_server: Running):
    """A fresh browser context (empty sessionStorage) and page; external requests are recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.foreign_requests = []  # type: ignore[attr-defined]
    pg.page_errors = []  # type: ignore[attr-defined]

    def _record(request) -> None:
        if not request.url.startswith((jalon_server.url, "blob:", "data:", "about:")):
            pg.foreign_requests.append(request.url)  # type: ignore[attr-defined]

    context.on("request", _record)
    pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))  # type: ignore[attr-defined]
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
