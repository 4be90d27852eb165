"""MLflow registry: log the composite model, list versions, promote through a gate.

One registered model, ``jalon-segmentation``. A version moves to the ``champion`` alias
only if it is not worse than the current champion on ``need_macro_f1`` and ``emp_auc``
(within a small tolerance) and its fairness gaps are within bounds; ``force`` with a
reason overrides the gate, and the reason is recorded on the version.
"""

from __future__ import annotations

import importlib.metadata
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import ColSpec, Schema

from core.config import CHAMPION_ALIAS, REGISTERED_MODEL_NAME, Settings
from core.errors import InvalidInput, NotFound, Refused
from core.thresholds import GATE_FAIRNESS_BOUNDS, GATE_TOLERANCE, GATED_METRICS
from models.loading import PYFUNC_PATH
from models.pyfunc import ARTIFACT_KEY
from models.registry import champion_version, configure  # noqa: F401  (callers use training.registry.configure)
from models.segmentation import SegmentationModel

_RUNTIME_PACKAGES = (
    "scikit-learn",
    "lightgbm",
    "pandas",
    "numpy",
    "pyarrow",
    "mlflow",
    "shap",
    "pydantic",
    "pyyaml",
    "joblib",
)


class PromotionRefused(Refused):
    """The gate refused a promotion; ``reasons`` says why."""

    def __init__(self, version: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"version {version} not promoted: " + "; ".join(reasons))


def ensure_experiment(client: MlflowClient, name: str, settings: Settings) -> str:
    """The experiment's id, created with an explicit artifact location under JALON_HOME."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = (settings.artifact_root / name).resolve()
    location.mkdir(parents=True, exist_ok=True)
    return client.create_experiment(name, artifact_location=location.as_uri())


def _mlflow_type(kind: str | None) -> str:
    return {"categorical": "string", "string": "string", "boolean": "boolean"}.get(kind or "string", "double")


def model_signature(model: SegmentationModel) -> ModelSignature:
    """Inputs are the model's inputs (missing answers allowed); outputs are the scores."""
    spec = model.spec
    inputs = [ColSpec(_mlflow_type(c.type), c.name, required=not c.nullable) for c in spec.inputs]
    outputs = []
    if model.has_need:
        outputs.append(ColSpec("string", "need"))
        outputs += [ColSpec("double", f"need_proba_{c}") for c in model.need_classes]
    if model.has_employability:
        outputs += [ColSpec("double", "p_employed"), ColSpec("string", "tier")]
    outputs.append(ColSpec("boolean", "needs_review"))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def signature_frame(frame: pd.DataFrame, model: SegmentationModel) -> pd.DataFrame:
    """Model inputs in the signature's plain types (nullable integers as floats)."""
    out = {}
    for c in model.spec.inputs:
        column = frame[c.name]
        if c.type == "boolean":
            out[c.name] = column.astype(bool) if column.notna().all() else column.astype(object)
        elif c.type in ("numeric", "integer"):
            out[c.name] = column.astype("Float64").to_numpy(dtype=float, na_value=float("nan"))
        else:
            out[c.name] = column.astype(object)
    return pd.DataFrame(out).reset_index(drop=True)


def _requirements() -> list[str]:
    reqs = []
    for package in _RUNTIME_PACKAGES:
        try:
            reqs.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return reqs


def log_and_register(
    model: SegmentationModel, example: pd.DataFrame, tags: dict[str, str], client: MlflowClient
) -> str:
    """Log the pyfunc in the active run and register it; return the new version number."""
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "segmentation.joblib"
        joblib.dump(model, artifact)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_PATH),
            artifacts={ARTIFACT_KEY: str(artifact)},
            signature=model_signature(model),
            input_example=signature_frame(example, model),
            pip_requirements=_requirements(),
            registered_model_name=REGISTERED_MODEL_NAME,
        )
    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(REGISTERED_MODEL_NAME, version, key, str(value))
    return version


