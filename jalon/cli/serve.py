"""``jalon serve`` and ``jalon token``: the service and its credentials."""

from __future__ import annotations

import errno
import os
import socket
import sys
from typing import Annotated

import typer

from core.config import DEFAULT_WORKERS, REGISTERED_MODEL_NAME
from jalon.cli._common import command, err, fail, out

app = typer.Typer()


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None: it can). Bound as the server binds
    (address reuse on), so a port still in TIME_WAIT is free and one being listened on is not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another server?): stop it or choose --port"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


@command(app)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 3000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server worker processes (one per core; each loads the model, about 330 MiB).")
    ] = DEFAULT_WORKERS,
    model: Annotated[
        str,
        typer.Option(help="Registered model whose champion is served (one per spec; request models follow its spec)."),
    ] = REGISTERED_MODEL_NAME,
) -> None:
    """Serve the champion model with BentoML (imported from the MLflow registry first).

    The command then *becomes* the server (exec): SIGTERM or SIGINT to its process id stops
    BentoML and all its workers, and frees the port.
    """
    from core.config import PROJECT_ROOT, get_settings
    from serving.bento_model import NoChampion, import_champion
    from serving.tokens import TokenRegistry

    settings = get_settings().ensure()
    problem = port_problem(host, port)
    if problem is not None:
        fail(problem, code=1)
    registry = TokenRegistry(settings.tokens_file)
    if registry.problem is not None:
        fail(f"tokens unusable: {registry.problem}")
    if len(registry) == 0:
        err.log("no token yet: create one with `jalon token SUBJECT --role advisor` (servers pick it up live)")
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
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(PROJECT_ROOT)
    argv = [sys.executable, "-m", "bentoml", "serve", "serving.service:Jalon", "--host", host, "--port", str(port)]
    os.execve(sys.executable, argv, env)  # no return: this process is now the server


@command(app)
def token(
    subject: Annotated[
        str | None, typer.Argument(help="Pseudonymous id of the advisor, auditor, admin or metrics scraper.")
    ] = None,
    role: Annotated[str, typer.Option(help="advisor, auditor, admin or metrics (a Prometheus scrape token).")] = (
        "advisor"
    ),
    revoke: Annotated[
        str | None, typer.Option(help="Revoke SUBJECT's token (running servers refuse it within seconds).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List subjects, roles and creation times (never tokens).")] = (
        False
    ),
) -> None:
    """Create (or rotate) a bearer token, revoke one, or list them. Only hashes are stored (JALON_TOKENS_FILE).

    A new token is printed once. Running servers re-read the file: a rotated or revoked token
    stops working within a few seconds, without a restart.
    """
    from core.config import get_settings
    from serving.tokens import issue_token, list_tokens, revoke_token

    chosen = sum((subject is not None, revoke is not None, list_))
    if chosen != 1:
        fail("give exactly one of: SUBJECT (create or rotate), --revoke SUBJECT, --list")
    settings = get_settings().ensure()
    path = settings.tokens_file
    if list_:
        entries = list_tokens(path)
        if not entries:
            out.print(f"no token in {path}", highlight=False)
        for entry in entries:  # tab-separated, for scripts (rich would expand the tabs)
            typer.echo(f"{entry.subject}\t{entry.role.value}\t{entry.created_at or 'unknown'}")
        return
    if revoke is not None:
        revoke_token(path, revoke)
        err.log(f"revoked the token of {revoke}; running servers refuse it within a few seconds")
        return
    assert subject is not None
    out.print(issue_token(path, subject, role), highlight=False)
