"""Reading a staffing file: the packaged example for the synthetic agencies, or an agency's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import ConfigError
from policy._validation import problems_message
from policy.staffing._schema import Staffing

#: The example file for the synthetic agencies, used when ``jalon plan`` is given no ``--staffing``.
PACKAGED_STAFFING = Path(__file__).resolve().parent.parent / "staffing.yaml"


class StaffingError(ConfigError):
    """A staffing file that cannot be used; the message names the file, the field and the rule."""


def _problems(exc: ValidationError, source: str) -> StaffingError:
    return StaffingError(problems_message(exc, source))


def parse_staffing(data: Any, source: str = "staffing") -> Staffing:
    """Validate a mapping into a :class:`Staffing` (errors name the field and the rule)."""
    if not isinstance(data, dict):
        raise StaffingError(f"{source}: must be a mapping (version, working_time, staff, norms…)")
    try:
        return Staffing.model_validate(data)
    except ValidationError as exc:
        raise _problems(exc, source) from None


def load_staffing(path: str | Path | None = None) -> Staffing:
    """Read and validate a staffing file (``.yaml``/``.yml``); ``None`` = the packaged example."""
    path = Path(path) if path is not None else PACKAGED_STAFFING
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise StaffingError(f"{path}: unsupported extension {path.suffix!r}; use .yaml or .yml")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StaffingError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StaffingError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown position"
        raise StaffingError(f"{path}: bad YAML at {where}: {getattr(exc, 'problem', None) or exc}") from exc
    if data is None:
        raise StaffingError(f"{path}: empty staffing file")
    return parse_staffing(data, str(path))
