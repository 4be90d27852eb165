"""Bearer tokens: issued, rotated, revoked and listed by ``jalon token``; read live by the servers.

Tokens come from a JSON file of *hashed* tokens (``JALON_TOKENS_FILE``, default
``$JALON_HOME/tokens.json``; only SHA-256 hashes are written) and/or the environment
(``JALON_TOKENS``: ``role:subject:token`` entries separated by commas, for tests and CI;
each token needs at least 128 bits, see :func:`token_bits`).

The file is written atomically (a private temporary file in the same folder, flushed to
disk, then renamed over the old one), with mode 0600 from its creation, under an exclusive
lock so that two ``jalon token`` commands cannot lose each other's change. A running server
re-reads it when it changes (checked at most every :data:`RELOAD_INTERVAL_S`), so rotation
and revocation take effect within about a second, without a restart. A file that cannot be
used (not JSON, a broken entry) makes every authenticated request fail with 503 and the
readiness probe fail, with one log line naming the problem: failing closed, because a revoked
token must not come back to life.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.config import get_settings
from core.errors import InvalidInput, NotFound, Unavailable
from serving.principal import Principal, Role

log = logging.getLogger("jalon.serving.tokens")

#: How often a server checks whether the tokens file changed.
RELOAD_INTERVAL_S = 1.0
#: The least guessing work a token may offer: 128 bits (``jalon token`` issues 192).
MIN_TOKEN_BITS = 128
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALPHABETS = (("0123456789abcdef", 4.0), ("0123456789ABCDEF", 4.0))
_URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


class TokenError(InvalidInput):
    """A token configuration that cannot be used."""


class TokensUnavailable(Unavailable):
    """The tokens file cannot be read as tokens: nobody can be authenticated until it is fixed."""


@dataclass(frozen=True)
class TokenEntry:
    """What ``jalon token --list`` shows: never a token, never its hash."""

    subject: str
    role: Role
    created_at: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_bits(token: str) -> float:
    """The guessing work of a token, in bits, from its length and the smallest alphabet it fits.

    Hexadecimal gives 4 bits a character, URL-safe base64 (``secrets.token_urlsafe``) 6; any
    other character counts as printable ASCII (about 6.6 bits). A token made of fewer than
    8 distinct characters (``aaaa...``, ``abab...``) is judged by those only.
    """
    distinct = len(set(token))
    if distinct == 0:
        return 0.0
    per_char = next((bits for alphabet, bits in _ALPHABETS if set(token) <= set(alphabet)), None)
    if per_char is None:
        per_char = 6.0 if _URLSAFE.match(token) else math.log2(95)
    if distinct < 8:
        per_char = min(per_char, math.log2(distinct))
    return len(token) * per_char


def principal_of(subject: str, role: str) -> Principal:
    if not isinstance(subject, str) or not _SUBJECT.match(subject):
        raise TokenError(f"token subject {subject!r} must be a pseudonymous id (letters, digits, - and _)")
    try:
        return Principal(subject=subject, role=Role(role))
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise TokenError(f"unknown role {role!r}: must be one of {roles}") from None


def environment_entries() -> list[tuple[str, Principal]]:
    """``JALON_TOKENS`` as (hash, principal) pairs; :class:`TokenError` naming a bad entry."""
    entries = []
    for number, entry in enumerate(get_settings().env_tokens, start=1):
        parts = entry.split(":", 2)
        if len(parts) != 3:
            raise TokenError(f"JALON_TOKENS entry {number} must be role:subject:token")
        role, subject, token = parts
        principal = principal_of(subject, role)
        if token_bits(token) < MIN_TOKEN_BITS:
            raise TokenError(
                f"JALON_TOKENS entry {number} ({principal.subject}): the token has {token_bits(token):.0f} bits, "
                f"at least {MIN_TOKEN_BITS} are needed (e.g. 22 random URL-safe characters; `jalon token` makes them)"
            )
        entries.append((hash_token(token), principal))
    return entries


# --------------------------------------------------------------------------- the file


def read_entries(path: Path) -> list[dict]:
    """The file's entries, checked; :class:`TokenError` naming the problem. A missing file has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenError(f"{path}: cannot be read ({type(exc).__name__})") from exc
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TokenError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    if not isinstance(entries, list):
        raise TokenError(f"{path}: must be a JSON list of tokens")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("sha256", "subject", "role")):
            raise TokenError(f"{path}: entry {i} needs sha256, subject and role (text)")
        if not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
            raise TokenError(f"{path}: entry {i} ({entry['subject']}): sha256 is not a SHA-256 hex digest")
        principal_of(entry["subject"], entry["role"])
    return entries


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_atomically(path: Path, entries: list[dict]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600 from creation
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself is durable
    finally:
        os.close(dir_fd)


def issue_token(path: Path, subject: str, role: str) -> str:
    """Create (or rotate) the subject's token; store only its hash; return the token (shown once)."""
    principal = principal_of(subject, role)
    token = secrets.token_urlsafe(24)
    with _locked(path):
        entries = [e for e in read_entries(path) if e["subject"] != principal.subject]
        entries.append(
            {
                "subject": principal.subject,
                "role": principal.role.value,
                "sha256": hash_token(token),
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        )
        _write_atomically(path, entries)
    return token


def revoke_token(path: Path, subject: str) -> None:
    """Remove the subject's token; :class:`NotFound` if the file has none for it."""
    with _locked(path):
        entries = read_entries(path)
        kept = [e for e in entries if e["subject"] != subject]
        if len(kept) == len(entries):
            raise NotFound(f"no token for subject {subject!r} in {path}")
        _write_atomically(path, kept)


def list_tokens(path: Path) -> list[TokenEntry]:
    """Subjects, roles and creation times of the file's tokens (never the tokens or their hashes)."""
    return [
        TokenEntry(subject=e["subject"], role=Role(e["role"]), created_at=e.get("created_at"))
        for e in read_entries(path)
    ]


# --------------------------------------------------------------------------- the registry


class TokenRegistry:
    """Hashed tokens and the principal each one stands for, re-read when the file changes."""

    def __init__(self, path: Path | None = None, *, environment: bool = True) -> None:
        self.path = path
        self._environment = environment
        self._lock = threading.Lock()
        self._by_hash: dict[str, Principal] = {}
        self._problem: str | None = None
        self._signature: tuple[int, int, int] | None = None
        self._checked = -math.inf
        self._reload()

    @classmethod
    def from_environment(cls, tokens_file: Path | None = None) -> TokenRegistry:
        """The registry of ``JALON_TOKENS`` and ``tokens_file``; :class:`TokenError` if unusable."""
        registry = cls(tokens_file)
        if registry.problem is not None:
            raise TokenError(registry.problem)
        return registry

    def __len__(self) -> int:
        self.refresh()
        return len(self._by_hash)

    @property
    def problem(self) -> str | None:
        """Why no one can be authenticated (None when the tokens are usable)."""
        self.refresh()
        return self._problem

    def _file_signature(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the file if it changed since the last look (at most every :data:`RELOAD_INTERVAL_S`)."""
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_INTERVAL_S:
            return
        with self._lock:
            self._checked = now
            if force or self._file_signature() != self._signature:
                self._reload()

    def _reload(self) -> None:
        signature = self._file_signature()
        try:
            entries = environment_entries() if self._environment else []
            if self.path is not None:
                entries += [(e["sha256"], principal_of(e["subject"], e["role"])) for e in read_entries(self.path)]
        except TokenError as exc:
            if str(exc) != self._problem:
                log.error("tokens unusable, every authenticated request is refused until fixed: %s", exc)
            self._problem, self._by_hash, self._signature = str(exc), {}, signature
            return
        if self._problem is not None:
            log.warning("tokens usable again (%d token(s))", len(entries))
        self._problem, self._by_hash, self._signature = None, dict(entries), signature

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of an ``Authorization: Bearer <token>`` header, or None.

        :class:`TokensUnavailable` when the tokens cannot be read (nobody is authenticated then).
        """
        self.refresh()
        if self._problem is not None:
            raise TokensUnavailable("authentication is unavailable: the tokens cannot be read (see the server log)")
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token_hash = hash_token(authorization[7:].strip())
        found = None
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, token_hash):
                found = principal
        return found

    def has_subject(self, subject: str, role: Role) -> bool:
        """Whether a usable token names ``subject`` with ``role`` (an advisor that exists)."""
        self.refresh()
        return any(p.subject == subject and p.role is role for p in self._by_hash.values())


_SHARED: TokenRegistry | None = None
_SHARED_LOCK = threading.Lock()


def shared_registry() -> TokenRegistry:
    """This process's registry over the settings' tokens (created on first use)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = TokenRegistry(get_settings().tokens_file)
        return _SHARED
