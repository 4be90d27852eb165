"""``jalon data``: make and check data files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from jalon.cli._common import command, err, fail, out

data_app = typer.Typer(help="Make and check data files.", no_args_is_help=True)


@command(data_app, "synth")
def data_synth(
    rows: Annotated[int, typer.Option(min=1, help="Number of people to generate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives a byte-identical file.")] = 1,
    out_path: Annotated[Path, typer.Option("--out", help="Output file, .parquet or .csv.")] = Path("synthetic.parquet"),
    label_bias: Annotated[
        str | None,
        typer.Option(
            help="Make one group's recorded labels worse than its true ones, e.g. nationality_group=NON_EU=0.5 "
            "(off by default; for demonstrating the fairness audit)."
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="Print the calibration marginals and the Bayes figures.")] = True,
) -> None:
    """Generate a synthetic population calibrated on published figures, with its true probabilities."""
    from features.io import file_format, write_table
    from synthetic import bayes_reference, calibration_report, generate_population, parse_label_bias

    file_format(out_path)
    bias = parse_label_bias(label_bias) if label_bias else None
    started = time.perf_counter()
    frame = generate_population(rows, seed, label_bias=bias)
    write_table(frame, out_path)
    err.log(f"wrote {rows:,} rows to {out_path} in {time.perf_counter() - started:.1f} s")
    if report:
        table = Table("indicator", "measured", "target", "tolerance", "ok", title="Calibration")
        for row in calibration_report(frame):
            table.add_row(*(str(v) if not isinstance(v, float) else f"{v:.3f}" for v in row))
        out.print(table)
        out.print({k: round(v, 4) for k, v in bayes_reference(frame).items()})


@command(data_app, "validate")
def data_validate(
    path: Annotated[Path, typer.Argument(help="Data file (.parquet or .csv) to check.")],
    spec: Annotated[Path | None, typer.Option(help="YAML spec; default: the reference profile.")] = None,
    labels: Annotated[bool, typer.Option(help="Require the label columns (training data).")] = False,
) -> None:
    """Check a data file against the profile schema or a spec; list every bad row and field."""
    from features.io import DataFileError, file_format, read_table
    from features.spec import SpecError, load_spec
    from features.validation import DataValidationError, profile_rules, validate_frame

    try:
        frame = read_table(path)
        typed_file = file_format(path) == "parquet"
        if spec is None:
            validate_frame(frame, profile_rules(labels=labels), source=str(path), typed_file=typed_file)
        else:
            load_spec(spec).validate_data(frame, source=str(path), typed_file=typed_file)
    except DataValidationError as exc:
        for message in exc.messages:
            out.print(message, highlight=False, markup=False)
        fail(f"{path}: {len(exc.messages)} problem(s)")
    except (DataFileError, SpecError) as exc:
        fail(str(exc))
    out.print(f"{path}: {len(frame):,} rows, valid")
