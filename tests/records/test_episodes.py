"""Intensive-support episodes on real SQLite files and a real PostgreSQL server: record, end, read,
refuse overlaps, stay append-only, keep existing rows through the migration, feed the allocation."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.errors import Conflict, InvalidInput, NotFound
from policy import AgencyConfig, allocate
from records import EpisodeConflict, EpisodeError, EpisodeNotFound, EpisodeStore, make_engine
from records.engine import alembic_config
from records.tables import metadata

D = dt.date


@pytest.fixture(params=("sqlite", "postgresql"))
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'decisions.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def store(url: str) -> Iterator[EpisodeStore]:
    s = EpisodeStore(url)
    yield s
    s.dispose()


def item(person: str, start: dt.date, end: dt.date, referent: str = "AG1-REF01", agency: str = "AG1") -> dict:
    return {
        "person_id": person,
        "agency_id": agency,
        "referent_id": referent,
        "start_date": start,
        "planned_end_date": end,
    }


def test_record_end_and_read_back(store: EpisodeStore) -> None:
    made = store.start_episodes(
        [item("p1", D(2026, 1, 5), D(2026, 7, 5)), item("p2", D(2026, 2, 1), D(2026, 8, 1), "AG1-REF02")], "staff-7"
    )
    assert [e.recorded_by for e in made] == ["staff-7", "staff-7"]
    ended = store.end_episode(made[0].episode_id, D(2026, 3, 15), "EMPLOYMENT", "adv-3")
    assert ended.end_date == D(2026, 3, 15)
    assert ended.ended_by == "adv-3"
    back = {e.person_id: e for e in store.episodes(agency_id="AG1")}
    assert back["p1"].actual_end_date == D(2026, 3, 15)
    assert back["p1"].end_reason == "EMPLOYMENT"
    assert back["p1"].ongoing_on(D(2026, 3, 14))
    assert not back["p1"].ongoing_on(D(2026, 3, 15))
    assert back["p2"].actual_end_date is None
    assert back["p2"].end_date == D(2026, 8, 1)
    assert store.episodes(agency_id="elsewhere") == []
    assert [e.person_id for e in store.episodes(person_ids=["p2"])] == ["p2"]


def test_overlaps_and_double_ends_are_conflicts(store: EpisodeStore) -> None:
    (first,) = store.start_episodes([item("p1", D(2026, 1, 1), D(2026, 7, 1))], "staff")
    with pytest.raises(EpisodeConflict, match="already has an episode from 2026-01-01 to 2026-07-01") as caught:
        store.start_episodes([item("p9", D(2026, 3, 1), D(2026, 9, 1)), item("p1", D(2026, 6, 1), D(2026, 12, 1))], "s")
    assert isinstance(caught.value, Conflict)
    assert store.episodes(person_ids=["p9"]) == []  # all or none
    # within one batch too
    with pytest.raises(EpisodeConflict):
        store.start_episodes([item("p5", D(2026, 1, 1), D(2026, 7, 1)), item("p5", D(2026, 2, 1), D(2026, 3, 1))], "s")
    # ended early: the next episode may start from the actual end
    store.end_episode(first.episode_id, D(2026, 4, 1), "REORIENTED", "adv")
    store.start_episodes([item("p1", D(2026, 4, 1), D(2026, 10, 1))], "staff")
    with pytest.raises(EpisodeConflict, match="already ended on 2026-04-01"):
        store.end_episode(first.episode_id, D(2026, 5, 1), "OTHER", "adv")
    with pytest.raises(EpisodeNotFound) as missing:
        store.end_episode("nope", D(2026, 5, 1), "OTHER", "adv")
    assert isinstance(missing.value, NotFound)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"start_date": "2026-01-01"}, "episodes[0].start_date must be a date"),
        ({"planned_end_date": D(2026, 1, 1)}, "episodes[0].planned_end_date must be after start_date"),
        ({"person_id": ""}, "episodes[0].person_id must be a non-empty string"),
        ({"referent_id": None}, "episodes[0].referent_id must be a non-empty string"),
    ],
)
def test_bad_episodes_name_the_field(store: EpisodeStore, bad: dict, message: str) -> None:
    with pytest.raises(EpisodeError, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        store.start_episodes([{**item("p1", D(2026, 1, 1), D(2026, 7, 1)), **bad}], "staff")
    assert isinstance(caught.value, InvalidInput)


def test_end_rules(store: EpisodeStore) -> None:
    (ep,) = store.start_episodes([item("p1", D(2026, 1, 1), D(2026, 7, 1))], "staff")
    with pytest.raises(EpisodeError, match="reason must be one of PLANNED_END"):
        store.end_episode(ep.episode_id, D(2026, 2, 1), "BORED", "adv")
    with pytest.raises(EpisodeError, match=r"after the episode's start \(2026-01-01\)"):
        store.end_episode(ep.episode_id, D(2025, 12, 1), "OTHER", "adv")
    with pytest.raises(EpisodeError, match="recorded_by must be a non-empty string"):
        store.start_episodes([item("p2", D(2026, 1, 1), D(2026, 7, 1))], " ")


def test_tables_are_append_only_and_match_the_migration(store: EpisodeStore, url: str) -> None:
    (ep,) = store.start_episodes([item("p1", D(2026, 1, 1), D(2026, 7, 1))], "staff")
    store.end_episode(ep.episode_id, D(2026, 2, 1), "EMPLOYMENT", "adv")
    engine = make_engine(url)  # foreign keys on, as every Jalon connection
    try:
        for sql in (
            "UPDATE support_episodes SET referent_id = 'x'",
            "DELETE FROM support_episodes",
            "UPDATE support_episode_ends SET reason = 'OTHER'",
            "DELETE FROM support_episode_ends",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(sql)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO support_episode_ends VALUES ('missing-episode', '2026-02-01', 'OTHER', 'a', "
                "'2026-02-01 00:00:00')"
            )
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_upgrade_keeps_existing_decisions(tmp_path: Path) -> None:
    """A database at 0001 with rows in it moves to head; its rows are unchanged."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql(
            "INSERT INTO suggestions VALUES ('s1', '2026-01-01 00:00:00', 'm:1', 'AG1', 'p1', 'adv', 'h', '{}', '{}')"
        )
    before = pd.read_sql("SELECT * FROM suggestions", engine)
    engine.dispose()
    with EpisodeStore(url) as store:
        store.start_episodes([item("p1", D(2026, 1, 1), D(2026, 7, 1))], "staff")
    engine = sa.create_engine(url)
    pd.testing.assert_frame_equal(pd.read_sql("SELECT * FROM suggestions", engine), before)
    engine.dispose()


