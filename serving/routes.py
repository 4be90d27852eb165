"""Every route of the service, once: who may call it, what it takes and what it answers.

The table drives the authentication middleware (:mod:`serving.auth`: open routes, roles),
the request gate (:mod:`serving.gate`: which bodies must be JSON), the metrics labels
(:mod:`serving.metrics`: route templates, never raw paths) and the OpenAPI document
(:mod:`serving.openapi`). ``tests/serving/test_openapi.py`` checks that every route the
server really has is in this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from models.suggestion import Recommendation, Suggestion
from records import AuditPage, OversightFigures
from serving.principal import Role
from serving.schemas import (
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
    NotReady,
    PathPreviewIn,
    SuggestBatchIn,
    SuggestIn,
    SuggestionHistory,
    WhoAmI,
)

ALL_STAFF = frozenset({Role.ADVISOR, Role.AUDITOR, Role.ADMIN})
DECIDERS = frozenset({Role.ADVISOR, Role.ADMIN})
AUDITORS = frozenset({Role.AUDITOR, Role.ADMIN})
SCRAPERS = frozenset({Role.AUDITOR, Role.ADMIN, Role.METRICS})
#: The label of a request that matches no route (metrics): one label, whatever the path.
UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Route:
    """One operation. ``roles`` None: open to anyone; ``prefix``: the template ends with ``{path}``
    and matches everything below it (static files)."""

    method: str
    template: str
    roles: frozenset[Role] | None
    summary: str
    operation_id: str = ""
    body: type[BaseModel] | None = None
    response: Any = None
    media: str = "application/json"
    statuses: tuple[int, ...] = ()
    description: str = ""
    parameters: tuple[dict[str, Any], ...] = ()
    extra_media: dict[str, dict[str, Any]] = field(default_factory=dict)
    prefix: bool = False
    documented: bool = True

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(self.template))
        if self.prefix:
            regex = regex.replace("[^/]+", ".*")
        return re.compile(f"^{regex}$")

    @property
    def open(self) -> bool:
        return self.roles is None


_ID_PARAMETER = {
    "name": "suggestion_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,128}$"},
}
_DECISION_PARAMETER = {**_ID_PARAMETER, "name": "decision_id"}
_API = (400, 401, 403, 413, 415, 503)
SUGGEST_DESCRIPTION = (
    "Every input the served model uses must be present unless training saw it missing "
    "(`POST /model_inputs` lists them); leaving one out is a 422 naming it. In the MSA experiment the "
    "agency's arm decides the rest: a MODEL_1 agency gets the model 1 path (`recommendation`), a MODEL_2 "
    "agency the model 2 `track_proposal`; `experiment` gives the arm. 409 when the tool is not deployed in "
    "the agency: a CONTROL agency of the recorded draw, or an agency outside it (nothing is recorded)."
)

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/suggest",
        DECIDERS,
        "Suggest a primary need and an employability tier for one profile, explained",
        "suggest",
        SuggestIn,
        Suggestion,
        statuses=(*_API, 409, 422),
        description=SUGGEST_DESCRIPTION,
    ),
    Route(
        "POST",
        "/suggest_batch",
        DECIDERS,
        "Suggestions for up to 1,000 profiles",
        "suggest_batch",
        SuggestBatchIn,
        BatchOut,
        statuses=(*_API, 409, 422),
        description="All or none: one profile refused refuses the batch (as `/suggest`).",
    ),
    Route(
        "POST",
        "/model_inputs",
        ALL_STAFF,
        "The served model's inputs: required, may be missing (« non renseigné »), unused",
        "model_inputs",
        EmptyIn,
        ModelInputs,
        statuses=(400, 401, 403, 413, 415),
    ),
    Route(
        "POST",
        "/path_preview",
        DECIDERS,
        "The path a decision with this need and tier would record today (nothing is recorded)",
        "path_preview",
        PathPreviewIn,
        Recommendation,
        statuses=(*_API, 404, 422),
    ),
    Route(
        "POST",
        "/decisions",
        DECIDERS,
        "Record the advisor's decision: confirm, or override with a coded reason",
        "record_decision",
        DecisionIn,
        DecisionOut,
        statuses=(*_API, 404, 409, 422),
        description=(
            "A second decision on a suggestion is 409 unless `revision` is true (the history is kept). "
            "An advisor decides only as themself (`advisor_id` = the token's subject) and only on their own "
            "suggestions (403 otherwise). An admin naming another advisor acts for them: the advisor must be "
            "known and hold the suggestion, `on_behalf_reason` is required (422 otherwise), and the decision "
            "records the admin as `actor` and the advisor as `on_behalf_of`."
        ),
    ),
    Route(
        "POST",
        "/my_decisions",
        DECIDERS,
        "The signed-in advisor's most recent decisions (including those an admin recorded for them)",
        "my_decisions",
        MyDecisionsIn,
        list[DecisionOut],
        statuses=_API,
    ),
    Route(
        "POST",
        "/whoami",
        ALL_STAFF,
        "Who the token belongs to",
        "whoami",
        EmptyIn,
        WhoAmI,
        statuses=(400, 401, 403, 413, 415),
    ),
    Route(
        "GET",
        "/suggestions/{suggestion_id}",
        ALL_STAFF,
        "A suggestion with its decisions, oldest first (advisors: their own; auditors: all)",
        "read_suggestion",
        None,
        SuggestionHistory,
        statuses=(400, 401, 403, 404, 503),
        parameters=(_ID_PARAMETER,),
    ),
    Route(
        "GET",
        "/report/{suggestion_id}",
        ALL_STAFF,
        "The person's explanation report, printable, in French",
        "person_report",
        None,
        {"type": "string"},
        media="text/html",
        statuses=(400, 401, 403, 404, 503),
        parameters=(_ID_PARAMETER,),
    ),
    Route(
        "GET",
        "/contract/{decision_id}.pdf",
        ALL_STAFF,
        "The person's contrat d'engagement as a PDF",
        "contract_pdf",
        None,
        {"type": "string", "contentMediaType": "application/pdf"},
        media="application/pdf",
        statuses=(400, 401, 403, 404, 503),
        parameters=(_DECISION_PARAMETER,),
    ),
    Route(
        "GET",
        "/contract/{decision_id}",
        ALL_STAFF,
        "The person's contrat d'engagement, printable, in French",
        "contract",
        None,
        {"type": "string"},
        media="text/html",
        statuses=(400, 401, 403, 404, 503),
        parameters=(_DECISION_PARAMETER,),
    ),
    Route(
        "POST",
        "/contests",
        ALL_STAFF,
        "Record a person's contest of the latest decision on a suggestion",
        "record_contest",
        ContestIn,
        ContestOut,
        statuses=(*_API, 404, 409, 422),
        description=(
            "Advisors: on their own suggestions; auditors and admins: any. The suggestion is then flagged for "
            "re-examination by another advisor (`POST /open_contests`)."
        ),
    ),
    Route(
        "POST",
        "/open_contests",
        ALL_STAFF,
        "Contests waiting for re-examination, the longest-waiting first",
        "open_contests",
        EmptyIn,
        list[ContestOut],
        statuses=_API,
    ),
    Route(
        "POST",
        "/contest_outcomes",
        DECIDERS,
        "Another advisor maintains or revises the contested decision, with a reason for the person",
        "contest_outcome",
        ContestOutcomeIn,
        ContestResolution,
        statuses=(*_API, 404, 409, 422),
    ),
    Route(
        "GET",
        "/oversight/person_side",
        AUDITORS,
        "Agreement between the person's view, the tool and the advisor; open contests and their age",
        "person_side",
        None,
        {"type": "object"},
        statuses=(401, 403, 503),
    ),
    Route(
        "GET",
        "/audit/suggestions",
        AUDITORS,
        "List suggestions with the outcome of their decisions; filter, page, or export as CSV or Parquet",
        "audit_suggestions",
        None,
        AuditPage,
        statuses=(400, 401, 403, 422, 503),
        extra_media={
            "text/csv": {"type": "string"},
            "application/vnd.apache.parquet": {"type": "string", "contentMediaType": "application/vnd.apache.parquet"},
        },
    ),
    Route(
        "GET",
        "/audit/oversight",
        AUDITORS,
        "Oversight figures: override, revision and quick-confirmation rates with 95 % intervals",
        "audit_oversight",
        None,
        OversightFigures,
        statuses=(400, 401, 403, 422, 503),
    ),
    Route(
        "GET",
        "/metrics",
        SCRAPERS,
        "Prometheus metrics, labelled by route template (token: auditor, admin or metrics)",
        "metrics",
        None,
        {"type": "string"},
        media="text/plain",
        statuses=(401, 403),
    ),
    Route("GET", "/livez", None, "Liveness", "livez", None, {"type": "string"}, media="text/plain"),
    Route(
        "GET",
        "/readyz",
        None,
        "Readiness: the tokens are usable and the decisions store accepts a write",
        "readyz",
        None,
        {"type": "string"},
        media="text/plain",
        statuses=(503,),
        extra_media={"application/json": {"$ref": f"#/components/schemas/{NotReady.__name__}"}},
    ),
    Route("GET", "/healthz", None, "Liveness (alias)", "healthz", None, {"type": "string"}, media="text/plain"),
    Route("GET", "/docs.json", None, "This OpenAPI document", "openapi", None, {"type": "object"}),
    # Not documented as operations: BentoML's service schema (its own client reads it), the
    # advisor page and its static files, BentoML's documentation page and its assets.
    Route("GET", "/schema.json", None, "BentoML service schema", documented=False),
    Route("GET", "/ui", None, "Advisor page", documented=False),
    Route("GET", "/ui/{path}", None, "Advisor page", prefix=True, documented=False),
    Route("GET", "/", None, "API documentation page", documented=False),
    Route("GET", "/static_content/{path}", None, "Documentation assets", prefix=True, documented=False),
)

_COMPILED = tuple((route, route.pattern) for route in ROUTES)


def use_suggestion_bodies(single: type[BaseModel], batch: type[BaseModel]) -> None:
    """Serve a model of another spec: ``/suggest`` and ``/suggest_batch`` take its own profile
    (:mod:`serving.served`). Called once, when the service module is imported."""
    global ROUTES, _COMPILED
    bodies = {"/suggest": single, "/suggest_batch": batch}
    ROUTES = tuple(replace(r, body=bodies[r.template]) if r.template in bodies else r for r in ROUTES)
    _COMPILED = tuple((route, route.pattern) for route in ROUTES)


def match(method: str, path: str) -> Route | None:
    """The route of a request (None: no such route for this method)."""
    for route, pattern in _COMPILED:
        if route.method == method and pattern.match(path):
            return route
    # HEAD is a GET without a body.
    if method == "HEAD":
        return match("GET", path)
    return None


def label(method: str, path: str) -> str:
    """The metrics label of a request: its route template, or :data:`UNMATCHED`."""
    route = match(method, path)
    if route is not None:
        return route.template
    if any(pattern.match(path) for _, pattern in _COMPILED):
        return "method-not-allowed"
    return UNMATCHED
