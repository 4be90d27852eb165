"""The oversight figures and the auditors' listing, on real SQLite files and a real PostgreSQL server.

A planted pattern (known override rates per advisor and per suggested need, known revisions,
review flags, quick and slow confirmations, reasons, an admin acting for an advisor, old
suggestions outside the period) is written through the store and read back exactly. Rows
are built from what the real model emits, never from an invented shape.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from alembic import command

from core.errors import InvalidInput
from core.stats import wilson_interval
from core.thresholds import QUICK_CONFIRMATION_SECONDS
from features.schema import NEED_CODES, TIER_CODES
from models.suggestion import ModelSuggestion, Suggestion
from records import (
    AuditFilter,
    DecisionStore,
    iter_rows,
    list_page,
    oversight_figures,
    row_from_suggestion,
)
from records.engine import alembic_config, make_engine
from records.oversight import UNKNOWN_KEY

UTC = dt.UTC


# ``url`` (each backend in turn) and ``store``: tests/records/conftest.py.


@pytest.fixture(scope="module")
def outputs(model, records) -> list[ModelSuggestion]:
    return model.suggest_records(records[:120])


@dataclass(frozen=True)
class Planted:
    """One planted suggestion and what was decided on it."""

    suggestion_id: str
    advisor: str
    agency: str
    output: ModelSuggestion
    decisions: tuple[str, ...]  # actions, first to latest ("" = undecided)
    age_s: float  # how long before its first decision the suggestion was made
    reason_code: str | None = None
    on_behalf: bool = False
    old: bool = False  # made 30 days ago: outside the period

    @property
    def latest(self) -> str | None:
        return self.decisions[-1] if self.decisions else None


def plant(store: DecisionStore, outputs: list[ModelSuggestion]) -> list[Planted]:
    """The pattern: advisor adv-a overrides 1 in 5 of need N1 and 3 in 4 of need N2; adv-b 2 in 6 of N1;
    adv-c none of 3 (all quick confirmations); revisions, flags, reasons and an admin's decision."""
    by_need: dict[str, list[ModelSuggestion]] = {}
    for output in outputs:
        by_need.setdefault(output.need_code, []).append(output)
    needs = sorted(by_need, key=lambda n: -len(by_need[n]))
    n1, n2 = needs[0], needs[1]
    picked = Counter[str]()

    def take(need: str) -> ModelSuggestion:
        pool = by_need[need]
        out = pool[picked[need] % len(pool)]
        picked[need] += 1
        return out

    plan: list[Planted] = []
    counter = iter(range(1000))

    def add(advisor, agency, need, decisions, age_s=120.0, **extra) -> None:
        plan.append(Planted(f"s{next(counter):03d}", advisor, agency, take(need), decisions, age_s, **extra))

    # adv-a, need N1: 1 override in 5 (one confirmation later revised into an override counts as override).
    add("adv-a", "AG-1", n1, ("confirm",))
    add("adv-a", "AG-1", n1, ("confirm",), age_s=3.0)  # quick
    add("adv-a", "AG-1", n1, ("confirm",))
    add("adv-a", "AG-2", n1, ("confirm",))
    add("adv-a", "AG-2", n1, ("confirm", "override"), reason_code="NEW_INFORMATION")  # revised
    # adv-a, need N2: 3 overrides in 4 (one override revised back into a confirmation).
    add("adv-a", "AG-1", n2, ("override",), reason_code="PERSON_PROJECT")
    add("adv-a", "AG-1", n2, ("override",), reason_code="PERIPHERAL_BARRIER")
    add("adv-a", "AG-2", n2, ("override", "confirm"))  # revised: counted as confirmed
    add("adv-a", "AG-2", n2, ("override",), reason_code=None)  # an uncoded (older style) override
    # adv-b, need N1: 2 overrides in 6, one recorded by an admin for adv-b.
    add("adv-b", "AG-2", n1, ("override",), reason_code="PERSON_PROJECT", on_behalf=True)
    add("adv-b", "AG-2", n1, ("override",), reason_code="OTHER")
    for _ in range(4):
        add("adv-b", "AG-2", n1, ("confirm",), age_s=600.0)
    # adv-c: three quick confirmations of N2.
    for _ in range(3):
        add("adv-c", "AG-3", n2, ("confirm",), age_s=2.0)
    # Undecided, and old suggestions outside the period (decided: they must not count).
    add("adv-a", "AG-1", n1, ())
    add("adv-b", "AG-2", n2, ())
    add("adv-a", "AG-1", n2, ("override",), reason_code="OTHER", old=True)
    add("adv-c", "AG-3", n1, ("confirm",), old=True)

    for p in plan:
        now = dt.datetime.now(UTC)  # per suggestion: its first decision follows within milliseconds
        created = now - dt.timedelta(days=30) if p.old else now - dt.timedelta(seconds=p.age_s)
        suggestion = Suggestion(
            suggestion_id=p.suggestion_id,
            model_version="test",
            created_at=created,
            person_id=f"P-{p.suggestion_id}",
            agency_id=p.agency,
            **dict(p.output),
            recommendation=None,
        )
        store.record_suggestion(**row_from_suggestion(suggestion, advisor_id=p.advisor, input_hash="h" * 64))
        for i, action in enumerate(p.decisions):
            other_need = next(n for n in NEED_CODES if n != p.output.need_code)
            latest = i == len(p.decisions) - 1
            store.record_decision(
                suggestion_id=p.suggestion_id,
                advisor_id=p.advisor,
                action=action,
                final_need=other_need if action == "override" else p.output.need_code,
                final_tier=p.output.tier,
                reason="motif écrit" if action == "override" else None,
                reason_code=(p.reason_code if latest else "NEW_INFORMATION") if action == "override" else None,
                revision=i > 0,
                actor="admin-1" if p.on_behalf else None,
                on_behalf_reason="conseiller absent, décision prise en entretien" if p.on_behalf else None,
            )
    return plan


