"""Settings: every environment variable read in one place, one default each."""

from __future__ import annotations

import pytest

from core.config import DEFAULT_THREADS, DEFAULT_WORKERS, get_settings
from core.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("JALON_WORKERS", "JALON_THREADS", "JALON_BENTO_MODEL", "JALON_TOKENS", "JALON_CATALOGUE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JALON_HOME", str(tmp_path))
    settings = get_settings()
    assert (settings.workers, settings.threads) == (DEFAULT_WORKERS, DEFAULT_THREADS) == (2, 4)
    assert settings.bento_model_tag == "jalon-segmentation:latest"
    assert settings.env_tokens == []
    assert settings.catalogue_file is None
    assert settings.db_url == f"sqlite:///{tmp_path / 'decisions.db'}"


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_worker_counts_name_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("JALON_WORKERS", value)
    with pytest.raises(ConfigError, match="JALON_WORKERS"):
        _ = get_settings().workers


def test_the_cli_and_the_service_share_the_worker_default() -> None:
    import inspect

    from jalon.cli.serve import serve

    assert inspect.signature(serve).parameters["workers"].default == DEFAULT_WORKERS
