"""The person behind the columns: protected and sensitive attributes, and latent factors.

Sex, nationality group, age and disability recognition are drawn from the published
shares; the latent factors (precarity, distance to employment, human capital...) depend
on them as in reality, and drive every observed feature (``_draws``, ``_work_history``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.age import AGE_BANDS, AgeBand
from synthetic._codes import CODE_POSITION, codes
from synthetic._sampling import from_shares
from synthetic._targets import DISABLED_50_PLUS, SHARE_AGE, SHARE_DISABILITY, SHARE_NATIONALITY, SHARE_WOMEN

# Age distribution: band shares are the published ones; the shape inside a band is
# an assumption (few 16-17 year-olds, retirement from 62 on).
_AGES = np.arange(16, 71)
_AGE_SHAPE = {
    "<25": np.array([0.2, 0.5, 0.9, 1.0, 1.1, 1.15, 1.2, 1.2, 1.2]),
    "25-49": np.ones(25),
    "50+": np.array([1.0] * 8 + [0.95, 0.9, 0.85, 0.75, 0.55, 0.35, 0.25, 0.12, 0.06, 0.04, 0.02, 0.02, 0.02]),
}


def _in_band(age: np.ndarray, band: AgeBand) -> np.ndarray:
    return (age >= band.low) & (age < band.high)


assert all(len(_AGE_SHAPE[band.label]) == _in_band(_AGES, band).sum() for band in AGE_BANDS)
_AGE_PMF = np.concatenate(
    [SHARE_AGE[band.label] * _AGE_SHAPE[band.label] / _AGE_SHAPE[band.label].sum() for band in AGE_BANDS]
)
# Disability by age band, solved so that 9.3% overall and 52% of them aged 50+
# (Agefiph 2024); the <25 rate (2.5%) is an assumption.
_P_DIS_YOUNG = 0.025
_P_DIS_OLD = SHARE_DISABILITY * DISABLED_50_PLUS / SHARE_AGE["50+"]
_P_DIS_MID = (SHARE_DISABILITY * (1 - DISABLED_50_PLUS) - SHARE_AGE["<25"] * _P_DIS_YOUNG) / SHARE_AGE["25-49"]


@dataclass(frozen=True)
class Person:
    """Protected and sensitive attributes and latent factors: what drives the observed columns."""

    female: np.ndarray
    age: np.ndarray
    young: np.ndarray  # the age bands of core.age
    mid: np.ndarray
    old: np.ndarray
    nationality: np.ndarray  # code index
    non_eu: np.ndarray
    eu: np.ndarray
    disabled: np.ndarray
    precarity: np.ndarray  # common cause of the non-work barriers
    distance: np.ndarray  # distance to employment
    human_capital: np.ndarray
    project: np.ndarray  # readiness of the professional project
    search: np.ndarray  # search skills
    digital: np.ndarray  # digital skills
    entrepreneurship: np.ndarray
    health: np.ndarray
    activity: np.ndarray  # activity while registered (category A < B < C)


def draw_person(rng: np.random.Generator, n: int, c: dict[str, np.ndarray]) -> Person:
    """Attributes (also written to ``c`` as columns) and latent factors, from the stream ``rng``."""
    normal = rng.standard_normal
    unif = rng.random
    female = unif(n) < SHARE_WOMEN
    c["sex"] = np.where(female, CODE_POSITION["sex"]["F"], CODE_POSITION["sex"]["M"]).astype(np.int8)
    age = _AGES[from_shares(unif(n), _AGE_PMF)].astype(np.int64)
    c["age"] = age
    young, mid, old = (_in_band(age, band) for band in AGE_BANDS)
    nat = from_shares(unif(n), np.array([SHARE_NATIONALITY[k] for k in codes("nationality_group")]))
    c["nationality_group"] = nat
    non_eu = nat == CODE_POSITION["nat"]["NON_EU"]
    eu = nat == CODE_POSITION["nat"]["EU"]
    p_dis = np.where(young, _P_DIS_YOUNG, np.where(old, _P_DIS_OLD, _P_DIS_MID))
    disabled = unif(n) < p_dis
    c["disability_recognition"] = disabled

    z_prec = normal(n) + 0.45 * non_eu + 0.15 * eu + 0.15 * young
    z_dist = 0.40 * z_prec + 0.9 * normal(n) + 0.30 * old + 0.45 * disabled - 0.1 * mid
    z_hc = normal(n) - 0.25 * z_prec
    z_proj = normal(n) - 0.6 * young + 0.2 * (age >= 35) - 0.2 * z_dist
    z_search = normal(n) + 0.35 * z_hc - 0.25 * z_dist
    z_dig = normal(n) + 0.45 * z_hc - 0.025 * (age - 40)
    z_entre = normal(n)
    z_health = normal(n) + 0.025 * (age - 40) + 1.3 * disabled + 0.25 * z_prec
    z_act = normal(n) + 0.25 * female - 0.35 * z_dist + 0.2 * mid
    return Person(
        female,
        age,
        young,
        mid,
        old,
        nat,
        non_eu,
        eu,
        disabled,
        precarity=z_prec,
        distance=z_dist,
        human_capital=z_hc,
        project=z_proj,
        search=z_search,
        digital=z_dig,
        entrepreneurship=z_entre,
        health=z_health,
        activity=z_act,
    )
