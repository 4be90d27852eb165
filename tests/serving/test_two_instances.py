"""Two real servers sharing one PostgreSQL database, as in a multi-instance deployment.

The first decision on a suggestion is decided by the database (the UNIQUE
``(suggestion_id, sequence)`` constraint), not by either process; and a decision one
instance acknowledged survives that instance's ``kill -9``.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from records import DecisionStore
from tests.conftest import start_server
from tests.support.launcher import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("server")]

RACERS = 30
KILLED_WHILE_DECIDING = 24  # suggestions decided through each instance while one of them is killed


def call(
    server: ServerProcess, path: str, body: dict | None = None, token: str = "advisor", method: str = "POST"
) -> httpx.Response:
    tokens: dict[str, str] = server.tokens  # type: ignore[attr-defined]
    headers = {"content-type": "application/json", "authorization": f"Bearer {tokens[token]}"}
    content = json.dumps(body).encode() if body is not None else None
    return httpx.request(method, f"{server.url}{path}", content=content, headers=headers, timeout=60)


def confirm(server: ServerProcess, suggestion_id: str) -> httpx.Response:
    return call(server, "/decisions", {"suggestion_id": suggestion_id, "advisor_id": "advisor-1", "action": "confirm"})


def start_two(home: Path, tag: str, tokens: dict[str, str], db_url: str) -> list[ServerProcess]:
    """Both instances start at once on the empty database (the migration lock decides who migrates)."""
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(start_server, home, tag, tokens, JALON_DB_URL=db_url) for _ in range(2)]
    started = [f.result() for f in starting if f.exception() is None]
    failures = [f.exception() for f in starting if f.exception() is not None]
    if failures:
        for server in started:
            server.stop()
        raise failures[0]
    return started


def test_two_instances_share_one_postgresql_database(served_home, records, postgres_database) -> None:
    home, tag, tokens = served_home
    first, second = start_two(home, tag, tokens, postgres_database)
    try:
        instances = (first, second)

        # 30 simultaneous first decisions on one suggestion, spread over both instances.
        suggestion = call(first, "/suggest", {"profile": records[0]})
        assert suggestion.status_code == 200, suggestion.text
        sid = suggestion.json()["suggestion_id"]
        start = threading.Barrier(RACERS)

        def race(k: int) -> httpx.Response:
            start.wait(timeout=60)
            return confirm(instances[k % 2], sid)

        with ThreadPoolExecutor(RACERS) as pool:
            responses = list(pool.map(race, range(RACERS)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * (RACERS - 1), [r.text for r in responses if r.status_code not in (200, 409)]
        winner = next(r.json() for r in responses if r.status_code == 200)
        for server in instances:  # both instances read the same single decision
            read = call(server, f"/suggestions/{sid}", method="GET", token="auditor")
            assert [d["decision_id"] for d in read.json()["decisions"]] == [winner["decision_id"]]

        # kill -9 of one instance while both are acknowledging decisions on other suggestions.
        batch = call(first, "/suggest_batch", {"profiles": records[1 : 1 + 2 * KILLED_WHILE_DECIDING]})
        assert batch.status_code == 200, batch.text
        ids = [s["suggestion_id"] for s in batch.json()["suggestions"]]
        acknowledged: dict[str, str] = {}  # suggestion_id -> decision_id answered 200
        lock = threading.Lock()

        def decide_all(server: ServerProcess, suggestion_ids: list[str]) -> None:
            for suggestion_id in suggestion_ids:
                try:
                    response = confirm(server, suggestion_id)
                except httpx.HTTPError:
                    continue  # the killed instance: no answer, nothing acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged[suggestion_id] = response.json()["decision_id"]

        to_kill, survivor = second, first
        workers = [
            threading.Thread(target=decide_all, args=(to_kill, ids[:KILLED_WHILE_DECIDING])),
            threading.Thread(target=decide_all, args=(survivor, ids[KILLED_WHILE_DECIDING:])),
        ]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                acknowledged_by_victim = len(set(acknowledged) & set(ids[:KILLED_WHILE_DECIDING]))
            if acknowledged_by_victim >= 4:
                break
            time.sleep(0.01)
        to_kill.stop(graceful=False)  # SIGKILL to the whole tree, mid-stream
        for worker in workers:
            worker.join(timeout=300)
        assert not any(worker.is_alive() for worker in workers)

        victim_acks = {s: d for s, d in acknowledged.items() if s in ids[:KILLED_WHILE_DECIDING]}
        assert len(victim_acks) >= 4  # acknowledged before the kill...
        assert len(victim_acks) < KILLED_WHILE_DECIDING  # ...and the kill came before the end
        assert set(ids[KILLED_WHILE_DECIDING:]) <= set(acknowledged)  # the survivor answered them all

        # Every acknowledged decision is there: read back through the surviving instance...
        for suggestion_id, decision_id in acknowledged.items():
            read = call(survivor, f"/suggestions/{suggestion_id}", method="GET", token="auditor")
            assert read.status_code == 200, read.text
            assert [d["decision_id"] for d in read.json()["decisions"]] == [decision_id]
        # ...and straight from the store.
        store = DecisionStore(postgres_database)
        try:
            for suggestion_id, decision_id in acknowledged.items():
                latest = store.get_suggestion(suggestion_id).latest_decision
                assert latest is not None
                assert latest.decision_id == decision_id
        finally:
            store.dispose()
    finally:
        for server in (first, second):
            server.stop()
