"""Batch scoring: every profile of a data file, with its suggestion and model 1 recommendation.

:func:`score_file` streams a Parquet or CSV file of profiles in chunks
(:func:`features.io.iter_table`), validates each chunk against the profile schema,
scores it with the segmentation model, adds the model 1 recommendation
(:func:`policy.recommend.recommend_frame`) and, on request, the explanations, and writes
one row per person to Parquet (chunk by chunk, with ``pyarrow.parquet.ParquetWriter``)
or CSV, chosen by the output's extension. Memory stays bounded by the chunk size.

The output is written to a temporary file next to the target and renamed when every
chunk has been written: a bad row anywhere (reported with its absolute row number in
the input, 1-based without the header) leaves no output at all.

Output columns, in order (a column is left out when the model or the input lacks it):

- ``person_id``, ``agency_id``;
- ``need`` and one ``need_proba_<CODE>`` per need class, ``p_employed``, ``tier``,
  ``needs_review`` (exactly :meth:`SegmentationModel.scores_to_frame`);
- ``rule_id``, ``parcours``, ``modality``, ``duration_months``, ``milestone_date``,
  ``offers`` (offer ids joined by ``;``): the model 1 recommendation for the suggested
  need and tier, milestone counted from ``decision_date``;
- with ``explain=True``: ``need_factors`` and ``employability_factors``, the JSON text
  of the explanation objects that ``POST /suggest`` returns under
  ``explanations.need`` and ``explanations.employability`` (target, units, base value,
  raw score, the top factors with their French sentences, other contribution) —
  character for character what ``json.dumps(..., ensure_ascii=False)`` gives for
  :meth:`SegmentationModel.suggest_encoded`'s output on the same profile;
- the audit columns of :data:`PASS_THROUGH` present in the input (protected and
  group columns used by the allocation's fairness shares), unchanged.

Explanations are computed for a whole chunk at once (:class:`ExplanationWriter`):
exact per-class TreeSHAP from the model itself, then sorting, sums and JSON assembly
vectorised or cached, giving the same text as the per-row loop of ``suggest_encoded``
(checked by ``tests/policy/test_score.py``). See ``docs/batch.md``.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from batch.explanations import ExplanationWriter
from core.errors import InvalidInput
from features.io import DataFileError, file_format, iter_table
from features.schema import FIELDS_BY_NAME
from features.spec import PROFILE_SPEC_NAME
from features.validation import DataValidationError, profile_rules, validate_frame
from models.segmentation import (
    ModelInputError,
    SegmentationModel,
)
from policy import Catalogue, load_catalogue, recommend_frame

#: Input columns copied to the output when present: protected attributes and the other
#: group columns of the allocation's fairness shares (``policy.allocate.GROUP_COLUMNS``).
PASS_THROUGH: tuple[str, ...] = (
    "sex",
    "nationality_group",
    "age",
    "disability_recognition",
    "rsa_recipient",
    "qpv_resident",
)
RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "rule_id",
    "parcours",
    "modality",
    "duration_months",
    "milestone_date",
    "offers",
)
EXPLANATION_COLUMNS: tuple[str, ...] = ("need_factors", "employability_factors")
DEFAULT_CHUNK_ROWS = 50_000
#: With explanations, a chunk is scored and written in slices of at most this many rows:
#: the JSON text (about 4 KB a row) would otherwise dominate memory.
EXPLAIN_SLICE_ROWS = 10_000

Progress = Callable[[int, int | None], None]


class ScoringError(InvalidInput):
    """A scoring run that cannot proceed (bad output path, columns the model lacks...)."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's own
    memory. ``getrusage``'s ``ru_maxrss`` (the fallback elsewhere) also counts the parent's
    memory copied at fork, before ``exec``, so a process started by a large one reports
    its parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class ScoreSummary:
    """What :func:`score_file` did.

    ``peak_rss_mb`` is the peak resident memory of the whole process at the end of the
    run (:func:`peak_rss_mb`), which includes the model and anything loaded before.
    """

    rows: int
    seconds: float
    peak_rss_mb: float
    out: Path
    explain: bool
    chunks: int
    needs_review: int = 0
    columns: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "out": str(self.out),
            "explain": self.explain,
            "chunks": self.chunks,
            "needs_review": self.needs_review,
        }


