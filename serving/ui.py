"""The advisor page (/ui/) and the person's explanation report (placeholder, replaced next)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

ui_app = FastAPI(title="Jalon advisor page")


@ui_app.get("/", response_class=HTMLResponse)
def page() -> str:
    return "<!doctype html><html lang='fr'><title>Jalon</title><h1>Jalon</h1></html>"


def report_html(suggestion) -> str:
    return f"<!doctype html><html lang='fr'><title>Jalon</title><p>{suggestion.suggestion_id}</p></html>"
