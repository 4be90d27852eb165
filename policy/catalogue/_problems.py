"""Catalogue errors that name the file and the entry, even in a merged agency catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from core.errors import ConfigError
from policy._validation import format_location

#: The sections of a catalogue file holding lists of entries with an id.
SECTIONS = ("offers", "rules", "complements")


class CatalogueError(ConfigError):
    """A catalogue file that cannot be used. ``problems`` lists (entry, message) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


class Origins:
    """Where each entry of the (possibly merged) catalogue came from, for messages."""

    def __init__(self, main_file: Path):
        self.main_file = main_file
        self.labels: dict[str, list[tuple[str, str]]] = {s: [] for s in SECTIONS}

    def entry(self, loc: tuple) -> tuple[str, str]:
        if len(loc) >= 2 and loc[0] in self.labels and isinstance(loc[1], int) and loc[1] < len(self.labels[loc[0]]):
            label, note = self.labels[loc[0]][loc[1]]
            rest = format_location(loc[2:])
            return label + ("." + rest if rest and not rest.startswith("[") else rest), note
        return f"{self.main_file}: {format_location(loc) or '(top level)'}", ""


def raise_problems(problems: list[tuple[str, str]], source: Path) -> NoReturn:
    lines = [f"{entry}: {msg}" for entry, msg in problems]
    if len(lines) == 1:
        raise CatalogueError(f"invalid catalogue {lines[0]}", problems)
    raise CatalogueError(f"invalid catalogue {source} ({len(lines)} problems):\n  - " + "\n  - ".join(lines), problems)
