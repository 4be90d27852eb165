"""Validation of data files against column rules, with every error reported at once.

Rules come from one place: the profile schema (:data:`features.schema.FIELDS`) or a
training spec (:mod:`features.spec`), both turned into :class:`ColumnRule`. Checking is
in two steps, neither of which coerces silently:

1. *typing*: each cell must already have the column's type, or be text that spells it
   exactly (CSV cells are read as text): ``"12"`` is an integer, ``"12.5"`` is not;
2. *domain*: ranges, codes and missing values, checked by a pandera schema.

Messages name the row (1-based, as in a spreadsheet without its header), the field,
the value and the rule: ``row 17: age=212 must be an integer between 16 and 70``.

Ids follow the API's rule: a pseudonymous id (letters, digits, ``-`` and ``_``, 1 to 64
characters), so a name or an e-mail address in ``person_id`` is refused as it is by the API,
and a person appears once in a file. A *typed* file (Parquet: ``typed=True``) must also store
each column with its kind: numbers as numbers, booleans as booleans, codes and ids as text,
so that ``"34"`` stored as text in an integer column is refused rather than read (a CSV file
holds only text, which is read when it spells the value exactly).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from core.errors import InvalidInput
from core.text import ID_PATTERN
from features.schema import FIELDS, Field, Role

#: How many messages the string form of an error shows; the full list stays on the error.
SHOWN_MESSAGES = 50
_TRUE_WORDS = {"true", "1"}
_FALSE_WORDS = {"false", "0"}


#: How many failing rows each line of a per-column summary names.
SUMMARY_FIRST_ROWS = 5
_ROW_MESSAGE = re.compile(r"^row (\d+): ([^=\s]+)(?:=.*?)? ((?:must|is missing).*)$")


class DataValidationError(InvalidInput):
    """A table that breaks its rules. ``messages`` lists every problem found.

    Its text starts with one line per column and rule (how many rows fail it, and the
    first rows), so that a column failing on 2,000 rows reads as one line, not 2,000.
    """

    def __init__(self, messages: Sequence[str], source: str = "data") -> None:
        self.messages = list(messages)
        self.source = source
        shown = self.messages[:SHOWN_MESSAGES]
        more = len(self.messages) - len(shown)
        text = f"{source}: {len(self.messages)} problem(s)\n"
        summary = self.summary()
        if len(summary) < len(self.messages):
            text += "by column:\n" + "\n".join(f"  {line}" for line in summary) + "\nfirst problems:\n"
        text += "\n".join(shown)
        if more:
            text += f"\n... and {more} more"
        super().__init__(text)

    def summary(self, first_rows: int = SUMMARY_FIRST_ROWS) -> list[str]:
        """One line per (column, rule): ``column 'age': 1979 rows must be ... (rows 2, 5, 9, ...)``."""
        groups: dict[tuple[str, str], list[int]] = {}
        lines: list[str] = []
        for message in self.messages:
            match = _ROW_MESSAGE.match(message)
            if match is None:
                lines.append(message)
                continue
            row, column, reason = int(match.group(1)), match.group(2), match.group(3)
            groups.setdefault((column, reason), []).append(row)
        for (column, reason), rows in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
            shown = ", ".join(str(r) for r in rows[:first_rows]) + (", ..." if len(rows) > first_rows else "")
            count = f"{len(rows)} row{'s' if len(rows) > 1 else ''}"
            lines.append(f"column {column!r}: {count} {reason} (row{'s' if len(rows) > 1 else ''} {shown})")
        return lines


@dataclass(frozen=True)
class ColumnRule:
    """What one column must hold. ``kind`` is category, string, integer, number or boolean."""

    name: str
    kind: str
    codes: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    required: bool = True
    #: A regular expression every non-missing value must match (ids: :data:`ID_PATTERN`).
    pattern: str | None = None
    #: Whether a value may appear only once in the file (``person_id``).
    unique: bool = False
    #: How a typed file stores the column, when not as ``kind`` says (a label declared as 0/1
    #: integers is read as a boolean but stored as numbers).
    stored_as: str | None = None

    def describe(self) -> str:
        if self.kind == "category" and self.codes:
            return "must be one of " + ", ".join(self.codes)
        if self.kind == "boolean":
            return "must be true or false"
        if self.kind in ("integer", "number"):
            what = "an integer" if self.kind == "integer" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"must be {what} between {_fmt(self.minimum)} and {_fmt(self.maximum)}"
            return f"must be {what}"
        if self.pattern == ID_PATTERN:
            return "must be a pseudonymous id: 1 to 64 letters, digits, - or _ (never a name or an e-mail)"
        return "must be a non-empty text"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


#: The id column that names a person: one row per person in a file.
PERSON_ID = "person_id"


def rule_from_field(f: Field, *, required: bool, nullable: bool | None = None) -> ColumnRule:
    return ColumnRule(
        name=f.name,
        kind=f.kind,
        codes=f.codes,
        minimum=f.minimum,
        maximum=f.maximum,
        nullable=f.nullable if nullable is None else nullable,
        required=required,
        pattern=ID_PATTERN if f.kind == "string" else None,
        unique=f.name == PERSON_ID,
    )


def profile_rules(*, labels: bool = False, truth: bool = False) -> list[ColumnRule]:
    """Rules of a profile data file.

    Ids and features are required; protected and sensitive columns are checked when
    present and may have missing values (they serve the audit); labels are required
    when ``labels`` is true (training), truth columns are checked when present.
    """
    required_roles: set[Role] = {"id", "feature"}
    if labels:
        required_roles.add("label")
    rules = []
    for f in FIELDS:
        if f.role == "truth" and not truth:
            rules.append(rule_from_field(f, required=False))
            continue
        optional = f.role in ("protected", "sensitive")
        rules.append(rule_from_field(f, required=f.role in required_roles, nullable=True if optional else None))
    return rules


def validate_frame(
    frame: pd.DataFrame, rules: Iterable[ColumnRule], source: str = "data", *, typed_file: bool = False
) -> pd.DataFrame:
    """Type and check ``frame``; return a typed copy or raise :class:`DataValidationError`.

    ``typed_file``: the frame comes from a file that stores types (Parquet), whose columns
    must already have their kind. Columns not named by a rule are passed through unchanged.
    """
    rules = list(rules)
    messages = [
        f"column {r.name!r} is missing ({r.describe()})" for r in rules if r.required and r.name not in frame.columns
    ]
    present = [r for r in rules if r.name in frame.columns]
    if typed_file:
        messages.extend(_storage_messages(frame, present))
        if messages:
            raise DataValidationError(messages, source)
    typed = frame.copy()
    for rule in present:
        column, problems = _type_column(frame[rule.name], rule)
        typed[rule.name] = column
        messages.extend(problems)
    # A cell refused for its type is reported once, not again as missing.
    mistyped = {(m[4 : m.index(":")], m.split(": ", 1)[1].split("=", 1)[0]) for m in messages if m.startswith("row ")}
    messages.extend(
        m for m in _domain_messages(typed, present) if not m.startswith("row ") or _row_and_field(m) not in mistyped
    )
    if messages:
        raise DataValidationError(_sorted(messages), source)
    return typed


def _stored_kind(series: pd.Series) -> str:
    """What a typed file's column holds: boolean, number, text, or mixed."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "number"
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return "text"
    kinds = {type(v) for v in series.dropna().tolist()}
    if not kinds:
        return "empty"
    if kinds <= {bool}:
        return "boolean"
    if kinds <= {str}:
        return "text"
    if kinds <= {int, float}:
        return "number"
    return "mixed"


