"""The MSA experiment's records: agency registers, draws and arms, the baseline cohort, outcomes.

Everything is appended, nothing is updated in place (the tables of revision ``0005``
refuse UPDATE and DELETE):

- **register**: each load of the agency register is a new version, unless it is the same
  table as the latest one (same sha256 of the normalised register: nothing recorded);
- **draw**: the first draw is recorded once; a second one must say it replaces the first,
  with a reason (``replace=True, reason=...``), and so on. An agency's arm is the one the
  latest draw gave it; its history, the arm each draw gave it. Agencies added by hand keep
  arm ``HAND_ADDED`` (left out of the analysis) and run the model of their register row;
- **baseline cohort** and **outcomes** (:mod:`records.experiment_people`): loaded file by
  file, each file all or nothing; a person already recorded, a person outside the cohort, or
  an outcome whose agency is not the person's baseline agency refuses the whole file,
  listing the people concerned.

:class:`ExperimentRecords` works over a :class:`~records.store.DecisionStore` (same
database, same engine and writers' lock). Errors are :mod:`core.errors` kinds: bad input
is ``InvalidInput``, a clash with what is recorded ``Conflict``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, InvalidInput
from policy.draw import CONTROL, DRAW_COLUMNS, HAND_ADDED, DrawResult, canonical_sha256
from records.experiment_inputs import COVARIATE_COLUMNS, register_frame
from records.experiment_people import CohortRecords, LoadSummary, author_id
from records.experiment_tables import agency_registers, draw_arms, draws, register_agencies
from records.store import DecisionStore
from records.validation import now_utc

__all__ = ["AgencyArm", "ArmLookup", "ExperimentRecords", "LoadSummary", "RecordedDraw", "RegisterVersion"]

_CHUNK = 10_000
_IN_CHUNK = 500


@dataclass(frozen=True)
class RegisterVersion:
    version: int
    loaded_at: dt.datetime
    loaded_by: str
    source: str
    sha256: str
    columns: tuple[str, ...]
    n_agencies: int


@dataclass(frozen=True)
class AgencyArm:
    """An agency's arm in one draw: as drawn (``arm``) and the model it runs (``served_arm``, None for a control)."""

    agency_id: str
    arm: str
    served_arm: str | None
    added_by_hand: bool
    draw_sequence: int


@dataclass(frozen=True)
class ArmLookup:
    """The arms of some agencies in the current draw; ``draw_sequence`` is None when no draw is recorded."""

    draw_sequence: int | None
    arms: dict[str, AgencyArm]


@dataclass(frozen=True)
class RecordedDraw:
    sequence: int
    register_version: int
    recorded_at: dt.datetime
    recorded_by: str
    replaces: int | None
    reason: str | None
    result: DrawResult
    served_arm: dict[str, str | None]


