"""Synthetic job-seeker population, calibrated on published figures, with known truth.

There is no real data. This module draws a population of registered job seekers
(categories A, B and C) whose marginals match the published figures of
``shared/calibration.md`` and whose labels are drawn from *known* probabilities, so
that any model can be compared with the best possible one (the Bayes rule).

The generative story (the full version, with every figure and assumption, is
``docs/data-card.md``):

1. A fixed territory of 100 agencies, each with a local unemployment rate, a rural
   share, a propensity of priority neighbourhoods (QPV) and a labour-market tension
   shift. Persons are spread over agencies and inherit these with small noise.
2. Each person has protected and sensitive attributes (sex, nationality group, age,
   disability recognition) and **latent factors**: precarity (common cause of the
   non-work barriers), distance to employment, human capital, readiness of the
   professional project, search skills, digital skills, entrepreneurial drive,
   health, activity while registered.
3. The latents (and the protected attributes, as in reality) drive the **observed
   features**: education, qualification, occupation and its tension, registration
   length, months worked, benefits, RSA, each barrier (mobility, housing, health,
   childcare, financial, digital, language), the self-assessments (with a few %
   missing answers)...
4. The **truth columns are computed from the observed model-input columns only**
   (features plus the sensitive columns ``age`` and ``disability_recognition``;
   never sex, nationality or a latent): :func:`need_probabilities` and
   :func:`employment_probability`. The recorded labels are drawn from exactly these
   probabilities, so the Bayes-optimal rule from the model inputs is the argmax of
   the truth columns (and ``true_p_employed_6m`` itself for employability).
   Advisor disagreement is folded into the truth: ``p = (1-ε)·softmax + ε·π``.
5. Optionally (:class:`LabelBias`, off by default), the *recorded* labels of one
   group are made systematically worse than the truth; the truth is unchanged.

Everything is vectorised numpy drawn from ``np.random.default_rng(seed)``: the same
seed gives the same frame, hence the same bytes through :func:`features.io.write_table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.schema import (
    EMPLOYMENT_LABEL,
    FIELDS,
    FIELDS_BY_NAME,
    NEED_CODES,
    NEED_LABEL,
    PROTECTED_COLUMNS,
    SENSITIVE_COLUMNS,
    TRUTH_EMPLOYMENT_COLUMN,
    TRUTH_NEED_COLUMNS,
)

# ---------------------------------------------------------------------------------
# Codes (always taken from the schema, never redefined)
# ---------------------------------------------------------------------------------


def _codes(name: str) -> tuple[str, ...]:
    codes = FIELDS_BY_NAME[name].codes
    assert codes is not None, name
    return codes


def _index(name: str, code: str) -> int:
    return _codes(name).index(code)


CATEGORY_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "category")
NULLABLE_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.nullable)
#: The columns the truth is a function of: model inputs (features + sensitive).
TRUTH_INPUT_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.is_model_input)

_I = {  # code positions used by the generator and the truth functions
    "edu": {c: i for i, c in enumerate(_codes("education_level"))},
    "qual": {c: i for i, c in enumerate(_codes("qualification"))},
    "dom": {c: i for i, c in enumerate(_codes("target_occupation_domain"))},
    "cat": {c: i for i, c in enumerate(_codes("category"))},
    "contract": {c: i for i, c in enumerate(_codes("last_contract"))},
    "french": {c: i for i, c in enumerate(_codes("french_proficiency"))},
    "transport": {c: i for i, c in enumerate(_codes("public_transport"))},
    "housing": {c: i for i, c in enumerate(_codes("housing"))},
    "childcare": {c: i for i, c in enumerate(_codes("childcare_constraint"))},
    "health": {c: i for i, c in enumerate(_codes("health_limitation"))},
    "sex": {c: i for i, c in enumerate(_codes("sex"))},
    "nat": {c: i for i, c in enumerate(_codes("nationality_group"))},
}

# ---------------------------------------------------------------------------------
# Published targets (shared/calibration.md) and stated assumptions (docs/data-card.md)
# ---------------------------------------------------------------------------------

SHARE_CATEGORY = {"A": 0.571, "B": 0.152, "C": 0.277}  # INSEE Références 2025
SHARE_WOMEN = 0.512  # INSEE Références 2025
SHARE_AGE = {"<25": 0.131, "25-49": 0.597, "50+": 0.272}  # INSEE Références 2025
SHARE_DISABILITY = 0.093  # Agefiph 2024 (512.6k of 5,492k)
DISABLED_50_PLUS = 0.52  # Agefiph 2024
DISABLED_REGISTERED_1Y = 0.54  # Agefiph 2024
SHARE_REGISTERED_1Y = 0.436  # INSEE Références 2025
SHARE_BAC_PLUS = 0.56  # Agefiph 2024
SHARE_RSA = 0.15  # DARES Sept 2024; Unédic
SHARE_QPV = 0.13  # ONPV (June 2018)
QPV_BELOW_BAC = 0.60  # ONPV: 3 in 5 below the baccalauréat
EMPLOYED_6M_AB = 0.358  # France Travail, Stats & indicateurs 25.027
#: Assumption (no public figure for the stock of category C): people already working
#: more than 78 h a month reach a job of at least one month more often than A and B.
EMPLOYED_6M_C = 0.58
#: Assumption: the distribution of primary needs (no public figure).
NEED_SHARES: dict[str, float] = {
    "DIRECT_EMPLOYMENT": 0.28, "SEARCH_SKILLS": 0.20, "CAREER_PROJECT": 0.16,
    "TRAINING": 0.16, "SOCIAL_BARRIERS": 0.15, "BUSINESS_CREATION": 0.05,
}
assert tuple(NEED_SHARES) == NEED_CODES
#: Assumption: nationality groups of the registered stock.
SHARE_NATIONALITY = {"FR": 0.86, "EU": 0.03, "NON_EU": 0.11}
#: Assumption: full education breakdown (only "bac or higher = 56%" is published).
SHARE_EDUCATION = {"NONE": 0.17, "CAP_BEP": 0.27, "BAC": 0.25, "BAC2": 0.14, "BAC3_PLUS": 0.17}
#: Share of each self-assessment left unanswered (documented band 3–6%).
MISSING_BAND = (0.03, 0.06)
#: Advisor labelling noise: weight of the fixed distribution NEED_SHARES in p_need.
NEED_LABEL_NOISE = 0.06
#: Bands the Bayes rule must reach on the population (the issue's contract).
BAYES_NEED_ACCURACY_BAND = (0.65, 0.85)
BAYES_EMP_AUC_BAND = (0.75, 0.85)

# ---------------------------------------------------------------------------------
# Constants calibrated offline by ``_recalibrate`` (bottom of this module; 1,000,000
# rows, seed 12345, 8 rounds) so that the marginals above and the Bayes figures
# (need accuracy 0.74, employability AUC 0.80) are met; the cut points of the
# self-assessments and of housing are set by hand (assumed shares, data card).
# tests/data/test_synth.py proves the result on a fresh sample.
# ---------------------------------------------------------------------------------

_EDU_CUTS = np.array([-1.1568, -0.3021, 0.3831, 0.8692])  # ordered probit cut points
_CAT_CUTS = np.array([0.4078, 0.8533])  # A < B < C on the activity latent
_REG_MU = 2.2146  # log-months of registration, intercept
_REG_SIGMA = 1.0
_RSA_C = -1.6196
_QPV_C = -2.1317
_QPV_EDU_SHIFT = -0.3039  # education latent shift of QPV residents
_REG_DISABLED = -0.0331  # direct shift of log-registration for recognised disability
_W_MU = -0.1  # intercept of the months-worked latent
_PC_CUTS = np.array([-1.4, -0.55, 0.65])  # project clarity 1..4
_JSA_CUTS = np.array([-1.5, -0.6, 0.65])  # job-search autonomy 1..4
_DA_CUTS = np.array([-1.3, -0.55, 0.45])  # digital autonomy 1..4
_HEALTH_CUTS = np.array([1.0958, 1.9805])
_HOUSING_CUTS = np.array([1.1, 1.9])
_NEED_SCALE = 2.6318
_NEED_INTERCEPTS = np.array([-2.6375, 2.9149, 4.8327, 4.6884, -1.4000, -3.5746])
_EMP_SCALE = 0.8743
_EMP_INTERCEPT = -0.6781
_EMP_CAT_C = 0.5188

# ---------------------------------------------------------------------------------
# Agencies: a fixed territory (the same for every seed)
# ---------------------------------------------------------------------------------

N_AGENCIES = 100
_AGENCY_SEED = 20241231


@dataclass(frozen=True)
class Agencies:
    agency_id: tuple[str, ...]
    weight: np.ndarray  # share of the registered population
    unemployment_rate: np.ndarray
    rural_share: np.ndarray
    qpv_effect: np.ndarray  # log-odds shift of living in a QPV (urban agencies)
    tension_shift: np.ndarray  # shift of occupation tension (local labour market)


def agency_table() -> Agencies:
    """The fixed territory: stratified quantiles permuted by a fixed seed."""
    rng = np.random.default_rng(_AGENCY_SEED)
    q = (np.arange(N_AGENCIES) + 0.5) / N_AGENCIES
    inv = np.array([NormalDist().inv_cdf(x) for x in q])
    unemp = np.exp(np.log(0.073) + 0.30 * inv[rng.permutation(N_AGENCIES)])
    unemp = np.clip(unemp, 0.035, 0.20)
    rural = 0.75 * q[rng.permutation(N_AGENCIES)] ** 1.8
    weight = 0.5 + q[rng.permutation(N_AGENCIES)]
    weight = weight / weight.sum()
    qpv = 0.5 * inv[rng.permutation(N_AGENCIES)] - 2.0 * (rural - rural.mean())
    tension = -2.0 * (unemp - 0.073) + 0.04 * inv[rng.permutation(N_AGENCIES)]
    ids = tuple(f"AG{i + 1:03d}" for i in range(N_AGENCIES))
    return Agencies(ids, weight, unemp, rural, qpv, tension)


# ---------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _from_shares(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Code index drawn from fixed shares with one uniform per row."""
    cum = np.cumsum(shares)
    cum = cum / cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(shares) - 1).astype(np.int8)


