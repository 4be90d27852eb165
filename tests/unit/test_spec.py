"""The spec format (docs/spec.md): labels and their positive value, YAML booleans, errors that
name columns, per-column failure summaries, --labels with --spec. Each defect of issue 14."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from features.spec import SpecError, default_spec, load_spec, parse_spec
from features.validation import DataValidationError

BASE = [{"name": "ref", "role": "id"}, {"name": "x", "role": "feature", "type": "numeric"}]


def _spec(*label: dict, **top):
    return parse_spec({"name": "t", "columns": [*BASE, *label], **top})


def _frame(label: list) -> pd.DataFrame:
    return pd.DataFrame(
        {"ref": [f"R{i}" for i in range(len(label))], "x": np.arange(len(label), dtype=float), "y": label}
    )


def test_a_boolean_label_is_positive_when_true_by_default() -> None:
    spec = _spec({"name": "y", "role": "employment_label"})
    typed = spec.validate_data(_frame([True, False, True]))
    assert spec.outcome(typed).tolist() == [1, 0, 1]


def test_a_zero_one_label_can_say_zero_is_positive() -> None:
    spec = _spec({"name": "y", "role": "employment_label", "type": "integer", "positive": 0})
    typed = spec.validate_data(_frame([0, 1, 0, 0]))
    assert spec.outcome(typed).tolist() == [1, 0, 1, 1]


def test_a_categorical_label_is_honoured_not_read_as_boolean() -> None:
    label = {
        "name": "y",
        "role": "employment_label",
        "type": "categorical",
        "categories": ["EMPLOYED", "TRAINING", "UNEMPLOYED"],
        "positive": ["EMPLOYED", "TRAINING"],
    }
    spec = _spec(label)
    typed = spec.validate_data(_frame(["EMPLOYED", "UNEMPLOYED", "TRAINING"]))
    assert spec.outcome(typed).tolist() == [1, 0, 1]
    with pytest.raises(DataValidationError, match="must be one of EMPLOYED, TRAINING, UNEMPLOYED"):
        spec.validate_data(_frame(["EMPLOYED", "yes"]))
    with pytest.raises(SpecError, match="needs positive"):
        _spec({**label, "positive": None})
    with pytest.raises(SpecError, match=r"positive value\(s\) HIRED not among categories"):
        _spec({**label, "positive": "HIRED"})


def test_unquoted_yes_no_get_a_hint_to_quote() -> None:
    text = """
name: t
columns:
  - {name: x, role: feature, type: numeric}
  - {name: y, role: employment_label, type: categorical, categories: [yes, no], positive: yes}
"""
    with pytest.raises(SpecError) as caught:
        parse_spec(yaml.safe_load(text))
    message = str(caught.value)
    assert "columns[1] ('y').categories[0]: read as the boolean true" in message
    assert "quote the value" in message
    quoted = text.replace("[yes, no], positive: yes", "['yes', 'no'], positive: 'yes'")
    spec = parse_spec(yaml.safe_load(quoted))
    assert spec.outcome(spec.validate_data(pd.DataFrame({"x": [1.0, 2.0], "y": ["yes", "no"]}))).tolist() == [1, 0]


def test_spec_errors_name_the_column_not_its_index(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump({"name": "t", "columns": [*BASE, {"name": "age", "role": "feature", "type": "float"}]})
    )
    with pytest.raises(SpecError, match=r"columns\[2\] \('age'\)\.type: Input should be"):
        load_spec(path)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"name": "age", "role": "sensitive", "type": "integer", "bands": "age"}, "unit: years or unit: months"),
        ({"name": "y2", "role": "feature", "type": "numeric", "horizon": "6 months"}, "only for the employment_label"),
        ({"name": "y", "role": "employment_label", "horizon": "soon"}, "number of months or years"),
        ({"name": "y", "role": "employment_label", "positive": "maybe"}, "type: categorical"),
    ],
)
def test_options_are_checked(column, message) -> None:
    label = [] if column["name"] == "y" else [{"name": "y", "role": "employment_label"}]
    with pytest.raises(SpecError, match=message):
        _spec(column, *label)


def test_horizon_label_fr_and_unit_are_kept() -> None:
    spec = _spec(
        {
            "name": "age",
            "role": "sensitive",
            "type": "integer",
            "unit": "months",
            "bands": "age",
            "label_fr": "Âge (mois)",
        },
        {"name": "y", "role": "employment_label", "horizon": "2 years", "label_fr": "En emploi"},
    )
    assert spec.employment_label.horizon_months == 24
    assert spec.label_of("age") == "Âge (mois)"
    assert spec.label_of("x") == "x"
    assert spec.column("age").is_age
    assert spec.registered_model_name == "jalon-t"
    assert default_spec().registered_model_name == "jalon-segmentation"
    assert _spec({"name": "y", "role": "employment_label"}, model_name="agency-75").registered_model_name == "agency-75"


def test_months_of_age_are_banded_as_years() -> None:
    from training.fairness import audit_groups

    spec = _spec(
        {"name": "age", "role": "sensitive", "type": "integer", "unit": "months", "bands": "age"},
        {"name": "y", "role": "employment_label"},
    )
    groups = audit_groups(pd.DataFrame({"age": [240, 300, 720]}), spec)
    assert groups["age_band"].tolist() == ["<25", "25-49", "50+"]
    # a column merely named age, without bands: age, is not read as years
    plain = _spec({"name": "age", "role": "sensitive", "type": "numeric"}, {"name": "y", "role": "employment_label"})
    assert list(audit_groups(pd.DataFrame({"age": [1.0, 2.0, 3.0, 4.0]}), plain)) == ["age_tercile"]


def test_a_column_failing_on_many_rows_is_summarised() -> None:
    spec = _spec({"name": "y", "role": "employment_label"})
    frame = _frame([True] * 2000)
    frame["x"] = "n/a"
    with pytest.raises(DataValidationError) as caught:
        spec.validate_data(frame)
    summary = caught.value.summary()
    assert summary == ["column 'x': 2000 rows must be a number (rows 1, 2, 3, 4, 5, ...)"]
    assert str(caught.value).splitlines()[1:3] == ["by column:", "  " + summary[0]]


def test_validate_honours_labels_with_spec(tmp_path) -> None:
    from jalon.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "columns": [*BASE, {"name": "y", "role": "employment_label"}]}))
    data = tmp_path / "d.csv"
    _frame([True, False]).drop(columns=["y"]).to_csv(data, index=False)
    runner = CliRunner()
    assert runner.invoke(app, ["data", "validate", str(data), "--spec", str(path)]).exit_code == 0
    result = runner.invoke(app, ["data", "validate", str(data), "--spec", str(path), "--labels"])
    assert result.exit_code == 2
    assert "column 'y' is missing" in result.output
