"""The plan's checks that can fail: conservation, capacities, determinism, Little's law, the report.

The people come from what the real producer emits: the population scored by ``batch.score``
with the session's model (``scored_file``). The steady-state case builds its own people,
since its answer must be known in advance.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from batch.score import score_file
from planning.plan import REQUIRED_COLUMNS, run_plan
from planning.population import build_population, read_scored
from planning.report import write_plan
from planning.simulate import simulate
from policy.staffing import HELD_KEYS, PACKAGED_STAFFING, parse_staffing, resolve_agencies

START = date(2026, 1, 1)


@pytest.fixture(scope="module")
def scored_file(population_file: Path, model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 20,000-person population scored by the real producer (``jalon score``'s function)."""
    out = tmp_path_factory.mktemp("plan") / "scored.parquet"
    score_file(population_file, out, model, decision_date=date(2025, 12, 1))
    return out


@pytest.fixture(scope="module")
def plan(scored_file: Path):
    return run_plan(scored_file, months=12, seed=5, start=START)


def staffing_file(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(PACKAGED_STAFFING.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for part in path:
            node = node[part]
        node[last] = value
    path = tmp_path / "staffing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_conservation_every_month_and_agency(plan) -> None:
    frame = plan.frame
    assert set(frame["scenario"]) == {"current", "model1", "model2"}
    for (_, _), part in frame.groupby(["scenario", "agency_id"]):
        part = part.sort_values("month")
        stock = part["stock"].to_numpy()
        flow = (part["stock"] + part["entries"] - part["exits"]).to_numpy()
        assert (stock[1:] == flow[:-1]).all()
        assert (part["people"] == part["stock"] + part["entries"]).all()
        people_by_key = part[[c for c in part.columns if c.startswith("people_")]].sum(axis=1)
        assert (people_by_key == part["people"]).all()
    # the first month starts from the scored file, agency by agency
    first = frame[(frame["month"] == 1) & (frame["scenario"] == "current")].set_index("agency_id")["stock"]
    scored = pd.read_parquet(plan.settings["scored"], columns=["agency_id"])["agency_id"].value_counts()
    assert first.sort_index().to_dict() == scored.sort_index().to_dict()


def test_scenarios_share_one_population(plan) -> None:
    by = {
        s: p.sort_values(["agency_id", "month"])[["stock", "entries", "exits"]].to_numpy()
        for s, p in plan.frame.groupby("scenario")
    }
    assert (by["current"] == by["model1"]).all()
    assert (by["current"] == by["model2"]).all()
    # « à iso effectif »: the same hours in every scenario
    hours = plan.frame.groupby("scenario")["hours_available"].sum()
    assert hours.nunique() == 1


def test_no_capacity_is_ever_exceeded(plan, scored_file: Path, tmp_path: Path) -> None:
    m2 = plan.frame[plan.frame["scenario"] == "model2"]
    assert (m2["intensive"] <= m2["intensive_places"]).all()
    assert (m2["intensive"] == m2["intensive_places"]).mean() > 0.95  # places do not stay empty
    assert (m2["max_referent_fill"] <= 1.0 + 1e-12).all()
    assert (m2["people_EXTERNAL"] <= m2["provider_places"]).all()
    # no examination comes from nowhere: done + still due <= fallen due this month + left from the last one
    # (equal but for people who leave with an examination pending)
    for _, part in plan.frame.groupby(["scenario", "agency_id"]):
        part = part.sort_values("month")
        carried = part["review_backlog"].shift(fill_value=0)
        assert (part["reviews_done"] + part["review_backlog"] <= part["reviews_due"] + carried).all()
    # with the waiting-list policy the caps hold in every scenario, and the others wait (at a cost)
    staffing = staffing_file(tmp_path, over_cap="waiting_list")
    strict = run_plan(scored_file, staffing=staffing, months=6, seed=5, start=START)
    norms = strict.staffing.norms
    for key in HELD_KEYS:
        sizes = strict.frame[f"ptf_{key}"].dropna()
        assert (sizes <= norms[key].cap + 1e-9).all(), key
    assert strict.frame["waiting_list"].sum() > 0
    cost = norms["UNALLOCATED"].contact_hours_per_month
    assert cost > 0


def test_a_seed_gives_the_same_plan_byte_for_byte(scored_file: Path, tmp_path: Path) -> None:
    texts = []
    for k, seed in enumerate((11, 11, 12)):
        result = run_plan(scored_file, months=4, seed=seed, start=START)
        _, csv, _ = write_plan(result, tmp_path / f"run{k}" / "plan.html")
        texts.append(csv.read_bytes())
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]


def test_csv_and_report(plan, tmp_path: Path) -> None:
    html, csv, summary = write_plan(plan, tmp_path / "plan.html")
    assert csv == tmp_path / "plan.csv"
    table = pd.read_csv(csv)
    assert list(table.columns[: len(REQUIRED_COLUMNS)]) == list(REQUIRED_COLUMNS)
    assert len(table) == 3 * 12 * table["agency_id"].nunique()
    text = html.read_text(encoding="utf-8")
    assert '<html lang="fr">' in text
    assert "Réponses aux questions posées" in text
    assert "La liste d'attente coûte aussi" in text
    assert text.count("<svg") >= 5
    assert "<script" not in text
    assert "1\u202f607" in text  # French typography in the sources
    assert "Hypothèse" in text
    assert "Source" in text
    # nothing personal: no person id in the report
    ids = pd.read_parquet(plan.settings["scored"], columns=["person_id"])["person_id"].head(200)
    assert not any(str(p) in text for p in ids if len(str(p)) > 4)
    assert '"headline"' in summary.read_text(encoding="utf-8")


def test_littles_law_steady_state_within_one_percent(tmp_path: Path) -> None:
    """One agency, everyone with a monthly exit probability of 0.1, steady entries: the average
    stock must be the arrival rate × the mean time in the stock (Little's law): 10,000 × 9 = 90,000."""
    n, q = 90_000, 0.1
    p = 1 - (1 - q) ** 6  # six-month probability whose constant monthly hazard is 0.1
    scored = pd.DataFrame(
        {
            "person_id": [f"S{k:06d}" for k in range(n)],
            "agency_id": "A1",
            "need": "TRAINING",
            "p_employed": p,
            "tier": "B",
            "modality": "GUIDE",
            "duration_months": 4,
        }
    )
    staffing = parse_staffing(yaml.safe_load(PACKAGED_STAFFING.read_text(encoding="utf-8")))
    months = 48
    pop = build_population(scored, staffing, months, seed=3)
    arrival = float(pop.inflow[0])
    assert arrival == pytest.approx(n * q / (1 - q))  # 10,000 a month keeps the stock stationary
    run = simulate(pop, staffing, resolve_agencies(staffing, pop.people_at_start()), "current", START)
    average_stock = run.frame["stock"].mean()
    expected = arrival * (1 - q) / q
    assert abs(average_stock - expected) / expected < 0.01
    # and against the durations actually drawn: months in the stock = exit month - entry month
    entrants = pop.entry >= 0
    measured = float((pop.exit[entrants] - pop.entry[entrants]).mean())
    assert measured == pytest.approx((1 - q) / q, rel=0.01)
    assert abs(average_stock - arrival * measured) / (arrival * measured) < 0.01


def test_bad_scored_files_are_refused_with_the_rule(scored_file: Path, tmp_path: Path) -> None:
    from core.errors import InvalidInput

    frame = pd.read_parquet(scored_file)
    cases = {
        "no_need.parquet": (frame.drop(columns=["need"]), "column 'need' is missing"),
        "bad_p.parquet": (frame.assign(p_employed=frame["p_employed"] * 3), "p_employed"),
        "twice.parquet": (pd.concat([frame.head(3), frame.head(1)]), "appears more than once"),
        "bad_modality.parquet": (frame.assign(modality="INTENSIF"), "modality"),
    }
    for name, (bad, message) in cases.items():
        path = tmp_path / name
        bad.to_parquet(path)
        with pytest.raises(InvalidInput, match=message):
            read_scored(path)


def test_caps_below_the_stock_without_a_policy_are_refused(scored_file: Path, tmp_path: Path) -> None:
    from policy.staffing import StaffingError

    staffing = staffing_file(tmp_path, over_cap=None)
    with pytest.raises(StaffingError, match=r"norms caps below the stock at the start in scenario model1.*over_cap"):
        run_plan(scored_file, staffing=staffing, months=2, scenarios=("model1",), start=START)


def test_unknown_scenario(scored_file: Path) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown model3"):
        run_plan(scored_file, months=2, scenarios=("model3",))


def test_model2_memory_over_time(plan) -> None:
    m2 = plan.frame[plan.frame["scenario"] == "model2"].groupby("month")
    eligible = m2["intensive_queue"].sum() + m2["intensive"].sum()
    ever = m2.apply(lambda p: (p["ever_intensive_share"] * (p["intensive_queue"] + p["intensive"])).sum())
    share = (ever / eligible).to_numpy()
    assert (np.diff(share) > 0).all()  # places rotate: more and more people get intensive support once
    assert m2["intensive_starts"].sum().iloc[1:].gt(0).all()
    run = next(r for r in plan.runs if r.scenario == "model2")
    assert len(run.waits) == int(plan.frame.loc[plan.frame["scenario"] == "model2", "intensive_starts"].sum())
