"""The `jalon` command: self-documenting, clear errors, non-zero exits."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from jalon.cli import app

runner = CliRunner()


def test_every_command_has_help() -> None:
    for args in (
        [],
        ["data"],
        ["data", "synth"],
        ["data", "validate"],
        ["train"],
        ["promote"],
        ["models"],
        ["serve"],
        ["token"],
        ["score"],
        ["allocate"],
        ["review"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_synth_then_validate(tmp_path) -> None:
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["data", "synth", "--rows", "2000", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 2000
    assert runner.invoke(app, ["data", "validate", str(out), "--labels"]).exit_code == 0
    broken = pd.read_csv(out, dtype=str, keep_default_na=False)
    broken.loc[16, "age"] = "212"
    broken.to_csv(tmp_path / "bad.csv", index=False)
    result = runner.invoke(app, ["data", "validate", str(tmp_path / "bad.csv")])
    assert result.exit_code == 2
    assert "row 17: age=212 must be an integer between 16 and 70" in result.output


def test_synth_refuses_a_bad_bias_and_extension(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "data",
            "synth",
            "--rows",
            "10",
            "--out",
            str(tmp_path / "p.parquet"),
            "--label-bias",
            "nationality_group=MARS=0.5",
        ],
    )
    assert result.exit_code == 2
    assert "MARS" in result.output
    result = runner.invoke(app, ["data", "synth", "--rows", "10", "--out", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 2
    assert "unsupported extension" in result.output


def test_serve_without_champion_says_how_to_get_one(jalon_home) -> None:
    result = runner.invoke(app, ["serve", "--port", "3999"])
    assert result.exit_code == 1
    assert "jalon train" in result.output
    assert "promote" in result.output


def test_train_reports_bad_data_without_traceback(jalon_home, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,age\nP1,30\n")
    result = runner.invoke(app, ["train", "--data", str(bad)])
    assert result.exit_code == 2
    assert "column 'primary_need' is missing" in result.output
    assert "Traceback" not in result.output


def test_token_stores_only_a_hash(jalon_home) -> None:
    result = runner.invoke(app, ["token", "adv-9", "--role", "advisor"])
    assert result.exit_code == 0
    token = result.output.strip()
    stored = (jalon_home / "tokens.json").read_text()
    assert token not in stored
    assert "adv-9" in stored
    assert runner.invoke(app, ["token", "adv 9"]).exit_code == 2
