"""One training run, end to end: data → fit → evaluate → audit → report → register.

This is what ``jalon train`` runs. Every figure is computed on the test split, which
neither the search, early stopping nor calibration has seen.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas

from core.config import DEFAULT_EXPERIMENT, PROJECT_ROOT, get_settings
from features.io import file_format, read_table
from features.spec import TrainingSpec, load_spec
from models.segmentation import TierBands
from training import baselines, evaluate, registry, report, review_policy, variants
from training.evaluate import Evaluation
from training.fairness import run_audit
from training.train import FittedModels, fit_segmentation

Progress = Callable[[str], None]


@dataclass
class RunResult:
    run_id: str
    version: str
    metrics: dict[str, float]
    findings: list[str]
    seconds: float
    promotion: dict[str, Any] | None = None
    model_name: str = ""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_training_data(path: str | Path, spec: TrainingSpec) -> pd.DataFrame:
    """Read and validate a dataset against its spec (every problem reported at once)."""
    return spec.validate_data(read_table(path), source=str(path), typed_file=file_format(path) == "parquet")


def _labels(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[np.ndarray | None, np.ndarray | None]:
    y_need = frame[spec.need_label.name].astype(str).to_numpy() if spec.need_label else None
    y_emp = spec.outcome(frame) if spec.employment_label else None
    return y_need, y_emp


def evaluate_run(
    fitted: FittedModels,
    frame: pd.DataFrame,
    spec: TrainingSpec,
    seed: int,
    progress: Progress | None = None,
    *,
    audit: bool = True,
    with_baselines: bool = True,
) -> Evaluation:
    """Model, baselines and Bayes figures on the test split, and the fairness audit."""
    model = fitted.model
    train = frame.iloc[fitted.split.train]
    test = frame.iloc[fitted.split.test]
    y_need, y_emp = _labels(test, spec)
    y_need_tr, y_emp_tr = _labels(train, spec)
    scores = model.score(model.encode_frame(test))
    metrics: dict[str, float] = {}
    classes = model.need_classes
    if scores.need_proba is not None and y_need is not None:
        metrics.update(evaluate.need_metrics(y_need, scores.need_proba, classes))
    if scores.p_employed is not None and y_emp is not None:
        metrics.update(evaluate.employment_metrics(y_emp, scores.p_employed))
    truth_need = _truth_need(test, spec, classes)
    truth_emp = test[spec.truth_employment].to_numpy(dtype=float) if spec.truth_employment in test else None
    if truth_emp is not None and scores.p_employed is not None:
        metrics["tier_accuracy"] = evaluate.tier_accuracy(scores.p_employed, truth_emp, model.tier_bands)
    metrics.update(
        evaluate.bayes_metrics(
            y_need if truth_need is not None else None,
            truth_need,
            classes,
            y_emp if truth_emp is not None else None,
            truth_emp,
        )
    )
    figures = (
        _baselines(
            spec, train, test, y_need_tr, y_emp_tr, y_need, y_emp, classes, model.tier_bands, truth_emp, seed, progress
        )
        if with_baselines
        else {}
    )
    for name, values in figures.items():
        metrics.update({f"baseline_{name}_{k}": v for k, v in values.items()})
    if not audit:
        return Evaluation(metrics=metrics, audit=None, test=test, scores=scores, baseline_figures=figures)
    if progress:
        progress("fairness audit (bootstrap confidence intervals)")
    need_pred = np.asarray(classes)[scores.need_index] if scores.need_proba is not None else None
    result = run_audit(
        test,
        spec,
        y_need=y_need,
        need_pred=need_pred,
        y_emp=y_emp,
        p_emp=scores.p_employed,
        tier=scores.tier,
        truth_emp=truth_emp,
        truth_tier=None if truth_emp is None else model.tier_bands.tier(truth_emp),
        seed=seed,
    )
    metrics.update(result.metrics)
    return Evaluation(metrics=metrics, audit=result, test=test, scores=scores, baseline_figures=figures)


def _truth_need(test: pd.DataFrame, spec: TrainingSpec, classes: list[str]) -> np.ndarray | None:
    columns = {name.removeprefix("true_p_"): name for name in spec.truth_need if name in test}
    if not classes or set(columns) != set(classes):
        return None
    return test[[columns[c] for c in classes]].to_numpy(dtype=float)


def _baselines(
    spec, train, test, y_need_tr, y_emp_tr, y_need, y_emp, classes, bands, truth_emp, seed, progress
) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {"logreg": {}}
    if progress:
        progress("baseline: logistic regression")
    if y_need is not None:
        pipe = baselines.fit_logreg(spec, train, y_need_tr, seed)
        proba = baselines.logreg_proba(pipe, spec, test)
        order = [list(pipe.classes_).index(c) for c in classes]
        figures["logreg"].update(evaluate.need_metrics(y_need, proba[:, order], classes, prefix="need_"))
    if y_emp is not None:
        pipe = baselines.fit_logreg(spec, train, y_emp_tr, seed)
        p = baselines.logreg_proba(pipe, spec, test)[:, 1]
        figures["logreg"].update(evaluate.employment_metrics(y_emp, p))
        if truth_emp is not None:
            figures["logreg"]["tier_accuracy"] = evaluate.tier_accuracy(p, truth_emp, bands)
    if baselines.rules_available(train) and (y_need is None or set(classes) <= set(baselines.NEED_CODES)):
        if progress:
            progress("baseline: rule-based orientation")
        rules = baselines.RulesBaseline().fit(train, y_need_tr, y_emp_tr)
        figures["rules"] = {}
        if y_need is not None:
            proba = rules.need_proba(test)
            order = [rules.classes_.index(c) for c in classes]
            figures["rules"].update(evaluate.need_metrics(y_need, proba[:, order], classes))
        if y_emp is not None:
            p = rules.employment_proba(test)
            figures["rules"].update(evaluate.employment_metrics(y_emp, p))
            if truth_emp is not None:
                figures["rules"]["tier_accuracy"] = evaluate.tier_accuracy(p, truth_emp, bands)
    return figures


def run_name(spec: TrainingSpec, seed: int, variant: str | None = None) -> str:
    """A readable run name: spec, variant, seed and time (``jtrain98-seed0-20261201-1432``)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return "-".join([spec.name, *([variant] if variant else []), f"seed{seed}", stamp])


