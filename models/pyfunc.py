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
    """Pyfunc face of :class:`models.segmentation.SegmentationModel`.

    Inputs are checked as the API checks a profile (types, codes, ranges, missing values
    only where training saw them): a bad frame is refused with one message naming each
    column and rule, never scored. The project code the model needs (``core``,
    ``features``, ``models``) is logged with it, so it loads where Jalon is not installed.
    """

    def load_context(self, context) -> None:
        self.model = joblib.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        from core.errors import InvalidInput

        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        try:
            typed = self.model.validate_inputs(frame.reset_index(drop=True))
            return self.model.predict_frame(typed).reset_index(drop=True)
        except InvalidInput as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(SegmentationPyfunc())
