"""The OpenAPI 3.1 document of the service, served at ``/docs.json``, generated from what the service runs.

Request bodies are the very pydantic models the service validates with (:mod:`serving.schemas`,
strict and closed, with the decision's cross-field rules as JSON Schema ``if``/``then``);
responses are the models it returns, where a field that may be null says so; query
parameters come from the audit routes' own parsers; every status a route can return is listed
with its body; the bearer scheme is declared and open routes say they need none.
``info.version`` is the project's version. ``tests/serving/test_openapi.py`` validates the
document as OpenAPI 3.1, runs Schemathesis against a real server with every check, and
generates, installs and uses a client from it.
"""

from __future__ import annotations

import functools
import typing
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.config import project_version
from serving import audit, routes
from serving.routes import Route
from serving.schemas import ErrorBody, NotReady

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearerAuth"
_QUERY = {"/audit/suggestions": audit.LIST_PARAMETERS, "/audit/oversight": audit.OVERSIGHT_PARAMETERS}
_STATUS_TEXT = {
    400: "Bad request: the body, a parameter or a header breaks a rule; `detail` lists each rule broken",
    401: "No token, or a token that is not (or no longer) valid",
    403: "The token's role, or the signed-in advisor, may not do this; `error` names the rule",
    404: "No such suggestion",
    409: (
        "Conflicts with what is recorded; `error` says what (a decision exists: send `revision: true`; "
        "a contest is open; the agency is a CONTROL agency of the MSA experiment)"
    ),
    413: "Request body larger than 2 MiB",
    415: "The body is not JSON (`Content-Type: application/json`)",
    422: "Well-formed, but refused by a rule of the records (`error` names it)",
    503: "The decisions store or the tokens are unavailable now; nothing was recorded; retry later",
}


_BY_SUGGESTION = {"suggestion_id": "$response.body#/suggestion_id"}
_BY_DECISION = {"decision_id": "$response.body#/decision_id"}
_LINKS: dict[str, dict[str, Any]] = {
    "/suggest": {
        "ReadSuggestion": {"operationId": "read_suggestion", "parameters": _BY_SUGGESTION},
        "PersonReport": {"operationId": "person_report", "parameters": _BY_SUGGESTION},
    },
    "/decisions": {
        "ReadSuggestion": {"operationId": "read_suggestion", "parameters": _BY_SUGGESTION},
        "Contract": {"operationId": "contract", "parameters": _BY_DECISION},
        "ContractPdf": {"operationId": "contract_pdf", "parameters": _BY_DECISION},
    },
}


def _models(route: Route) -> list[type[BaseModel]]:
    found = []
    response = route.response
    if typing.get_origin(response) is list:
        response = typing.get_args(response)[0]
    if isinstance(response, type) and issubclass(response, BaseModel):
        found.append(response)
    return found


@functools.cache
def _schemas() -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    inputs: set[type[BaseModel]] = {route.body for route in routes.ROUTES if route.body is not None}
    outputs: set[type[BaseModel]] = {model for route in routes.ROUTES for model in _models(route)} | {
        ErrorBody,
        NotReady,
    }
    pairs: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)
    ]
    pairs += [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
    refs, document = models_json_schema(pairs, ref_template=REF)
    return dict(refs), document.get("$defs", {})


def _content(route: Route, refs: dict) -> dict[str, Any]:
    response = route.response
    if typing.get_origin(response) is list:
        schema: dict[str, Any] = {"type": "array", "items": refs[(typing.get_args(response)[0], "serialization")]}
    elif isinstance(response, type) and issubclass(response, BaseModel):
        schema = refs[(response, "serialization")]
    else:
        schema = dict(response or {})
    return {route.media: {"schema": schema}, **{media: {"schema": s} for media, s in route.extra_media.items()}}


def _error(status: int, refs: dict) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _STATUS_TEXT.get(status, HTTPStatus(status).phrase),
        "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}}
    if status == 503:
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}
    return response


def _operation(route: Route, refs: dict) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "responses": {"200": {"description": "OK", "content": _content(route, refs)}},
    }
    links = _LINKS.get(route.template)
    if links:
        # The workflow, for readers and for stateful testing: what a response's id leads to.
        operation["responses"]["200"]["links"] = links
    if route.description:
        operation["description"] = route.description
    if route.roles is None:
        operation["security"] = []
    else:
        roles = ", ".join(sorted(r.value for r in route.roles))
        operation["description"] = (operation.get("description", "") + f"\n\nRoles: {roles}.").strip()
    parameters = [*route.parameters, *(p.openapi() for p in _QUERY.get(route.template, ()))]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
    for status in route.statuses:
        if route.template == "/readyz" and status == 503:
            operation["responses"]["503"] = {
                "description": "Not ready: the problems, in English",
                "content": {"application/json": {"schema": refs[(NotReady, "serialization")]}},
            }
            continue
        operation["responses"][str(status)] = _error(status, refs)
    return operation


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document (built once per process)."""
    refs, schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes.ROUTES:
        if route.documented:
            paths.setdefault(route.template, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Jalon",
            "version": project_version(),
            "description": (
                "Decision support for job-seeker segmentation: explained need and employability suggestions that "
                "advisors confirm or override, every suggestion and decision recorded for audit. JSON throughout; "
                "requests carry `Authorization: Bearer <token>` (roles: advisor, auditor, admin, metrics). "
                "Every 4xx and 5xx body is `{error, detail?}`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token made by `jalon token SUBJECT --role ROLE`",
                }
            },
        },
        "security": [{SECURITY_SCHEME: []}],
    }