def _log_datasets(frame: pd.DataFrame, fitted: FittedModels, spec: TrainingSpec, source: str) -> None:
    """The data file's splits as MLflow dataset inputs (source, digest, schema)."""
    targets = spec.employment_label.name if spec.employment_label else spec.need_label.name  # type: ignore[union-attr]
    for context, rows in (
        ("training", fitted.split.train),
        ("validation", fitted.split.validation),
        ("test", fitted.split.test),
    ):
        part = _plain_frame(frame.iloc[rows])
        dataset = from_pandas(part, source=source, name=f"{spec.name}-{context}", targets=targets)
        mlflow.log_input(dataset, context=context)


def _plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable pandas columns as plain numpy ones (MLflow infers dataset schemas from those)."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.BooleanDtype) or isinstance(column.dtype, pd.Int64Dtype):
            out[name] = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out[name] = column.astype(object).where(column.notna(), None)
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index)


def _log_search(fitted: FittedModels, experiment_id: str) -> None:
    """Each search candidate as a nested run: its parameters, trees and validation log loss."""
    for model_name, result in fitted.searches.items():
        for i, trial in enumerate(result.trials, start=1):
            with mlflow.start_run(run_name=f"{model_name}-candidate-{i}", nested=True, experiment_id=experiment_id):
                mlflow.log_params({k: v for k, v in trial.items() if k != "validation_log_loss"})
                mlflow.log_metric("validation_log_loss", trial["validation_log_loss"])
                mlflow.set_tag("chosen", str(trial["validation_log_loss"] == result.validation_score).lower())


