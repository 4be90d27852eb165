"""The MSA experiment's arm drives the service (in process, real model, real store): per arm, what is suggested.

The register is ``synthetic.generate_agencies`` (its ids are those of the synthetic
profiles), two agencies added by hand; the arms come from ``policy.draw.draw_arms``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from features.schema import NEEDS
from policy import AgencyConfig, allocate
from policy.draw import draw_arms, parse_arms
from records import DecisionStore, ExperimentRecords
from serving.arms import NotDeployed
from serving.auth import Principal, Role
from serving.errors import status_of
from serving.logic import Advisory
from serving.ui import report_html
from synthetic import generate_agencies

ADVISOR = Principal(subject="adv-1", role=Role.ADVISOR)
DAY = dt.date(2027, 4, 6)
#: Agencies added by hand « en plus » (outside the draw), and the model each runs.
HAND = {"AG006": "MODEL_2", "AG010": "MODEL_1"}


def register() -> pd.DataFrame:
    frame = generate_agencies(100, seed=1)
    frame["arm_by_hand"] = None
    for agency_id, model in HAND.items():
        frame.loc[frame["agency_id"] == agency_id, ["added_by_hand", "arm_by_hand"]] = [True, model]
    return frame


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DecisionStore]:
    s = DecisionStore(f"sqlite:///{tmp_path / 'decisions.db'}")
    yield s
    s.dispose()


@pytest.fixture
def advisory(model, store: DecisionStore) -> Advisory:
    return Advisory(model, "v-test", store)


def record_draw(store: DecisionStore, seed: int = 2027, replace: bool = False) -> dict[str, str]:
    """Load the register, record a draw; the arm of every agency (HAND_ADDED for the two by hand)."""
    records = ExperimentRecords(store)
    records.load_register(register(), source="agencies.parquet", loaded_by="cli:test")
    version, frame = records.register()  # type: ignore[misc]
    result = draw_arms(frame, parse_arms("MODEL_1=30,MODEL_2=30"), ["region"], seed)
    records.record_draw(
        result,
        register_version=version.version,
        recorded_by="cli:test",
        replace=replace,
        reason="nouveau tirage public" if replace else None,
    )
    return dict(zip(result.assignment["agency_id"], result.assignment["arm"], strict=True))


def in_arm(records: list[dict], arms: dict[str, str], arm: str, count: int = 1) -> list[dict]:
    chosen = [r for r in records if arms.get(r["agency_id"]) == arm][:count]
    assert len(chosen) == count, f"the fixture profiles have too few people in {arm} agencies"
    return chosen


def test_before_any_draw_the_service_works_as_before(advisory: Advisory, records: list[dict]) -> None:
    [s] = advisory.suggest(records[:1], ADVISOR, today=DAY)
    assert s.experiment is None
    assert s.track_proposal is None
    assert s.recommendation is not None
    assert advisory.store.get_suggestion(s.suggestion_id).suggestion == s


def test_model_1_agency_gets_the_model_1_path(advisory: Advisory, records: list[dict]) -> None:
    arms = record_draw(advisory.store)
    [s] = advisory.suggest(in_arm(records, arms, "MODEL_1"), ADVISOR, today=DAY)
    assert s.experiment is not None
    assert (s.experiment.arm, s.experiment.added_by_hand, s.experiment.draw_sequence) == ("MODEL_1", False, 1)
    assert s.experiment.arm_label_fr == "Modèle 1 — segmentation par besoin"
    assert s.recommendation is not None
    assert s.track_proposal is None
    decision = advisory.decide(
        {"suggestion_id": s.suggestion_id, "advisor_id": "adv-1", "action": "confirm"}, ADVISOR, today=DAY
    )
    assert decision.recommendation is not None
    assert decision.milestone_date is not None


def test_model_2_agency_gets_the_track_proposal_of_the_allocation_rules(
    advisory: Advisory, records: list[dict]
) -> None:
    arms = record_draw(advisory.store)
    people = [r for r in records if arms.get(r["agency_id"]) == "MODEL_2"]
    suggestions = advisory.suggest(people, ADVISOR, today=DAY)
    assert len(suggestions) >= 20
    for s in suggestions:
        assert s.experiment is not None
        assert s.experiment.arm == "MODEL_2"
        assert s.recommendation is None  # no model 1 path in a model 2 agency
        proposal = s.track_proposal
        assert proposal is not None
        assert s.employability is not None
        assert proposal.eligible_intensive == (s.need_code != "DIRECT_EMPLOYMENT")
        assert proposal.track == ("INTENSIVE" if proposal.eligible_intensive else "EXTERNAL")
        assert proposal.priority_score == s.employability.probability
        assert NEEDS[s.need_code] in proposal.explanation_fr  # type: ignore[index]
        assert "Retour direct à l'emploi" in proposal.rule_fr
        assert advisory.store.get_suggestion(s.suggestion_id).suggestion == s  # kept and read back as the contract
    assert {s.track_proposal.track for s in suggestions} == {"INTENSIVE", "EXTERNAL"}  # type: ignore[union-attr]
    # The batch allocation, given places for everyone, gives intensive support to exactly the eligible.
    scored = pd.DataFrame(
        {
            "person_id": [s.person_id for s in suggestions],
            "agency_id": [s.agency_id for s in suggestions],
            "need": [s.need_code for s in suggestions],
            "p_employed": [s.employability.probability for s in suggestions],  # type: ignore[union-attr]
        }
    )
    allocation = allocate(scored, AgencyConfig(referents=100), DAY).assignments.set_index("person_id")
    for s in suggestions:
        assert (allocation.loc[s.person_id, "track"] == "INTENSIVE") == s.track_proposal.eligible_intensive  # type: ignore[union-attr]
    # The decision records need and tier, and no model 1 path.
    first = suggestions[0]
    decision = advisory.decide(
        {"suggestion_id": first.suggestion_id, "advisor_id": "adv-1", "action": "confirm"}, ADVISOR, today=DAY
    )
    assert (decision.recommendation, decision.milestone_date) == (None, None)
    page = html.unescape(report_html(advisory.store.get_suggestion(first.suggestion_id), today=DAY))
    assert "Modèle 2 — priorité à l'alliance de travail" in page
    assert "Accompagnement proposé (modèle 2)" in page
    assert first.track_proposal.track_label_fr in page  # type: ignore[union-attr]
    assert "Parcours</dt>" not in page


def test_control_agency_gets_no_suggestion(advisory: Advisory, records: list[dict]) -> None:
    arms = record_draw(advisory.store)
    [person] = in_arm(records, arms, "CONTROL")
    with pytest.raises(NotDeployed) as caught:
        advisory.suggest([person], ADVISOR, today=DAY)
    message = str(caught.value)
    assert f"agency '{person['agency_id']}' is a CONTROL agency of the MSA experiment" in message
    assert "the tool is not deployed in this agency" in message
    assert status_of(caught.value) == 409
    assert advisory.store.suggestions_for_person(person["person_id"]) == []


def test_a_batch_with_one_control_agency_records_nothing(advisory: Advisory, records: list[dict]) -> None:
    arms = record_draw(advisory.store)
    batch = [*in_arm(records, arms, "MODEL_1", 3), *in_arm(records, arms, "CONTROL", 2)]
    with pytest.raises(NotDeployed, match="CONTROL agenc"):
        advisory.suggest(batch, ADVISOR, today=DAY)
    assert all(advisory.store.suggestions_for_person(p["person_id"]) == [] for p in batch)


def test_agency_outside_the_draw_is_refused_once_the_experiment_runs(advisory: Advisory, records: list[dict]) -> None:
    stray = {**records[0], "agency_id": "AG999"}
    assert advisory.suggest([stray], ADVISOR, today=DAY)[0].experiment is None  # before the draw: as today
    record_draw(advisory.store)
    with pytest.raises(NotDeployed, match=r"agency 'AG999' is not in the MSA experiment's draw \(draw 1\)"):
        advisory.suggest([{**records[1], "agency_id": "AG999"}], ADVISOR, today=DAY)


def test_agencies_added_by_hand_run_their_model(advisory: Advisory, records: list[dict]) -> None:
    arms = record_draw(advisory.store)
    assert {a: arms[a] for a in HAND} == dict.fromkeys(HAND, "HAND_ADDED")
    for agency_id, model in HAND.items():
        [s] = advisory.suggest([{**records[0], "agency_id": agency_id}], ADVISOR, today=DAY)
        assert s.experiment is not None
        assert (s.experiment.arm, s.experiment.added_by_hand) == (model, True)
        assert (s.track_proposal is not None) == (model == "MODEL_2")
        page = html.unescape(report_html(advisory.store.get_suggestion(s.suggestion_id), today=DAY))
        assert "Votre agence participe à l'expérimentation" in page


def test_a_replacing_draw_takes_effect_at_once(advisory: Advisory, records: list[dict]) -> None:
    first = record_draw(advisory.store)
    second = record_draw(advisory.store, seed=4, replace=True)
    person = next(
        r for r in records if first.get(r["agency_id"]) == "CONTROL" and second.get(r["agency_id"]) == "MODEL_1"
    )
    [s] = advisory.suggest([person], ADVISOR, today=DAY)
    assert s.experiment is not None
    assert (s.experiment.arm, s.experiment.draw_sequence) == ("MODEL_1", 2)
