"""A French page for a person's document opened directly (a bookmark, a pasted link).

``GET /report/{id}`` and ``GET /contract/{id}`` need the advisor's bearer token, which a
browser never sends by itself: a link opened in a new tab would get the API's English
JSON 401. This middleware answers such a navigation (no ``Authorization`` header, HTML
accepted) with a French page that says what the document is and how to open it: from the
advisor page, once signed in (the link to it carries the document, which the page offers
to open after sign-in). Nothing about the document is revealed; the status stays 401.
"""

from __future__ import annotations

import re

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.contract import TEMPLATES_DIR

__all__ = ["DocumentPagesMiddleware", "signed_out_page"]

#: The documents a browser may be asked to open directly, and their French names.
_DOCUMENT = re.compile(r"^/(?P<kind>report|contract)/(?P<id>[A-Za-z0-9_-]{1,128})(?P<pdf>\.pdf)?$")
_NAMES = {"report": "relevé d'explication", "contract": "contrat d'engagement"}
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

_env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(default=True))


def signed_out_page(kind: str | None, document_id: str | None) -> str:
    """The French page shown instead of a document opened without signing in."""
    return _env.get_template("signed_out.html").render(
        name=_NAMES.get(kind or "", "document"), kind=kind or "", document_id=document_id or ""
    )


class DocumentPagesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        match = _DOCUMENT.match(scope["path"])
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        wants_html = b"text/html" in headers.get(b"accept", b"")
        if match is None or b"authorization" in headers or not wants_html:
            await self.app(scope, receive, send)
            return
        response = HTMLResponse(
            signed_out_page(match["kind"], match["id"]),
            status_code=401,
            headers={
                "WWW-Authenticate": "Bearer",
                "Content-Security-Policy": _PAGE_CSP,
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )
        await response(scope, receive, send)
