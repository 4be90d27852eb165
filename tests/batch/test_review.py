"""Milestone review: exactly the planted need / tier changes, milestone filter, missing people."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from batch.proposal import PROPOSAL_COLUMNS
from batch.review import CHANGE_COLUMNS, ReviewInputError, review, write_review
from features.io import read_table, write_table
from features.validation import DataValidationError
from models.suggestion import ModelSuggestion
from records import DecisionStore
from serving.auth import Principal, Role
from serving.logic import Advisory
from tests.conftest import to_record

ADVISOR = Principal(subject="adv-1", role=Role.ADVISOR)
DECIDED = date(2025, 1, 6)  # milestones between Feb 2025 and Jan 2027
DECIDED_LATE = date(2031, 1, 6)  # milestones after Feb 2031: never due below
AS_OF = date(2027, 6, 30)
DUE, LATE = 50, 10
PLANTED = 8

#: Profile edits that move a person's need or tier (each checked with the model before use).
EDITS: tuple[dict, ...] = (
    {"housing": "NONE", "health_limitation": "SEVERE", "financial_difficulty": True},
    {"months_worked_24m": 0, "registration_months": 60, "health_limitation": "SEVERE"},
    {"months_worked_24m": 24, "housing": "STABLE", "health_limitation": "NONE", "registration_months": 1},
    {"business_creation_interest": True, "project_clarity": 4},
)


def kind(before: ModelSuggestion, after: ModelSuggestion) -> str | None:
    need = before.need_code != after.need_code
    tier = before.tier != after.tier
    return "both" if need and tier else "need" if need else "tier" if tier else None


@pytest.fixture(scope="module")
def world(population: pd.DataFrame, model, tmp_path_factory: pytest.TempPathFactory):
    """A store with decisions for 60 people and a data file with planted changes."""
    tmp = tmp_path_factory.mktemp("review")
    store = DecisionStore(f"sqlite:///{tmp / 'decisions.db'}")
    advisory = Advisory(model, "v1", store)
    people = [to_record(row) for _, row in population.iloc[1000 : 1000 + DUE + LATE].iterrows()]
    due, late = people[:DUE], people[DUE:]
    suggestions = {}
    for group, day in ((due, DECIDED), (late, DECIDED_LATE)):
        for result in advisory.suggest(group, ADVISOR, today=day):
            suggestions[result.person_id] = result
            advisory.decide(
                {"suggestion_id": result.suggestion_id, "advisor_id": "adv-1", "action": "confirm"}, ADVISOR, today=day
            )

    # Plant changes: the first edit that moves need or tier, verified with the model itself.
    current = {r["person_id"]: dict(r) for r in people}
    planted: dict[str, str] = {}
    edited_fields: dict[str, set[str]] = {}
    for i, record in enumerate(due[5:]):
        if len(planted) == PLANTED:
            break
        for edit in EDITS[i % len(EDITS) :] + EDITS[: i % len(EDITS)]:  # vary the edits
            changed = {**record, **edit}
            after = model.suggest_records([changed], explain=False)[0]
            k = kind(suggestions[record["person_id"]], after)
            if k is not None:
                current[record["person_id"]] = changed
                planted[record["person_id"]] = k
                edited_fields[record["person_id"]] = {f for f in edit if record.get(f) != edit[f]}
                break
    assert len(planted) == PLANTED
    # People not yet due also change a lot: they must not be reported.
    for record in late:
        current[record["person_id"]] = {**record, **EDITS[0]}
    # Three due people are absent from the file; strangers are present.
    missing = [r["person_id"] for r in due[:3]]
    rows = [current[pid] for pid in current if pid not in missing]
    strangers = [to_record(row) for _, row in population.iloc[5000:5040].iterrows()]
    frame = pd.DataFrame(rows + strangers)
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # order must not matter
    data = write_table(
        frame.astype({"project_clarity": "Int64", "job_search_autonomy": "Int64", "digital_autonomy": "Int64"}),
        tmp / "current.parquet",
    )
    yield {
        "store": store,
        "data": data,
        "planted": planted,
        "edited": edited_fields,
        "missing": missing,
        "due": due,
        "late": late,
        "frame": frame,
        "tmp": tmp,
        "suggestions": suggestions,
    }
    store.dispose()


def test_review_finds_exactly_the_planted_changes(world, model) -> None:
    result = review(world["data"], world["store"], model, AS_OF, model_version="v2")
    changes = result.changes
    assert list(changes.columns) == [*CHANGE_COLUMNS, *PROPOSAL_COLUMNS]
    assert dict(zip(changes["person_id"], changes["changed"], strict=True)) == world["planted"]
    assert result.counts == {
        "due": DUE,
        "rescored": DUE - 3,
        "changed": PLANTED,
        "unchanged": DUE - 3 - PLANTED,
        "missing": 3,
    }
    assert set(result.missing["person_id"]) == set(world["missing"])
    assert set(result.rescored["person_id"]).isdisjoint({r["person_id"] for r in world["late"]})
    for row in changes.itertuples(index=False):
        suggested = world["suggestions"][row.person_id]
        assert row.recorded_action == "confirm"
        assert (row.recorded_need, row.recorded_tier) == (suggested.need_code, suggested.tier)
        assert row.model_version_then == "v1"
        assert row.model_version_now == "v2"
        assert row.milestone_date <= AS_OF
        # What moved names at least one edited field, in French, with old and new values when known.
        moved = set(row.moved_fields.split(";"))
        assert moved & world["edited"][row.person_id], (row.person_id, moved, world["edited"][row.person_id])
        assert row.moved_factors.startswith("Contributions ")
        assert "avant → maintenant" in row.moved_factors
        entries = json.loads(row.moved_factors_json)
        for entry in entries:
            if entry["value_changed"] and entry["field"] in world["edited"][row.person_id]:
                assert entry["old_display"] in row.moved_factors
                assert "→" in row.moved_factors


def test_the_new_path_is_proposed_for_everyone_who_moved(world, model) -> None:
    """Model 1's recommendation for the new need and tier, with the current barriers, from the review date,
    exactly as ``policy.recommend`` gives it to the service; the modality change against the recorded path."""
    from policy import recommend

    result = review(world["data"], world["store"], model, AS_OF)
    changes = result.changes
    assert len(changes) == PLANTED
    current = world["frame"].set_index("person_id")
    changed_modality = 0
    for row in changes.itertuples(index=False):
        profile = current.loc[row.person_id].to_dict()
        expected = recommend(row.new_need, row.new_tier, profile, AS_OF)
        assert row.proposed_rule_id == expected.rule_id
        assert row.proposed_modality == expected.modality
        assert row.proposed_parcours == expected.parcours
        assert row.proposed_duration_months == expected.duration_months
        assert row.proposed_milestone_date == expected.milestone_date
        assert row.proposed_offers == ";".join(o.id for o in expected.offers)
        recorded = world["suggestions"][row.person_id].recommendation
        assert row.recorded_modality == recorded.modality
        if recorded.modality == expected.modality:
            assert row.modality_change == ""
            assert "(inchangée)" in row.proposal_fr
        else:
            changed_modality += 1
            assert row.modality_change == f"{recorded.modality} → {expected.modality}"
            assert "avant\u202f:" in row.proposal_fr
        assert row.proposal_fr.startswith("Nouveau parcours proposé pour le besoin «\u00a0")
        assert "Le conseiller décide" in row.proposal_fr
    summary = result.summary()
    assert summary["new_path_proposed"] == PLANTED
    assert summary["modality_changes"] == changed_modality


def test_changed_values_are_shown_with_the_stored_value(world, model) -> None:
    """A stored factor whose value changed is listed as « ancien → nouveau »."""
    result = review(world["data"], world["store"], model, AS_OF)
    shown = 0
    for row in result.changes.itertuples(index=False):
        stored = world["suggestions"][row.person_id].explanations
        stored_fields = {f.field: f for part in (stored.need, stored.employability) for f in part.factors}
        for entry in json.loads(row.moved_factors_json):
            if entry["field"] in stored_fields and entry["field"] in world["edited"][row.person_id]:
                assert entry["value_changed"]
                assert entry["old_value"] == stored_fields[entry["field"]].value
                assert f"{entry['old_display']} → {entry['new_display']}" in row.moved_factors
                shown += 1
    assert shown > 0


def test_milestone_filter(world, model) -> None:
    store = world["store"]
    before_any = review(world["data"], store, model, date(2025, 1, 31))
    assert before_any.counts["due"] == 0
    assert len(before_any.changes) == 0
    assert len(before_any.missing) == 0
    milestones = {s.person_id: d.milestone_date for s, d in store.latest_decisions()}
    cut = sorted(milestones[r["person_id"]] for r in world["due"])[DUE // 2]
    partial = review(world["data"], store, model, cut)
    expected_due = {r["person_id"] for r in world["due"] if milestones[r["person_id"]] <= cut}
    assert partial.counts["due"] == len(expected_due)
    assert set(partial.changes["person_id"]) == {p for p in world["planted"] if p in expected_due}
    assert set(partial.missing["person_id"]) == {p for p in world["missing"] if p in expected_due}
    everything = review(world["data"], store, model, date(2032, 12, 31))
    assert everything.counts["due"] == DUE + LATE
    assert set(everything.changes["person_id"]) >= set(world["planted"])


def test_an_override_still_differing_from_the_model_is_reported(
    population: pd.DataFrame, model, tmp_path: Path
) -> None:
    store = DecisionStore(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        advisory = Advisory(model, "v1", store)
        record = to_record(population.iloc[3000])
        result = advisory.suggest([record], ADVISOR, today=DECIDED)[0]
        other = "TRAINING" if result.need_code != "TRAINING" else "SEARCH_SKILLS"
        advisory.decide(
            {
                "suggestion_id": result.suggestion_id,
                "advisor_id": "adv-1",
                "action": "override",
                "need": other,
                "reason": "projet de formation confirmé en entretien",
            },
            ADVISOR,
            today=DECIDED,
        )
        data = write_table(pd.DataFrame([record]), tmp_path / "now.csv")
        out = review(data, store, model, AS_OF)
    finally:
        store.dispose()
    assert out.counts["changed"] == 1
    row = out.changes.iloc[0]
    assert row["recorded_action"] == "override"
    assert row["recorded_need"] == other
    assert row["suggested_need_then"] == row["new_need"] == result.need_code
    assert row["changed"] == "need"


def test_bad_rows_of_due_people_are_named_others_ignored(world, model, tmp_path: Path) -> None:
    frame = world["frame"].copy()
    frame["age"] = frame["age"].astype(object)
    due_ids = {r["person_id"] for r in world["due"]}
    stranger = frame.index[~frame["person_id"].isin(due_ids | {r["person_id"] for r in world["late"]})][0]
    frame.loc[stranger, "age"] = 999  # not due: not even validated
    ok = write_table(frame, tmp_path / "ok.csv")
    assert review(ok, world["store"], model, AS_OF).counts["changed"] == PLANTED
    due_row = frame.index[frame["person_id"].isin(due_ids)][4]
    frame.loc[due_row, "age"] = 999
    bad = write_table(frame, tmp_path / "bad.csv")
    with pytest.raises(DataValidationError) as info:
        review(bad, world["store"], model, AS_OF)
    assert info.value.messages[0].startswith(f"row {due_row + 1}: age=")


def test_duplicate_due_person_is_refused(world, model, tmp_path: Path) -> None:
    frame = world["frame"]
    pid = world["due"][10]["person_id"]
    doubled = pd.concat([frame, frame[frame["person_id"] == pid]], ignore_index=True)
    path = write_table(doubled, tmp_path / "dup.parquet")
    with pytest.raises(ReviewInputError, match=pid):
        review(path, world["store"], model, AS_OF)


def test_write_review(world, model, tmp_path: Path) -> None:
    result = review(world["data"], world["store"], model, AS_OF)
    written = write_review(result, tmp_path / "review.csv")
    assert [p.name for p in written] == ["review.csv", "review.missing.csv", "review.summary.json"]
    back = read_table(tmp_path / "review.csv")
    assert sorted(back["person_id"]) == sorted(world["planted"])
    summary = json.loads((tmp_path / "review.summary.json").read_text())
    assert summary["changed"] == PLANTED
    assert summary["missing"] == 3
    assert sum(summary["changed_by_kind"].values()) == PLANTED