# --------------------------------------------------------------------------- explanations


def score_frame(
    typed: pd.DataFrame,
    model: SegmentationModel,
    *,
    explain: bool = False,
    decision_date: date | None = None,
    catalogue: Catalogue | None = None,
    writer: ExplanationWriter | None = None,
) -> pd.DataFrame:
    """Score validated profiles (the output of :func:`validate_frame`): one output row each.

    The frame is re-indexed 0..n-1; columns as described in the module docstring.
    """
    typed = typed.reset_index(drop=True)
    try:
        X = model.encode_frame(typed)
    except ModelInputError as exc:
        raise ScoringError(str(exc)) from exc
    scores = model.score(X)
    predicted = model.scores_to_frame(scores)
    columns: dict[str, Any] = {}
    for name in id_columns(model):
        if name in typed.columns:
            columns[name] = typed[name]
    for name in predicted.columns:
        columns[name] = predicted[name]
    if "need" in predicted.columns and "tier" in predicted.columns:
        barrier = typed.drop(columns=[c for c in ("need", "tier") if c in typed.columns])
        basis = pd.concat([barrier, predicted[["need", "tier"]]], axis=1)
        rec = recommend_frame(
            basis, decision_date=decision_date or date.today(), catalogue=catalogue or load_catalogue()
        )
        for name in RECOMMENDATION_COLUMNS:
            column = rec[name]
            columns[name] = column.astype(str) if isinstance(column.dtype, pd.CategoricalDtype) else column
    if explain:
        writer = writer or ExplanationWriter(model)
        if model.has_need:
            columns["need_factors"] = writer.need(X, scores)
        if model.has_employability:
            columns["employability_factors"] = writer.employability(X)
    for name in PASS_THROUGH:
        if name in typed.columns:
            columns[name] = typed[name]
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------- output


def _arrow_type(name: str, model: SegmentationModel) -> pa.DataType:
    if name.startswith("need_proba_") or name == "p_employed":
        return pa.float64()
    if name == "needs_review":
        return pa.bool_()
    if name == "duration_months":
        return pa.int64()
    if name == "milestone_date":
        return pa.date32()
    f = FIELDS_BY_NAME.get(name)
    if f is not None and name in PASS_THROUGH:
        return {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}.get(f.kind, pa.string())
    return pa.string()


def id_columns(model: SegmentationModel) -> list[str]:
    """The id columns copied first: the profile's person and agency, or the spec's id columns."""
    if model.spec.name == PROFILE_SPEC_NAME:
        return ["person_id", "agency_id"]
    return list(model.spec.ids)


def input_rules(model: SegmentationModel) -> list:
    """What each input row must meet: the profile schema, or the model's spec (ids and inputs)."""
    if model.spec.name == PROFILE_SPEC_NAME:
        return profile_rules()
    ids = [c.rule(labels=False) for c in model.spec.columns if c.role == "id"]
    return ids + model.input_rules()


def output_columns(model: SegmentationModel, input_columns: list[str], explain: bool) -> list[str]:
    """The output's columns for ``model`` and an input with ``input_columns``."""
    cols: list[str] = [c for c in id_columns(model) if c in input_columns]
    if model.has_need:
        cols += ["need", *(f"need_proba_{c}" for c in model.need_classes)]
    if model.has_employability:
        cols += ["p_employed", "tier"]
    cols.append("needs_review")
    if model.has_need and model.has_employability:
        cols += list(RECOMMENDATION_COLUMNS)
    if explain:
        cols += [c for c, ok in zip(EXPLANATION_COLUMNS, (model.has_need, model.has_employability), strict=True) if ok]
    cols += [c for c in PASS_THROUGH if c in input_columns]
    return cols


def output_schema(
    model: SegmentationModel, input_columns: list[str], explain: bool, metadata: dict[str, str] | None = None
) -> pa.Schema:
    names = output_columns(model, input_columns, explain)
    return pa.schema(
        [pa.field(n, _arrow_type(n, model)) for n in names],
        metadata={k.encode(): v.encode() for k, v in (metadata or {}).items()},
    )


