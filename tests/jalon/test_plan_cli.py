"""`jalon plan`, `jalon worklist` and `jalon allocate` with model 2's memory, on the command line."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from batch.score import score_file
from features.io import read_table, write_table
from jalon.cli import app
from policy import add_months
from policy.staffing import PACKAGED_STAFFING
from records import DecisionStore, EpisodeStore
from serving.auth import Principal, Role
from serving.logic import Advisory
from tests.conftest import to_record

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def scored(population: pd.DataFrame, model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 people scored by the real producer."""
    tmp = tmp_path_factory.mktemp("plan-cli")
    people = write_table(population.iloc[:3000], tmp / "people.parquet")
    out = tmp / "scored.parquet"
    score_file(people, out, model, decision_date=date(2026, 1, 1))
    return out


def test_plan_prints_the_figures_and_writes_html_csv_json(scored: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    result = runner.invoke(
        app,
        ["plan", "--scored", str(scored), "--months", "6", "--seed", "2", "--start", "2026-01", "--out", str(out)],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert "3,000 people at the start" in result.stdout
    for text in ("intensive portfolio per référent", "reviews due per advisor per week", "FTE gap", "re-examined"):
        assert text in result.stdout
    assert (tmp_path / "plan.csv").is_file()
    assert (tmp_path / "plan.summary.json").is_file()
    csv = pd.read_csv(tmp_path / "plan.csv")
    assert set(csv["scenario"]) == {"current", "model1", "model2"}
    assert csv["month"].max() == 6
    # one scenario only
    result = runner.invoke(
        app, ["plan", "--scored", str(scored), "--months", "2", "--scenario", "model2", "--out", str(out)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(tmp_path / "plan.csv")["scenario"]) == {"model2"}


def test_plan_refuses_bad_input_in_one_line(scored: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(PACKAGED_STAFFING.read_text(encoding="utf-8"))
    data["agencies"] = {"AG001": {"CDDE": -2}}
    negative = tmp_path / "negative.yaml"
    negative.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    data = yaml.safe_load(PACKAGED_STAFFING.read_text(encoding="utf-8"))
    del data["norms"]["GLOBAL"]
    no_norm = tmp_path / "no_norm.yaml"
    no_norm.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    data = yaml.safe_load(PACKAGED_STAFFING.read_text(encoding="utf-8"))
    data["over_cap"] = None
    no_policy = tmp_path / "no_policy.yaml"
    no_policy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    base = ["plan", "--scored", str(scored), "--months", "2", "--out", str(tmp_path / "p.html")]
    cases = [
        (["--staffing", str(negative)], ["agencies.AG001.CDDE", "greater than or equal to 0"]),
        (["--staffing", str(no_norm)], ["norms: no norm for GLOBAL"]),
        (["--staffing", str(no_policy)], ["norms caps below the stock at the start", "over_cap"]),
        (["--staffing", str(tmp_path / "missing.yaml")], ["missing.yaml: no such file"]),
        (["--scenario", "model3"], ["--scenario: unknown 'model3'"]),
        (["--start", "2026-13"], ["--start: '2026-13' is not a month"]),
    ]
    for extra, needles in cases:
        one_line_error(runner.invoke(app, base + extra), *needles)
    one_line_error(runner.invoke(app, ["plan", "--scored", str(scored), "--out", str(tmp_path / "p.pdf")]), "--out")
    one_line_error(runner.invoke(app, ["plan", "--scored", str(tmp_path / "none.parquet")]), "no such file")
    bad = tmp_path / "bad.csv"
    pd.read_parquet(scored).head(20).assign(p_employed="high").to_csv(bad, index=False)
    one_line_error(runner.invoke(app, ["plan", "--scored", str(bad), "--out", str(tmp_path / "p.html")]), "p_employed")


@pytest.fixture(scope="module")
def store(population: pd.DataFrame, model, tmp_path_factory: pytest.TempPathFactory):
    """Decisions of two advisors in agency AG001 (milestones from the catalogue) and one intensive episode."""
    url = f"sqlite:///{tmp_path_factory.mktemp('worklist') / 'decisions.db'}"
    decisions = DecisionStore(url)
    advisory = Advisory(model, "v1", decisions)
    people = [to_record(row) for _, row in population.iloc[2000:2012].iterrows()]
    for record in people:
        record["agency_id"] = "AG001"
    decided = {}
    for advisor, group, day in (("adv-1", people[:6], date(2026, 1, 5)), ("adv-2", people[6:], date(2026, 3, 2))):
        principal = Principal(subject=advisor, role=Role.ADVISOR)
        for result in advisory.suggest(group, principal, today=day):
            decision = advisory.decide(
                {"suggestion_id": result.suggestion_id, "advisor_id": advisor, "action": "confirm"},
                principal,
                today=day,
            )
            decided[result.person_id] = (advisor, decision)
    episodes = EpisodeStore(url)
    episodes.start_episodes(
        [
            {  # someone in intensive support whose path decision is not in this store: due at the end
                "person_id": "P-INTENSIVE-1",
                "agency_id": "AG001",
                "referent_id": "AG001-REF01",
                "start_date": date(2025, 12, 1),
                "planned_end_date": date(2026, 6, 1),
            },
            {  # ended before the person's latest decision was recorded: already examined, not listed
                "person_id": people[0]["person_id"],
                "agency_id": "AG001",
                "referent_id": "AG001-REF02",
                "start_date": date(2025, 11, 1),
                "planned_end_date": date(2026, 5, 1),
            },
        ],
        "staff-1",
    )
    yield url, decided, people
    decisions.dispose()
    episodes.dispose()


def test_worklist_lists_who_is_due_per_advisor(store, tmp_path: Path) -> None:
    url, decided, _people = store
    week = "2026-W23"  # 1–7 June 2026
    out = tmp_path / "week.csv"
    result = runner.invoke(
        app, ["worklist", "--agency", "AG001", "--week", week, "--db-url", url, "--out", str(out)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    items = read_table(out)
    sunday = date(2026, 6, 7)
    expected = set()
    for person, (advisor, decision) in decided.items():
        six = add_months(decision.created_at.date(), 6)  # the six-month rule, from when it was decided
        if min(decision.milestone_date, six) <= sunday:
            expected.add((advisor, person))
    expected.add(("AG001-REF01", "P-INTENSIVE-1"))  # the episode ends on 1 June
    assert {(a, p) for a, p in zip(items["advisor_id"], items["person_id"], strict=True)} == expected
    ends = items[items["kind"] == "END_OF_INTENSIVE"]
    assert ends["due_date"].tolist() == ["2026-06-01"]
    assert (items["due_date"].map(date.fromisoformat) <= sunday).all()
    overdue = items[items["overdue"] == "True"]
    assert (overdue["due_date"].map(date.fromisoformat) < sunday - timedelta(days=6)).all()
    assert "worklist of agency AG001" in result.stdout
    # one advisor only
    result = runner.invoke(
        app, ["worklist", "--agency", "AG001", "--week", week, "--db-url", url, "--advisor", "adv-2"]
    )
    assert result.exit_code == 0, result.output
    assert "adv-1" not in result.stdout
    # nothing due a year earlier
    result = runner.invoke(app, ["worklist", "--agency", "AG001", "--week", "2025-W10", "--db-url", url])
    assert "0 due" in result.stdout


def test_worklist_bad_input(store, tmp_path: Path) -> None:
    url, _, _ = store
    one_line_error(
        runner.invoke(app, ["worklist", "--agency", "AG001", "--week", "2026-23", "--db-url", url]),
        "--week: '2026-23' is not an ISO week",
    )
    one_line_error(
        runner.invoke(app, ["worklist", "--agency", "AG001", "--week", "2026-W60", "--db-url", url]), "has no week 60"
    )
    one_line_error(
        runner.invoke(
            app, ["worklist", "--agency", "A", "--week", "2026-W01", "--db-url", f"sqlite:///{tmp_path / 'none.db'}"]
        ),
        "no decisions database",
    )


def test_allocate_records_episodes_and_remembers_them(scored: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    config = tmp_path / "agency.yaml"
    config.write_text("referents: 2\ncaseload_per_referent: 20\nexternal_provider_places: 100\n", encoding="utf-8")
    base = ["allocate", "--scored", str(scored), "--agency-config", str(config), "--db-url", url]
    one_line_error(runner.invoke(app, [*base, "--out", str(tmp_path / "a.parquet")]), "no decisions database")
    one_line_error(
        runner.invoke(app, [*base, "--out", str(tmp_path / "a.parquet"), "--as-of", "2026-01-05", "--record"]),
        "--record: give --by",
    )
    first = tmp_path / "first.parquet"
    result = runner.invoke(app, [*base, "--out", str(first), "--as-of", "2026-01-05", "--record", "--by", "staff-9"])
    assert result.exit_code == 0, result.output
    assert "recorded 40 new intensive-support episodes by staff-9" in result.stdout
    left = read_table(tmp_path / "first.left_out.parquet")
    assignments = read_table(first)
    assert len(left) == int(((assignments["track"] != "INTENSIVE") & assignments["rank"].notna()).sum())
    assert {"person_id", "rank", "track", "already_served"} <= set(left.columns)
    with EpisodeStore(url) as episodes:
        recorded = episodes.episodes()
    assert len(recorded) == 40
    assert {e.recorded_by for e in recorded} == {"staff-9"}
    assert {e.referent_id for e in recorded} == {"REF01", "REF02"}
    # two months later: the 40 continue with their référent; nobody new gets a place
    later = tmp_path / "later.parquet"
    result = runner.invoke(app, [*base, "--out", str(later), "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "40 continuing" in result.stdout
    again = read_table(later).set_index("person_id")
    before = assignments.set_index("person_id")
    intensive = before.index[before["track"] == "INTENSIVE"]
    assert (again.loc[intensive, "referent_id"] == before.loc[intensive, "referent_id"]).all()
    # after the planned end (6 months) places rotate: never-served people come first
    rotated = tmp_path / "rotated.parquet"
    result = runner.invoke(app, [*base, "--out", str(rotated), "--as-of", "2026-07-06"])
    assert result.exit_code == 0, result.output
    assert "40 already served" in result.stdout
    now = read_table(rotated).set_index("person_id")
    assert not (now.loc[intensive, "track"] == "INTENSIVE").any()
