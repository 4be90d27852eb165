"""The files of the MSA experiment, checked before anything is recorded: agency register, baseline, outcomes.

Each function takes a table as read from its file (:func:`features.io.read_table`: CSV cells
are text, Parquet keeps its types) and returns it typed and normalised, or raises
:class:`~core.errors.InvalidInput` with one line naming the file, the row, the field and
the rule broken (``agencies.csv: 2 problem(s): row 3: size='big' must be an integer
between 0 and 1000000; column 'budget' is not a register column ...``). Nothing is coerced
silently: ``"12"`` is an integer, ``"12.5"`` is not.

The register normalised here is what the draw hashes, whether it comes from the file or
back from the store, so that both give the same ``input_sha256``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from core.errors import InvalidInput
from core.text import ID_PATTERN
from features.schema import NEED_CODES, TIER_CODES
from features.validation import ColumnRule, DataValidationError, validate_frame
from policy.draw import ARMS

__all__ = [
    "BASELINE_COLUMNS",
    "COVARIATE_COLUMNS",
    "MAX_DAYS_WORKED",
    "OUTCOME_COLUMNS",
    "REGISTER_COLUMNS",
    "baseline_frame",
    "one_line",
    "outcomes_frame",
    "register_frame",
]

#: Problems shown on the one line of an error (the count says how many there are in all).
SHOWN_PROBLEMS = 3
MAX_AGENCY_SIZE = 1_000_000
#: Days in six months, rounded up: the most days a person can work within six months.
MAX_DAYS_WORKED = 184
COVARIATE_COLUMNS: tuple[str, ...] = ("share_long_term_unemployed", "share_rsa", "baseline_employment_rate")
REGISTER_RULES: tuple[ColumnRule, ...] = (
    ColumnRule("agency_id", "string"),
    ColumnRule("name", "string"),
    ColumnRule("region", "string"),
    ColumnRule("size", "integer", minimum=0, maximum=MAX_AGENCY_SIZE),
    *(ColumnRule(name, "number", minimum=0, maximum=1, required=False) for name in COVARIATE_COLUMNS),
    ColumnRule("added_by_hand", "boolean", required=False),
    ColumnRule("arm_by_hand", "category", codes=ARMS, nullable=True, required=False),
)
REGISTER_COLUMNS: tuple[str, ...] = tuple(rule.name for rule in REGISTER_RULES)
BASELINE_RULES: tuple[ColumnRule, ...] = (
    ColumnRule("person_id", "string"),
    ColumnRule("agency_id", "string"),
    ColumnRule("p_employed", "number", minimum=0, maximum=1),
    ColumnRule("tier", "category", codes=TIER_CODES, required=False),
    ColumnRule("need", "category", codes=NEED_CODES, required=False),
)
BASELINE_COLUMNS: tuple[str, ...] = tuple(rule.name for rule in BASELINE_RULES)
OUTCOME_RULES: tuple[ColumnRule, ...] = (
    ColumnRule("person_id", "string"),
    ColumnRule("agency_id", "string"),
    ColumnRule("employed_6m", "boolean", nullable=True, required=False),
    ColumnRule("days_worked", "integer", minimum=0, maximum=MAX_DAYS_WORKED, nullable=True, required=False),
)
OUTCOME_COLUMNS: tuple[str, ...] = ("person_id", "agency_id", "observed_on", "employed_6m", "days_worked")
_MAX_LENGTHS = {"name": 256, "region": 64}


def one_line(source: str, problems: Sequence[str]) -> InvalidInput:
    """One error for ``problems``: the count and the first few, on one line."""
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
    return InvalidInput(f"{source}: {len(problems)} problem(s): {shown}{more}")


def listed(values: Iterable[object], limit: int = 5) -> str:
    """``'P1', 'P2', 'P3' and 12 more`` (for lists of unknown people or duplicate ids)."""
    values = list(values)
    text = ", ".join(repr(str(v)) for v in values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _typed(
    frame: pd.DataFrame,
    rules: Sequence[ColumnRule],
    source: str,
    known: Sequence[str] | None,
    *,
    ids: Sequence[str],
    unique: str,
    what: str,
) -> tuple[pd.DataFrame, list[str]]:
    """The typed table and the problems found so far (every kind at once: columns, cells, ids, duplicates)."""
    frame = frame.reset_index(drop=True)
    problems: list[str] = []
    if known is not None:
        problems += [
            f"column {c!r} is not a column of this file (expected {', '.join(known)})"
            for c in frame.columns
            if c not in known
        ]
    if frame.empty:
        problems.append("the file has no rows")
    for name in ids:
        if name in frame.columns:
            problems += _id_problems(frame, name)
    if unique in frame.columns:
        problems += _duplicate_problems(frame, unique, what)
    try:
        typed = validate_frame(frame, rules, source=source)
    except DataValidationError as exc:
        raise one_line(source, sorted(problems + exc.messages, key=_row_number)) from None
    return typed, problems


def _id_problems(frame: pd.DataFrame, name: str) -> list[str]:
    column = frame[name]
    present = column.notna().to_numpy() & (column.astype(str).str.strip() != "").to_numpy()
    text = column.astype(str)
    bad = present & ~text.str.fullmatch(ID_PATTERN.strip("^$")).to_numpy(dtype=bool)
    return [
        f"row {int(i) + 1}: {name}={text.iat[i]!r} must be a pseudonymous id (letters, digits, - and _, at most 64)"
        for i in np.flatnonzero(bad)
    ]


def _duplicate_problems(frame: pd.DataFrame, name: str, what: str) -> list[str]:
    text = frame[name].astype(str).str.strip()
    repeated = text[text.duplicated(keep=False)]
    problems = []
    for value, rows in repeated.groupby(repeated, sort=True).groups.items():
        places = ", ".join(str(int(r) + 1) for r in list(rows)[:5])
        problems.append(f"{name}={value!r} appears {len(rows)} times (rows {places}); each {what} is listed once")
    return problems


def _as_text(series: pd.Series) -> np.ndarray:
    values: np.ndarray = series.astype(object).to_numpy()
    return np.array([str(v) for v in values], dtype=object)


def register_frame(frame: pd.DataFrame, source: str = "agency register") -> pd.DataFrame:
    """The agency register typed and normalised (columns present in the file, rows in file order)."""
    typed, problems = _typed(
        frame, REGISTER_RULES, source, REGISTER_COLUMNS, ids=("agency_id",), unique="agency_id", what="agency"
    )
    for name, limit in _MAX_LENGTHS.items():
        long = typed[name].astype(str).str.len() > limit
        problems += [f"row {int(i) + 1}: {name} must be at most {limit} characters" for i in typed.index[long]]
    hand = (
        typed["added_by_hand"].fillna(False).to_numpy(dtype=bool)
        if "added_by_hand" in typed.columns
        else np.zeros(len(typed), dtype=bool)
    )
    if "added_by_hand" in typed.columns and typed["added_by_hand"].isna().any():
        rows = typed.index[typed["added_by_hand"].isna().to_numpy()]
        problems += [f"row {int(i) + 1}: added_by_hand is missing (must be true or false)" for i in rows]
    chosen = typed["arm_by_hand"].notna().to_numpy() if "arm_by_hand" in typed.columns else np.zeros(len(typed), bool)
    problems += [
        f"row {int(i) + 1}: arm_by_hand is missing: an agency added by hand must name the model it runs "
        f"({' or '.join(ARMS)})"
        for i in np.flatnonzero(hand & ~chosen)
    ]
    problems += [
        f"row {int(i) + 1}: arm_by_hand={typed['arm_by_hand'].iat[i]!r} is only for an agency added by hand "
        "(added_by_hand=true)"
        for i in np.flatnonzero(chosen & ~hand)
    ]
    if problems:
        raise one_line(source, sorted(problems, key=_row_number))
    out = pd.DataFrame(index=typed.index)
    for column in typed.columns:
        if column in ("agency_id", "name", "region"):
            out[column] = _as_text(typed[column])
        elif column == "size":
            out[column] = typed[column].to_numpy(dtype=np.int64)
        elif column in COVARIATE_COLUMNS:
            out[column] = typed[column].to_numpy(dtype=float)
        elif column == "added_by_hand":
            out[column] = hand
        elif column == "arm_by_hand":
            out[column] = np.array([str(v) if c else None for v, c in zip(typed[column], chosen, strict=True)], object)
    return out.reset_index(drop=True)


def baseline_frame(frame: pd.DataFrame, source: str = "baseline") -> pd.DataFrame:
    """The baseline cohort (``jalon score`` output): ``person_id``, ``agency_id``, ``p_employed``, [``tier``, ``need``].

    Other columns of the scored file (paths, explanations...) are not part of the cohort and are left out.
    """
    kept = frame[[c for c in BASELINE_COLUMNS if c in frame.columns]]
    typed, problems = _typed(
        kept, BASELINE_RULES, source, None, ids=("person_id", "agency_id"), unique="person_id", what="person"
    )
    if problems:
        raise one_line(source, sorted(problems, key=_row_number))
    out = pd.DataFrame(
        {
            "person_id": _as_text(typed["person_id"]),
            "agency_id": _as_text(typed["agency_id"]),
            "p_employed": typed["p_employed"].to_numpy(dtype=float),
        }
    )
    for column in ("tier", "need"):
        if column in typed.columns:
            out[column] = _as_text(typed[column])
    return out


def _dates(series: pd.Series, name: str) -> tuple[np.ndarray, list[str]]:
    """Calendar dates from datetimes at midnight, ``datetime.date`` objects or ISO text ``YYYY-MM-DD``."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = pd.to_datetime(series)
        bad = (stamps.isna() | (stamps != stamps.dt.normalize())).to_numpy()
    else:
        text = series.map(lambda v: v.isoformat() if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else v)
        stamps = pd.to_datetime(text.astype("string").str.strip(), format="%Y-%m-%d", errors="coerce")
        bad = stamps.isna().to_numpy()
    problems = [f"row {int(i) + 1}: {name}={series.iat[i]!r} must be a date YYYY-MM-DD" for i in np.flatnonzero(bad)]
    values = np.array([None if b else s.date() for s, b in zip(stamps, bad, strict=True)], dtype=object)
    return values, problems


