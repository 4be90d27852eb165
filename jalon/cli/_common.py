"""What every ``jalon`` command shares: the consoles, the one-line failure, the error guard.

Every command is registered through :func:`command`, which catches :class:`~core.errors.JalonError`
(bad input, a refused operation, something not found) and prints its message as one line on
stderr with exit status 2. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape

from core.errors import JalonError, Refused


class _Console(Console):
    """A console whose width follows ``COLUMNS`` at each print when it is set (rich reads it once,
    when the console is made; the command line is imported long before it runs, e.g. in tests)."""

    @property
    def size(self) -> ConsoleDimensions:
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            return ConsoleDimensions(int(columns), super().size.height)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


err = _Console(stderr=True)
out = _Console()

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit ``code`` (no traceback)."""
    line = " ".join(str(message).split())
    err.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def guarded(fn: F) -> F:
    """Run a command; a user-facing error becomes one line on stderr (exit 1 if refused, else 2)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except JalonError as exc:
            fail(str(exc), code=1 if isinstance(exc, Refused) else 2)

    return wrapper  # type: ignore[return-value]


def command(app: typer.Typer, name: str | None = None) -> Callable[[F], F]:
    """``@command(app)``: register a guarded command on ``app``."""

    def register(fn: F) -> F:
        app.command(name)(guarded(fn))
        return fn

    return register


def progress(message: str) -> None:
    err.log(message)


def parse_date(text: str | None, option: str) -> date | None:
    """An ISO date given on the command line (None stays None); a clear error names the option."""
    return None if text is None else required_date(text, option)


def required_date(text: str, option: str) -> date:
    """An ISO date given on the command line; a clear error names the option."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option}: {text!r} is not a date; expected YYYY-MM-DD")


def resolve_database_url(db_url: str | None) -> tuple[str, str | None]:
    """The decisions database's URL (``--db-url``, else the settings') and the SQLite file it
    names (None for another backend or an in-memory database); one line for a URL that is not one."""
    from sqlalchemy.engine import make_url

    from core.config import get_settings

    url = db_url or get_settings().db_url
    try:
        parsed = make_url(url)
    except Exception:
        fail(f"--db-url: {url!r} is not a database URL")
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return url, None
    return url, database


def existing_database_url(db_url: str | None) -> str:
    """:func:`resolve_database_url` of a database that must already exist (its SQLite file, at least)."""
    url, database = resolve_database_url(db_url)
    if database is not None and not os.path.isfile(database):
        fail(f"no decisions database at {database}")
    return url
