"""The routes the service answers itself, in front of BentoML's: ``/docs.json``, ``/metrics``, ``/readyz``.

Placed after authentication, so ``/metrics`` is served to a scrape token only (see
:mod:`serving.routes`). ``/docs.json`` is the project's OpenAPI 3.1 document
(:mod:`serving.openapi`) instead of BentoML's generated one. ``/readyz`` answers 503 with
the problems while there are any (:mod:`serving.health`), and otherwise lets BentoML answer.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from serving import metrics
from serving.health import HEALTH
from serving.openapi import openapi_document

#: The paths answered here (with GET or HEAD only).
OWN_PATHS = frozenset({"/docs.json", "/metrics", "/readyz"})


class OwnEndpoints:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._document: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        response: Response | None = None
        if path in OWN_PATHS and scope["method"] not in ("GET", "HEAD"):
            response = JSONResponse(
                {"error": f"{scope['method'][:10]} is not allowed on {path}: use GET"},
                status_code=405,
                headers={"Allow": "GET, HEAD"},
            )
            await response(scope, receive, send)
            return
        if path == "/docs.json":
            if self._document is None:
                self._document = json.dumps(openapi_document()).encode()
            response = Response(self._document, media_type="application/json")
        elif path == "/metrics":
            body, content_type = metrics.exposition()
            response = Response(body, media_type=content_type)
        elif path == "/readyz":
            problems = await run_in_threadpool(HEALTH.problems)  # the probe commits a write
            if problems:
                response = JSONResponse({"ready": False, "problems": problems}, status_code=503)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)