_EXPECTED_STORAGE = {
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "category": "text",
    "string": "text",
}


def _storage_messages(frame: pd.DataFrame, rules: list[ColumnRule]) -> list[str]:
    """Columns of a typed file stored with another kind than their rule's (one message per column)."""
    messages = []
    for rule in rules:
        stored, expected = _stored_kind(frame[rule.name]), rule.stored_as or _EXPECTED_STORAGE[rule.kind]
        if stored not in (expected, "empty"):
            messages.append(
                f"column {rule.name!r} is stored as {stored} in the file; {rule.name} {rule.describe()} "
                f"(a typed file must store it as {expected})"
            )
    return messages


def _row_and_field(message: str) -> tuple[str, str]:
    row, rest = message[4:].split(": ", 1)
    return row, re.split(r"[= ]", rest, maxsplit=1)[0]


def _sorted(messages: list[str]) -> list[str]:
    def key(message: str) -> tuple[int, int]:
        if message.startswith("row "):
            return (1, int(message[4 : message.index(":")]))
        return (0, 0)

    return sorted(messages, key=key)


def _is_missing(series: pd.Series) -> np.ndarray:
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string").str.strip()
        missing = missing | (text == "").fillna(True).to_numpy(dtype=bool)
    return missing


def _row_messages(series: pd.Series, mask: np.ndarray, rule: ColumnRule, reason: str) -> list[str]:
    positions = np.flatnonzero(mask)
    values = series.to_numpy()[positions].tolist()  # plain Python values in messages
    return [f"row {pos + 1}: {rule.name}={value!r} {reason}" for pos, value in zip(positions, values, strict=True)]


