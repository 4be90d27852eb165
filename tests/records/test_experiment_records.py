"""The MSA experiment's records on real SQLite files and a real PostgreSQL server: register, draws, cohort, outcomes.

Tests taking ``url`` or ``records`` run on both backends. Tables come from what the real
producers emit: the agency register of ``synthetic.generate_agencies``, the draw of
``policy.draw.draw_arms``, the baseline of ``synthetic.oracle_scores`` and the outcomes of
``synthetic.simulate_outcomes``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core.errors import Conflict, InvalidInput
from policy.draw import canonical_sha256, draw_arms, parse_arms
from records import DecisionStore, ExperimentRecords
from records.experiment_inputs import baseline_frame, outcomes_frame, register_frame
from synthetic import generate_agencies, generate_population, oracle_scores, simulate_outcomes

BACKENDS = ("sqlite", "postgresql")
ARMS = parse_arms("MODEL_1=8,MODEL_2=3")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'decisions.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def records(url: str) -> Iterator[ExperimentRecords]:
    store = DecisionStore(url)
    yield ExperimentRecords(store)
    store.dispose()


@pytest.fixture(scope="module")
def agencies() -> pd.DataFrame:
    return generate_agencies(60, seed=4)


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return generate_population(3000, seed=4, agencies=60, icc=0.02)


def with_hand_added(agencies: pd.DataFrame) -> pd.DataFrame:
    """Two agencies « en plus », added by hand: one runs model 1, the other model 2."""
    frame = agencies.copy()
    frame.loc[[5, 9], "added_by_hand"] = True
    frame["arm_by_hand"] = None
    frame.loc[5, "arm_by_hand"] = "MODEL_1"
    frame.loc[9, "arm_by_hand"] = "MODEL_2"
    return frame


def drawn(records: ExperimentRecords, agencies: pd.DataFrame, seed: int = 11, **kwargs):
    records.load_register(agencies, source="agencies.parquet", loaded_by="cli:test")
    version, register = records.register()  # type: ignore[misc]
    result = draw_arms(register, ARMS, ["region"], seed)
    return records.record_draw(result, register_version=version.version, recorded_by="cli:test", **kwargs)


# --------------------------------------------------------------------------- the register


def test_register_versions_and_round_trip(records: ExperimentRecords, agencies: pd.DataFrame) -> None:
    first, created = records.load_register(agencies, source="agencies.parquet", loaded_by="cli:test")
    assert created
    assert (first.version, first.n_agencies) == (1, 60)
    again, created = records.load_register(agencies.iloc[::-1], source="other.csv", loaded_by="cli:test")
    assert not created  # the same register in another row order: nothing recorded
    assert again.version == 1
    # As a CSV would give it (text cells): the same normalised register, the same sha256.
    as_text = agencies.astype(str).assign(added_by_hand="false")
    assert canonical_sha256(register_frame(as_text)) == first.sha256
    meta, back = records.register()  # type: ignore[misc]
    assert canonical_sha256(back) == first.sha256 == meta.sha256
    assert list(back.columns) == list(agencies.columns)
    changed = agencies.copy()
    changed.loc[0, "size"] += 100
    second, created = records.load_register(changed, source="agencies-v2.parquet", loaded_by="cli:test")
    assert created
    assert second.version == 2
    assert records.register(1)[1]["size"].iloc[0] == agencies["size"].iloc[0]  # type: ignore[index]
    assert [r.version for r in records.registers()] == [1, 2]


REGISTER_ERRORS = [
    ("unknown column", lambda f: f.assign(budget=1), "column 'budget' is not a column of this file"),
    ("missing column", lambda f: f.drop(columns=["region"]), "column 'region' is missing"),
    ("not an integer", lambda f: f.astype(str).assign(size=["big", *f["size"].astype(str)[1:]]), "row 1: size='big'"),
    ("out of range", lambda f: f.assign(share_rsa=[1.5, *f["share_rsa"][1:]]), "row 1: share_rsa=1.5"),
    ("duplicate id", lambda f: f.assign(agency_id=["AG002", *f["agency_id"][1:]]), "agency_id='AG002' appears 2"),
    ("bad id", lambda f: f.assign(agency_id=["Agence de Nîmes", *f["agency_id"][1:]]), "row 1: agency_id="),
    ("no model", lambda f: f.assign(added_by_hand=[True, *f["added_by_hand"][1:]]), "row 1: arm_by_hand is missing"),
    ("model not by hand", lambda f: f.assign(arm_by_hand=["MODEL_2"] + [None] * 59), "only for an agency added by"),
    ("unknown model", lambda f: with_hand_added(f).assign(arm_by_hand="MODEL_3"), "arm_by_hand='MODEL_3'"),
    ("bad flag", lambda f: f.astype(str).assign(added_by_hand="maybe"), "added_by_hand='maybe'"),
    ("empty", lambda f: f.head(0), "the file has no rows"),
]


@pytest.mark.parametrize(("case", "change", "expected"), REGISTER_ERRORS, ids=[e[0] for e in REGISTER_ERRORS])
def test_register_refusals_name_the_row_and_rule_on_one_line(
    agencies: pd.DataFrame, case: str, change, expected: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_frame(change(agencies), "agencies.csv")
    message = str(caught.value)
    assert message.startswith("agencies.csv: ")
    assert expected in message
    assert "\n" not in message


def test_a_refused_register_records_nothing(records: ExperimentRecords, agencies: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput):
        records.load_register(agencies.assign(budget=1), source="agencies.csv", loaded_by="cli:test")
    assert records.register() is None


# --------------------------------------------------------------------------- draws and arms


def test_draw_is_recorded_once_and_rebuilt_byte_for_byte(records: ExperimentRecords, agencies: pd.DataFrame) -> None:
    recorded = drawn(records, agencies)
    assert recorded.sequence == 1
    back = records.current_draw()
    assert back is not None
    assert back.result.csv_text() == recorded.result.csv_text()
    assert back.result.metadata() == recorded.result.metadata()
    assert back.served_arm == {
        a: (None if arm == "CONTROL" else arm)
        for a, arm in zip(back.result.assignment["agency_id"], back.result.assignment["arm"], strict=True)
    }
    with pytest.raises(Conflict, match=r"already recorded .* --replace --reason"):
        drawn(records, agencies, seed=12)
    with pytest.raises(InvalidInput, match="needs a reason"):
        drawn(records, agencies, seed=12, replace=True)
    with pytest.raises(InvalidInput, match="only with --replace"):
        drawn(records, agencies, seed=12, reason="oubli")
    assert [d["sequence"] for d in records.draws()] == [1]


def test_replacing_draw_keeps_the_history(records: ExperimentRecords, agencies: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="nothing to replace"):
        drawn(records, agencies, replace=True, reason="premier")
    first = drawn(records, agencies)
    second = drawn(records, agencies, seed=99, replace=True, reason="Graine annoncée différente de la graine tirée")
    assert (second.sequence, second.replaces) == (2, 1)
    moved = first.result.assignment["arm"].to_numpy() != second.result.assignment["arm"].to_numpy()
    agency = str(first.result.assignment["agency_id"][moved].iloc[0])
    history = records.arm_history(agency)
    assert [arm.draw_sequence for arm, _ in history] == [1, 2]
    assert history[0][0].arm != history[1][0].arm
    assert history[1][1]["reason"] == "Graine annoncée différente de la graine tirée"
    lookup = records.arms_of([agency, "NOWHERE"])
    assert lookup.draw_sequence == 2
    assert lookup.arms[agency].arm == history[1][0].arm
    assert "NOWHERE" not in lookup.arms
    assert [d["replaces"] for d in records.draws()] == [None, 1]


def test_agencies_added_by_hand_run_their_model_outside_the_draw(
    records: ExperimentRecords, agencies: pd.DataFrame
) -> None:
    recorded = drawn(records, with_hand_added(agencies))
    hand = {"AG006": "MODEL_1", "AG010": "MODEL_2"}
    lookup = records.arms_of(hand)
    for agency_id, model in hand.items():
        arm = lookup.arms[agency_id]
        assert (arm.arm, arm.served_arm, arm.added_by_hand) == ("HAND_ADDED", model, True)
    assert recorded.result.counts()["HAND_ADDED"] == 2
    assert recorded.result.metadata()["hand_added"] == ["AG006", "AG010"]
    assert records.register()[1]["arm_by_hand"].notna().sum() == 2  # type: ignore[index]


def test_a_draw_must_come_from_the_recorded_register(records: ExperimentRecords, agencies: pd.DataFrame) -> None:
    records.load_register(agencies, source="agencies.parquet", loaded_by="cli:test")
    other = draw_arms(register_frame(agencies.assign(size=agencies["size"] + 1)), ARMS, ["region"], 3)
    with pytest.raises(InvalidInput, match="not made on register version 1"):
        records.record_draw(other, register_version=1, recorded_by="cli:test")
    assert records.current_draw() is None


def test_two_racing_first_draws_record_one(url: str, agencies: pd.DataFrame) -> None:
    stores = [DecisionStore(url), DecisionStore(url)]
    records = [ExperimentRecords(s) for s in stores]
    records[0].load_register(agencies, source="agencies.parquet", loaded_by="cli:test")
    register = records[0].register()[1]  # type: ignore[index]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def run(k: int) -> None:
        barrier.wait()
        try:
            records[k].record_draw(draw_arms(register, ARMS, ["region"], k), register_version=1, recorded_by="cli:t")
            results.append("recorded")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.dispose()
    assert sorted(results) == ["conflict", "recorded"]


def test_experiment_tables_are_append_only(records: ExperimentRecords, agencies: pd.DataFrame, people) -> None:
    drawn(records, agencies)
    scores = oracle_scores(people)
    records.load_baseline(scores, source="scored.parquet", sha256="0" * 64, loaded_by="cli:test")
    engine = records.store.engine
    for statement in (
        "UPDATE draw_arms SET arm = 'MODEL_1'",
        "DELETE FROM draws",
        "UPDATE register_agencies SET size = 0",
        "DELETE FROM baseline_people",
        "UPDATE agency_registers SET sha256 = 'x'",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))


# --------------------------------------------------------------------------- cohort and outcomes


def test_cohort_then_outcomes_round_trip(records: ExperimentRecords, agencies: pd.DataFrame, people) -> None:
    recorded = drawn(records, agencies)
    scores = oracle_scores(people)
    summary = records.load_baseline(scores, source="scored.parquet", sha256="a" * 64, loaded_by="cli:test")
    assert summary.n_rows == len(people)
    outcomes = simulate_outcomes(people, recorded.result, {"MODEL_1": 0.02, "MODEL_2": 0.04}, seed=5)
    records.load_outcomes(outcomes, source="outcomes.parquet", sha256="b" * 64, loaded_by="cli:test")
    back = records.outcomes().set_index("person_id").loc[outcomes["person_id"]]
    assert back["employed_6m"].astype(bool).tolist() == outcomes["employed_6m"].tolist()
    assert (back["observed_on"].dt.date == pd.Timestamp("2027-10-01").date()).all()
    cohort = records.baseline().set_index("person_id").loc[scores["person_id"]]
    assert np.allclose(cohort["p_employed"], scores["p_employed"], rtol=0, atol=0)
    assert cohort["tier"].tolist() == scores["tier"].tolist()
    assert [load.kind for load in records.loads()] == ["BASELINE", "OUTCOMES"]


def test_outcome_refusals_list_the_people_and_record_nothing(
    records: ExperimentRecords, agencies: pd.DataFrame, people
) -> None:
    recorded = drawn(records, agencies)
    outcomes = simulate_outcomes(people, recorded.result, {}, seed=5)
    with pytest.raises(InvalidInput, match=r"baseline cohort: none is recorded"):
        records.load_outcomes(outcomes, source="outcomes.csv", sha256="b" * 64, loaded_by="cli:test")
    scores = oracle_scores(people)
    records.load_baseline(scores.iloc[10:], source="scored.parquet", sha256="a" * 64, loaded_by="cli:test")
    with pytest.raises(InvalidInput, match=r"outcomes.csv: 10 unknown people \(not in the baseline cohort\): '"):
        records.load_outcomes(outcomes, source="outcomes.csv", sha256="b" * 64, loaded_by="cli:test")
    moved = outcomes.iloc[10:].copy()
    moved.iloc[0, moved.columns.get_loc("agency_id")] = "AG001" if moved["agency_id"].iloc[0] != "AG001" else "AG002"
    with pytest.raises(InvalidInput, match="1 people are in another agency than at baseline"):
        records.load_outcomes(moved, source="outcomes.csv", sha256="b" * 64, loaded_by="cli:test")
    assert records.outcomes().empty  # nothing half-loaded
    records.load_outcomes(outcomes.iloc[10:20], source="part1.csv", sha256="c" * 64, loaded_by="cli:test")
    with pytest.raises(Conflict, match="10 people already have a recorded outcome"):
        records.load_outcomes(outcomes.iloc[10:40], source="part2.csv", sha256="d" * 64, loaded_by="cli:test")
    assert len(records.outcomes()) == 10
    with pytest.raises(Conflict, match="already in the baseline cohort"):
        records.load_baseline(scores.iloc[:20], source="again.parquet", sha256="e" * 64, loaded_by="cli:test")
    assert len(records.baseline()) == len(people) - 10


def test_cohort_needs_the_register_and_known_agencies(records: ExperimentRecords, agencies: pd.DataFrame, people):
    scores = oracle_scores(people)
    with pytest.raises(InvalidInput, match="jalon experiment agencies"):
        records.load_baseline(scores, source="scored.parquet", sha256="a" * 64, loaded_by="cli:test")
    records.load_register(agencies.iloc[1:], source="agencies.parquet", loaded_by="cli:test")
    with pytest.raises(InvalidInput, match=r"1 agencies are not in the agency register \(version 1\): 'AG001'"):
        records.load_baseline(scores, source="scored.parquet", sha256="a" * 64, loaded_by="cli:test")
    assert records.baseline().empty


def test_days_worked_only_outcomes_are_kept(records: ExperimentRecords, agencies: pd.DataFrame, people) -> None:
    drawn(records, agencies)
    records.load_baseline(oracle_scores(people), source="scored.parquet", sha256="a" * 64, loaded_by="cli:test")
    frame = pd.DataFrame(
        {
            "person_id": people["person_id"].iloc[:3].astype(str),
            "agency_id": people["agency_id"].iloc[:3].astype(str),
            "observed_on": ["2027-10-01"] * 3,
            "days_worked": ["0", "45", "184"],
        }
    )
    records.load_outcomes(frame, source="days.csv", sha256="f" * 64, loaded_by="cli:test")
    back = records.outcomes()
    assert sorted(back["days_worked"]) == [0, 45, 184]
    assert back["employed_6m"].isna().all()


OUTCOME_ERRORS = [
    ("unknown column", lambda f: f.assign(salary=1), "column 'salary' is not a column of this file"),
    ("no outcome column", lambda f: f.drop(columns=["employed_6m"]), "needs employed_6m"),
    ("no date", lambda f: f.drop(columns=["observed_on"]), "column 'observed_on' is missing"),
    ("bad date", lambda f: f.astype(str).assign(observed_on="01/10/2027"), "row 1: observed_on='01/10/2027'"),
    ("time of day", lambda f: f.assign(observed_on=pd.Timestamp("2027-10-01 14:30")), "must be a date"),
    ("not boolean", lambda f: f.astype(str).assign(employed_6m="yes"), "row 1: employed_6m='yes'"),
    ("duplicate", lambda f: f.assign(person_id=[f["person_id"].iloc[1], *f["person_id"][1:]]), "appears 2 times"),
    ("too many days", lambda f: f.assign(days_worked=200), "row 1: days_worked=200"),
    ("neither", lambda f: f.assign(employed_6m=None, days_worked=None), "both missing"),
]


@pytest.mark.parametrize(("case", "change", "expected"), OUTCOME_ERRORS, ids=[e[0] for e in OUTCOME_ERRORS])
def test_outcome_file_refusals(people, agencies: pd.DataFrame, case: str, change, expected: str) -> None:
    draw = draw_arms(agencies, ARMS, ["region"], 1)
    outcomes = simulate_outcomes(people.head(20), draw, {}, seed=1)
    with pytest.raises(InvalidInput) as caught:
        outcomes_frame(change(outcomes), "outcomes.csv")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_baseline_file_keeps_the_cohort_columns_and_checks_them(people) -> None:
    scores = oracle_scores(people.head(10)).assign(rule_id="x", parcours="EMPLOI")
    assert list(baseline_frame(scores).columns) == ["person_id", "agency_id", "p_employed", "tier", "need"]
    with pytest.raises(InvalidInput, match=r"row 1: p_employed=1\.2"):
        baseline_frame(scores.assign(p_employed=[1.2, *scores["p_employed"][1:]]), "scored.parquet")
    with pytest.raises(InvalidInput, match="row 1: tier='D'"):
        baseline_frame(scores.assign(tier=["D", *scores["tier"][1:]]), "scored.parquet")
