"""Configuration from one place: the state folder and the stores in it.

All local state (MLflow store, BentoML store, decisions database, generated data, tokens)
lives under ``JALON_HOME`` (default: ``.jalon/`` in the project root). Each store can be
moved by its own environment variable; nothing here is a secret.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGISTERED_MODEL_NAME = "jalon-segmentation"
CHAMPION_ALIAS = "champion"
BENTO_MODEL_NAME = "jalon-segmentation"
DEFAULT_EXPERIMENT = "jalon-segmentation"


DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4

_URIS_SET_BY_JALON: set[str] = set()


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} must be a whole number of at least 1")
    return int(raw)


def remember_tracking_uri(uri: str) -> None:
    """Record a tracking URI that Jalon itself handed to MLflow (see Settings.tracking_uri)."""
    if os.environ.get("MLFLOW_TRACKING_URI") != uri:
        _URIS_SET_BY_JALON.add(uri)


@dataclass(frozen=True)
class Settings:
    """Resolved locations of Jalon's local state."""

    home: Path

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def tracking_uri(self) -> str:
        given = os.environ.get("MLFLOW_TRACKING_URI")
        # mlflow.set_tracking_uri() exports the variable for subprocesses; a value Jalon set
        # itself for another home is not the user's choice and must not stick.
        if given and given not in _URIS_SET_BY_JALON:
            return given
        return f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    @property
    def artifact_root(self) -> Path:
        return self.mlflow_dir / "artifacts"

    @property
    def bentoml_home(self) -> Path:
        return Path(os.environ.get("BENTOML_HOME") or self.home / "bentoml")

    @property
    def db_url(self) -> str:
        return os.environ.get("JALON_DB_URL") or f"sqlite:///{self.home / 'decisions.db'}"

    @property
    def tokens_file(self) -> Path:
        return Path(os.environ.get("JALON_TOKENS_FILE") or self.home / "tokens.json")

    @property
    def env_tokens(self) -> list[str]:
        """``role:subject:token`` entries from ``JALON_TOKENS`` (comma-separated), for tests and CI."""
        return [e.strip() for e in os.environ.get("JALON_TOKENS", "").split(",") if e.strip()]

    @property
    def bento_model_tag(self) -> str:
        """The BentoML model the service loads (``JALON_BENTO_MODEL``; ``jalon serve`` sets it)."""
        return os.environ.get("JALON_BENTO_MODEL") or f"{BENTO_MODEL_NAME}:latest"

    @property
    def workers(self) -> int:
        """Server worker processes (``JALON_WORKERS``): one per core; each loads the model (~330 MiB)."""
        return _positive_int("JALON_WORKERS", DEFAULT_WORKERS)

    @property
    def threads(self) -> int:
        """Request threads per worker (``JALON_THREADS``): database writes wait on I/O, not the CPU."""
        return _positive_int("JALON_THREADS", DEFAULT_THREADS)

    @property
    def catalogue_file(self) -> Path | None:
        """An agency's model 1 catalogue (``JALON_CATALOGUE``); None = the packaged one."""
        given = os.environ.get("JALON_CATALOGUE")
        return Path(given).expanduser() if given else None

    @property
    def reference_file(self) -> Path | None:
        """An agency's reference table of local unemployment and occupation tension
        (``JALON_REFERENCE``); None = the packaged one (synthetic, an assumption)."""
        given = os.environ.get("JALON_REFERENCE")
        return Path(given).expanduser() if given else None

    def ensure(self) -> Settings:
        for folder in (self.home, self.data_dir, self.mlflow_dir, self.artifact_root):
            folder.mkdir(parents=True, exist_ok=True)
        return self


@functools.cache
def project_version() -> str:
    """The project's version: the installed package's, else ``pyproject.toml``'s (a source checkout)."""
    try:
        return importlib.metadata.version("jalon")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with open(PROJECT_ROOT / "pyproject.toml", "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        raise ConfigError("the project's version is unknown: install the project or keep pyproject.toml") from None


def get_settings() -> Settings:
    """Settings read from the environment now (tests change ``JALON_HOME`` per test)."""
    home = Path(os.environ.get("JALON_HOME") or PROJECT_ROOT / ".jalon").resolve()
    return Settings(home=home)
