"""The generator's one error: a request it cannot honour (bad row count, bad label bias, bad frame)."""

from __future__ import annotations

from core.errors import InvalidInput


class SyntheticInputError(InvalidInput, ValueError):
    """An argument or frame given to the generator breaks a rule; the message names it.

    It is an :class:`~core.errors.InvalidInput` (boundaries catch ``JalonError``). It is
    also a ``ValueError`` only because callers written before ``core.errors`` existed
    catch that (``jalon data synth``, the tests); drop that base once they catch
    ``JalonError``.
    """
