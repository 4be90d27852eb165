"""Readiness: can this worker serve right now? The tokens must be usable and the store must take a write.

``GET /readyz`` answers 503 with the problems (English) while any holds, and 200 once none
does: nothing needs a restart. The store probe commits a one-row write
(:meth:`records.DecisionStore.check_writable`), so a read-only or full database fails it; its
result is kept :data:`PROBE_INTERVAL_S` so that frequent probes cost one write at most that often.
Each change of state is logged once, with the cause (the database's own message, which
carries no personal data), not on every probe.
"""

from __future__ import annotations

import logging
import threading
import time

from records import DecisionStore, StoreError
from serving.tokens import shared_registry

log = logging.getLogger("jalon.serving.health")

PROBE_INTERVAL_S = 2.0


class Health:
    """The readiness of this process (one per worker)."""

    def __init__(self) -> None:
        self._store: DecisionStore | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self._store_problem: str | None = None
        self._reported_store: str | None = None

    def watch_store(self, store: DecisionStore) -> None:
        self._store = store

    def _probe_store(self) -> str | None:
        if self._store is None:
            return "the service is starting (the decisions store is not open yet)"
        with self._lock:
            if time.monotonic() - self._checked < PROBE_INTERVAL_S:
                return self._store_problem
            try:
                self._store.check_writable()
                self._store_problem = None
            except StoreError as exc:
                self._store_problem = f"{exc} [{exc.cause}]" if exc.cause else str(exc)
            self._checked = time.monotonic()
            return self._store_problem

    def forget(self) -> None:
        """Probe again on the next call (after a write failed: the state may have changed)."""
        self._checked = 0.0

    def problems(self) -> list[str]:
        """What keeps this worker from serving (empty: ready). A tokens problem is logged by
        :mod:`serving.tokens` when it is found; a store problem here, once per change."""
        found = []
        tokens = shared_registry().problem
        if tokens is not None:
            found.append(f"tokens unusable: {tokens}")
        store = self._probe_store()
        if store != self._reported_store:
            if store is not None:
                log.error("not ready: %s", store)
            else:
                log.warning("decisions store writable again: ready")
            self._reported_store = store
        if store is not None:
            found.append(store)
        return found


HEALTH = Health()
