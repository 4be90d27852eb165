"""Batch scoring: same suggestions and explanations as POST /suggest, chunking invariance,
absolute row numbers in errors with nothing half-written, Parquet and CSV."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from batch.explanations import ExplanationWriter, explanations_from_row
from batch.score import PASS_THROUGH, score_file
from features.io import DataFileError, read_table, write_table
from features.validation import DataValidationError
from models.suggestion import Explanation
from records import DecisionStore
from serving.auth import Principal, Role
from serving.logic import Advisory

DAY = date(2025, 3, 3)
ROWS = 240


@pytest.fixture(scope="module")
def profiles(population: pd.DataFrame) -> pd.DataFrame:
    return population.head(ROWS).reset_index(drop=True)


@pytest.fixture(scope="module")
def profile_file(profiles: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_table(profiles, tmp_path_factory.mktemp("score") / "profiles.parquet")


@pytest.fixture(scope="module")
def explained(profile_file: Path, model, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("scored") / "scored.parquet"
    score_file(profile_file, out, model, explain=True, chunk_rows=50, decision_date=DAY)
    return pd.read_parquet(out)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- identity with the service


def test_explained_rows_equal_suggest_encoded(explained: pd.DataFrame, records: list[dict], model) -> None:
    """Same profile → same need, probabilities, tier, review flag and explanation text."""
    expected = model.suggest_encoded(model.encode_records(records), explain=True)
    for record, item, row in zip(records, expected, explained.head(len(records)).itertuples(index=False), strict=True):
        assert row.person_id == record["person_id"]
        assert row.need == item.need.code
        for entry in item.need.distribution:
            assert abs(getattr(row, f"need_proba_{entry.code}") - entry.probability) <= 1e-12
        assert abs(row.p_employed - item.employability.probability) <= 1e-12
        assert row.tier == item.employability.tier
        assert bool(row.needs_review) == item.needs_review
        # The JSON text itself is what json.dumps gives for the service's explanation.
        assert row.need_factors == json.dumps(item.explanations.need.model_dump(), ensure_ascii=False)
        assert row.employability_factors == json.dumps(item.explanations.employability.model_dump(), ensure_ascii=False)
        assert explanations_from_row(row._asdict()) == item.explanations.model_dump()


def test_explained_rows_equal_advisory_suggest(
    explained: pd.DataFrame, records: list[dict], model, tmp_path: Path
) -> None:
    """POST /suggest's logic (Advisory.suggest): explanations and recommendation agree with the batch."""
    store = DecisionStore(f"sqlite:///{tmp_path / 'decisions.db'}")
    try:
        advisory = Advisory(model, "test", store)
        subset = records[:60]
        results = advisory.suggest(subset, Principal(subject="adv-1", role=Role.ADVISOR), today=DAY)
    finally:
        store.dispose()
    batch = explained.set_index("person_id")
    for result in (r.model_dump(mode="json") for r in results):
        row = batch.loc[result["person_id"]]
        assert row["agency_id"] == result["agency_id"]
        assert row["need"] == result["need"]["code"]
        assert row["tier"] == result["employability"]["tier"]
        assert abs(row["p_employed"] - result["employability"]["probability"]) <= 1e-12
        assert json.loads(row["need_factors"]) == result["explanations"]["need"]
        assert json.loads(row["employability_factors"]) == result["explanations"]["employability"]
        rec = result["recommendation"]
        assert row["rule_id"] == rec["rule_id"]
        assert row["parcours"] == rec["parcours"]
        assert row["modality"] == rec["modality"]
        assert int(row["duration_months"]) == rec["duration_months"]
        assert row["milestone_date"].isoformat() == rec["milestone_date"]
        assert row["offers"] == ";".join(o["id"] for o in rec["offers"])


