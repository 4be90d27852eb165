"""The auditors' routes: ``GET /audit/suggestions`` (list, filter, page, export) and ``GET /audit/oversight``.

Query parameters are parsed strictly, each by the rule the OpenAPI document states (the
document's parameters are generated from :data:`LIST_PARAMETERS` and :data:`OVERSIGHT_PARAMETERS`):
an unknown parameter, a repeated one, a boolean other than ``true``/``false``, a date other
than ``YYYY-MM-DD`` or a number out of range is a 400 naming the parameter and the rule.

Exports (``format=csv`` or ``format=parquet``) hold every matching row; they are not paged, so
``cursor`` and ``limit`` belong to the JSON listing only. The CSV is UTF-8 with a header row;
a cell that starts with ``=``, ``+``, ``-`` or ``@`` is prefixed with an apostrophe, so that a
spreadsheet never runs a free-text reason as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import FastAPI
from starlette.responses import Response, StreamingResponse

from core.errors import InvalidInput
from features.api_models import ID_PATTERN
from features.schema import NEED_CODES, TIER_CODES
from records import (
    ACTION_FILTERS,
    MAX_PAGE,
    AuditFilter,
    AuditRow,
    DecisionStore,
    OversightFigures,
    iter_rows,
    list_page,
    oversight_figures,
)
from serving.errors import BadRequest

audit_app = FastAPI(title="Jalon audit", docs_url=None, redoc_url=None, openapi_url=None)

FORMATS = ("json", "csv", "parquet")
PARQUET_MEDIA = "application/vnd.apache.parquet"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LIMIT = re.compile(r"^[1-9][0-9]{0,2}$")
_CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class QueryParameter:
    """One query parameter: its OpenAPI schema, its rule in words, and its parser."""

    name: str
    schema: dict[str, Any]
    rule: str
    parse: Callable[[str], Any]
    description: str = ""

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "schema": self.schema,
            "description": self.description or self.rule,
        }


def _date(text: str) -> dt.date:
    if not _DATE.match(text):
        raise ValueError
    return dt.date.fromisoformat(text)


def _boolean(text: str) -> bool:
    return {"true": True, "false": False}[text]


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError
        return text

    return parse


def _pattern(regex: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        if not compiled.match(text):
            raise ValueError
        return text

    return parse


def _limit(text: str) -> int:
    if not _LIMIT.match(text) or int(text) > MAX_PAGE:
        raise ValueError
    return int(text)


_ID_RULE = "a pseudonymous id: 1 to 64 letters, digits, - or _"
_PERIOD = (
    QueryParameter(
        "since",
        {"type": "string", "format": "date"},
        "a date YYYY-MM-DD",
        _date,
        "first day (UTC) of the suggestions counted, included",
    ),
    QueryParameter(
        "until",
        {"type": "string", "format": "date"},
        "a date YYYY-MM-DD",
        _date,
        "last day (UTC) of the suggestions counted, included",
    ),
)
LIST_PARAMETERS: tuple[QueryParameter, ...] = (
    QueryParameter("agency_id", {"type": "string", "pattern": ID_PATTERN}, _ID_RULE, _pattern(ID_PATTERN)),
    QueryParameter(
        "advisor_id",
        {"type": "string", "pattern": ID_PATTERN},
        _ID_RULE,
        _pattern(ID_PATTERN),
        "the advisor who holds the case (asked for the suggestion)",
    ),
    *_PERIOD,
    QueryParameter(
        "need", {"type": "string", "enum": list(NEED_CODES)}, "one of " + ", ".join(NEED_CODES), _choice(NEED_CODES)
    ),
    QueryParameter(
        "tier", {"type": "string", "enum": list(TIER_CODES)}, "one of " + ", ".join(TIER_CODES), _choice(TIER_CODES)
    ),
    QueryParameter(
        "action",
        {"type": "string", "enum": list(ACTION_FILTERS)},
        "one of " + ", ".join(ACTION_FILTERS),
        _choice(ACTION_FILTERS),
        "the latest decision's action, or undecided",
    ),
    QueryParameter("needs_review", {"type": "boolean"}, "true or false", _boolean, "flagged « à examiner »"),
    QueryParameter("has_contest", {"type": "boolean"}, "true or false", _boolean, "contested by the person"),
    QueryParameter(
        "cursor",
        {"type": "string", "pattern": _CURSOR_PATTERN},
        "a next_cursor returned by this listing",
        _pattern(_CURSOR_PATTERN),
    ),
    QueryParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100},
        f"a whole number from 1 to {MAX_PAGE}",
        _limit,
        "rows per page of the JSON listing",
    ),
    QueryParameter(
        "format",
        {"type": "string", "enum": list(FORMATS), "default": "json"},
        "one of " + ", ".join(FORMATS),
        _choice(FORMATS),
        "json: a page; csv or parquet: every matching row, as a file",
    ),
)
OVERSIGHT_PARAMETERS: tuple[QueryParameter, ...] = _PERIOD


def parse_query(items: list[tuple[str, str]], parameters: tuple[QueryParameter, ...]) -> dict[str, Any]:
    """Parsed query parameters; :class:`BadRequest` (400) naming the first unknown, repeated or broken one.

    A value that follows its documented rule but cannot be used (a cursor not made here, ``until``
    before ``since``) is refused later with :class:`InvalidInput` (422).
    """
    known = {p.name: p for p in parameters}
    values: dict[str, Any] = {}
    for name, text in items:
        if name not in known:
            raise BadRequest(f"{name[:40]!r}: unknown query parameter; known: {', '.join(known)}")
        if name in values:
            raise BadRequest(f"{name}: given more than once")
        try:
            values[name] = known[name].parse(text)
        except (ValueError, KeyError):
            raise BadRequest(f"{name}: must be {known[name].rule}") from None
    return values


def audit_filter(values: Mapping[str, Any]) -> AuditFilter:
    keys = ("agency_id", "advisor_id", "since", "until", "need", "tier", "action", "needs_review", "has_contest")
    return AuditFilter(**{k: values[k] for k in keys if k in values})


# --------------------------------------------------------------------------- responses


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_chunks(rows: Iterator[AuditRow]) -> Iterator[bytes]:
    columns = list(AuditRow.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        data = row.model_dump()
        writer.writerow([_cell(data[c]) for c in columns])
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


_ARROW_TYPES = {
    "created_at": pa.timestamp("us", tz="UTC"),
    "decided_at": pa.timestamp("us", tz="UTC"),
    "need_probability": pa.float64(),
    "employability_probability": pa.float64(),
    "seconds_to_first_decision": pa.float64(),
    "decision_count": pa.int64(),
    "needs_review": pa.bool_(),
    "revised": pa.bool_(),
    "has_contest": pa.bool_(),
    "review_reasons": pa.list_(pa.string()),
}


def _parquet(rows: Iterator[AuditRow]) -> bytes:
    schema = pa.schema([(name, _ARROW_TYPES.get(name, pa.string())) for name in AuditRow.model_fields])
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row.model_dump())
            if len(chunk) == 5000:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                chunk = []
        writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
    return sink.getvalue()


def list_response(store: DecisionStore, items: list[tuple[str, str]]) -> Response:
    """``GET /audit/suggestions``: a JSON page, or every matching row as CSV or Parquet."""
    values = parse_query(items, LIST_PARAMETERS)
    filters = audit_filter(values)
    fmt = values.get("format", "json")
    if fmt == "json":
        page = list_page(store, filters, limit=values.get("limit", 100), cursor=values.get("cursor"))
        return Response(page.model_dump_json(), media_type="application/json")
    if "cursor" in values or "limit" in values:
        raise InvalidInput(f"cursor and limit page the JSON listing; a {fmt} export holds every matching row")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    disposition = {"Content-Disposition": f'attachment; filename="jalon-audit-suggestions-{stamp}.{fmt}"'}
    rows = iter_rows(store, filters)
    if fmt == "csv":
        return StreamingResponse(_csv_chunks(rows), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(_parquet(rows), media_type=PARQUET_MEDIA, headers=disposition)


def oversight_response(store: DecisionStore, items: list[tuple[str, str]]) -> OversightFigures:
    """``GET /audit/oversight``: the figures of the suggestions made in the period."""
    values = parse_query(items, OVERSIGHT_PARAMETERS)
    period = audit_filter(values)  # checks until >= since
    return oversight_figures(store, since=period.since, until=period.until)
