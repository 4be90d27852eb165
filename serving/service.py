"""The BentoML service: IO models and wiring only (the logic is in :mod:`serving.logic`).

Routes: ``POST /suggest``, ``POST /suggest_batch``, ``POST /decisions``,
``POST /my_decisions``, ``GET /suggestions/{id}``, ``GET /report/{id}``, the advisor page
under ``/ui/``, and BentoML's ``/livez``, ``/readyz``, ``/metrics``, ``/docs.json``.
The person's side (issue 13): ``POST /model_inputs``, ``POST /path_preview``,
``GET /contract/{decision_id}`` (and ``.pdf``), ``POST /contests``, ``POST /open_contests``,
``POST /contest_outcomes``, ``GET /oversight/person_side``.
The model served is ``$JALON_BENTO_MODEL`` (set by ``jalon serve`` after importing the
registry's champion), resolved when this module is imported.
"""

from __future__ import annotations

import gc
import json
from http import HTTPStatus
from typing import Annotated, Any, Literal, cast

import bentoml
from bentoml.exceptions import BentoMLException
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from pydantic import Field as PydanticField

from core.config import get_settings
from core.errors import JalonError
from features.api_models import Profile, fields_from_spec, profile_model
from features.spec import PROFILE_SPEC_NAME, TrainingSpec
from models.loading import load_segmentation
from models.suggestion import Recommendation, Suggestion
from records import DecisionConflict, DecisionStore
from serving import logic, privacy
from serving.auth import AuthMiddleware, Principal, Role
from serving.contests import Contests, contest_to_dict, outcome_to_dict
from serving.contract import contract_html, contract_pdf, contract_reference
from serving.documents import DocumentPagesMiddleware
from serving.errors import ErrorBodyMiddleware, status_of
from serving.schemas import (
    MAX_BATCH,
    BatchOut,
    ContestIn,
    ContestOut,
    ContestOutcomeIn,
    ContestResolution,
    DecisionIn,
    DecisionOut,
    NeedCode,
    PathPreviewIn,
    PersonViewCode,
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
contract_app = FastAPI(title="Jalon contrat d'engagement")
oversight_app = FastAPI(title="Jalon person-side oversight")


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
@bentoml.asgi_app(contract_app, path="/contract")
@bentoml.asgi_app(oversight_app, path="/oversight")
class Jalon:
    bento_model = bentoml.models.BentoModel(SETTINGS.bento_model_tag)

    def __init__(self) -> None:
        model = load_segmentation(self.bento_model.path_of("mlflow_model"))
        model.set_threads(1)
        version = self.bento_model.info.labels.get("registry_version", str(self.bento_model.tag.version))
        self.advisory = logic.Advisory(model, version, DecisionStore())
        self.contests = Contests(self.advisory)
        # The loaded model and libraries are long-lived: move them out of the collector's
        # reach so that full collections (100-200 ms here) do not stall requests.
        gc.collect()
        gc.freeze()

    @bentoml.api(route="/suggest")
    def suggest(self, profile: ServedProfile, ctx: bentoml.Context) -> Suggestion:
        """Suggest a primary need and an employability tier for one profile, explained.

        Every input the served model uses must be present unless training saw it missing
        (``POST /model_inputs`` lists them); leaving one out is a 422 naming it.

        In the MSA experiment the agency's arm decides the rest: a MODEL_1 agency gets the model 1
        path (``recommendation``), a MODEL_2 agency the model 2 ``track_proposal``; ``experiment``
        gives the arm. **409** with ``{"error": ...}`` when the tool is not deployed in the agency:
        a CONTROL agency of the recorded draw, or an agency outside it (nothing is recorded).
        """
        try:
            return self.advisory.suggest([cast(BaseModel, profile).model_dump()], _principal(ctx))[0]
        except JalonError as exc:
            raise _error(status_of(exc), str(exc)) from None

    @bentoml.api(route="/suggest_batch")
    def suggest_batch(self, profiles: ServedBatch, ctx: bentoml.Context) -> BatchOut:
        """Suggestions for up to 1,000 profiles (all or none: **409** if one agency is not served, as /suggest)."""
        try:
            suggestions = self.advisory.suggest([cast(BaseModel, p).model_dump() for p in profiles], _principal(ctx))
        except JalonError as exc:
            raise _error(status_of(exc), str(exc)) from None
        return BatchOut(suggestions=suggestions)

    @bentoml.api(route="/model_inputs")
    def model_inputs(self, ctx: bentoml.Context) -> dict[str, list[str]]:
        """The served model's inputs: ``required`` (never missing in training), ``may_be_missing``
        (« non renseigné » allowed: training saw it missing) and ``unused``."""
        _principal(ctx)
        return self.advisory.inputs.to_dict()

    @bentoml.api(route="/path_preview", input_spec=PathPreviewIn)
    def path_preview(
        self, suggestion_id: str, ctx: bentoml.Context, need: str | None = None, tier: str | None = None
    ) -> Recommendation:
        """The path a decision with this need and tier would record today; nothing is recorded."""
        try:
            return self.advisory.preview_path(suggestion_id, need, tier, _principal(ctx))
        except JalonError as exc:
            raise _error(status_of(exc), str(exc)) from None

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
        person_view_need: PersonViewCode | None = None,
    ) -> DecisionOut:
        """Record the advisor's decision: confirm, or override the need and/or tier with a reason.

        The body is flat: ``{suggestion_id, advisor_id, action, need?, tier?, reason?, revision?,
        person_view_need?}`` (the need the person named themself before seeing the suggestion);
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
            person_view_need=person_view_need,
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
        """The signed-in advisor's most recent decisions, with each person's pseudonymous id."""
        records = self.advisory.my_decisions(_principal(ctx), min(limit, 200))
        persons = self.advisory.store.person_ids(sorted({r.suggestion_id for r in records}))
        return [DecisionOut.model_validate(logic.decision_to_dict(r, persons.get(r.suggestion_id))) for r in records]

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
        principal = _principal(request)
        return {
            "suggestion": logic.suggestion_to_dict(found),
            "decisions": [logic.decision_to_dict(d, found.person_id) for d in found.decisions],
            "contests": [contest_to_dict(c, principal) for c in self.contests.for_suggestion(suggestion_id)],
        }

    @report_app.get("/{suggestion_id}", response_class=HTMLResponse)
    def report(self, suggestion_id: str, request: Request):
        """The person's explanation report, printable, in French."""
        found = self._read(suggestion_id, request)
        if isinstance(found, JSONResponse):
            return found
        return HTMLResponse(report_html(found, contests=self.contests.for_suggestion(suggestion_id)))

    # -- the person's side: contract, contests ------------------------------------------
    def _decision(self, decision_id: str, request: Request):
        try:
            return self.advisory.read_decision(decision_id, _principal(request))
        except JalonError as exc:
            return JSONResponse({"error": str(exc)}, status_code=status_of(exc))

    @contract_app.get("/{decision_id}.pdf", response_class=Response)
    def contract_as_pdf(self, decision_id: str, request: Request):
        """The person's contrat d'engagement as a PDF (same access rules as the report)."""
        found = self._decision(decision_id, request)
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
        found = self._decision(decision_id, request)
        if isinstance(found, JSONResponse):
            return found
        return HTMLResponse(contract_html(*found), headers={"Cache-Control": "no-store"})

    @bentoml.api(route="/contests", input_spec=ContestIn)
    def record_contest(self, suggestion_id: str, received_on: str, statement: str, ctx: bentoml.Context) -> ContestOut:
        """Record a person's contest of the latest decision on a suggestion (advisor: own; auditor: any).

        The suggestion is flagged for re-examination by another advisor (``POST /open_contests``).
        """
        principal = _principal(ctx)
        body = {"suggestion_id": suggestion_id, "received_on": received_on, "statement": statement}
        try:
            return ContestOut.model_validate(contest_to_dict(self.contests.record(body, principal), principal))
        except JalonError as exc:
            raise _error(status_of(exc), str(exc)) from None

    @bentoml.api(route="/open_contests")
    def open_contests(self, ctx: bentoml.Context) -> list[ContestOut]:
        """Contests waiting for re-examination, the longest-waiting first (``may_reexamine`` for the caller)."""
        principal = _principal(ctx)
        return [ContestOut.model_validate(contest_to_dict(c, principal)) for c in self.contests.open_contests()]

    @bentoml.api(route="/contest_outcomes", input_spec=ContestOutcomeIn)
    def contest_outcome(
        self,
        contest_id: str,
        outcome: str,
        reason: str,
        ctx: bentoml.Context,
        need: str | None = None,
        tier: str | None = None,
    ) -> ContestResolution:
        """Another advisor maintains the contested decision or revises it, with a reason for the person."""
        principal = _principal(ctx)
        body = {"contest_id": contest_id, "outcome": outcome, "reason": reason, "need": need, "tier": tier}
        try:
            contest, decision = self.contests.resolve(body, principal)
        except JalonError as exc:
            raise _error(status_of(exc), str(exc)) from None
        return ContestResolution.model_validate(outcome_to_dict(contest, decision, principal))

    @oversight_app.get("/person_side")
    def person_side(self, request: Request):
        """Auditors: agreement between the person's view, the tool and the advisor; open contests and their age."""
        principal = _principal(request)
        if principal.role not in (Role.AUDITOR, Role.ADMIN):
            return JSONResponse({"error": "the oversight figures are for auditors and admins"}, status_code=403)
        return self.advisory.store.person_side_figures()


# Outermost first: a document link opened without a token gets a French page before auth answers.
# bentoml.service turns the class into a Service at run time; its typing still says type[Jalon].
Jalon.add_asgi_middleware(DocumentPagesMiddleware)  # type: ignore[attr-defined]
Jalon.add_asgi_middleware(AuthMiddleware)  # type: ignore[attr-defined]
Jalon.add_asgi_middleware(ErrorBodyMiddleware)  # type: ignore[attr-defined]