class ExperimentRecords(CohortRecords):
    """Registers, draws, arms, cohort and outcomes in the decisions database of ``store``."""

    def __init__(self, store: DecisionStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ register

    def load_register(self, frame: pd.DataFrame, *, source: str, loaded_by: str) -> tuple[RegisterVersion, bool]:
        """Record ``frame`` as a new register version; ``(version, False)`` if it equals the latest one."""
        register = register_frame(frame, source)
        sha = canonical_sha256(register)
        author = author_id(loaded_by)
        try:
            with self.store._write() as conn:
                latest = self._latest_register(conn)
                if latest is not None and latest.sha256 == sha:
                    return latest, False
                version = RegisterVersion(
                    version=1 if latest is None else latest.version + 1,
                    loaded_at=now_utc(),
                    loaded_by=author,
                    source=source[-512:],
                    sha256=sha,
                    columns=tuple(register.columns),
                    n_agencies=len(register),
                )
                conn.execute(
                    sa.insert(agency_registers),
                    {**version.__dict__, "columns": list(version.columns)},
                )
                rows = register.assign(register_version=version.version)
                if "added_by_hand" not in rows.columns:
                    rows["added_by_hand"] = False
                records = [
                    {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in rows.to_dict("records")
                ]
                for start in range(0, len(records), _CHUNK):
                    conn.execute(sa.insert(register_agencies), records[start : start + _CHUNK])
        except IntegrityError as exc:
            raise Conflict("another agency register was recorded at the same time; run the command again") from exc
        return version, True

    def register(self, version: int | None = None) -> tuple[RegisterVersion, pd.DataFrame] | None:
        """A register version (default: the latest) and its agencies, normalised as when loaded; None if none."""
        with self.store._read() as conn:
            meta = self._latest_register(conn) if version is None else self._register_version(conn, version)
            if meta is None:
                return None
            rows = conn.execute(
                sa.select(register_agencies)
                .where(register_agencies.c.register_version == meta.version)
                .order_by(register_agencies.c.agency_id)
            ).all()
        frame = pd.DataFrame([r._mapping for r in rows])
        out = pd.DataFrame(index=frame.index)
        for column in meta.columns:
            values = frame[column]
            if column == "size":
                out[column] = values.to_numpy(dtype=np.int64)
            elif column in COVARIATE_COLUMNS:
                out[column] = values.astype(float).to_numpy()
            elif column == "added_by_hand":
                out[column] = values.to_numpy(dtype=bool)
            elif column == "arm_by_hand":
                out[column] = np.array([v if isinstance(v, str) else None for v in values], dtype=object)
            else:
                out[column] = np.array([str(v) for v in values], dtype=object)
        return meta, out

    @staticmethod
    def _register_row(row: sa.Row) -> RegisterVersion:
        m = row._mapping
        return RegisterVersion(
            version=m["version"],
            loaded_at=m["loaded_at"],
            loaded_by=m["loaded_by"],
            source=m["source"],
            sha256=m["sha256"],
            columns=tuple(m["columns"]),
            n_agencies=m["n_agencies"],
        )

    def _latest_register(self, conn: Connection) -> RegisterVersion | None:
        row = conn.execute(sa.select(agency_registers).order_by(agency_registers.c.version.desc()).limit(1)).first()
        return None if row is None else self._register_row(row)

    def _register_version(self, conn: Connection, version: int) -> RegisterVersion | None:
        row = conn.execute(sa.select(agency_registers).where(agency_registers.c.version == version)).first()
        return None if row is None else self._register_row(row)

    def registers(self) -> list[RegisterVersion]:
        with self.store._read() as conn:
            rows = conn.execute(sa.select(agency_registers).order_by(agency_registers.c.version)).all()
        return [self._register_row(r) for r in rows]

    # ------------------------------------------------------------------ draws

    def record_draw(
        self,
        result: DrawResult,
        *,
        register_version: int,
        recorded_by: str,
        replace: bool = False,
        reason: str | None = None,
    ) -> RecordedDraw:
        """Record a draw made on register ``register_version``; a second draw needs ``replace`` and a reason."""
        author = author_id(recorded_by)
        reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
        if replace and reason is None:
            raise InvalidInput("reason: replacing the recorded draw needs a reason (--replace --reason TEXT)")
        if reason is not None and not replace:
            raise InvalidInput("reason: a reason is recorded only with --replace (a draw that replaces another)")
        try:
            with self.store._write() as conn:
                current = conn.scalar(sa.select(sa.func.max(draws.c.sequence)))
                if current is not None and not replace:
                    raise Conflict(self._already_drawn(conn, int(current)))
                if current is None and replace:
                    raise InvalidInput("replace: no draw is recorded yet, so there is nothing to replace")
                register = self._register_version(conn, register_version)
                if register is None:
                    raise InvalidInput(f"register_version: no agency register version {register_version}")
                if register.sha256 != result.input_sha256:
                    raise InvalidInput(
                        f"draw: it was not made on register version {register_version} "
                        f"(input sha256 {result.input_sha256[:12]}… differs from {register.sha256[:12]}…)"
                    )
                hand = dict(
                    conn.execute(
                        sa.select(register_agencies.c.agency_id, register_agencies.c.arm_by_hand).where(
                            register_agencies.c.register_version == register_version,
                            register_agencies.c.added_by_hand,
                        )
                    ).all()
                )
                sequence = 1 if current is None else int(current) + 1
                recorded_at = now_utc()
                conn.execute(
                    sa.insert(draws),
                    {
                        "sequence": sequence,
                        "register_version": register_version,
                        "seed": result.seed,
                        "arms": dict(result.arms),
                        "strata": list(result.strata),
                        "algorithm_version": result.algorithm_version,
                        "input_sha256": result.input_sha256,
                        "output_sha256": result.metadata()["output_sha256"],
                        "command": result.command,
                        "recorded_at": recorded_at,
                        "recorded_by": author,
                        "replaces": None if current is None else int(current),
                        "reason": reason,
                    },
                )
                served: dict[str, str | None] = {}
                rows = []
                for agency_id, arm, stratum, by_hand in result.assignment[list(DRAW_COLUMNS)].itertuples(index=False):
                    agency_id = str(agency_id)
                    served[agency_id] = hand.get(agency_id) if arm == HAND_ADDED else (None if arm == CONTROL else arm)
                    rows.append(
                        {
                            "draw_sequence": sequence,
                            "agency_id": agency_id,
                            "arm": str(arm),
                            "stratum": str(stratum),
                            "added_by_hand": bool(by_hand),
                            "served_arm": served[agency_id],
                        }
                    )
                for start in range(0, len(rows), _CHUNK):
                    conn.execute(sa.insert(draw_arms), rows[start : start + _CHUNK])
        except IntegrityError as exc:
            raise Conflict("another draw was recorded at the same time; nothing was recorded") from exc
        return RecordedDraw(
            sequence,
            register_version,
            recorded_at,
            author,
            None if current is None else int(current),
            reason,
            result,
            served,
        )

    def _already_drawn(self, conn: Connection, sequence: int) -> str:
        row = conn.execute(sa.select(draws).where(draws.c.sequence == sequence)).one()._mapping
        return (
            f"a draw is already recorded (draw {sequence}, seed {row['seed']}, on "
            f"{row['recorded_at']:%Y-%m-%d} by {row['recorded_by']}); a second draw replaces it only with "
            "--replace --reason TEXT (both are kept)"
        )

    def current_draw(self) -> RecordedDraw | None:
        """The latest recorded draw, rebuilt and checked (its bytes and its seed), or None."""
        with self.store._read() as conn:
            current = conn.scalar(sa.select(sa.func.max(draws.c.sequence)))
        return None if current is None else self.draw(int(current))

    def draw(self, sequence: int) -> RecordedDraw:
        """Recorded draw ``sequence``, rebuilt as a :class:`DrawResult` whose sha256 and seed are checked."""
        with self.store._read() as conn:
            head = conn.execute(sa.select(draws).where(draws.c.sequence == sequence)).first()
            if head is None:
                raise InvalidInput(f"draw: no recorded draw {sequence}")
            rows = conn.execute(
                sa.select(draw_arms).where(draw_arms.c.draw_sequence == sequence).order_by(draw_arms.c.agency_id)
            ).all()
        m = head._mapping
        assignment = pd.DataFrame(
            {
                "agency_id": np.array([r.agency_id for r in rows], dtype=object),
                "arm": np.array([r.arm for r in rows], dtype=object),
                "stratum": np.array([r.stratum for r in rows], dtype=object),
                "added_by_hand": np.array([bool(r.added_by_hand) for r in rows], dtype=bool),
            }
        )
        result = DrawResult(
            assignment,
            dict(m["arms"]),
            tuple(m["strata"]),
            int(m["seed"]),
            m["input_sha256"],
            m["algorithm_version"],
            m["command"],
        )
        if result.metadata()["output_sha256"] != m["output_sha256"]:
            raise InvalidInput(f"draw {sequence}: the recorded arms do not match the draw's recorded sha256")
        if not np.array_equal(result.plan().assign(result.seed), assignment["arm"].to_numpy(dtype=object)):
            raise InvalidInput(f"draw {sequence}: the recorded arms are not those that seed {result.seed} gives")
        return RecordedDraw(
            sequence,
            m["register_version"],
            m["recorded_at"],
            m["recorded_by"],
            m["replaces"],
            m["reason"],
            result,
            {r.agency_id: r.served_arm for r in rows},
        )

    def draws(self) -> list[dict]:
        """Every recorded draw, oldest first: sequence, seed, register version, who, when, replaces, reason, counts."""
        with self.store._read() as conn:
            heads = conn.execute(sa.select(draws).order_by(draws.c.sequence)).all()
            counts = conn.execute(
                sa.select(draw_arms.c.draw_sequence, draw_arms.c.arm, sa.func.count()).group_by(
                    draw_arms.c.draw_sequence, draw_arms.c.arm
                )
            ).all()
        by_draw: dict[int, dict[str, int]] = {}
        for sequence, arm, count in counts:
            by_draw.setdefault(sequence, {})[arm] = int(count)
        keys = ("sequence", "register_version", "seed", "recorded_at", "recorded_by", "replaces", "reason")
        return [{**{k: h._mapping[k] for k in keys}, "counts": by_draw.get(h.sequence, {})} for h in heads]

    def arms_of(self, agency_ids: Iterable[str]) -> ArmLookup:
        """The current draw's arm of each of ``agency_ids`` (agencies outside the draw are absent)."""
        ids = sorted({str(a) for a in agency_ids})
        with self.store._read() as conn:
            current = conn.scalar(sa.select(sa.func.max(draws.c.sequence)))
            if current is None:
                return ArmLookup(None, {})
            found: dict[str, AgencyArm] = {}
            for start in range(0, len(ids), _IN_CHUNK):
                for r in conn.execute(
                    sa.select(draw_arms).where(
                        draw_arms.c.draw_sequence == current, draw_arms.c.agency_id.in_(ids[start : start + _IN_CHUNK])
                    )
                ):
                    found[r.agency_id] = AgencyArm(r.agency_id, r.arm, r.served_arm, bool(r.added_by_hand), current)
        return ArmLookup(int(current), found)

    def arm_history(self, agency_id: str) -> list[tuple[AgencyArm, dict]]:
        """The arm every recorded draw gave ``agency_id``, oldest first, with that draw's header."""
        with self.store._read() as conn:
            rows = conn.execute(
                sa.select(draw_arms, draws.c.recorded_at, draws.c.recorded_by, draws.c.reason, draws.c.seed)
                .join(draws, draws.c.sequence == draw_arms.c.draw_sequence)
                .where(draw_arms.c.agency_id == agency_id)
                .order_by(draw_arms.c.draw_sequence)
            ).all()
        return [
            (
                AgencyArm(r.agency_id, r.arm, r.served_arm, bool(r.added_by_hand), r.draw_sequence),
                {"recorded_at": r.recorded_at, "recorded_by": r.recorded_by, "reason": r.reason, "seed": r.seed},
            )
            for r in rows
        ]
