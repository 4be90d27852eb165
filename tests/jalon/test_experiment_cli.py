"""`jalon experiment`, `jalon outcomes`, `jalon data synth --agencies` and `jalon data outcomes`, end to end.

A small synthetic experiment (6,000 people, 80 agencies) goes through every command in an
isolated JALON_HOME; every refused request exits with status 2 and one line on stderr.
The baseline scored file is ``synthetic.oracle_scores`` (the documented stand-in for
``jalon score`` when no model is trained).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.io import read_table, write_table
from jalon.cli import app
from synthetic import oracle_scores

runner = CliRunner()
ARMS = "MODEL_1=10,MODEL_2=4"


def ok(*args: str):
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result


def refused(args: list, *needles: str) -> str:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert result.exit_code == 2, (args, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def experiment(jalon_home: Path, tmp_path: Path) -> Path:
    """People, their agency register and their baseline scores, in ``tmp_path``."""
    ok("data", "synth", "--rows", 6000, "--seed", 5, "--agencies", 80, "--icc", 0.02, "--out",
       tmp_path / "people.parquet", "--no-report")  # fmt: skip
    write_table(oracle_scores(read_table(tmp_path / "people.parquet")), tmp_path / "scored.parquet")
    return tmp_path


def test_every_command_has_help() -> None:
    for args, options in (
        (["experiment", "agencies"], []),
        (["experiment", "draw"], ["--arms", "--strata", "--seed", "--out", "--replace", "--reason", "--dry-run"]),
        (["experiment", "power"], ["--arms", "--icc", "--people-per-agency", "--baseline-rate", "--check"]),
        (["experiment", "baseline"], []),
        (["experiment", "evaluate"], ["--outcomes", "--baseline", "--out", "--draw", "--ri-draws", "--ri-seed"]),
        (["experiment", "history"], []),
        (["outcomes", "load"], []),
        (["data", "outcomes"], ["--people", "--draw", "--arm-effect", "--seed", "--out"]),
        (["data", "synth"], ["--agencies", "--icc"]),
    ):
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, args
        for option in options:
            assert option in result.output, (args, option)


def test_the_experiment_end_to_end(experiment: Path) -> None:
    d = experiment
    register = read_table(d / "people.agencies.parquet")
    assert len(register) == 80
    assert "region" in register.columns
    assert "recorded: 80 agencies" in ok("experiment", "agencies", d / "people.agencies.parquet").output
    assert "nothing recorded" in ok("experiment", "agencies", d / "people.agencies.parquet").output

    drawn = ok("experiment", "draw", "--arms", ARMS, "--strata", "region", "--seed", 2027, "--out", d / "draw.csv")
    assert "draw 1 recorded: seed 2027" in drawn.output
    assert "MODEL_1 10, MODEL_2 4, CONTROL 66" in drawn.output
    assert "Balance against control" in drawn.output
    balance = pd.read_csv(d / "draw.balance.csv")
    assert set(balance["arm"]) == {"MODEL_1", "MODEL_2"}
    assert {"smd", "flagged"} <= set(balance.columns)
    # Anyone with the register file and the seed gets the same draw, byte for byte.
    ok("experiment", "draw", "--arms", ARMS, "--strata", "region", "--seed", 2027, "--out", d / "check.csv",
       "--agencies", d / "people.agencies.parquet", "--dry-run")  # fmt: skip
    assert (d / "check.csv").read_bytes() == (d / "draw.csv").read_bytes()

    refused(
        ["experiment", "draw", "--arms", ARMS, "--strata", "region", "--seed", 7, "--out", d / "again.csv"],
        "a draw is already recorded (draw 1, seed 2027",
        "--replace --reason",
    )
    refused(
        [
            "experiment",
            "draw",
            "--arms",
            ARMS,
            "--strata",
            "region",
            "--seed",
            7,
            "--out",
            d / "again.csv",
            "--replace",
        ],
        "needs a reason",
    )
    assert not (d / "again.csv").exists()

    ok("experiment", "baseline", d / "scored.parquet")
    refused(["experiment", "baseline", d / "scored.parquet"], "6000 people are already in the baseline cohort")
    ok("data", "outcomes", "--people", d / "people.parquet", "--draw", d / "draw.csv", "--arm-effect",
       "MODEL_1=0.02,MODEL_2=0.04", "--seed", 7, "--out", d / "outcomes.parquet")  # fmt: skip
    outcomes = read_table(d / "outcomes.parquet")
    assert list(outcomes.columns) == ["person_id", "agency_id", "observed_on", "employed_6m"]
    ok("outcomes", "load", d / "outcomes.parquet")
    refused(["outcomes", "load", d / "outcomes.parquet"], "6000 people already have a recorded outcome")

    # From the records (the draw, the cohort and the outcomes recorded), then from the files: the same report.
    result = ok("experiment", "evaluate", "--out", d / "report.html", "--ri-draws", 99)
    assert "MODEL_1" in result.output
    assert "MODEL_2" in result.output
    report = json.loads((d / "report.json").read_text())
    for arm in ("MODEL_1", "MODEL_2"):
        keys = ("estimate", "std_error", "ci_low", "ci_high", "p_value_ri", "n_agencies", "n_people")
        assert all(key in report["arms"][arm] for key in keys)
    assert report["arms"]["MODEL_2"]["n_agencies"] == 4
    assert report["balance"]  # the recorded register gives the balance table
    ok("experiment", "evaluate", "--outcomes", d / "outcomes.parquet", "--baseline", d / "scored.parquet",
       "--draw", d / "draw.csv", "--agencies", d / "people.agencies.parquet", "--out", d / "files.html",
       "--ri-draws", 99)  # fmt: skip
    assert (d / "files.json").read_bytes() == (d / "report.json").read_bytes()
    assert (d / "files.html").read_bytes() == (d / "report.html").read_bytes()

    replaced = ok("experiment", "draw", "--arms", ARMS, "--strata", "region", "--seed", 8, "--out", d / "draw2.csv",
                  "--replace", "--reason", "Tirage public refait devant huissier")  # fmt: skip
    assert "draw 2 recorded" in replaced.output
    history = ok("experiment", "history").output
    assert "Tirage public refait devant huissier" in history
    agency = ok("experiment", "history", "AG001").output
    assert agency.count("cli:") == 2


def test_refused_requests_exit_2_with_one_line(experiment: Path) -> None:
    d = experiment
    register = read_table(d / "people.agencies.parquet")
    draw = ["experiment", "draw", "--arms", ARMS, "--strata", "region", "--seed", 1, "--out", d / "draw.csv"]
    refused(draw, "no agency register is recorded")
    refused(["experiment", "agencies", d / "missing.csv"], "no such file")
    write_table(register.assign(budget=1.0), d / "bad.csv")
    refused(["experiment", "agencies", d / "bad.csv"], "bad.csv: 1 problem(s)", "column 'budget'")
    duplicated = register.astype(str)
    duplicated.loc[3, "agency_id"] = duplicated.loc[2, "agency_id"]
    duplicated.loc[4, "size"] = "grande"
    write_table(duplicated, d / "dup.csv")
    refused(["experiment", "agencies", d / "dup.csv"], "2 problem(s)", "size='grande'", "appears 2 times")
    assert "nothing recorded" not in ok("experiment", "agencies", d / "people.agencies.parquet").output

    refused([*draw[:-2], "--out", d / "draw.parquet"], "must be a .csv file")
    refused(["experiment", "draw", "--arms", "MODEL_3=4", "--seed", 1, "--out", d / "x.csv"], "unknown arm 'MODEL_3'")
    refused(["experiment", "draw", "--arms", "MODEL_1=90", "--seed", 1, "--out", d / "x.csv"], "only 80 can be drawn")
    refused([*draw[:4], "--strata", "department", *draw[6:]], "unknown stratum column 'department'")
    refused([*draw[:6], "--seed", -1, *draw[8:]], "seed: must be a non-negative whole number")
    refused([*draw, "--dry-run", "--replace"], "a dry run records nothing")
    write_table(register.assign(size=register["size"] + 1), d / "other.parquet")
    refused([*draw, "--agencies", d / "other.parquet"], "is not the recorded agency register")

    refused(["experiment", "evaluate", "--out", d / "r.html"], "no draw is recorded")
    ok(*draw)
    refused(["outcomes", "load", d / "people.parquet"], "column 'sex' is not a column of this file")
    scores = read_table(d / "scored.parquet")
    write_table(scores.assign(agency_id="AG999"), d / "elsewhere.parquet")
    refused(["experiment", "baseline", d / "elsewhere.parquet"], "1 agencies are not in the agency register")
    ok("experiment", "baseline", d / "scored.parquet")
    ok("data", "outcomes", "--people", d / "people.parquet", "--draw", d / "draw.csv", "--arm-effect", "MODEL_1=0.02",
       "--seed", 3, "--out", d / "outcomes.csv")  # fmt: skip
    outcomes = read_table(d / "outcomes.csv")
    strangers = outcomes.head(3).assign(person_id=["X-1", "X-2", "X-3"])
    write_table(pd.concat([strangers, outcomes.iloc[3:]]), d / "strangers.csv")
    refused(
        ["outcomes", "load", d / "strangers.csv"], "3 unknown people (not in the baseline cohort): 'X-1', 'X-2', 'X-3'"
    )
    write_table(pd.concat([outcomes, outcomes.head(2)]), d / "twice.csv")
    refused(["outcomes", "load", d / "twice.csv"], "appears 2 times")
    refused(["experiment", "evaluate", "--out", d / "r.html"], "no outcome is recorded")
    refused(["experiment", "evaluate", "--out", d / "r.html", "--ri-seed", -3], "--ri-seed")

    refused(["data", "outcomes", "--people", d / "people.parquet", "--draw", d / "draw.csv", "--arm-effect",
             "MODEL_9=0.1", "--seed", 1, "--out", d / "o.parquet"], "unknown arm 'MODEL_9'")  # fmt: skip
    (d / "draw.csv").write_text((d / "draw.csv").read_text().replace("MODEL_1", "CONTROL", 1))
    refused(["data", "outcomes", "--people", d / "people.parquet", "--draw", d / "draw.csv", "--arm-effect",
             "MODEL_1=0.1", "--seed", 1, "--out", d / "o.parquet"], "the draw was changed")  # fmt: skip
    refused(["data", "synth", "--rows", 10, "--icc", 0.1, "--out", d / "p.parquet"], "icc needs agencies")


def test_power_prints_the_mde_and_checks_it_by_simulation(jalon_home: Path) -> None:
    from evaluation import experiment_power

    result = ok("experiment", "power", "--arms", "MODEL_1=80,MODEL_2=20", "--agencies", 900, "--people-per-agency",
                100, "--icc", 0.02, "--baseline-rate", 0.42, "--r2", 0.24, "--check", 40)  # fmt: skip
    rows = {
        cells[0]: cells
        for line in result.output.splitlines()
        if line.count("│") > 5
        for cells in [[c.strip() for c in line.split("│")[1:-1]]]
    }
    expected = experiment_power(
        {"MODEL_1": 80, "MODEL_2": 20}, 900, 100, 0.02, 0.42, r2=0.24, cluster_size_cv=0.5
    ).set_index("arm")
    for arm in ("MODEL_1", "MODEL_2"):
        assert rows[arm][3] == f"{100 * expected.loc[arm, 'mde']:.2f} pts"  # 3.0 and 6.0 points (docs/experiment.md)
        simulated = float(rows[arm][8].split("%")[0])
        assert 50 <= simulated <= 100, rows[arm]  # 40 runs: the 80 % target within Monte Carlo error
    refused(["experiment", "power", "--icc", 1.5], "icc: must be in [0, 1)")
    refused(["experiment", "power", "--agencies", 100], "leave 0 controls")
    refused(["experiment", "power", "--check", -1], "--check")
