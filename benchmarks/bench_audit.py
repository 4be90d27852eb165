"""The fairness audit's false alarms and detections, against known truth.

Synthetic populations are generated with known true probabilities: clean ones (no label
bias), and ones where one group's recorded outcomes are made worse than its truth
(``--bias``, strength 0.3 by default). For each seed, the model is trained and the audit run
exactly as ``jalon train`` does, with one search candidate and without the need model: every
alert of the audit is about the employability model, which is what is measured here.

* false alarms: clean populations of ``--clean-rows`` people whose audit raises any alert;
* detections: biased populations of ``--biased-rows`` people whose audit raises an alert
  naming the biased group.

    python benchmarks/bench_audit.py [--seeds 20] [--clean-rows 20000] [--biased-rows 200000]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from features.spec import default_spec
from synthetic import generate_population, parse_label_bias
from training.run import evaluate_run
from training.train import fit_segmentation


def audit_alerts(rows: int, seed: int, bias: str | None):
    full = default_spec()
    spec = full.model_copy(update={"columns": [c for c in full.columns if c.role not in ("need_label", "truth_need")]})
    frame = spec.validate_data(
        generate_population(rows, seed=1000 + seed, label_bias=parse_label_bias(bias) if bias else None)
    )
    fitted = fit_segmentation(frame, spec, seed=seed, n_trials=1)
    return evaluate_run(fitted, frame, spec, seed, with_baselines=False).audit.alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="Start at this seed (to split a run in parts).")
    parser.add_argument("--clean-rows", type=int, default=20_000)
    parser.add_argument("--biased-rows", type=int, default=200_000)
    parser.add_argument("--bias", default="nationality_group=NON_EU=0.3")
    parser.add_argument("--skip-clean", action="store_true")
    parser.add_argument("--skip-biased", action="store_true")
    args = parser.parse_args()
    column, group, _ = args.bias.split("=")
    if not args.skip_clean:
        started, alarms, kinds = time.perf_counter(), 0, Counter()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            alerts = audit_alerts(args.clean_rows, seed, None)
            alarms += bool(alerts)
            kinds.update(f"{a.kind}:{a.column}={a.group}" for a in alerts)
            print(f"  clean seed {seed}: {len(alerts)} alert(s) {[a.finding() for a in alerts]}", flush=True)
        print(
            f"false alarms: {alarms} of {args.seeds} clean populations of {args.clean_rows:,} people "
            f"raised an alert ({dict(kinds) or 'none'}), {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    if not args.skip_biased:
        started, caught, others = time.perf_counter(), 0, Counter()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            alerts = audit_alerts(args.biased_rows, seed, args.bias)
            hit = any(a.group == group and a.column.startswith(column) for a in alerts)
            caught += hit
            others.update(f"{a.kind}:{a.column}={a.group}" for a in alerts)
            print(f"  biased seed {seed}: caught={hit} {[a.finding() for a in alerts]}", flush=True)
        print(
            f"detections: label bias {args.bias} caught in {caught} of {args.seeds} populations of "
            f"{args.biased_rows:,} people (alerts raised: {dict(others)}), {time.perf_counter() - started:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