def outcomes_frame(frame: pd.DataFrame, source: str = "outcomes") -> pd.DataFrame:
    """Outcomes: ``person_id``, ``agency_id``, ``observed_on`` and ``employed_6m`` and/or ``days_worked``."""
    problems = [
        f"column {c!r} is not a column of this file (expected {', '.join(OUTCOME_COLUMNS)})"
        for c in frame.columns
        if c not in OUTCOME_COLUMNS
    ]
    if "observed_on" not in frame.columns:
        problems.append("column 'observed_on' is missing (must be a date YYYY-MM-DD)")
    if "employed_6m" not in frame.columns and "days_worked" not in frame.columns:
        problems.append("the file needs employed_6m (true/false) or days_worked (0 to 184), or both")
    if problems:
        raise one_line(source, problems)
    typed, problems = _typed(
        frame, OUTCOME_RULES, source, OUTCOME_COLUMNS, ids=("person_id", "agency_id"), unique="person_id", what="person"
    )
    observed_on, date_problems = _dates(frame["observed_on"].reset_index(drop=True), "observed_on")
    problems += date_problems
    employed = typed["employed_6m"] if "employed_6m" in typed.columns else pd.Series(pd.NA, index=typed.index)
    days = typed["days_worked"] if "days_worked" in typed.columns else pd.Series(pd.NA, index=typed.index)
    neither = (employed.isna() & days.isna()).to_numpy(dtype=bool)
    problems += [f"row {int(i) + 1}: employed_6m and days_worked are both missing" for i in np.flatnonzero(neither)]
    if problems:
        raise one_line(source, sorted(problems, key=_row_number))
    return pd.DataFrame(
        {
            "person_id": _as_text(typed["person_id"]),
            "agency_id": _as_text(typed["agency_id"]),
            "observed_on": observed_on,
            "employed_6m": np.array([None if pd.isna(v) else bool(v) for v in employed], dtype=object),
            "days_worked": np.array([None if pd.isna(v) else int(v) for v in days], dtype=object),
        }
    )


def _row_number(message: str) -> int:
    if message.startswith("row "):
        return int(message[4 : message.index(":")])
    return 0
