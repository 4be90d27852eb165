"""Registration, category, months worked, experience, last contract, past registrations and benefits.

Unemployment benefit (ARE) follows the 2023 duration rules: entitlement from months
worked, capped by age, minus what the registration has consumed.
"""

from __future__ import annotations

import numpy as np

from synthetic._calibrated import CalibratedConstants
from synthetic._codes import CODE_POSITION
from synthetic._person import Person
from synthetic._sampling import from_rows, ordered, sigmoid, softmax

_REGISTRATION_SIGMA = 1.0  # spread of log-months of registration
_MONTHS_WORKED_MU = -0.1  # intercept of the months-worked latent


def draw_work_history(
    rng: np.random.Generator,
    n: int,
    p: Person,
    c: dict[str, np.ndarray],
    worker_domain: np.ndarray,
    constants: CalibratedConstants,
) -> None:
    """Add the work-history and benefit columns to ``c``, drawing from ``rng`` in a fixed order."""
    normal = rng.standard_normal
    unif = rng.random
    age, young, old, female = p.age, p.young, p.old, p.female

    cat = ordered(p.activity, constants.category_cuts)
    c["category"] = cat
    cat_b = cat == CODE_POSITION["cat"]["B"]
    cat_c = cat == CODE_POSITION["cat"]["C"]
    log_reg = (
        constants.registration_mu
        + 0.45 * p.distance
        + 0.25 * old
        + constants.registration_disabled_shift * p.disabled
        - 0.45 * young
        + 0.15 * cat_c
        + _REGISTRATION_SIGMA * normal(n)
    )
    reg = np.clip(np.floor(np.exp(np.minimum(log_reg, 6.0))), 0, 240).astype(np.int64)
    c["registration_months"] = reg
    reg24 = np.minimum(reg, 24)
    w = _MONTHS_WORKED_MU + 1.0 * cat_b + 1.8 * cat_c - 0.9 * p.distance - 0.5 * (age < 22) + 0.9 * normal(n)
    mw = np.rint(24.0 * sigmoid(1.6 * w))
    slack = np.floor(3.0 * unif(n))
    mw = np.where(cat == CODE_POSITION["cat"]["A"], np.minimum(mw, np.maximum(0, 24 - reg24) + slack), mw)
    mw = np.where(cat_c, np.maximum(mw, np.rint(0.7 * reg24)), mw)
    mw = np.where(cat_b, np.maximum(mw, np.rint(0.4 * reg24)), mw)
    mw = np.clip(mw, 0, 24).astype(np.int64)
    c["months_worked_24m"] = mw
    potential = np.maximum(age - 17 - np.array([0, 0, 1, 3, 5])[c["education_level"]], 0)
    frac = sigmoid(0.3 + 0.7 * p.project + 0.6 * normal(n) + 0.05 * (mw - 12))
    c["experience_years"] = np.round(np.clip(potential * frac, 0, 50), 1)

    ci = CODE_POSITION["contract"]
    con_logit = np.empty((n, 5))
    con_logit[:, ci["NONE"]] = -1.5 + 2.5 * (mw == 0) + 1.0 * (c["experience_years"] < 0.5) + 0.6 * young
    con_logit[:, ci["CDI"]] = 0.6 + 0.03 * (age - 35) + 0.3 * p.human_capital
    con_logit[:, ci["CDD"]] = 1.0 + 0.3 * female
    con_logit[:, ci["INTERIM"]] = 0.2 + 0.9 * worker_domain - 0.5 * female + 0.3 * (age < 30)
    con_logit[:, ci["SELF_EMPLOYED"]] = -2.0 + 0.9 * p.entrepreneurship
    contract = from_rows(unif(n), softmax(con_logit))
    del con_logit
    c["last_contract"] = contract
    precarious_contract = (contract == ci["INTERIM"]) | (contract == ci["CDD"])
    lam = np.exp(-0.1 + 0.35 * normal(n) + 0.5 * precarious_contract) * np.clip(1 - reg / 60, 0, 1)
    lam = lam * np.where(age < 21, 0.4, 1.0)
    c["past_registrations_5y"] = np.minimum(rng.poisson(lam), 20).astype(np.int64)

    cap_days = np.where(age >= 55, 822, np.where(age >= 53, 685, 548))
    entitled = np.clip(np.rint(0.75 * mw * 30.4), 182, cap_days)
    consumed = reg * 30.4 * np.where(cat_c, 0.3, np.where(cat_b, 0.7, 1.0))
    left = np.rint(entitled - consumed)
    self_emp = contract == ci["SELF_EMPLOYED"]
    eligible = (mw >= 6) & (contract != ci["NONE"]) & (~self_emp | (unif(n) < 0.1))
    are = eligible & (left > 0) & (unif(n) < 0.92)
    c["unemployment_benefit"] = are
    c["benefit_days_left"] = np.where(are, np.clip(left, 0, 1095), 0).astype(np.int64)