def _to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    arrays = []
    for f in schema:
        column = frame[f.name]
        if pa.types.is_date32(f.type):
            arrays.append(pa.array(column.to_numpy().astype("datetime64[D]"), type=pa.date32()))
        elif pa.types.is_string(f.type):
            # From pandas' own (Arrow-backed) strings, without a round trip through Python objects:
            # explanation columns are large.
            array = pa.array(column, from_pandas=True)
            arrays.append(array if array.type.equals(pa.string()) else array.cast(pa.string()))
        else:
            arrays.append(pa.Array.from_pandas(column, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "milestone_date" in out.columns:
        out["milestone_date"] = out["milestone_date"].dt.strftime("%Y-%m-%d")
    return out


def _temp_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")


# --------------------------------------------------------------------------- the file


def _shift_messages(messages: list[str], offset: int) -> list[str]:
    shifted = []
    for message in messages:
        if message.startswith("row ") and ":" in message:
            number, rest = message[4:].split(":", 1)
            if number.isdigit():
                message = f"row {int(number) + offset}:{rest}"
        shifted.append(message)
    return shifted


def validated_chunks(
    data: str | Path, chunk_rows: int, rules: list | None = None
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(offset, typed chunk)`` for each chunk of ``data``, validated against ``rules`` (default: the profile).

    Raises :class:`DataValidationError` naming absolute row numbers (1-based, header not
    counted) and :class:`DataFileError` for an unreadable file.
    """
    rules = profile_rules() if rules is None else rules
    offset = 0
    chunks = iter_table(data, chunk_rows=chunk_rows)
    typed_file = file_format(data) == "parquet"
    # A person appears once in a file: the ids of the chunks before (the rule's unique column).
    person = next((r.name for r in rules if r.unique), None)
    seen: set[str] = set()
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except DataFileError:
            raise
        except (pa.ArrowException, OSError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise DataFileError(f"{data}: cannot be read as {file_format(data)}: {exc}") from exc
        try:
            typed = validate_frame(chunk, rules, source=str(data), typed_file=typed_file)
        except DataValidationError as exc:
            raise DataValidationError(_shift_messages(exc.messages, offset), source=str(data)) from None
        ids = typed[person].tolist() if person is not None and person in typed.columns else []
        repeated = [(i, pid) for i, pid in enumerate(ids) if pid in seen]
        if repeated:
            raise DataValidationError(
                [f"row {offset + i + 1}: {person}={pid!r} appears more than once" for i, pid in repeated],
                source=str(data),
            )
        seen.update(ids)
        yield offset, typed
        offset += len(chunk)


def count_rows(path: str | Path) -> int | None:
    """Rows of a Parquet file from its footer (None for CSV: unknown without reading it)."""
    try:
        return pq.ParquetFile(path).metadata.num_rows if file_format(path) == "parquet" else None
    except (pa.ArrowException, OSError, DataFileError):
        return None


def score_file(
    data: str | Path,
    out: str | Path,
    model: SegmentationModel,
    *,
    explain: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    decision_date: date | None = None,
    progress: Progress | None = None,
    catalogue: Catalogue | None = None,
    model_label: str | None = None,
) -> ScoreSummary:
    """Score every profile of ``data`` into ``out`` (Parquet or CSV by extension), chunk by chunk.

    Parameters
    ----------
    data : path
        Profiles, ``.parquet`` or ``.csv`` (ids and features required; protected and
        sensitive columns optional).
    out : path
        Output, ``.parquet`` or ``.csv``; written to a temporary file and renamed at
        the end, so that an error leaves nothing behind.
    model : SegmentationModel
    explain : bool
        Add ``need_factors`` / ``employability_factors`` (JSON text, as POST /suggest).
    chunk_rows : int
        Rows per chunk: bounds memory; the output does not depend on it.
    decision_date : date, optional
        Start of the recommended durations (milestone dates); default today.
    progress : callable, optional
        Called as ``progress(rows_done, total_rows_or_None)`` after each chunk.
    catalogue : Catalogue, optional
        Model 1 catalogue (default: packaged or ``$JALON_CATALOGUE``).
    model_label : str, optional
        Recorded in the Parquet metadata (e.g. the model URI).

    Raises
    ------
    DataValidationError
        A row breaks the profile schema; messages name absolute input rows.
    DataFileError
        The input cannot be read, or an extension is not supported.
    ScoringError
        Output path problems, or data the model cannot encode.
    """
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    if chunk_rows < 1:
        raise ScoringError(f"chunk_rows must be at least 1, got {chunk_rows}")
    in_fmt, out_fmt = file_format(data), file_format(out)
    if not data.exists():
        raise DataFileError(f"{data}: no such file")
    if out.resolve() == data.resolve():
        raise ScoringError(f"{out}: the output must not overwrite the input")
    if out.exists() and out.is_dir():
        raise ScoringError(f"{out}: is a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    decision_date = decision_date or date.today()
    catalogue = catalogue or load_catalogue()
    writer_ = ExplanationWriter(model) if explain else None
    total = count_rows(data) if in_fmt == "parquet" else None
    metadata = {
        "jalon.catalogue_version": str(catalogue.version),
        "jalon.decision_date": decision_date.isoformat(),
        "jalon.explain": str(bool(explain)).lower(),
        "jalon.model": model_label or "",
    }

    tmp = _temp_path(out)
    rows = chunks = flagged = 0
    schema: pa.Schema | None = None
    parquet: pq.ParquetWriter | None = None
    handle = None
    try:
        for _offset, typed in validated_chunks(data, chunk_rows, input_rules(model)):
            if len(typed) == 0:  # a header-only CSV still yields one empty chunk
                continue
            if schema is None:
                schema = output_schema(model, list(typed.columns), explain, metadata)
            step = min(chunk_rows, EXPLAIN_SLICE_ROWS) if explain else chunk_rows
            for start in range(0, len(typed), step):
                frame = score_frame(
                    typed.iloc[start : start + step],
                    model,
                    explain=explain,
                    decision_date=decision_date,
                    catalogue=catalogue,
                    writer=writer_,
                )
                if out_fmt == "parquet":
                    if parquet is None:
                        parquet = pq.ParquetWriter(tmp, schema, compression="zstd")
                    parquet.write_table(_to_arrow(frame, schema), row_group_size=max(len(frame), 1))
                else:
                    if handle is None:
                        handle = open(tmp, "w", encoding="utf-8", newline="")
                    _csv_frame(frame[schema.names]).to_csv(handle, header=rows == 0, index=False, lineterminator="\n")
                rows += len(frame)
                flagged += int(frame["needs_review"].sum())
                del frame
            chunks += 1
            del typed
            if progress is not None:
                progress(rows, total)
        if schema is None:  # no data rows: an empty output with the columns a header gives
            header = _header_columns(data)
            schema = output_schema(model, header, explain, metadata)
            if out_fmt == "parquet":
                parquet = pq.ParquetWriter(tmp, schema, compression="zstd")
            else:
                handle = open(tmp, "w", encoding="utf-8", newline="")
                handle.write(",".join(schema.names) + "\n")
        if parquet is not None:
            parquet.close()
            parquet = None
        if handle is not None:
            handle.close()
            handle = None
        os.replace(tmp, out)
    except BaseException:
        if parquet is not None:
            try:
                parquet.close()
            except Exception:
                pass
        if handle is not None:
            handle.close()
        tmp.unlink(missing_ok=True)
        raise
    return ScoreSummary(
        rows=rows,
        seconds=time.perf_counter() - started,
        peak_rss_mb=peak_rss_mb(),
        out=out,
        explain=explain,
        chunks=chunks,
        needs_review=flagged,
        columns=list(schema.names),
    )


def _header_columns(path: Path) -> list[str]:
    try:
        if file_format(path) == "parquet":
            return list(pq.ParquetFile(path).schema_arrow.names)
        return list(pd.read_csv(path, nrows=0, dtype=str).columns)
    except (pa.ArrowException, OSError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return []
