"""Refit the synthetic generator's constants and print them, to paste into ``synthetic/_calibrated.py``.

A developer tool, not part of Jalon (not packaged, not shipped, never run by the
service or the command line): the generator itself only reads the literals of
``synthetic/_calibrated.py`` and never changes them.

When to use it: after changing how the generator draws a column that a fitted constant
depends on (``synthetic/_person.py``, ``_territory.py``, ``_draws.py``,
``_work_history.py``), the need or employability functions (``_truth.py``), or a target
(``_targets.py``), the calibration tests (``tests/synthetic/test_synth.py``) will
usually fail; this script refits:

- the cut points of education, category and health limitation, the QPV, RSA and
  registration intercepts and shifts, to the published and assumed marginals
  (``rounds`` rounds of fixed-point updates);
- then the need intercepts (need shares) and scale (Bayes need accuracy, default 0.74),
  and the employability intercept, category C effect (rates on A+B and C rows) and
  scale (AUC, default 0.80), each scale by bisection.

It starts from the current constants. How: from the repository root, ::

    .venv/bin/python scripts/recalibrate_synthetic.py            # 1,000,000 rows, seed 12345, 8 rounds: ≈ 3 min

then paste the printed ``CALIBRATED = CalibratedConstants(...)`` block over the one in
``synthetic/_calibrated.py``, run ``tests/synthetic/`` and update the figures of
``docs/data-card.md`` (``benchmarks/bench_synth.py`` measures them). Every population
changes, so say so in the commit message.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.schema import FIELDS_BY_NAME, NEED_CODES
from synthetic._calibrated import CALIBRATED, CalibratedConstants
from synthetic._codes import CODE_POSITION
from synthetic._draws import draw_features
from synthetic._targets import (
    DISABLED_REGISTERED_1Y,
    EMPLOYED_6M_AB,
    EMPLOYED_6M_C,
    NEED_SHARES,
    QPV_BELOW_BAC,
    SHARE_CATEGORY,
    SHARE_EDUCATION,
    SHARE_HEALTH_LIMITATION,
    SHARE_QPV,
    SHARE_REGISTERED_1Y,
    SHARE_RSA,
)
from synthetic._truth import employment_probability, need_probabilities

_inv = NormalDist().inv_cdf


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _shares_in_code_order(column: str, shares: dict[str, float]) -> np.ndarray:
    assert tuple(shares) == FIELDS_BY_NAME[column].codes, column
    return np.array(list(shares.values()))


def _refit_cuts(cuts: tuple[float, ...], codes: np.ndarray, target: np.ndarray, spread: float) -> tuple[float, ...]:
    """Move ordered-probit cut points so that the measured shares of ``codes`` approach ``target``."""
    measured = np.bincount(codes.astype(np.int64), minlength=len(target)) / len(codes)
    cut_t = [_inv(x) for x in np.cumsum(target)[:-1]]
    cut_m = [_inv(min(max(x, 1e-6), 1 - 1e-6)) for x in np.cumsum(measured)[:-1]]
    return tuple((np.asarray(cuts) + spread * (np.array(cut_t) - np.array(cut_m))).tolist())


def _fit_marginals(k: CalibratedConstants, rows: int, seed: int, rounds: int) -> CalibratedConstants:
    """Cut points, intercepts and shifts of the draws, by ``rounds`` fixed-point updates."""
    education = _shares_in_code_order("education_level", SHARE_EDUCATION)
    category = _shares_in_code_order("category", SHARE_CATEGORY)
    health = _shares_in_code_order("health_limitation", SHARE_HEALTH_LIMITATION)
    for _ in range(rounds):
        c = draw_features(np.random.default_rng(seed), rows, k)
        qpv = c["qpv_resident"]
        below = (c["education_level"][qpv] <= 1).mean()
        reg1y = c["registration_months"] >= 12
        dis = c["disability_recognition"]
        k = dataclasses.replace(
            k,
            education_cuts=_refit_cuts(k.education_cuts, c["education_level"], education, 1.1),
            category_cuts=_refit_cuts(k.category_cuts, c["category"], category, 1.1),
            health_cuts=_refit_cuts(k.health_cuts, c["health_limitation"], health, 1.2),
            qpv_intercept=k.qpv_intercept + (_logit(SHARE_QPV) - _logit(qpv.mean())),
            qpv_education_shift=k.qpv_education_shift - 1.1 * (_inv(QPV_BELOW_BAC) - _inv(below)),
            rsa_intercept=k.rsa_intercept + (_logit(SHARE_RSA) - _logit(c["rsa_recipient"].mean())),
            registration_mu=k.registration_mu + 1.2 * (_inv(SHARE_REGISTERED_1Y) - _inv(reg1y.mean())),
            registration_disabled_shift=k.registration_disabled_shift
            + 1.2 * (_inv(DISABLED_REGISTERED_1Y) - _inv(reg1y[dis].mean())),
        )
    return k


def _fit_needs(k: CalibratedConstants, c: dict[str, np.ndarray], need_accuracy: float) -> CalibratedConstants:
    """Need intercepts for the shares, a common scale (bisection) for the Bayes accuracy."""
    target = np.array([NEED_SHARES[code] for code in NEED_CODES])

    def fit(scale: float) -> float:
        nonlocal k
        k = dataclasses.replace(k, need_scale=scale)
        for _ in range(30):
            p = need_probabilities(c, constants=k)
            intercepts = np.asarray(k.need_intercepts) + np.log(target / p.mean(axis=0))
            k = dataclasses.replace(k, need_intercepts=tuple(intercepts.tolist()))
        return float(need_probabilities(c, constants=k).max(axis=1).mean())

    lo, hi = 0.3, 4.0
    for _ in range(25):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fit(mid) < need_accuracy else (lo, mid)
    fit(0.5 * (lo + hi))
    return k


def _fit_employment(k: CalibratedConstants, c: dict[str, np.ndarray], emp_auc: float) -> CalibratedConstants:
    """Intercept and category C effect for the rates on A+B and C rows, a scale (bisection) for the AUC."""
    from sklearn.metrics import roc_auc_score

    ab = c["category"] != CODE_POSITION["cat"]["C"]

    def fit(scale: float) -> float:
        nonlocal k
        k = dataclasses.replace(k, employment_scale=scale)
        for _ in range(40):
            p = employment_probability(c, constants=k)
            d_ab = _logit(EMPLOYED_6M_AB) - _logit(p[ab].mean())
            d_c = _logit(EMPLOYED_6M_C) - _logit(p[~ab].mean())
            k = dataclasses.replace(
                k,
                employment_intercept=k.employment_intercept + d_ab,
                employment_category_c=k.employment_category_c + (d_c - d_ab) / scale,
            )
        # expected AUC of the truth against labels drawn from it: each row once as a positive (weight p)
        # and once as a negative (weight 1 - p), on at most 400,000 rows
        p = employment_probability(c, constants=k)[:400_000]
        y = np.r_[np.ones(len(p)), np.zeros(len(p))]
        return float(roc_auc_score(y, np.r_[p, p], sample_weight=np.r_[p, 1 - p]))

    lo, hi = 0.2, 3.0
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fit(mid) < emp_auc else (lo, mid)
    fit(0.5 * (lo + hi))
    return k


def recalibrate(
    rows: int = 1_000_000,
    seed: int = 12345,
    rounds: int = 8,
    need_accuracy: float = 0.74,
    emp_auc: float = 0.80,
    start: CalibratedConstants = CALIBRATED,
) -> CalibratedConstants:
    """The refitted constants, starting from ``start``; changes nothing in the ``synthetic`` package."""
    k = _fit_marginals(start, rows, seed, rounds)
    c = draw_features(np.random.default_rng(seed), rows, k)
    k = _fit_needs(k, c, need_accuracy)
    return _fit_employment(k, c, emp_auc)


def as_python(constants: CalibratedConstants) -> str:
    """The ``CALIBRATED = ...`` block of ``synthetic/_calibrated.py``, values rounded to 4 decimals."""
    lines = ["CALIBRATED = CalibratedConstants("]
    for field in dataclasses.fields(constants):
        value = getattr(constants, field.name)
        if isinstance(value, tuple):
            text = "(" + ", ".join(f"{x:.4f}" for x in value) + ")"
        else:
            text = f"{value:.4f}"
        lines.append(f"    {field.name}={text},")
    lines.append(")")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows drawn at each round")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--rounds", type=int, default=8, help="fixed-point rounds for the marginals")
    parser.add_argument("--need-accuracy", type=float, default=0.74, help="Bayes need accuracy to reach")
    parser.add_argument("--emp-auc", type=float, default=0.80, help="Bayes employability AUC to reach")
    args = parser.parse_args(argv)
    constants = recalibrate(args.rows, args.seed, args.rounds, args.need_accuracy, args.emp_auc)
    print(as_python(constants))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
