"""Tokens, roles and route rules, without a server."""

from __future__ import annotations

import pytest

from serving.auth import Role, TokenError, TokenRegistry, allowed_roles, is_open, issue_token


def test_tokens_from_environment_and_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "tokens.json"
    secret = issue_token(path, "aud-1", "auditor")
    monkeypatch.setenv("JALON_TOKENS", "advisor:adv-1:Zk3_9QpL-x7RmT2vW8yNbC")
    registry = TokenRegistry.from_environment(path)
    assert registry.authenticate("Bearer Zk3_9QpL-x7RmT2vW8yNbC").subject == "adv-1"
    assert registry.authenticate(f"Bearer {secret}").role is Role.AUDITOR
    assert registry.authenticate("Bearer wrong") is None
    assert registry.authenticate(None) is None
    assert registry.authenticate("Basic Zk3_9QpL-x7RmT2vW8yNbC") is None


@pytest.mark.parametrize("entry", ["advisor:adv-1", "wizard:adv-1:x", "advisor:Jean Dupont:x"])
def test_bad_token_configuration_is_refused(monkeypatch, entry) -> None:
    monkeypatch.setenv("JALON_TOKENS", entry)
    with pytest.raises(TokenError):
        TokenRegistry.from_environment(None)


def test_route_rules() -> None:
    assert is_open("/livez")
    assert not is_open("/metrics")  # a scrape token is needed: metrics must not leak to anyone
    assert is_open("/ui/")
    assert is_open("/ui/static/jalon.js")
    assert is_open("/docs.json")
    assert is_open("/schema.json")
    assert not is_open("/suggest")
    assert not is_open("/report/abc")
    assert not is_open("/suggestions/x")
    assert allowed_roles("POST", "/suggest") == {Role.ADVISOR, Role.ADMIN}
    assert Role.AUDITOR in allowed_roles("GET", "/suggestions/abc")
    assert Role.AUDITOR not in allowed_roles("POST", "/decisions")
    assert allowed_roles("GET", "/audit/suggestions") == {Role.AUDITOR, Role.ADMIN}
    assert allowed_roles("GET", "/audit/oversight") == {Role.AUDITOR, Role.ADMIN}
    assert allowed_roles("GET", "/metrics") == {Role.AUDITOR, Role.ADMIN, Role.METRICS}
    # A scrape token opens nothing else, not even a route the table does not know.
    assert Role.METRICS not in allowed_roles("GET", "/suggestions/abc")
    assert Role.METRICS not in allowed_roles("GET", "/anything")
