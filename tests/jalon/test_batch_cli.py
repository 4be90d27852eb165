"""`jalon score`, `jalon review`, `jalon allocate`: outputs, files, one-line errors with exit 2."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.io import read_table, write_table
from jalon.cli import app
from tests.conftest import to_record

runner = CliRunner()


@pytest.fixture
def home(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JALON_HOME", str(trained_home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("JALON_DB_URL", raising=False)
    return trained_home


@pytest.fixture(scope="module")
def small(population: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_table(population.iloc[:300], tmp_path_factory.mktemp("cli") / "people.parquet")


def one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_help_documents_every_option() -> None:
    for command, options in (
        ("score", ["--data", "--out", "--explain", "--model", "--chunk-rows"]),
        ("review", ["--data", "--as-of", "--out", "--db-url"]),
        ("allocate", ["--scored", "--agency-config", "--out", "--as-of"]),
    ):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        for option in options:
            assert option in result.output, (command, option)


def test_score_then_allocate(home: Path, small: Path, tmp_path: Path) -> None:
    scored = tmp_path / "scored.parquet"
    result = runner.invoke(
        app,
        ["score", "--data", str(small), "--out", str(scored), "--chunk-rows", "128", "--decision-date", "2025-03-03"],
    )
    assert result.exit_code == 0, result.output
    assert "scored 300 rows" in result.stdout
    assert "rows/s" in result.stdout
    assert "peak memory" in result.stdout
    frame = pd.read_parquet(scored)
    assert len(frame) == 300
    assert {"need", "tier", "rule_id", "milestone_date", "sex"} <= set(frame.columns)
    assert "need_factors" not in frame.columns

    config = tmp_path / "agency.yaml"
    config.write_text(
        "referents: 2\ncaseload_per_referent: 25\nexternal_provider_places: 40\nlarge_portfolio_places: 100\n"
    )
    out = tmp_path / "alloc.csv"
    result = runner.invoke(
        app,
        [
            "allocate",
            "--scored",
            str(scored),
            "--agency-config",
            str(config),
            "--out",
            str(out),
            "--as-of",
            "2025-04-01",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assignments = read_table(out)
    assert len(assignments) == 300
    counts = assignments["track"].value_counts()
    assert counts["INTENSIVE"] == 50
    assert counts["EXTERNAL"] == 40
    assert counts["LARGE_PORTFOLIO"] == 100
    summary = json.loads((tmp_path / "alloc.summary.json").read_text())
    assert f"left out of intensive support (eligible, no place): {summary['left_out_count']:,}" in result.stdout
    assert "INTENSIVE" in result.stdout
    assert "50" in result.stdout
    assert {g["group_column"] for g in summary["by_group"]} >= {"sex", "nationality_group", "tier"}


def test_score_explain_to_csv_then_allocate_from_csv(home: Path, small: Path, tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    result = runner.invoke(app, ["score", "--data", str(small), "--out", str(scored), "--explain"])
    assert result.exit_code == 0, result.output
    frame = read_table(scored)
    assert len(frame) == 300
    assert json.loads(frame["need_factors"].iloc[0])["factors"]
    config = tmp_path / "agency.json"
    config.write_text(json.dumps({"referents": 1, "caseload_per_referent": 10}))
    result = runner.invoke(
        app,
        ["allocate", "--scored", str(scored), "--agency-config", str(config), "--out", str(tmp_path / "alloc.parquet")],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(tmp_path / "alloc.parquet")["track"].value_counts()["INTENSIVE"] == 10


def test_score_errors_exit_2_on_one_line(home: Path, small: Path, population: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    one_line_error(
        runner.invoke(app, ["score", "--data", str(tmp_path / "absent.csv"), "--out", str(out)]), "no such file"
    )
    one_line_error(
        runner.invoke(app, ["score", "--data", str(small), "--out", str(tmp_path / "o.xlsx")]), "unsupported extension"
    )
    bad = population.iloc[:30].copy()
    bad["months_worked_24m"] = bad["months_worked_24m"].astype(object)
    bad.loc[22, "months_worked_24m"] = 99
    bad_file = write_table(bad, tmp_path / "bad.csv")
    one_line_error(
        runner.invoke(app, ["score", "--data", str(bad_file), "--out", str(out), "--chunk-rows", "10"]),
        "row 23: months_worked_24m",
        "nothing was written",
    )
    assert not out.exists()
    one_line_error(
        runner.invoke(
            app, ["score", "--data", str(small), "--out", str(out), "--model", "models:/jalon-segmentation@nobody"]
        ),
        "cannot load model",
    )
    one_line_error(
        runner.invoke(app, ["score", "--data", str(small), "--out", str(out), "--decision-date", "03/03/2025"]),
        "--decision-date",
        "YYYY-MM-DD",
    )
    assert not out.exists()


def test_review_command(home: Path, population: pd.DataFrame, tmp_path: Path) -> None:
    from core.config import get_settings
    from models.loading import load_segmentation
    from records import DecisionStore
    from serving.auth import Principal, Role
    from serving.logic import Advisory
    from training.registry import configure

    configure(get_settings())
    model = load_segmentation("models:/jalon-segmentation@champion")
    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    store = DecisionStore(url)
    principal = Principal(subject="adv-1", role=Role.ADVISOR)
    records = [to_record(r) for _, r in population.iloc[2000:2012].iterrows()]
    try:
        advisory = Advisory(model, "1", store)
        for result in advisory.suggest(records, principal, today=date(2025, 1, 6)):
            advisory.decide(
                {"suggestion_id": result.suggestion_id, "advisor_id": "adv-1", "action": "confirm"},
                principal,
                today=date(2025, 1, 6),
            )
    finally:
        store.dispose()
    # Two people now have severe barriers and no recent work; one is absent from the file.
    changed = [
        {**r, "housing": "NONE", "health_limitation": "SEVERE", "months_worked_24m": 0, "financial_difficulty": True}
        if i < 2
        else r
        for i, r in enumerate(records)
    ]
    data = write_table(
        pd.DataFrame(changed[:-1]).astype(
            {"project_clarity": "Int64", "job_search_autonomy": "Int64", "digital_autonomy": "Int64"}
        ),
        tmp_path / "now.parquet",
    )
    out = tmp_path / "review.parquet"
    result = runner.invoke(
        app,
        ["review", "--data", str(data), "--as-of", "2027-12-31", "--db-url", url, "--out", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "review.summary.json").read_text())
    assert summary["due"] == 12
    assert summary["rescored"] == 11
    assert summary["missing"] == 1
    assert summary["changed"] >= 1
    assert (
        f"12 due, 11 re-scored, {summary['changed']} changed, {11 - summary['changed']} unchanged, 1 missing"
        in result.stdout
    )
    assert records[-1]["person_id"] in result.stdout  # the missing person is listed
    changes = pd.read_parquet(out)
    assert len(changes) == summary["changed"]
    assert set(changes["person_id"]) <= {r["person_id"] for r in records[:2]}
    for pid in changes["person_id"]:
        assert pid in result.stdout
    assert (tmp_path / "review.missing.parquet").exists()

    one_line_error(
        runner.invoke(app, ["review", "--data", str(data), "--as-of", "2027-13-01", "--db-url", url]), "--as-of"
    )
    one_line_error(
        runner.invoke(
            app,
            ["review", "--data", str(data), "--as-of", "2027-12-31", "--db-url", f"sqlite:///{tmp_path / 'nope.db'}"],
        ),
        "no decisions database",
    )
    one_line_error(
        runner.invoke(
            app, ["review", "--data", str(tmp_path / "absent.parquet"), "--as-of", "2027-12-31", "--db-url", url]
        ),
        "no such file",
    )


def test_allocate_errors_exit_2(home: Path, small: Path, tmp_path: Path) -> None:
    config = tmp_path / "agency.yaml"
    config.write_text("caseload_per_referent: 25\n")
    one_line_error(
        runner.invoke(
            app,
            ["allocate", "--scored", str(small), "--agency-config", str(config), "--out", str(tmp_path / "a.parquet")],
        ),
        "referents",
    )
    config.write_text("referents: 1\n")
    one_line_error(
        runner.invoke(
            app,
            ["allocate", "--scored", str(small), "--agency-config", str(config), "--out", str(tmp_path / "a.parquet")],
        ),
        "missing column",
        "need",
    )
    one_line_error(
        runner.invoke(
            app,
            [
                "allocate",
                "--scored",
                str(tmp_path / "none.parquet"),
                "--agency-config",
                str(config),
                "--out",
                str(tmp_path / "a.parquet"),
            ],
        ),
        "no such file",
    )
    assert not (tmp_path / "a.parquet").exists()
