"""Contests of a decision and their re-examination (append-only), and the person-side figures.

A person who disagrees with the decision on their orientation may contest it. An advisor
or an auditor records the contest (the date it was received and the person's own words);
the decision contested is the suggestion's latest decision at that moment. The contest
flags the suggestion for re-examination by *another* advisor, who either maintains the
decision (with a reason) or records a revision (a new decision, with a reason). The
outcome is stored once: ``contest_outcomes`` has the contest as its primary key, so two
advisors answering at once get one success and one :class:`ContestConflict`.

Nothing is updated: a contest is open while it has no outcome row. The revision and the
outcome are written in one transaction, so a revision never exists without its outcome.

:class:`ContestsMixin` adds these operations to :class:`records.store.DecisionStore`.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, InvalidInput, NotFound, Refused
from core.thresholds import CONTEST_TARGET_DAYS
from features.schema import NEED_CODES, PERSON_VIEW_CODES, TIER_CODES
from records.entities import DecisionRecord, SuggestionRecord, suggested_need
from records.tables import contest_outcomes, contests, decisions, suggestions
from records.validation import decision_record, now_utc, require_id, require_json_object

__all__ = [
    "MAX_STATEMENT_LENGTH",
    "OUTCOMES",
    "ContestConflict",
    "ContestNotFound",
    "ContestOutcomeRecord",
    "ContestRecord",
    "ContestsMixin",
]

OUTCOMES: tuple[str, ...] = ("revised", "maintained")
MAX_STATEMENT_LENGTH = 4000
#: Tolerance between the server's UTC date and the advisor's local date: a contest dated
#: tomorrow (UTC) is accepted, later ones are refused. Contests received long ago are
#: accepted (paper mail, a person met at another agency).
_CLOCK_SKEW = dt.timedelta(days=1)
_REVISION_ATTEMPTS = 5

Outcome = Literal["revised", "maintained"]


class ContestNotFound(NotFound, LookupError):
    """No contest with this id was recorded."""


class ContestConflict(Conflict):
    """The contest already has an outcome, or the suggestion already has an open contest."""


@dataclass(frozen=True)
class ContestOutcomeRecord:
    contest_id: str
    outcome: str
    reason: str
    decided_by: str
    revision_decision_id: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class ContestRecord:
    contest_id: str
    suggestion_id: str
    decision_id: str  # the decision contested (the latest one when the contest was recorded)
    received_on: dt.date
    statement: str
    recorded_by: str
    created_at: dt.datetime
    person_id: str
    agency_id: str | None
    contested_advisor_id: str  # who made the contested decision: never the one who re-examines it
    outcome: ContestOutcomeRecord | None

    @property
    def status(self) -> str:
        """``open`` until re-examined, then the outcome: ``revised`` or ``maintained``."""
        return "open" if self.outcome is None else self.outcome.outcome

    def age_days(self, today: dt.date) -> int:
        """Days since the contest was received (what the person has waited)."""
        return (today - self.received_on).days


def _require_text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-empty text")
    if len(value) > limit:
        raise InvalidInput(f"{name} must be at most {limit} characters")
    return value.strip()


def _require_date(value: Any, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(f"{name} must be a date (not a datetime)")
    return value


class ContestsMixin:
    """Contest operations of :class:`records.store.DecisionStore` (which provides the plumbing)."""

    # Provided by DecisionStore.
    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - overridden
        raise NotImplementedError

    def get_suggestion(self, suggestion_id: str) -> SuggestionRecord:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- contests -----------------------------------------------------------------------

    def record_contest(
        self,
        *,
        suggestion_id: str,
        received_on: dt.date,
        statement: str,
        recorded_by: str,
        today: dt.date | None = None,
    ) -> ContestRecord:
        """Record a person's contest of the suggestion's latest decision.

        Refused (:class:`Refused`) when the suggestion has no decision yet (there is nothing
        to contest: the suggestion alone has no effect); :class:`ContestConflict` when a
        contest of it is still open (it is being re-examined).
        """
        require_id(suggestion_id, "suggestion_id")
        require_id(recorded_by, "recorded_by")
        received_on = _require_date(received_on, "received_on")
        statement = _require_text(statement, "statement", MAX_STATEMENT_LENGTH)
        today = today or now_utc().date()
        if received_on > today + _CLOCK_SKEW:
            raise InvalidInput(f"received_on {received_on.isoformat()} is in the future")
        suggestion = self.get_suggestion(suggestion_id)
        latest = suggestion.latest_decision
        if latest is None:
            raise Refused(
                f"suggestion_id {suggestion_id!r} has no decision yet: there is nothing to contest "
                "(a suggestion alone has no effect)"
            )
        if received_on < suggestion.created_at.date() - _CLOCK_SKEW:
            raise InvalidInput(
                f"received_on {received_on.isoformat()} is before the suggestion "
                f"({suggestion.created_at.date().isoformat()})"
            )
        contest_id = str(uuid.uuid4())
        row: dict[str, Any] = {
            "contest_id": contest_id,
            "suggestion_id": suggestion_id,
            "decision_id": latest.decision_id,
            "received_on": received_on,
            "statement": statement,
            "recorded_by": recorded_by,
            "created_at": now_utc(),
        }
        with self._write() as conn:
            if self._open_contest_of(conn, suggestion_id) is not None:
                raise ContestConflict(
                    f"suggestion_id {suggestion_id!r} already has an open contest: it is being re-examined"
                )
            conn.execute(sa.insert(contests), row)
        return self.get_contest(contest_id)

    def get_contest(self, contest_id: str) -> ContestRecord:
        with self._read() as conn:
            found = self._load_contests(conn, contests.c.contest_id == contest_id)
        if not found:
            raise ContestNotFound(f"contest_id {contest_id!r}: no such contest")
        return found[0]

    def contests_for(self, suggestion_id: str) -> list[ContestRecord]:
        """The suggestion's contests, oldest first, each with its outcome (None while open)."""
        with self._read() as conn:
            return self._load_contests(conn, contests.c.suggestion_id == suggestion_id)

    def open_contests(self) -> list[ContestRecord]:
        """Contests waiting for their re-examination, the longest-waiting first."""
        with self._read() as conn:
            # The outcomes are outer-joined by _load_contests: open = no outcome row.
            return self._load_contests(conn, contest_outcomes.c.contest_id.is_(None))

    def record_contest_outcome(
        self,
        *,
        contest_id: str,
        outcome: str,
        reason: str,
        decided_by: str,
        revision: Mapping[str, Any] | None = None,
    ) -> tuple[ContestRecord, DecisionRecord | None]:
        """Close a contest: ``maintained`` (no new decision) or ``revised`` with ``revision``.

        ``revision`` holds ``final_need``, ``final_tier``, ``recommendation``,
        ``milestone_date`` and optionally ``person_view_need``: the new decision appended
        after the latest one, in the same transaction as the outcome, authored by
        ``decided_by`` with ``reason`` as its reason. The re-examiner must not be the
        advisor whose decision is contested (:class:`Refused`).
        """
        require_id(contest_id, "contest_id")
        require_id(decided_by, "decided_by")
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
        reason = _require_text(reason, "reason", MAX_STATEMENT_LENGTH)
        if (outcome == "revised") != (revision is not None):
            raise InvalidInput("a revised outcome needs the revision (need and/or tier); a maintained one has none")
        contest = self.get_contest(contest_id)
        if contest.outcome is not None:
            raise ContestConflict(f"contest {contest_id!r} was already re-examined ({contest.outcome.outcome})")
        if decided_by == contest.contested_advisor_id:
            raise Refused("a contest is re-examined by another advisor than the one whose decision is contested")
        decision_row = self._revision_row(contest, revision, reason, decided_by) if revision is not None else None

        for _attempt in range(_REVISION_ATTEMPTS):
            outcome_row = {
                "contest_id": contest_id,
                "outcome": outcome,
                "reason": reason,
                "decided_by": decided_by,
                "revision_decision_id": None if decision_row is None else decision_row["decision_id"],
                "created_at": now_utc(),
            }
            try:
                with self._write() as conn:
                    if decision_row is not None:
                        latest = conn.execute(
                            sa.select(decisions.c.decision_id, decisions.c.sequence)
                            .where(decisions.c.suggestion_id == contest.suggestion_id)
                            .order_by(decisions.c.sequence.desc())
                            .limit(1)
                        ).one()
                        decision_row["sequence"] = latest.sequence + 1
                        decision_row["revision_of"] = latest.decision_id
                        decision_row["created_at"] = outcome_row["created_at"]
                        conn.execute(sa.insert(decisions), decision_row)
                    conn.execute(sa.insert(contest_outcomes), outcome_row)
            except IntegrityError as exc:
                with self._read() as conn:
                    done = conn.scalar(
                        sa.select(contest_outcomes.c.outcome).where(contest_outcomes.c.contest_id == contest_id)
                    )
                if done is not None:
                    raise ContestConflict(f"contest {contest_id!r} was already re-examined ({done})") from exc
                if decision_row is None:
                    raise
                decision_row["decision_id"] = str(uuid.uuid4())  # a concurrent revision took our sequence
                continue
            return self.get_contest(contest_id), None if decision_row is None else decision_record(decision_row)
        raise ContestConflict(f"contest {contest_id!r}: {_REVISION_ATTEMPTS} concurrent revisions in a row, try again")

    # -- figures ------------------------------------------------------------------------

    def person_side_figures(self, today: dt.date | None = None) -> dict[str, Any]:
        """Agreement between the three views, and contests with their age.

        One count per decided suggestion, from its latest decision. ``views`` counts, among
        decisions where the person's own view was recorded, how often the person agreed with
        the tool (the suggested need), with the advisor's final need, and the tool with the
        advisor; « ne sait pas » is counted apart. ``contests`` gives open and closed
        counts, the age in days of each open contest (since it was received), and how many
        are older than :data:`core.thresholds.CONTEST_TARGET_DAYS`.
        """
        today = today or now_utc().date()
        later = decisions.alias("later")
        query = (
            sa.select(decisions.c.final_need, decisions.c.person_view_need, suggestions.c.output)
            .join(suggestions, suggestions.c.suggestion_id == decisions.c.suggestion_id)
            .where(~sa.exists().where(later.c.revision_of == decisions.c.decision_id))
        )
        views = {
            "decisions": 0,
            "with_person_view": 0,
            "person_does_not_know": 0,
            "person_agrees_with_tool": 0,
            "person_agrees_with_advisor": 0,
            "tool_agrees_with_advisor": 0,
            "all_three_agree": 0,
        }
        with self._read() as conn:
            for final_need, person_view, output in conn.execute(query.execution_options(yield_per=1000)):
                views["decisions"] += 1
                tool = suggested_need(output)
                views["tool_agrees_with_advisor"] += tool == final_need
                if person_view is None:
                    continue
                views["with_person_view"] += 1
                if person_view == "UNKNOWN":
                    views["person_does_not_know"] += 1
                    continue
                views["person_agrees_with_tool"] += person_view == tool
                views["person_agrees_with_advisor"] += person_view == final_need
                views["all_three_agree"] += person_view == tool == final_need
            counted: dict[str, int] = dict(
                conn.execute(
                    sa.select(contest_outcomes.c.outcome, sa.func.count()).group_by(contest_outcomes.c.outcome)
                ).all()
            )
            total = conn.scalar(sa.select(sa.func.count()).select_from(contests)) or 0
        ages = sorted((c.age_days(today) for c in self.open_contests()), reverse=True)
        return {
            "views": views,
            "contests": {
                "total": int(total),
                "open": len(ages),
                "revised": int(counted.get("revised", 0)),
                "maintained": int(counted.get("maintained", 0)),
                "open_age_days": ages,
                "oldest_open_days": ages[0] if ages else None,
                "median_open_days": statistics.median(ages) if ages else None,
                "target_days": CONTEST_TARGET_DAYS,
                "open_over_target": sum(a > CONTEST_TARGET_DAYS for a in ages),
            },
        }

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _revision_row(
        contest: ContestRecord, revision: Mapping[str, Any], reason: str, decided_by: str
    ) -> dict[str, Any]:
        need, tier = revision.get("final_need"), revision.get("final_tier")
        if need not in NEED_CODES:
            raise InvalidInput(f"final_need must be one of {', '.join(NEED_CODES)} (got {need!r})")
        if tier not in TIER_CODES:
            raise InvalidInput(f"final_tier must be one of {', '.join(TIER_CODES)} (got {tier!r})")
        view = revision.get("person_view_need")
        if view is not None and view not in PERSON_VIEW_CODES:
            raise InvalidInput(f"person_view_need must be one of {', '.join(PERSON_VIEW_CODES)} (got {view!r})")
        milestone = revision.get("milestone_date")
        if milestone is not None:
            milestone = _require_date(milestone, "milestone_date")
        return {
            "decision_id": str(uuid.uuid4()),
            "suggestion_id": contest.suggestion_id,
            "advisor_id": decided_by,
            # A revision after a contest is an override of the suggestion's result as decided:
            # it always carries the re-examiner's reason.
            "action": "override",
            "final_need": need,
            "final_tier": tier,
            "reason": reason,
            "recommendation": require_json_object(revision.get("recommendation"), "recommendation", optional=True),
            "milestone_date": milestone,
            "person_view_need": view,
        }

    @staticmethod
    def _open_contest_of(conn: Connection, suggestion_id: str) -> str | None:
        return conn.scalar(
            sa.select(contests.c.contest_id).where(
                contests.c.suggestion_id == suggestion_id,
                ~sa.exists().where(contest_outcomes.c.contest_id == contests.c.contest_id),
            )
        )

    @staticmethod
    def _load_contests(conn: Connection, where: sa.ColumnElement[bool]) -> list[ContestRecord]:
        contested = decisions.alias("contested")
        query = (
            sa.select(
                contests,
                suggestions.c.person_id,
                suggestions.c.agency_id,
                contested.c.advisor_id.label("contested_advisor_id"),
                contest_outcomes.c.outcome,
                contest_outcomes.c.reason.label("outcome_reason"),
                contest_outcomes.c.decided_by,
                contest_outcomes.c.revision_decision_id,
                contest_outcomes.c.created_at.label("outcome_created_at"),
            )
            .join(suggestions, suggestions.c.suggestion_id == contests.c.suggestion_id)
            .join(contested, contested.c.decision_id == contests.c.decision_id)
            .outerjoin(contest_outcomes, contest_outcomes.c.contest_id == contests.c.contest_id)
            .where(where)
            .order_by(contests.c.received_on, contests.c.created_at, contests.c.contest_id)
        )
        return [_contest_record(dict(r._mapping)) for r in conn.execute(query)]


def _contest_record(row: Mapping[str, Any]) -> ContestRecord:
    outcome = None
    if row["outcome"] is not None:
        outcome = ContestOutcomeRecord(
            contest_id=row["contest_id"],
            outcome=row["outcome"],
            reason=row["outcome_reason"],
            decided_by=row["decided_by"],
            revision_decision_id=row["revision_decision_id"],
            created_at=row["outcome_created_at"],
        )
    return ContestRecord(
        contest_id=row["contest_id"],
        suggestion_id=row["suggestion_id"],
        decision_id=row["decision_id"],
        received_on=row["received_on"],
        statement=row["statement"],
        recorded_by=row["recorded_by"],
        created_at=row["created_at"],
        person_id=row["person_id"],
        agency_id=row["agency_id"],
        contested_advisor_id=row["contested_advisor_id"],
        outcome=outcome,
    )
