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

from core.errors import Forbidden, InvalidInput
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
        self.catalogue = catalogue or load_catalogue()
        self._policy_fields = policy_fields(self.catalogue)
        #: Whether an advisor id belongs to someone (an admin may act only for a real advisor).
        self.known_advisor = known_advisor or (lambda _subject: False)

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
                person_id=record["person_id"],
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
    }


def suggestion_to_dict(record: SuggestionRecord) -> dict[str, Any]:
    return {
        **record.suggestion.model_dump(mode="json"),
        "advisor_id": record.advisor_id,
        "input_hash": record.input_hash,
    }
