"""End-to-end training into a real MLflow (SQLite) store, registry and promotion gate."""

from __future__ import annotations

import math
import os

import mlflow
import numpy as np
import pandas as pd
import pytest

from core.config import CHAMPION_ALIAS, REGISTERED_MODEL_NAME, get_settings
from core.errors import InvalidInput
from training import registry

EXPECTED_METRICS = (
    "need_accuracy",
    "need_macro_f1",
    "need_log_loss",
    "need_top2_accuracy",
    "emp_auc",
    "emp_brier",
    "emp_ece",
    "tier_accuracy",
    "bayes_need_accuracy",
    "bayes_need_macro_f1",
    "bayes_need_log_loss",
    "bayes_emp_auc",
    "bayes_emp_brier",
    "baseline_logreg_need_macro_f1",
    "baseline_logreg_emp_auc",
    "baseline_rules_need_macro_f1",
    "baseline_rules_emp_auc",
    "fair_max_missed_support_gap",
    "fair_max_ece_gap",
)


@pytest.fixture
def trained_client(trained_home, monkeypatch):
    monkeypatch.setenv("JALON_HOME", str(trained_home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return registry.configure(get_settings())


def champion_metrics(client) -> dict[str, float]:
    return registry.version_metrics(client, registry.champion_version(client))


def test_metrics_are_logged_and_sane(trained_client) -> None:
    m = champion_metrics(trained_client)
    missing = [k for k in EXPECTED_METRICS if k not in m]
    assert not missing
    assert all(math.isfinite(v) for v in m.values())
    assert 0.5 < m["emp_auc"] <= m["bayes_emp_auc"] + 0.02
    assert m["need_macro_f1"] > m["baseline_rules_need_macro_f1"]
    assert m["need_accuracy"] <= m["bayes_need_accuracy"] + 0.03  # cannot beat the truth by much
    assert m["need_top2_accuracy"] > m["need_accuracy"]
    assert m["emp_ece"] < 0.05


def test_artifacts_and_tags(trained_client) -> None:
    version = registry.champion_version(trained_client)
    mv = trained_client.get_model_version(REGISTERED_MODEL_NAME, version)
    assert {"data_sha256", "git_commit", "spec_sha256", "seed"} <= set(mv.tags)
    artifacts = {a.path for a in trained_client.list_artifacts(mv.run_id)}
    assert {"model_report.html", "model_card.md", "fairness.json"} <= artifacts
    report = mlflow.artifacts.load_text(f"runs:/{mv.run_id}/model_report.html")
    assert "Beeswarm" in report
    assert "data:image/png;base64" in report
    assert "Fairness audit" in report
    card = mlflow.artifacts.load_text(f"runs:/{mv.run_id}/model_card.md")
    assert "Human oversight" in card
    assert "Known limits" in card


def test_champion_reload_gives_identical_predictions(trained_client, model, population) -> None:
    from models.loading import load_segmentation

    reloaded = load_segmentation(f"models:/{REGISTERED_MODEL_NAME}@{CHAMPION_ALIAS}")
    sample = population.tail(300)
    first = reloaded.predict_frame(sample)
    again = load_segmentation(f"models:/{REGISTERED_MODEL_NAME}@{CHAMPION_ALIAS}").predict_frame(sample)
    pd.testing.assert_frame_equal(first, again)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL_NAME}@{CHAMPION_ALIAS}")
    via_pyfunc = pyfunc.predict(registry.signature_frame(sample, reloaded))
    np.testing.assert_allclose(via_pyfunc["p_employed"].to_numpy(), first["p_employed"].to_numpy(), atol=1e-12)
    assert (via_pyfunc["need"].to_numpy() == first["need"].to_numpy()).all()


def test_models_lists_the_champion_alias(trained_client, trained_home, monkeypatch) -> None:
    """`jalon models` shows the alias (MLflow's search_model_versions returns none), so that
    `make run`, which looks for it, reuses an existing champion instead of retraining."""
    from typer.testing import CliRunner

    from jalon.cli import app

    champion = registry.champion_version(trained_client)
    listed = {v.version: v.aliases for v in registry.list_versions(trained_client)}
    assert listed[champion] == [CHAMPION_ALIAS]
    monkeypatch.setenv("JALON_HOME", str(trained_home))
    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert CHAMPION_ALIAS in result.output


def test_gate_refuses_a_worse_model_and_force_records_reason(trained_client) -> None:
    champion = champion_metrics(trained_client)
    worse = {**champion, "need_macro_f1": champion["need_macro_f1"] - 0.05}
    reasons = registry.gate(worse, champion)
    assert any("need_macro_f1" in r for r in reasons)
    fair = {**champion, "fair_max_ece_gap": 0.0, "fair_max_missed_support_gap": 0.0}
    assert registry.gate(fair, fair) == []
    # the gate reads a gap at the low end of its confidence interval
    unfair = {**champion, "fair_max_ece_gap": 0.2, "fair_max_ece_gap_ci_low": 0.15}
    assert any("fair_max_ece_gap" in r for r in registry.gate(unfair, None))


def test_promotion_refused_then_forced(trained_home, population_file, monkeypatch) -> None:
    """A second, deliberately worse version is refused by the gate, then forced with a reason."""
    from training.run import run_training

    monkeypatch.setenv("JALON_HOME", str(trained_home))
    client = registry.configure(get_settings())
    before = registry.champion_version(client)
    # Two trees' worth of data: fit on a tiny slice so the new version is clearly worse.
    small = pd.read_parquet(population_file).head(1500)
    path = trained_home / "small.parquet"
    small.to_parquet(path)
    result = run_training(path, seed=3, n_trials=1)
    with pytest.raises(registry.PromotionRefused) as refused:
        registry.promote(client, result.version)
    assert refused.value.reasons
    assert registry.champion_version(client) == before
    with pytest.raises(InvalidInput, match="--reason"):
        registry.promote(client, result.version, force=True)
    outcome = registry.promote(client, result.version, force=True, reason="demo of the override")
    assert outcome["forced"]
    assert registry.champion_version(client) == result.version
    tags = client.get_model_version(REGISTERED_MODEL_NAME, result.version).tags
    assert tags["forced_promotion_reason"] == "demo of the override"
    registry.promote(client, before, force=True, reason="restore the fixture's champion")


def test_same_data_and_seed_give_the_same_metrics(population) -> None:
    from features.spec import default_spec
    from training.run import evaluate_run
    from training.train import fit_segmentation

    spec = default_spec()
    frame = spec.validate_data(population.head(6000))
    runs = [
        evaluate_run(fit_segmentation(frame, spec, seed=5, n_trials=1), frame, spec, seed=5).metrics for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_tracking_uri_from_environment_is_respected(jalon_home, monkeypatch, tmp_path) -> None:
    uri = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert get_settings().tracking_uri == uri


def test_a_uri_jalon_set_does_not_stick_to_another_home(tmp_path, monkeypatch) -> None:
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; switching JALON_HOME must still switch stores."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("JALON_HOME", str(tmp_path / "one"))
    registry.configure(get_settings())
    assert os.environ["MLFLOW_TRACKING_URI"].endswith("one/mlflow/mlflow.db")  # mlflow's export
    monkeypatch.setenv("JALON_HOME", str(tmp_path / "two"))
    assert get_settings().tracking_uri.endswith("two/mlflow/mlflow.db")
