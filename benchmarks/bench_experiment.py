"""Proof by simulation of the MSA experiment's evaluation, and its cost at full scale.

Usage::

    .venv/bin/python benchmarks/bench_experiment.py                      # both parts
    .venv/bin/python benchmarks/bench_experiment.py --only simulate --replications 500
    .venv/bin/python benchmarks/bench_experiment.py --only scale --rows 1000000 --ri-draws 1000

**simulate.** One synthetic territory of ``--agencies`` agencies (``generate_agencies``) and
``--agencies`` x ``--people-per-agency`` people with an agency random effect of ICC ``--icc``
(``generate_population(..., agencies=, icc=)``); the baseline score is the truth a perfect
model would give (``oracle_scores``). Each replication draws the arms anew
(``draw_arms``, 80 + 20 stratified by region and size band, a new seed), draws outcomes
twice — no effect, and ``--effect-1`` / ``--effect-2`` — and runs ``itt_effects`` with
``--ri-draws`` re-draws. Printed per arm: bias (against the population's true average
effect), RMSE, 95 % CI coverage, rejection rate under no effect (CR1 *t* with the
``min(J) - 1`` rule, CR1 with ``G - 1`` degrees of freedom, and the randomisation p-value),
and power against ``evaluation.power``'s prediction for the same design. Targets:
coverage 93-97 %, rejection under no effect 3-7 %, |bias| < SE/10, power within 5 points. The
exit code is 1 when the valid test (the randomisation p-value) misses its size or its power, the
bias is too large or the coverage with the effect is outside 93-97 %; CR1's figures are printed
beside (with 20 agencies of unequal sizes CR1 over-rejects a little, and gains power from it).

**scale.** ``--rows`` people over 900 agencies written to Parquet (outcomes, baseline) with
the draw CSV; then a fresh subprocess does what ``jalon experiment evaluate`` will do —
read, :func:`evaluation.evaluate_experiment` with ``--ri-draws`` re-draws, write the report —
and prints its wall time and peak RSS. Target: 1,000,000 people, 1,000 re-draws, < 2 min
and < 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from scipy import stats

import synthetic
from evaluation.itt import itt_effects
from evaluation.power import Design, estimate_design
from features.io import read_table, write_table
from policy.draw import draw_arms

ARMS = {"MODEL_1": 80, "MODEL_2": 20}
STRATA = ["region", "size_band"]


def simulate(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    rows = args.agencies * args.people_per_agency
    table = synthetic.generate_agencies(args.agencies, args.seed)
    people = synthetic.generate_population(rows, args.seed, agencies=args.agencies, icc=args.icc)
    p_employed = synthetic.oracle_scores(people)["p_employed"].to_numpy()
    true_p = people["true_p_employed_6m"].to_numpy()
    effects = {"MODEL_1": args.effect_1, "MODEL_2": args.effect_2}
    truth = {arm: float((np.clip(true_p + e, 0, 1) - true_p).mean()) for arm, e in effects.items()}
    frame = pd.DataFrame({"agency_id": people["agency_id"].astype(str), "p_employed": p_employed})
    counts = frame["agency_id"].value_counts()
    null_y = (np.random.default_rng(args.seed).random(rows) < true_p).astype(float)
    design = estimate_design(null_y, p_employed, frame["agency_id"].to_numpy())
    print(
        f"population         {rows:,} people, {args.agencies} agencies ({counts.mean():.0f} people each on average, "
        f"cv {counts.std(ddof=0) / counts.mean():.2f}), ICC asked {args.icc}, measured {design.icc:.4f}; "
        f"employment {true_p.mean():.3f}; within-agency R² of the baseline score {design.r2:.3f} "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    records = []
    t0 = time.perf_counter()
    for replication in range(args.replications):
        draw = draw_arms(table, ARMS, args.strata, seed=args.seed * 100_000 + replication)
        for scenario, effect in (("null", {}), ("effect", effects)):
            outcomes = synthetic.simulate_outcomes(people, draw, effect, seed=2 * replication + (scenario == "effect"))
            result = itt_effects(
                frame.assign(employed_6m=outcomes["employed_6m"].to_numpy()),
                draw,
                ri_draws=args.ri_draws,
                ri_seed=replication,
                subgroups=(),
            )
            records.append(result.assign(scenario=scenario, replication=replication))
    runs = pd.concat(records, ignore_index=True)
    print(
        f"replications       {args.replications} x 2 scenarios, {args.ri_draws} re-draws each "
        f"({time.perf_counter() - t0:.0f} s)\n"
    )
    failures = 0
    for arm, treated in ARMS.items():
        controls = args.agencies - sum(ARMS.values())
        plan = Design(
            treated,
            controls,
            float(counts.mean()),
            args.icc,
            float(true_p.mean()),
            r2=design.r2,
            cluster_size_cv=float(counts.std(ddof=0) / counts.mean()),
        )
        null = runs[(runs["arm"] == arm) & (runs["scenario"] == "null")]
        alt = runs[(runs["arm"] == arm) & (runs["scenario"] == "effect")]
        g_minus_1 = (alt["n_agencies"] + alt["n_control_agencies"] - 1).iloc[0]
        t_g = np.abs(null["estimate"] / null["std_error"]) > stats.t.ppf(0.975, g_minus_1)
        error = alt["estimate"] - truth[arm]
        mean_se = float(alt["std_error"].mean())
        cover = ((alt["ci_low"] <= truth[arm]) & (truth[arm] <= alt["ci_high"])).mean()
        cover_null = ((null["ci_low"] <= 0) & (0 <= null["ci_high"])).mean()
        reject = {
            "CR1, t(min J - 1)": (null["p_value_cr1"] < 0.05).mean(),
            f"CR1, t(G - 1 = {g_minus_1})": t_g.mean(),
            "randomisation p-value": (null["p_value_ri"] <= 0.05).mean(),
        }
        power_cr1, power_ri = (alt["p_value_cr1"] < 0.05).mean(), (alt["p_value_ri"] <= 0.05).mean()
        predicted = plan.predicted_power(effects[arm])
        print(
            f"{arm}: {treated} agencies vs {controls} controls, effect {effects[arm]:+.3f} "
            f"(population average {truth[arm]:+.4f}); predicted SE {plan.standard_error():.4f}, "
            f"MDE {plan.mde():.4f}"
        )
        print(
            f"  bias               {error.mean():+.5f}  (SE/10 = {mean_se / 10:.5f}, Monte Carlo SE "
            f"{error.std() / np.sqrt(len(error)):.5f})  {'ok' if abs(error.mean()) < mean_se / 10 else 'MISSED'}"
        )
        print(
            f"  RMSE               {np.sqrt((error**2).mean()):.5f}  (sd of estimates {alt['estimate'].std():.5f}, "
            f"mean CR1 SE {mean_se:.5f})"
        )
        print(
            f"  95% CI coverage    {cover * 100:.1f}% with the effect, {cover_null * 100:.1f}% without  "
            f"{'ok' if 0.93 <= cover <= 0.97 and 0.93 <= cover_null <= 0.97 else 'MISSED'}"
        )
        for name, rate in reject.items():
            verdict = "ok" if 0.03 <= rate <= 0.07 else "outside 3-7%"
            print(f"  rejection, no effect, {name:28s} {rate * 100:5.1f}%  {verdict}")
        print(f"  power, predicted   {predicted * 100:.1f}%")
        for name, power in (("CR1 t test", power_cr1), ("randomisation p-value", power_ri)):
            print(
                f"  power, {name:22s} {power * 100:5.1f}%  "
                f"{'ok' if abs(power - predicted) <= 0.05 else 'more than 5 points away'}"
            )
        print()
        # the valid test must hold its size and match the predicted power; CR1's figures are reported beside it
        failures += not (
            abs(error.mean()) < mean_se / 10
            and 0.93 <= cover <= 0.97
            and 0.03 <= reject["randomisation p-value"] <= 0.07
            and abs(power_ri - predicted) <= 0.05
        )
    return failures


EVALUATE = """
import resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from evaluation import evaluate_experiment, write_report
from features.io import read_table
from policy.draw import load_draw
folder = {folder!r}
outcomes = read_table(folder + "/outcomes.parquet")
baseline = read_table(folder + "/baseline.parquet")
agencies = read_table(folder + "/agencies.parquet")
draw = load_draw(folder + "/draw.csv")
t1 = time.perf_counter()
evaluation = evaluate_experiment(outcomes, baseline, draw, agencies=agencies, ri_draws={ri_draws}, ri_seed=1)
t2 = time.perf_counter()
write_report(evaluation, folder + "/report.html")
t3 = time.perf_counter()
print(f"read {{t1 - t0:.1f}} s, evaluate {{t2 - t1:.1f}} s, report {{t3 - t2:.1f}} s, total {{t3 - t0:.1f}} s, "
      f"peak RSS {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}} MiB")