def test_explanation_writer_on_awkward_values(model, profiles: pd.DataFrame) -> None:
    """Missing answers, zeros and repeated values go through the factor cache unchanged."""
    from features.validation import profile_rules, validate_frame

    frame = profiles.head(80).copy()
    frame.loc[:20, "project_clarity"] = pd.NA
    frame.loc[:40, "months_worked_24m"] = 0
    frame.loc[10:30, "experience_years"] = 0.0
    X = model.encode_frame(validate_frame(frame, profile_rules()))
    X[5, model.feature_names.index("experience_years")] = -0.0
    expected = model.suggest_encoded(X, explain=True)
    writer = ExplanationWriter(model)
    scores = model.score(X)
    for _ in range(2):  # second pass served from the cache
        need, emp = writer.need(X, scores), writer.employability(X)
        for item, n_text, e_text in zip(expected, need, emp, strict=True):
            assert n_text == json.dumps(item.explanations.need.model_dump(), ensure_ascii=False)
            assert e_text == json.dumps(item.explanations.employability.model_dump(), ensure_ascii=False)
            assert Explanation.model_validate_json(n_text) == item.explanations.need


# --------------------------------------------------------------------------- output layout


def test_columns_and_pass_through(explained: pd.DataFrame, profiles: pd.DataFrame, model) -> None:
    expected = [
        "person_id",
        "agency_id",
        "need",
        *(f"need_proba_{c}" for c in model.need_classes),
        "p_employed",
        "tier",
        "needs_review",
        "rule_id",
        "parcours",
        "modality",
        "duration_months",
        "milestone_date",
        "offers",
        "need_factors",
        "employability_factors",
        *PASS_THROUGH,
    ]
    assert list(explained.columns) == expected
    assert explained["person_id"].tolist() == profiles["person_id"].tolist()
    for name in PASS_THROUGH:
        assert explained[name].tolist() == profiles[name].tolist()
    probs = explained[[f"need_proba_{c}" for c in model.need_classes]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


def test_without_explanations_and_without_audit_columns(
    profile_file: Path, profiles: pd.DataFrame, model, tmp_path: Path
) -> None:
    bare = profiles.drop(columns=["sex", "nationality_group", "primary_need", "employed_6m"])
    src = write_table(bare, tmp_path / "bare.parquet")
    summary = score_file(src, tmp_path / "out.parquet", model, decision_date=DAY)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert summary.rows == ROWS
    assert summary.chunks == 1
    assert not summary.explain
    assert "need_factors" not in out.columns
    assert "sex" not in out.columns
    assert "age" in out.columns
    predicted = model.predict_frame(profiles)
    np.testing.assert_array_equal(out["p_employed"].to_numpy(), predicted["p_employed"].to_numpy())
    assert out["need"].tolist() == predicted["need"].tolist()
    assert out["needs_review"].tolist() == predicted["needs_review"].tolist()
    meta = pq.ParquetFile(tmp_path / "out.parquet").schema_arrow.metadata
    assert meta[b"jalon.decision_date"] == DAY.isoformat().encode()


# --------------------------------------------------------------------------- chunking


def test_chunk_size_does_not_change_the_output(profile_file: Path, model, tmp_path: Path) -> None:
    small, large = tmp_path / "c7.parquet", tmp_path / "c1000.parquet"
    calls = []
    s7 = score_file(
        profile_file,
        small,
        model,
        explain=True,
        chunk_rows=7,
        decision_date=DAY,
        progress=lambda done, total: calls.append((done, total)),
    )
    score_file(profile_file, large, model, explain=True, chunk_rows=1000, decision_date=DAY)
    assert s7.chunks == -(-ROWS // 7)
    assert calls[-1] == (ROWS, ROWS)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    pd.testing.assert_frame_equal(pd.read_parquet(small), pd.read_parquet(large), check_exact=True)
    # CSV: byte for byte.
    score_file(profile_file, tmp_path / "c7.csv", model, explain=True, chunk_rows=7, decision_date=DAY)
    score_file(profile_file, tmp_path / "c1000.csv", model, explain=True, chunk_rows=1000, decision_date=DAY)
    assert (tmp_path / "c7.csv").read_bytes() == (tmp_path / "c1000.csv").read_bytes()


def test_csv_in_and_out_agree_with_parquet(
    profiles: pd.DataFrame, explained: pd.DataFrame, model, tmp_path: Path
) -> None:
    src = write_table(profiles, tmp_path / "profiles.csv")
    score_file(src, tmp_path / "scored.csv", model, explain=True, chunk_rows=50, decision_date=DAY)
    text = read_table(tmp_path / "scored.csv")
    assert list(text.columns) == list(explained.columns)
    assert text["person_id"].tolist() == explained["person_id"].tolist()
    for name in [c for c in explained.columns if c.startswith("need_proba_")] + ["p_employed"]:
        np.testing.assert_allclose(text[name].astype(float), explained[name], rtol=0, atol=1e-12)
    for name in ("need", "tier", "rule_id", "offers", "need_factors", "employability_factors"):
        assert text[name].tolist() == explained[name].tolist()
    assert text["milestone_date"].tolist() == [d.isoformat() for d in explained["milestone_date"]]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_bad_row_in_a_later_chunk_names_the_absolute_row_and_writes_nothing(
    profiles: pd.DataFrame, model, tmp_path: Path, suffix: str
) -> None:
    frame = profiles.head(40).copy()
    frame["age"] = frame["age"].astype(object)
    frame.loc[16, "age"] = 212  # row 17 of the file: chunk 2 with chunk_rows=10
    src = write_table(frame, tmp_path / f"bad{suffix}")
    out = tmp_path / "out" / f"scored{suffix}"
    out.parent.mkdir()
    with pytest.raises(DataValidationError) as info:
        score_file(src, out, model, chunk_rows=10, decision_date=DAY)
    assert any(m.startswith("row 17: age=") and "between 16 and 70" in m for m in info.value.messages), (
        info.value.messages
    )
    assert str(src) in str(info.value)
    assert not out.exists()
    assert leftovers(out.parent) == []


def test_error_after_chunks_were_written_keeps_the_previous_output(
    profiles: pd.DataFrame, model, tmp_path: Path
) -> None:
    frame = profiles.head(60).copy()
    frame["housing"] = frame["housing"].astype(object)
    frame.loc[55, "housing"] = "CASTLE"  # row 56: the sixth chunk of 10
    src = write_table(frame, tmp_path / "bad.parquet")
    out = tmp_path / "scored.parquet"
    out.write_bytes(b"previous run")
    with pytest.raises(DataValidationError) as info:
        score_file(src, out, model, chunk_rows=10, decision_date=DAY)
    assert info.value.messages[0].startswith("row 56: housing='CASTLE'")
    assert out.read_bytes() == b"previous run"
    assert leftovers(tmp_path) == []


def test_missing_column_and_bad_files(profiles: pd.DataFrame, model, tmp_path: Path) -> None:
    src = write_table(profiles.head(5).drop(columns=["housing"]), tmp_path / "nohousing.csv")
    with pytest.raises(DataValidationError, match="column 'housing' is missing"):
        score_file(src, tmp_path / "o.csv", model)
    with pytest.raises(DataFileError, match="no such file"):
        score_file(tmp_path / "absent.parquet", tmp_path / "o.parquet", model)
    with pytest.raises(DataFileError, match="unsupported extension"):
        score_file(src, tmp_path / "o.xlsx", model)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError):
        score_file(garbage, tmp_path / "o.parquet", model)
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "o.csv").exists()


def test_empty_input_gives_an_empty_output(profiles: pd.DataFrame, model, tmp_path: Path) -> None:
    src = tmp_path / "empty.csv"
    src.write_text(",".join(profiles.columns) + "\n")
    summary = score_file(src, tmp_path / "o.parquet", model, explain=True)
    assert summary.rows == 0
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert len(out) == 0
    assert "need_factors" in out.columns
    assert "sex" in out.columns