def expected_rate(planted: list[Planted]) -> dict:
    decided = [p for p in planted if p.latest]
    overrides = sum(p.latest == "override" for p in decided)
    interval = wilson_interval(overrides, len(decided))
    return {
        "decisions": len(decided),
        "overrides": overrides,
        "override_rate": overrides / len(decided) if decided else None,
        "override_rate_ci": None if interval is None else {"low": interval[0], "high": interval[1]},
    }


def test_planted_pattern_is_read_back_exactly(store: DecisionStore, outputs) -> None:
    plan = plant(store, outputs)
    since = dt.datetime.now(UTC).date() - dt.timedelta(days=1)
    figures = oversight_figures(store, since=since).model_dump(mode="json")
    period = [p for p in plan if not p.old]
    decided = [p for p in period if p.latest]

    # Interface: top-level counts, and each group maps a key to {decisions, overrides, override_rate}.
    assert figures["suggestions"] == len(period) == 20
    assert figures["undecided"] == 2
    assert (figures["decisions"], figures["overrides"]) == (18, 1 + 3 + 2)
    assert figures["override_rate"] == pytest.approx(6 / 18)
    low, high = wilson_interval(6, 18)
    assert figures["override_rate_ci"] == {"low": pytest.approx(low), "high": pytest.approx(high)}

    by_advisor = figures["by_advisor"]
    assert {a: (r["decisions"], r["overrides"]) for a, r in by_advisor.items()} == {
        "adv-a": (9, 4),
        "adv-b": (6, 2),
        "adv-c": (3, 0),
    }
    assert by_advisor["adv-b"]["override_rate"] == pytest.approx(2 / 6)
    for advisor in ("adv-a", "adv-b", "adv-c"):
        assert by_advisor[advisor] == expected_rate([p for p in period if p.advisor == advisor])

    for need in NEED_CODES:
        assert figures["by_need"][need] == expected_rate([p for p in period if p.output.need_code == need])
    needs = Counter(p.output.need_code for p in decided)
    n1, n2 = (n for n, _ in needs.most_common(2))
    assert (figures["by_need"][n1]["decisions"], figures["by_need"][n1]["overrides"]) == (11, 3)
    assert (figures["by_need"][n2]["decisions"], figures["by_need"][n2]["overrides"]) == (7, 3)
    assert set(figures["by_tier"]) >= set(TIER_CODES)
    for tier in TIER_CODES:
        assert figures["by_tier"][tier] == expected_rate([p for p in period if p.output.tier == tier])
    assert figures["by_agency"] == {
        a: expected_rate([p for p in period if p.agency == a]) for a in ("AG-1", "AG-2", "AG-3")
    }

    assert figures["revisions"]["count"] == 2
    assert figures["revisions"]["total"] == 18
    flagged = [p for p in decided if p.output.needs_review]
    assert figures["flagged"]["count"] == len(flagged)
    assert figures["override_rate_flagged"] == expected_rate(flagged)
    assert figures["override_rate_not_flagged"] == expected_rate([p for p in decided if not p.output.needs_review])

    quick = figures["quick_confirmations"]
    assert quick["threshold_seconds"] == QUICK_CONFIRMATION_SECONDS
    first_confirms = [p for p in decided if p.decisions[0] == "confirm"]
    assert quick["overall"]["total"] == len(first_confirms) == 12
    assert quick["overall"]["count"] == 4  # adv-a's one and adv-c's three
    assert {a: (s["count"], s["total"]) for a, s in quick["by_advisor"].items()} == {
        "adv-a": (1, 5),
        "adv-b": (0, 4),
        "adv-c": (3, 3),
    }
    delays = figures["time_to_decision_seconds"]
    assert delays["decisions"] == 18
    assert 100 < delays["median"] < 200  # most first decisions came 120 s after their suggestion

    reasons = figures["reasons"]
    assert reasons["PERSON_PROJECT"] == 2
    assert reasons["PERIPHERAL_BARRIER"] == 1
    assert reasons["NEW_INFORMATION"] == 1
    assert reasons["OTHER"] == 1
    assert reasons["UNCODED"] == 1
    assert sum(reasons.values()) == figures["overrides"]
    assert figures["on_behalf"] == 1

    # Without a period, the old suggestions count too.
    everything = oversight_figures(store)
    assert (everything.suggestions, everything.decisions, everything.overrides) == (22, 20, 7)


