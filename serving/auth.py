"""Bearer-token authentication with roles, as an ASGI middleware.

Roles (:class:`~serving.principal.Role`): ``advisor`` (suggest, decide, read their own),
``auditor`` (read all, oversight figures, metrics), ``admin`` (everything, including
deciding for an advisor), ``metrics`` (a Prometheus scrape token: ``GET /metrics`` only).
Tokens and their file: :mod:`serving.tokens`. Which route is open and which roles may call
it: :mod:`serving.routes`.

Health, the OpenAPI document, BentoML's service schema and the advisor page's static shell
are open; every other route needs a token (401 without or with a bad one, saying how to send
it) of an allowed role (403 naming the role and the roles allowed). When the tokens cannot
be read, every authenticated request gets 503 at once (never a hang).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from serving import routes
from serving.principal import Principal, Role
from serving.tokens import TokenError, TokenRegistry, TokensUnavailable, issue_token, shared_registry

__all__ = [
    "AuthMiddleware",
    "Principal",
    "Role",
    "TokenError",
    "TokenRegistry",
    "allowed_roles",
    "is_open",
    "issue_token",
]

#: Roles allowed on a path the route table does not know (the app then answers 404 or 405).
DEFAULT_ROLES = routes.ALL_STAFF


def allowed_roles(method: str, path: str) -> frozenset[Role]:
    route = routes.match(method, path)
    if route is None or route.roles is None:
        return DEFAULT_ROLES
    return route.roles


def is_open(path: str, method: str = "GET") -> bool:
    route = routes.match(method, path)
    return route is not None and route.open


class AuthMiddleware:
    """Authenticate every non-open HTTP request and check its role; the principal goes in
    ``scope["state"]["principal"]`` for handlers that check ownership."""

    def __init__(self, app: ASGIApp, registry: TokenRegistry | None = None) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"], scope["method"]):
            await self.app(scope, receive, send)
            return
        registry = self.registry or shared_registry()
        authorization = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"authorization"), None
        )
        try:
            principal = registry.authenticate(authorization)
        except TokensUnavailable as exc:
            await JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "5"})(scope, receive, send)
            return
        if principal is None:
            response = JSONResponse(
                {"error": "authentication required: send 'Authorization: Bearer <token>' with a valid token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        roles = allowed_roles(scope["method"], scope["path"])
        if principal.role not in roles:
            route = routes.match(scope["method"], scope["path"])
            where = route.template if route is not None else "this route"
            response = JSONResponse(
                {
                    "error": f"role {principal.role.value} may not {scope['method']} {where}; "
                    f"allowed: {', '.join(sorted(r.value for r in roles))}"
                },
                status_code=403,
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
