"""The generator's one error: a request it cannot honour (bad row count, bad label bias, bad frame)."""

from __future__ import annotations

from core.errors import InvalidInput


class SyntheticInputError(InvalidInput):
    """An argument or frame given to the generator breaks a rule; the message names it."""
