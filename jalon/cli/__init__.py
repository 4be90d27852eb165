"""The ``jalon`` command: data, training, registry, serving, scoring and orientation.

Each command is a thin wrapper: the work is done in the packages below the command line,
where it is tested without it. One module per group of commands; :mod:`jalon.cli._common`
turns every user-facing error into one line on stderr.
"""

from __future__ import annotations

import typer

from jalon.cli import batch, data, experiment, models, oversight, plan, serve, ui

app = typer.Typer(
    help="Jalon: explained need and employability suggestions that advisors confirm or override.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(data.data_app, name="data")
app.add_typer(experiment.experiment_app, name="experiment")
app.add_typer(experiment.outcomes_app, name="outcomes")
for group in (models.app, batch.app, plan.app, serve.app, ui.app, oversight.app):
    for info in group.registered_commands:
        app.registered_commands.append(info)
