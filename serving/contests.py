"""Contests and their re-examination, without BentoML (the service only translates HTTP).

Who may do what:
- record a contest: an advisor for a suggestion they may read (their own), an auditor or an
  admin for any suggestion;
- list open contests: everyone signed in; advisors see which ones they may re-examine;
- re-examine (maintain or revise): an advisor or an admin who is **not** the author of
  the contested decision. A revision recomputes the path from the policy catalogue like any
  decision, and is recorded in the same transaction as the outcome.

The recourse paths the person's report names are in :data:`RECOURSE` (French, with sources).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from core import french
from core.errors import Forbidden, InvalidInput
from policy import recommend
from records import DecisionRecord
from records.contests import ContestRecord
from serving.auth import Principal, Role
from serving.logic import Advisory, decision_to_dict

log = logging.getLogger("jalon.serving")

#: The recourse paths given to the person, each with its source (docs/recourse.md says more).
RECOURSE: tuple[dict[str, str], ...] = (
    {
        "title": "Réexamen par une autre personne de l'agence",
        "text": (
            "Dites à votre conseiller, ou écrivez à votre agence, que vous contestez cette décision, en donnant la "
            "référence de ce relevé. La contestation est enregistrée et la décision est réexaminée par un autre "
            "conseiller, qui la maintient ou la modifie en vous donnant ses raisons."
        ),
        "source": "Règlement général sur la protection des données, article 22 (intervention humaine, contestation)",
    },
    {
        "title": "Recours auprès du directeur de l'agence",
        "text": (
            "Vous pouvez aussi écrire au directeur ou à la directrice de votre agence (recours gracieux). "
            "Sans réponse dans les deux mois, votre demande est considérée comme rejetée."
        ),
        "source": "Code des relations entre le public et l'administration, articles L410-1, L411-2 et L231-4",
    },
    {
        "title": "Médiateur de France Travail",
        "text": (
            "Si le désaccord persiste après votre démarche auprès de l'agence, vous pouvez saisir gratuitement le "
            "médiateur régional de France Travail (formulaire en ligne sur francetravail.fr ou courrier). Saisir le "
            "médiateur ne suspend pas les délais de recours devant le juge."
        ),
        "source": "Code du travail, article L5312-12-1",
    },
    {
        "title": "Tribunal administratif",
        "text": (
            "Vous pouvez contester la décision devant le tribunal administratif dans les deux mois qui suivent "
            "sa notification ; un recours gracieux fait dans ce délai le prolonge."
        ),
        "source": "Code de justice administrative, article R421-1 ; code des relations entre le public et "
        "l'administration, article L411-2",
    },
    {
        "title": "Vos données et la discrimination",
        "text": (
            "Pour vos données personnelles, vous pouvez saisir la CNIL ; si vous pensez avoir été traité·e de façon "
            "discriminatoire, le Défenseur des droits (gratuit)."
        ),
        "source": "RGPD, article 77 ; loi organique n° 2011-333 du 29 mars 2011 relative au Défenseur des droits",
    },
)


def contest_to_dict(contest: ContestRecord, principal: Principal | None = None, today: dt.date | None = None) -> dict:
    """A contest as the API returns it (``may_reexamine`` for the principal asking)."""
    today = today or dt.datetime.now(dt.UTC).date()
    outcome = contest.outcome
    return {
        "contest_id": contest.contest_id,
        "suggestion_id": contest.suggestion_id,
        "decision_id": contest.decision_id,
        "person_id": contest.person_id,
        "agency_id": contest.agency_id,
        "received_on": contest.received_on.isoformat(),
        "statement": contest.statement,
        "recorded_by": contest.recorded_by,
        "created_at": contest.created_at.isoformat(timespec="seconds"),
        "status": contest.status,
        "age_days": contest.age_days(today),
        "may_reexamine": principal is not None and may_reexamine(contest, principal),
        "outcome": None
        if outcome is None
        else {
            "outcome": outcome.outcome,
            "reason": outcome.reason,
            "decided_by": outcome.decided_by,
            "revision_decision_id": outcome.revision_decision_id,
            "created_at": outcome.created_at.isoformat(timespec="seconds"),
        },
    }


def may_reexamine(contest: ContestRecord, principal: Principal) -> bool:
    """Open, and the principal decides (advisor or admin) and did not make the contested decision."""
    return (
        contest.outcome is None
        and principal.role in (Role.ADVISOR, Role.ADMIN)
        and principal.subject != contest.contested_advisor_id
    )


class Contests:
    """Record contests, list them, and record re-examinations over an :class:`Advisory`."""

    def __init__(self, advisory: Advisory) -> None:
        self.advisory = advisory
        self.store = advisory.store

    def record(self, body: dict[str, Any], principal: Principal) -> ContestRecord:
        suggestion = self.advisory.read(body["suggestion_id"], principal)
        if principal.role is Role.ADVISOR and suggestion.advisor_id != principal.subject:
            raise Forbidden("an advisor records a contest on their own suggestions; an auditor may record any")
        contest = self.store.record_contest(
            suggestion_id=suggestion.suggestion_id,
            received_on=_date(body["received_on"], "received_on"),
            statement=body["statement"],
            recorded_by=principal.subject,
        )
        log.info(
            "contest %s on suggestion %s recorded by %s", contest.contest_id, contest.suggestion_id, principal.subject
        )
        return contest

    def open_contests(self) -> list[ContestRecord]:
        return self.store.open_contests()

    def for_suggestion(self, suggestion_id: str) -> list[ContestRecord]:
        return self.store.contests_for(suggestion_id)

    def resolve(
        self, body: dict[str, Any], principal: Principal, today: dt.date | None = None
    ) -> tuple[ContestRecord, DecisionRecord | None]:
        """Maintain the contested decision, or revise it (a new decision), always with a reason."""
        contest = self.store.get_contest(body["contest_id"])
        if principal.role not in (Role.ADVISOR, Role.ADMIN):
            raise Forbidden("only an advisor (or an admin) re-examines a contest")
        if principal.subject == contest.contested_advisor_id:
            raise Forbidden("a contest is re-examined by another advisor than the one whose decision is contested")
        revision = None
        if body["outcome"] == "revised":
            suggestion = self.store.get_suggestion(contest.suggestion_id)
            latest = suggestion.latest_decision
            assert latest is not None  # a contest always has a decision
            need = body.get("need") or latest.final_need
            tier = body.get("tier") or latest.final_tier
            if (need, tier) == (latest.final_need, latest.final_tier):
                raise InvalidInput(
                    "a revision changes the need or the tier of the contested decision; "
                    "to keep them, record the outcome 'maintained'"
                )
            today = today or dt.datetime.now(dt.UTC).date()
            recommendation = recommend(need, tier, suggestion.policy_context, today, self.advisory.catalogue)
            revision = {
                "final_need": need,
                "final_tier": tier,
                "recommendation": recommendation.model_dump(mode="json"),
                "milestone_date": recommendation.milestone_date,
                "person_view_need": latest.person_view_need,
            }
        contest, decision = self.store.record_contest_outcome(
            contest_id=contest.contest_id,
            outcome=body["outcome"],
            reason=body["reason"],
            decided_by=principal.subject,
            revision=revision,
        )
        log.info("contest %s re-examined (%s) by %s", contest.contest_id, contest.status, principal.subject)
        return contest, decision


def outcome_to_dict(contest: ContestRecord, decision: DecisionRecord | None, principal: Principal) -> dict[str, Any]:
    return {
        "contest": contest_to_dict(contest, principal),
        "decision": None if decision is None else decision_to_dict(decision),
    }


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a date written YYYY-MM-DD (got {text!r})") from None


def outcome_words(contest: ContestRecord) -> dict[str, str] | None:
    """The outcome of a contest as the person reads it (None while open)."""
    outcome = contest.outcome
    if outcome is None:
        return None
    verdict = "La décision a été modifiée." if outcome.outcome == "revised" else "La décision a été maintenue."
    return {"verdict": verdict, "reason": outcome.reason, "date": french.date(outcome.created_at)}


__all__ = [
    "RECOURSE",
    "Contests",
    "contest_to_dict",
    "may_reexamine",
    "outcome_to_dict",
    "outcome_words",
]
