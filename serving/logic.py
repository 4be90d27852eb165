"""What the service does, without BentoML: suggest, record, decide, read back.

:class:`Advisory` wires the segmentation model, the policy catalogue and the decisions
store. The BentoML service only translates HTTP to these calls, so every behaviour here
is tested without a server.

Privacy: profiles are never stored or logged. The store keeps a SHA-256 of
the canonical profile, the outputs and explanations, and the few barrier fields the
policy catalogue needs to recompute a path when the advisor overrides the need or tier.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from core.errors import Conflict, Forbidden, InvalidInput
from features.spec import PROFILE_SPEC_NAME
from models.inputs import InputRequirements, input_requirements, missing_required
from models.segmentation import SegmentationModel
from models.suggestion import Recommendation, Suggestion
from policy import Catalogue, load_catalogue, propose_track, recommend
from records import DecisionRecord, DecisionStore, ExperimentRecords, SuggestionRecord, row_from_suggestion
from serving.arms import served_arms
from serving.auth import Principal, Role

log = logging.getLogger("jalon.serving")


def input_hash(record: Mapping[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def policy_fields(catalogue: Catalogue) -> list[str]:
    """Profile fields that the catalogue's rules test (kept with a suggestion)."""
    fields: set[str] = set()
    for entry in (*catalogue.rules, *catalogue.complements):
        fields.update(c.field for c in (*entry.when, *entry.when_any))
    return sorted(fields)