@dataclass
class VersionSummary:
    version: str
    aliases: list[str]
    created: str
    run_id: str
    metrics: dict[str, float]
    tags: dict[str, str]


def version_metrics(client: MlflowClient, version: str) -> dict[str, float]:
    mv = client.get_model_version(REGISTERED_MODEL_NAME, version)
    return dict(client.get_run(mv.run_id).data.metrics)


def list_versions(client: MlflowClient) -> list[VersionSummary]:
    try:
        versions = client.search_model_versions(f"name='{REGISTERED_MODEL_NAME}'")
    except MlflowException:
        return []
    # search_model_versions returns versions with empty ``aliases`` (MLflow 3); the registered
    # model itself has them, as {alias: version}.
    aliases: dict[str, list[str]] = {}
    for alias, number in client.get_registered_model(REGISTERED_MODEL_NAME).aliases.items():
        aliases.setdefault(str(number), []).append(alias)
    out = []
    for mv in sorted(versions, key=lambda v: int(v.version), reverse=True):
        created = datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        out.append(
            VersionSummary(
                version=str(mv.version),
                aliases=sorted(aliases.get(str(mv.version), [])),
                created=created,
                run_id=mv.run_id,
                metrics=dict(client.get_run(mv.run_id).data.metrics),
                tags=dict(mv.tags or {}),
            )
        )
    return out


def gate(
    candidate: dict[str, float], champion: dict[str, float] | None, tolerance: float = GATE_TOLERANCE
) -> list[str]:
    """Reasons to refuse the candidate (empty: it may be promoted)."""
    reasons = []
    for key, bound in GATE_FAIRNESS_BOUNDS.items():
        if key in candidate and candidate[key] > bound:
            reasons.append(f"{key}={candidate[key]:.3f} exceeds the fairness bound {bound}")
    if champion is not None:
        for key in GATED_METRICS:
            if key in candidate and key in champion and candidate[key] < champion[key] - tolerance:
                reasons.append(
                    f"{key}={candidate[key]:.4f} is worse than the champion's {champion[key]:.4f} "
                    f"(tolerance {tolerance})"
                )
    return reasons


def promote(
    client: MlflowClient,
    version: str,
    force: bool = False,
    reason: str | None = None,
    tolerance: float = GATE_TOLERANCE,
) -> dict[str, Any]:
    """Move ``champion`` to ``version`` if the gate allows it (or if forced, with a reason)."""
    version = resolve_version(client, version)
    if force and not (reason and reason.strip()):
        raise InvalidInput("--force needs --reason: the override of the gate is recorded on the version")
    current = champion_version(client)
    if current == version:
        return {"version": version, "previous": current, "forced": False, "reasons": []}
    reasons = gate(version_metrics(client, version), version_metrics(client, current) if current else None, tolerance)
    if reasons and not force:
        raise PromotionRefused(version, reasons)
    client.set_registered_model_alias(REGISTERED_MODEL_NAME, CHAMPION_ALIAS, version)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(REGISTERED_MODEL_NAME, version, "promoted_at", stamp)
    if reasons:
        client.set_model_version_tag(REGISTERED_MODEL_NAME, version, "forced_promotion_reason", reason.strip())
        client.set_model_version_tag(REGISTERED_MODEL_NAME, version, "gate_refusals", "; ".join(reasons))
    return {"version": version, "previous": current, "forced": bool(reasons), "reasons": reasons}


def resolve_version(client: MlflowClient, version: str) -> str:
    """A version number, or ``latest`` for the newest version."""
    if version == "latest":
        versions = list_versions(client)
        if not versions:
            raise NotFound(f"no version of {REGISTERED_MODEL_NAME} is registered: run `jalon train` first")
        return versions[0].version
    try:
        client.get_model_version(REGISTERED_MODEL_NAME, version)
    except MlflowException as exc:
        raise NotFound(f"{REGISTERED_MODEL_NAME} has no version {version}") from exc
    return version
