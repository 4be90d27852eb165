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
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from core.errors import Forbidden, InvalidInput
from features.spec import PROFILE_SPEC_NAME
from models.segmentation import SegmentationModel
from models.suggestion import Recommendation, Suggestion
from policy import Catalogue, load_catalogue, recommend
from records import DecisionRecord, DecisionStore, SuggestionRecord, row_from_suggestion
from serving.auth import Principal, Role

log = logging.getLogger("jalon.serving")


def input_hash(record: Mapping[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def policy_fields(catalogue: Catalogue) -> list[str]:
    """Profile fields that the catalogue's rules test (kept with a suggestion)."""
    fields = set()
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
    """

    def __init__(
        self, model: SegmentationModel, model_version: str, store: DecisionStore, catalogue: Catalogue | None = None
    ) -> None:
        self.model = model
        self.model_version = model_version
        self.store = store
        self.catalogue = catalogue or load_catalogue()
        self._policy_fields = policy_fields(self.catalogue)
        # The reference profile's person is ``person_id``; another spec names its own id column.
        spec = model.spec
        self._person_key = "person_id" if spec.name == PROFILE_SPEC_NAME else (spec.person_id or "person_id")

    # -- suggestions --------------------------------------------------------------------
    def suggest(
        self, records: Sequence[Mapping[str, Any]], principal: Principal, today: date | None = None
    ) -> list[Suggestion]:
        """Score, explain, recommend and record each profile; return the suggestions."""
        created = datetime.now(UTC).replace(microsecond=0)
        today = today or created.date()
        outputs = self.model.suggest_records(records)
        results, rows = [], []
        for record, output in zip(records, outputs, strict=True):
            suggestion = Suggestion(
                suggestion_id=uuid.uuid4().hex,
                model_version=self.model_version,
                created_at=created,
                person_id=record[self._person_key],
                agency_id=record.get("agency_id"),
                **dict(output),
                recommendation=self._recommend(output.need_code, output.tier, record, today),
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
    def decide(self, decision: Mapping[str, Any], principal: Principal, today: date | None = None) -> DecisionRecord:
        """Record an advisor's confirmation or override (append-only)."""
        if principal.role is not Role.ADMIN and decision["advisor_id"] != principal.subject:
            raise Forbidden(f"advisor_id {decision['advisor_id']!r} is not the signed-in advisor")
        suggestion = self.store.get_suggestion(decision["suggestion_id"])
        self._check_owner(suggestion, principal)
        suggested = suggestion.suggestion
        suggested_need, suggested_tier = suggested.need_code, suggested.tier
        final_need = decision.get("need") or suggested_need
        final_tier = decision.get("tier") or suggested_tier
        if final_need is None or final_tier is None:
            raise InvalidInput("this model suggests only one of need and tier: give the other in the decision")
        today = today or datetime.now(UTC).date()
        recommendation = recommend(final_need, final_tier, suggestion.policy_context, today, self.catalogue).model_dump(
            mode="json"
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
            milestone_date=date.fromisoformat(recommendation["milestone_date"]),
        )
        log.info(
            "decision %s (%s) on suggestion %s by %s",
            record.decision_id,
            record.action,
            record.suggestion_id,
            principal.subject,
        )
        return record

    # -- reads --------------------------------------------------------------------------
    def _check_owner(self, suggestion: SuggestionRecord, principal: Principal) -> None:
        if principal.role is Role.ADVISOR and suggestion.advisor_id != principal.subject:
            raise Forbidden("advisors may read and decide only their own suggestions")

    def read(self, suggestion_id: str, principal: Principal) -> SuggestionRecord:
        suggestion = self.store.get_suggestion(suggestion_id)
        self._check_owner(suggestion, principal)
        return suggestion

    def my_decisions(self, principal: Principal, limit: int = 20) -> list[DecisionRecord]:
        return self.store.decisions_by_advisor(principal.subject, limit=limit)


def decision_to_dict(record: DecisionRecord) -> dict[str, Any]:
    return {
        "decision_id": record.decision_id,
        "suggestion_id": record.suggestion_id,
        "advisor_id": record.advisor_id,
        "action": record.action,
        "final_need": record.final_need,
        "final_tier": record.final_tier,
        "reason": record.reason,
        "revision_of": record.revision_of,
        "created_at": record.created_at.isoformat(timespec="seconds"),
        "recommendation": record.recommendation,
        "milestone_date": record.milestone_date.isoformat() if record.milestone_date else None,
    }


def suggestion_to_dict(record: SuggestionRecord) -> dict[str, Any]:
    return {
        **record.suggestion.model_dump(mode="json"),
        "advisor_id": record.advisor_id,
        "input_hash": record.input_hash,
    }