def run_training(
    data: str | Path,
    spec_path: str | Path | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    seed: int = 0,
    n_trials: int = 3,
    tier_bands: TierBands | None = None,
    promote: bool = False,
    progress: Progress | None = None,
    *,
    without_sensitive: bool = False,
    compare_variants: bool = True,
) -> RunResult:
    """Train, evaluate, audit, report and register one model version, all inside one MLflow run.

    ``without_sensitive``: sensitive columns are audited but not used as inputs (the agency's
    switch; the version is registered under its own name). ``compare_variants``: when the
    spec has sensitive inputs, also fit the other variant and put the comparison in the report.
    """
    started = time.perf_counter()
    settings = get_settings()
    client = registry.configure(settings)
    declared = load_spec(spec_path)
    spec = declared.without_sensitive() if without_sensitive else declared
    experiment_id = registry.ensure_experiment(client, experiment, settings)
    variant = "without-sensitive" if without_sensitive else None
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name(spec, seed, variant)) as run:
        if progress:
            progress(f"reading and validating {data}")
        frame = load_training_data(data, spec)
        tags = {
            "data_sha256": file_sha256(data),
            "git_commit": git_commit(),
            "spec_sha256": spec.digest(),
            "spec_name": spec.name,
            "input_signature": spec.input_signature(),
            "registered_model": spec.registered_model_name,
            "synthetic": str(spec.is_synthetic).lower(),
            "sensitive_inputs": "excluded" if without_sensitive else ("used" if spec.sensitive else "none"),
            "seed": str(seed),
            "data_file": Path(data).name,
            "data_source": spec.source or str(Path(data).resolve()),
        }
        mlflow.set_tags(tags)
        fitted = fit_segmentation(frame, spec, seed=seed, n_trials=n_trials, tier_bands=tier_bands, progress=progress)
        _log_datasets(frame, fitted, spec, str(Path(data).resolve()))
        _log_search(fitted, experiment_id)
        evaluation = evaluate_run(fitted, frame, spec, seed, progress)
        fatigue = review_policy.measure(fitted.model, evaluation, spec)
        evaluation.metrics.update(fatigue.metrics())
        comparison = None
        if compare_variants and declared.sensitive:
            if progress:
                switched = "used" if without_sensitive else "excluded"
                progress(f"comparing with the other variant (sensitive inputs {switched})")
            other_spec = declared if without_sensitive else declared.without_sensitive()
            other_fit = fit_segmentation(frame, other_spec, seed=seed, n_trials=n_trials, tier_bands=tier_bands)
            other = evaluate_run(other_fit, frame, other_spec, seed, audit=False)
            comparison = variants.compare(
                declared,
                fitted.model.need_classes,
                this=evaluation,
                other=other,
                this_without_sensitive=without_sensitive,
            )
            mlflow.log_dict(comparison.to_dict(), "variants.json")
        mlflow.log_params(_params(fitted, spec, len(frame), seed, n_trials))
        mlflow.log_metrics(evaluation.metrics)
        if progress:
            progress("writing the model report and model card")
        extras = {"review_policy": fatigue, "variants": comparison}
        with tempfile.TemporaryDirectory() as tmp:
            for path in report.write_reports(fitted.model, evaluation, fitted, tags, Path(tmp), extras):
                mlflow.log_artifact(str(path))
        if evaluation.audit is not None:
            mlflow.log_dict(evaluation.audit.to_dict(), "fairness.json")
        mlflow.log_dict({k: v.__dict__ for k, v in fitted.searches.items()}, "search.json")
        if progress:
            progress(f"registering the model as {spec.registered_model_name}")
        example = frame.iloc[fitted.split.test[:5]]
        version = registry.log_and_register(fitted.model, example, tags, client)
    promotion = registry.promote(client, version, name=spec.registered_model_name) if promote else None
    return RunResult(
        run_id=run.info.run_id,
        version=version,
        metrics=evaluation.metrics,
        findings=evaluation.audit.findings if evaluation.audit else [],
        seconds=time.perf_counter() - started,
        promotion=promotion,
        model_name=spec.registered_model_name,
    )


def _params(fitted: FittedModels, spec: TrainingSpec, rows: int, seed: int, n_trials: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "rows": rows,
        "seed": seed,
        "n_trials": n_trials,
        "spec": spec.name,
        "train_rows": len(fitted.split.train),
        "validation_rows": len(fitted.split.validation),
        "test_rows": len(fitted.split.test),
        "tier_band_A": fitted.model.tier_bands.a,
        "tier_band_B": fitted.model.tier_bands.b,
    }
    for name, result in fitted.searches.items():
        params.update({f"{name}_{k}": v for k, v in result.params.items()})
        params[f"{name}_best_iteration"] = result.best_iteration
    if fitted.model.calibrator is not None:
        params["employability_calibration"] = fitted.model.calibrator.method_
    return params
