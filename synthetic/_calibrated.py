"""The generator's fitted constants: plain literals, fitted offline, never changed at run time.

``scripts/recalibrate_synthetic.py`` fitted them (1,000,000 rows, seed 12345, 8 rounds)
so that the published marginals of ``_targets`` and the Bayes figures (need accuracy
0.74, employability AUC 0.80) are met; it prints a new ``CALIBRATED`` block to paste
here when the generator or a target changes. ``tests/synthetic/test_synth.py`` proves
the result on a fresh sample. The cut points of the self-assessments and of housing
are not fitted: they are set by hand in ``_draws`` (assumed shares, data card).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CalibratedConstants:
    """Every constant the recalibration fits; tuples so that nothing can change them in place."""

    education_cuts: tuple[float, ...]  # ordered probit cut points NONE < CAP_BEP < BAC < BAC2 < BAC3_PLUS
    category_cuts: tuple[float, ...]  # A < B < C on the activity latent
    health_cuts: tuple[float, ...]  # NONE < MODERATE < SEVERE on the health latent
    qpv_intercept: float  # log-odds of living in a QPV
    qpv_education_shift: float  # education latent shift of QPV residents
    rsa_intercept: float  # log-odds of receiving the RSA
    registration_mu: float  # log-months of registration, intercept
    registration_disabled_shift: float  # direct shift of log-registration for recognised disability
    need_scale: float
    need_intercepts: tuple[float, ...]  # in NEED_CODES order
    employment_scale: float
    employment_intercept: float
    employment_category_c: float  # category C effect on the employability logit


CALIBRATED = CalibratedConstants(
    education_cuts=(-1.1568, -0.3021, 0.3831, 0.8692),
    category_cuts=(0.4078, 0.8533),
    health_cuts=(1.0958, 1.9805),
    qpv_intercept=-2.1317,
    qpv_education_shift=-0.3039,
    rsa_intercept=-1.6196,
    registration_mu=2.2146,
    registration_disabled_shift=-0.0331,
    need_scale=2.6318,
    need_intercepts=(-2.6375, 2.9149, 4.8327, 4.6884, -1.4000, -3.5746),
    employment_scale=0.8743,
    employment_intercept=-0.6781,
    employment_category_c=0.5188,
)
