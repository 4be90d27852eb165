"""The territory: a fixed set of agencies with their local labour market, and where people live.

The 100 agencies are the same for every seed (their own fixed seed): each has a local
unemployment rate, a rural share, a propensity of priority neighbourhoods (QPV) and a
labour-market tension shift. Persons are spread over agencies and inherit these with
small noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from synthetic._calibrated import CalibratedConstants
from synthetic._sampling import from_shares, sigmoid

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


def draw_places(rng: np.random.Generator, n: int, agencies: Agencies) -> dict[str, np.ndarray]:
    """Agency (as a position in ``agencies``), local unemployment rate and rural area of each person."""
    agency = from_shares(rng.random(n), agencies.weight).astype(np.int16)
    u_rate = agencies.unemployment_rate[agency] + 0.004 * rng.standard_normal(n)
    return {
        "agency": agency,
        "local_unemployment_rate": np.round(np.clip(u_rate, 0.02, 0.25), 4),
        "rural_area": rng.random(n) < agencies.rural_share[agency],
    }


def draw_qpv(
    rng: np.random.Generator,
    places: dict[str, np.ndarray],
    agencies: Agencies,
    *,
    non_eu: np.ndarray,
    eu: np.ndarray,
    precarity: np.ndarray,
    constants: CalibratedConstants,
) -> np.ndarray:
    """Residence in a priority neighbourhood (urban only): nationality, precarity and the agency's propensity."""
    logit = constants.qpv_intercept + 1.2 * non_eu + 0.4 * eu + 0.6 * precarity + agencies.qpv_effect[places["agency"]]
    return ~places["rural_area"] & (rng.random(len(logit)) < sigmoid(logit))
