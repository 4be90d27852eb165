"""Drawing the observed columns: place, person, then every feature, from one random stream.

The latents of the person (and the protected attributes, as in reality) drive the
observed features: education, qualification, occupation and its tension, work
history and benefits (``_work_history``), household, each barrier (mobility, housing,
health, childcare, financial, digital, language) and the self-assessments. Every draw
comes from the one stream ``rng`` in a fixed order: reordering two draws changes every
seed's population.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from synthetic._calibrated import CALIBRATED, CalibratedConstants
from synthetic._codes import CODE_POSITION
from synthetic._person import Person, draw_person
from synthetic._sampling import from_rows, ordered, sigmoid, softmax
from synthetic._territory import Agencies, agency_table, draw_places, draw_qpv
from synthetic._work_history import draw_work_history

# Occupation domains A..N: base shares, tension, "worker" (ouvrier) domains.
_DOMAIN_SHARE = np.array([3.0, 0.6, 2.0, 12.0, 2.0, 9.0, 10.0, 6.0, 6.0, 6.0, 17.0, 2.4, 14.0, 10.0])
_DOMAIN_TENSION = np.array([0.45, 0.20, 0.35, 0.40, 0.20, 0.65, 0.60, 0.55, 0.65, 0.75, 0.55, 0.15, 0.30, 0.60])
_DOMAIN_WORKER = np.array([1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1], dtype=bool)
_DOMAIN_WOMEN = np.array([-0.5, 0.2, 0.3, 0.3, 0.0, -1.8, 0.1, -0.6, -1.6, 1.0, 0.7, 0.0, 0.6, -1.0])
_DOMAIN_HIGH_EDU = np.array([-0.3, 0.3, 0.8, -0.2, 1.0, -0.6, -0.4, -0.2, -0.3, 0.4, -0.4, 0.6, 0.7, -0.6])

# French proficiency by nationality (assumption), NATIVE/FLUENT/INTERMEDIATE/BASIC.
_FRENCH_SHARES = {
    "FR": np.array([0.93, 0.06, 0.01, 0.0]),
    "EU": np.array([0.12, 0.45, 0.30, 0.13]),
    "NON_EU": np.array([0.18, 0.40, 0.24, 0.18]),
}
# Cut points set by hand (assumed shares, data card), not fitted.
_PROJECT_CLARITY_CUTS = (-1.4, -0.55, 0.65)  # 1..4
_JOB_SEARCH_AUTONOMY_CUTS = (-1.5, -0.6, 0.65)  # 1..4
_DIGITAL_AUTONOMY_CUTS = (-1.3, -0.55, 0.45)  # 1..4
_HOUSING_CUTS = (1.1, 1.9)


def draw_features(
    rng: np.random.Generator, n: int, constants: CalibratedConstants = CALIBRATED
) -> dict[str, np.ndarray]:
    """Observed columns (category columns as int8 code indices, nullable as float+NaN), plus ``agency``."""
    agencies = agency_table()
    c = draw_places(rng, n, agencies)
    p = draw_person(rng, n, c)
    c["qpv_resident"] = draw_qpv(rng, c, agencies, non_eu=p.non_eu, eu=p.eu, precarity=p.precarity, constants=constants)
    worker_domain = _draw_education_and_occupation(rng, n, p, c, agencies, constants)
    draw_work_history(rng, n, p, c, worker_domain, constants)
    _draw_household_and_support(rng, n, p, c, constants)
    _draw_self_assessments(rng, n, p, c)
    _draw_barriers_and_business(rng, n, p, c, constants)
    return c


def _draw_education_and_occupation(
    rng: np.random.Generator,
    n: int,
    p: Person,
    c: dict[str, np.ndarray],
    agencies: Agencies,
    constants: CalibratedConstants,
) -> np.ndarray:
    """Education (3 in 5 QPV residents below the bac), occupation domain, qualification, tension.

    Returns whether each person's occupation domain is a "worker" (ouvrier) one.
    """
    normal = rng.standard_normal
    unif = rng.random
    age, female = p.age, p.female
    z_edu = (
        p.human_capital
        + constants.qpv_education_shift * c["qpv_resident"]
        - 0.25 * p.non_eu
        - 0.35 * p.old
        - 0.25 * (age < 21)
        + 0.1 * female
    )
    edu = ordered(z_edu, constants.education_cuts)
    c["education_level"] = edu
    eduv = edu.astype(np.float64)

    dom_logit = (
        np.log(_DOMAIN_SHARE)[None, :]
        + female[:, None] * _DOMAIN_WOMEN[None, :]
        + ((eduv - 2.0) / 2.0)[:, None] * _DOMAIN_HIGH_EDU[None, :]
    )
    dom = from_rows(unif(n), softmax(dom_logit))
    del dom_logit
    c["target_occupation_domain"] = dom
    worker_domain = _DOMAIN_WORKER[dom]
    z_skill = 0.7 * (eduv - 2.0) / 1.2 + 0.6 * normal(n) + 0.2 * (age >= 30)
    level = ordered(z_skill, (-0.45, 0.75, 1.05, 1.25))  # unskilled, skilled, tech, sup, exec
    is_worker = unif(n) < np.where(worker_domain, 0.8, 0.12)
    qi = CODE_POSITION["qual"]
    c["qualification"] = np.select(
        [level == 0, level == 1, level == 2, level == 3],
        [
            np.where(is_worker, qi["UNSKILLED_WORKER"], qi["UNSKILLED_EMPLOYEE"]),
            np.where(is_worker, qi["SKILLED_WORKER"], qi["SKILLED_EMPLOYEE"]),
            qi["TECHNICIAN"],
            qi["SUPERVISOR"],
        ],
        qi["EXECUTIVE"],
    ).astype(np.int8)
    tension = _DOMAIN_TENSION[dom] + agencies.tension_shift[c["agency"]] + 0.10 * normal(n)
    c["occupation_tension"] = np.round(np.clip(tension, 0.0, 1.0), 3)
    return worker_domain


def _draw_household_and_support(
    rng: np.random.Generator, n: int, p: Person, c: dict[str, np.ndarray], constants: CalibratedConstants
) -> None:
    """Childcare, single parent, RSA and recent training."""
    normal = rng.standard_normal
    unif = rng.random
    age, female, young = p.age, p.female, p.young
    p_kids = np.where(
        young,
        np.where(female, 0.12, 0.05),
        np.where(age < 45, np.where(female, 0.40, 0.25), np.where(age < 55, 0.12, 0.02)),
    )
    kids = unif(n) < p_kids
    z_cc = normal(n) + 0.5 * female + 0.3 * p.precarity
    c["childcare_constraint"] = np.where(kids, ordered(z_cc, (0.0, 0.9)), 0).astype(np.int8)
    single = np.where(
        kids,
        unif(n) < np.where(female, 0.35, 0.08),
        (unif(n) < np.where(female, 0.06, 0.01)) & (age >= 25) & (age < 60),
    )
    c["single_parent"] = single

    mw, are, reg = c["months_worked_24m"], c["unemployment_benefit"], c["registration_months"]
    rsa_p = sigmoid(
        constants.rsa_intercept + 1.1 * p.precarity + 0.9 * single + 0.6 * (mw == 0) - 2.5 * are + 0.3 * (reg >= 24)
    )
    rsa_p = np.where(young & ~single, 0.15 * rsa_p, rsa_p)
    c["rsa_recipient"] = unif(n) < rsa_p
    c["recent_training_12m"] = unif(n) < sigmoid(-1.8 + 0.5 * (age < 30) - 0.2 * p.old + 0.3 * p.project)


def _draw_self_assessments(rng: np.random.Generator, n: int, p: Person, c: dict[str, np.ndarray]) -> None:
    """Noisy views of the latents, with missing answers (more often from people with weak digital skills)."""
    normal = rng.standard_normal
    unif = rng.random
    clarity = ordered(p.project + 0.5 * normal(n), _PROJECT_CLARITY_CUTS) + 1
    autonomy = ordered(p.search + 0.5 * normal(n), _JOB_SEARCH_AUTONOMY_CUTS) + 1
    digital = ordered(p.digital + 0.4 * normal(n), _DIGITAL_AUTONOMY_CUTS) + 1
    none_filled = unif(n) < 0.015 + 0.05 * (p.digital < -1.0)
    for name, values in (
        ("project_clarity", clarity),
        ("job_search_autonomy", autonomy),
        ("digital_autonomy", digital),
    ):
        missing = none_filled | (unif(n) < 0.02)
        c[name] = np.where(missing, np.nan, values.astype(np.float64))


def _draw_barriers_and_business(
    rng: np.random.Generator, n: int, p: Person, c: dict[str, np.ndarray], constants: CalibratedConstants
) -> None:
    """Language, mobility, housing, health, money and business-creation interest."""
    normal = rng.standard_normal
    unif = rng.random
    age, female, rural, qpv = p.age, p.female, c["rural_area"], c["qpv_resident"]
    z_lang = 0.94 * normal(n) + 0.35 * p.human_capital
    fr_lvl = np.zeros(n, dtype=np.int8)
    for code, shares in _FRENCH_SHARES.items():
        rows = p.nationality == CODE_POSITION["nat"][code]
        cuts = np.array([NormalDist().inv_cdf(min(max(x, 1e-9), 1 - 1e-9)) for x in np.cumsum(shares[::-1])[:-1]])
        # high z_lang = better French: count cut points above -> level (0 = NATIVE)
        fr_lvl[rows] = (3 - np.searchsorted(cuts, z_lang[rows])).astype(np.int8)
    c["french_proficiency"] = fr_lvl
    lic = unif(n) < sigmoid(
        1.5
        + 0.6 * (age >= 25)
        - 2.2 * (age < 20)
        - 0.8 * p.precarity
        + 0.6 * rural
        - 0.4 * qpv
        - 0.6 * p.non_eu
        + 0.3 * p.human_capital
    )
    c["driving_licence"] = lic
    c["vehicle_access"] = np.where(lic, unif(n) < sigmoid(1.2 - 0.8 * p.precarity + 0.8 * rural), unif(n) < 0.06)
    transport_shares = np.where(
        rural[:, None],
        np.array([[0.10, 0.45, 0.45]]),
        np.where(qpv[:, None], np.array([[0.80, 0.18, 0.02]]), np.array([[0.66, 0.28, 0.06]])),
    )
    c["public_transport"] = from_rows(unif(n), transport_shares)
    del transport_shares
    c["housing"] = ordered(0.7 * p.precarity + 0.7 * normal(n) + 0.3 * p.young, _HOUSING_CUTS)
    c["health_limitation"] = ordered(p.health, constants.health_cuts)
    c["financial_difficulty"] = unif(n) < sigmoid(
        -1.3 + 1.2 * p.precarity + 0.6 * c["rsa_recipient"] + 0.4 * c["single_parent"] - 0.4 * c["unemployment_benefit"]
    )
    c["business_creation_interest"] = unif(n) < sigmoid(
        -2.9
        + 1.3 * p.entrepreneurship
        + 0.3 * ~female
        + 0.3 * (c["education_level"] >= 3)
        + 0.2 * ((age >= 28) & (age < 55))
    )