class Advisory:
    """Suggestions, decisions and audit reads over one model and one store.

    Parameters
    ----------
    model : SegmentationModel
        The champion model.
    model_version : str
        Its registry version, recorded with every suggestion.
    store : DecisionStore
        Where suggestions and decisions are appended.
    catalogue : Catalogue, optional
        The model 1 policy catalogue (default: packaged or ``$JALON_CATALOGUE``).

    Each agency's arm in the MSA experiment (:mod:`serving.arms`) decides what is suggested:
    the model 1 path, the model 2 track proposal, or nothing in a control agency.
    """

    def __init__(
        self,
        model: SegmentationModel,
        model_version: str,
        store: DecisionStore,
        catalogue: Catalogue | None = None,
        known_advisor: Callable[[str], bool] | None = None,
    ) -> None:
        self.model = model
        self.model_version = model_version
        self.store = store
        self.experiment = ExperimentRecords(store)
        self.catalogue = catalogue or load_catalogue()
        self._policy_fields = policy_fields(self.catalogue)
        #: Whether an advisor id belongs to someone (an admin may act only for a real advisor).
        self.known_advisor = known_advisor or (lambda _subject: False)
        #: Inputs the model needs (split on, never seen missing in training): see models.inputs.
        spec = model.spec
        self.inputs: InputRequirements = input_requirements(
            model.feature_names,
            model.boosters,
            seen_missing=getattr(model, "inputs_seen_missing", None),
            categorical=[c.name for c in spec.inputs if c.type == "categorical"],
            nullable=[c.name for c in spec.inputs if c.nullable],
        )

        # The reference profile's person is ``person_id``; another spec names its own id column.
        self._person_key = "person_id" if spec.name == PROFILE_SPEC_NAME else (spec.person_id or "person_id")

    def check_inputs(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Refuse a profile that leaves out an input the model never saw missing in training.

        Such a value would be read as one the model never learned (a missing age as 0): the
        suggestion would be wrong without anyone knowing. The message names each field.
        """
        problems = []
        for index, record in enumerate(records):
            where = "profile" if len(records) == 1 else f"profiles[{index}]"
            problems += [f"{where}.{name}" for name in missing_required(record, self.inputs)]
        if problems:
            raise InvalidInput(
                f"{', '.join(problems[:20])}: required by the served model "
                "(training never saw this input missing, so a missing value would be read as one it never learned)"
            )

    # -- suggestions --------------------------------------------------------------------
    def suggest(
        self, records: Sequence[Mapping[str, Any]], principal: Principal, today: date | None = None
    ) -> list[Suggestion]:
        """Score, explain, recommend and record each profile; return the suggestions."""
        self.check_inputs(records)
        created = datetime.now(UTC).replace(microsecond=0)
        today = today or created.date()
        arms = served_arms(self.experiment, (r.get("agency_id") or "" for r in records))
        outputs = self.model.suggest_records(records)
        results, rows = [], []
        for record, output in zip(records, outputs, strict=True):
            arm = arms.get(record.get("agency_id") or "")
            model_2 = arm is not None and arm.arm == "MODEL_2"
            p_employed = None if output.employability is None else output.employability.probability
            suggestion = Suggestion(
                suggestion_id=uuid.uuid4().hex,
                model_version=self.model_version,
                created_at=created,
                person_id=record[self._person_key],
                agency_id=record.get("agency_id"),
                **dict(output),
                recommendation=None if model_2 else self._recommend(output.need_code, output.tier, record, today),
                experiment=arm,
                track_proposal=propose_track(output.need_code, p_employed) if model_2 else None,
            )
            results.append(suggestion)
            rows.append(
                row_from_suggestion(
                    suggestion,
                    advisor_id=principal.subject,
                    input_hash=input_hash(record),
                    policy_context={f: record.get(f) for f in self._policy_fields},
                )
            )
        self.store.record_suggestions(rows)
        log.info("suggested %d profile(s) with model %s for %s", len(rows), self.model_version, principal.subject)
        return results

    def _recommend(
        self, need: str | None, tier: str | None, record: Mapping[str, Any] | None, when: date
    ) -> Recommendation | None:
        if need is None or tier is None:
            return None
        return recommend(need, tier, record, when, self.catalogue)

    # -- decisions ----------------------------------------------------------------------
    def _authorship(self, decision: Mapping[str, Any], principal: Principal) -> str | None:
        """Check who may record this decision; return the admin's reason when acting for an advisor.

        The author of a decision is always the authenticated subject. An advisor decides only
        as themself. An admin naming another advisor acts for them: that advisor must exist (a
        usable advisor token) and the admin must say why; the record keeps both.
        """
        advisor_id = decision["advisor_id"]
        behalf_reason = (decision.get("on_behalf_reason") or "").strip() or None
        if advisor_id == principal.subject:
            if behalf_reason is not None:
                raise InvalidInput("on_behalf_reason is only for an admin recording a decision for another advisor")
            return None
        if principal.role is not Role.ADMIN:
            raise Forbidden(
                f"advisor_id {advisor_id!r} is not you ({principal.subject!r}): "
                "an advisor records decisions only as themself"
            )
        if not self.known_advisor(advisor_id):
            raise InvalidInput(f"advisor_id {advisor_id!r} is not a known advisor: an admin may act only for one")
        if behalf_reason is None:
            raise InvalidInput(
                f"on_behalf_reason is required: say why you record this decision for advisor {advisor_id!r}"
            )
        return behalf_reason

    def decide(self, decision: Mapping[str, Any], principal: Principal, today: date | None = None) -> DecisionRecord:
        """Record an advisor's confirmation or override (append-only), authored by ``principal``."""
        behalf_reason = self._authorship(decision, principal)
        suggestion = self.store.get_suggestion(decision["suggestion_id"])
        acting_as = principal if behalf_reason is None else Principal(decision["advisor_id"], Role.ADVISOR)
        self._check_owner(suggestion, acting_as)
        if any(c.outcome is None for c in self.store.contests_for(suggestion.suggestion_id)):
            raise Conflict(
                f"suggestion_id {suggestion.suggestion_id!r} is contested and being re-examined by another advisor: "
                "the re-examination records its outcome (POST /contest_outcomes)"
            )
        suggested = suggestion.suggestion
        suggested_need, suggested_tier = suggested.need_code, suggested.tier
        if decision["action"] == "confirm":
            for name, given, suggested_value in (
                ("need", decision.get("need"), suggested_need),
                ("tier", decision.get("tier"), suggested_tier),
            ):
                if given is not None and suggested_value is not None and given != suggested_value:
                    raise InvalidInput(
                        f"{name}: a confirmation keeps the suggested {name} ({suggested_value!r}); "
                        f"to retain {given!r}, send action 'override' with a reason"
                    )
        final_need = decision.get("need") or suggested_need
        final_tier = decision.get("tier") or suggested_tier
        if final_need is None or final_tier is None:
            raise InvalidInput("this model suggests only one of need and tier: give the other in the decision")
        today = today or datetime.now(UTC).date()
        # A MODEL_2 agency of the MSA experiment decides tracks by the allocation, not by a model 1 path.
        model_2 = suggested.experiment is not None and suggested.experiment.arm == "MODEL_2"
        recommendation = (
            None
            if model_2
            else recommend(final_need, final_tier, suggestion.policy_context, today, self.catalogue).model_dump(
                mode="json"
            )
        )
        record = self.store.record_decision(
            suggestion_id=suggestion.suggestion_id,
            advisor_id=decision["advisor_id"],
            action=decision["action"],
            final_need=final_need,
            final_tier=final_tier,
            reason=decision.get("reason"),
            revision=bool(decision.get("revision")),
            recommendation=recommendation,
            milestone_date=None if recommendation is None else date.fromisoformat(recommendation["milestone_date"]),
            person_view_need=decision.get("person_view_need"),
            reason_code=decision.get("reason_code"),
            actor=principal.subject,
            on_behalf_reason=behalf_reason,
        )
        log.info(
            "decision %s (%s) on suggestion %s by %s%s",
            record.decision_id,
            record.action,
            record.suggestion_id,
            principal.subject,
            f" for {record.on_behalf_of}" if record.on_behalf_of else "",
        )
        return record

    def preview_path(
        self, suggestion_id: str, need: str | None, tier: str | None, principal: Principal, today: date | None = None
    ) -> Recommendation:
        """The path a decision with this need and tier would record today (nothing is recorded)."""
        suggestion = self.read(suggestion_id, principal)
        suggested = suggestion.suggestion
        final_need = need or suggested.need_code
        final_tier = tier or suggested.tier
        if final_need is None or final_tier is None:
            raise InvalidInput("this model suggests only one of need and tier: give the other")
        return recommend(
            final_need, final_tier, suggestion.policy_context, today or datetime.now(UTC).date(), self.catalogue
        )

    # -- reads --------------------------------------------------------------------------
    def _check_owner(self, suggestion: SuggestionRecord, principal: Principal) -> None:
        if principal.role is Role.ADVISOR and suggestion.advisor_id != principal.subject:
            raise Forbidden("advisors may read and decide only their own suggestions")

    def may_read(self, suggestion: SuggestionRecord, principal: Principal) -> bool:
        """Advisors read their own suggestions, those they decided on (a re-examination's
        revision), and those being re-examined after a contest; auditors and admins all."""
        if principal.role is not Role.ADVISOR:
            return True
        if suggestion.advisor_id == principal.subject:
            return True
        if any(d.advisor_id == principal.subject for d in suggestion.decisions):
            return True
        return any(
            c.outcome is None or c.outcome.decided_by == principal.subject
            for c in self.store.contests_for(suggestion.suggestion_id)
        )

    def read(self, suggestion_id: str, principal: Principal) -> SuggestionRecord:
        suggestion = self.store.get_suggestion(suggestion_id)
        if not self.may_read(suggestion, principal):
            raise Forbidden("advisors may read only their own suggestions, and those being re-examined")
        return suggestion

    def read_decision(self, decision_id: str, principal: Principal) -> tuple[SuggestionRecord, DecisionRecord]:
        """A decision and its suggestion, with the same access rules as :meth:`read`."""
        suggestion, decision = self.store.get_decision(decision_id)
        if not self.may_read(suggestion, principal):
            raise Forbidden("advisors may read only their own decisions, and those being re-examined")
        return suggestion, decision

    def my_decisions(self, principal: Principal, limit: int = 20) -> list[DecisionRecord]:
        return self.store.decisions_by_advisor(principal.subject, limit=limit)


def decision_to_dict(record: DecisionRecord, person_id: str | None = None) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "decision_id": record.decision_id,
        "suggestion_id": record.suggestion_id,
        "advisor_id": record.advisor_id,
        "actor": record.actor,
        "on_behalf_of": record.on_behalf_of,
        "on_behalf_reason": record.on_behalf_reason,
        "action": record.action,
        "final_need": record.final_need,
        "final_tier": record.final_tier,
        "reason_code": record.reason_code,
        "reason": record.reason,
        "revision_of": record.revision_of,
        "created_at": record.created_at.isoformat(timespec="seconds"),
        "recommendation": record.recommendation,
        "milestone_date": record.milestone_date.isoformat() if record.milestone_date else None,
        "person_view_need": record.person_view_need,
    }


def suggestion_to_dict(record: SuggestionRecord) -> dict[str, Any]:
    return {
        **record.suggestion.model_dump(mode="json"),
        "advisor_id": record.advisor_id,
        "input_hash": record.input_hash,
    }
