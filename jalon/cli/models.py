"""``jalon train``, ``jalon promote``, ``jalon models``: training and the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

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
    )
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
    forced = " (forced: " + "; ".join(outcome["reasons"]) + ")" if outcome["forced"] else ""
    out.print(f"champion: version {outcome['version']} (was {outcome['previous'] or 'none'}){forced}")


@command(app)
def promote(
    version: Annotated[str, typer.Argument(help="Version number to promote, or 'latest'.")],
    force: Annotated[bool, typer.Option(help="Override the quality and fairness gate.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the gate is overridden (required with --force).")] = None,
) -> None:
    """Move the 'champion' alias to VERSION if it is not worse than the champion and within fairness bounds."""
    _promote(version, force, reason)


@command(app)
def models() -> None:
    """List registered versions with their key figures and aliases."""
    from core.config import get_settings
    from training import registry

    client = registry.configure(get_settings())
    # Readable at 80 columns (a pipe, a CI log): `make run` greps the alias to reuse a champion.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("ver", "aliases", "created", "need F1", "emp AUC", "ECE", "gap miss/ECE", "seed"):
        table.add_column(header, no_wrap=True)
    forced = []
    for v in registry.list_versions(client):
        m = v.metrics

        def figure(key: str, metrics: dict[str, float] = m) -> str:
            return f"{metrics[key]:.3f}" if key in metrics else "—"

        table.add_row(
            v.version,
            ",".join(v.aliases) or "—",
            v.created[:10],
            figure("need_macro_f1"),
            figure("emp_auc"),
            figure("emp_ece"),
            f"{figure('fair_max_missed_support_gap')}/{figure('fair_max_ece_gap')}",
            v.tags.get("seed", ""),
        )
        if v.tags.get("forced_promotion_reason"):
            forced.append(f"version {v.version} was promoted over the gate: {v.tags['forced_promotion_reason']}")
    out.print(table)
    for line in forced:
        out.print(line, highlight=False, soft_wrap=True)
