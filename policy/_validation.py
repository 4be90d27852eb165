"""What the catalogue and the agency configuration share to validate a file and name its faults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """A file's structure: unknown fields are refused, values are frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def format_location(loc: tuple) -> str:
    """``("rules", 3, "when")`` → ``rules[3].when``, as a person finds it in the file."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(exc: ValidationError) -> list[tuple[tuple, str]]:
    """(location, message) for each error of ``exc``, in plain words rather than pydantic's."""
    problems = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing field"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        problems.append((tuple(err["loc"]), msg))
    return problems


def problems_message(exc: ValidationError, source: str) -> str:
    """``source: field: rule`` for one problem, or every problem on its own line."""
    lines = []
    for loc, msg in validation_problems(exc):
        where = format_location(loc)
        lines.append(f"{where}: {msg}" if where else msg)
    if len(lines) == 1:
        return f"{source}: {lines[0]}"
    return f"{source}: {len(lines)} problems:\n  - " + "\n  - ".join(lines)
