"""Label bias (off by default): make one group's *recorded* labels worse than its true ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.schema import FIELDS_BY_NAME, NEED_CODES, PROTECTED_COLUMNS, SENSITIVE_COLUMNS
from synthetic._errors import SyntheticInputError

_BIAS_COLUMNS = PROTECTED_COLUMNS + SENSITIVE_COLUMNS
#: The recorded need a biased row may be pushed to.
_BIASED_NEED = NEED_CODES.index("SOCIAL_BARRIERS")


@dataclass(frozen=True)
class LabelBias:
    """Make the *recorded* labels of one group worse than its true ones.

    For rows of the group, a recorded ``employed_6m`` True becomes False with
    probability ``strength``, and the recorded need becomes SOCIAL_BARRIERS with
    probability ``strength / 2``. Truth columns are never changed.

    ``column`` is a protected or sensitive column; ``value`` a code of it (``true`` or
    ``false`` for ``disability_recognition``; an inclusive range ``LO-HI`` for ``age``).
    """

    column: str
    value: str
    strength: float

    def __post_init__(self) -> None:
        _check_bias(self.column, self.value, self.strength)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` that belong to the group."""
        col = frame[self.column]
        if self.column == "age":
            lo, hi = _age_range(self.value)
            ages = col.to_numpy(dtype=np.float64, na_value=np.nan)
            return (ages >= lo) & (ages <= hi)
        if FIELDS_BY_NAME[self.column].kind == "boolean":
            want = self.value.strip().lower() == "true"
            return col.to_numpy(dtype=bool) == want
        return (col.astype(str) == self.value).to_numpy(dtype=bool)

    def apply(
        self, frame: pd.DataFrame, seed: int, need: np.ndarray, employed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The recorded (need code index, employed) of ``frame`` after the bias.

        The bias draws from its own stream, independent of the generator's: without a
        bias (or with strength 0) the population is the same as if the feature did not exist.
        """
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6A61_6C6F]))
        u_emp = rng.random(len(frame))
        u_need = rng.random(len(frame))
        group = self.mask(frame)
        s = float(self.strength)
        employed = employed & ~(group & (u_emp < s))
        need = np.where(group & (u_need < s / 2.0), _BIASED_NEED, need)
        return need, employed


def _age_range(value: str) -> tuple[int, int]:
    try:
        lo_text, hi_text = value.split("-")
        lo, hi = int(lo_text), int(hi_text)
    except ValueError:
        raise SyntheticInputError(f"label bias: age value {value!r} must be an inclusive range like 50-70") from None
    f = FIELDS_BY_NAME["age"]
    assert f.minimum is not None, "age has bounds in the schema"
    assert f.maximum is not None, "age has bounds in the schema"
    if not (f.minimum <= lo <= hi <= f.maximum):
        raise SyntheticInputError(f"label bias: age range {value!r} must lie within {int(f.minimum)}-{int(f.maximum)}")
    return lo, hi


def _check_bias(column: str, value: str, strength: float) -> None:
    if column not in _BIAS_COLUMNS:
        raise SyntheticInputError(f"label bias: unknown column {column!r}; use one of {', '.join(_BIAS_COLUMNS)}")
    f = FIELDS_BY_NAME[column]
    if column == "age":
        _age_range(value)
    elif f.kind == "boolean":
        if value.strip().lower() not in ("true", "false"):
            raise SyntheticInputError(f"label bias: unknown value {value!r} for {column}; use true or false")
    elif value not in (f.codes or ()):
        raise SyntheticInputError(
            f"label bias: unknown code {value!r} for {column}; use one of {', '.join(f.codes or ())}"
        )
    if not isinstance(strength, (int, float)) or not (0.0 <= float(strength) <= 1.0) or strength != strength:
        raise SyntheticInputError(f"label bias: strength {strength!r} must be a number between 0 and 1")


def parse_label_bias(text: str) -> LabelBias:
    """Parse ``COLUMN=VALUE=STRENGTH``, e.g. ``nationality_group=NON_EU=0.5``."""
    parts = [p.strip() for p in str(text).split("=")]
    if len(parts) != 3 or not all(parts):
        raise SyntheticInputError(
            f"label bias {text!r}: expected COLUMN=VALUE=STRENGTH, e.g. nationality_group=NON_EU=0.5"
        )
    column, value, strength_text = parts
    try:
        strength = float(strength_text)
    except ValueError:
        raise SyntheticInputError(
            f"label bias {text!r}: strength {strength_text!r} is not a number between 0 and 1"
        ) from None
    return LabelBias(column, value, strength)
