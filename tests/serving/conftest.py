"""The real `bentoml serve` process the serving tests talk to."""

from __future__ import annotations

import pytest

from tests.conftest import start_server


@pytest.fixture(scope="session")
def server(served_home):
    home, tag, tokens = served_home
    running = start_server(home, tag, tokens)
    yield running
    running.stop()
