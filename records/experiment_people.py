"""The MSA experiment's people: the baseline cohort and its outcomes (part of :class:`records.ExperimentRecords`).

Loaded file by file, each file all or nothing: the whole file is checked
(:mod:`records.experiment_inputs`), then checked against what is recorded, inside the
write transaction, then written. Refusals list the people concerned (the first five and
the count). The cohort is fixed at baseline, each person once, in an agency of the latest
agency register; an outcome belongs to a person of the cohort (a foreign key), once, in
their baseline agency (intention to treat).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, InvalidInput
from records.experiment_inputs import baseline_frame, listed, outcomes_frame
from records.experiment_tables import (
    agency_registers,
    baseline_people,
    experiment_loads,
    outcomes,
    register_agencies,
)
from records.store import DecisionStore
from records.validation import now_utc, require_id

__all__ = ["CohortRecords", "LoadSummary", "author_id"]

_CHUNK = 10_000


@dataclass(frozen=True)
class LoadSummary:
    load_id: str
    kind: str
    n_rows: int
    source: str
    sha256: str
    loaded_at: dt.datetime


def author_id(value: str) -> str:
    try:
        return str(require_id(value, "recorded_by"))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


class CohortRecords:
    """Baseline cohort and outcomes over ``store`` (the decisions database)."""

    store: DecisionStore

    def load_baseline(self, frame: pd.DataFrame, *, source: str, sha256: str, loaded_by: str) -> LoadSummary:
        """Record baseline people (the experiment's cohort); all or nothing."""
        people = baseline_frame(frame, source)
        author = author_id(loaded_by)
        try:
            with self.store._write() as conn:
                register = conn.execute(
                    sa.select(agency_registers.c.version).order_by(agency_registers.c.version.desc()).limit(1)
                ).first()
                if register is None:
                    raise InvalidInput(
                        "agency register: none is recorded; load it first (jalon experiment agencies FILE)"
                    )
                known = set(
                    conn.scalars(
                        sa.select(register_agencies.c.agency_id).where(
                            register_agencies.c.register_version == register.version
                        )
                    )
                )
                unknown = sorted(set(people["agency_id"]) - known)
                if unknown:
                    raise InvalidInput(
                        f"{source}: {len(unknown)} agencies are not in the agency register "
                        f"(version {register.version}): {listed(unknown)}"
                    )
                recorded = self._recorded_people(conn, baseline_people, people["person_id"])
                if recorded:
                    raise Conflict(
                        f"{source}: {len(recorded)} people are already in the baseline cohort: {listed(recorded)}; "
                        "nothing was recorded (a person joins the cohort once)"
                    )
                summary = self._insert_load(conn, "BASELINE", source, sha256, author, len(people))
                self._insert(conn, baseline_people, people.assign(load_id=summary.load_id))
        except IntegrityError as exc:
            raise Conflict("baseline people were recorded at the same time; nothing was recorded") from exc
        return summary

    def load_outcomes(self, frame: pd.DataFrame, *, source: str, sha256: str, loaded_by: str) -> LoadSummary:
        """Record outcomes of cohort people; all or nothing (unknown people and duplicates are listed)."""
        found = outcomes_frame(frame, source)
        author = author_id(loaded_by)
        try:
            with self.store._write() as conn:
                cohort = dict(conn.execute(sa.select(baseline_people.c.person_id, baseline_people.c.agency_id)).all())
                if not cohort:
                    raise InvalidInput(
                        "baseline cohort: none is recorded; load the baseline scores first "
                        "(jalon experiment baseline SCORED_FILE)"
                    )
                agency = found["person_id"].map(cohort)
                unknown = found["person_id"][agency.isna()].tolist()
                if unknown:
                    raise InvalidInput(
                        f"{source}: {len(unknown)} unknown people (not in the baseline cohort): {listed(unknown)}; "
                        "nothing was recorded"
                    )
                moved = found[agency != found["agency_id"]]
                if len(moved):
                    raise InvalidInput(
                        f"{source}: {len(moved)} people are in another agency than at baseline: "
                        f"{listed(moved['person_id'])}; the experiment keeps the baseline agency (intention to "
                        "treat): fix the file; nothing was recorded"
                    )
                recorded = self._recorded_people(conn, outcomes, found["person_id"])
                if recorded:
                    raise Conflict(
                        f"{source}: {len(recorded)} people already have a recorded outcome: {listed(recorded)}; "
                        "nothing was recorded (an outcome is recorded once)"
                    )
                summary = self._insert_load(conn, "OUTCOMES", source, sha256, author, len(found))
                self._insert(conn, outcomes, found.assign(load_id=summary.load_id))
        except IntegrityError as exc:
            raise Conflict("outcomes were recorded at the same time; nothing was recorded") from exc
        return summary

    def baseline(self) -> pd.DataFrame:
        """The recorded cohort: ``person_id``, ``agency_id``, ``p_employed``, ``tier``, ``need`` (person order)."""
        columns = ["person_id", "agency_id", "p_employed", "tier", "need"]
        with self.store._read() as conn:
            rows = conn.execute(
                sa.select(*(baseline_people.c[c] for c in columns)).order_by(baseline_people.c.person_id)
            ).all()
        frame = pd.DataFrame.from_records(rows, columns=columns)
        return frame.drop(columns=[c for c in ("tier", "need") if frame[c].isna().all()])

    def outcomes(self) -> pd.DataFrame:
        """The recorded outcomes: ``person_id``, ``agency_id``, ``observed_on``, ``employed_6m``, ``days_worked``."""
        columns = ["person_id", "agency_id", "observed_on", "employed_6m", "days_worked"]
        with self.store._read() as conn:
            rows = conn.execute(sa.select(*(outcomes.c[c] for c in columns)).order_by(outcomes.c.person_id)).all()
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["observed_on"] = pd.to_datetime(frame["observed_on"])
        return frame

    def loads(self) -> list[LoadSummary]:
        with self.store._read() as conn:
            rows = conn.execute(sa.select(experiment_loads).order_by(experiment_loads.c.loaded_at)).all()
        return [LoadSummary(r.load_id, r.kind, r.n_rows, r.source, r.sha256, r.loaded_at) for r in rows]

    @staticmethod
    def _recorded_people(conn: Connection, table: sa.Table, person_ids: pd.Series) -> list[str]:
        recorded = pd.Index(list(conn.scalars(sa.select(table.c.person_id))), dtype=object)
        if recorded.empty:
            return []
        return sorted(person_ids[person_ids.isin(recorded)].tolist())

    @staticmethod
    def _insert_load(conn: Connection, kind: str, source: str, sha256: str, author: str, n_rows: int) -> LoadSummary:
        summary = LoadSummary(str(uuid.uuid4()), kind, n_rows, source[-512:], sha256, now_utc())
        conn.execute(
            sa.insert(experiment_loads),
            {
                "load_id": summary.load_id,
                "kind": kind,
                "loaded_at": summary.loaded_at,
                "loaded_by": author,
                "source": summary.source,
                "sha256": sha256,
                "n_rows": n_rows,
            },
        )
        return summary

    @staticmethod
    def _insert(conn: Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        columns = list(frame.columns)
        arrays = [frame[c].to_numpy(dtype=object) for c in columns]
        for start in range(0, len(frame), _CHUNK):
            stop = min(start + _CHUNK, len(frame))
            rows = [{c: _plain(a[i]) for c, a in zip(columns, arrays, strict=True)} for i in range(start, stop)]
            conn.execute(sa.insert(table), rows)


def _plain(value: object) -> object:
    """Database-ready scalars: numpy to Python."""
    if isinstance(value, np.generic):
        return value.item()
    return value
