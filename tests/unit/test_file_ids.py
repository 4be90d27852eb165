"""Data files follow the API's rules for ids: pseudonymous, one row per person, and typed columns in Parquet."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.io import write_table
from features.validation import DataValidationError, profile_rules, validate_frame
from jalon.cli import app

runner = CliRunner()


@pytest.fixture
def frame(population) -> pd.DataFrame:
    return population.head(8).reset_index(drop=True).copy()


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Jean Dupont", "'Jean Dupont'"), ("jean.dupont@example.fr", "'jean.dupont@example.fr'"), ("x" * 65, "'xxx")],
)
def test_a_person_id_that_is_not_pseudonymous_is_refused(frame, value: str, shown: str) -> None:
    frame.loc[2, "person_id"] = value
    with pytest.raises(DataValidationError) as refused:
        validate_frame(frame, profile_rules(), "f.parquet", typed_file=True)
    rule = "must be a pseudonymous id: 1 to 64 letters, digits, - or _ (never a name or an e-mail)"
    assert refused.value.messages == [f"row 3: person_id={value!r} {rule}"]
    assert shown in str(refused.value)


def test_a_person_appears_once(frame) -> None:
    frame.loc[5, "person_id"] = frame.loc[1, "person_id"]
    with pytest.raises(DataValidationError) as refused:
        validate_frame(frame, profile_rules(), "f.csv")
    pid = frame.loc[1, "person_id"]
    assert refused.value.messages == [
        f"row 2: person_id={pid!r} appears more than once",
        f"row 6: person_id={pid!r} appears more than once",
    ]


def test_a_typed_file_must_store_each_column_with_its_kind(frame) -> None:
    frame["age"] = frame["age"].astype(str)
    frame["driving_licence"] = frame["driving_licence"].astype(int)
    frame["housing"] = 1
    with pytest.raises(DataValidationError) as refused:
        validate_frame(frame, profile_rules(), "f.parquet", typed_file=True)
    assert refused.value.messages == [
        "column 'age' is stored as text in the file; age must be an integer between 16 and 70 "
        "(a typed file must store it as number)",
        "column 'driving_licence' is stored as number in the file; driving_licence must be true or false "
        "(a typed file must store it as boolean)",
        "column 'housing' is stored as number in the file; housing must be one of "
        "STABLE, PRECARIOUS, NONE (a typed file must store it as text)",
    ]
    # Text that spells the value is what a CSV file holds: read, not refused.
    csv_like = frame.drop(columns=["housing"]).astype(str)
    with pytest.raises(DataValidationError) as text_refused:
        validate_frame(csv_like, profile_rules(), "f.csv")
    assert all("stored as" not in m for m in text_refused.value.messages)


def test_data_validate_refuses_them_on_the_command_line(frame, tmp_path) -> None:
    frame.loc[0, "person_id"] = "marie.curie@example.fr"
    frame.loc[4, "person_id"] = frame.loc[3, "person_id"]
    frame["months_worked_24m"] = frame["months_worked_24m"].astype(str)
    path = write_table(frame, tmp_path / "extract.parquet")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert "column 'months_worked_24m' is stored as text" in result.output
    frame["months_worked_24m"] = frame["months_worked_24m"].astype(int)
    path = write_table(frame, tmp_path / "extract.parquet")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert "row 1: person_id='marie.curie@example.fr' must be a pseudonymous id" in result.output
    assert "row 5: person_id=" in result.output
    assert "appears more than once" in result.output
