"""``jalon experiment`` and ``jalon outcomes``: the MSA experiment from the agency register to the report.

Each command is a thin wrapper over :mod:`records.experiment` (what is recorded),
:mod:`policy.draw` (the draw) and :mod:`evaluation` (power, effects, report); see
``docs/experiment.md``. A refused request (bad file, second draw without ``--replace
--reason``, unknown people...) prints one line on stderr and exits with status 2.
What is recorded names its author as ``cli:<login>`` (the account running the command).
"""

from __future__ import annotations

import getpass
import hashlib
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from core.errors import InvalidInput
from jalon.cli._common import command, err, out

experiment_app = typer.Typer(
    help="The MSA experiment: agency register, draw, power, baseline cohort, evaluation.", no_args_is_help=True
)
outcomes_app = typer.Typer(help="Outcomes of the MSA experiment's cohort.", no_args_is_help=True)


def author() -> str:
    """``cli:<login>``: who ran the command (recorded with what it records)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"cli:{login}"[:128]


def command_line() -> str:
    """The command as typed (recorded in the draw's metadata)."""
    return shlex.join(["jalon", *sys.argv[1:]])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def experiment_records() -> Iterator:
    from records import DecisionStore, ExperimentRecords

    store = DecisionStore()
    try:
        yield ExperimentRecords(store)
    finally:
        store.dispose()


def _read(path: Path) -> pd.DataFrame:
    from features.io import read_table

    return read_table(path)


# --------------------------------------------------------------------------- register


@command(experiment_app, "agencies")
def agencies_command(
    path: Annotated[Path, typer.Argument(help="Agency register (.parquet or .csv), one row per agency.")],
) -> None:
    """Record the agency register (id, name, region, size, covariates; agencies added by hand and their model).

    Columns: agency_id, name, region, size (registered job seekers) and, optionally,
    share_long_term_unemployed, share_rsa, baseline_employment_rate (0 to 1), added_by_hand
    (true/false) and arm_by_hand (MODEL_1 or MODEL_2, only for agencies added by hand).
    Each load is a new version; the same table again records nothing.
    """
    frame = _read(path)
    with experiment_records() as records:
        version, created = records.load_register(frame, source=path.name, loaded_by=author())
        current = records.current_draw()
    hand = (
        int(frame["added_by_hand"].astype(str).str.lower().isin(["true", "1"]).sum()) if "added_by_hand" in frame else 0
    )
    if not created:
        out.print(
            f"{path}: same register as version {version.version} (sha256 {version.sha256[:12]}…): nothing recorded"
        )
        return
    out.print(
        f"agency register version {version.version} recorded: {version.n_agencies:,} agencies "
        f"({hand} added by hand, outside the draw), sha256 {version.sha256[:12]}…"
    )
    if current is not None:
        err.print(
            f"note: the current draw ({current.sequence}) was made on register version {current.register_version}; "
            "this register is used by the next draw (--replace --reason)"
        )


# --------------------------------------------------------------------------- draw


def _balance_table(balance: pd.DataFrame) -> Table:
    table = Table("covariate", "arm", "mean arm", "mean control", "SMD", "|SMD| > 0.1", title="Balance against control")
    for row in balance.itertuples(index=False):
        table.add_row(
            str(row.covariate),
            str(row.arm),
            f"{row.mean_arm:.4g}",
            f"{row.mean_control:.4g}",
            f"{row.smd:+.3f}",
            "FLAG" if row.flagged else "",
        )
    return table


@command(experiment_app, "draw")
def draw_command(
    arms: Annotated[str, typer.Option(help="Agencies to draw per arm, e.g. MODEL_1=80,MODEL_2=20.")],
    seed: Annotated[int, typer.Option(help="Seed of the draw (announce it beforehand).")],
    out_path: Annotated[Path, typer.Option("--out", help="The draw, CSV (a .meta.json sidecar is written beside).")],
    strata: Annotated[
        str, typer.Option(help="Stratum columns, comma-separated (size_band is derived from size).")
    ] = "region,size_band",
    agencies: Annotated[
        Path | None,
        typer.Option(help="Draw from this register file instead of the recorded one (must be the recorded one)."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace the recorded draw (both are kept); needs --reason.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the recorded draw is replaced (recorded).")] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Draw, print and write the files, record nothing (anyone can verify a draw).")
    ] = False,
) -> None:
    """Draw the agencies by lot: stratified, proportional within strata, the rest CONTROL; verifiable.

    Anyone with the same register and seed gets the same draw.csv, byte for byte. The draw is
    recorded: from then on each agency's arm decides what the service suggests there.
    """
    from policy.draw import balance_table, draw_arms, parse_arms
    from records.experiment_inputs import register_frame

    if out_path.suffix.lower() != ".csv":
        raise InvalidInput(f"--out: {out_path} must be a .csv file (the draw is CSV, its sidecar .meta.json)")
    if dry_run and (replace or reason):
        raise InvalidInput("--replace/--reason: a dry run records nothing, so it replaces nothing")
    wanted = parse_arms(arms)
    columns = [c.strip() for c in strata.split(",") if c.strip()]
    balance_path = out_path.with_name(out_path.stem + ".balance.csv")
    with experiment_records() as records:
        recorded = records.register()
        if agencies is not None:
            register = register_frame(_read(agencies), agencies.name)
            result = draw_arms(register, wanted, columns, seed, command=command_line())
            if not dry_run and (recorded is None or recorded[0].sha256 != result.input_sha256):
                raise InvalidInput(
                    f"agencies: {agencies} is not the recorded agency register; record it first "
                    "(jalon experiment agencies FILE) or verify with --dry-run"
                )
        elif recorded is None:
            raise InvalidInput(
                "agencies: no agency register is recorded; load one first (jalon experiment agencies FILE)"
            )
        else:
            register = recorded[1]
            result = draw_arms(register, wanted, columns, seed, command=command_line())
        sequence = None
        if not dry_run and recorded is not None:
            sequence = records.record_draw(
                result, register_version=recorded[0].version, recorded_by=author(), replace=replace, reason=reason
            ).sequence
    written, side = result.to_csv(out_path)
    balance = balance_table(register, result)
    balance.to_csv(balance_path, index=False, lineterminator="\n")
    counts = result.counts()
    out.print(
        "draw "
        + ("(dry run, not recorded)" if sequence is None else f"{sequence} recorded")
        + f": seed {seed}, strata {', '.join(columns) or 'none'}, "
        + ", ".join(f"{name} {count}" for name, count in counts.items())
    )
    out.print(_balance_table(balance))
    flagged = int(balance["flagged"].sum())
    out.print(
        f"{flagged} of {len(balance)} covariate × arm differences exceed |SMD| 0.1"
        + (" (common by chance with few agencies in an arm; the report shows the table)" if flagged else "")
    )
    out.print(f"wrote {written}, {side} and {balance_path}")


@command(experiment_app, "history")
def history_command(
    agency: Annotated[str | None, typer.Argument(help="An agency id: its arm in every recorded draw.")] = None,
) -> None:
    """The recorded registers and draws (who, when, seed, why a draw was replaced), or one agency's arms."""
    with experiment_records() as records:
        if agency is not None:
            rows = records.arm_history(agency)
            if not rows:
                raise InvalidInput(f"agency: {agency!r} is in no recorded draw")
            table = Table("draw", "arm drawn", "model run", "added by hand", "recorded", "by", "reason")
            for arm, head in rows:
                table.add_row(
                    str(arm.draw_sequence),
                    arm.arm,
                    arm.served_arm or "none (control)",
                    "yes" if arm.added_by_hand else "",
                    f"{head['recorded_at']:%Y-%m-%d %H:%M}",
                    head["recorded_by"],
                    head["reason"] or "",
                )
            out.print(table)
            return
        registers, draws = records.registers(), records.draws()
    table = Table("register", "agencies", "sha256", "loaded", "by", "file", title="Agency registers")
    for r in registers:
        table.add_row(
            str(r.version), f"{r.n_agencies:,}", r.sha256[:12], f"{r.loaded_at:%Y-%m-%d %H:%M}", r.loaded_by, r.source
        )
    out.print(table)
    table = Table("draw", "register", "seed", "arms", "recorded", "by", "replaces", "reason", title="Draws")
    for d in draws:
        table.add_row(
            str(d["sequence"]),
            str(d["register_version"]),
            str(d["seed"]),
            ", ".join(f"{k} {v}" for k, v in sorted(d["counts"].items())),
            f"{d['recorded_at']:%Y-%m-%d %H:%M}",
            d["recorded_by"],
            str(d["replaces"] or ""),
            d["reason"] or "",
        )
    out.print(table)


# --------------------------------------------------------------------------- power


@command(experiment_app, "power")
def power_command(
    arms: Annotated[str, typer.Option(help="Agencies per arm, e.g. MODEL_1=80,MODEL_2=20.")] = "MODEL_1=80,MODEL_2=20",
    agencies: Annotated[int, typer.Option(help="Agencies in all (drawn, controls, added by hand).")] = 900,
    people_per_agency: Annotated[float, typer.Option(help="Mean job seekers per agency in the cohort.")] = 1000,
    icc: Annotated[float, typer.Option(help="Intra-agency correlation of six-month employment (assumption).")] = 0.02,
    baseline_rate: Annotated[float, typer.Option(help="Six-month employment rate without the models.")] = 0.42,
    r2: Annotated[float, typer.Option(help="Within-agency variance share explained by the baseline score.")] = 0.24,
    r2_agency: Annotated[float, typer.Option(help="Between-agency variance share explained by it.")] = 0.0,
    cluster_size_cv: Annotated[float, typer.Option(help="Coefficient of variation of agency sizes.")] = 0.5,
    alpha: Annotated[float, typer.Option(help="Two-sided test level.")] = 0.05,
    power: Annotated[float, typer.Option(help="Power wanted.")] = 0.80,
    hand_added: Annotated[int, typer.Option(help="Agencies added by hand (neither drawn nor controls).")] = 0,
    check: Annotated[
        int, typer.Option(help="Simulated experiments checking the formula at each arm's MDE (0: none).")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the simulation check.")] = 1,
) -> None:
    """Minimum detectable effect on six-month employment, each arm against control, checked by simulation."""
    from evaluation import Design, experiment_power, simulate_power
    from policy.draw import parse_arms

    for name, value in (("--check", check), ("--seed", seed), ("--hand-added", hand_added)):
        if value < 0:
            raise InvalidInput(f"{name}: must be a whole number ≥ 0, got {value}")
    wanted = parse_arms(arms)
    table = experiment_power(
        wanted,
        agencies,
        people_per_agency,
        icc,
        baseline_rate,
        r2=r2,
        r2_agency=r2_agency,
        cluster_size_cv=cluster_size_cv,
        alpha=alpha,
        power=power,
        hand_added=hand_added,
    )
    columns = ["arm", "agencies", "controls", "MDE", "MDE without score", "gain", "design effect", "df"]
    if check:
        columns += [f"simulated power at MDE ({check} runs)"]
    shown = Table(*columns, title=f"Power: alpha {alpha:g}, power {power:.0%}, ICC {icc:g}, rate {baseline_rate:g}")
    for row in table.to_dict("records"):
        cells = [
            str(row["arm"]),
            str(row["treated_agencies"]),
            str(row["control_agencies"]),
            f"{100 * row['mde']:.2f} pts",
            f"{100 * row['mde_unadjusted']:.2f} pts",
            f"{100 * row['adjustment_gain']:.1f} %",
            f"{row['design_effect']:.2f}",
            str(row["degrees_of_freedom"]),
        ]
        if check:
            design = Design(
                int(row["treated_agencies"]),
                int(row["control_agencies"]),
                people_per_agency,
                icc,
                baseline_rate,
                r2,
                r2_agency,
                cluster_size_cv,
                alpha,
                power,
            )
            simulated = simulate_power(design, float(row["mde"]), check, seed)
            cells.append(f"{simulated.rejection_rate:.1%} (target {power:.0%})")
        shown.add_row(*cells)
    out.print(shown)
    out.print(
        "MDE: smallest true effect the design detects with the power asked (clustered by agency, Student's t with "
        "min(arm, controls) - 1 degrees of freedom); gain: what adjusting for the baseline score saves."
    )


# --------------------------------------------------------------------------- cohort and outcomes


@command(experiment_app, "baseline")
def baseline_command(
    path: Annotated[Path, typer.Argument(help="Scored file before the experiment (jalon score output).")],
) -> None:
    """Record the experiment's cohort: each person's agency and baseline score before the experiment.

    Columns kept: person_id, agency_id, p_employed, and tier and need when present.

    Scored everywhere, control agencies included (batch scoring for the evaluation is allowed in
    every agency). Other columns of the scored file are not recorded.
    """
    frame = _read(path)
    with experiment_records() as records:
        summary = records.load_baseline(frame, source=path.name, sha256=file_sha256(path), loaded_by=author())
    out.print(f"baseline cohort: {summary.n_rows:,} people recorded from {path.name} (load {summary.load_id})")


@command(outcomes_app, "load")
def outcomes_load_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="Outcomes (.parquet or .csv): person_id, agency_id, observed_on, employed_6m and/or days_worked."
        ),
    ],
) -> None:
    """Record six-month outcomes of the cohort: all or nothing (unknown people listed, duplicates refused)."""
    frame = _read(path)
    with experiment_records() as records:
        summary = records.load_outcomes(frame, source=path.name, sha256=file_sha256(path), loaded_by=author())
    out.print(f"outcomes: {summary.n_rows:,} people recorded from {path.name} (load {summary.load_id})")


