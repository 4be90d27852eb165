"""Tokens, roles and route rules, without a server."""

from __future__ import annotations

import pytest

from serving.auth import Role, TokenError, TokenRegistry, allowed_roles, is_open, issue_token


def test_tokens_from_environment_and_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "tokens.json"
    secret = issue_token(path, "aud-1", "auditor")
    monkeypatch.setenv("JALON_TOKENS", "advisor:adv-1:s3cret")
    registry = TokenRegistry.from_environment(path)
    assert registry.authenticate("Bearer s3cret").subject == "adv-1"
    assert registry.authenticate(f"Bearer {secret}").role is Role.AUDITOR
    assert registry.authenticate("Bearer wrong") is None
    assert registry.authenticate(None) is None
    assert registry.authenticate("Basic s3cret") is None


@pytest.mark.parametrize("entry", ["advisor:adv-1", "wizard:adv-1:x", "advisor:Jean Dupont:x"])
def test_bad_token_configuration_is_refused(monkeypatch, entry) -> None:
    monkeypatch.setenv("JALON_TOKENS", entry)
    with pytest.raises(TokenError):
        TokenRegistry.from_environment(None)


def test_route_rules() -> None:
    assert is_open("/livez")
    assert is_open("/metrics")
    assert is_open("/ui/")
    assert is_open("/docs.json")
    assert not is_open("/suggest")
    assert not is_open("/report/abc")
    assert not is_open("/suggestions/x")
    assert allowed_roles("POST", "/suggest") == {Role.ADVISOR, Role.ADMIN}
    assert Role.AUDITOR in allowed_roles("GET", "/suggestions/abc")
    assert Role.AUDITOR not in allowed_roles("POST", "/decisions")
