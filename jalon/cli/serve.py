"""``jalon serve`` and ``jalon token``: the service and its credentials."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from core.config import DEFAULT_WORKERS, REGISTERED_MODEL_NAME
from jalon.cli._common import command, err, fail, out

app = typer.Typer()


@command(app)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server worker processes (one per core; each loads the model, about 330 MiB).")
    ] = DEFAULT_WORKERS,
    model: Annotated[
        str,
        typer.Option(help="Registered model whose champion is served (one per spec; request models follow its spec)."),
    ] = REGISTERED_MODEL_NAME,
) -> None:
    """Serve the champion model with BentoML (imported from the MLflow registry first)."""
    import subprocess

    from core.config import PROJECT_ROOT, get_settings
    from serving.bento_model import NoChampion, import_champion

    settings = get_settings().ensure()
    try:
        tag, version = import_champion(settings, model)
    except NoChampion as exc:
        fail(str(exc), code=1)
    env = {
        **os.environ,
        "BENTOML_HOME": str(settings.bentoml_home),
        "JALON_BENTO_MODEL": tag,
        "JALON_HOME": str(settings.home),
        "JALON_WORKERS": str(workers),
    }
    err.log(f"serving {tag} (registry version {version}) on http://{host}:{port} — advisor page at /ui/")
    command = [sys.executable, "-m", "bentoml", "serve", "serving.service:Jalon", "--host", host, "--port", str(port)]
    raise typer.Exit(subprocess.call(command, cwd=PROJECT_ROOT, env=env))


@command(app)
def token(
    subject: Annotated[str, typer.Argument(help="Pseudonymous id of the advisor, auditor or admin.")],
    role: Annotated[str, typer.Option(help="advisor, auditor or admin.")] = "advisor",
) -> None:
    """Create a bearer token; only its hash is stored (in JALON_TOKENS_FILE). The token is printed once."""
    from core.config import get_settings
    from serving.auth import TokenError, issue_token

    settings = get_settings().ensure()
    try:
        value = issue_token(settings.tokens_file, subject, role)
    except TokenError as exc:
        fail(str(exc))
    out.print(value, highlight=False)
