"""Tokens: issued, rotated, revoked and listed atomically in a private file; read live by a registry."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest

from core.errors import NotFound
from serving.principal import Role
from serving.tokens import (
    RELOAD_INTERVAL_S,
    TokenError,
    TokenRegistry,
    TokensUnavailable,
    issue_token,
    list_tokens,
    revoke_token,
    token_bits,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_file_is_private_from_creation_and_never_holds_a_token(tmp_path) -> None:
    path = tmp_path / "home" / "tokens.json"
    old_umask = os.umask(0o022)
    try:
        token = issue_token(path, "adv-1", "advisor")
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600
    text = path.read_text()
    assert token not in text
    entry = json.loads(text)[0]
    assert set(entry) == {"subject", "role", "sha256", "created_at"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json", "tokens.json.lock"]


def test_rotate_revoke_and_list(tmp_path) -> None:
    path = tmp_path / "tokens.json"
    first = issue_token(path, "adv-1", "advisor")
    issue_token(path, "aud-1", "auditor")
    second = issue_token(path, "adv-1", "advisor")  # rotation: the subject's old token is replaced
    assert first != second
    listed = list_tokens(path)
    assert [(e.subject, e.role) for e in listed] == [("aud-1", Role.AUDITOR), ("adv-1", Role.ADVISOR)]
    assert all(e.created_at for e in listed)
    registry = TokenRegistry(path, environment=False)
    assert registry.authenticate(f"Bearer {first}") is None
    assert registry.authenticate(f"Bearer {second}").subject == "adv-1"
    revoke_token(path, "adv-1")
    assert [e.subject for e in list_tokens(path)] == ["aud-1"]
    with pytest.raises(NotFound):
        revoke_token(path, "adv-1")
    assert mode(path) == 0o600


def test_concurrent_writers_lose_nothing(tmp_path) -> None:
    path = tmp_path / "tokens.json"
    subjects = [f"adv-{i}" for i in range(16)]
    threads = [threading.Thread(target=issue_token, args=(path, s, "advisor")) for s in subjects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(e.subject for e in list_tokens(path)) == sorted(subjects)


def test_registry_follows_the_file_live(tmp_path) -> None:
    path = tmp_path / "tokens.json"
    token = issue_token(path, "adv-1", "advisor")
    registry = TokenRegistry(path, environment=False)
    assert registry.authenticate(f"Bearer {token}").role is Role.ADVISOR
    revoke_token(path, "adv-1")
    time.sleep(RELOAD_INTERVAL_S + 0.1)
    assert registry.authenticate(f"Bearer {token}") is None
    new = issue_token(path, "adv-1", "advisor")
    time.sleep(RELOAD_INTERVAL_S + 0.1)
    assert registry.authenticate(f"Bearer {new}").subject == "adv-1"
    assert registry.has_subject("adv-1", Role.ADVISOR)
    assert not registry.has_subject("ghost", Role.ADVISOR)


def test_a_corrupt_file_refuses_everyone_until_fixed(tmp_path, caplog) -> None:
    path = tmp_path / "tokens.json"
    token = issue_token(path, "adv-1", "advisor")
    registry = TokenRegistry(path, environment=False)
    good = path.read_text()
    path.write_text("[{")
    time.sleep(RELOAD_INTERVAL_S + 0.1)
    with caplog.at_level("ERROR", logger="jalon.serving.tokens"):
        with pytest.raises(TokensUnavailable):
            registry.authenticate(f"Bearer {token}")
        with pytest.raises(TokensUnavailable):
            registry.authenticate(f"Bearer {token}")
        assert "not JSON" in registry.problem
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, "one clear line, not one per request"
    assert str(path) in errors[0].getMessage()
    path.write_text(json.dumps([{"subject": "adv-1", "role": "advisor"}]))
    time.sleep(RELOAD_INTERVAL_S + 0.1)
    assert "entry 0 needs sha256" in registry.problem
    path.write_text(good)
    time.sleep(RELOAD_INTERVAL_S + 0.1)
    assert registry.authenticate(f"Bearer {token}").subject == "adv-1"
    assert registry.problem is None


@pytest.mark.parametrize(
    ("token", "ok"),
    [
        ("x", False),
        ("s3cret", False),
        ("a" * 64, False),  # long, but one character
        ("abababababababababababababababababababab", False),
        ("0123456789abcdef0123456789abcdef", True),  # 32 hex digits: 128 bits
        ("0123456789abcdef0123456789abcde", False),  # 31: 124 bits
        ("Zk3_9QpL-x7RmT2vW8yNbC", True),  # 22 URL-safe characters: 132 bits
    ],
)
def test_environment_tokens_need_128_bits(monkeypatch, token: str, ok: bool) -> None:
    monkeypatch.setenv("JALON_TOKENS", f"advisor:adv-1:{token}")
    assert (token_bits(token) >= 128) is ok
    if ok:
        assert TokenRegistry.from_environment(None).authenticate(f"Bearer {token}").subject == "adv-1"
    else:
        with pytest.raises(TokenError, match="at least 128"):
            TokenRegistry.from_environment(None)