# --------------------------------------------------------------------------- evaluation


@command(experiment_app, "evaluate")
def evaluate_command(
    out_path: Annotated[Path, typer.Option("--out", help="The French HTML report (report.json is written beside).")],
    outcomes: Annotated[Path | None, typer.Option(help="Outcomes file (default: the recorded outcomes).")] = None,
    baseline: Annotated[Path | None, typer.Option(help="Baseline scored file (default: the recorded cohort).")] = None,
    draw: Annotated[Path | None, typer.Option(help="draw.csv (default: the recorded current draw).")] = None,
    agencies: Annotated[
        Path | None, typer.Option(help="Agency register for the balance table (default: the draw's recorded one).")
    ] = None,
    allocation: Annotated[
        Path | None, typer.Option(help="Model 2 allocation of the MODEL_2 agencies (observed/expected by track).")
    ] = None,
    ri_draws: Annotated[int, typer.Option(help="Re-draws for the randomisation-inference p-value.")] = 1000,
    ri_seed: Annotated[int | None, typer.Option(help="Seed of the re-draws (default: fixed).")] = None,
    alpha: Annotated[float, typer.Option(help="Level of the confidence intervals (two-sided).")] = 0.05,
) -> None:
    """Intention-to-treat effect of each model against control, with randomisation inference; French report."""
    from evaluation import DEFAULT_RI_SEED, evaluate_experiment, json_path, write_report
    from policy.draw import load_draw
    from records.experiment_inputs import register_frame

    if ri_seed is not None and ri_seed < 0:
        raise InvalidInput(f"--ri-seed: must be a whole number ≥ 0, got {ri_seed}")
    with experiment_records() as records:
        if draw is not None:
            result = load_draw(draw)
            register = register_frame(_read(agencies), agencies.name) if agencies is not None else None
        else:
            recorded = records.current_draw()
            if recorded is None:
                raise InvalidInput("draw: no draw is recorded; give --draw draw.csv")
            result = recorded.result
            if agencies is not None:
                register = register_frame(_read(agencies), agencies.name)
            else:
                found = records.register(recorded.register_version)
                register = None if found is None else found[1]
        people = records.baseline() if baseline is None else _read(baseline)
        found_outcomes = records.outcomes() if outcomes is None else _read(outcomes)
    if people.empty:
        raise InvalidInput("baseline: no cohort is recorded; give --baseline SCORED_FILE")
    if found_outcomes.empty:
        raise InvalidInput("outcomes: no outcome is recorded; give --outcomes FILE")
    if "employed_6m" in found_outcomes.columns and found_outcomes["employed_6m"].isna().any():
        missing = int(found_outcomes["employed_6m"].isna().sum())
        raise InvalidInput(
            f"employed_6m: {missing:,} outcomes have no employed_6m (days worked only); the evaluation's outcome "
            "is employed_6m"
        )
    # Person order, whatever the source: the report from the records and from the files are the same bytes.
    found_outcomes = found_outcomes.drop(columns=["days_worked"], errors="ignore")
    found_outcomes = found_outcomes.sort_values("person_id", kind="stable", key=lambda c: c.astype(str))
    people = people.sort_values("person_id", kind="stable", key=lambda c: c.astype(str))
    evaluation = evaluate_experiment(
        found_outcomes,
        people,
        result,
        agencies=register,
        allocation=_read(allocation) if allocation is not None else None,
        ri_draws=ri_draws,
        ri_seed=DEFAULT_RI_SEED if ri_seed is None else ri_seed,
        alpha=alpha,
    )
    write_report(evaluation, out_path)
    table = Table("arm", "effect", f"{1 - alpha:.0%} CI", "p (randomisation)", "p (CR1)", "agencies", "people")
    for row in evaluation.main_effects().to_dict("records"):
        table.add_row(
            str(row["arm"]),
            f"{100 * row['estimate']:+.2f} pts",
            f"[{100 * row['ci_low']:+.2f}, {100 * row['ci_high']:+.2f}]",
            f"{row['p_value_ri']:.3f}",
            f"{row['p_value_cr1']:.3f}",
            str(row["n_agencies"]),
            f"{row['n_people']:,}",
        )
    out.print(table)
    counts = evaluation.counts
    out.print(
        f"controls: {evaluation.main_effects()['n_control_agencies'].iloc[0]} agencies; "
        f"added by hand (left out): {counts['by_arm'].get('HAND_ADDED', 0):,} people; "
        f"baseline people without outcome: {counts['baseline_without_outcome']:,}"
    )
    out.print(f"wrote {out_path} and {json_path(out_path)}")
