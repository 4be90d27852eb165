"""The BentoML service: IO models and wiring only (the logic is in :mod:`serving.logic`).

Routes (all in :mod:`serving.routes`, documented by :mod:`serving.openapi` at ``/docs.json``):
``POST /suggest``, ``/suggest_batch``, ``/decisions``, ``/my_decisions``, ``/whoami``;
``GET /suggestions/{id}``, ``/report/{id}``, ``/audit/suggestions``, ``/audit/oversight``;
the advisor page under ``/ui/``; ``/livez``, ``/readyz``, ``/metrics``. The model served is
``$JALON_BENTO_MODEL`` (set by ``jalon serve`` after importing the registry's champion),
resolved when this module is imported.

Each JSON route takes one strict, closed pydantic model (``input_spec``), so BentoML refuses
unknown fields and coerces nothing. A request first passes :class:`~serving.gate.RequestGate`
(headers, content type, size), then :class:`~serving.auth.AuthMiddleware` (token and role).
"""

from __future__ import annotations

import gc
import re
from typing import Any

import bentoml
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from core.config import get_settings
from core.errors import JalonError
from features.api_models import Profile
from models.loading import load_segmentation
from models.suggestion import Suggestion
from records import DecisionConflict, DecisionStore, SuggestionRecord
from serving import audit, logic, privacy
from serving.auth import AuthMiddleware, Principal, Role
from serving.endpoints import OwnEndpoints
from serving.errors import BadRequest, ErrorBodyMiddleware, error_response
from serving.gate import RequestGate
from serving.health import HEALTH
from serving.schemas import (
    SUGGESTION_ID_PATTERN,
    BatchOut,
    DecisionIn,
    DecisionOut,
    EmptyIn,
    MyDecisionsIn,
    SuggestBatchIn,
    SuggestIn,
    SuggestionHistory,
    WhoAmI,
)
from serving.tokens import shared_registry
from serving.ui import report_html, ui_app

privacy.install()
SETTINGS = get_settings()
read_app = FastAPI(title="Jalon reads", docs_url=None, redoc_url=None, openapi_url=None)
report_app = FastAPI(title="Jalon person report", docs_url=None, redoc_url=None, openapi_url=None)
_SUGGESTION_ID = re.compile(SUGGESTION_ID_PATTERN)


def _principal(ctx: bentoml.Context | Request) -> Principal:
    request = ctx.request if isinstance(ctx, bentoml.Context) else ctx
    principal = request.scope.get("state", {}).get("principal")
    if principal is None:  # the middleware guarantees it; never serve without it
        raise RuntimeError("a route that needs a principal was reached without one")
    return principal


def _refuse(ctx: bentoml.Context, exc: JalonError, where: str) -> Any:
    """An API method's error response (BentoML sets a returned response's status from the context)."""
    response = error_response(exc, where)
    ctx.response.status_code = response.status_code
    return response


