"""The evaluation end to end: inputs checked, report in French, JSON with the issue's keys, same bytes twice."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

import synthetic
from core.errors import InvalidInput
from core.french import NNBSP
from evaluation import ARM_KEYS, evaluate_experiment, json_path, prepare_people, render_report, write_report
from policy import TRACKS, allocate, parse_agency_config
from policy.draw import draw_arms, load_draw


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("experiment")
    agencies = synthetic.generate_agencies(80, 6)
    people = synthetic.generate_population(8_000, 6, agencies=80, icc=0.03)
    draw_arms(agencies, {"MODEL_1": 12, "MODEL_2": 8}, ["region"], seed=6).to_csv(folder / "draw.csv")
    draw = load_draw(folder / "draw.csv")
    outcomes = synthetic.simulate_outcomes(people, draw, {"MODEL_1": 0.02, "MODEL_2": 0.04}, seed=7)
    baseline = synthetic.oracle_scores(people)
    model_2 = baseline["agency_id"].map(draw.assignment.set_index("agency_id")["arm"]) == "MODEL_2"
    config = parse_agency_config({"referents": 2, "caseload_per_referent": 40, "external_provider_places": 60})
    allocation = allocate(baseline[model_2.to_numpy()].reset_index(drop=True), config, date(2027, 4, 1)).assignments
    return {
        "agencies": agencies,
        "draw": draw,
        "outcomes": outcomes,
        "baseline": baseline,
        "allocation": allocation[["person_id", "track"]].astype({"track": str}),
        "folder": folder,
    }


def evaluate(experiment, **kwargs):
    return evaluate_experiment(
        experiment["outcomes"],
        experiment["baseline"],
        experiment["draw"],
        agencies=experiment["agencies"],
        allocation=experiment["allocation"],
        ri_draws=99,
        ri_seed=1,
        **kwargs,
    )


def test_report_is_french_and_its_json_has_the_keys_per_arm(experiment):
    evaluation = evaluate(experiment)
    html_path, side = write_report(evaluation, experiment["folder"] / "out" / "report.html")
    assert side == json_path(html_path)
    assert side.name == "report.json"
    html = html_path.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert "Effets estimés" in html
    assert "Agences témoins" in html
    assert "Situation d'emploi observée au 1er octobre 2027" in html
    assert f"{NNBSP}%" in html
    assert "NaN" not in html
    assert ">nan<" not in html
    assert "non disponible" not in html
    assert html.count("data:image/png;base64,") == 3
    assert "Accompagnement intensif" in html  # tracks of MODEL_2 named in French
    summary = json.loads(side.read_text(encoding="utf-8"))
    assert set(summary["arms"]) == {"MODEL_1", "MODEL_2"}
    for values in summary["arms"].values():
        assert list(values)[:7] == [
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "p_value_ri",
            "n_agencies",
            "n_people",
        ]
        assert list(values) == list(ARM_KEYS)
        assert values["ci_low"] < values["estimate"] < values["ci_high"]
        assert 0 < values["p_value_ri"] <= 1
    assert summary["arms"]["MODEL_1"]["n_agencies"] == 12
    assert summary["arms"]["MODEL_2"]["n_agencies"] == 8
    assert summary["draw"]["seed"] == 6
    assert summary["method"]["randomisation_inference"]["draws"] == 99
    assert {row["subgroup"] for row in summary["subgroups"]} == {"tier", "need"}


def test_same_inputs_give_the_same_bytes(experiment):
    first = write_report(evaluate(experiment), experiment["folder"] / "a" / "report.html")
    second = write_report(evaluate(experiment), experiment["folder"] / "b" / "report.html")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_observed_expected_by_track_inside_model_2(experiment):
    table = evaluate(experiment).observed_expected
    model_2 = table[table["arm"] == "MODEL_2"]
    assert set(model_2["track"]) - {"ALL"} <= set(TRACKS)
    total = model_2[(model_2["track"] == "ALL") & (model_2["tier"] == "ALL")].iloc[0]
    by_track = model_2[(model_2["track"] != "ALL") & (model_2["tier"] == "ALL")]
    assert by_track["n_people"].sum() == total["n_people"]
    assert np.allclose(table["ratio"], table["observed"] / table["expected"])
    assert set(table[table["arm"] == "CONTROL"]["track"]) == {"ALL"}


def test_careless_inputs_are_refused(experiment):
    outcomes, baseline = experiment["outcomes"], experiment["baseline"]
    with pytest.raises(InvalidInput, match="appears twice in the outcomes"):
        prepare_people(pd.concat([outcomes, outcomes.head(1)]), baseline)
    with pytest.raises(InvalidInput, match="have no baseline score"):
        prepare_people(outcomes, baseline.iloc[10:])
    with pytest.raises(InvalidInput, match="another agency in the baseline"):
        prepare_people(outcomes, baseline.assign(agency_id=np.roll(baseline["agency_id"].to_numpy(), 1)))
    with pytest.raises(InvalidInput, match="employed_6m: values must be true or false"):
        prepare_people(outcomes.assign(employed_6m="peut-être"), baseline)
    with pytest.raises(InvalidInput, match="p_employed"):
        prepare_people(outcomes, baseline.assign(p_employed=1.5))
    people, missing = prepare_people(outcomes.iloc[5:], baseline)
    assert missing == 5
    assert len(people) == len(outcomes) - 5
    control_person = outcomes["person_id"][~outcomes["person_id"].isin(experiment["allocation"]["person_id"])].iloc[0]
    wrong = pd.concat([experiment["allocation"], pd.DataFrame({"person_id": [control_person], "track": ["EXTERNAL"]})])
    with pytest.raises(InvalidInput, match="not in MODEL_2 agencies"):
        evaluate_experiment(outcomes, baseline, experiment["draw"], allocation=wrong, ri_draws=0)


def test_agencies_added_by_hand_are_out_of_the_comparison_and_described_apart(experiment):
    agencies = experiment["agencies"].copy()
    agencies.loc[[3, 7], "added_by_hand"] = True
    draw = draw_arms(agencies, {"MODEL_1": 12, "MODEL_2": 8}, ["region"], seed=6)
    hand = set(draw.metadata()["hand_added"])
    assert len(hand) == 2
    people = experiment["baseline"]
    outcomes = experiment["outcomes"]
    evaluation = evaluate_experiment(outcomes, people, draw, agencies=agencies, ri_draws=19, ri_seed=1)
    in_hand = int(outcomes["agency_id"].isin(hand).sum())
    assert in_hand > 0
    assert evaluation.counts["by_arm"]["HAND_ADDED"] == in_hand
    main = evaluation.main_effects()
    assert (main["n_people"] + main["n_control_people"]).max() < len(outcomes) - in_hand
    described = evaluation.observed_expected[evaluation.observed_expected["arm"] == "HAND_ADDED"]
    total = described[described["tier"] == "ALL"].iloc[0]
    assert total["n_people"] == in_hand
    assert total["observed"] == pytest.approx(outcomes["employed_6m"][outcomes["agency_id"].isin(hand)].mean())
    html = render_report(evaluation)
    assert "2 agences ajoutées hors tirage" in html
    assert ", ".join(sorted(hand)) in html
    assert "Agences ajoutées à la main (hors comparaison)" in html
