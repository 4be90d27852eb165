"""What the served model takes: its spec decides the suggestion requests and the advisor page's form.

A model trained on the reference profile takes the profile schema (:data:`features.api_models.Profile`).
A model trained on another spec (a data scientist's own extract) takes the columns of that spec,
with its codes, ranges and French labels; an input may be left out only if training saw it
missing. The spec and the inputs seen missing travel with the model (MLflow artifacts imported
into the BentoML store with it).
"""

from __future__ import annotations

import json

import bentoml
from pydantic import BaseModel

from features.api_models import fields_from_spec, profile_model
from features.spec import PROFILE_SPEC_NAME, TrainingSpec
from serving.schemas import SuggestBatchIn, SuggestIn, suggestion_requests
from serving.ui import use_form_fields

__all__ = ["served_request_models", "served_spec"]


def served_spec(tag: str) -> tuple[TrainingSpec | None, list[str]]:
    """The spec logged with the served model and the inputs training saw missing
    (None for models logged before specs travelled with them)."""
    try:
        folder = bentoml.models.get(tag).path_of("mlflow_model/artifacts")
        with open(f"{folder}/spec.json", encoding="utf-8") as handle:
            spec = TrainingSpec.model_validate_json(handle.read())
        with open(f"{folder}/inputs_seen_missing.json", encoding="utf-8") as handle:
            return spec, list(json.load(handle))
    except (OSError, bentoml.exceptions.NotFound):
        return None, []


def served_request_models(tag: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The request models of ``/suggest`` and ``/suggest_batch`` for the model ``tag``; for a
    model of another spec than the reference profile, the advisor page's form follows it too."""
    spec, seen_missing = served_spec(tag)
    if spec is None or spec.name == PROFILE_SPEC_NAME:
        return SuggestIn, SuggestBatchIn
    fields = fields_from_spec(spec, seen_missing)
    label = spec.employment_label
    use_form_fields(fields, label.outcome_fr() if label is not None else None)
    return suggestion_requests(profile_model(fields))
