"""Who is due for an examination in a week, advisor by advisor (``jalon worklist``).

Read from the records, for one agency:

- each person's latest decision: due at its milestone (jalon « corde de rappel »), brought
  forward to ``max_months`` after the decision (the six-month rule); listed for the advisor who
  recorded that decision;
- each open intensive-support episode (no actual end recorded) reaching its planned end: due
  for the end-of-support review, listed for its référent, unless the person was examined
  (a decision recorded) on or after that end.

An item is due in the week if its date is on or before the week's Sunday; *overdue* if before
its Monday (not examined yet: a new decision would have replaced it). Only pseudonymous ids.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from core.errors import InvalidInput
from core.thresholds import REEXAMINATION_MAX_MONTHS
from policy import add_months
from records import DecisionStore, EpisodeStore

KINDS_FR: dict[str, str] = {
    "MILESTONE": "jalon du parcours",
    "SIX_MONTHS": "réexamen à six mois",
    "END_OF_INTENSIVE": "fin de l'accompagnement intensif",
}
COLUMNS: tuple[str, ...] = (
    "advisor_id",
    "person_id",
    "due_date",
    "overdue",
    "kind",
    "kind_fr",
    "need",
    "tier",
    "modality",
    "source_id",
)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> tuple[dt.date, dt.date]:
    """``2026-W07`` → (Monday, Sunday) of that ISO week; a clear error otherwise."""
    match = _WEEK.match(text.strip())
    if not match:
        raise InvalidInput(f"--week: {text!r} is not an ISO week; expected YYYY-Www (e.g. 2026-W07)")
    try:
        monday = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise InvalidInput(f"--week: {text!r}: year {match.group(1)} has no week {match.group(2)}") from None
    return monday, monday + dt.timedelta(days=6)


def worklist(
    decisions: DecisionStore,
    episodes: EpisodeStore,
    agency_id: str,
    week: tuple[dt.date, dt.date],
    *,
    advisor_id: str | None = None,
    max_months: int = REEXAMINATION_MAX_MONTHS,
) -> pd.DataFrame:
    """The people due in ``week`` in ``agency_id`` (columns :data:`COLUMNS`), by advisor then date."""
    monday, sunday = week
    rows = []
    last_decided: dict[str, dt.date] = {}
    for suggestion, decision in decisions.latest_decisions():
        if suggestion.agency_id != agency_id:
            continue
        decided = decision.created_at.date()
        last_decided[suggestion.person_id] = decided
        six_months = add_months(decided, max_months)
        milestone = decision.milestone_date
        kind, due = ("MILESTONE", milestone) if milestone and milestone <= six_months else ("SIX_MONTHS", six_months)
        if due > sunday:
            continue
        path = decision.recommendation or {}
        rows.append(
            {
                "advisor_id": decision.advisor_id,
                "person_id": suggestion.person_id,
                "due_date": due,
                "kind": kind,
                "need": decision.final_need,
                "tier": decision.final_tier,
                "modality": path.get("modality"),
                "source_id": decision.decision_id,
            }
        )
    for episode in episodes.episodes(agency_id=agency_id):
        end = episode.planned_end_date
        if episode.actual_end_date is not None or end > sunday:
            continue
        if last_decided.get(episode.person_id, dt.date.min) >= end:
            continue  # examined since the end of support
        rows.append(
            {
                "advisor_id": episode.referent_id,
                "person_id": episode.person_id,
                "due_date": end,
                "kind": "END_OF_INTENSIVE",
                "need": None,
                "tier": None,
                "modality": "INTENSIF",
                "source_id": episode.episode_id,
            }
        )
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("overdue", "kind_fr")])
    frame["overdue"] = frame["due_date"] < monday if len(frame) else pd.Series(dtype=bool)
    frame["kind_fr"] = frame["kind"].map(KINDS_FR)
    if advisor_id is not None:
        frame = frame[frame["advisor_id"] == advisor_id]
    frame = frame.sort_values(["advisor_id", "due_date", "person_id", "kind"], kind="stable").reset_index(drop=True)
    return frame[list(COLUMNS)]
