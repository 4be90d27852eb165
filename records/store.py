"""The decisions store: every model suggestion and every advisor decision, for audit.

A suggestion (what the model proposed, with its explanation) is recorded when it is shown
to an advisor; the advisor then confirms or overrides it, and may later revise that
decision. Nothing is ever updated or deleted: a revision is a new row pointing to the
decision it supersedes (EU AI Act Art. 12 record keeping).

Privacy: the store receives a hash of the profile (``input_hash``), never the profile
itself, and this module logs nothing.

Schema: created and upgraded only by the Alembic revisions in ``records/migrations``, run
programmatically when a :class:`DecisionStore` opens (idempotent, see
:func:`records.engine.upgrade_database`); the tables are in :mod:`records.tables`.

Race safety of decisions (any backend): see :meth:`DecisionStore.record_decision` and the
revision ``0001`` - a UNIQUE ``(suggestion_id, sequence)`` constraint decides, not a
check-then-insert in Python. SQLite and PostgreSQL settings: :mod:`records.engine`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from core.config import get_settings
from features.schema import NEED_CODES
from records.contests import ContestsMixin
from records.engine import connect_database, migrate_or_dispose
from records.entities import (
    DecisionConflict,
    DecisionNotFound,
    DecisionRecord,
    StoreError,
    SuggestionNotFound,
    SuggestionRecord,
    suggested_need,
)
from records.faults import free_space_error, store_error, write_error
from records.tables import decisions, store_health, suggestions
from records.validation import (
    ACTIONS,
    decision_record,
    decision_values,
    now_utc,
    suggestion_row,
)

__all__ = ["ACTIONS", "DecisionStore"]

#: The ``by_need`` key of suggestions from a model without a need label.
UNKNOWN_NEED = "UNKNOWN"

_REVISION_ATTEMPTS = 5
_IN_CHUNK = 500
#: With ``open_later``, how often a store that could not be opened tries again.
REOPEN_INTERVAL_S = 1.0


class DecisionStore(ContestsMixin):
    """Suggestions and advisor decisions in a SQL database (SQLite file by default).

    Contests and their outcomes: :class:`records.contests.ContestsMixin`.
    """

    def __init__(self, url: str | None = None, *, open_later: bool = False) -> None:
        """Open (and migrate) the store at ``url`` (default: the settings' ``db_url``).

        With ``open_later``, a database that cannot be opened now does not raise: each call raises
        :class:`StoreError` until an attempt (one per :data:`REOPEN_INTERVAL_S` at most) succeeds,
        so a server starts, says it is not ready, and recovers by itself once the database is fixed.
        """
        self.url = url or get_settings().db_url
        self._engine, self._write_engine, self._write_lock = connect_database(self.url)
        self._open_error: StoreError | None = None
        self._open_attempted = 0.0
        self._open_lock = threading.Lock()
        try:
            self._migrate()
        except StoreError as exc:
            if not open_later:
                self.dispose()
                raise
            self._open_error = exc
        except BaseException:
            self.dispose()
            raise

    def _migrate(self) -> None:
        self._open_attempted = time.monotonic()
        migrate_or_dispose(self._engine)

    def _ensure_open(self) -> None:
        if self._open_error is None:
            return
        with self._open_lock:
            if self._open_error is None:
                return
            if time.monotonic() - self._open_attempted < REOPEN_INTERVAL_S:
                raise self._open_error
            try:
                self._migrate()
            except StoreError as exc:
                self._open_error = exc
                raise
            self._open_error = None

    # -- plumbing

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._ensure_open()
        try:
            with self._engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            self._forget_connections(exc)
            raise store_error(exc, doing="read") from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction; IntegrityError is left to the caller to interpret.

        Writers queue on :class:`~records.engine.WriteLock` rather than in SQLite's busy
        handler, which sleeps with back-off and turns concurrent requests (threads or server
        workers) into long tails.
        """
        self._ensure_open()
        try:
            with self._write_lock, self._write_engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except DBAPIError as exc:
            self._forget_connections(exc)
            raise write_error(exc, self.url) from exc

    def _forget_connections(self, exc: DBAPIError) -> None:
        """After an operational failure, close the pooled connections so the next call opens new ones
        (SQLite keeps a file it could not write open read-only for the connection's whole life)."""
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            self._engine.dispose()

    def check_writable(self) -> None:
        """The readiness probe: commit a one-row write, through the same lock as a decision;
        :class:`StoreError` (read-only, full...) if the database cannot take it."""
        if (full := free_space_error(self.url)) is not None:
            raise full
        with self._write() as conn:
            conn.execute(sa.update(store_health).where(store_health.c.id == 1).values(checked_at=now_utc()))

    #: A read transaction, for the audit queries of :mod:`records.audit` and :mod:`records.oversight`.
    reading = _read

    def dispose(self) -> None:
        self._write_lock.close()
        self._engine.dispose()

    def __enter__(self) -> DecisionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # -- suggestions

    def record_suggestion(
        self,
        *,
        suggestion_id: str,
        model_version: str,
        person_id: str,
        advisor_id: str,
        input_hash: str,
        output: dict,
        explanation: dict,
        agency_id: str | None = None,
        created_at: dt.datetime | None = None,
    ) -> SuggestionRecord:
        """Record one suggestion; :class:`StoreError` if its id is already recorded."""
        row = suggestion_row(
            suggestion_id=suggestion_id,
            model_version=model_version,
            person_id=person_id,
            advisor_id=advisor_id,
            input_hash=input_hash,
            output=output,
            explanation=explanation,
            agency_id=agency_id,
            created_at=created_at,
        )
        try:
            with self._write() as conn:
                conn.execute(sa.insert(suggestions), row)
        except IntegrityError as exc:
            raise StoreError(f"suggestion {suggestion_id!r} is already recorded") from exc
        return SuggestionRecord(**row, decisions=[])

    def record_suggestions(self, items: list[dict]) -> None:
        """Record many suggestions in one transaction: all or none.

        Each item has the keyword arguments of :meth:`record_suggestion`. ValueError names
        the item index; :class:`StoreError` if an id is already recorded.
        """
        rows = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise ValueError(f"items[{index}] must be a dict")
            try:
                row = suggestion_row(**item)
            except TypeError as exc:  # unknown or missing key
                raise ValueError(f"items[{index}]: {exc}") from exc
            except ValueError as exc:
                raise ValueError(f"items[{index}]: {exc}") from exc
            if row["suggestion_id"] in seen:
                raise ValueError(f"items[{index}]: suggestion_id {row['suggestion_id']!r} appears twice in the batch")
            seen.add(row["suggestion_id"])
            rows.append(row)
        if not rows:
            return
        try:
            with self._write() as conn:
                conn.execute(sa.insert(suggestions), rows)
        except IntegrityError as exc:
            raise StoreError("a suggestion of the batch is already recorded; nothing was recorded") from exc

    def get_suggestion(self, suggestion_id: str) -> SuggestionRecord:
        with self._read() as conn:
            found = self._load_suggestions(conn, [suggestion_id])
        if suggestion_id not in found:
            raise SuggestionNotFound(f"suggestion_id {suggestion_id!r}: no such suggestion")
        return found[suggestion_id]

    def suggestions_for_person(self, person_id: str) -> list[SuggestionRecord]:
        """The person's suggestions, oldest first, each with its decisions."""
        with self._read() as conn:
            ids = list(
                conn.scalars(
                    sa.select(suggestions.c.suggestion_id)
                    .where(suggestions.c.person_id == person_id)
                    .order_by(suggestions.c.created_at, suggestions.c.suggestion_id)
                )
            )
            found = self._load_suggestions(conn, ids)
        return [found[i] for i in ids]

    # -- decisions

    def record_decision(
        self,
        *,
        suggestion_id: str,
        advisor_id: str,
        action: str,
        final_need: str,
        final_tier: str,
        reason: str | None = None,
        revision: bool = False,
        recommendation: dict | None = None,
        milestone_date: dt.date | None = None,
        person_view_need: str | None = None,
        reason_code: str | None = None,
        actor: str | None = None,
        on_behalf_reason: str | None = None,
    ) -> DecisionRecord:
        """Append the advisor's decision on a suggestion.

        ``person_view_need`` is the need the person named themself (a need code or
        ``UNKNOWN``), asked before the suggestion was shown; None when it was not asked.

        ``actor`` is who records it (default: ``advisor_id``, the advisor it belongs to); another
        actor acts on the advisor's behalf, recorded as ``on_behalf_of`` with a required
        ``on_behalf_reason``. ``reason_code`` (``policy.OVERRIDE_REASONS``) is for overrides only.

        The first decision of a suggestion gets ``sequence`` 0. It is *not* checked for in
        Python before inserting: the insert itself is the test, and the UNIQUE
        ``(suggestion_id, sequence)`` constraint lets exactly one of two concurrent first
        decisions in (on SQLite the write lock already serialises them; on PostgreSQL the
        constraint is what decides). The loser gets :class:`DecisionConflict`.

        With ``revision=True`` the decision is appended after the current latest one
        (sequence + 1, ``revision_of`` = its id). If another revision lands in between,
        the constraint rejects ours and it is re-based on the new latest decision and
        retried (a revision always supersedes whatever is latest when it is written).
        ``revision=True`` on an undecided suggestion records a plain first decision.
        """
        values = decision_values(
            suggestion_id=suggestion_id,
            advisor_id=advisor_id,
            action=action,
            final_need=final_need,
            final_tier=final_tier,
            reason=reason,
            recommendation=recommendation,
            milestone_date=milestone_date,
            person_view_need=person_view_need,
            reason_code=reason_code,
            actor=actor,
            on_behalf_reason=on_behalf_reason,
        )

        for _attempt in range(_REVISION_ATTEMPTS):
            row: dict[str, Any] = {"decision_id": str(uuid.uuid4()), **values}
            try:
                with self._write() as conn:
                    self._require_suggestion(conn, suggestion_id)
                    latest = None
                    if revision:
                        latest = conn.execute(
                            sa.select(decisions.c.decision_id, decisions.c.sequence)
                            .where(decisions.c.suggestion_id == suggestion_id)
                            .order_by(decisions.c.sequence.desc())
                            .limit(1)
                        ).first()
                    row["sequence"] = 0 if latest is None else latest.sequence + 1
                    row["revision_of"] = None if latest is None else latest.decision_id
                    # Stamped after reading the chain: a revision that lost a race retries with a
                    # later time, so time order and sequence order agree ("most recent" is true).
                    row["created_at"] = now_utc()
                    conn.execute(sa.insert(decisions), row)
            except IntegrityError as exc:
                taken = self._decision_at(suggestion_id, row.get("sequence", 0))
                if taken is None:
                    raise StoreError(
                        f"decision on suggestion {suggestion_id!r} violates an integrity constraint"
                    ) from exc
                if not revision:
                    raise DecisionConflict(
                        f"suggestion {suggestion_id!r} already has a decision ({taken}); "
                        "pass revision=True to revise it"
                    ) from exc
                continue  # a concurrent revision took our sequence number: re-base and retry
            return decision_record(row)
        raise StoreError(
            f"could not append a revision on suggestion {suggestion_id!r}: "
            f"{_REVISION_ATTEMPTS} concurrent revisions in a row"
        )

    def get_decision(self, decision_id: str) -> tuple[SuggestionRecord, DecisionRecord]:
        """A decision and its suggestion (with the whole history); :class:`NotFound` if unknown."""
        with self._read() as conn:
            suggestion_id = conn.scalar(
                sa.select(decisions.c.suggestion_id).where(decisions.c.decision_id == decision_id)
            )
            if suggestion_id is None:
                raise DecisionNotFound(f"decision_id {decision_id!r}: no such decision")
            suggestion = self._load_suggestions(conn, [suggestion_id])[suggestion_id]
        decision = next(d for d in suggestion.decisions if d.decision_id == decision_id)
        return suggestion, decision

    def person_ids(self, suggestion_ids: list[str]) -> dict[str, str]:
        """The pseudonymous person id of each suggestion (for lists of decisions)."""
        found: dict[str, str] = {}
        with self._read() as conn:
            for start in range(0, len(suggestion_ids), _IN_CHUNK):
                chunk = suggestion_ids[start : start + _IN_CHUNK]
                query = sa.select(suggestions.c.suggestion_id, suggestions.c.person_id).where(
                    suggestions.c.suggestion_id.in_(chunk)
                )
                found.update({sid: pid for sid, pid in conn.execute(query)})
        return found

    def decisions_by_advisor(self, advisor_id: str, limit: int = 20) -> list[DecisionRecord]:
        """The advisor's most recent decisions (revisions included), most recent first."""
        if not isinstance(limit, int) or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        with self._read() as conn:
            rows = conn.execute(
                sa.select(decisions)
                .where(decisions.c.advisor_id == advisor_id)
                .order_by(decisions.c.created_at.desc(), decisions.c.sequence.desc(), decisions.c.decision_id.desc())
                .limit(limit)
            ).all()
        return [decision_record(r._mapping) for r in rows]

    def latest_decisions(
        self, milestone_due_by: dt.date | None = None
    ) -> list[tuple[SuggestionRecord, DecisionRecord]]:
        """For each person, their most recent decision (over all their suggestions).

        With ``milestone_due_by``, keep only the people whose most recent decision has a
        ``milestone_date`` on or before it (an older decision's milestone, superseded by a
        later decision, does not count). Ordered by milestone date (none last), then person.
        """
        if milestone_due_by is not None and (
            not isinstance(milestone_due_by, dt.date) or isinstance(milestone_due_by, dt.datetime)
        ):
            raise ValueError("milestone_due_by must be a datetime.date (not a datetime)")
        rank = (
            sa.func.row_number()
            .over(
                partition_by=suggestions.c.person_id,
                order_by=(decisions.c.created_at.desc(), decisions.c.sequence.desc(), decisions.c.decision_id.desc()),
            )
            .label("rank")
        )
        ranked = (
            sa.select(decisions, suggestions.c.person_id, rank)
            .join(suggestions, suggestions.c.suggestion_id == decisions.c.suggestion_id)
            .subquery("ranked")
        )
        query = sa.select(ranked).where(ranked.c.rank == 1)
        if milestone_due_by is not None:
            query = query.where(ranked.c.milestone_date.is_not(None), ranked.c.milestone_date <= milestone_due_by)
        with self._read() as conn:
            rows = conn.execute(query).all()
            found = self._load_suggestions(conn, sorted({r.suggestion_id for r in rows}))
        pairs = [(r.person_id, found[r.suggestion_id], decision_record(r._mapping)) for r in rows]
        pairs.sort(key=lambda p: (p[2].milestone_date is None, p[2].milestone_date or dt.date.min, p[0]))
        return [(s, d) for _, s, d in pairs]

    def override_rates(self) -> dict:
        """Confirm / override counts, overall and by the need the model suggested.

        One count per decided suggestion, using its *latest* decision (a revised decision
        is counted once, as finally decided). The suggested need is read from the stored
        suggestion through the contract (``UNKNOWN`` for a model without a need label).
        ``by_need`` lists every need code, with zeros when unused.
        """
        later = decisions.alias("later")
        query = (
            sa.select(decisions.c.action, suggestions.c.output)
            .join(suggestions, suggestions.c.suggestion_id == decisions.c.suggestion_id)
            .where(~sa.exists().where(later.c.revision_of == decisions.c.decision_id))
        )
        by_need: dict[str, dict[str, int]] = {need: {"total": 0, "overrides": 0} for need in NEED_CODES}
        total = overrides = 0
        with self._read() as conn:
            for action, output in conn.execute(query.execution_options(yield_per=1000)):
                need = by_need.setdefault(suggested_need(output) or UNKNOWN_NEED, {"total": 0, "overrides": 0})
                total += 1
                need["total"] += 1
                if action == "override":
                    overrides += 1
                    need["overrides"] += 1
        return {"total": total, "overrides": overrides, "by_need": by_need}

    # -- internals

    @staticmethod
    def _require_suggestion(conn: Connection, suggestion_id: str) -> None:
        exists = conn.scalar(sa.select(suggestions.c.suggestion_id).where(suggestions.c.suggestion_id == suggestion_id))
        if exists is None:
            raise SuggestionNotFound(f"suggestion_id {suggestion_id!r}: no such suggestion")

    def _decision_at(self, suggestion_id: str, sequence: int) -> str | None:
        with self._read() as conn:
            return conn.scalar(
                sa.select(decisions.c.decision_id).where(
                    decisions.c.suggestion_id == suggestion_id, decisions.c.sequence == sequence
                )
            )

    @staticmethod
    def _load_suggestions(conn: Connection, ids: list[str]) -> dict[str, SuggestionRecord]:
        by_id: dict[str, SuggestionRecord] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            history: dict[str, list[DecisionRecord]] = {i: [] for i in chunk}
            for d in conn.execute(
                sa.select(decisions)
                .where(decisions.c.suggestion_id.in_(chunk))
                .order_by(decisions.c.suggestion_id, decisions.c.sequence)
            ):
                history[d.suggestion_id].append(decision_record(d._mapping))
            for s in conn.execute(sa.select(suggestions).where(suggestions.c.suggestion_id.in_(chunk))):
                by_id[s.suggestion_id] = SuggestionRecord(
                    suggestion_id=s.suggestion_id,
                    created_at=s.created_at,
                    model_version=s.model_version,
                    agency_id=s.agency_id,
                    person_id=s.person_id,
                    advisor_id=s.advisor_id,
                    input_hash=s.input_hash,
                    output=s.output,
                    explanation=s.explanation,
                    decisions=history[s.suggestion_id],
                )
        return by_id
