"""The ``jalon`` command: data, training, registry, serving, scoring and orientation.

Each command is a thin wrapper: the work is done in ``features``, ``training``,
``serving`` and ``policy``, where it is tested without the command line.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.config import DEFAULT_WORKERS
from core.thresholds import TIER_A_MIN, TIER_B_MIN

app = typer.Typer(help="Jalon: explained need and employability suggestions that advisors confirm or override.",
                  no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Make and check data files.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> None:
    """Print a clear error (no traceback) and exit non-zero."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def _progress(message: str) -> None:
    console.log(message)


# -- data ------------------------------------------------------------------------------
@data_app.command("synth")
def data_synth(
    rows: Annotated[int, typer.Option(min=1, help="Number of people to generate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives a byte-identical file.")] = 1,
    out_path: Annotated[Path, typer.Option("--out", help="Output file, .parquet or .csv.")] = Path(
        "synthetic.parquet"),
    label_bias: Annotated[str | None, typer.Option(
        help="Make one group's recorded labels worse than its true ones, e.g. nationality_group=NON_EU=0.5 "
             "(off by default; for demonstrating the fairness audit).")] = None,
    report: Annotated[bool, typer.Option(help="Print the calibration marginals and the Bayes figures.")] = True,
) -> None:
    """Generate a synthetic population calibrated on published figures, with its true probabilities."""
    from features.io import DataFileError, file_format, write_table
    from synthetic import bayes_reference, calibration_report, generate_population, parse_label_bias

    try:
        file_format(out_path)
        bias = parse_label_bias(label_bias) if label_bias else None
    except (ValueError, DataFileError) as exc:
        fail(str(exc))
    started = time.perf_counter()
    frame = generate_population(rows, seed, label_bias=bias)
    write_table(frame, out_path)
    console.log(f"wrote {rows:,} rows to {out_path} in {time.perf_counter() - started:.1f} s")
    if report:
        table = Table("indicator", "measured", "target", "tolerance", "ok", title="Calibration")
        for row in calibration_report(frame):
            table.add_row(*(str(v) if not isinstance(v, float) else f"{v:.3f}" for v in row))
        out.print(table)
        out.print({k: round(v, 4) for k, v in bayes_reference(frame).items()})


@data_app.command("validate")
def data_validate(
    path: Annotated[Path, typer.Argument(help="Data file (.parquet or .csv) to check.")],
    spec: Annotated[Path | None, typer.Option(help="YAML spec; default: the reference profile.")] = None,
    labels: Annotated[bool, typer.Option(help="Require the label columns (training data).")] = False,
) -> None:
    """Check a data file against the profile schema or a spec; list every bad row and field."""
    from features.io import DataFileError, read_table
    from features.spec import SpecError, load_spec
    from features.validation import DataValidationError, profile_rules, validate_frame

    try:
        frame = read_table(path)
        if spec is None:
            validate_frame(frame, profile_rules(labels=labels), source=str(path))
        else:
            load_spec(spec).validate_data(frame, source=str(path))
    except DataValidationError as exc:
        for message in exc.messages:
            out.print(message, highlight=False, markup=False)
        fail(f"{path}: {len(exc.messages)} problem(s)")
    except (DataFileError, SpecError) as exc:
        fail(str(exc))
    out.print(f"{path}: {len(frame):,} rows, valid")


# -- training and registry -------------------------------------------------------------
@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Training data (.parquet or .csv) with labels.")],
    spec: Annotated[Path | None, typer.Option(help="YAML spec of the data's columns; default: the profile.")] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = "jalon-segmentation",
    seed: Annotated[int, typer.Option(help="Seed of the split, the search and the models.")] = 0,
    trials: Annotated[int, typer.Option(min=1, max=5, help="Candidates of the seeded search per model.")] = 3,
    tier_a: Annotated[float, typer.Option(help="Tier A band: calibrated probability at least this.")] = TIER_A_MIN,
    tier_b: Annotated[float, typer.Option(help="Tier B band: calibrated probability at least this.")] = TIER_B_MIN,
    promote: Annotated[bool, typer.Option(help="Promote the new version to champion if the gate allows.")] = False,
) -> None:
    """Train both models, evaluate against baselines and Bayes, audit fairness, report, register."""
    from features.io import DataFileError
    from features.spec import SpecError
    from features.validation import DataValidationError
    from models.segmentation import TierBands
    from training.run import run_training

    try:
        bands = TierBands(a=tier_a, b=tier_b)
        result = run_training(data, spec, experiment=experiment, seed=seed, n_trials=trials, tier_bands=bands,
                              promote=False, progress=_progress)
    except (DataValidationError, DataFileError, SpecError, ValueError) as exc:
        fail(str(exc))
    table = Table("metric", "value", title=f"Test-split figures, version {result.version}")
    for key in sorted(result.metrics):
        table.add_row(key, f"{result.metrics[key]:.4f}")
    out.print(table)
    for finding in result.findings:
        out.print(f"fairness: {finding}", highlight=False)
    out.print(f"run {result.run_id}, registered version {result.version}, {result.seconds:.1f} s")
    if promote:
        _promote(result.version, force=False, reason=None)


