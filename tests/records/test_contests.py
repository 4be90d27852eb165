"""Contests, their outcomes, the person's own view on decisions, and revision 0004 — on SQLite
and PostgreSQL (the ``url`` / ``store`` fixtures of test_store.py), from real model outputs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from alembic import command

from core.errors import Conflict, InvalidInput, Refused
from records import DecisionStore, make_engine
from records.contests import ContestConflict, ContestNotFound
from records.engine import alembic_config, lock_for_migration
from records.tables import decisions, suggestions
from records.validation import suggestion_row
from tests.records.test_store import decide, fetch, head_revision, suggestion_kwargs

TODAY = dt.date(2026, 12, 1)
SUGGESTED_AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def recorded(store: DecisionStore, suggestion_id: str = "sug-1") -> None:
    """A suggestion from a real model output, shown a month before TODAY."""
    store.record_suggestion(**suggestion_kwargs(suggestion_id, created_at=SUGGESTED_AT))


def contest(store: DecisionStore, suggestion_id: str = "sug-1", **overrides):
    kwargs = {
        "suggestion_id": suggestion_id,
        "received_on": dt.date(2026, 11, 20),
        "statement": "Je ne suis pas d'accord avec ce parcours",
        "recorded_by": "advisor-1",
        "today": TODAY,
    }
    kwargs.update(overrides)
    return store.record_contest(**kwargs)


def revision(need: str = "SOCIAL_BARRIERS", tier: str = "C") -> dict:
    return {
        "final_need": need,
        "final_tier": tier,
        "recommendation": None,
        "milestone_date": dt.date(2027, 3, 1),
        "person_view_need": "SOCIAL_BARRIERS",
    }


def test_migration_0004_keeps_existing_rows(url: str) -> None:
    """A store at revision 0001 with a decision upgrades to head; the decision is kept as it was."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            lock_for_migration(conn)
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
        # Rows written as revision 0001 knew them (no person_view_need column yet).
        row = suggestion_row(**suggestion_kwargs("sug-old", created_at=SUGGESTED_AT))
        with engine.begin() as conn:
            conn.execute(sa.insert(suggestions), row)
            conn.execute(
                sa.insert(decisions).values(
                    decision_id="d-old",
                    suggestion_id="sug-old",
                    sequence=0,
                    advisor_id="advisor-1",
                    action="confirm",
                    final_need="TRAINING",
                    final_tier="B",
                    created_at=dt.datetime(2026, 1, 5, 9, 5, tzinfo=dt.UTC),
                )
            )
    finally:
        engine.dispose()
    upgraded = DecisionStore(url)
    try:
        assert fetch(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
        (kept,) = upgraded.get_suggestion("sug-old").decisions
        assert (kept.decision_id, kept.final_need, kept.final_tier, kept.person_view_need) == (
            "d-old",
            "TRAINING",
            "B",
            None,
        )
        # The kept decision can be contested like any other.
        assert contest(upgraded, "sug-old").decision_id == "d-old"
    finally:
        upgraded.dispose()


def test_person_view_is_stored_with_the_decision(store: DecisionStore) -> None:
    recorded(store)
    made = decide(store, person_view_need="UNKNOWN")
    assert made.person_view_need == "UNKNOWN"
    assert store.get_suggestion("sug-1").decisions[0].person_view_need == "UNKNOWN"
    assert store.get_decision(made.decision_id)[1] == made
    with pytest.raises(ValueError, match="person_view_need must be one of"):
        decide(store, person_view_need="NOT_A_NEED", revision=True)


def test_contest_flow_maintained(store: DecisionStore) -> None:
    recorded(store)
    with pytest.raises(Refused, match="nothing to contest"):
        contest(store)
    first = decide(store)
    opened = contest(store)
    assert (opened.status, opened.decision_id, opened.contested_advisor_id) == ("open", first.decision_id, "advisor-1")
    assert opened.age_days(TODAY) == 11
    with pytest.raises(ContestConflict, match="already has an open contest"):
        contest(store)
    assert [c.contest_id for c in store.open_contests()] == [opened.contest_id]

    with pytest.raises(Refused, match="another advisor"):
        store.record_contest_outcome(
            contest_id=opened.contest_id, outcome="maintained", reason="ok", decided_by="advisor-1"
        )
    closed, decision = store.record_contest_outcome(
        contest_id=opened.contest_id,
        outcome="maintained",
        reason="Le parcours répond au besoin",
        decided_by="advisor-2",
    )
    assert decision is None
    assert (closed.status, closed.outcome.decided_by, closed.outcome.reason) == (
        "maintained",
        "advisor-2",
        "Le parcours répond au besoin",
    )
    assert store.open_contests() == []
    assert len(store.get_suggestion("sug-1").decisions) == 1, "maintaining records no new decision"
    with pytest.raises(ContestConflict, match="already re-examined"):
        store.record_contest_outcome(
            contest_id=opened.contest_id, outcome="maintained", reason="x", decided_by="advisor-3"
        )
    # Closed, the decision may be contested again (a new fact, a new contest).
    assert contest(store, received_on=dt.date(2026, 11, 30)).status == "open"


def test_contest_revised_appends_a_decision_in_the_same_transaction(store: DecisionStore) -> None:
    recorded(store)
    first = decide(store, person_view_need="SOCIAL_BARRIERS")
    opened = contest(store)
    closed, decision = store.record_contest_outcome(
        contest_id=opened.contest_id,
        outcome="revised",
        reason="Le logement d'abord",
        decided_by="advisor-2",
        revision=revision(),
    )
    assert closed.status == "revised"
    assert closed.outcome.revision_decision_id == decision.decision_id
    history = store.get_suggestion("sug-1").decisions
    assert [d.decision_id for d in history] == [first.decision_id, decision.decision_id]
    assert (history[1].advisor_id, history[1].action, history[1].reason, history[1].revision_of) == (
        "advisor-2",
        "override",
        "Le logement d'abord",
        first.decision_id,
    )
    assert history[1].final_need == "SOCIAL_BARRIERS"


def test_contest_inputs_are_checked(store: DecisionStore) -> None:
    recorded(store)
    decide(store)
    with pytest.raises(InvalidInput, match="in the future"):
        contest(store, received_on=TODAY + dt.timedelta(days=3))
    with pytest.raises(InvalidInput, match="statement"):
        contest(store, statement="   ")
    with pytest.raises(InvalidInput, match="before the suggestion"):
        contest(store, received_on=dt.date(2020, 1, 1))
    with pytest.raises(ContestNotFound):
        store.get_contest("nope")
    opened = contest(store)
    with pytest.raises(InvalidInput, match="revised outcome needs"):
        store.record_contest_outcome(
            contest_id=opened.contest_id, outcome="revised", reason="r", decided_by="advisor-2"
        )


def test_contests_are_append_only(store: DecisionStore, url: str) -> None:
    recorded(store)
    decide(store)
    opened = contest(store)
    store.record_contest_outcome(contest_id=opened.contest_id, outcome="maintained", reason="r", decided_by="advisor-2")
    engine = sa.create_engine(url)
    try:
        for sql in (
            "UPDATE contests SET statement = 'changed'",
            "DELETE FROM contests",
            "UPDATE contest_outcomes SET outcome = 'revised'",
            "DELETE FROM contest_outcomes",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(sql)
    finally:
        engine.dispose()
    assert fetch(url, "SELECT count(*) FROM contests")[0] == (1,)


def test_two_reexaminations_at_once_one_wins(store: DecisionStore, url: str) -> None:
    recorded(store)
    decide(store)
    opened = contest(store)
    others = [DecisionStore(url) for _ in range(4)]
    results: list[str] = []
    barrier = threading.Barrier(len(others))

    def resolve(s: DecisionStore, who: str) -> None:
        barrier.wait()
        try:
            s.record_contest_outcome(
                contest_id=opened.contest_id, outcome="revised", reason=f"by {who}", decided_by=who, revision=revision()
            )
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=resolve, args=(s, f"advisor-{i + 2}")) for i, s in enumerate(others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in others:
        s.dispose()
    assert sorted(results) == ["conflict"] * 3 + ["ok"]
    assert len(store.get_suggestion("sug-1").decisions) == 2, "only the winner's revision is recorded"


def test_person_side_figures_count_a_planted_pattern(store: DecisionStore) -> None:
    """Four decided suggestions with known views; two contests, one still open."""
    tool_needs = []
    for i, (view, final) in enumerate(
        [("same-as-tool", "tool"), ("same-as-tool", "SOCIAL_BARRIERS"), ("UNKNOWN", "tool"), (None, "tool")]
    ):
        sid = f"sug-{i}"
        recorded(store, sid)
        tool = store.get_suggestion(sid).suggestion.need_code
        tool_needs.append(tool)
        final_need = tool if final == "tool" else ("TRAINING" if tool == "SOCIAL_BARRIERS" else final)
        action = "confirm" if final_need == tool else "override"
        decide(
            store,
            sid,
            final_need=final_need,
            action=action,
            reason=None if action == "confirm" else "autre besoin",
            person_view_need=tool if view == "same-as-tool" else view,
        )
    old = contest(store, "sug-0", received_on=TODAY - dt.timedelta(days=29))
    done = contest(store, "sug-1", received_on=TODAY - dt.timedelta(days=5))
    store.record_contest_outcome(contest_id=done.contest_id, outcome="maintained", reason="r", decided_by="advisor-9")
    figures = store.person_side_figures(today=TODAY)
    assert figures["views"] == {
        "decisions": 4,
        "with_person_view": 3,
        "person_does_not_know": 1,
        "person_agrees_with_tool": 2,
        "person_agrees_with_advisor": 1,
        "tool_agrees_with_advisor": 3,
        "all_three_agree": 1,
    }
    c = figures["contests"]
    assert (c["total"], c["open"], c["maintained"], c["revised"]) == (2, 1, 1, 0)
    assert c["open_age_days"] == [29]
    assert c["open_over_target"] == 0
    assert old.age_days(TODAY) == 29
    later = store.person_side_figures(today=TODAY + dt.timedelta(days=10))["contests"]
    assert (later["open_age_days"], later["open_over_target"]) == ([39], 1)
