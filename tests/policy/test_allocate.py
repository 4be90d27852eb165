"""Model 2: capacities, priority, determinism, left-out list, fairness shares, config errors."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, InvalidInput
from core.thresholds import TIER_A_MIN, TIER_B_MIN
from features.schema import NEED_CODES
from policy import (
    TRACKS,
    AgencyConfig,
    AgencyConfigError,
    AllocationInputError,
    AllocationResult,
    allocate,
    left_out_path,
    load_agency_config,
    parse_agency_config,
    summary_path,
    write_allocation,
)
from training.fairness import age_band as fairness_age_band

AS_OF = date(2025, 3, 31)


def scored_frame(
    n: int, rng: np.random.Generator, agencies: list[str] | None = None, ties: bool = False
) -> pd.DataFrame:
    p = rng.integers(0, 20, n) / 20 if ties else rng.random(n)
    frame = pd.DataFrame(
        {
            "person_id": [f"P{k:05d}" for k in rng.permutation(10 * max(n, 1))[:n]],
            "need": rng.choice(NEED_CODES, n),
            "p_employed": p,
            "tier": np.where(p >= TIER_A_MIN, "A", np.where(p >= TIER_B_MIN, "B", "C")),
            "sex": rng.choice(["F", "M"], n),
            "nationality_group": rng.choice(np.array(["FR", "EU", "NON_EU", None], dtype=object), n),
            "age": rng.integers(16, 70, n),
            "qpv_resident": rng.random(n) < 0.2,
        }
    )
    if agencies:
        frame["agency_id"] = rng.choice(agencies, n)
    return frame


def random_config(rng: np.random.Generator, agencies: list[str] | None) -> AgencyConfig:
    def caps() -> dict:
        return {
            "referents": int(rng.integers(0, 4)),
            "caseload_per_referent": int(rng.integers(1, 30)),
            "external_provider_places": int(rng.integers(0, 60)),
            "large_portfolio_places": None if rng.random() < 0.3 else int(rng.integers(0, 80)),
        }

    excluded = (
        [] if rng.random() < 0.2 else ["DIRECT_EMPLOYMENT"] + (["BUSINESS_CREATION"] if rng.random() < 0.2 else [])
    )
    if agencies:
        return AgencyConfig(
            agencies={a: caps() for a in agencies},
            priority={"excluded_needs": excluded},
            intensive_months=int(rng.integers(1, 13)),
        )
    return AgencyConfig(**caps(), priority={"excluded_needs": excluded})


def check_invariants(frame: pd.DataFrame, config: AgencyConfig, result: AllocationResult) -> None:
    a = result.assignments
    assert len(a) == len(frame)
    assert a["person_id"].is_unique
    assert set(a["person_id"]) == set(frame["person_id"])
    merged = frame.merge(a[["person_id", "track", "rank", "end_date"]], on="person_id")
    excluded = set(config.priority.excluded_needs)
    eligible = ~merged["need"].isin(excluded)
    groups = merged.groupby("agency_id") if config.agencies is not None else [(None, merged)]
    for agency, part in groups:
        cap = config.for_agency(agency)
        counts = part["track"].value_counts()
        elig = ~part["need"].isin(excluded)
        # capacities, recounted from the assignments themselves
        assert counts.get("INTENSIVE", 0) <= cap.intensive_places
        assert counts.get("EXTERNAL", 0) <= cap.external_provider_places
        if cap.large_portfolio_places is not None:
            assert counts.get("LARGE_PORTFOLIO", 0) <= cap.large_portfolio_places
        # no place is left empty while someone could take it
        assert counts.get("INTENSIVE", 0) == min(cap.intensive_places, int(elig.sum()))
        rest = len(part) - counts.get("INTENSIVE", 0)
        assert counts.get("EXTERNAL", 0) == min(cap.external_provider_places, rest)
        if counts.get("UNALLOCATED", 0):
            assert cap.large_portfolio_places is not None
            assert counts.get("LARGE_PORTFOLIO", 0) == cap.large_portfolio_places
        # priority: every intensive person is at most as employable as every left-out eligible person
        intensive = part[part["track"] == "INTENSIVE"]
        left = part[elig & (part["track"] != "INTENSIVE")]
        if len(intensive) and len(left):
            assert intensive["p_employed"].max() <= left["p_employed"].min()
        # externalisation goes to those closest to employment among the non-intensive
        ext = part[part["track"] == "EXTERNAL"]
        after = part[part["track"].isin(["LARGE_PORTFOLIO", "UNALLOCATED"])]
        if len(ext) and len(after):
            assert ext["p_employed"].min() >= after["p_employed"].max()
        # large portfolio in priority order among those left after the provider
        lp = part[part["track"] == "LARGE_PORTFOLIO"]
        wait = part[part["track"] == "UNALLOCATED"]
        if len(lp) and len(wait):
            assert lp["p_employed"].max() <= wait["p_employed"].min()
    assert not merged.loc[~eligible, "track"].eq("INTENSIVE").any()
    assert merged.loc[eligible, "rank"].notna().all()
    assert merged.loc[~eligible, "rank"].isna().all()
    assert merged.loc[merged["track"] == "INTENSIVE", "end_date"].notna().all()
    assert merged.loc[merged["track"] != "INTENSIVE", "end_date"].isna().all()
    # capacity_used agrees with the assignments
    for row in result.capacity_used.itertuples(index=False):
        if not pd.isna(row.capacity):
            assert row.used <= row.capacity
    assert result.capacity_used["used"].sum() == len(frame)
    # left_out = eligible without an intensive place, exactly
    expected_left = set(merged.loc[eligible & (merged["track"] != "INTENSIVE"), "person_id"])
    assert set(result.left_out["person_id"]) == expected_left
    assert len(result.left_out) == len(expected_left)


@pytest.mark.parametrize("seed", range(200))
def test_capacities_never_exceeded_and_rules_hold(seed):
    rng = np.random.default_rng(seed)
    agencies = None if seed % 2 else [f"AG{k}" for k in range(int(rng.integers(1, 4)))]
    frame = scored_frame(int(rng.integers(0, 250)), rng, agencies, ties=seed % 3 == 0)
    if agencies is None and seed % 4 == 1:
        frame["agency_id"] = "AG9"  # a single pool with an agency column
    config = random_config(rng, agencies)
    result = allocate(frame, config, AS_OF)
    check_invariants(frame, config, result)


@pytest.mark.parametrize("seed", range(5))
def test_deterministic_and_row_order_invariant(seed):
    rng = np.random.default_rng(100 + seed)
    frame = scored_frame(400, rng, ["A1", "A2", "A3"], ties=True)
    config = AgencyConfig(
        caseload_per_referent=20,
        agencies={
            "A1": {"referents": 2, "external_provider_places": 30},
            "A2": {"referents": 1, "large_portfolio_places": 10},
            "A3": {"referents": 0, "external_provider_places": 5, "large_portfolio_places": 50},
        },
    )
    first = allocate(frame, config, AS_OF)
    again = allocate(frame, config, AS_OF)
    shuffled = allocate(frame.sample(frac=1, random_state=seed).reset_index(drop=True), config, AS_OF)
    reindexed = allocate(frame.set_axis(np.arange(len(frame))[::-1] * 7), config, AS_OF)
    for other in (again, shuffled, reindexed):
        pd.testing.assert_frame_equal(first.assignments, other.assignments)
        pd.testing.assert_frame_equal(first.left_out, other.left_out)
        pd.testing.assert_frame_equal(first.by_group, other.by_group)
        pd.testing.assert_frame_equal(first.capacity_used, other.capacity_used)
        assert first.to_json() == other.to_json()


def test_ties_are_broken_by_person_id():
    frame = pd.DataFrame(
        {"person_id": ["c", "a", "d", "b"], "need": ["TRAINING"] * 4, "p_employed": [0.2] * 4, "tier": ["C"] * 4}
    )
    result = allocate(
        frame,
        AgencyConfig(referents=1, caseload_per_referent=2, external_provider_places=1, large_portfolio_places=0),
        AS_OF,
    )
    tracks = dict(zip(result.assignments["person_id"], result.assignments["track"], strict=True))
    assert tracks == {"a": "INTENSIVE", "b": "INTENSIVE", "c": "EXTERNAL", "d": "UNALLOCATED"}
    assert result.assignments["person_id"].tolist() == ["a", "b", "c", "d"]


def test_direct_employment_never_intensive_by_default():
    frame = pd.DataFrame(
        {
            "person_id": ["d1", "d2", "t1"],
            "need": ["DIRECT_EMPLOYMENT", "DIRECT_EMPLOYMENT", "TRAINING"],
            "p_employed": [0.01, 0.02, 0.9],
            "tier": ["C", "C", "A"],
        }
    )
    result = allocate(frame, AgencyConfig(referents=1, caseload_per_referent=50), AS_OF)
    tracks = dict(zip(result.assignments["person_id"], result.assignments["track"], strict=True))
    assert tracks == {"d1": "LARGE_PORTFOLIO", "d2": "LARGE_PORTFOLIO", "t1": "INTENSIVE"}
    assert result.left_out.empty
    # the exclusion is configurable
    open_all = allocate(
        frame, AgencyConfig(referents=1, caseload_per_referent=2, priority={"excluded_needs": []}), AS_OF
    )
    tracks = dict(zip(open_all.assignments["person_id"], open_all.assignments["track"], strict=True))
    assert tracks == {"d1": "INTENSIVE", "d2": "INTENSIVE", "t1": "LARGE_PORTFOLIO"}


def test_externalised_are_the_closest_to_employment():
    rng = np.random.default_rng(7)
    frame = scored_frame(300, rng)
    result = allocate(
        frame,
        AgencyConfig(referents=1, caseload_per_referent=40, external_provider_places=60, large_portfolio_places=100),
        AS_OF,
    )
    merged = frame.merge(result.assignments, on="person_id")
    rest = merged[merged["track"] != "INTENSIVE"].sort_values(["p_employed", "person_id"], ascending=[False, True])
    assert set(rest.head(60)["person_id"]) == set(merged.loc[merged["track"] == "EXTERNAL", "person_id"])


def test_left_out_exact_on_hand_built_example():
    frame = pd.DataFrame(
        {
            "person_id": ["p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08"],
            "need": [
                "TRAINING",
                "SOCIAL_BARRIERS",
                "DIRECT_EMPLOYMENT",
                "SEARCH_SKILLS",
                "CAREER_PROJECT",
                "TRAINING",
                "BUSINESS_CREATION",
                "DIRECT_EMPLOYMENT",
            ],
            "p_employed": [0.50, 0.10, 0.05, 0.30, 0.20, 0.80, 0.65, 0.95],
            "tier": ["B", "C", "C", "B", "C", "A", "A", "A"],
        }
    )
    # eligible (not DIRECT_EMPLOYMENT) by p ascending: p02 .10, p05 .20, p04 .30, p01 .50, p07 .65, p06 .80
    config = AgencyConfig(referents=1, caseload_per_referent=2, external_provider_places=2, large_portfolio_places=2)
    result = allocate(frame, config, date(2025, 8, 31))
    tracks = dict(zip(result.assignments["person_id"], result.assignments["track"], strict=True))
    assert tracks == {
        "p02": "INTENSIVE",
        "p05": "INTENSIVE",
        "p08": "EXTERNAL",
        "p06": "EXTERNAL",  # highest p among the rest: .95, .80
        "p03": "LARGE_PORTFOLIO",
        "p04": "LARGE_PORTFOLIO",  # priority order: .05, .30
        "p01": "UNALLOCATED",
        "p07": "UNALLOCATED",
    }
    left = result.left_out
    assert left["person_id"].tolist() == ["p04", "p01", "p07", "p06"]
    assert left["rank"].tolist() == [3, 4, 5, 6]
    assert left["p_employed"].tolist() == [0.30, 0.50, 0.65, 0.80]
    assert left["track"].astype(str).tolist() == ["LARGE_PORTFOLIO", "UNALLOCATED", "UNALLOCATED", "EXTERNAL"]
    ranks = dict(zip(result.assignments["person_id"], result.assignments["rank"], strict=True))
    assert ranks["p02"] == 1
    assert ranks["p05"] == 2
    assert pd.isna(ranks["p03"])
    assert pd.isna(ranks["p08"])
    ends = result.assignments.set_index("person_id")["end_date"]
    assert ends["p02"] == pd.Timestamp("2026-02-28")
    assert pd.isna(ends["p01"])
    used = result.capacity_used.set_index("track")
    assert used.loc["INTENSIVE", "used"] == used.loc["INTENSIVE", "capacity"] == 2
    assert pd.isna(used.loc["UNALLOCATED", "capacity"])
    assert used.loc["UNALLOCATED", "used"] == 2
    reasons = result.assignments.set_index("person_id")["reason_fr"]
    assert "intensif" in reasons["p02"]
    assert "Retour direct à l'emploi" in reasons["p08"]
    assert "liste d'attente" in reasons["p01"]


def test_custom_order_key():
    frame = pd.DataFrame(
        {
            "person_id": ["a", "b", "c"],
            "need": ["TRAINING"] * 3,
            "p_employed": [0.1, 0.2, 0.3],
            "months_registered": [2, 30, 12],
        }
    )
    config = AgencyConfig(
        referents=1, caseload_per_referent=1, priority={"order_by": "months_registered", "ascending": False}
    )
    result = allocate(frame, config, AS_OF)
    assert result.assignments.set_index("person_id")["track"]["b"] == "INTENSIVE"
    assert result.left_out["person_id"].tolist() == ["c", "a"]


def test_per_agency_allocation_is_independent():
    frame = pd.DataFrame(
        {
            "person_id": [f"x{k}" for k in range(6)],
            "agency_id": ["75012", "75012", "75012", "13001", "13001", "13001"],
            "need": ["TRAINING"] * 6,
            "p_employed": [0.1, 0.2, 0.3, 0.7, 0.8, 0.9],
        }
    )
    config = parse_agency_config(
        {
            "caseload_per_referent": 1,
            "agencies": {75012: {"referents": 1}, "13001": {"referents": 2, "intensive_months": 3}},
        }
    )
    result = allocate(frame, config, AS_OF)
    a = result.assignments.set_index("person_id")
    assert a.loc[["x0", "x3", "x4"], "track"].eq("INTENSIVE").all()  # the lowest p in *each* agency
    assert a.loc["x3", "end_date"] == pd.Timestamp("2025-06-30")
    assert a.loc["x0", "end_date"] == pd.Timestamp("2025-09-30")
    assert result.assignments["agency_id"].tolist() == ["13001"] * 3 + ["75012"] * 3
    with pytest.raises(AllocationInputError, match="no entry under agencies"):
        allocate(frame.assign(agency_id="69001"), config, AS_OF)
    with pytest.raises(AllocationInputError, match="no agency_id column"):
        allocate(frame.drop(columns="agency_id"), config, AS_OF)
    with pytest.raises(AllocationInputError, match="configuration is for agency '75012'"):
        allocate(frame, AgencyConfig(agency_id="75012", referents=1), AS_OF)


def test_by_group_shares_sum_to_one():
    rng = np.random.default_rng(3)
    frame = scored_frame(500, rng)
    frame["disability_recognition"] = rng.random(500) < 0.1
    frame.loc[frame.index[:7], "age"] = np.nan
    result = allocate(
        frame,
        AgencyConfig(referents=2, caseload_per_referent=30, external_provider_places=100, large_portfolio_places=150),
        AS_OF,
    )
    bg = result.by_group
    assert list(bg.columns) == ["group_column", "group_value", "track", "count", "share"]
    assert set(bg["group_column"]) == {
        "sex",
        "nationality_group",
        "age",
        "disability_recognition",
        "qpv_resident",
        "tier",
    }
    sums = bg.groupby(["group_column", "group_value"])["share"].sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    assert (bg.groupby("group_column")["count"].sum() == 500).all()
    assert set(bg.loc[bg["group_column"] == "age", "group_value"]) == {"<25", "25-49", "50+", "MISSING"}
    assert "MISSING" in set(bg.loc[bg["group_column"] == "nationality_group", "group_value"])
    assert set(bg.loc[bg["group_column"] == "qpv_resident", "group_value"]) == {"true", "false"}
    assert set(bg["track"]) == set(TRACKS)


def test_age_shares_use_the_fairness_audit_bands():
    # A 25-year-old is in "25-49" in the allocation's group shares, as in the fairness audit.
    ages = [24, 25, 25.5, 49, 49.5, 50, None]
    frame = pd.DataFrame(
        {
            "person_id": [f"p{k}" for k in range(len(ages))],
            "need": ["TRAINING"] * len(ages),
            "p_employed": [0.5] * len(ages),
            "age": ages,
        }
    )
    result = allocate(frame, AgencyConfig(referents=0), AS_OF)
    ages_shares = result.by_group[result.by_group["group_column"] == "age"]
    counts = ages_shares.groupby("group_value")["count"].sum().to_dict()
    assert counts == {"<25": 1, "25-49": 4, "50+": 1, "MISSING": 1}
    audit = fairness_age_band(pd.Series(ages, dtype="Float64"))
    assert audit.tolist()[:6] == ["<25", "25-49", "25-49", "25-49", "25-49", "50+"]


def test_write_allocation_parquet_and_csv(tmp_path):
    rng = np.random.default_rng(11)
    frame = scored_frame(120, rng, ["A1", "A2"])
    config = AgencyConfig(
        referents=1, caseload_per_referent=10, external_provider_places=20, agencies={"A1": {}, "A2": {"referents": 0}}
    )
    result = allocate(frame, config, AS_OF)
    for name in ("alloc.parquet", "alloc.csv"):
        out, side = write_allocation(result, tmp_path / name)
        assert side == summary_path(out) == tmp_path / "alloc.summary.json"
        back = pd.read_parquet(out) if name.endswith("parquet") else pd.read_csv(out, dtype=str, keep_default_na=False)
        assert back["person_id"].tolist() == result.assignments["person_id"].tolist()
        assert back["track"].astype(str).tolist() == result.assignments["track"].astype(str).tolist()
        summary = json.loads(side.read_text(encoding="utf-8"))
        assert summary["people"] == 120
        assert summary["left_out_count"] == len(result.left_out)
        assert sum(summary["tracks"].values()) == 120
        assert {c["track"] for c in summary["capacity"]} == set(TRACKS)
        assert all(c["capacity"] is None or c["used"] <= c["capacity"] for c in summary["capacity"])
        assert summary["by_group"]
        assert summary["config"]["caseload_per_referent"] == 10
        # the left-out list is written beside the assignments, not only counted
        left = left_out_path(out)
        assert left == tmp_path / ("alloc.left_out" + out.suffix)
        back_left = pd.read_parquet(left) if name.endswith("parquet") else pd.read_csv(left, dtype=str)
        assert back_left["person_id"].tolist() == result.left_out["person_id"].tolist()
        assert back_left["rank"].astype(int).tolist() == result.left_out["rank"].tolist()
        assert back_left["track"].astype(str).tolist() == result.left_out["track"].astype(str).tolist()
    csv = (tmp_path / "alloc.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0] == "person_id,agency_id,track,rank,end_date,referent_id,already_served,reason_fr"
    assert any(",INTENSIVE,1,2025-09-30,A1-REF01,False," in line for line in csv)


# --------------------------------------------------------------------------- config and input errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("referents: -1\n", "referents: Input should be greater than or equal to 0"),
        ("referent: 3\n", "referent: unknown field"),
        ("caseload_per_referent: 50\n", "referents: missing field"),
        (
            "referents: 2\ncaseload_per_referent: 0\n",
            "caseload_per_referent: Input should be greater than or equal to 1",
        ),
        ("referents: 2\nintensive_months: 36\n", "intensive_months: Input should be less than or equal to 24"),
        ("referents: 2\nexternal_provider_places: many\n", "external_provider_places: Input should be a valid integer"),
        ("referents: 2\nlarge_portfolio_places: -5\n", "large_portfolio_places"),
        ("referents: 2\npriority: {excluded_needs: [JOB]}\n", "priority.excluded_needs: unknown need code(s) 'JOB'"),
        ("referents: 2\npriority: {order: p}\n", "priority.order: unknown field"),
        ("agencies:\n  '75012': {referents: 1, caseload: 3}\n", "agencies.75012.caseload: unknown field"),
        ("agencies:\n  '75012': {external_provider_places: 3}\n", "agencies.75012.referents: missing field"),
        ("agency_id: X\nagencies:\n  '75012': {referents: 1}\n", "not both"),
        ("referents: [1\n", "bad YAML at line"),
        ("- 1\n", "must be a mapping"),
    ],
)
def test_bad_config_errors_name_the_field(tmp_path, text, expected):
    path = tmp_path / "agence.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgencyConfigError) as info:
        load_agency_config(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_config_from_json_and_yaml(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"agency_id": "75012", "referents": 4, "large_portfolio_places": None}))
    cfg = load_agency_config(tmp_path / "a.json")
    assert cfg.for_agency(None).intensive_places == 200
    assert cfg.large_portfolio_places is None
    (tmp_path / "b.json").write_text('{"referents": 4,}')
    with pytest.raises(AgencyConfigError, match="bad JSON at line 1"):
        load_agency_config(tmp_path / "b.json")
    with pytest.raises(AgencyConfigError, match="unsupported extension"):
        load_agency_config(tmp_path / "a.toml")
    with pytest.raises(AgencyConfigError, match="no such file"):
        load_agency_config(tmp_path / "absent.yaml")
    (tmp_path / "c.yaml").write_text(
        "caseload_per_referent: 40\nlarge_portfolio_places: 500\nagencies:\n"
        "  '1': {referents: 3}\n  '2': {referents: 1, large_portfolio_places: null}\n"
    )
    cfg = load_agency_config(tmp_path / "c.yaml")
    assert cfg.for_agency("1").intensive_places == 120
    assert cfg.for_agency("1").large_portfolio_places == 500
    assert cfg.for_agency("2").large_portfolio_places is None  # explicit null = unlimited


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.drop(columns="p_employed"), "missing column(s) p_employed"),
        (lambda f: f.assign(person_id=["a", "a", "b"]), "person_id: 1 duplicate id(s), e.g. a"),
        (
            lambda f: f.assign(person_id=["a", "Jean Dupont", "jean@example.org"]),
            "person_id: 2 value(s) are not pseudonymous ids (1 to 64 letters, digits, - or _), rows 2, 3",
        ),
        (lambda f: f.assign(p_employed=[0.1, 1.2, 0.3]), "between 0 and 1"),
        (lambda f: f.assign(p_employed=[0.1, None, 0.3]), "p_employed: 1 row(s) are missing"),
        (lambda f: f.assign(need=["TRAINING", "JOB", "TRAINING"]), "need: unknown code(s)"),
    ],
)
def test_bad_input_is_refused(change, expected):
    frame = pd.DataFrame({"person_id": ["a", "b", "c"], "need": ["TRAINING"] * 3, "p_employed": [0.1, 0.2, 0.3]})
    with pytest.raises(AllocationInputError) as info:
        allocate(change(frame), AgencyConfig(referents=1), AS_OF)
    assert expected in str(info.value)


def test_errors_are_user_errors_not_value_errors(tmp_path):
    with pytest.raises(ConfigError) as config_error:
        load_agency_config(tmp_path / "absent.yaml")
    assert isinstance(config_error.value, AgencyConfigError)
    assert not isinstance(config_error.value, ValueError)
    frame = pd.DataFrame({"person_id": ["a"], "need": ["JOB"], "p_employed": [0.1]})
    with pytest.raises(InvalidInput) as input_error:
        allocate(frame, AgencyConfig(referents=1), AS_OF)
    assert isinstance(input_error.value, AllocationInputError)
    assert not isinstance(input_error.value, ValueError)


def test_empty_input():
    frame = pd.DataFrame(
        {"person_id": pd.Series(dtype=str), "need": pd.Series(dtype=str), "p_employed": pd.Series(dtype=float)}
    )
    result = allocate(frame, AgencyConfig(referents=1), AS_OF)
    assert result.assignments.empty
    assert result.left_out.empty
    assert result.capacity_used["used"].sum() == 0
    json.loads(result.to_json())
