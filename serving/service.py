"""The BentoML service: IO models and wiring only (the logic is in :mod:`serving.logic`).

Routes: ``POST /suggest``, ``POST /suggest_batch``, ``POST /decisions``,
``POST /my_decisions``, ``GET /suggestions/{id}``, ``GET /report/{id}``, the advisor page
under ``/ui/``, and BentoML's ``/livez``, ``/readyz``, ``/metrics``, ``/docs.json``.
The model served is ``$JALON_BENTO_MODEL`` (set by ``jalon serve`` after importing the
registry's champion), resolved when this module is imported.
"""

from __future__ import annotations

import gc
import json
from http import HTTPStatus
from typing import Annotated, Any, Literal

import bentoml
from bentoml.exceptions import BentoMLException
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import Field as PydanticField

from core.config import get_settings
from core.errors import JalonError
from features.api_models import Profile, fields_from_spec, profile_model
from features.spec import PROFILE_SPEC_NAME, TrainingSpec
from models.loading import load_segmentation
from models.suggestion import Suggestion
from records import DecisionConflict, DecisionStore
from serving import logic, privacy
from serving.auth import AuthMiddleware, Principal
from serving.errors import ErrorBodyMiddleware, status_of
from serving.schemas import (
    MAX_BATCH,
    BatchOut,
    DecisionIn,
    DecisionOut,
    NeedCode,
    ProfileBatch,
    SuggestionHistory,
    TierCode,
)
from serving.ui import report_html, ui_app, use_form_fields

privacy.install()
SETTINGS = get_settings()


def _served_spec(tag: str) -> tuple[TrainingSpec | None, list[str]]:
    """The spec logged with the served model and the inputs training saw missing
    (None for models logged before specs travelled with them)."""
    try:
        folder = bentoml.models.get(tag).path_of("mlflow_model/artifacts")
        with open(f"{folder}/spec.json", encoding="utf-8") as handle:
            spec = TrainingSpec.model_validate_json(handle.read())
        with open(f"{folder}/inputs_seen_missing.json", encoding="utf-8") as handle:
            return spec, list(json.load(handle))
    except (OSError, bentoml.exceptions.NotFound):
        return None, []


#: The served model's spec decides the request models, OpenAPI and the advisor page's form:
#: the reference profile's model keeps the profile schema; any other spec gets its own.
SERVED_SPEC, SEEN_MISSING = _served_spec(SETTINGS.bento_model_tag)
ServedProfile: Any = Profile
ServedBatch: Any = ProfileBatch
if SERVED_SPEC is not None and SERVED_SPEC.name != PROFILE_SPEC_NAME:
    SERVED_FIELDS = fields_from_spec(SERVED_SPEC, SEEN_MISSING)
    ServedProfile = profile_model(SERVED_FIELDS)
    ServedBatch = Annotated[list[ServedProfile], PydanticField(min_length=1, max_length=MAX_BATCH)]
    label = SERVED_SPEC.employment_label
    use_form_fields(SERVED_FIELDS, label.outcome_fr() if label is not None else None)
read_app = FastAPI(title="Jalon reads")
report_app = FastAPI(title="Jalon person report")


def _error(status: HTTPStatus, message: str) -> BentoMLException:
    return BentoMLException(message, error_code=status)


def _principal(ctx: bentoml.Context | Request) -> Principal:
    request = ctx.request if isinstance(ctx, bentoml.Context) else ctx
    principal = request.scope.get("state", {}).get("principal")
    if principal is None:  # the middleware guarantees it; never serve without it
        raise _error(HTTPStatus.UNAUTHORIZED, "authentication required")
    return principal


