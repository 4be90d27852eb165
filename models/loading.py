"""Load the fitted segmentation model out of an MLflow model (registry URI or local folder)."""

from __future__ import annotations

from pathlib import Path

import mlflow

from core.errors import InvalidInput
from models.segmentation import SegmentationModel

PYFUNC_PATH = Path(__file__).with_name("pyfunc.py")


def load_segmentation(model_uri_or_path: str | Path) -> SegmentationModel:
    """The SegmentationModel inside a logged pyfunc (``models:/name@alias`` or a local path)."""
    loaded = mlflow.pyfunc.load_model(str(model_uri_or_path))
    model = loaded.unwrap_python_model().model
    if not isinstance(model, SegmentationModel):
        raise InvalidInput(f"{model_uri_or_path} does not hold a Jalon segmentation model")
    return model
