"""Any dataset trains through a spec; bad specs are refused; the audit names a biased group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from features.spec import SpecError, load_spec
from features.validation import DataValidationError
from synthetic import generate_population, parse_label_bias
from training.run import evaluate_run
from training.train import fit_segmentation

EXTRACT_SPEC = {
    "name": "agency-extract",
    "columns": [
        {"name": "client_ref", "role": "id"},
        {"name": "gender", "role": "protected", "type": "categorical"},
        {"name": "months_out_of_work", "role": "feature", "type": "integer", "minimum": 0, "maximum": 600},
        {"name": "region", "role": "feature", "type": "categorical", "categories": ["N", "S", "E", "W"]},
        {"name": "has_car", "role": "feature", "type": "boolean"},
        {"name": "skill_score", "role": "feature", "type": "numeric"},
        {"name": "found_job", "role": "employment_label"},
    ],
}


def _extract(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = rng.integers(0, 120, n)
    skill = rng.normal(size=n)
    car = rng.random(n) < 0.6
    region = rng.choice(["N", "S", "E", "W"], n)
    logit = 0.8 * skill - 0.02 * months + 0.7 * car + (region == "S") * 0.5
    return pd.DataFrame(
        {
            "client_ref": [f"C{i:06d}" for i in range(n)],
            "gender": rng.choice(["f", "m"], n),
            "months_out_of_work": months,
            "region": region,
            "has_car": car,
            "skill_score": skill,
            "found_job": rng.random(n) < 1 / (1 + np.exp(-logit)),
        }
    )


def _write_spec(tmp_path, spec: dict):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_other_columns_and_only_an_employment_label(tmp_path) -> None:
    spec = load_spec(_write_spec(tmp_path, EXTRACT_SPEC))
    frame = spec.validate_data(_extract())
    fitted = fit_segmentation(frame, spec, seed=0, n_trials=1)
    assert fitted.model.need_pipeline is None
    assert fitted.model.has_employability
    evaluation = evaluate_run(fitted, frame, spec, seed=0)
    m = evaluation.metrics
    assert m["emp_auc"] > 0.7
    assert "need_accuracy" not in m
    assert "baseline_logreg_emp_auc" in m
    assert "baseline_rules_emp_auc" not in m  # the rules need the reference profile
    assert "gender" in evaluation.audit.tables
    out = fitted.model.suggest_records([{"months_out_of_work": 3, "region": "S", "has_car": True, "skill_score": 1.0}])[
        0
    ]
    assert out.need is None
    assert out.employability.tier in "ABC"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": [{"name": "x", "role": "feature"}]}, "needs a type"),
        ({"columns": [{"name": "x", "role": "wizard", "type": "numeric"}]}, "role"),
        ({"columns": [{"name": "x", "role": "feature", "type": "numeric"}]}, "no label"),
    ],
)
def test_bad_specs_are_refused_clearly(tmp_path, change, message) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(_write_spec(tmp_path, {"name": "bad", **change}))


def test_data_that_contradicts_the_spec_is_refused(tmp_path) -> None:
    spec = load_spec(_write_spec(tmp_path, EXTRACT_SPEC))
    data = _extract(50)
    data.loc[7, "region"] = "Mars"
    data = data.drop(columns=["skill_score"])
    with pytest.raises(DataValidationError) as caught:
        spec.validate_data(data)
    assert "column 'skill_score' is missing" in str(caught.value)
    assert "row 8: region='Mars' must be one of N, S, E, W" in str(caught.value)


def test_audit_names_the_group_whose_labels_are_biased() -> None:
    from features.spec import default_spec

    spec = default_spec()
    biased = generate_population(30_000, seed=11, label_bias=parse_label_bias("nationality_group=NON_EU=0.5"))
    frame = spec.validate_data(biased)
    evaluation = evaluate_run(fit_segmentation(frame, spec, seed=0, n_trials=1), frame, spec, seed=0)
    audit = evaluation.audit
    worst = audit.worst
    # The biased group is named by the labels-against-truth check...
    assert (worst["label_truth"]["column"], worst["label_truth"]["group"]) == ("nationality_group", "NON_EU")
    assert worst["label_truth"]["gap"] < -0.1
    assert any(f.startswith("nationality_group=NON_EU: recorded employment rate") for f in audit.findings)
    # ...and calibration breaks along nationality: the biased group and, through shared proxies
    # such as French proficiency, the other non-French group can be the worst calibrated.
    assert worst["calibration"]["column"] == "nationality_group"
    table = audit.tables["nationality_group"]
    assert table.loc["NON_EU", "ece"] > 3 * table.loc["FR", "ece"]
    assert table.loc["NON_EU", "employment_rate"] < table.loc["NON_EU", "true_mean_probability"] - 0.1