@bentoml.service(
    name="jalon",
    traffic={"timeout": 60, "max_concurrency": 64},
    workers=SETTINGS.workers,
    # Sync APIs run one at a time per worker unless threads are given; LightGBM and SQLite
    # release the GIL, and the store queues this process's writers on its own lock.
    threads=SETTINGS.threads,
    metrics={"enabled": True},
)
@bentoml.asgi_app(read_app, path="/suggestions")
@bentoml.asgi_app(report_app, path="/report")
@bentoml.asgi_app(ui_app, path="/ui")
class Jalon:
    bento_model = bentoml.models.BentoModel(SETTINGS.bento_model_tag)

    def __init__(self) -> None:
        model = load_segmentation(self.bento_model.path_of("mlflow_model"))
        model.set_threads(1)
        version = self.bento_model.info.labels.get("registry_version", str(self.bento_model.tag.version))
        self.advisory = logic.Advisory(model, version, DecisionStore())
        # The loaded model and libraries are long-lived: move them out of the collector's
        # reach so that full collections (100-200 ms here) do not stall requests.
        gc.collect()
        gc.freeze()

    @bentoml.api(route="/suggest")
    def suggest(self, profile: ServedProfile, ctx: bentoml.Context) -> Suggestion:
        """Suggest a primary need and an employability tier for one profile, explained."""
        return self.advisory.suggest([profile.model_dump()], _principal(ctx))[0]

    @bentoml.api(route="/suggest_batch")
    def suggest_batch(self, profiles: ServedBatch, ctx: bentoml.Context) -> BatchOut:
        """Suggestions for up to 1,000 profiles."""
        return BatchOut(suggestions=self.advisory.suggest([p.model_dump() for p in profiles], _principal(ctx)))

    @bentoml.api(route="/decisions")
    def decisions(
        self,
        suggestion_id: str,
        advisor_id: str,
        action: Literal["confirm", "override"],
        ctx: bentoml.Context,
        need: NeedCode | None = None,
        tier: TierCode | None = None,
        reason: str | None = None,
        revision: bool = False,
    ) -> DecisionOut:
        """Record the advisor's decision: confirm, or override the need and/or tier with a reason.

        The body is flat: ``{suggestion_id, advisor_id, action, need?, tier?, reason?, revision?}``;
        it is checked by :class:`serving.schemas.DecisionIn` (a 400 names each broken rule).
        """
        decision = DecisionIn(
            suggestion_id=suggestion_id,
            advisor_id=advisor_id,
            action=action,
            need=need,
            tier=tier,
            reason=reason,
            revision=revision,
        )
        try:
            record = self.advisory.decide(decision.model_dump(), _principal(ctx))
        except DecisionConflict:
            raise _error(
                HTTPStatus.CONFLICT,
                f"suggestion_id {suggestion_id!r} already has a decision; "
                "send revision=true to revise it (history is kept)",
            ) from None
        except JalonError as exc:
            raise _error(status_of(exc), str(exc)) from None
        return DecisionOut.model_validate(logic.decision_to_dict(record))

    @bentoml.api(route="/my_decisions")
    def my_decisions(self, ctx: bentoml.Context, limit: int = 20) -> list[DecisionOut]:
        """The signed-in advisor's most recent decisions."""
        return [
            DecisionOut.model_validate(logic.decision_to_dict(r))
            for r in self.advisory.my_decisions(_principal(ctx), min(limit, 200))
        ]

    @bentoml.api(route="/whoami")
    def whoami(self, ctx: bentoml.Context) -> dict[str, Any]:
        """Who the token belongs to (the advisor page signs in with it)."""
        principal = _principal(ctx)
        return {
            "subject": principal.subject,
            "role": principal.role.value,
            "model_version": self.advisory.model_version,
        }

    def _read(self, suggestion_id: str, request: Request):
        try:
            return self.advisory.read(suggestion_id, _principal(request))
        except JalonError as exc:
            return JSONResponse({"error": str(exc)}, status_code=status_of(exc))

    @read_app.get("/{suggestion_id}", response_model=SuggestionHistory)
    def get_suggestion(self, suggestion_id: str, request: Request):
        """A suggestion with its decisions, oldest first (advisors: their own; auditors: all)."""
        found = self._read(suggestion_id, request)
        if isinstance(found, JSONResponse):
            return found
        return {
            "suggestion": logic.suggestion_to_dict(found),
            "decisions": [logic.decision_to_dict(d) for d in found.decisions],
        }

    @report_app.get("/{suggestion_id}", response_class=HTMLResponse)
    def report(self, suggestion_id: str, request: Request):
        """The person's explanation report, printable, in French."""
        found = self._read(suggestion_id, request)
        if isinstance(found, JSONResponse):
            return found
        return HTMLResponse(report_html(found))


Jalon.add_asgi_middleware(AuthMiddleware)
Jalon.add_asgi_middleware(ErrorBodyMiddleware)
