"""``python -m jalon.cli``: the same as the ``jalon`` command."""

from jalon.cli import app

app()
