"""MLflow registry: log the composite model, list versions, promote through a gate.

One registered model per spec (:attr:`features.spec.TrainingSpec.registered_model_name`;
the reference profile's is ``jalon-segmentation``). A version moves to the ``champion``
alias only if it was audited (or a reason for not auditing is recorded), its fairness gaps
are within bounds, its inputs are those of the current champion (versions trained on other
inputs are not compared), and it is not worse than the champion on ``need_macro_f1`` and
``emp_auc`` (within a small tolerance); ``force`` with a reason overrides the gate, and the
reason is recorded on the version.

The logged model carries the project code it imports (``core``, ``features``, ``models``),
pinned requirements, and a signature true to the spec: integers are ``long``, numbers
``double``, categories ``string``, booleans ``boolean``; an input that training saw
missing is optional and typed ``any`` (MLflow cannot hold a missing value in an integer
or boolean column), and the model itself checks its type, codes and range.
"""

from __future__ import annotations

import importlib.metadata
import json
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
from mlflow.types.schema import AnyType, ColSpec, Schema, TensorSpec

from core.config import CHAMPION_ALIAS, PROJECT_ROOT, REGISTERED_MODEL_NAME, Settings
from core.errors import InvalidInput, NotFound, Refused
from core.thresholds import GATE_FAIRNESS_BOUNDS, GATE_TOLERANCE, GATED_METRICS
from models.loading import PYFUNC_PATH
from models.pyfunc import ARTIFACT_KEY
from models.registry import champion_version, configure

__all__ = ["champion_version", "configure"]  # re-exported: the training side reaches the store through here
from models.segmentation import SegmentationModel

#: What the logged model imports, pinned to the versions it was trained with.
_RUNTIME_PACKAGES = (
    "scikit-learn",
    "lightgbm",
    "pandas",
    "numpy",
    "pyarrow",
    "mlflow-skinny",
    "pydantic",
    "pandera",
    "pyyaml",
    "joblib",
)
#: The project packages the model's pickled classes and checks live in (logged with it).
CODE_PACKAGES = ("core", "features", "models")
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
#: Makes MLflow 3's UI open the experiment on its runs (classic training), not on traces.
EXPERIMENT_KIND = "custom_model_development"


class PromotionRefused(Refused):
    """The gate refused a promotion; ``reasons`` says why."""

    def __init__(self, version: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"version {version} not promoted: " + "; ".join(reasons))


def ensure_experiment(client: MlflowClient, name: str, settings: Settings) -> str:
    """The experiment's id, created with an explicit artifact location under JALON_HOME."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        location = (settings.artifact_root / name).resolve()
        location.mkdir(parents=True, exist_ok=True)
        experiment_id = client.create_experiment(name, artifact_location=location.as_uri())
    else:
        experiment_id = experiment.experiment_id
    if experiment is None or experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return experiment_id


def _mlflow_type(kind: str | None) -> str:
    return {"categorical": "string", "string": "string", "boolean": "boolean", "integer": "long"}.get(
        kind or "string", "double"
    )


def model_signature(model: SegmentationModel) -> ModelSignature:
    """Inputs as the spec declares them (see the module docstring); outputs are the scores."""
    inputs: list[ColSpec | TensorSpec] = []
    for c in model.spec.inputs:
        if c.name in model.inputs_seen_missing:
            inputs.append(ColSpec(AnyType(), c.name, required=False))
        else:
            inputs.append(ColSpec(_mlflow_type(c.type), c.name))
    outputs: list[ColSpec | TensorSpec] = []
    if model.has_need:
        outputs.append(ColSpec("string", "need"))
        outputs += [ColSpec("double", f"need_proba_{c}") for c in model.need_classes]
    if model.has_employability:
        outputs += [ColSpec("double", "p_employed"), ColSpec("string", "tier")]
    outputs.append(ColSpec("boolean", "needs_review"))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def signature_frame(frame: pd.DataFrame, model: SegmentationModel) -> pd.DataFrame:
    """Model inputs in the signature's plain numpy types (an input example, or a caller's frame)."""
    out = {}
    for c in model.spec.inputs:
        column = frame[c.name]
        optional = c.name in model.inputs_seen_missing
        if c.type == "boolean":
            out[c.name] = column.astype(object).where(column.notna(), None) if optional else column.astype(bool)
        elif c.type == "integer" and not optional:
            out[c.name] = column.astype("int64")
        elif c.type in ("numeric", "integer"):
            out[c.name] = column.astype("Float64").to_numpy(dtype=float, na_value=float("nan"))
        else:
            out[c.name] = column.astype(object).where(column.notna(), None)
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
    """Log the pyfunc (with its code) in the active run and register it under the spec's name."""
    name = model.spec.registered_model_name
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "segmentation.joblib"
        joblib.dump(model, artifact)
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(model.spec.model_dump_json(indent=2), encoding="utf-8")
        missing_file = Path(tmp) / "inputs_seen_missing.json"
        missing_file.write_text(json.dumps(model.inputs_seen_missing), encoding="utf-8")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_PATH),
            artifacts={ARTIFACT_KEY: str(artifact), "spec": str(spec_file), "inputs_seen_missing": str(missing_file)},
            code_paths=[str(PROJECT_ROOT / package) for package in CODE_PACKAGES],
            signature=model_signature(model),
            input_example=signature_frame(example, model),
            pip_requirements=_requirements(),
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value))
    return version


