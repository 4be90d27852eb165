"""``jalon train``, ``jalon promote``, ``jalon models``: training and the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from core.config import REGISTERED_MODEL_NAME
from core.thresholds import TIER_A_MIN, TIER_B_MIN
from jalon.cli._common import command, fail, out, progress

app = typer.Typer()


@command(app)
def train(
    data: Annotated[Path, typer.Option(help="Training data (.parquet or .csv) with labels.")],
    spec: Annotated[Path | None, typer.Option(help="YAML spec of the data's columns; default: the profile.")] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = "jalon-segmentation",
    seed: Annotated[int, typer.Option(help="Seed of the split, the search and the models.")] = 0,
    trials: Annotated[int, typer.Option(min=1, max=5, help="Candidates of the seeded search per model.")] = 3,
    tier_a: Annotated[float, typer.Option(help="Tier A band: calibrated probability at least this.")] = TIER_A_MIN,
    tier_b: Annotated[float, typer.Option(help="Tier B band: calibrated probability at least this.")] = TIER_B_MIN,
    promote: Annotated[bool, typer.Option(help="Promote the new version to champion if the gate allows.")] = False,
    without_sensitive: Annotated[
        bool,
        typer.Option(
            help="Keep the spec's sensitive columns (age, disability...) out of the inputs; they are still audited. "
            "The version is registered under its own name (<model>-without-sensitive)."
        ),
    ] = False,
    compare_variants: Annotated[
        bool,
        typer.Option(help="Also fit the other variant (with / without sensitive inputs) and compare in the report."),
    ] = True,
    no_audit_reason: Annotated[
        str | None, typer.Option(help="With --promote: why a version that could not be audited may be promoted.")
    ] = None,
) -> None:
    """Train both models, evaluate against baselines and Bayes, audit fairness, report, register."""
    from core.thresholds import TierBands
    from training.run import run_training

    bands = TierBands(a=tier_a, b=tier_b)
    result = run_training(
        data,
        spec,
        experiment=experiment,
        seed=seed,
        n_trials=trials,
        tier_bands=bands,
        promote=False,
        progress=progress,
        without_sensitive=without_sensitive,
        compare_variants=compare_variants,
    )
    table = Table("metric", "value", title=f"Test-split figures, version {result.version}")
    for key in sorted(result.metrics):
        table.add_row(key, f"{result.metrics[key]:.4f}")
    out.print(table)
    for finding in result.findings:
        out.print(f"fairness: {finding}", highlight=False)
    out.print(
        f"run {result.run_id}, registered {result.model_name} version {result.version}, {result.seconds:.1f} s",
        highlight=False,
    )
    if promote:
        _promote(result.version, force=False, reason=None, name=result.model_name, no_audit_reason=no_audit_reason)


def _promote(version: str, force: bool, reason: str | None, name: str, no_audit_reason: str | None) -> None:
    from core.config import get_settings
    from training import registry

    client = registry.configure(get_settings())
    try:
        outcome = registry.promote(
            client, version, force=force, reason=reason, name=name, no_audit_reason=no_audit_reason
        )
    except registry.PromotionRefused as exc:
        fail(str(exc) + "\n(use --force --reason TEXT to override; the reason is recorded)", code=1)
    forced = " (forced: " + "; ".join(outcome["reasons"]) + ")" if outcome["forced"] else ""
    out.print(f"{name} champion: version {outcome['version']} (was {outcome['previous'] or 'none'}){forced}")


@command(app)
def promote(
    version: Annotated[str, typer.Argument(help="Version number to promote, or 'latest'.")],
    model: Annotated[
        str, typer.Option(help="Registered model (one per spec; see `jalon models`).")
    ] = REGISTERED_MODEL_NAME,
    force: Annotated[bool, typer.Option(help="Override the quality and fairness gate.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the gate is overridden (required with --force).")] = None,
    no_audit_reason: Annotated[
        str | None, typer.Option(help="Why a version that could not be audited may be promoted (recorded).")
    ] = None,
) -> None:
    """Move the 'champion' alias to VERSION if it is not worse than the champion and within fairness bounds."""
    _promote(version, force, reason, model, no_audit_reason)


def _audit_cell(metrics: dict[str, float]) -> str:
    if metrics.get("fair_audited") == 0.0:
        return "not audited"
    alerts = metrics.get("fair_alerts")
    return "—" if alerts is None else ("no alert" if alerts == 0 else f"{int(alerts)} alert(s)")


@command(app)
def models(
    model: Annotated[str | None, typer.Option(help="Only this registered model.")] = None,
) -> None:
    """List registered models and their versions: aliases, spec, data hash, key figures, audit."""

    from core.config import get_settings
    from training import registry

    client = registry.configure(get_settings())
    versions = registry.list_versions(client, model)
    if not versions:
        out.print("no registered model yet: run `jalon train --data FILE [--spec SPEC.yaml]`")
        return
    for name in dict.fromkeys(v.name for v in versions):
        mine = [v for v in versions if v.name == name]
        spec = mine[0].tags.get("spec_name", "?")
        table = Table(title=f"{name} (spec {spec})", title_justify="left", box=box.SIMPLE, pad_edge=False)
        for header in ("v", "aliases", "created", "data", "F1", "AUC", "ECE", "audit"):
            table.add_column(header, no_wrap=True)
        for v in mine:
            m = v.metrics
            table.add_row(
                v.version,
                ",".join(v.aliases) or "—",
                v.created[5:],
                v.tags.get("data_sha256", "")[:8] or "—",
                *(f"{m[k]:.3f}" if k in m else "—" for k in ("need_macro_f1", "emp_auc", "emp_ece")),
                _audit_cell(m),
            )
        out.print(table)
    out.print(
        "data: first 8 characters of the training file's SHA-256; F1: need macro-F1; AUC, ECE: employability",
        highlight=False,
    )
