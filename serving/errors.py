"""One error shape for every 4xx and 5xx: ``{"error": "...", "detail": [...]?}``.

The service's own errors are built here (:func:`error_response`, one HTTP status per kind of
:class:`~core.errors.JalonError`). What BentoML and Starlette answer by themselves is brought to
the same shape by :class:`ErrorBodyMiddleware`:

* BentoML renders an exception raised by an API as a one-element JSON *list*: unwrapped;
* its validation errors name an internal class (``1 validation error for SuggestInIODescriptor``):
  ``error`` becomes a sentence naming each field and rule, and ``detail`` keeps, for each item,
  only ``type``, ``loc``, ``msg`` and ``url`` (never the value sent);
* Starlette's and FastAPI's plain ``Not Found`` / ``Method Not Allowed`` (text, or
  ``{"detail": "..."}``) become ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import Conflict, Forbidden, InvalidInput, JalonError, NotFound, Refused, Unavailable

log = logging.getLogger("jalon.serving")


class BadRequest(InvalidInput):
    """A request that does not follow the documented rules (a parameter, a path): 400."""


#: The HTTP status of each kind of user-facing error (the first matching class wins).
STATUS_OF: tuple[tuple[type[JalonError], HTTPStatus], ...] = (
    (BadRequest, HTTPStatus.BAD_REQUEST),
    (NotFound, HTTPStatus.NOT_FOUND),
    (Conflict, HTTPStatus.CONFLICT),
    (Forbidden, HTTPStatus.FORBIDDEN),
    (Unavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (Refused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (InvalidInput, HTTPStatus.UNPROCESSABLE_ENTITY),
)
_SHOWN_RULES = 5


def status_of(exc: JalonError) -> HTTPStatus:
    """The HTTP status for a user-facing error (422 for any kind not listed)."""
    return next((status for kind, status in STATUS_OF if isinstance(exc, kind)), HTTPStatus.UNPROCESSABLE_ENTITY)


def error_response(exc: JalonError, where: str, status: HTTPStatus | None = None) -> JSONResponse:
    """The response for a user-facing error, logged at INFO (a client's mistake) or WARNING (503)."""
    status = status or status_of(exc)
    headers = {"Retry-After": "5"} if status == HTTPStatus.SERVICE_UNAVAILABLE else None
    cause = getattr(exc, "cause", None)
    if status >= 500:
        log.warning("%d on %s: %s%s", status, where, exc, f" [{cause}]" if cause else "")
    else:
        log.info("client error %d on %s: %s", status, where, type(exc).__name__)
    return JSONResponse({"error": str(exc)}, status_code=status, headers=headers)


def _rules_sentence(detail: list[dict[str, Any]]) -> str:
    shown = []
    for item in detail[:_SHOWN_RULES]:
        where = ".".join(str(part) for part in item.get("loc", ())) or "body"
        shown.append(f"{where}: {item.get('msg', 'invalid')}")
    more = len(detail) - len(shown)
    return f"{len(detail)} problem(s) in the request: " + "; ".join(shown) + (f"; and {more} more" if more else "")


def normalise(body: bytes, status: int) -> bytes:
    """An error body in the one shape (see the module's docstring)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip() or HTTPStatus(status).phrase
        return json.dumps({"error": text[:500]}).encode()
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict) and "error" in parsed[0]:
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        return json.dumps({"error": HTTPStatus(status).phrase}).encode()
    if "error" not in parsed and isinstance(parsed.get("detail"), str):
        return json.dumps({"error": parsed["detail"]}).encode()
    detail = parsed.get("detail")
    if isinstance(detail, list) and all(isinstance(d, dict) for d in detail):
        items = [{k: d[k] for k in ("type", "loc", "msg", "url") if k in d} for d in detail]
        return json.dumps({"error": _rules_sentence(items), "detail": items}).encode()
    return json.dumps(parsed).encode() if "error" in parsed else json.dumps({"error": str(parsed)[:500]}).encode()


class ErrorBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = normalise(b"".join(chunks), start["status"])
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")
            ]
            headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
