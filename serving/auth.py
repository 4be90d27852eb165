"""Bearer-token authentication with roles, as an ASGI middleware.

Roles: ``advisor`` (suggest, decide, read their own), ``auditor`` (read all), ``admin``
(everything). Tokens come from the environment (``JALON_TOKENS``, a secret that is never
committed: ``role:subject:token`` entries separated by commas) and/or a JSON file of
*hashed* tokens (``JALON_TOKENS_FILE``, default ``$JALON_HOME/tokens.json``) written by
``jalon token``. Only SHA-256 hashes are kept in memory and on disk.

Health, metrics, the OpenAPI document and the advisor page's static shell are open;
every other route needs a token (401 without or with a bad one) of an allowed role
(403 otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.config import get_settings
from core.errors import InvalidInput


class Role(StrEnum):
    ADVISOR = "advisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a pseudonymous subject (advisor id) and a role."""

    subject: str
    role: Role


class TokenError(InvalidInput):
    """A token configuration that cannot be used."""


_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRegistry:
    """Hashed tokens and the principal each one stands for."""

    def __init__(self, entries: Iterable[tuple[str, Principal]] = ()) -> None:
        self._by_hash: dict[str, Principal] = dict(entries)

    def __len__(self) -> int:
        return len(self._by_hash)

    @classmethod
    def from_environment(cls, tokens_file: Path | None = None) -> TokenRegistry:
        registry = cls()
        for entry in get_settings().env_tokens:
            parts = entry.split(":", 2)
            if len(parts) != 3:
                raise TokenError("JALON_TOKENS entries are role:subject:token separated by commas")
            role, subject, token = parts
            registry.add_hash(hash_token(token), _principal(subject, role))
        if tokens_file is not None and tokens_file.exists():
            registry.load_file(tokens_file)
        return registry

    def add_hash(self, token_hash: str, principal: Principal) -> None:
        self._by_hash[token_hash] = principal

    def load_file(self, path: Path) -> None:
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise TokenError(f"{path}: not a JSON list of tokens: {exc}") from exc
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            try:
                self.add_hash(entry["sha256"], _principal(entry["subject"], entry["role"]))
            except (KeyError, TypeError) as exc:
                raise TokenError(f"{path}: entry {i} needs sha256, subject and role") from exc

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of an ``Authorization: Bearer <token>`` header, or None."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token_hash = hash_token(authorization[7:].strip())
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, token_hash):
                return principal
        return None


def _principal(subject: str, role: str) -> Principal:
    if not _SUBJECT.match(subject):
        raise TokenError(f"token subject {subject!r} must be a pseudonymous id (letters, digits, - and _)")
    try:
        return Principal(subject=subject, role=Role(role))
    except ValueError:
        raise TokenError(f"unknown role {role!r}: must be advisor, auditor or admin") from None


def issue_token(path: Path, subject: str, role: str) -> str:
    """Create a token, store only its hash in ``path``, return the token (shown once)."""
    principal = _principal(subject, role)
    token = secrets.token_urlsafe(24)
    entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    entries = [e for e in entries if e.get("subject") != principal.subject]
    entries.append({"subject": principal.subject, "role": principal.role.value, "sha256": hash_token(token)})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    return token


#: Open routes: health, metrics, API description, the page's static shell.
OPEN_PREFIXES = ("/livez", "/readyz", "/healthz", "/metrics", "/docs", "/docs.json", "/ui", "/favicon.ico")
ALL_ROLES = frozenset(Role)
#: Roles allowed per route prefix; the first matching prefix wins; unknown routes need any role.
ROUTE_ROLES: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("POST", "/suggest", frozenset({Role.ADVISOR, Role.ADMIN})),
    ("POST", "/decisions", frozenset({Role.ADVISOR, Role.ADMIN})),
    ("POST", "/my_decisions", frozenset({Role.ADVISOR, Role.ADMIN})),
    ("POST", "/whoami", ALL_ROLES),
    ("GET", "/suggestions/", ALL_ROLES),
    ("GET", "/report/", ALL_ROLES),
    ("POST", "/audit", frozenset({Role.AUDITOR, Role.ADMIN})),
)


def allowed_roles(method: str, path: str) -> frozenset[Role]:
    for route_method, prefix, roles in ROUTE_ROLES:
        if method == route_method and path.startswith(prefix):
            return roles
    return ALL_ROLES


def is_open(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") or path.startswith(p + ".") for p in OPEN_PREFIXES)


class AuthMiddleware:
    """Authenticate every non-open HTTP request and check its role; the principal goes in
    ``scope["state"]["principal"]`` for handlers that check ownership."""

    def __init__(self, app: ASGIApp, registry: TokenRegistry | None = None) -> None:
        self.app = app
        self.registry = registry

    def _registry(self) -> TokenRegistry:
        if self.registry is None:
            self.registry = TokenRegistry.from_environment(get_settings().tokens_file)
        return self.registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        principal = self._registry().authenticate(headers.get("authorization"))
        if principal is None:
            response = JSONResponse(
                {"error": "authentication required: send 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        roles = allowed_roles(scope["method"], scope["path"])
        if principal.role not in roles:
            response = JSONResponse(
                {
                    "error": f"role {principal.role.value} may not {scope['method']} {scope['path']}; "
                    f"allowed: {', '.join(sorted(r.value for r in roles))}"
                },
                status_code=403,
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
