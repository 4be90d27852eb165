"""Bring the registry's champion into the BentoML model store (for serving and `bentoml build`)."""

from __future__ import annotations

import os

from core.config import BENTO_MODEL_NAME, CHAMPION_ALIAS, REGISTERED_MODEL_NAME, Settings
from core.errors import NotFound

MLFLOW_FOLDER = "mlflow_model"


class NoChampion(NotFound):
    """No version of the registered model carries the champion alias."""


def import_champion(settings: Settings, name: str = REGISTERED_MODEL_NAME) -> tuple[str, str]:
    """Import the champion of registered model ``name`` (once per version); return (bento tag, version).

    The BentoML model is named after the registered model, so that each spec's model is served
    with its own request models (read from the spec logged with it).
    """
    os.environ.setdefault("BENTOML_HOME", str(settings.bentoml_home))
    import bentoml
    from mlflow.exceptions import MlflowException

    from models import registry

    client = registry.configure(settings)
    bento_name = BENTO_MODEL_NAME if name == REGISTERED_MODEL_NAME else name
    try:
        version = str(client.get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except MlflowException:
        raise NoChampion(
            f"no '{CHAMPION_ALIAS}' version of {name} in {settings.tracking_uri}: train one with "
            "`jalon train --data FILE --promote` (or promote an existing version with `jalon promote VERSION`)"
        ) from None
    try:
        existing = bentoml.models.list(bento_name)
    except bentoml.exceptions.NotFound:
        existing = []
    for model in existing:
        if (
            model.info.labels.get("registry_version") == version
            and model.info.labels.get("tracking_uri") == settings.tracking_uri
        ):
            return str(model.tag), version
    model = bentoml.mlflow.import_model(
        bento_name,
        f"models:/{name}/{version}",
        labels={"registry_version": version, "tracking_uri": settings.tracking_uri},
        metadata={"registered_model": name, "alias": CHAMPION_ALIAS},
    )
    return str(model.tag), version
