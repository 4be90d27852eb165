"""Bring the registry's champion into the BentoML model store (for serving and `bentoml build`)."""

from __future__ import annotations

import os

from core.config import BENTO_MODEL_NAME, CHAMPION_ALIAS, REGISTERED_MODEL_NAME, Settings
from core.errors import NotFound

MLFLOW_FOLDER = "mlflow_model"


class NoChampion(NotFound):
    """No version of the registered model carries the champion alias."""


def import_champion(settings: Settings) -> tuple[str, str]:
    """Import the champion (once per version); return (bento model tag, registry version)."""
    os.environ.setdefault("BENTOML_HOME", str(settings.bentoml_home))
    import bentoml
    from mlflow.exceptions import MlflowException

    from models import registry

    client = registry.configure(settings)
    try:
        version = str(client.get_model_version_by_alias(REGISTERED_MODEL_NAME, CHAMPION_ALIAS).version)
    except MlflowException:
        raise NoChampion(
            f"no '{CHAMPION_ALIAS}' version of {REGISTERED_MODEL_NAME} in {settings.tracking_uri}: train one with "
            "`jalon train --data FILE --promote` (or promote an existing version with `jalon promote VERSION`)"
        ) from None
    try:
        existing = bentoml.models.list(BENTO_MODEL_NAME)
    except bentoml.exceptions.NotFound:
        existing = []
    for model in existing:
        if (
            model.info.labels.get("registry_version") == version
            and model.info.labels.get("tracking_uri") == settings.tracking_uri
        ):
            return str(model.tag), version
    model = bentoml.mlflow.import_model(
        BENTO_MODEL_NAME,
        f"models:/{REGISTERED_MODEL_NAME}/{version}",
        labels={"registry_version": version, "tracking_uri": settings.tracking_uri},
        metadata={"registered_model": REGISTERED_MODEL_NAME, "alias": CHAMPION_ALIAS},
    )
    return str(model.tag), version
