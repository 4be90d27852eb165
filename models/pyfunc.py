"""MLflow "models from code" wrapper of the composite segmentation model.

Logged with ``python_model=<this file>`` and the fitted :class:`SegmentationModel` as
the artifact ``segmentation`` (joblib). ``predict`` takes profiles (a DataFrame of
profile columns) and returns one row per profile: the suggested need and its
distribution, the calibrated employability probability, the tier and the review flag.
Consumers that need explanations or the estimators (the service, the batch scorer)
call :func:`models.loading.load_segmentation`.
"""

from __future__ import annotations

import joblib
import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

ARTIFACT_KEY = "segmentation"


class SegmentationPyfunc(PythonModel):
    """Pyfunc face of :class:`models.segmentation.SegmentationModel`."""

    def load_context(self, context) -> None:
        self.model = joblib.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.model.predict_frame(frame).reset_index(drop=True)


mlflow.models.set_model(SegmentationPyfunc())
