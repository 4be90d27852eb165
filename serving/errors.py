"""One error shape for every 4xx: ``{"error": "...", "detail": [...]?}``.

BentoML 1.4 renders a ``BentoMLException`` raised by an API as a one-element JSON *list*
(``[{"error": ...}]``) while its validation errors are an object. This middleware unwraps
the list so that clients see a single shape. It touches only error responses whose body
is exactly such a list.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import Conflict, Forbidden, InvalidInput, JalonError, NotFound, Refused, Unavailable

#: The HTTP status of each kind of user-facing error (the first matching class wins).
STATUS_OF: tuple[tuple[type[JalonError], HTTPStatus], ...] = (
    (NotFound, HTTPStatus.NOT_FOUND),
    (Conflict, HTTPStatus.CONFLICT),
    (Forbidden, HTTPStatus.FORBIDDEN),
    (Unavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (Refused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (InvalidInput, HTTPStatus.UNPROCESSABLE_ENTITY),
)


def status_of(exc: JalonError) -> HTTPStatus:
    """The HTTP status for a user-facing error (422 for any kind not listed)."""
    return next((status for kind, status in STATUS_OF if isinstance(exc, kind)), HTTPStatus.UNPROCESSABLE_ENTITY)


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
            body = _unwrap(b"".join(chunks))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def _unwrap(body: bytes) -> bytes:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict) and "error" in parsed[0]:
        return json.dumps(parsed[0]).encode()
    return body
