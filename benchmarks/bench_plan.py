"""Benchmark of ``jalon plan``: 1,000,000 people, 100 agencies, 24 months, three scenarios.

Usage::

    .venv/bin/python benchmarks/bench_plan.py                      # 1,000,000 synthetic people
    .venv/bin/python benchmarks/bench_plan.py --scored scored.parquet  # a file made by jalon score

Steps:

1. the people: ``--scored FILE`` (output of ``jalon score``), or by default
   ``synthetic.generate_population(--rows, --seed)`` turned into a scored file with the
   generator's **true** probabilities in place of a model's (``need`` = the most likely
   true need, ``p_employed`` = ``true_p_employed_6m``, ``tier`` from the default bands, the
   model 1 path from ``policy.recommend_frame`` with the profile's barriers): the same
   columns ``jalon score`` writes, without training and scoring a model first, which is not
   what is measured here;
2. the plan runs in a **fresh subprocess** (``bench_plan.py --phase``): ``planning.run_plan``
   (read and validate the file, draw the population and the entrants of the horizon, the
   caps check, every scenario month by month) then ``planning.report.write_plan`` (HTML,
   CSV, summary), as ``jalon plan`` does. Its peak memory is that process's high-water mark
   ``VmHWM`` (``/proc/self/status``; interpreter and libraries included).

Targets (issue 12, 2 cores): under 60 s and under 2 GB for 1,000,000 people across 100
agencies over 24 months. The machine may be shared: the load average and the CPU time the
plan used (user + system, all threads) are printed too; on a machine whose load average is
above its core count, the wall time measures the queue as much as the plan.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0
TARGET_MEMORY_MB = 2048


def _vmhwm_mb() -> float:
    """This process's peak RSS in MiB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_scored(rows: int, seed: int, out: Path) -> Path:
    """A scored file from the synthetic population's true probabilities (see the module docstring)."""
    import numpy as np

    from core.thresholds import TierBands
    from features.io import write_table
    from features.schema import NEED_CODES
    from policy import recommend_frame
    from synthetic import generate_population

    people = generate_population(rows, seed)
    truth = people[[f"true_p_{n}" for n in NEED_CODES]].to_numpy()
    people["need"] = np.asarray(NEED_CODES, dtype=object)[truth.argmax(axis=1)]
    people["p_employed"] = people["true_p_employed_6m"]
    people["tier"] = TierBands().tier(people["p_employed"].to_numpy())
    path = recommend_frame(people, decision_date=date(2026, 1, 1))
    scored = people[["person_id", "agency_id", "need", "p_employed", "tier"]].copy()
    scored["modality"] = path["modality"].astype(str)
    scored["duration_months"] = path["duration_months"]
    return write_table(scored, out)


def _cpu_s() -> float:
    """CPU seconds used by this process so far (user + system, every thread)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase(scored: Path, out: Path, months: int, seed: int) -> dict:
    started = time.perf_counter()
    from planning.plan import run_plan
    from planning.report import write_plan

    imported = time.perf_counter()
    cpu_imported = _cpu_s()
    result = run_plan(scored, months=months, seed=seed, start=date(2026, 1, 1))
    simulated = time.perf_counter()
    write_plan(result, out)
    done = time.perf_counter()
    return {
        "people": result.settings["people_at_start"],
        "entrants": result.settings["entrants"],
        "agencies": result.settings["agencies"],
        "months": months,
        "scenarios": result.settings["scenarios"],
        "import_s": imported - started,
        "steps_s": result.seconds,
        "plan_s": simulated - imported,
        "write_s": done - simulated,
        "total_s": done - started,
        "cpu_s": _cpu_s() - cpu_imported,
        "peak_mb": _vmhwm_mb(),
        "csv_rows": len(result.frame),
        "headline": result.headline().to_dict("records"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--scored", type=Path, help="a scored file (jalon score); default: made from the truth")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.scored, args.out, args.months, args.seed), default=float))
        return 0

    work = args.workdir or Path(tempfile.mkdtemp(prefix="jalon-bench-plan-"))
    work.mkdir(parents=True, exist_ok=True)
    scored = args.scored
    if scored is None:
        scored = work / f"scored-{args.rows}-seed{args.seed}.parquet"
        if not scored.exists():
            t = time.perf_counter()
            make_scored(args.rows, args.seed, scored)
            print(f"made {scored} ({args.rows:,} people) in {time.perf_counter() - t:.1f} s", flush=True)
    load_start = os.getloadavg()
    command = [
        sys.executable,
        __file__,
        "--phase",
        "--scored",
        str(scored),
        "--out",
        str(work / "plan.html"),
        "--months",
        str(args.months),
        "--seed",
        str(args.seed),
    ]
    wall = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    wall = time.perf_counter() - wall
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    load_end = os.getloadavg()
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in figures["steps_s"].items())
    print(
        f"jalon plan: {figures['people']:,} people in {figures['agencies']} agencies, "
        f"{figures['entrants']:,} entrants, {figures['months']} months, scenarios {', '.join(figures['scenarios'])}"
    )
    print(f"  steps: {steps}; writing the report {figures['write_s']:.1f} s ({figures['csv_rows']:,} CSV rows)")
    print(
        f"  total {figures['total_s']:.1f} s in the subprocess (imports {figures['import_s']:.1f} s), "
        f"{wall:.1f} s wall with interpreter start; peak memory {figures['peak_mb']:,.0f} MiB (VmHWM)"
    )
    print(
        f"  CPU time of the plan and the report (imports excluded): {figures['cpu_s']:.1f} s; "
        f"load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end (2 cores)"
    )
    ok_time = wall < TARGET_SECONDS
    ok_memory = figures["peak_mb"] < TARGET_MEMORY_MB
    print(
        f"  targets: < {TARGET_SECONDS:.0f} s {'met' if ok_time else 'MISSED'}, "
        f"< {TARGET_MEMORY_MB:,} MiB {'met' if ok_memory else 'MISSED'}"
    )
    for row in figures["headline"]:
        print(
            f"  {row['scenario']}: FTE gap {row['fte_gap']:+,.0f}, "
            f"reviews/advisor/week {row['reviews_per_advisor_week']:.1f}, "
            f"re-examined within 6 months {100 * row['reexamined_6m_share']:.1f} %"
        )
    return 0 if ok_time and ok_memory else 1


if __name__ == "__main__":
    raise SystemExit(main())