@bentoml.service(
    name="jalon",
    traffic={"timeout": 60, "max_concurrency": 64},
    workers=SETTINGS.workers,
    # Sync APIs run one at a time per worker unless threads are given; LightGBM and SQLite
    # release the GIL, and the store queues this process's writers on its own lock.
    threads=SETTINGS.threads,
    # BentoML's request metrics label raw paths (ids leak, labels grow without bound):
    # serving.metrics counts by route template instead.
    metrics={"enabled": False},
)
@bentoml.asgi_app(read_app, path="/suggestions")
@bentoml.asgi_app(report_app, path="/report")
@bentoml.asgi_app(audit.audit_app, path="/audit")
@bentoml.asgi_app(ui_app, path="/ui")
class Jalon:
    bento_model = bentoml.models.BentoModel(SETTINGS.bento_model_tag)

    def __init__(self) -> None:
        model = load_segmentation(self.bento_model.path_of("mlflow_model"))
        model.set_threads(1)
        version = self.bento_model.info.labels.get("registry_version", str(self.bento_model.tag.version))
        # A database that cannot be opened now does not stop the server: it is not ready, and
        # recovers by itself once the database is fixed.
        store = DecisionStore(open_later=True)
        HEALTH.watch_store(store)
        tokens = shared_registry()
        self.advisory = logic.Advisory(
            model, version, store, known_advisor=lambda subject: tokens.has_subject(subject, Role.ADVISOR)
        )
        # The loaded model and libraries are long-lived: move them out of the collector's
        # reach so that full collections (100-200 ms here) do not stall requests.
        gc.collect()
        gc.freeze()

    @bentoml.api(route="/suggest", input_spec=SuggestIn)
    def suggest(self, profile: Profile, ctx: bentoml.Context) -> Suggestion:  # type: ignore[valid-type]
        """Suggest a primary need and an employability tier for one profile, explained."""
        try:
            return self.advisory.suggest([profile.model_dump()], _principal(ctx))[0]
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /suggest")

    @bentoml.api(route="/suggest_batch", input_spec=SuggestBatchIn)
    def suggest_batch(self, profiles: list[Profile], ctx: bentoml.Context) -> BatchOut:  # type: ignore[valid-type]
        """Suggestions for up to 1,000 profiles."""
        try:
            return BatchOut(suggestions=self.advisory.suggest([p.model_dump() for p in profiles], _principal(ctx)))
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /suggest_batch")

    @bentoml.api(route="/decisions", input_spec=DecisionIn)
    def decisions(self, ctx: bentoml.Context, **body: Any) -> DecisionOut:
        """Record the advisor's decision: confirm, or override the need and/or tier with a coded reason."""
        try:
            record = self.advisory.decide(body, _principal(ctx))
        except DecisionConflict:
            exc = DecisionConflict(
                f"suggestion_id {body['suggestion_id']!r} already has a decision; "
                "send revision=true to revise it (history is kept)"
            )
            return _refuse(ctx, exc, "POST /decisions")
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /decisions")
        return DecisionOut.model_validate(logic.decision_to_dict(record))

    @bentoml.api(route="/my_decisions", input_spec=MyDecisionsIn)
    def my_decisions(self, limit: int, ctx: bentoml.Context) -> list[DecisionOut]:
        """The signed-in advisor's most recent decisions."""
        try:
            records = self.advisory.my_decisions(_principal(ctx), limit)
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /my_decisions")
        return [DecisionOut.model_validate(logic.decision_to_dict(r)) for r in records]

    @bentoml.api(route="/whoami", input_spec=EmptyIn)
    def whoami(self, ctx: bentoml.Context) -> WhoAmI:
        """Who the token belongs to (the advisor page signs in with it)."""
        principal = _principal(ctx)
        return WhoAmI(subject=principal.subject, role=principal.role.value, model_version=self.advisory.model_version)

    def _read(self, suggestion_id: str, request: Request, where: str) -> SuggestionRecord | JSONResponse:
        try:
            if not _SUGGESTION_ID.match(suggestion_id):
                raise BadRequest(f"suggestion_id: must match {SUGGESTION_ID_PATTERN}")
            return self.advisory.read(suggestion_id, _principal(request))
        except JalonError as exc:
            return error_response(exc, where)

    @read_app.get("/{suggestion_id}", response_model=SuggestionHistory)
    def get_suggestion(self, suggestion_id: str, request: Request):
        """A suggestion with its decisions, oldest first (advisors: their own; auditors: all)."""
        found = self._read(suggestion_id, request, "GET /suggestions/{suggestion_id}")
        if isinstance(found, JSONResponse):
            return found
        return {
            "suggestion": logic.suggestion_to_dict(found),
            "decisions": [logic.decision_to_dict(d) for d in found.decisions],
        }

    @report_app.get("/{suggestion_id}", response_class=HTMLResponse)
    def report(self, suggestion_id: str, request: Request):
        """The person's explanation report, printable, in French."""
        found = self._read(suggestion_id, request, "GET /report/{suggestion_id}")
        if isinstance(found, JSONResponse):
            return found
        return HTMLResponse(report_html(found))

    @audit.audit_app.get("/suggestions")
    def audit_suggestions(self, request: Request) -> Response:
        """Suggestions with the outcome of their decisions: filtered, paged, or exported (CSV, Parquet)."""
        try:
            return audit.list_response(self.advisory.store, request.query_params.multi_items())
        except JalonError as exc:
            return error_response(exc, "GET /audit/suggestions")

    @audit.audit_app.get("/oversight")
    def audit_oversight(self, request: Request) -> Response:
        """Override, revision and quick-confirmation rates with their intervals."""
        try:
            figures = audit.oversight_response(self.advisory.store, request.query_params.multi_items())
        except JalonError as exc:
            return error_response(exc, "GET /audit/oversight")
        return Response(figures.model_dump_json(), media_type="application/json")


# The first added is the outermost: the gate sees every request first and counts it.
for middleware in (RequestGate, AuthMiddleware, OwnEndpoints, ErrorBodyMiddleware):
    Jalon.add_asgi_middleware(middleware)  # type: ignore[attr-defined]  # a bentoml Service, not the plain class