def _type_column(series: pd.Series, rule: ColumnRule) -> tuple[pd.Series, list[str]]:
    """Give ``series`` the rule's type; report cells that do not spell it exactly."""
    missing = _is_missing(series)
    if rule.kind in ("category", "string"):
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            bad = ~missing
            return series, _row_messages(series, bad, rule, rule.describe() + " (got a non-text value)")
        text = series.astype("string").str.strip()
        text[missing] = pd.NA
        return text.astype("str" if not missing.any() else "object").where(~missing, None), []
    if rule.kind == "boolean":
        return _type_boolean(series, missing, rule)
    return _type_numeric(series, missing, rule)


def _type_boolean(series: pd.Series, missing: np.ndarray, rule: ColumnRule) -> tuple[pd.Series, list[str]]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean"), []
    words = series.astype("string").str.strip().str.lower()
    is_true = words.isin(_TRUE_WORDS).fillna(False).to_numpy(dtype=bool)
    is_false = words.isin(_FALSE_WORDS).fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        is_true, is_false = values == 1, values == 0
    bad = ~(is_true | is_false | missing)
    out = pd.array(np.where(is_true, True, False), dtype="boolean")
    out[missing | bad] = pd.NA
    return pd.Series(out, index=series.index, name=series.name), _row_messages(series, bad, rule, rule.describe())


def _type_numeric(series: pd.Series, missing: np.ndarray, rule: ColumnRule) -> tuple[pd.Series, list[str]]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series, _row_messages(series, ~missing, rule, rule.describe() + " (got a boolean)")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(series.astype("string").str.strip(), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    unparsed = np.isnan(values) & ~missing
    problems = _row_messages(series, unparsed, rule, rule.describe())
    if rule.kind == "integer":
        fractional = ~np.isnan(values) & (values != np.round(values))
        problems += _row_messages(series, fractional, rule, rule.describe())
        values = np.where(fractional | unparsed, np.nan, values)
        out = pd.array(values, dtype="Int64")
        return pd.Series(out, index=series.index, name=series.name), problems
    return pd.Series(np.where(unparsed, np.nan, values), index=series.index, name=series.name), problems


def _pandera_schema(rules: list[ColumnRule]) -> pa.DataFrameSchema:
    columns = {}
    for rule in rules:
        checks = []
        if rule.kind == "category" and rule.codes:
            checks.append(pa.Check.isin(list(rule.codes), error=rule.describe()))
        if rule.kind in ("integer", "number") and rule.minimum is not None and rule.maximum is not None:
            checks.append(pa.Check.in_range(rule.minimum, rule.maximum, error=rule.describe()))
        if rule.kind == "string":
            checks.append(pa.Check(lambda s: s.str.len() > 0, element_wise=False, error=rule.describe()))
        if rule.pattern is not None:
            checks.append(pa.Check.str_matches(rule.pattern, error=rule.describe()))
        if rule.unique:
            checks.append(
                pa.Check(lambda s: ~s.duplicated(keep=False), element_wise=False, error="appears more than once")
            )
        columns[rule.name] = pa.Column(checks=checks, nullable=rule.nullable, required=False, name=rule.name)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _domain_messages(typed: pd.DataFrame, rules: list[ColumnRule]) -> list[str]:
    if not rules:
        return []
    by_name = {r.name: r for r in rules}
    frame = typed[[r.name for r in rules]].reset_index(drop=True)
    try:
        _pandera_schema(rules).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        messages = []
        for column, check, index in cases[["column", "check", "index"]].itertuples(index=False):
            rule = by_name.get(column)
            if rule is None or index is None or pd.isna(index):
                messages.append(f"column {column!r}: {check}")
                continue
            if check == "not_nullable":
                messages.append(f"row {int(index) + 1}: {column} is missing ({rule.describe()})")
            else:
                shown = frame.at[int(index), column]
                messages.append(f"row {int(index) + 1}: {column}={_plain(shown)!r} {check}")
        return messages
    return []


def _plain(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value