@dataclass
class VersionSummary:
    name: str
    version: str
    aliases: list[str]
    created: str
    run_id: str
    metrics: dict[str, float]
    tags: dict[str, str]


def version_metrics(client: MlflowClient, version: str, name: str = REGISTERED_MODEL_NAME) -> dict[str, float]:
    mv = client.get_model_version(name, version)
    return dict(client.get_run(str(mv.run_id)).data.metrics)


def registered_names(client: MlflowClient) -> list[str]:
    """Every registered model in the store, by name."""
    return sorted(m.name for m in client.search_registered_models())


def list_versions(client: MlflowClient, name: str | None = None) -> list[VersionSummary]:
    """Versions of ``name`` (default: of every registered model), newest first, with their aliases."""
    names = [name] if name else registered_names(client)
    out = []
    for model_name in names:
        try:
            versions = client.search_model_versions(f"name='{model_name}'")
            registered = client.get_registered_model(model_name)
        except MlflowException:
            continue
        # search_model_versions returns versions with empty ``aliases`` (MLflow 3); the registered
        # model itself has them, as {alias: version}.
        aliases: dict[str, list[str]] = {}
        for alias, number in registered.aliases.items():
            aliases.setdefault(str(number), []).append(alias)
        for mv in sorted(versions, key=lambda v: int(v.version), reverse=True):
            created = datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
            out.append(
                VersionSummary(
                    name=model_name,
                    version=str(mv.version),
                    aliases=sorted(aliases.get(str(mv.version), [])),
                    created=created,
                    run_id=str(mv.run_id),
                    metrics=dict(client.get_run(str(mv.run_id)).data.metrics),
                    tags=dict(mv.tags or {}),
                )
            )
    return out


def _bound_value(candidate: dict[str, float], key: str) -> float | None:
    """A fairness gap as the gate reads it: the lower end of its interval when there is one."""
    return candidate.get(f"{key}_ci_low", candidate.get(key))


def gate(
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    tolerance: float = GATE_TOLERANCE,
    *,
    candidate_tags: dict[str, str] | None = None,
    champion_tags: dict[str, str] | None = None,
    no_audit_reason: str | None = None,
) -> list[str]:
    """Reasons to refuse the candidate (empty: it may be promoted)."""
    reasons = []
    if candidate.get("fair_audited") == 0.0 and not (no_audit_reason and no_audit_reason.strip()):
        reasons.append(
            "the version was not audited (its spec declares no protected, sensitive or audit column); "
            "declare the columns to audit, or give --no-audit-reason (recorded on the version)"
        )
    for key, bound in GATE_FAIRNESS_BOUNDS.items():
        value = _bound_value(candidate, key)
        if value is not None and value > bound:
            reasons.append(f"{key}={value:.3f} exceeds the fairness bound {bound}")
    if champion is None:
        return reasons
    mine = (candidate_tags or {}).get("input_signature")
    theirs = (champion_tags or {}).get("input_signature")
    if mine != theirs:
        reasons.append(
            f"its inputs (signature {mine or 'unknown'}) differ from the champion's ({theirs or 'unknown'}): "
            "versions trained on different inputs are not compared; promote with --force --reason if intended"
        )
        return reasons
    for key in GATED_METRICS:
        if key in candidate and key in champion and candidate[key] < champion[key] - tolerance:
            reasons.append(
                f"{key}={candidate[key]:.4f} is worse than the champion's {champion[key]:.4f} (tolerance {tolerance})"
            )
    return reasons


def promote(
    client: MlflowClient,
    version: str,
    force: bool = False,
    reason: str | None = None,
    tolerance: float = GATE_TOLERANCE,
    *,
    name: str = REGISTERED_MODEL_NAME,
    no_audit_reason: str | None = None,
) -> dict[str, Any]:
    """Move ``champion`` of ``name`` to ``version`` if the gate allows it (or if forced, with a reason)."""
    version = resolve_version(client, version, name)
    if force and not (reason and reason.strip()):
        raise InvalidInput("--force needs --reason: the override of the gate is recorded on the version")
    current = champion_version(client, name)
    if current == version:
        return {"name": name, "version": version, "previous": current, "forced": False, "reasons": []}
    reasons = gate(
        version_metrics(client, version, name),
        version_metrics(client, current, name) if current else None,
        tolerance,
        candidate_tags=dict(client.get_model_version(name, version).tags),
        champion_tags=dict(client.get_model_version(name, current).tags) if current else None,
        no_audit_reason=no_audit_reason,
    )
    if reasons and not force:
        raise PromotionRefused(version, reasons)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, version, "promoted_at", stamp)
    if no_audit_reason and no_audit_reason.strip():
        client.set_model_version_tag(name, version, "no_audit_reason", no_audit_reason.strip())
    if reasons:
        client.set_model_version_tag(name, version, "forced_promotion_reason", reason.strip())  # type: ignore[union-attr]
        client.set_model_version_tag(name, version, "gate_refusals", "; ".join(reasons))
    return {"name": name, "version": version, "previous": current, "forced": bool(reasons), "reasons": reasons}


def resolve_version(client: MlflowClient, version: str, name: str = REGISTERED_MODEL_NAME) -> str:
    """A version number, or ``latest`` for the newest version of ``name``."""
    if version == "latest":
        versions = list_versions(client, name)
        if not versions:
            raise NotFound(f"no version of {name} is registered: run `jalon train` first")
        return versions[0].version
    try:
        client.get_model_version(name, version)
    except MlflowException as exc:
        raise NotFound(f"{name} has no version {version}") from exc
    return version