def _promote(version: str, force: bool, reason: str | None) -> None:
    from core.config import get_settings
    from training import registry

    client = registry.configure(get_settings())
    try:
        outcome = registry.promote(client, version, force=force, reason=reason)
    except registry.PromotionRefused as exc:
        fail(str(exc) + "\n(use --force --reason TEXT to override; the reason is recorded)", code=1)
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    forced = " (forced: " + "; ".join(outcome["reasons"]) + ")" if outcome["forced"] else ""
    out.print(f"champion: version {outcome['version']} (was {outcome['previous'] or 'none'}){forced}")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="Version number to promote, or 'latest'.")],
    force: Annotated[bool, typer.Option(help="Override the quality and fairness gate.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the gate is overridden (required with --force).")] = None,
) -> None:
    """Move the 'champion' alias to VERSION if it is not worse than the champion and within fairness bounds."""
    _promote(version, force, reason)


@app.command()
def models() -> None:
    """List registered versions with their key figures and aliases."""
    from core.config import get_settings
    from training import registry

    client = registry.configure(get_settings())
    table = Table("version", "aliases", "created", "need_macro_f1", "emp_auc", "emp_ece",
                  "fair_missed_gap", "fair_ece_gap", "seed", "forced")
    for v in registry.list_versions(client):
        m = v.metrics
        table.add_row(v.version, ",".join(v.aliases), v.created,
                      *(f"{m[k]:.4f}" if k in m else "—" for k in
                        ("need_macro_f1", "emp_auc", "emp_ece", "fair_max_missed_support_gap", "fair_max_ece_gap")),
                      v.tags.get("seed", ""), v.tags.get("forced_promotion_reason", ""))
    out.print(table)


# -- orientation: batch scoring, model 2 allocation, milestone review -------------------
from jalon.cli.batch import allocate_command, review_command, score_command  # noqa: E402

app.command("score")(score_command)
app.command("allocate")(allocate_command)
app.command("review")(review_command)


# -- serving ---------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    workers: Annotated[int, typer.Option(min=1, help="Server worker processes (one per core; each loads the "
                                                     "model, about 330 MiB).")] = DEFAULT_WORKERS,
) -> None:
    """Serve the champion model with BentoML (imported from the MLflow registry first)."""
    import subprocess

    from core.config import PROJECT_ROOT, get_settings
    from serving.bento_model import NoChampion, import_champion

    settings = get_settings().ensure()
    try:
        tag, version = import_champion(settings)
    except NoChampion as exc:
        fail(str(exc), code=1)
    env = {**os.environ, "BENTOML_HOME": str(settings.bentoml_home), "JALON_BENTO_MODEL": tag,
           "JALON_HOME": str(settings.home), "JALON_WORKERS": str(workers)}
    console.log(f"serving {tag} (registry version {version}) on http://{host}:{port} — advisor page at /ui/")
    command = [sys.executable, "-m", "bentoml", "serve", "serving.service:Jalon", "--host", host,
               "--port", str(port)]
    raise typer.Exit(subprocess.call(command, cwd=PROJECT_ROOT, env=env))


@app.command()
def token(
    subject: Annotated[str, typer.Argument(help="Pseudonymous id of the advisor, auditor or admin.")],
    role: Annotated[str, typer.Option(help="advisor, auditor or admin.")] = "advisor",
) -> None:
    """Create a bearer token; only its hash is stored (in JALON_TOKENS_FILE). The token is printed once."""
    from core.config import get_settings
    from serving.auth import TokenError, issue_token

    settings = get_settings().ensure()
    try:
        value = issue_token(settings.tokens_file, subject, role)
    except TokenError as exc:
        fail(str(exc))
    out.print(value, highlight=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
