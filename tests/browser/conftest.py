"""Browser tests: Debian's Chromium driven by Playwright against a real `bentoml serve`.

One server and one browser per session. The server runs over the shared ``trained_home``
(a promoted champion in MLflow), with the champion imported into BentoML and an advisor
token ``adv-test``. Playwright's own browser download cannot work here: Chromium comes
from the system (``/usr/bin/chromium``, or ``$JALON_CHROMIUM``). Without it, these tests
fail when ``$CI`` is set (a CI run must not pass by skipping them) and skip locally.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("JALON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADVISOR = "adv-test"


def _unavailable(reason: str) -> None:
    """Fail under CI, skip locally."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run: {reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The system Chromium, checked before any server is started."""
    if not CHROMIUM.exists():
        _unavailable(
            f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) "
            "or set JALON_CHROMIUM to a Chromium binary"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    return CHROMIUM


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
def jalon_server(chromium_path: Path, served_home) -> Iterator[Running]:
    """`bentoml serve serving.service:Jalon` on a free port, stopped at the end of the session."""
    home, tag, tokens = served_home
    server = start_server(home, tag, tokens)
    try:
        yield Running(
            url=server.url,
            token=tokens[ADVISOR],
            advisor=ADVISOR,
            db_url=f"sqlite:///{home / 'decisions.db'}",
            process=server.process,
            log_path=server.log_path,
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
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
