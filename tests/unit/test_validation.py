"""Data files are refused with every bad row, field and rule named; nothing is coerced."""

from __future__ import annotations

import pandas as pd
import pytest

from features.io import read_table, write_table
from features.validation import DataValidationError, profile_rules, validate_frame


@pytest.fixture
def good(population: pd.DataFrame) -> pd.DataFrame:
    return population.head(30).reset_index(drop=True)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_round_trip_keeps_every_value(good: pd.DataFrame, tmp_path, suffix: str) -> None:
    path = write_table(good, tmp_path / f"p{suffix}")
    typed = validate_frame(read_table(path), profile_rules(labels=True, truth=True))
    assert list(typed.columns) == list(good.columns)
    for column in good.columns:
        left = good[column].astype(object).where(good[column].notna(), None).tolist()
        right = typed[column].astype(object).where(typed[column].notna(), None).tolist()
        if good[column].dtype.kind == "f":
            assert right == pytest.approx(left), column
        else:
            assert [str(v) for v in left] == [str(v) for v in right], column


BAD_VALUES = [
    ("age", 212, "row 4: age=212 must be an integer between 16 and 70"),
    ("age", "abc", "row 4: age='abc' must be an integer between 16 and 70"),
    ("months_worked_24m", "2.5", "row 4: months_worked_24m='2.5' must be an integer between 0 and 24"),
    ("sex", "X", "row 4: sex='X' must be one of F, M"),
    ("housing", "CASTLE", "row 4: housing='CASTLE' must be one of STABLE, PRECARIOUS, NONE"),
    ("driving_licence", "yes", "row 4: driving_licence='yes' must be true or false"),
    ("local_unemployment_rate", "0.5", "row 4: local_unemployment_rate=0.5 must be a number between 0.02 and 0.25"),
    ("category", "", "row 4: category is missing (must be one of A, B, C)"),
    ("primary_need", "LOTTERY", "row 4: primary_need='LOTTERY' must be one of DIRECT_EMPLOYMENT"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_VALUES)
def test_bad_value_is_refused_with_field_and_rule(good: pd.DataFrame, column: str, value, message: str) -> None:
    text = good.astype(object).where(good.notna(), "").astype(str)  # as read from CSV
    text.loc[3, column] = str(value)
    with pytest.raises(DataValidationError) as caught:
        validate_frame(text, profile_rules(labels=True))
    assert any(m.startswith(message) for m in caught.value.messages), caught.value.messages


def test_every_problem_is_reported_at_once(good: pd.DataFrame) -> None:
    text = good.astype(object).where(good.notna(), "").astype(str)
    text.loc[0, "age"] = "15"
    text.loc[5, "sex"] = "Z"
    text.loc[9, "benefit_days_left"] = "-1"
    with pytest.raises(DataValidationError) as caught:
        validate_frame(text, profile_rules())
    assert [m.split(":")[0] for m in caught.value.messages] == ["row 1", "row 6", "row 10"]


def test_missing_required_column_is_named(good: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="column 'housing' is missing"):
        validate_frame(good.drop(columns=["housing"]), profile_rules())


def test_wrong_type_in_parquet_is_refused_not_coerced(good: pd.DataFrame, tmp_path) -> None:
    broken = good.copy()
    broken["age"] = broken["age"].astype(float) + 0.5  # fractional ages are not integers
    path = write_table(broken, tmp_path / "b.parquet")
    with pytest.raises(DataValidationError, match=r"row 1: age=\d+\.5 must be an integer"):
        validate_frame(read_table(path), profile_rules())


def test_optional_answers_may_be_missing(good: pd.DataFrame) -> None:
    frame = good.copy()
    frame.loc[0, "project_clarity"] = pd.NA
    frame.loc[1, "sex"] = None  # protected: optional, only for the audit
    typed = validate_frame(frame, profile_rules())
    assert pd.isna(typed.loc[0, "project_clarity"])
    assert pd.isna(typed.loc[1, "sex"])


def test_unreadable_file_is_a_clear_error(tmp_path) -> None:
    from features.io import DataFileError

    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError, match="cannot be read as parquet"):
        read_table(bad)
    with pytest.raises(DataFileError, match="unsupported extension"):
        read_table(tmp_path / "x.xlsx")
