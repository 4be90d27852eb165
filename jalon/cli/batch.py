"""Command-line faces of batch scoring, milestone review and model 2 allocation.

``jalon score``, ``jalon review`` and ``jalon allocate``: each is a thin wrapper over
:mod:`batch.score`, :mod:`batch.review` and :func:`policy.allocate`. Bad input (unreadable
file, invalid row, bad date, unknown model) prints one clear line on stderr and exits with
status 2, never a traceback.
Only pseudonymous ids are printed.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.config import CHAMPION_ALIAS, REGISTERED_MODEL_NAME
from jalon.cli._common import command, err, existing_database_url, fail, out, parse_date, required_date

DEFAULT_MODEL = f"models:/{REGISTERED_MODEL_NAME}@{CHAMPION_ALIAS}"
app = typer.Typer()


def _validation_line(exc) -> str:
    shown = "; ".join(exc.messages[:3])
    more = f" (and {len(exc.messages) - 3} more)" if len(exc.messages) > 3 else ""
    return f"{exc.source}: {len(exc.messages)} problem(s): {shown}{more}"


def _load_model(uri: str):
    """The segmentation model at ``uri`` (registry URI or local MLflow model folder)."""
    from mlflow.exceptions import MlflowException

    from core.config import get_settings
    from models.loading import load_segmentation
    from models.registry import configure

    configure(get_settings())
    try:
        return load_segmentation(uri)
    except MlflowException as exc:
        hint = " (train and promote a model first: jalon train --promote)" if uri.startswith("models:/") else ""
        fail(f"cannot load model {uri}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}{hint}")
    except OSError as exc:
        fail(f"cannot load model {uri}: {exc}")


def _model_version(uri: str) -> str:
    """The registry version behind ``models:/name@alias`` or ``models:/name/3`` (else the URI)."""
    if not uri.startswith("models:/"):
        return uri
    rest = uri[len("models:/") :]
    try:
        from mlflow.tracking import MlflowClient

        if "@" in rest:
            name, alias = rest.split("@", 1)
            return str(MlflowClient().get_model_version_by_alias(name, alias).version)
        name, _, version = rest.partition("/")
        return version or uri
    except Exception:
        return uri


# --------------------------------------------------------------------------- score


@command(app, "score")
def score_command(
    data: Annotated[Path, typer.Option("--data", help="Profiles to score (.parquet or .csv), one row per person.")],
    out_path: Annotated[
        Path, typer.Option("--out", help="Output file (.parquet or .csv); written only if every row is valid.")
    ],
    explain: Annotated[
        bool,
        typer.Option(
            "--explain/--no-explain",
            help="Add need_factors and employability_factors: the JSON explanations POST /suggest returns.",
        ),
    ] = False,
    model: Annotated[
        str, typer.Option("--model", help="Model URI (registry) or local MLflow model folder.")
    ] = DEFAULT_MODEL,
    chunk_rows: Annotated[
        int,
        typer.Option(
            "--chunk-rows",
            min=1,
            help="Rows read, scored and written at a time (bounds memory; the output does not depend on it).",
        ),
    ] = 50_000,
    decision_date: Annotated[
        str | None,
        typer.Option(
            "--decision-date", help="Start of the recommended durations, YYYY-MM-DD (milestone dates); default today."
        ),
    ] = None,
) -> None:
    """Score every profile of a file: need, employability tier, recommendation (and explanations)."""
    from batch.score import ScoringError, count_rows, score_file
    from features.io import DataFileError, file_format
    from features.validation import DataValidationError
    from policy import CatalogueError

    start_date = parse_date(decision_date, "--decision-date")
    try:
        file_format(data)
        file_format(out_path)
    except DataFileError as exc:
        fail(str(exc))
    if not data.is_file():
        fail(f"{data}: no such file")
    loaded = _load_model(model)
    total = count_rows(data)
    columns = [
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
    ]
    started = time.perf_counter()
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("score", total=total, rate="")

        def progress(done: int, of: int | None) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=of, rate=f"{rate:,.0f} rows/s")

        try:
            summary = score_file(
                data,
                out_path,
                loaded,
                explain=explain,
                chunk_rows=chunk_rows,
                decision_date=start_date,
                progress=progress,
                model_label=model,
            )
        except DataValidationError as exc:
            fail(_validation_line(exc) + "; nothing was written")
        except (DataFileError, ScoringError, CatalogueError) as exc:
            fail(f"{exc}; nothing was written")
    out.print(
        f"scored {summary.rows:,} rows in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s), "
        f"peak memory {summary.peak_rss_mb:,.0f} MiB, {summary.needs_review:,} flagged for careful review "
        f"→ {summary.out}",
        highlight=False,
        soft_wrap=True,
    )


# --------------------------------------------------------------------------- review


@command(app, "review")
def review_command(
    data: Annotated[Path, typer.Option("--data", help="Current profiles (.parquet or .csv), matched by person_id.")],
    as_of: Annotated[
        str,
        typer.Option("--as-of", help="Review date YYYY-MM-DD: decisions whose milestone is on or before it are due."),
    ],
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the changed people here (.parquet or .csv), "
            "with <stem>.missing and <stem>.summary.json beside it.",
        ),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option("--db-url", help="Decisions database URL; default JALON_DB_URL or $JALON_HOME/decisions.db."),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="Model URI (registry) or local MLflow model folder.")
    ] = DEFAULT_MODEL,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Changed people shown in the terminal table (all are in --out).")
    ] = 50,
) -> None:
    """Re-score the people due at their milestone and list those whose need or tier changed."""

    from batch.moved import field_label_fr
    from batch.review import ReviewInputError, review, write_review
    from features.io import DataFileError, file_format
    from features.validation import DataValidationError
    from records import DecisionStore, StoreError

    when = required_date(as_of, "--as-of")
    try:
        file_format(data)
        if out_path is not None:
            file_format(out_path)
    except DataFileError as exc:
        fail(str(exc))
    if not data.is_file():
        fail(f"{data}: no such file")
    url = existing_database_url(db_url)
    loaded = _load_model(model)
    try:
        store = DecisionStore(url)
    except StoreError as exc:
        fail(str(exc))
    try:
        with err.status("re-scoring the people due…"):
            result = review(data, store, loaded, when, model_version=_model_version(model))
    except DataValidationError as exc:
        fail(_validation_line(exc))
    except (DataFileError, ReviewInputError, StoreError) as exc:
        fail(str(exc))
    finally:
        store.dispose()

    c = result.counts
    out.print(
        f"review as of {when.isoformat()}: {c['due']:,} due, {c['rescored']:,} re-scored, "
        f"{c['changed']:,} changed, {c['unchanged']:,} unchanged, {c['missing']:,} missing from {data}",
        highlight=False,
        soft_wrap=True,
    )
    if len(result.changes):
        table = Table(
            "person_id",
            "milestone",
            "recorded",
            "new",
            "changed",
            "what moved",
            "proposed path",
            title=f"Need or tier changed ({min(limit, len(result.changes))} of {len(result.changes)} shown)",
        )
        for row in result.changes.head(limit).itertuples(index=False):
            fields = [field_label_fr(f) for f in str(row.moved_fields or "").split(";") if f]
            table.add_row(
                str(row.person_id),
                str(row.milestone_date),
                f"{row.recorded_need} / {row.recorded_tier}",
                f"{row.new_need} / {row.new_tier}",
                str(row.changed),
                ", ".join(fields[:4]),
                _proposed(row),
            )
        out.print(table)
        summary = result.summary()
        out.print(
            f"new path proposed for {summary['new_path_proposed']:,} people, "
            f"{summary['modality_changes']:,} of them with a change of modality (French proposals in --out)",
            highlight=False,
            soft_wrap=True,
        )
    if len(result.missing):
        shown = ", ".join(map(str, result.missing["person_id"].head(20)))
        more = f" and {len(result.missing) - 20} more" if len(result.missing) > 20 else ""
        out.print(f"due but absent from the data file: {shown}{more}", highlight=False, soft_wrap=True)
    if out_path is not None:
        written = write_review(result, out_path)
        out.print("wrote " + ", ".join(str(p) for p in written), highlight=False, soft_wrap=True)


def _proposed(row) -> str:
    """``GUIDE, 4 months (was RENFORCE)``: the path the review proposes for a changed person."""
    modality = getattr(row, "proposed_modality", None)
    if not modality:
        return "—"
    was = f" (was {row.recorded_modality or 'unknown'})" if row.modality_change else " (same modality)"
    return f"{modality}, {int(row.proposed_duration_months)} months{was}"


# --------------------------------------------------------------------------- allocate


def _read_scored(path: Path, order_by: str):
    """The columns allocation needs from a scored file, typed (CSV cells are text)."""
    import pandas as pd
    import pyarrow.parquet as pq

    from features.io import DataFileError, file_format, read_table
    from features.schema import FIELDS_BY_NAME
    from features.validation import rule_from_field, validate_frame
    from policy import GROUP_COLUMNS

    fmt = file_format(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        header = (
            pq.ParquetFile(path).schema_arrow.names
            if fmt == "parquet"
            else list(pd.read_csv(path, nrows=0, dtype=str).columns)
        )
    except Exception as exc:
        raise DataFileError(f"{path}: cannot be read as {fmt}: {exc}") from exc
    wanted = ["person_id", "agency_id", "need", "p_employed", order_by, *GROUP_COLUMNS]
    columns = [c for c in dict.fromkeys(wanted) if c in header]
    frame = read_table(path, columns=columns)
    if fmt == "csv":
        for name in dict.fromkeys(["p_employed", order_by]):
            if name in frame.columns:
                frame[name] = pd.to_numeric(frame[name].str.strip(), errors="coerce")
        rules = [
            rule_from_field(FIELDS_BY_NAME[c], required=False, nullable=True)
            for c in GROUP_COLUMNS
            if c in frame.columns and c in FIELDS_BY_NAME and c != "tier"
        ]
        frame = validate_frame(frame, rules, source=str(path))
    return frame


@command(app, "allocate")
def allocate_command(
    scored: Annotated[Path, typer.Option("--scored", help="Output of jalon score (.parquet or .csv).")],
    agency_config: Annotated[
        Path,
        typer.Option(
            "--agency-config",
            help="Capacities and priority (.yaml, .yml or .json): referents, caseload, provider places...",
        ),
    ],
    out_path: Annotated[
        Path, typer.Option("--out", help="Assignments (.parquet or .csv); <stem>.summary.json beside it.")
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Allocation date YYYY-MM-DD (start of intensive support); default today."),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url",
            help="Decisions database holding the intensive-support episodes (model 2's memory); "
            "default JALON_DB_URL or $JALON_HOME/decisions.db when it exists.",
        ),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the episodes this allocation starts (needs --by).")
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="Staff id recorded as the author of the episodes.")] = None,
) -> None:
    """Model 2: give the intensive places first (never-served people first), then the provider's, then portfolios."""
    from features.io import DataFileError, file_format
    from features.validation import DataValidationError
    from jalon.cli._episodes import history, open_episodes, record_new
    from policy import (
        TRACK_LABELS_FR,
        TRACKS,
        AgencyConfigError,
        AllocationInputError,
        allocate,
        left_out_path,
        load_agency_config,
        write_allocation,
    )

    when = parse_date(as_of, "--as-of") or date.today()
    if record and not by:
        fail("--record: give --by STAFF_ID, the author of the episodes recorded")
    store, history_line = open_episodes(db_url, record)
    try:
        file_format(out_path)
        config = load_agency_config(agency_config)
        frame = _read_scored(scored, config.priority.order_by)
        result = allocate(frame, config, when, history(store))
    except DataValidationError as exc:
        fail(_validation_line(exc))
    except (DataFileError, AgencyConfigError, AllocationInputError) as exc:
        fail(str(exc))
    finally:
        if store is not None and not record:
            store.dispose()
    recorded = 0
    if record and result.new_episodes is not None:
        try:  # recorded before the files are written: a refused record leaves no files behind
            recorded = record_new(store, result.new_episodes, config.agency_id, str(by))
        finally:
            store.dispose()
    written, side = write_allocation(result, out_path)

    cap = result.capacity_used
    table = Table(
        "track", "capacity", "used", title=f"Allocation as of {when.isoformat()}: {len(result.assignments):,} people"
    )
    for track in TRACKS:
        part = cap[cap["track"] == track]
        unlimited = part["capacity"].isna().any()
        capacity = "—" if track == "UNALLOCATED" else ("unlimited" if unlimited else f"{int(part['capacity'].sum()):,}")
        table.add_row(f"{track} ({TRACK_LABELS_FR[track]})", capacity, f"{int(part['used'].sum()):,}")
    out.print(table)
    agencies = cap["agency_id"].dropna().unique()
    if 1 < len(agencies) <= 12:
        per = Table("agency", *TRACKS, title="Used / capacity per agency")
        for agency in agencies:
            part = cap[cap["agency_id"] == agency].set_index("track")
            per.add_row(
                str(agency),
                *(
                    f"{int(part.at[t, 'used']):,}"
                    + (
                        ""
                        if t == "UNALLOCATED" or part["capacity"].isna()[t]
                        else f" / {int(part.at[t, 'capacity']):,}"
                    )
                    for t in TRACKS
                ),
            )
        out.print(per)
    h = result.history
    if store is not None:
        history_line += (
            f": {h.get('episodes_considered', 0):,} episodes of people in the file, {h.get('continuing', 0):,} "
            f"continuing, {h.get('already_served', 0):,} already served (rule {h.get('rule')})"
        )
    out.print(history_line, highlight=False, soft_wrap=True)
    if result.referent_loads is not None and len(result.referent_loads):
        loads = result.referent_loads
        out.print(
            f"référents: {len(loads):,} named, {int(loads['load'].sum()):,} people held, "
            f"caseload filled {int(loads['load'].min())}–{int(loads['load'].max())} of "
            f"{int(loads['caseload'].min())}–{int(loads['caseload'].max())}",
            highlight=False,
        )
    left = left_out_path(written)
    out.print(
        f"left out of intensive support (eligible, no place): {len(result.left_out):,} → {left}",
        highlight=False,
        soft_wrap=True,
    )
    if record:
        out.print(f"recorded {recorded:,} new intensive-support episodes by {by}", highlight=False)
    out.print(f"wrote {written}, {left} and {side}", highlight=False, soft_wrap=True)
