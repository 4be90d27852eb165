"""Tests of the decisions store on real SQLite files and a real PostgreSQL server (no mocks).

Every test that takes ``url`` or ``store`` runs on both backends: SQLite (a file in the
test's folder) and PostgreSQL (a new database per test on the session's server, see
``postgres_server`` in ``tests/conftest.py``). Tests of SQLite's own settings take
``sqlite_url``/``sqlite_store``; PostgreSQL-only ones ``postgres_database``.

Concurrency and durability tests use real threads and real processes; the durability test
kills a writer with SIGKILL right after it reported a committed decision.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.errors import NotFound
from features.schema import NEED_CODES
from models.suggestion import ModelSuggestion, Suggestion
from records import (
    MIGRATIONS_DIR,
    UNKNOWN_NEED,
    DecisionConflict,
    DecisionRecord,
    DecisionStore,
    StoreError,
    SuggestionNotFound,
    SuggestionRecord,
    row_from_suggestion,
)
from records.engine import alembic_config
from records.tables import metadata
from tests.conftest import to_record

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
BACKENDS = ("sqlite", "postgresql")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "decisions.db"


@pytest.fixture
def sqlite_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh, empty database on each backend in turn."""
    if request.param == "sqlite":
        return sqlite_url
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def store(url: str) -> Iterator[DecisionStore]:
    s = DecisionStore(url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[DecisionStore]:
    s = DecisionStore(sqlite_url)
    yield s
    s.dispose()


def is_sqlite(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


#: What the real model emits, set once per module by ``_real_outputs``: rows are built from it,
#: never from an invented shape.
REAL_OUTPUTS: list[ModelSuggestion] = []


@pytest.fixture(scope="module", autouse=True)
def _real_outputs(model, population) -> None:
    # ``population`` (not ``records``): modules sharing these fixtures may name a fixture ``records``.
    REAL_OUTPUTS[:] = model.suggest_records([to_record(row) for _, row in population.head(60).iterrows()])


def real_suggestion(suggestion_id: str = "sug-1", *, need: str | None = None, index: int = 0) -> Suggestion:
    """A contract suggestion built from a real model output (the ``index``-th one with ``need``)."""
    matching = [o for o in REAL_OUTPUTS if need is None or o.need_code == need]
    output = matching[index % len(matching)]
    return Suggestion(
        suggestion_id=suggestion_id,
        model_version="jalon-segmentation:3",
        person_id="person-1",
        agency_id="agency-75",
        created_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        **dict(output),
        recommendation=None,
    )


def suggestion_kwargs(suggestion_id: str = "sug-1", **overrides) -> dict:
    kwargs = row_from_suggestion(
        real_suggestion(suggestion_id),
        advisor_id="advisor-1",
        input_hash="sha256:" + "ab" * 32,
        policy_context={"housing": "STABLE"},
    )
    del kwargs["created_at"]  # the store's default (now) unless a test gives one
    kwargs.update(overrides)
    return kwargs


def decide(store: DecisionStore, suggestion_id: str = "sug-1", **overrides) -> DecisionRecord:
    kwargs = {
        "suggestion_id": suggestion_id,
        "advisor_id": "advisor-1",
        "action": "confirm",
        "final_need": "TRAINING",
        "final_tier": "B",
    }
    kwargs.update(overrides)
    return store.record_decision(**kwargs)


@contextmanager
def raw(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection (bypassing the store), closed without committing."""
    conn = sqlite3.connect(db_path)
    try:
        yield conn
    finally:
        conn.close()


def fetch(url: str, sql: str) -> list[tuple]:
    """Rows of ``sql`` read through a plain engine of its own (bypassing the store), on any backend."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def decision_rows(url: str) -> list[tuple]:
    return fetch(url, "SELECT * FROM decisions ORDER BY suggestion_id, sequence")


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def python_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# --------------------------------------------------------------------------- migrations


def test_migration_creates_tables_at_head(store: DecisionStore, url: str, db_path: Path) -> None:
    if is_sqlite(url):
        assert db_path.exists()  # parent folder "state/" was created
    inspector = sa.inspect(store.engine)
    assert {"suggestions", "decisions", "alembic_version"} <= set(inspector.get_table_names())
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (head_revision(),)
    assert {c["name"] for c in inspector.get_columns("suggestions")} == {
        "suggestion_id",
        "created_at",
        "model_version",
        "agency_id",
        "person_id",
        "advisor_id",
        "input_hash",
        "output",
        "explanation",
    }
    assert {c["name"] for c in inspector.get_columns("decisions")} >= {
        "decision_id",
        "suggestion_id",
        "advisor_id",
        "action",
        "final_need",
        "final_tier",
        "reason",
        "revision_of",
        "recommendation",
        "milestone_date",
        "created_at",
    }
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("suggestions")}
    assert ("person_id",) in indexed
    assert ("advisor_id",) in indexed


def test_schema_matches_store_tables(store: DecisionStore) -> None:
    """The migration is the only source of the schema; the store's tables agree with it."""
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_sqlite_connection_settings(sqlite_store: DecisionStore) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_reopening_is_idempotent(url: str) -> None:
    first = DecisionStore(url)
    first.record_suggestion(**suggestion_kwargs())
    decide(first)
    first.dispose()
    for _ in range(2):
        again = DecisionStore(url)
        assert again.get_suggestion("sug-1").latest_decision is not None
        again.dispose()
    assert fetch(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert fetch(url, "SELECT count(*) FROM suggestions")[0] == (1,)


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JALON_DB_URL", raising=False)
    monkeypatch.setenv("JALON_HOME", str(tmp_path / "home"))
    s = DecisionStore()
    try:
        assert (tmp_path / "home" / "decisions.db").exists()
    finally:
        s.dispose()
    monkeypatch.setenv("JALON_DB_URL", f"sqlite:///{tmp_path / 'elsewhere' / 'd.db'}")
    s = DecisionStore()
    try:
        assert (tmp_path / "elsewhere" / "d.db").exists()
    finally:
        s.dispose()


def test_concurrent_first_start_migrates_once(url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    code = textwrap.dedent(
        f"""
        import os, time
        while not os.path.exists({str(go)!r}):
            time.sleep(0.005)
        from records import DecisionStore
        DecisionStore({url!r}).dispose()
        print("OK", flush=True)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(1.0)  # let them all import and wait at the start line
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    assert all(out.strip() == "OK" for out, _ in results)
    assert fetch(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


def test_postgresql_ddl_is_generated_offline(capsys: pytest.CaptureFixture) -> None:
    """The revision compiles for PostgreSQL (offline --sql mode, no server needed)."""
    from alembic import command

    config = alembic_config("postgresql://jalon@localhost/jalon")
    command.upgrade(config, "head", sql=True)
    ddl = capsys.readouterr().out
    assert "CREATE TABLE suggestions" in ddl
    assert "CREATE TABLE decisions" in ddl
    assert "TIMESTAMP WITH TIME ZONE" in ddl
    assert "JSON" in ddl
    assert "CONSTRAINT uq_decisions_suggestion_id_sequence UNIQUE (suggestion_id, sequence)" in ddl
    assert "EXECUTE FUNCTION jalon_append_only()" in ddl


# --------------------------------------------------------------------------- suggestions


def test_suggestion_round_trip_with_json(store: DecisionStore) -> None:
    created = dt.datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    kwargs = suggestion_kwargs(created_at=created)
    # A real explanation: French sentences (accents, guillemets), floats, booleans and nulls.
    sentences = [f["sentence_fr"] for f in kwargs["explanation"]["need"]["factors"]]
    assert any(ch in "".join(sentences) for ch in "éèàô«»")
    returned = store.record_suggestion(**kwargs)
    loaded = store.get_suggestion("sug-1")
    assert loaded == returned
    assert isinstance(loaded, SuggestionRecord)
    assert loaded.output == kwargs["output"]
    assert loaded.explanation == kwargs["explanation"]
    assert loaded.created_at == created
    assert loaded.created_at.utcoffset() == dt.timedelta(0)  # stored and returned as UTC
    assert loaded.created_at.hour == 9
    assert loaded.agency_id == "agency-75"
    assert loaded.decisions == []
    assert loaded.latest_decision is None


def test_suggestion_default_created_at_is_utc_now(store: DecisionStore) -> None:
    before = dt.datetime.now(UTC)
    store.record_suggestion(**suggestion_kwargs(agency_id=None))
    loaded = store.get_suggestion("sug-1")
    assert loaded.agency_id is None
    assert loaded.created_at.tzinfo is not None
    assert before <= loaded.created_at <= dt.datetime.now(UTC)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"created_at": dt.datetime(2026, 1, 1, 12, 0)}, "created_at"),
        ({"output": {"p": float("nan")}}, "output"),
        ({"output": {"p": object()}}, "output"),
        ({"explanation": ["not", "a", "dict"]}, "explanation"),
        ({"person_id": ""}, "person_id"),
        ({"input_hash": '{"age": 34, "sex": "F"}'}, "input_hash"),
    ],
)
def test_suggestion_validation(store: DecisionStore, overrides: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        store.record_suggestion(**suggestion_kwargs(**overrides))


def test_duplicate_suggestion_id_is_a_store_error(store: DecisionStore) -> None:
    store.record_suggestion(**suggestion_kwargs())
    with pytest.raises(StoreError, match="already recorded"):
        store.record_suggestion(**suggestion_kwargs())


def test_record_suggestions_batch_is_all_or_nothing(store: DecisionStore, url: str) -> None:
    store.record_suggestions([suggestion_kwargs(f"b-{i}", person_id=f"p-{i}") for i in range(50)])
    assert store.get_suggestion("b-49").person_id == "p-49"
    store.record_suggestions([])
    with pytest.raises(StoreError):
        store.record_suggestions([suggestion_kwargs("b-new"), suggestion_kwargs("b-3")])
    with pytest.raises(SuggestionNotFound):
        store.get_suggestion("b-new")
    with pytest.raises(ValueError, match=r"items\[1\].*unexpected"):
        store.record_suggestions([suggestion_kwargs("c-1"), {**suggestion_kwargs("c-2"), "profile": {}}])
    with pytest.raises(ValueError, match=r"items\[1\].*twice"):
        store.record_suggestions([suggestion_kwargs("c-1"), suggestion_kwargs("c-1")])
    assert fetch(url, "SELECT count(*) FROM suggestions")[0] == (50,)


def test_unknown_suggestion(store: DecisionStore) -> None:
    with pytest.raises(SuggestionNotFound):
        store.get_suggestion("nope")
    with pytest.raises(SuggestionNotFound):
        decide(store, "nope")
    with pytest.raises(NotFound):  # SuggestionNotFound is a NotFound
        decide(store, "nope", revision=True)


def test_suggestions_for_person(store: DecisionStore) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    store.record_suggestion(**suggestion_kwargs("s-late", created_at=t0 + dt.timedelta(days=2)))
    store.record_suggestion(**suggestion_kwargs("s-early", created_at=t0))
    store.record_suggestion(**suggestion_kwargs("s-other", person_id="person-2", created_at=t0))
    decide(store, "s-early")
    found = store.suggestions_for_person("person-1")
    assert [s.suggestion_id for s in found] == ["s-early", "s-late"]
    assert found[0].latest_decision is not None
    assert found[1].decisions == []
    assert store.suggestions_for_person("nobody") == []


# --------------------------------------------------------------------------- decisions


def test_confirm_then_second_decision_conflicts(store: DecisionStore, url: str) -> None:
    store.record_suggestion(**suggestion_kwargs())
    first = decide(store)
    assert first.action == "confirm"
    assert first.revision_of is None
    assert first.created_at.tzinfo is not None
    with pytest.raises(DecisionConflict, match="revision=True"):
        decide(store, action="override", final_need="SOCIAL_BARRIERS", reason="logement")
    assert len(decision_rows(url)) == 1
    assert store.get_suggestion("sug-1").decisions == [first]


def test_revision_is_appended_and_history_kept(store: DecisionStore, url: str) -> None:
    store.record_suggestion(**suggestion_kwargs())
    first = decide(store, milestone_date=dt.date(2026, 6, 1), recommendation={"actions": ["atelier CV"]})
    original_row = decision_rows(url)[0]

    second = decide(
        store,
        advisor_id="advisor-2",
        action="override",
        final_need="SOCIAL_BARRIERS",
        final_tier="C",
        reason="Situation de logement découverte en entretien",
        revision=True,
    )
    assert len(decision_rows(url)) == 2
    third = decide(store, final_need="SOCIAL_BARRIERS", final_tier="C", revision=True)
    rows = decision_rows(url)
    assert len(rows) == 3
    assert rows[0] == original_row  # never updated

    assert second.revision_of == first.decision_id
    assert third.revision_of == second.decision_id
    loaded = store.get_suggestion("sug-1")
    assert loaded.decisions == [first, second, third]  # oldest first
    assert loaded.latest_decision == third
    assert loaded.decisions[0].recommendation == {"actions": ["atelier CV"]}
    assert loaded.decisions[0].milestone_date == dt.date(2026, 6, 1)
    assert loaded.decisions[1].reason == "Situation de logement découverte en entretien"


def test_revision_without_previous_decision_is_a_first_decision(store: DecisionStore) -> None:
    store.record_suggestion(**suggestion_kwargs())
    d = decide(store, revision=True)
    assert d.revision_of is None
    with pytest.raises(DecisionConflict):
        decide(store)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_override_requires_reason(store: DecisionStore, reason: str | None) -> None:
    store.record_suggestion(**suggestion_kwargs())
    with pytest.raises(ValueError, match="reason"):
        decide(store, action="override", final_need="CAREER_PROJECT", reason=reason)
    assert store.get_suggestion("sug-1").decisions == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"action": "accept"}, "action"),
        ({"action": "CONFIRM"}, "action"),
        ({"final_need": "HOUSING"}, "final_need"),
        ({"final_need": "training"}, "final_need"),
        ({"final_tier": "D"}, "final_tier"),
        ({"final_tier": ""}, "final_tier"),
        ({"milestone_date": dt.datetime(2026, 6, 1, tzinfo=UTC)}, "milestone_date"),
        ({"recommendation": {"x": float("inf")}}, "recommendation"),
        ({"advisor_id": ""}, "advisor_id"),
    ],
)
def test_decision_validation_names_the_field(store: DecisionStore, overrides: dict, field: str) -> None:
    store.record_suggestion(**suggestion_kwargs())
    with pytest.raises(ValueError, match=field):
        decide(store, **overrides)


def test_database_rejects_updates_deletes_and_duplicate_first_decisions(
    sqlite_store: DecisionStore, sqlite_url: str, db_path: Path
) -> None:
    """Append-only and race-safety hold in the database itself, not only in the store."""
    store, url = sqlite_store, sqlite_url
    store.record_suggestion(**suggestion_kwargs())
    first = decide(store)
    with raw(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE decisions SET final_need = 'TRAINING'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM decisions")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE suggestions SET person_id = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # a second sequence-0 decision
            conn.execute(
                "INSERT INTO decisions (decision_id, suggestion_id, sequence, advisor_id, action, final_need, "
                "final_tier, created_at) VALUES ('other', 'sug-1', 0, 'a', 'confirm', 'TRAINING', 'B', '2026-01-01')"
            )
        conn.rollback()
    second = decide(store, final_tier="C", revision=True)
    with raw(db_path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # a branch: first revised twice
            conn.execute(
                "INSERT INTO decisions (decision_id, suggestion_id, sequence, advisor_id, action, final_need, "
                "final_tier, revision_of, created_at) VALUES ('other', 'sug-1', 7, 'a', 'confirm', 'TRAINING', "
                f"'B', '{first.decision_id}', '2026-01-01')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # a revision without revision_of
            conn.execute(
                "INSERT INTO decisions (decision_id, suggestion_id, sequence, advisor_id, action, final_need, "
                "final_tier, created_at) VALUES ('other', 'sug-1', 7, 'a', 'confirm', 'TRAINING', 'B', '2026-01-01')"
            )
        conn.rollback()
    assert [r[0] for r in decision_rows(url)] == [first.decision_id, second.decision_id]


# --------------------------------------------------------------------------- durability


def test_committed_decision_survives_sigkill(url: str, db_path: Path) -> None:
    setup = DecisionStore(url)
    setup.record_suggestion(**suggestion_kwargs())
    setup.dispose()
    code = textwrap.dedent(
        f"""
        import time
        from records import DecisionStore
        store = DecisionStore({url!r})
        d = store.record_decision(suggestion_id="sug-1", advisor_id="advisor-9", action="override",
                                  final_need="SOCIAL_BARRIERS", final_tier="C", reason="garde d'enfants")
        print("OK", d.decision_id, flush=True)
        time.sleep(120)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            line = proc.stdout.readline()
            os.kill(proc.pid, signal.SIGKILL)  # right after it reported the commit
        finally:
            if proc.poll() is None:
                proc.kill()
            _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert line.startswith("OK "), stderr
    decision_id = line.split()[1]

    reopened = DecisionStore(url)
    try:
        latest = reopened.get_suggestion("sug-1").latest_decision
        assert latest is not None
        assert latest.decision_id == decision_id
        assert latest.advisor_id == "advisor-9"
        assert latest.reason == "garde d'enfants"
    finally:
        reopened.dispose()
    if is_sqlite(url):
        with raw(db_path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --------------------------------------------------------------------------- concurrency


def test_two_threads_racing_a_first_decision(url: str) -> None:
    n = 20
    setup = DecisionStore(url)
    setup.record_suggestions([suggestion_kwargs(f"race-{i}") for i in range(n)])
    setup.dispose()

    stores = [DecisionStore(url), DecisionStore(url)]  # two engines: two independent writers
    barrier = threading.Barrier(2)
    outcomes: dict[str, list[str]] = {f"race-{i}": [] for i in range(n)}
    errors: list[BaseException] = []

    def advisor(k: int) -> None:
        for i in range(n):
            barrier.wait()
            try:
                decide(stores[k], f"race-{i}", advisor_id=f"advisor-{k}")
                outcomes[f"race-{i}"].append("won")
            except DecisionConflict:
                outcomes[f"race-{i}"].append("conflict")
            except BaseException as exc:
                errors.append(exc)
                outcomes[f"race-{i}"].append("error")

    threads = [threading.Thread(target=advisor, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.dispose()
    assert not errors, errors
    assert all(sorted(o) == ["conflict", "won"] for o in outcomes.values()), outcomes
    rows = decision_rows(url)
    assert len(rows) == n
    assert len({r[1] for r in rows}) == n  # one decision per suggestion


def test_two_processes_racing_first_decisions(url: str, tmp_path: Path) -> None:
    n = 40
    setup = DecisionStore(url)
    setup.record_suggestions([suggestion_kwargs(f"prace-{i}") for i in range(n)])
    setup.dispose()
    go = tmp_path / "go"
    code = textwrap.dedent(
        f"""
        import json, os, sys, time
        from records import DecisionConflict, DecisionStore
        store = DecisionStore({url!r})
        while not os.path.exists({str(go)!r}):
            time.sleep(0.002)
        result = {{}}
        for i in range({n}):
            try:
                store.record_decision(suggestion_id=f"prace-{{i}}", advisor_id=sys.argv[1], action="confirm",
                                      final_need="TRAINING", final_tier="B")
                result[f"prace-{{i}}"] = "won"
            except DecisionConflict:
                result[f"prace-{{i}}"] = "conflict"
        print(json.dumps(result), flush=True)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"advisor-{k}"],
            cwd=PROJECT_ROOT,
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    time.sleep(1.0)
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    for i in range(n):
        assert sorted(r[f"prace-{i}"] for r in results) == ["conflict", "won"]
    rows = decision_rows(url)
    assert len(rows) == n
    winners = {r[1]: r[3] for r in rows}  # suggestion_id -> advisor_id
    for i in range(n):
        winner = next(k for k, r in enumerate(results) if r[f"prace-{i}"] == "won")
        assert winners[f"prace-{i}"] == f"advisor-{winner}"


def test_concurrent_revisions_form_a_single_chain(url: str) -> None:
    setup = DecisionStore(url)
    setup.record_suggestion(**suggestion_kwargs())
    decide(setup)
    setup.dispose()
    stores = [DecisionStore(url) for _ in range(3)]
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def revise(k: int) -> None:
        for _ in range(5):
            barrier.wait()
            try:
                decide(stores[k], advisor_id=f"advisor-{k}", final_tier="C", revision=True)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=revise, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    history = stores[0].get_suggestion("sug-1").decisions
    for s in stores:
        s.dispose()
    assert not errors, errors
    assert len(history) == 16
    assert history[0].revision_of is None
    for previous, current in itertools.pairwise(history):
        assert current.revision_of == previous.decision_id


# --------------------------------------------------------------------------- queries


def test_latest_decisions_filters_by_milestone(store: DecisionStore) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    # person-1: two suggestions; the later one's decision is the latest, its milestone counts.
    store.record_suggestion(**suggestion_kwargs("p1-old", person_id="person-1", created_at=t0))
    store.record_suggestion(**suggestion_kwargs("p1-new", person_id="person-1", created_at=t0 + dt.timedelta(days=30)))
    decide(store, "p1-old", milestone_date=dt.date(2026, 2, 1))
    p1_latest = decide(store, "p1-new", milestone_date=dt.date(2026, 5, 1))
    # person-2: milestone early, then revised without a milestone -> not due any more.
    store.record_suggestion(**suggestion_kwargs("p2", person_id="person-2"))
    decide(store, "p2", milestone_date=dt.date(2026, 3, 1))
    p2_latest = decide(store, "p2", final_tier="A", revision=True)
    # person-3: milestone due early.
    store.record_suggestion(**suggestion_kwargs("p3", person_id="person-3"))
    p3_latest = decide(store, "p3", milestone_date=dt.date(2026, 3, 15))
    # person-4: a suggestion but no decision.
    store.record_suggestion(**suggestion_kwargs("p4", person_id="person-4"))

    everyone = store.latest_decisions()
    assert {(s.person_id, d.decision_id) for s, d in everyone} == {
        ("person-1", p1_latest.decision_id),
        ("person-2", p2_latest.decision_id),
        ("person-3", p3_latest.decision_id),
    }
    for s, d in everyone:
        assert s.suggestion_id == d.suggestion_id
        assert s.latest_decision == d

    due = store.latest_decisions(milestone_due_by=dt.date(2026, 4, 1))
    assert [(s.person_id, d.milestone_date) for s, d in due] == [("person-3", dt.date(2026, 3, 15))]
    due = store.latest_decisions(milestone_due_by=dt.date(2026, 5, 1))  # inclusive
    assert [s.person_id for s, _ in due] == ["person-3", "person-1"]  # earliest milestone first
    assert store.latest_decisions(milestone_due_by=dt.date(2026, 1, 1)) == []


def test_decisions_by_advisor_order_and_limit(store: DecisionStore) -> None:
    store.record_suggestions([suggestion_kwargs(f"a-{i}") for i in range(5)])
    mine = [decide(store, f"a-{i}", advisor_id="advisor-7") for i in range(4)]
    decide(store, "a-4", advisor_id="advisor-8")
    revised = decide(store, "a-0", advisor_id="advisor-7", final_tier="A", revision=True)

    got = store.decisions_by_advisor("advisor-7")
    assert [d.decision_id for d in got] == [revised.decision_id] + [d.decision_id for d in reversed(mine)]
    assert all(isinstance(d, DecisionRecord) for d in got)
    assert [d.decision_id for d in store.decisions_by_advisor("advisor-7", limit=2)] == [
        revised.decision_id,
        mine[3].decision_id,
    ]
    assert store.decisions_by_advisor("advisor-7", limit=0) == []
    assert store.decisions_by_advisor("nobody") == []


def test_override_rates(store: DecisionStore) -> None:
    """Counts by the need the model really suggested, read through the contract (an invented
    ``primary_need`` key once made every real suggestion count as UNKNOWN)."""
    needs = sorted({o.need_code for o in REAL_OUTPUTS})
    first, second = needs[0], needs[1]

    def row(i: int, need: str) -> dict:
        return row_from_suggestion(
            real_suggestion(f"o-{i}", need=need, index=i), advisor_id="advisor-1", input_hash="h" * 64
        )

    store.record_suggestions([row(0, first), row(1, first), row(2, first), row(3, second), row(4, first)])
    other = next(n for n in NEED_CODES if n not in (first, second))
    decide(store, "o-0", final_need=first)
    decide(store, "o-1", action="override", final_need=other, reason="santé")
    decide(store, "o-2", final_need=first)  # confirmed, then revised to an override: counted once, as override
    decide(store, "o-2", action="override", final_need=other, reason="projet flou", revision=True)
    decide(store, "o-3", action="override", final_need=other, reason="formation en vue")
    # o-4: no decision, not counted

    rates = store.override_rates()
    assert rates["total"] == 4
    assert rates["overrides"] == 3
    assert rates["by_need"][first] == {"total": 3, "overrides": 2}
    assert rates["by_need"][second] == {"total": 1, "overrides": 1}
    assert UNKNOWN_NEED not in rates["by_need"]
    assert set(rates["by_need"]) == set(NEED_CODES)
    assert rates["by_need"][other] == {"total": 0, "overrides": 0}


def test_a_suggestion_that_breaks_the_contract_is_refused(store: DecisionStore) -> None:
    invented = {"primary_need": "TRAINING", "tier": "B", "probabilities": {"TRAINING": 0.61}}
    with pytest.raises(ValueError, match="contract"):
        store.record_suggestion(**suggestion_kwargs(output=invented))
    with pytest.raises(ValueError, match=r"contract: explanations\.need"):
        store.record_suggestion(**suggestion_kwargs(explanation={"need": {"top": []}, "employability": None}))
    with pytest.raises(SuggestionNotFound):
        store.get_suggestion("sug-1")


def test_a_suggestion_reads_back_as_the_contract(store: DecisionStore) -> None:
    original = real_suggestion("sug-1")
    store.record_suggestion(
        **row_from_suggestion(original, advisor_id="advisor-1", input_hash="h" * 64, policy_context={"housing": "NONE"})
    )
    loaded = store.get_suggestion("sug-1")
    assert loaded.suggestion == original
    assert loaded.policy_context == {"housing": "NONE"}


def test_empty_store_queries(store: DecisionStore) -> None:
    assert store.latest_decisions() == []
    assert store.override_rates() == {
        "total": 0,
        "overrides": 0,
        "by_need": {n: {"total": 0, "overrides": 0} for n in NEED_CODES},
    }


# --------------------------------------------------------------------------- PostgreSQL only


def test_postgresql_rejects_updates_deletes_and_duplicate_first_decisions(postgres_database: str) -> None:
    """The same database-level guarantees as on SQLite, from PostgreSQL's triggers and constraints."""
    url = postgres_database
    store = DecisionStore(url)
    try:
        store.record_suggestion(**suggestion_kwargs())
        first = decide(store)
        engine = sa.create_engine(url)
        try:
            statements = [
                ("UPDATE decisions SET final_need = 'TRAINING'", "append-only"),
                ("DELETE FROM decisions", "append-only"),
                # CASCADE: contests reference decisions (revision 0004), and a plain TRUNCATE would
                # be refused for that before the append-only trigger could say why.
                ("TRUNCATE decisions CASCADE", "append-only"),
                ("UPDATE suggestions SET person_id = 'x'", "append-only"),
                (
                    "INSERT INTO decisions (decision_id, suggestion_id, sequence, advisor_id, action, final_need, "
                    "final_tier, created_at) VALUES ('other', 'sug-1', 0, 'a', 'confirm', 'TRAINING', 'B', "
                    "'2026-01-01T00:00:00Z')",
                    "uq_decisions_suggestion_id_sequence",
                ),
            ]
            second = decide(store, final_tier="C", revision=True)
            statements += [
                (
                    "INSERT INTO decisions (decision_id, suggestion_id, sequence, advisor_id, action, final_need, "
                    f"final_tier, revision_of, created_at) VALUES ('other', 'sug-1', 7, 'a', 'confirm', 'TRAINING', "
                    f"'B', '{first.decision_id}', '2026-01-01T00:00:00Z')",
                    "uq_decisions_revision_of",
                ),
                (
                    "INSERT INTO decisions (decision_id, suggestion_id, sequence, advisor_id, action, final_need, "
                    "final_tier, created_at) VALUES ('other', 'sug-1', 7, 'a', 'confirm', 'TRAINING', 'B', "
                    "'2026-01-01T00:00:00Z')",
                    "ck_decisions_sequence_revision_of",
                ),
            ]
            for sql, refusal in statements:
                with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match=refusal):
                    conn.exec_driver_sql(sql)
        finally:
            engine.dispose()
        assert [r[0] for r in decision_rows(url)] == [first.decision_id, second.decision_id]
    finally:
        store.dispose()


def test_postgresql_end_to_end(postgres_database: str) -> None:
    """Same migration and store on a real PostgreSQL server, in a throw-away schema of a
    fresh database (a deployment may keep Jalon's tables in a schema of their own)."""
    import uuid

    schema = f"jalon_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_database)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(postgres_database).update_query_dict({"options": f"-csearch_path={schema}"})
    url_str = url.render_as_string(hide_password=False)
    try:
        # Concurrent first start in threads: the advisory lock lets one migrate.
        opened: list[DecisionStore] = []
        errors: list[BaseException] = []

        def open_store() -> None:
            try:
                opened.append(DecisionStore(url_str))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        store, other = opened[0], opened[1]
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head_revision(),)
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []

        created = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        returned = store.record_suggestion(**suggestion_kwargs(created_at=created))
        assert store.get_suggestion("sug-1") == returned
        assert store.get_suggestion("sug-1").created_at.utcoffset() == dt.timedelta(0)

        first = decide(store, milestone_date=dt.date(2026, 6, 1))
        with pytest.raises(DecisionConflict):
            decide(other)
        second = decide(
            other,
            advisor_id="advisor-pg",
            action="override",
            final_need="SOCIAL_BARRIERS",
            reason="logement",
            revision=True,
        )
        assert [d.decision_id for d in store.get_suggestion("sug-1").decisions] == [
            first.decision_id,
            second.decision_id,
        ]
        assert second.revision_of == first.decision_id
        with store.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.exec_driver_sql("UPDATE decisions SET final_tier = 'A'")

        # Race on PostgreSQL: here the UNIQUE constraint alone decides.
        n = 15
        store.record_suggestions([suggestion_kwargs(f"race-{i}", person_id=f"p-{i}") for i in range(n)])
        barrier = threading.Barrier(2)
        outcomes: dict[str, list[str]] = {f"race-{i}": [] for i in range(n)}

        def advisor(k: int) -> None:
            for i in range(n):
                barrier.wait()
                try:
                    decide(opened[k], f"race-{i}", advisor_id=f"advisor-{k}", milestone_date=dt.date(2026, 4, 1))
                    outcomes[f"race-{i}"].append("won")
                except DecisionConflict:
                    outcomes[f"race-{i}"].append("conflict")
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=advisor, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert all(sorted(o) == ["conflict", "won"] for o in outcomes.values()), outcomes

        # Concurrent revisions on PostgreSQL: losers re-base and retry; one linear chain.
        revisers = threading.Barrier(3)

        def revise(k: int) -> None:
            for _ in range(4):
                revisers.wait()
                try:
                    decide(
                        opened[k],
                        advisor_id="advisor-pg",
                        action="override",
                        final_need="SOCIAL_BARRIERS",
                        reason="logement",
                        revision=True,
                    )
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=revise, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        history = store.get_suggestion("sug-1").decisions
        assert len(history) == 14
        assert all(cur.revision_of == prev.decision_id for prev, cur in itertools.pairwise(history))
        second = history[-1]

        assert len(store.latest_decisions()) == n + 1
        assert len(store.latest_decisions(milestone_due_by=dt.date(2026, 4, 1))) == n
        rates = store.override_rates()
        assert rates["total"] == n + 1
        assert rates["overrides"] == 1
        assert [d.decision_id for d in store.decisions_by_advisor("advisor-pg", limit=1)] == [second.decision_id]
        for s in opened:
            s.dispose()
        DecisionStore(url_str).dispose()  # reopening is idempotent
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
