"""The ``jalon`` command: data, training, registry, serving, scoring and orientation.

Each command is a thin wrapper: the work is done in the packages below the command line,
where it is tested without it. One module per group of commands; :mod:`jalon.cli._common`
turns every user-facing error into one line on stderr.
"""

from __future__ import annotations

import typer

from jalon.cli import batch, data, models, oversight, serve

app = typer.Typer(
    help="Jalon: explained need and employability suggestions that advisors confirm or override.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(data.data_app, name="data")
for group in (models.app, batch.app, serve.app, oversight.app):
    for info in group.registered_commands:
        app.registered_commands.append(info)