def test_listing_filters_and_pages(store: DecisionStore, outputs) -> None:
    plan = plant(store, outputs)
    everything = list(iter_rows(store, AuditFilter()))
    assert {r.suggestion_id for r in everything} == {p.suggestion_id for p in plan}
    keys = [(r.created_at, r.suggestion_id) for r in everything]
    assert keys == sorted(keys)

    # Pages follow the cursor, in order, without gaps or repeats.
    seen, cursor = [], None
    while True:
        page = list_page(store, AuditFilter(), limit=4, cursor=cursor)
        seen += [r.suggestion_id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.suggestion_id for r in everything]

    def ids(**filters) -> set[str]:
        return {r.suggestion_id for r in iter_rows(store, AuditFilter(**filters))}

    assert ids(advisor_id="adv-c") == {p.suggestion_id for p in plan if p.advisor == "adv-c"}
    assert ids(agency_id="AG-2") == {p.suggestion_id for p in plan if p.agency == "AG-2"}
    assert ids(action="override") == {p.suggestion_id for p in plan if p.latest == "override"}
    assert ids(action="confirm") == {p.suggestion_id for p in plan if p.latest == "confirm"}
    assert ids(action="undecided") == {p.suggestion_id for p in plan if p.latest is None}
    need = plan[0].output.need_code
    assert ids(need=need) == {p.suggestion_id for p in plan if p.output.need_code == need}
    assert ids(tier="B") == {p.suggestion_id for p in plan if p.output.tier == "B"}
    assert ids(needs_review=True) == {p.suggestion_id for p in plan if p.output.needs_review}
    assert ids(needs_review=False) == {p.suggestion_id for p in plan if not p.output.needs_review}
    today = dt.datetime.now(UTC).date()
    assert ids(since=today - dt.timedelta(days=1)) == {p.suggestion_id for p in plan if not p.old}
    assert ids(until=today - dt.timedelta(days=2)) == {p.suggestion_id for p in plan if p.old}
    assert ids(has_contest=True) == set()
    assert ids(has_contest=False) == {p.suggestion_id for p in plan}

    row = next(r for r in everything if r.on_behalf_of)
    assert (row.actor, row.on_behalf_of, row.decided_by, row.reason_code) == (
        "admin-1",
        "adv-b",
        "adv-b",
        "PERSON_PROJECT",
    )
    revised = next(r for r in everything if r.revised and r.latest_action == "confirm")
    assert (revised.decision_count, revised.first_action) == (2, "override")

    with pytest.raises(InvalidInput, match="cursor"):
        list_page(store, AuditFilter(), cursor="not-a-cursor")
    with pytest.raises(InvalidInput, match="limit"):
        list_page(store, AuditFilter(), limit=0)
    with pytest.raises(InvalidInput, match="until"):
        AuditFilter(since=today, until=today - dt.timedelta(days=1))


def test_has_contest_filters_on_recorded_contests(store: DecisionStore, outputs) -> None:
    plan = plant(store, outputs)
    contested = next(p for p in plan if p.decisions)
    store.record_contest(
        suggestion_id=contested.suggestion_id,
        received_on=dt.datetime.now(UTC).date(),
        statement="Je ne suis pas d'accord.",
        recorded_by=contested.advisor,
    )
    assert [r.suggestion_id for r in iter_rows(store, AuditFilter(has_contest=True))] == [contested.suggestion_id]
    assert len(list(iter_rows(store, AuditFilter(has_contest=False)))) == len(plan) - 1