print(evaluation.main_effects()[["arm", "estimate", "std_error", "p_value_ri", "n_agencies", "n_people"]]
      .to_string(index=False))
"""


def scale(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="jalon-experiment-") as folder:
        t0 = time.perf_counter()
        table = synthetic.generate_agencies(900, args.seed)
        people = synthetic.generate_population(args.rows, args.seed, agencies=900, icc=args.icc)
        draw = draw_arms(table, ARMS, args.strata, seed=args.seed)
        draw.to_csv(Path(folder) / "draw.csv")
        write_table(table, Path(folder) / "agencies.parquet")
        write_table(
            synthetic.simulate_outcomes(
                people, draw, {"MODEL_1": args.effect_1, "MODEL_2": args.effect_2}, seed=args.seed
            ),
            Path(folder) / "outcomes.parquet",
        )
        write_table(synthetic.oracle_scores(people), Path(folder) / "baseline.parquet")
        del people
        print(
            f"inputs             {args.rows:,} people, 900 agencies written in {time.perf_counter() - t0:.0f} s "
            f"({len(read_table(Path(folder) / 'outcomes.parquet', columns=['person_id'])):,} outcome rows)"
        )
        code = EVALUATE.format(root=str(Path(__file__).resolve().parents[1]), folder=folder, ri_draws=args.ri_draws)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        print(done.stdout.rstrip() or done.stderr)
        print(
            f"evaluation         {wall:.1f} s wall in a fresh process ({args.ri_draws} re-draws), "
            f"children's peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB"
        )
        return int(done.returncode != 0 or wall > 120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["simulate", "scale"], default=None)
    parser.add_argument("--replications", type=int, default=500)
    parser.add_argument("--agencies", type=int, default=900)
    parser.add_argument("--people-per-agency", type=int, default=100)
    parser.add_argument("--icc", type=float, default=0.02)
    parser.add_argument("--effect-1", type=float, default=0.02)
    parser.add_argument("--effect-2", type=float, default=0.04)
    parser.add_argument("--ri-draws", type=int, default=None, help="200 in simulate, 1000 in scale by default")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--strata",
        type=lambda text: [s for s in text.split(",") if s],
        default=STRATA,
        help="comma-separated stratum columns (default region,size_band; empty for none)",
    )
    args = parser.parse_args(argv)
    failures = 0
    if args.only in (None, "simulate"):
        failures += simulate(argparse.Namespace(**{**vars(args), "ri_draws": args.ri_draws or 200}))
    if args.only in (None, "scale"):
        failures += scale(argparse.Namespace(**{**vars(args), "ri_draws": args.ri_draws or 1000}))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
