"""Benchmark of the synthetic population generator.

Usage::

    .venv/bin/python benchmarks/bench_synth.py --rows 1000000 --seed 1 --out /tmp/p.parquet

Prints the time to generate and to write (``features.io.write_table``), rows per
second, peak resident memory of the process, the measured marginals against their
targets (``synthetic.calibration_report``) and the Bayes reference figures
(``synthetic.bayes_reference``). Exits 1 if a marginal is outside its
tolerance or a Bayes figure outside its band.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

import synthetic as synth
from features.io import write_table


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/jalon_synth.parquet"))
    parser.add_argument("--label-bias", default=None, help="COLUMN=VALUE=STRENGTH, off by default")
    args = parser.parse_args(argv)

    bias = synth.parse_label_bias(args.label_bias) if args.label_bias else None
    process = psutil.Process()
    rss_start = process.memory_info().rss / 2**20

    t0 = time.perf_counter()
    frame = synth.generate_population(args.rows, args.seed, bias)
    t_gen = time.perf_counter() - t0
    rss_after_gen = process.memory_info().rss / 2**20

    t0 = time.perf_counter()
    path = write_table(frame, args.out)
    t_write = time.perf_counter() - t0
    size_mb = path.stat().st_size / 2**20
    peak = peak_rss_mb()

    total = t_gen + t_write
    print(f"rows               {args.rows:,} (seed {args.seed}{', label bias ' + args.label_bias if bias else ''})")
    print(f"generation         {t_gen:8.2f} s   {args.rows / max(t_gen, 1e-9):,.0f} rows/s")
    print(f"write {path.suffix:<12} {t_write:8.2f} s   {size_mb:.1f} MiB -> {path}")
    print(f"total              {total:8.2f} s   {args.rows / max(total, 1e-9):,.0f} rows/s")
    print(
        f"memory             start {rss_start:.0f} MiB, after generation {rss_after_gen:.0f} MiB, "
        f"peak RSS {peak:.0f} MiB"
    )
    print(f"frame in memory    {frame.memory_usage(deep=True).sum() / 2**20:.0f} MiB, {frame.shape[1]} columns")

    print("\nmarginals (recorded labels) vs targets")
    print(f"{'indicator':44s} {'measured':>9s} {'target':>8s} {'tol':>6s}  ok")
    failures = 0
    for row in synth.calibration_report(frame):
        failures += not row.ok
        print(
            f"{row.indicator:44s} {row.measured * 100:8.2f}% {row.target * 100:7.1f}% "
            f"±{row.tolerance * 100:4.1f}  {'yes' if row.ok else 'NO'}"
        )
    missing = {name: float(frame[name].isna().mean()) for name in synth.NULLABLE_COLUMNS}
    print(
        "missing answers    "
        + ", ".join(f"{k} {v * 100:.2f}%" for k, v in missing.items())
        + f"  (band {synth.MISSING_BAND[0] * 100:.0f}-{synth.MISSING_BAND[1] * 100:.0f}%)"
    )

    bayes = synth.bayes_reference(frame)
    lo_acc, hi_acc = synth.BAYES_NEED_ACCURACY_BAND
    lo_auc, hi_auc = synth.BAYES_EMP_AUC_BAND
    print("\nBayes reference (truth columns as predictions)")
    print(
        f"need accuracy      {bayes['need_accuracy']:.4f} (expected {bayes['need_accuracy_expected']:.4f}; "
        f"band {lo_acc}-{hi_acc})"
    )
    print(f"need macro-F1      {bayes['need_macro_f1']:.4f}")
    print(f"employability AUC  {bayes['emp_auc']:.4f} (band {lo_auc}-{hi_auc})")
    failures += not (lo_acc <= bayes["need_accuracy"] <= hi_acc)
    failures += not (lo_auc <= bayes["emp_auc"] <= hi_auc)
    print(f"\npeak RSS over the whole run (incl. reports) {peak_rss_mb():.0f} MiB")
    if bias is not None:
        print("(a label bias was applied: recorded-label marginals are expected to move)")
        return 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