def _from_rows(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Code index drawn from row-wise probabilities (n, k) with one uniform per row."""
    cum = np.cumsum(probs, axis=1)
    out = (u[:, None] * cum[:, -1:] >= cum[:, :-1]).sum(axis=1)
    return out.astype(np.int8)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _ordered(z: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    return np.searchsorted(cuts, z).astype(np.int8)


# Age distribution: band shares are the published ones; the shape inside a band is
# an assumption (few 16–17 year-olds, retirement from 62 on).
_AGES = np.arange(16, 71)
_AGE_W_YOUNG = np.array([0.2, 0.5, 0.9, 1.0, 1.1, 1.15, 1.2, 1.2, 1.2])
_AGE_W_OLD = np.array([1.0] * 8 + [0.95, 0.9, 0.85, 0.75, 0.55, 0.35, 0.25, 0.12, 0.06, 0.04, 0.02, 0.02, 0.02])
_AGE_PMF = np.concatenate([
    SHARE_AGE["<25"] * _AGE_W_YOUNG / _AGE_W_YOUNG.sum(),
    np.full(25, SHARE_AGE["25-49"] / 25),
    SHARE_AGE["50+"] * _AGE_W_OLD / _AGE_W_OLD.sum(),
])
# Disability by age band, solved so that 9.3% overall and 52% of them aged 50+
# (Agefiph 2024); the <25 rate (2.5%) is an assumption.
_P_DIS_YOUNG = 0.025
_P_DIS_OLD = SHARE_DISABILITY * DISABLED_50_PLUS / SHARE_AGE["50+"]
_P_DIS_MID = (SHARE_DISABILITY * (1 - DISABLED_50_PLUS) - SHARE_AGE["<25"] * _P_DIS_YOUNG) / SHARE_AGE["25-49"]

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

# ---------------------------------------------------------------------------------
# Drawing the features (latents → observed columns)
# ---------------------------------------------------------------------------------


def _draw_features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Observed columns (category columns as int8 code indices, nullable as float+NaN)."""
    ag = agency_table()
    normal = rng.standard_normal
    unif = rng.random
    c: dict[str, np.ndarray] = {}

    # -- territory -------------------------------------------------------------
    agency = _from_shares(unif(n), ag.weight).astype(np.int16)
    c["agency"] = agency
    u_rate = ag.unemployment_rate[agency] + 0.004 * normal(n)
    c["local_unemployment_rate"] = np.round(np.clip(u_rate, 0.02, 0.25), 4)
    rural = unif(n) < ag.rural_share[agency]
    c["rural_area"] = rural

    # -- protected and sensitive attributes -------------------------------------
    female = unif(n) < SHARE_WOMEN
    c["sex"] = np.where(female, _I["sex"]["F"], _I["sex"]["M"]).astype(np.int8)
    age = _AGES[_from_shares(unif(n), _AGE_PMF)].astype(np.int64)
    c["age"] = age
    young = age < 25
    old = age >= 50
    mid = ~young & ~old
    nat = _from_shares(unif(n), np.array([SHARE_NATIONALITY[k] for k in _codes("nationality_group")]))
    c["nationality_group"] = nat
    non_eu = nat == _I["nat"]["NON_EU"]
    eu = nat == _I["nat"]["EU"]
    p_dis = np.where(young, _P_DIS_YOUNG, np.where(old, _P_DIS_OLD, _P_DIS_MID))
    disabled = unif(n) < p_dis
    c["disability_recognition"] = disabled

    # -- latent factors ----------------------------------------------------------
    z_prec = normal(n) + 0.45 * non_eu + 0.15 * eu + 0.15 * young
    z_dist = 0.40 * z_prec + 0.9 * normal(n) + 0.30 * old + 0.45 * disabled - 0.1 * mid
    z_hc = normal(n) - 0.25 * z_prec
    z_proj = normal(n) - 0.6 * young + 0.2 * (age >= 35) - 0.2 * z_dist
    z_search = normal(n) + 0.35 * z_hc - 0.25 * z_dist
    z_dig = normal(n) + 0.45 * z_hc - 0.025 * (age - 40)
    z_entre = normal(n)
    z_health = normal(n) + 0.025 * (age - 40) + 1.3 * disabled + 0.25 * z_prec
    z_act = normal(n) + 0.25 * female - 0.35 * z_dist + 0.2 * mid

    # -- QPV and education (3 in 5 QPV residents below the bac) -----------------
    qpv = ~rural & (unif(n) < _sigmoid(_QPV_C + 1.2 * non_eu + 0.4 * eu + 0.6 * z_prec + ag.qpv_effect[agency]))
    c["qpv_resident"] = qpv
    z_edu = z_hc + _QPV_EDU_SHIFT * qpv - 0.25 * non_eu - 0.35 * old - 0.25 * (age < 21) + 0.1 * female
    edu = _ordered(z_edu, _EDU_CUTS)
    c["education_level"] = edu
    eduv = edu.astype(np.float64)

    # -- occupation, qualification, tension -------------------------------------
    dom_logit = (np.log(_DOMAIN_SHARE)[None, :] + female[:, None] * _DOMAIN_WOMEN[None, :]
                 + ((eduv - 2.0) / 2.0)[:, None] * _DOMAIN_HIGH_EDU[None, :])
    dom = _from_rows(unif(n), _softmax(dom_logit))
    del dom_logit
    c["target_occupation_domain"] = dom
    worker_dom = _DOMAIN_WORKER[dom]
    z_skill = 0.7 * (eduv - 2.0) / 1.2 + 0.6 * normal(n) + 0.2 * (age >= 30)
    level = _ordered(z_skill, np.array([-0.45, 0.75, 1.05, 1.25]))  # unskilled, skilled, tech, sup, exec
    is_worker = unif(n) < np.where(worker_dom, 0.8, 0.12)
    qual = np.select(
        [level == 0, level == 1, level == 2, level == 3],
        [np.where(is_worker, _I["qual"]["UNSKILLED_WORKER"], _I["qual"]["UNSKILLED_EMPLOYEE"]),
         np.where(is_worker, _I["qual"]["SKILLED_WORKER"], _I["qual"]["SKILLED_EMPLOYEE"]),
         _I["qual"]["TECHNICIAN"], _I["qual"]["SUPERVISOR"]],
        _I["qual"]["EXECUTIVE"]).astype(np.int8)
    c["qualification"] = qual
    tension = _DOMAIN_TENSION[dom] + ag.tension_shift[agency] + 0.10 * normal(n)
    c["occupation_tension"] = np.round(np.clip(tension, 0.0, 1.0), 3)

    # -- registration, category, work history -------------------------------------
    cat = _ordered(z_act, _CAT_CUTS)
    c["category"] = cat
    cat_b = cat == _I["cat"]["B"]
    cat_c = cat == _I["cat"]["C"]
    log_reg = (_REG_MU + 0.45 * z_dist + 0.25 * old + _REG_DISABLED * disabled - 0.45 * young + 0.15 * cat_c
               + _REG_SIGMA * normal(n))
    reg = np.clip(np.floor(np.exp(np.minimum(log_reg, 6.0))), 0, 240).astype(np.int64)
    c["registration_months"] = reg
    reg24 = np.minimum(reg, 24)
    w = _W_MU + 1.0 * cat_b + 1.8 * cat_c - 0.9 * z_dist - 0.5 * (age < 22) + 0.9 * normal(n)
    mw = np.rint(24.0 * _sigmoid(1.6 * w))
    slack = np.floor(3.0 * unif(n))
    mw = np.where(cat == _I["cat"]["A"], np.minimum(mw, np.maximum(0, 24 - reg24) + slack), mw)
    mw = np.where(cat_c, np.maximum(mw, np.rint(0.7 * reg24)), mw)
    mw = np.where(cat_b, np.maximum(mw, np.rint(0.4 * reg24)), mw)
    mw = np.clip(mw, 0, 24).astype(np.int64)
    c["months_worked_24m"] = mw
    potential = np.maximum(age - 17 - np.array([0, 0, 1, 3, 5])[edu], 0)
    frac = _sigmoid(0.3 + 0.7 * z_proj + 0.6 * normal(n) + 0.05 * (mw - 12))
    c["experience_years"] = np.round(np.clip(potential * frac, 0, 50), 1)

    ci = _I["contract"]
    con_logit = np.empty((n, 5))
    con_logit[:, ci["NONE"]] = -1.5 + 2.5 * (mw == 0) + 1.0 * (c["experience_years"] < 0.5) + 0.6 * young
    con_logit[:, ci["CDI"]] = 0.6 + 0.03 * (age - 35) + 0.3 * z_hc
    con_logit[:, ci["CDD"]] = 1.0 + 0.3 * female
    con_logit[:, ci["INTERIM"]] = 0.2 + 0.9 * worker_dom - 0.5 * female + 0.3 * (age < 30)
    con_logit[:, ci["SELF_EMPLOYED"]] = -2.0 + 0.9 * z_entre
    contract = _from_rows(unif(n), _softmax(con_logit))
    del con_logit
    c["last_contract"] = contract
    precarious_contract = (contract == ci["INTERIM"]) | (contract == ci["CDD"])
    lam = np.exp(-0.1 + 0.35 * normal(n) + 0.5 * precarious_contract) * np.clip(1 - reg / 60, 0, 1)
    lam = lam * np.where(age < 21, 0.4, 1.0)
    c["past_registrations_5y"] = np.minimum(rng.poisson(lam), 20).astype(np.int64)

    # -- benefits (ARE with the 2023 duration rules; RSA) --------------------------
    cap_days = np.where(age >= 55, 822, np.where(age >= 53, 685, 548))
    entitled = np.clip(np.rint(0.75 * mw * 30.4), 182, cap_days)
    consumed = reg * 30.4 * np.where(cat_c, 0.3, np.where(cat_b, 0.7, 1.0))
    left = np.rint(entitled - consumed)
    self_emp = contract == ci["SELF_EMPLOYED"]
    eligible = (mw >= 6) & (contract != ci["NONE"]) & (~self_emp | (unif(n) < 0.1))
    are = eligible & (left > 0) & (unif(n) < 0.92)
    c["unemployment_benefit"] = are
    c["benefit_days_left"] = np.where(are, np.clip(left, 0, 1095), 0).astype(np.int64)

    # -- childcare, single parent -------------------------------------------------
    p_kids = np.where(young, np.where(female, 0.12, 0.05),
                      np.where(age < 45, np.where(female, 0.40, 0.25),
                               np.where(age < 55, 0.12, 0.02)))
    kids = unif(n) < p_kids
    z_cc = normal(n) + 0.5 * female + 0.3 * z_prec
    cc = np.where(kids, _ordered(z_cc, np.array([0.0, 0.9])), 0).astype(np.int8)
    c["childcare_constraint"] = cc
    single = np.where(kids, unif(n) < np.where(female, 0.35, 0.08),
                      (unif(n) < np.where(female, 0.06, 0.01)) & (age >= 25) & (age < 60))
    c["single_parent"] = single

    rsa_p = _sigmoid(_RSA_C + 1.1 * z_prec + 0.9 * single + 0.6 * (mw == 0) - 2.5 * are + 0.3 * (reg >= 24))
    rsa_p = np.where(young & ~single, 0.15 * rsa_p, rsa_p)
    rsa = unif(n) < rsa_p
    c["rsa_recipient"] = rsa
    c["recent_training_12m"] = unif(n) < _sigmoid(-1.8 + 0.5 * (age < 30) - 0.2 * old + 0.3 * z_proj)

    # -- self-assessments (noisy views of the latents), with missing answers --------
    pc_ = _ordered(z_proj + 0.5 * normal(n), _PC_CUTS) + 1
    jsa = _ordered(z_search + 0.5 * normal(n), _JSA_CUTS) + 1
    da = _ordered(z_dig + 0.4 * normal(n), _DA_CUTS) + 1
    none_filled = unif(n) < 0.015 + 0.05 * (z_dig < -1.0)
    for name, values in (("project_clarity", pc_), ("job_search_autonomy", jsa), ("digital_autonomy", da)):
        missing = none_filled | (unif(n) < 0.02)
        c[name] = np.where(missing, np.nan, values.astype(np.float64))

    # -- language, mobility, housing, health, money, business ----------------------
    z_lang = 0.94 * normal(n) + 0.35 * z_hc
    fr_lvl = np.zeros(n, dtype=np.int8)
    for code, shares in _FRENCH_SHARES.items():
        rows = nat == _I["nat"][code]
        cuts = np.array([NormalDist().inv_cdf(min(max(x, 1e-9), 1 - 1e-9)) for x in np.cumsum(shares[::-1])[:-1]])
        # high z_lang = better French: count cut points above -> level (0 = NATIVE)
        fr_lvl[rows] = (3 - np.searchsorted(cuts, z_lang[rows])).astype(np.int8)
    c["french_proficiency"] = fr_lvl
    lic = unif(n) < _sigmoid(1.5 + 0.6 * (age >= 25) - 2.2 * (age < 20) - 0.8 * z_prec + 0.6 * rural
                             - 0.4 * qpv - 0.6 * non_eu + 0.3 * z_hc)
    c["driving_licence"] = lic
    c["vehicle_access"] = np.where(lic, unif(n) < _sigmoid(1.2 - 0.8 * z_prec + 0.8 * rural), unif(n) < 0.06)
    transport_shares = np.where(rural[:, None], np.array([[0.10, 0.45, 0.45]]),
                                np.where(qpv[:, None], np.array([[0.80, 0.18, 0.02]]), np.array([[0.66, 0.28, 0.06]])))
    c["public_transport"] = _from_rows(unif(n), transport_shares)
    del transport_shares
    c["housing"] = _ordered(0.7 * z_prec + 0.7 * normal(n) + 0.3 * young, _HOUSING_CUTS)
    c["health_limitation"] = _ordered(z_health, _HEALTH_CUTS)
    c["financial_difficulty"] = unif(n) < _sigmoid(-1.3 + 1.2 * z_prec + 0.6 * rsa + 0.4 * single - 0.4 * are)
    c["business_creation_interest"] = unif(n) < _sigmoid(
        -2.9 + 1.3 * z_entre + 0.3 * ~female + 0.3 * (edu >= 3) + 0.2 * ((age >= 28) & (age < 55)))
    return c


# ---------------------------------------------------------------------------------
# Truth: functions of the observed model-input columns only
# ---------------------------------------------------------------------------------


def _self_assessment(x: np.ndarray) -> np.ndarray:
    """1..4 → -1..1; a missing answer counts as the neutral midpoint (0)."""
    out = (x - 2.5) / 1.5
    return np.where(np.isnan(out), 0.0, out)


def _barrier_score(c: dict[str, np.ndarray]) -> np.ndarray:
    """Intensity of the non-work barriers seen in the profile (0 = none)."""
    hou = c["housing"]
    hea = c["health_limitation"]
    chi = c["childcare_constraint"]
    fre = c["french_proficiency"]
    tra = c["public_transport"]
    no_car = ~c["driving_licence"] & ~c["vehicle_access"]
    da = c["digital_autonomy"]
    s = (1.0 * (hou == _I["housing"]["PRECARIOUS"]) + 2.0 * (hou == _I["housing"]["NONE"])
         + 0.7 * (hea == _I["health"]["MODERATE"]) + 1.6 * (hea == _I["health"]["SEVERE"])
         + 0.4 * (chi == _I["childcare"]["PARTIAL"]) + 1.2 * (chi == _I["childcare"]["STRONG"])
         + 0.7 * c["financial_difficulty"]
         + no_car * (0.3 + 0.5 * (tra == _I["transport"]["LIMITED"]) + 1.0 * (tra == _I["transport"]["NONE"]))
         + 0.5 * (fre == _I["french"]["INTERMEDIATE"]) + 1.5 * (fre == _I["french"]["BASIC"])
         + 0.5 * c["rsa_recipient"] + 0.4 * (da == 1) + 0.3 * c["single_parent"])
    return s


def _need_logits(c: dict[str, np.ndarray]) -> np.ndarray:
    age = c["age"].astype(np.float64)
    mw = c["months_worked_24m"] / 24.0
    expf = np.minimum(c["experience_years"], 15.0) / 15.0
    ten = c["occupation_tension"]
    clar = _self_assessment(c["project_clarity"])
    auto = _self_assessment(c["job_search_autonomy"])
    dig = _self_assessment(c["digital_autonomy"])
    regl = np.log1p(c["registration_months"]) / np.log(241.0)
    young = _sigmoid((25.5 - age) / 2.0)
    eduv = c["education_level"].astype(np.float64)
    edu_low = np.clip(2.0 - eduv, 0.0, 2.0) / 2.0
    qual = c["qualification"]
    qi = _I["qual"]
    qual_low = (1.0 * ((qual == qi["UNSKILLED_WORKER"]) | (qual == qi["UNSKILLED_EMPLOYEE"]))
                + 0.3 * ((qual == qi["SKILLED_WORKER"]) | (qual == qi["SKILLED_EMPLOYEE"])))
    contract = c["last_contract"]
    ci = _I["contract"]
    worked_contract = (contract == ci["CDI"]) | (contract == ci["CDD"]) | (contract == ci["INTERIM"])
    s = _barrier_score(c)
    past = np.minimum(c["past_registrations_5y"], 4) / 4.0

    logits = np.empty((len(age), 6))
    logits[:, 0] = (2.2 * mw + 0.9 * expf + 1.3 * ten + 0.6 * auto + 0.5 * clar - 0.6 * s
                    + 0.4 * worked_contract)  # DIRECT_EMPLOYMENT
    logits[:, 1] = (-1.0 * auto + 0.5 * clar + 0.6 * expf + 0.9 * regl + 0.4 * past + 0.2 * dig
                    - 0.3 * s)  # SEARCH_SKILLS
    logits[:, 2] = -1.3 * clar + 1.2 * young - 0.8 * expf + 0.3 * (eduv >= 3) - 0.3 * s  # CAREER_PROJECT
    logits[:, 3] = (1.2 * edu_low + 0.8 * qual_low - 1.0 * ten - 1.0 * c["recent_training_12m"]
                    + 0.2 * young - 0.3 * s)  # TRAINING
    logits[:, 4] = 1.0 * s + 0.15 * s * s  # SOCIAL_BARRIERS
    logits[:, 5] = 4.0 * c["business_creation_interest"] + 1.2 * (contract == ci["SELF_EMPLOYED"])  # BUSINESS
    logits *= _NEED_SCALE
    logits += _NEED_INTERCEPTS[None, :]
    return logits


def need_probabilities(c: dict[str, np.ndarray]) -> np.ndarray:
    """True need probabilities (n, 6), in NEED_CODES order, rows summing to 1.

    ``p = (1 - ε)·softmax(logits) + ε·π`` with ``ε = NEED_LABEL_NOISE`` and ``π`` the
    assumed need shares: with probability ε the advisor records a need unrelated to
    the profile (disagreement between advisors).
    """
    p = _softmax(_need_logits(c))
    p *= 1.0 - NEED_LABEL_NOISE
    p += NEED_LABEL_NOISE * np.array([NEED_SHARES[k] for k in NEED_CODES])[None, :]
    return p


def _employment_logit(c: dict[str, np.ndarray]) -> np.ndarray:
    age = c["age"].astype(np.float64)
    u = c["local_unemployment_rate"]
    reg = c["registration_months"].astype(np.float64)
    ten = c["occupation_tension"]
    expf = np.minimum(c["experience_years"], 15.0) / 15.0
    hea = c["health_limitation"]
    hou = c["housing"]
    fre = c["french_proficiency"]
    chi = c["childcare_constraint"]
    cat = c["category"]
    contract = c["last_contract"]
    ci = _I["contract"]
    no_lic = ~c["driving_licence"]
    are_end = c["unemployment_benefit"] & (c["benefit_days_left"] < 60)
    g = (1.5 * np.log1p(c["months_worked_24m"]) / np.log(25.0)  # monotone in months worked
         - (0.30 + 3.0 * u) * np.log1p(reg)  # registration length, worse where unemployment is high
         - 6.0 * (u - 0.073)
         + 0.8 * ten + 1.2 * ten * expf  # experience pays off in tight occupations
         - 1.2 * ((age - 37.0) / 20.0) ** 2 - 0.9 * np.maximum(age - 55.0, 0.0) / 10.0  # non-monotone age
         - 0.35 * (hea == _I["health"]["MODERATE"]) - 0.9 * (hea == _I["health"]["SEVERE"])
         - 0.35 * c["disability_recognition"]
         - 0.3 * (hou == _I["housing"]["PRECARIOUS"]) - 0.8 * (hou == _I["housing"]["NONE"])
         - 0.2 * (fre == _I["french"]["INTERMEDIATE"]) - 0.5 * (fre == _I["french"]["BASIC"])
         - no_lic * (0.2 + 0.5 * c["rural_area"] + 0.3 * (c["public_transport"] == _I["transport"]["NONE"]))
         - 0.15 * (chi == _I["childcare"]["PARTIAL"]) - 0.5 * (chi == _I["childcare"]["STRONG"])
         + 0.1 * c["education_level"]
         + 0.35 * (cat == _I["cat"]["B"]) + _EMP_CAT_C * (cat == _I["cat"]["C"])
         - 0.35 * c["rsa_recipient"]
         + 0.25 * _self_assessment(c["job_search_autonomy"]) + 0.15 * _self_assessment(c["project_clarity"])
         + 0.1 * _self_assessment(c["digital_autonomy"])
         + 0.06 * np.minimum(c["past_registrations_5y"], 6)
         + 0.2 * c["recent_training_12m"]
         + 0.25 * are_end
         + 0.2 * (contract == ci["INTERIM"]) - 0.3 * (contract == ci["NONE"])
         - 0.1 * c["single_parent"] - 0.1 * c["financial_difficulty"])
    return _EMP_INTERCEPT + _EMP_SCALE * g


def employment_probability(c: dict[str, np.ndarray]) -> np.ndarray:
    """True probability of ``employed_6m`` (n,)."""
    return _sigmoid(_employment_logit(c))


def _arrays_from_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Model-input columns of a frame in the generator's internal representation."""
    c: dict[str, np.ndarray] = {}
    for name in TRUTH_INPUT_COLUMNS:
        f = FIELDS_BY_NAME[name]
        col = frame[name]
        if f.kind == "category":
            codes = pd.Categorical(col.astype(str) if not isinstance(col.dtype, pd.CategoricalDtype) else col,
                                   categories=f.codes).codes
            if (codes < 0).any():
                raise ValueError(f"{name}: values outside {', '.join(f.codes or ())}")
            c[name] = codes.astype(np.int8)
        elif f.kind == "boolean":
            c[name] = _as_bool(name, col)
        else:
            if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):  # text, e.g. read from CSV
                col = pd.to_numeric(col.replace("", np.nan), errors="raise")
            if f.nullable:
                c[name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            elif f.kind == "integer":
                c[name] = col.to_numpy(dtype=np.int64)
            else:
                c[name] = col.to_numpy(dtype=np.float64)
    return c


def _as_bool(name: str, col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=bool)
    text = col.astype(str).str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0"])
    if not known.all():
        raise ValueError(f"{name}: values must be true or false, got {text[~known].iloc[0]!r}")
    return text.isin(["true", "1"]).to_numpy()


def true_probabilities(frame: pd.DataFrame) -> pd.DataFrame:
    """The truth columns recomputed from the model-input columns of ``frame`` only."""
    c = _arrays_from_frame(frame)
    p = need_probabilities(c)
    out = pd.DataFrame(p, columns=list(TRUTH_NEED_COLUMNS), index=frame.index)
    out[TRUTH_EMPLOYMENT_COLUMN] = employment_probability(c)
    return out


# ---------------------------------------------------------------------------------
# Label bias (off by default)
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelBias:
    """Make the *recorded* labels of one group worse than its true ones.

    For rows of the group, a recorded ``employed_6m`` True becomes False with
    probability ``strength``, and the recorded need becomes SOCIAL_BARRIERS with
    probability ``strength / 2``. Truth columns are never changed.

    ``column`` is a protected or sensitive column; ``value`` a code of it (``true`` or
    ``false`` for ``disability_recognition``; an inclusive range ``LO-HI`` for ``age``).
    """

    column: str
    value: str
    strength: float

    def __post_init__(self) -> None:
        _check_bias(self.column, self.value, self.strength)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` that belong to the group."""
        col = frame[self.column]
        if self.column == "age":
            lo, hi = _age_range(self.value)
            ages = col.to_numpy(dtype=np.float64, na_value=np.nan)
            return (ages >= lo) & (ages <= hi)
        if FIELDS_BY_NAME[self.column].kind == "boolean":
            want = self.value.strip().lower() == "true"
            return col.to_numpy(dtype=bool) == want
        return (col.astype(str) == self.value).to_numpy(dtype=bool)


_BIAS_COLUMNS = PROTECTED_COLUMNS + SENSITIVE_COLUMNS


def _age_range(value: str) -> tuple[int, int]:
    try:
        lo_text, hi_text = value.split("-")
        lo, hi = int(lo_text), int(hi_text)
    except ValueError:
        raise ValueError(f"label bias: age value {value!r} must be an inclusive range like 50-70") from None
    f = FIELDS_BY_NAME["age"]
    if not (f.minimum <= lo <= hi <= f.maximum):
        raise ValueError(f"label bias: age range {value!r} must lie within {int(f.minimum)}-{int(f.maximum)}")
    return lo, hi


def _check_bias(column: str, value: str, strength: float) -> None:
    if column not in _BIAS_COLUMNS:
        raise ValueError(f"label bias: unknown column {column!r}; use one of {', '.join(_BIAS_COLUMNS)}")
    f = FIELDS_BY_NAME[column]
    if column == "age":
        _age_range(value)
    elif f.kind == "boolean":
        if value.strip().lower() not in ("true", "false"):
            raise ValueError(f"label bias: unknown value {value!r} for {column}; use true or false")
    elif value not in (f.codes or ()):
        raise ValueError(f"label bias: unknown code {value!r} for {column}; use one of {', '.join(f.codes or ())}")
    if not isinstance(strength, (int, float)) or not (0.0 <= float(strength) <= 1.0) or strength != strength:
        raise ValueError(f"label bias: strength {strength!r} must be a number between 0 and 1")


def parse_label_bias(text: str) -> LabelBias:
    """Parse ``COLUMN=VALUE=STRENGTH``, e.g. ``nationality_group=NON_EU=0.5``."""
    parts = [p.strip() for p in str(text).split("=")]
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"label bias {text!r}: expected COLUMN=VALUE=STRENGTH, e.g. nationality_group=NON_EU=0.5")
    column, value, strength_text = parts
    try:
        strength = float(strength_text)
    except ValueError:
        raise ValueError(f"label bias {text!r}: strength {strength_text!r} is not a number between 0 and 1") from None
    return LabelBias(column, value, strength)


def _bias_seed(seed: int) -> np.random.SeedSequence:
    """A stream independent of the main one: the feature costs no draw when off."""
    return np.random.SeedSequence([int(seed), 0x6A61_6C6F])


# ---------------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------------


def _person_ids(seed: int, n: int) -> pa.Array:
    """"P" + 9 digits: an affine permutation of the row number modulo 10^9 (unique)."""
    offset = int(np.random.default_rng([int(seed), 0x1D]).integers(0, 10**9))
    num = (np.arange(n, dtype=np.int64) * 738_219_517 + offset) % 1_000_000_000
    buf = np.empty((n, 10), dtype=np.uint8)
    buf[:, 0] = ord("P")
    for k in range(9):
        buf[:, 9 - k] = (num % 10) + 48
        num //= 10
    offsets = np.arange(0, 10 * (n + 1), 10, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes()))


def _str_column(index: np.ndarray, codes: tuple[str, ...]) -> pd.api.extensions.ExtensionArray:
    arr = pc.take(pa.array(codes, pa.string()), pa.array(index.astype(np.int8, copy=False)))
    return pd.array(arr, dtype="str")


def generate_population(rows: int, seed: int, label_bias: LabelBias | None = None) -> pd.DataFrame:
    """A synthetic population of ``rows`` job seekers, every column of FIELDS in order.

    Category columns are pandas ``str`` (the schema codes), booleans ``bool``,
    integers ``int64`` except the nullable self-assessments (``Int64`` with a few %
    missing), numbers ``float64``. Same ``seed`` → same frame.
    """
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 0:
        raise ValueError(f"rows must be a non-negative integer, got {rows!r}")
    if label_bias is not None:
        _check_bias(label_bias.column, label_bias.value, label_bias.strength)
    n = int(rows)
    rng = np.random.default_rng(int(seed))
    c = _draw_features(rng, n)

    p_need = need_probabilities(c)
    p_emp = employment_probability(c)
    u_need = rng.random(n)
    u_emp = rng.random(n)
    need = _from_rows(u_need, p_need)
    employed = u_emp < p_emp

    columns: dict[str, object] = {}
    agencies = agency_table()
    columns["person_id"] = pd.array(_person_ids(seed, n), dtype="str")
    columns["agency_id"] = _str_column(c["agency"], agencies.agency_id)
    for f in FIELDS:
        if f.name in columns or f.role in ("label", "truth"):
            continue
        values = c[f.name]
        if f.kind == "category":
            columns[f.name] = _str_column(values, f.codes or ())
        elif f.nullable:
            columns[f.name] = pd.arrays.IntegerArray(
                np.nan_to_num(values, nan=0.0).astype(np.int64), np.isnan(values))
        elif f.kind == "integer":
            columns[f.name] = values.astype(np.int64, copy=False)
        elif f.kind == "boolean":
            columns[f.name] = values.astype(bool, copy=False)
        else:
            columns[f.name] = values.astype(np.float64, copy=False)
    del c
    frame = pd.DataFrame(columns, copy=False)

    if label_bias is not None:
        brng = np.random.default_rng(_bias_seed(seed))
        u_emp_bias = brng.random(n)
        u_need_bias = brng.random(n)
        group = label_bias.mask(frame)
        s = float(label_bias.strength)
        employed = employed & ~(group & (u_emp_bias < s))
        need = np.where(group & (u_need_bias < s / 2.0), NEED_CODES.index("SOCIAL_BARRIERS"), need)

    frame[NEED_LABEL] = _str_column(need, NEED_CODES)
    frame[EMPLOYMENT_LABEL] = employed
    for k, name in enumerate(TRUTH_NEED_COLUMNS):
        frame[name] = p_need[:, k]
    frame[TRUTH_EMPLOYMENT_COLUMN] = p_emp
    assert list(frame.columns) == [f.name for f in FIELDS]
    return frame


# ---------------------------------------------------------------------------------
# Measuring a population against its targets
# ---------------------------------------------------------------------------------


class CalibrationRow(NamedTuple):
    indicator: str
    measured: float
    target: float
    tolerance: float
    ok: bool


@dataclass(frozen=True)
class CalibrationTarget:
    indicator: str
    target: float
    tolerance: float
    source: str  # the published source, or "assumption"


_BELOW_BAC = ("NONE", "CAP_BEP")

#: Every indicator of :func:`calibration_report`, with its source. Tolerances of the
#: published figures are those of shared/calibration.md; the sub-shares without a
#: stated tolerance (disabled aged 50+, disabled registered 1 year+, QPV below the bac)
#: get ±3 pts, and the assumptions ±2 or ±3 pts (our choice, see docs/data-card.md).
CALIBRATION_TARGETS: tuple[CalibrationTarget, ...] = (
    CalibrationTarget("category A share", SHARE_CATEGORY["A"], 0.02, "INSEE Références 2025"),
    CalibrationTarget("category B share", SHARE_CATEGORY["B"], 0.02, "INSEE Références 2025"),
    CalibrationTarget("category C share", SHARE_CATEGORY["C"], 0.02, "INSEE Références 2025"),
    CalibrationTarget("women", SHARE_WOMEN, 0.015, "INSEE Références 2025"),
    CalibrationTarget("aged under 25", SHARE_AGE["<25"], 0.015, "INSEE Références 2025"),
    CalibrationTarget("aged 25-49", SHARE_AGE["25-49"], 0.015, "INSEE Références 2025"),
    CalibrationTarget("aged 50 or more", SHARE_AGE["50+"], 0.015, "INSEE Références 2025"),
    CalibrationTarget("registered 12 months or more", SHARE_REGISTERED_1Y, 0.02, "INSEE Références 2025"),
    CalibrationTarget("recognised disability", SHARE_DISABILITY, 0.015, "Agefiph 2024"),
    CalibrationTarget("disabled: aged 50 or more", DISABLED_50_PLUS, 0.03, "Agefiph 2024"),
    CalibrationTarget("disabled: registered 12 months or more", DISABLED_REGISTERED_1Y, 0.03, "Agefiph 2024"),
    CalibrationTarget("baccalaureat or higher", SHARE_BAC_PLUS, 0.03, "Agefiph 2024"),
    CalibrationTarget("RSA recipients", SHARE_RSA, 0.03, "DARES Sept 2024; Unédic"),
    CalibrationTarget("QPV residents", SHARE_QPV, 0.02, "ONPV"),
    CalibrationTarget("QPV residents: below the bac", QPV_BELOW_BAC, 0.03, "ONPV"),
    CalibrationTarget("employed_6m, categories A and B", EMPLOYED_6M_AB, 0.02,
                      "France Travail, Stats & indicateurs 25.027"),
    CalibrationTarget("employed_6m, category C", EMPLOYED_6M_C, 0.03, "assumption"),
    *(CalibrationTarget(f"primary_need {k}", v, 0.02, "assumption") for k, v in NEED_SHARES.items()),
)


def _measure(frame: pd.DataFrame) -> dict[str, float]:
    cat = frame["category"].astype(str)
    age = frame["age"].to_numpy(dtype=np.float64)
    dis = frame["disability_recognition"].to_numpy(dtype=bool)
    reg1y = frame["registration_months"].to_numpy(dtype=np.float64) >= 12
    below = frame["education_level"].astype(str).isin(_BELOW_BAC).to_numpy()
    qpv = frame["qpv_resident"].to_numpy(dtype=bool)
    emp = frame[EMPLOYMENT_LABEL].to_numpy(dtype=bool)
    ab = cat.isin(["A", "B"]).to_numpy()
    need = frame[NEED_LABEL].astype(str)

    def mean(x: np.ndarray) -> float:
        return float(np.mean(x)) if len(x) else float("nan")

    m = {
        "category A share": mean(cat.to_numpy() == "A"),
        "category B share": mean(cat.to_numpy() == "B"),
        "category C share": mean(cat.to_numpy() == "C"),
        "women": mean(frame["sex"].astype(str).to_numpy() == "F"),
        "aged under 25": mean(age < 25),
        "aged 25-49": mean((age >= 25) & (age < 50)),
        "aged 50 or more": mean(age >= 50),
        "registered 12 months or more": mean(reg1y),
        "recognised disability": mean(dis),
        "disabled: aged 50 or more": mean(age[dis] >= 50),
        "disabled: registered 12 months or more": mean(reg1y[dis]),
        "baccalaureat or higher": mean(~below),
        "RSA recipients": mean(frame["rsa_recipient"].to_numpy(dtype=bool)),
        "QPV residents": mean(qpv),
        "QPV residents: below the bac": mean(below[qpv]),
        "employed_6m, categories A and B": mean(emp[ab]),
        "employed_6m, category C": mean(emp[~ab]),
    }
    for k in NEED_CODES:
        m[f"primary_need {k}"] = mean(need.to_numpy() == k)
    return m


def calibration_report(frame: pd.DataFrame) -> list[CalibrationRow]:
    """Measured marginals of ``frame`` against :data:`CALIBRATION_TARGETS`.

    Labels are the *recorded* ones: a frame generated with a label bias will (and
    should) miss the employment and need targets.
    """
    measured = _measure(frame)
    rows = []
    for t in CALIBRATION_TARGETS:
        value = measured[t.indicator]
        ok = bool(np.isfinite(value) and abs(value - t.target) <= t.tolerance + 1e-12)
        rows.append(CalibrationRow(t.indicator, value, t.target, t.tolerance, ok))
    return rows


def bayes_reference(frame: pd.DataFrame) -> dict[str, float]:
    """What the best possible model reaches on ``frame``: the truth columns as predictions.

    ``need_accuracy`` and ``need_macro_f1`` compare argmax of the true need
    probabilities with the recorded need; ``emp_auc`` is the ROC-AUC of
    ``true_p_employed_6m`` against the recorded ``employed_6m``;
    ``need_accuracy_expected`` is the mean of the largest true probability (the
    accuracy the Bayes rule reaches in expectation, free of sampling noise).
    """
    from sklearn.metrics import roc_auc_score

    p = frame[list(TRUTH_NEED_COLUMNS)].to_numpy(dtype=np.float64)
    k = len(NEED_CODES)
    pred = p.argmax(axis=1)
    true = pd.Categorical(frame[NEED_LABEL].astype(str), categories=NEED_CODES).codes.astype(np.int64)
    confusion = np.bincount(true * k + pred, minlength=k * k).reshape(k, k).astype(np.float64)
    tp = np.diag(confusion)
    precision = np.divide(tp, confusion.sum(axis=0), out=np.zeros(k), where=confusion.sum(axis=0) > 0)
    recall = np.divide(tp, confusion.sum(axis=1), out=np.zeros(k), where=confusion.sum(axis=1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    y = frame[EMPLOYMENT_LABEL].to_numpy(dtype=bool)
    return {
        "need_accuracy": float(tp.sum() / max(len(true), 1)),
        "need_macro_f1": float(f1.mean()),
        "need_accuracy_expected": float(p.max(axis=1).mean()),
        "emp_auc": float(roc_auc_score(y, frame[TRUTH_EMPLOYMENT_COLUMN].to_numpy(dtype=np.float64))),
    }


# ---------------------------------------------------------------------------------
# Offline calibration (not used at run time): refits the constants above and prints
# them, to be pasted back. ``python -c "from synthetic import _recalibrate; _recalibrate()"``
# ---------------------------------------------------------------------------------


def _recalibrate(rows: int = 2_000_000, seed: int = 12345, rounds: int = 8,
                 need_accuracy: float = 0.74, emp_auc: float = 0.80) -> dict[str, object]:
    import sys

    from sklearn.metrics import roc_auc_score

    g = sys.modules[__name__].__dict__
    inv = NormalDist().inv_cdf

    def logit(p: float) -> float:
        return float(np.log(p / (1 - p)))

    def refit_cuts(name: str, codes: np.ndarray, target: np.ndarray, spread: float) -> None:
        measured = np.bincount(codes.astype(np.int64), minlength=len(target)) / len(codes)
        cut_t = [inv(x) for x in np.cumsum(target)[:-1]]
        cut_m = [inv(min(max(x, 1e-6), 1 - 1e-6)) for x in np.cumsum(measured)[:-1]]
        g[name] = g[name] + spread * (np.array(cut_t) - np.array(cut_m))

    for _ in range(rounds):
        c = _draw_features(np.random.default_rng(seed), rows)
        refit_cuts("_EDU_CUTS", c["education_level"], np.array(list(SHARE_EDUCATION.values())), 1.1)
        refit_cuts("_CAT_CUTS", c["category"], np.array(list(SHARE_CATEGORY.values())), 1.1)
        refit_cuts("_HEALTH_CUTS", c["health_limitation"], np.array([0.80, 0.14, 0.06]), 1.2)
        qpv = c["qpv_resident"]
        g["_QPV_C"] += logit(SHARE_QPV) - logit(qpv.mean())
        below = (c["education_level"][qpv] <= 1).mean()
        g["_QPV_EDU_SHIFT"] -= 1.1 * (inv(QPV_BELOW_BAC) - inv(below))
        g["_RSA_C"] += logit(SHARE_RSA) - logit(c["rsa_recipient"].mean())
        reg1y = (c["registration_months"] >= 12)
        g["_REG_MU"] += 1.2 * (inv(SHARE_REGISTERED_1Y) - inv(reg1y.mean()))
        dis = c["disability_recognition"]
        g["_REG_DISABLED"] += 1.2 * (inv(DISABLED_REGISTERED_1Y) - inv(reg1y[dis].mean()))
    c = _draw_features(np.random.default_rng(seed), rows)

    # Needs: intercepts for the shares, a common scale for the Bayes accuracy.
    target = np.array([NEED_SHARES[k] for k in NEED_CODES])

    def fit_need(scale: float) -> float:
        g["_NEED_SCALE"] = scale
        for _ in range(30):
            p = need_probabilities(c)
            g["_NEED_INTERCEPTS"] = g["_NEED_INTERCEPTS"] + np.log(target / p.mean(axis=0))
        return float(need_probabilities(c).max(axis=1).mean())

    lo, hi = 0.3, 4.0
    for _ in range(25):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fit_need(mid) < need_accuracy else (lo, mid)
    fit_need(0.5 * (lo + hi))

    # Employment: intercept and category C effect for the rates, a scale for the AUC.
    ab = c["category"] != _I["cat"]["C"]

    def fit_emp(scale: float) -> float:
        g["_EMP_SCALE"] = scale
        for _ in range(40):
            p = employment_probability(c)
            d_ab = logit(EMPLOYED_6M_AB) - logit(p[ab].mean())
            d_c = logit(EMPLOYED_6M_C) - logit(p[~ab].mean())
            g["_EMP_INTERCEPT"] += d_ab
            g["_EMP_CAT_C"] += (d_c - d_ab) / scale
        p = employment_probability(c)[:400_000]
        y = np.r_[np.ones(len(p)), np.zeros(len(p))]
        return float(roc_auc_score(y, np.r_[p, p], sample_weight=np.r_[p, 1 - p]))

    lo, hi = 0.2, 3.0
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fit_emp(mid) < emp_auc else (lo, mid)
    fit_emp(0.5 * (lo + hi))

    names = ["_EDU_CUTS", "_CAT_CUTS", "_HEALTH_CUTS", "_QPV_C", "_QPV_EDU_SHIFT", "_RSA_C", "_REG_MU",
             "_REG_DISABLED", "_NEED_SCALE", "_NEED_INTERCEPTS", "_EMP_SCALE", "_EMP_INTERCEPT", "_EMP_CAT_C"]
    out = {k: g[k] for k in names}
    for k, v in out.items():
        text = f"np.array([{', '.join(f'{x:.4f}' for x in v)}])" if isinstance(v, np.ndarray) else f"{v:.4f}"
        print(f"{k} = {text}")
    return out
