"""The first thing a request meets: refuse at once what the service cannot read, count every request.

In order, before BentoML parses anything:

1. a header name or value that is not valid UTF-8: 400, naming the header;
2. a body sent as anything but JSON (``application/json``, optionally ``charset=utf-8``) to a
   route that takes one, multipart included: 415 (a route that takes no body, or no route, is
   left to the app: 404 or 405 without reading the body);
3. a body larger than :data:`MAX_BODY_BYTES`: 413, from ``Content-Length`` before reading
   anything, or as soon as a chunked body passes the limit (it is never parsed);
4. anything raised below before the response started: 500 at once, with the exception's type
   in the log (BentoML's timeout middleware would otherwise wait its full 60 s).

Every request is counted in :mod:`serving.metrics` by route template.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving import metrics, routes

log = logging.getLogger("jalon.serving.gate")

#: The largest request body: 2 MiB. A batch of 1,000 profiles is 0.88 MB as compact JSON and
#: 1.55 MB at worst (4-space indentation, 64-character ids, 17-digit numbers), so the limit
#: leaves a third of headroom while bounding what one request can make a worker hold.
MAX_BODY_BYTES = 2 * 1024 * 1024
_JSON = "application/json"


async def _respond(send: Send, status: int, body: dict, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _header_problem(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        try:
            name.decode("utf-8")
            value.decode("utf-8")
        except UnicodeDecodeError:
            shown = name.decode("latin-1").encode("ascii", "replace").decode()
            return f"request header {shown!r} is not valid UTF-8"
    return None


def _media_problem(content_type: str | None) -> str | None:
    if content_type is None:
        return "send the body as JSON with 'Content-Type: application/json'"
    media, _, params = content_type.partition(";")
    if media.strip().lower() != _JSON:
        return f"unsupported content type {media.strip()[:60]!r}: send the body as JSON ('application/json')"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return "the JSON body must be UTF-8 (charset=utf-8)"
    return None


class RequestGate:
    """Refuse unreadable requests before BentoML sees them; never hang; count every request."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def counted_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            await send(message)

        try:
            await self._handle(scope, receive, counted_send)
        except Exception as exc:
            # Never leave the client waiting: BentoML's timeout middleware above would hold the
            # request for its full 60 s before a bare 500 with nothing logged.
            log.error("unhandled %s on %s %s", type(exc).__name__, scope["method"], _path_label(scope))
            if not response_started:
                await _respond(counted_send, 500, {"error": "internal error; see the server log"})
        finally:
            metrics.observe(scope["method"], scope["path"], status, time.perf_counter() - started)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _header_problem(scope)
        if problem is not None:
            await _respond(send, 400, {"error": problem})
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        route = routes.match(scope["method"], scope["path"])
        takes_body = route is not None and route.body is not None
        # A route that takes no body (or no such route) is left to the app: 404 or 405, body unread.
        problem = _media_problem(headers.get("content-type")) if takes_body else None
        if problem is not None:
            await _respond(send, 415, {"error": problem})
            return
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await _respond(send, 400, {"error": "Content-Length must be a whole number of bytes"})
                return
            if int(length) > self.max_body:
                await _respond(send, 413, self._too_large())
                return
        if not takes_body:
            await self.app(scope, receive, send)
            return
        body_receive = await self._buffered(receive)
        if body_receive is None:
            await _respond(send, 413, self._too_large())
            return
        await self.app(scope, body_receive, send)

    def _too_large(self) -> dict:
        return {"error": f"request body larger than {self.max_body:,} bytes (a batch holds at most 1,000 profiles)"}

    async def _buffered(self, receive: Receive) -> Callable[[], Awaitable[Message]] | None:
        """Read the whole body (at most ``max_body`` bytes) and give it back in one message; None if too large."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first: Message | None = message
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                first = None
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if first is not None:
                    return first
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return replay


def _path_label(scope: Scope) -> str:
    return routes.label(scope["method"], scope["path"])