def test_migration_keeps_existing_decisions(url: str, outputs) -> None:
    """A store at revision 0001 with decisions: upgraded to head, every row is kept as it was
    (the append-only triggers would refuse any UPDATE); the new columns are empty for old rows."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execution_options(jalon_write=True)
            with conn.begin():
                config = alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, "0001")
        output = outputs[0]
        old = Suggestion(
            suggestion_id="old-1",
            model_version="test",
            created_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
            person_id="P-old",
            agency_id="AG-1",
            **dict(output),
            recommendation=None,
        )
        row = row_from_suggestion(old, advisor_id="adv-a", input_hash="h" * 64)
        with engine.begin() as conn:
            tables = sa.MetaData()
            tables.reflect(conn, only=["suggestions", "decisions"])
            conn.execute(sa.insert(tables.tables["suggestions"]), {**row, "created_at": row["created_at"]})
            conn.execute(
                sa.insert(tables.tables["decisions"]),
                {
                    "decision_id": "d-old",
                    "suggestion_id": "old-1",
                    "sequence": 0,
                    "advisor_id": "adv-a",
                    "action": "override",
                    "final_need": next(n for n in NEED_CODES if n != output.need_code),
                    "final_tier": output.tier,
                    "reason": "motif d'avant",
                    "revision_of": None,
                    "recommendation": None,
                    "milestone_date": None,
                    "created_at": dt.datetime(2026, 1, 5, 9, 5, tzinfo=UTC),
                },
            )
            before = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM decisions"))]
    finally:
        engine.dispose()

    store = DecisionStore(url)  # migrates to head
    try:
        decision = store.get_suggestion("old-1").latest_decision
        assert decision is not None
        assert (decision.decision_id, decision.reason, decision.advisor_id) == ("d-old", "motif d'avant", "adv-a")
        assert (decision.actor, decision.on_behalf_of, decision.reason_code) == (None, None, None)
        with store.reading() as conn:
            after = [tuple(r)[: len(before[0])] for r in conn.execute(sa.text("SELECT * FROM decisions"))]
        assert after == before
        figures = oversight_figures(store)
        assert figures.reasons["UNCODED"] == 1
        assert figures.by_advisor["adv-a"].overrides == 1
        # New decisions record their author.
        store.record_suggestion(
            **row_from_suggestion(
                old.model_copy(update={"suggestion_id": "new-1"}), advisor_id="adv-a", input_hash="h" * 64
            )
        )
        new = store.record_decision(
            suggestion_id="new-1",
            advisor_id="adv-a",
            action="confirm",
            final_need=output.need_code,
            final_tier=output.tier,
        )
        assert (new.actor, new.on_behalf_of) == ("adv-a", None)
        store.check_writable()
    finally:
        store.dispose()


def test_store_rules_on_authorship_and_reasons(store: DecisionStore, outputs) -> None:
    output = outputs[0]
    suggestion = Suggestion(
        suggestion_id="s1",
        model_version="test",
        created_at=dt.datetime.now(UTC),
        person_id="P-1",
        agency_id=None,
        **dict(output),
        recommendation=None,
    )
    store.record_suggestion(**row_from_suggestion(suggestion, advisor_id="adv-a", input_hash="h" * 64))
    base = {"suggestion_id": "s1", "advisor_id": "adv-a", "final_need": output.need_code, "final_tier": output.tier}
    with pytest.raises(ValueError, match="on_behalf_reason is required"):
        store.record_decision(**base, action="confirm", actor="admin-1")
    with pytest.raises(ValueError, match="reason_code must be one of"):
        store.record_decision(**base, action="override", reason="x", reason_code="BECAUSE")
    with pytest.raises(ValueError, match="for an override only"):
        store.record_decision(**base, action="confirm", reason_code="OTHER")
    with pytest.raises(ValueError, match=r"U\+202E"):
        store.record_decision(**base, action="override", reason="ok\u202etxt", reason_code="OTHER")
    recorded = store.record_decision(**base, action="confirm", actor="admin-1", on_behalf_reason="absence")
    assert (recorded.actor, recorded.on_behalf_of, recorded.on_behalf_reason) == ("admin-1", "adv-a", "absence")
    assert UNKNOWN_KEY == "UNKNOWN"
