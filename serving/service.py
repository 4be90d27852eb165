"""The BentoML service: IO models and wiring only (the logic is in :mod:`serving.logic`).

Routes (all in :mod:`serving.routes`, documented by :mod:`serving.openapi` at ``/docs.json``):
``POST /suggest``, ``/suggest_batch``, ``/decisions``, ``/my_decisions``, ``/whoami``,
``/model_inputs``, ``/path_preview``; the person's side: ``POST /contests``,
``/open_contests``, ``/contest_outcomes``, ``GET /contract/{decision_id}`` (and ``.pdf``);
``GET /suggestions/{id}``, ``/report/{id}``; for auditors ``GET /audit/suggestions``,
``/audit/oversight``, ``/oversight/person_side``; the advisor page under ``/ui/``;
``/livez``, ``/readyz``, ``/metrics``. The model served is ``$JALON_BENTO_MODEL`` (set by
``jalon serve`` after importing the registry's champion), resolved when this module is imported.

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
from models.loading import load_segmentation
from models.suggestion import Recommendation, Suggestion
from records import DecisionConflict, DecisionStore, SuggestionRecord
from serving import audit, logic, privacy, routes
from serving.auth import AuthMiddleware, Principal, Role
from serving.contests import Contests, contest_to_dict, outcome_to_dict
from serving.contract import contract_html, contract_pdf, contract_reference
from serving.documents import DocumentPagesMiddleware
from serving.endpoints import OwnEndpoints
from serving.errors import BadRequest, ErrorBodyMiddleware, error_response
from serving.gate import RequestGate
from serving.health import HEALTH
from serving.schemas import (
    SUGGESTION_ID_PATTERN,
    BatchOut,
    ContestIn,
    ContestOut,
    ContestOutcomeIn,
    ContestResolution,
    DecisionIn,
    DecisionOut,
    EmptyIn,
    ModelInputs,
    MyDecisionsIn,
    PathPreviewIn,
    SuggestionHistory,
    WhoAmI,
)
from serving.served import served_request_models
from serving.tokens import shared_registry
from serving.ui import report_html, ui_app

privacy.install()
SETTINGS = get_settings()
#: The served model's spec decides the suggestion request models, the OpenAPI document and the
#: advisor page's form: the reference profile's model keeps the profile schema.
SuggestIn, SuggestBatchIn = served_request_models(SETTINGS.bento_model_tag)
routes.use_suggestion_bodies(SuggestIn, SuggestBatchIn)


def _sub_app(title: str) -> FastAPI:
    # No FastAPI documentation of its own: /docs.json is the one document of the service.
    return FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)


read_app = _sub_app("Jalon reads")
report_app = _sub_app("Jalon person report")
contract_app = _sub_app("Jalon contrat d'engagement")
oversight_app = _sub_app("Jalon person-side oversight")
_ID = re.compile(SUGGESTION_ID_PATTERN)


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


def _check_id(value: str, name: str) -> None:
    if not _ID.match(value):
        raise BadRequest(f"{name}: must match {SUGGESTION_ID_PATTERN}")


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
@bentoml.asgi_app(contract_app, path="/contract")
@bentoml.asgi_app(oversight_app, path="/oversight")
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
        self.contests = Contests(self.advisory)
        # The loaded model and libraries are long-lived: move them out of the collector's
        # reach so that full collections (100-200 ms here) do not stall requests.
        gc.collect()
        gc.freeze()

    # -- suggestions and decisions ------------------------------------------------------
    @bentoml.api(route="/suggest", input_spec=SuggestIn)
    def suggest(self, profile: Any, ctx: bentoml.Context) -> Suggestion:
        """Suggest a primary need and an employability tier for one profile, explained.

        Every input the served model uses must be present unless training saw it missing
        (``POST /model_inputs`` lists them); leaving one out is a 422 naming it. In the MSA
        experiment the agency's arm decides the rest (``routes.SUGGEST_DESCRIPTION``).
        """
        try:
            return self.advisory.suggest([profile.model_dump()], _principal(ctx))[0]
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /suggest")

    @bentoml.api(route="/suggest_batch", input_spec=SuggestBatchIn)
    def suggest_batch(self, profiles: list[Any], ctx: bentoml.Context) -> BatchOut:
        """Suggestions for up to 1,000 profiles (all or none: 409 if one agency is not served, as /suggest)."""
        try:
            return BatchOut(suggestions=self.advisory.suggest([p.model_dump() for p in profiles], _principal(ctx)))
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /suggest_batch")

    @bentoml.api(route="/model_inputs", input_spec=EmptyIn)
    def model_inputs(self, ctx: bentoml.Context) -> ModelInputs:
        """The served model's inputs: ``required``, ``may_be_missing`` (« non renseigné » allowed) and ``unused``."""
        _principal(ctx)
        return ModelInputs.model_validate(self.advisory.inputs.to_dict())

    @bentoml.api(route="/path_preview", input_spec=PathPreviewIn)
    def path_preview(self, ctx: bentoml.Context, **body: Any) -> Recommendation:
        """The path a decision with this need and tier would record today; nothing is recorded."""
        try:
            return self.advisory.preview_path(
                body["suggestion_id"], body.get("need"), body.get("tier"), _principal(ctx)
            )
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /path_preview")

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
        """The signed-in advisor's most recent decisions, with each person's pseudonymous id."""
        try:
            records = self.advisory.my_decisions(_principal(ctx), limit)
            persons = self.advisory.store.person_ids(sorted({r.suggestion_id for r in records}))
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /my_decisions")
        return [DecisionOut.model_validate(logic.decision_to_dict(r, persons.get(r.suggestion_id))) for r in records]

    @bentoml.api(route="/whoami", input_spec=EmptyIn)
    def whoami(self, ctx: bentoml.Context) -> WhoAmI:
        """Who the token belongs to (the advisor page signs in with it)."""
        principal = _principal(ctx)
        return WhoAmI(subject=principal.subject, role=principal.role.value, model_version=self.advisory.model_version)

    # -- reads: the suggestion, the person's report and contract ------------------------
    def _read(self, suggestion_id: str, request: Request, where: str) -> SuggestionRecord | JSONResponse:
        try:
            _check_id(suggestion_id, "suggestion_id")
            return self.advisory.read(suggestion_id, _principal(request))
        except JalonError as exc:
            return error_response(exc, where)

    @read_app.get("/{suggestion_id}", response_model=SuggestionHistory)
    def get_suggestion(self, suggestion_id: str, request: Request):
        """A suggestion with its decisions, oldest first, and its contests (advisors: their own; auditors: all)."""
        found = self._read(suggestion_id, request, "GET /suggestions/{suggestion_id}")
        if isinstance(found, JSONResponse):
            return found
        principal = _principal(request)
        try:
            contests = self.contests.for_suggestion(suggestion_id)
        except JalonError as exc:
            return error_response(exc, "GET /suggestions/{suggestion_id}")
        return {
            "suggestion": logic.suggestion_to_dict(found),
            "decisions": [logic.decision_to_dict(d, found.person_id) for d in found.decisions],
            "contests": [contest_to_dict(c, principal) for c in contests],
        }

    @report_app.get("/{suggestion_id}", response_class=HTMLResponse)
    def report(self, suggestion_id: str, request: Request):
        """The person's explanation report, printable, in French."""
        found = self._read(suggestion_id, request, "GET /report/{suggestion_id}")
        if isinstance(found, JSONResponse):
            return found
        try:
            contests = self.contests.for_suggestion(suggestion_id)
        except JalonError as exc:
            return error_response(exc, "GET /report/{suggestion_id}")
        return HTMLResponse(report_html(found, contests=contests))

    def _decision(self, decision_id: str, request: Request, where: str):
        try:
            _check_id(decision_id, "decision_id")
            return self.advisory.read_decision(decision_id, _principal(request))
        except JalonError as exc:
            return error_response(exc, where)

    @contract_app.get("/{decision_id}.pdf", response_class=Response)
    def contract_as_pdf(self, decision_id: str, request: Request):
        """The person's contrat d'engagement as a PDF (same access rules as the report)."""
        found = self._decision(decision_id, request, "GET /contract/{decision_id}.pdf")
        if isinstance(found, JSONResponse):
            return found
        name = f"contrat-engagement-{contract_reference(found[1].decision_id)}.pdf"
        return Response(
            contract_pdf(*found),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
        )

    @contract_app.get("/{decision_id}", response_class=HTMLResponse)
    def contract(self, decision_id: str, request: Request):
        """The person's contrat d'engagement, printable HTML in French."""
        found = self._decision(decision_id, request, "GET /contract/{decision_id}")
        if isinstance(found, JSONResponse):
            return found
        return HTMLResponse(contract_html(*found), headers={"Cache-Control": "no-store"})

    # -- contests -----------------------------------------------------------------------
    @bentoml.api(route="/contests", input_spec=ContestIn)
    def record_contest(self, ctx: bentoml.Context, **body: Any) -> ContestOut:
        """Record a person's contest of the latest decision on a suggestion (advisor: own; auditor: any).

        The suggestion is flagged for re-examination by another advisor (``POST /open_contests``).
        """
        principal = _principal(ctx)
        try:
            return ContestOut.model_validate(contest_to_dict(self.contests.record(body, principal), principal))
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /contests")

    @bentoml.api(route="/open_contests", input_spec=EmptyIn)
    def open_contests(self, ctx: bentoml.Context) -> list[ContestOut]:
        """Contests waiting for re-examination, the longest-waiting first (``may_reexamine`` for the caller)."""
        principal = _principal(ctx)
        try:
            waiting = self.contests.open_contests()
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /open_contests")
        return [ContestOut.model_validate(contest_to_dict(c, principal)) for c in waiting]

    @bentoml.api(route="/contest_outcomes", input_spec=ContestOutcomeIn)
    def contest_outcome(self, ctx: bentoml.Context, **body: Any) -> ContestResolution:
        """Another advisor maintains the contested decision or revises it, with a reason for the person."""
        principal = _principal(ctx)
        try:
            contest, decision = self.contests.resolve(body, principal)
        except JalonError as exc:
            return _refuse(ctx, exc, "POST /contest_outcomes")
        return ContestResolution.model_validate(outcome_to_dict(contest, decision, principal))

    # -- oversight (auditors and admins; the role is checked by the route table) ---------
    @oversight_app.get("/person_side")
    def person_side(self, request: Request):
        """Agreement between the person's view, the tool and the advisor; open contests and their age."""
        try:
            return self.advisory.store.person_side_figures()
        except JalonError as exc:
            return error_response(exc, "GET /oversight/person_side")

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


# The first added is the outermost: the gate sees every request first and counts it; a
# document link opened without a token gets a French page before authentication answers.
for middleware in (RequestGate, DocumentPagesMiddleware, AuthMiddleware, OwnEndpoints, ErrorBodyMiddleware):
    Jalon.add_asgi_middleware(middleware)  # type: ignore[attr-defined]  # a bentoml Service, not the plain class