def test_racing_overlapping_episodes_one_wins(url: str) -> None:
    stores = [EpisodeStore(url) for _ in range(4)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(stores))

    def run(s: EpisodeStore, k: int) -> None:
        barrier.wait()
        try:
            s.start_episodes([item("p1", D(2026, 1, 1 + k), D(2026, 7, 1))], f"staff-{k}")
            outcomes.append("ok")
        except EpisodeConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(s, k)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert len(stores[0].episodes(person_ids=["p1"])) == 1
    for s in stores:
        s.dispose()


def test_the_allocation_reads_the_recorded_history(store: EpisodeStore) -> None:
    scored = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3"],
            "agency_id": "AG1",
            "need": "TRAINING",
            "p_employed": [0.05, 0.10, 0.20],
        }
    )
    config = AgencyConfig(caseload_per_referent=1, agencies={"AG1": {"referents": 2}})
    first = allocate(scored, config, D(2026, 1, 1), store.history_frame())
    assert first.new_episodes["person_id"].tolist() == ["p1", "p2"]
    store.start_episodes(
        [
            {**row, "start_date": row["start_date"].date(), "planned_end_date": row["planned_end_date"].date()}
            for row in first.new_episodes.to_dict("records")
        ],
        "staff",
    )
    # p1 finds work in February: the place frees; p3 (never served) takes it in March
    p1 = next(e for e in store.episodes() if e.person_id == "p1")
    store.end_episode(p1.episode_id, D(2026, 2, 10), "EMPLOYMENT", "adv")
    later = allocate(scored.iloc[1:], config, D(2026, 3, 1), store.history_frame())
    a = later.assignments.set_index("person_id")
    assert a.loc["p2", "referent_id"] == "AG1-REF02"
    assert "en cours" in a.loc["p2", "reason_fr"]
    assert a.loc["p3", "referent_id"] == "AG1-REF01"
    assert later.history["continuing"] == 1
