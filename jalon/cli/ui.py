"""``jalon ui``: MLflow's own UI on the project's tracking store (runs, reports, registry)."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated

import typer

from jalon.cli._common import command, err

app = typer.Typer()


@command(app)
def ui(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
) -> None:
    """Open MLflow's UI on Jalon's tracking store and artifacts (JALON_HOME or MLFLOW_TRACKING_URI)."""
    from core.config import get_settings

    settings = get_settings().ensure()
    command_line = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        settings.tracking_uri,
        "--default-artifact-root",
        settings.artifact_root.resolve().as_uri(),
        "--host",
        host,
        "--port",
        str(port),
    ]
    err.log(f"MLflow UI on {settings.tracking_uri}: http://{host}:{port} (experiment jalon-segmentation, Models tab)")
    raise typer.Exit(subprocess.call(command_line))
