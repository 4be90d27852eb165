"""Read side of the MLflow model registry: where it is and which version is champion.

Training writes to the registry (``training.registry``); serving and batch scoring only
read the champion, so that part lives in the model layer below both.
"""

from __future__ import annotations

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import CHAMPION_ALIAS, REGISTERED_MODEL_NAME, Settings, remember_tracking_uri


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at Jalon's tracking store (``MLFLOW_TRACKING_URI`` or SQLite under JALON_HOME)."""
    settings.ensure()
    remember_tracking_uri(settings.tracking_uri)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def champion_version(client: MlflowClient, name: str = REGISTERED_MODEL_NAME) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except MlflowException:
        return None
