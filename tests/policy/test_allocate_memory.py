"""Model 2 with memory: ongoing episodes keep their place, people never served first, named référents."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidInput
from policy import AgencyConfig, EpisodeInputError, allocate
from policy.allocation import AllocationInputError, referent_slots, take_slots

AS_OF = date(2026, 3, 1)


def people(ps: dict[str, float], need: str = "TRAINING", **extra) -> pd.DataFrame:
    frame = pd.DataFrame({"person_id": list(ps), "need": need, "p_employed": list(ps.values())})
    frame["tier"] = np.where(frame["p_employed"] >= 0.6, "A", np.where(frame["p_employed"] >= 0.3, "B", "C"))
    for k, v in extra.items():
        frame[k] = v
    return frame


def episodes(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "referent_id", "start_date", "end_date"])


def tracks(result) -> dict[str, str]:
    a = result.assignments
    return dict(zip(a["person_id"], a["track"].astype(str), strict=True))


def referent_of(result) -> dict[str, str | None]:
    a = result.assignments
    return {p: (None if pd.isna(r) else r) for p, r in zip(a["person_id"], a["referent_id"], strict=True)}


def test_places_go_to_named_referents_least_filled_first():
    frame = people({f"p{k}": 0.05 * k for k in range(1, 8)})
    config = AgencyConfig(referents=2, caseload_per_referent=3, referent_ids=["R-A", "R-B"])
    result = allocate(frame, config, AS_OF)
    # priority p1 < p2 < ... : round robin over the two référents, 3 places each
    assert referent_of(result) == {
        "p1": "R-A",
        "p2": "R-B",
        "p3": "R-A",
        "p4": "R-B",
        "p5": "R-A",
        "p6": "R-B",
        "p7": None,
    }
    loads = result.referent_loads.set_index("referent_id")
    assert loads["load"].to_dict() == {"R-A": 3, "R-B": 3}
    assert result.left_out["person_id"].tolist() == ["p7"]
    # the episodes this allocation starts, to be recorded
    new = result.new_episodes
    assert new["person_id"].tolist() == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert (new["start_date"] == pd.Timestamp(AS_OF)).all()
    assert (new["planned_end_date"] == pd.Timestamp("2026-09-01")).all()


def test_default_referent_names_are_per_agency():
    frame = people({"a": 0.1, "b": 0.2, "c": 0.3}, agency_id=["75012", "75012", "13001"])
    config = AgencyConfig(caseload_per_referent=5, agencies={"75012": {"referents": 2}, "13001": {"referents": 1}})
    assert referent_of(allocate(frame, config, AS_OF)) == {"a": "75012-REF01", "b": "75012-REF02", "c": "13001-REF01"}


def test_ongoing_episodes_keep_place_and_referent_and_free_places_follow_end_dates():
    frame = people({"old": 0.55, "p1": 0.10, "p2": 0.20, "p3": 0.30, "done": 0.05})
    config = AgencyConfig(referents=2, caseload_per_referent=1, referent_ids=["R1", "R2"])
    history = episodes(
        ("old", "R2", "2026-01-01", "2026-07-01"),  # ongoing: keeps R2 until July
        ("done", "R1", "2025-06-01", "2025-12-01"),  # ended: served, frees R1
    )
    result = allocate(frame, config, AS_OF, history)
    assert tracks(result)["old"] == "INTENSIVE"
    assert referent_of(result)["old"] == "R2"
    ends = result.assignments.set_index("person_id")["end_date"]
    assert ends["old"] == pd.Timestamp("2026-07-01")
    # one place left (R1): never-served p1 before 'done' (served, although furthest from work)
    assert referent_of(result)["p1"] == "R1"
    assert tracks(result)["done"] != "INTENSIVE"
    reasons = result.assignments.set_index("person_id")["reason_fr"]
    assert "en cours" in reasons["old"]
    assert result.history == {"episodes_considered": 2, "continuing": 1, "already_served": 2, "rule": "last"}
    left = result.left_out.set_index("person_id")
    assert left.loc["done", "already_served"]
    assert not left.loc["p2", "already_served"]
    assert result.new_episodes["person_id"].tolist() == ["p1"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("last", ["never_b"]),  # never served first, even from a closer tier
        ("last_within_tier", ["served_c"]),  # the tier comes first; within it, never served first
        ("ignore", ["served_c"]),  # history plays no part: furthest from employment first
    ],
)
def test_already_served_rules(rule, expected):
    frame = people({"served_c": 0.10, "never_b": 0.40, "never_a": 0.70})
    config = AgencyConfig(referents=1, caseload_per_referent=1, priority={"already_served": rule})
    history = episodes(("served_c", "REF01", "2025-01-01", "2025-07-01"))
    result = allocate(frame, config, AS_OF, history)
    got = [p for p, t in tracks(result).items() if t == "INTENSIVE"]
    assert got == expected


def test_within_tier_never_served_first():
    frame = people({"c_served": 0.10, "c_never": 0.20, "b_never": 0.40})
    config = AgencyConfig(referents=1, caseload_per_referent=1, priority={"already_served": "last_within_tier"})
    history = episodes(("c_served", "REF01", "2025-01-01", "2025-07-01"))
    result = allocate(frame, config, AS_OF, history)
    assert [p for p, t in tracks(result).items() if t == "INTENSIVE"] == ["c_never"]
    assert result.left_out["person_id"].tolist() == ["c_served", "b_never"]


def test_episodes_of_people_no_longer_registered_hold_no_place():
    frame = people({"p1": 0.1})
    history = episodes(("gone", "REF01", "2026-01-01", "2026-07-01"))
    result = allocate(frame, AgencyConfig(referents=1, caseload_per_referent=1), AS_OF, history)
    assert tracks(result) == {"p1": "INTENSIVE"}


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (episodes(("p1", "R9", "2026-01-01", "2026-07-01")), "référent 'R9', who is not among its référents"),
        (
            episodes(("p1", "REF01", "2026-01-01", "2026-07-01"), ("p2", "REF01", "2026-02-01", "2026-08-01")),
            "holds 2 ongoing episodes but a caseload of 1",
        ),
        (
            episodes(("p1", "REF01", "2026-01-01", "2026-07-01"), ("p1", "REF01", "2026-02-01", "2026-08-01")),
            "person 'p1' has two ongoing episodes",
        ),
        (episodes(("p1", "REF01", "2026-01-01", "soon")), "episodes.end_date: 1 value(s) are not dates"),
        (episodes(("p1", "REF01", "2026-07-01", "2026-01-01")), "ends (2026-01-01) on or before it starts"),
        (pd.DataFrame({"person_id": ["p1"]}), "episodes: missing column(s) referent_id, start_date, end_date"),
    ],
)
def test_bad_episodes_are_refused_with_the_rule(history, message):
    frame = people({"p1": 0.1, "p2": 0.2})
    with pytest.raises(InvalidInput) as caught:
        allocate(frame, AgencyConfig(referents=1, caseload_per_referent=1), AS_OF, history)
    assert isinstance(caught.value, AllocationInputError | EpisodeInputError)
    assert message in str(caught.value)


def test_referent_ids_must_match_the_count():
    with pytest.raises(ValueError, match=r"referent_ids: 1 name\(s\) for 2 référent\(s\)"):
        AgencyConfig(referents=2, referent_ids=["R1"])


def random_history(rng: np.random.Generator, frame: pd.DataFrame, config: AgencyConfig) -> pd.DataFrame:
    rows = []
    loads: dict[tuple[str, str], int] = {}
    for pid, agency in zip(frame["person_id"], frame["agency_id"], strict=True):
        if rng.random() < 0.3:
            pool = config.for_agency(agency)
            if not pool.referents:
                continue
            ref = pool.referent_ids[int(rng.integers(pool.referents))]
            ongoing = rng.random() < 0.5 and loads.get((agency, ref), 0) < pool.caseload_per_referent
            start = AS_OF - pd.DateOffset(months=int(rng.integers(1, 5) if ongoing else rng.integers(8, 20)))
            end = AS_OF + pd.DateOffset(months=int(rng.integers(1, 4))) if ongoing else start + pd.DateOffset(months=6)
            loads[(agency, ref)] = loads.get((agency, ref), 0) + int(ongoing)
            rows.append((pid, ref, start.date().isoformat(), end.date().isoformat()))
    return episodes(*rows)


@pytest.mark.parametrize("seed", range(40))
def test_with_memory_no_caseload_is_exceeded_and_places_are_filled(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    agencies = ["A1", "A2", "A3"]
    frame = pd.DataFrame(
        {
            "person_id": [f"P{k:04d}" for k in rng.permutation(5000)[:n]],
            "agency_id": rng.choice(agencies, n),
            "need": rng.choice(["TRAINING", "SOCIAL_BARRIERS", "DIRECT_EMPLOYMENT"], n),
            "p_employed": rng.integers(0, 10, n) / 10,
        }
    )
    frame["tier"] = np.where(frame["p_employed"] >= 0.6, "A", np.where(frame["p_employed"] >= 0.3, "B", "C"))
    rule = ("last", "last_within_tier", "ignore")[seed % 3]
    config = AgencyConfig(
        caseload_per_referent=int(rng.integers(1, 8)),
        agencies={a: {"referents": int(rng.integers(0, 4))} for a in agencies},
        priority={"already_served": rule},
    )
    history = random_history(rng, frame, config)
    result = allocate(frame, config, AS_OF, history)
    loads = result.referent_loads
    assert (loads["load"] <= loads["caseload"]).all()
    a = result.assignments.merge(frame[["person_id", "need"]], on="person_id")
    recount = a[a["track"] == "INTENSIVE"].groupby("referent_id").size()
    assert recount.to_dict() == {k: v for k, v in loads.set_index("referent_id")["load"].items() if v}
    for agency in agencies:
        part = a[a["agency_id"] == agency]
        pool = config.for_agency(agency)
        ongoing = int(part["reason_fr"].astype(str).str.contains("en cours").sum())
        eligible_waiting = int(((part["need"] != "DIRECT_EMPLOYMENT") & (part["track"] != "INTENSIVE")).sum())
        used = int((part["track"] == "INTENSIVE").sum())
        assert used <= pool.intensive_places
        # no place stays empty while an eligible person waits
        assert used == pool.intensive_places or eligible_waiting == 0, (agency, used, ongoing)
    # new places fill référents evenly: where nobody had an ongoing episode (equal starts, equal
    # caseloads), loads differ by at most one
    by_agency = loads.groupby("agency_id")
    for _, part in by_agency:
        if (part["continuing"] == 0).all() and len(part):
            assert part["load"].max() - part["load"].min() <= 1
    again = allocate(frame.sample(frac=1, random_state=seed), config, AS_OF, history.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(result.assignments, again.assignments)
    pd.testing.assert_frame_equal(result.left_out, again.left_out)
    pd.testing.assert_frame_equal(result.new_episodes, again.new_episodes)


def test_referent_slots_fill_evenly_with_unequal_starts():
    # agency 0: R0 holds 2 of 4, R1 holds 0 of 4; agency 1: R2 0 of 2
    group, ref = referent_slots(np.array([0, 0, 1]), np.array([4, 4, 2]), np.array([2, 0, 0]))
    assert group.tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    # R1 first (empty), R1 again (1/4 < 2/4 for R0… tie at 2/4 broken by référent order), then alternate
    assert ref.tolist() == [1, 1, 0, 1, 0, 1, 2, 2]
    taken = take_slots(np.array([0, 0, 0, 1]), group, ref)
    assert taken.tolist() == [1, 1, 0, 2]
    with pytest.raises(ValueError, match="more people than free"):
        take_slots(np.array([1, 1, 1]), group, ref)
