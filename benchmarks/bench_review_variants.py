"""Review flags and sensitive inputs on the synthetic population, as the model card reports them.

Trains the reference model on a synthetic population (with its truth columns), then prints:

* the review policy: flagged share, need accuracy and tier accuracy of flagged and unflagged
  suggestions on the test split, for the first policy and the one chosen for the flag budget
  (``REVIEW_FLAG_BUDGET``);
* both variants (with and without the sensitive inputs age and disability recognition):
  employability AUC and need macro-F1 as shares of the Bayes reference, and under model 2 the
  share of people aged 50+ and of disabled people who get intensive support.

    python benchmarks/bench_review_variants.py [--rows 50000] [--seed 1]
"""

from __future__ import annotations

import argparse

from features.spec import default_spec
from synthetic import generate_population
from training import review_policy, variants
from training.run import evaluate_run
from training.train import fit_segmentation


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    spec = default_spec()
    frame = spec.validate_data(generate_population(args.rows, seed=args.seed))
    fitted = fit_segmentation(frame, spec, seed=args.seed, n_trials=1)
    this = evaluate_run(fitted, frame, spec, args.seed, audit=False, with_baselines=False)
    report = review_policy.measure(fitted.model, this, spec)
    print(f"review flags on {len(this.test):,} test rows (budget {_pct(report.budget)}):")
    for name, p in (("before", report.default), ("after", report.chosen)):
        print(
            f"  {name:6s} {p.policy}: flagged {_pct(p.flagged_share)}; need accuracy flagged "
            f"{_pct(p.need_accuracy_flagged)} / not flagged {_pct(p.need_accuracy_unflagged)}; tier accuracy "
            f"flagged {_pct(p.tier_accuracy_flagged)} / not flagged {_pct(p.tier_accuracy_unflagged)}"
        )
    other_spec = spec.without_sensitive()
    other_fit = fit_segmentation(frame, other_spec, seed=args.seed, n_trials=1)
    other = evaluate_run(other_fit, frame, other_spec, args.seed, audit=False, with_baselines=False)
    comparison = variants.compare(spec, fitted.model.need_classes, this=this, other=other, this_without_sensitive=False)
    print(f"variants (model 2: intensive places for {_pct(comparison.intensive_capacity_share)} of the test split):")
    for v in comparison.variants:
        quality = ", ".join(f"{k} {x:.3f} of Bayes" for k, x in v.of_bayes.items())
        shares = ", ".join(f"{g}: {_pct(x)}" for g, x in v.intensive_share.items())
        print(f"  {v.name}: {quality}; intensive support — {shares}")


if __name__ == "__main__":
    main()
