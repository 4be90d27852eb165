"""Agencies for the MSA experiment: a table to draw from, and each agency's random effect on employment.

:func:`generate_agencies` makes ``n`` agencies with a region, a size (registered job
seekers, categories A, B, C) and three baseline covariates. Each agency also has a
latent effect ``z`` (standard normal, standardised over the n agencies) that the table does not show: asked with
``generate_population(..., agencies=K, icc=R)``, people are spread over the K agencies
in proportion to their size and their true employment probability moves by
``sigma·z`` on the log-odds scale, ``sigma`` solved so that the intra-agency correlation of
``employed_6m`` is R (:func:`agency_effect_scale`). The agency's baseline employment
rate carries part of ``z`` (as last year's rate would), so it is a meaningful
covariate for the balance table.

Assumptions (not published figures): regional shares of job seekers rounded from
orders of magnitude of the regional statistics; sizes log-normal with median 5,500
(about 5 million registered over about 900 agencies, rounded, not fitted); the
covariates' means and spreads set by hand. The K agencies are drawn independently of
the territory of ``_territory`` (which still drives the local labour market of each
person), so between agencies the true probability varies only through the random effect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq

from synthetic._errors import SyntheticInputError
from synthetic._sampling import sigmoid

#: Region code, name, share of registered job seekers, RSA share shift (assumed orders of magnitude).
REGIONS: tuple[tuple[str, str, float, float], ...] = (
    ("IDF", "Île-de-France", 0.185, 0.00),
    ("ARA", "Auvergne-Rhône-Alpes", 0.105, -0.02),
    ("HDF", "Hauts-de-France", 0.095, 0.04),
    ("OCC", "Occitanie", 0.095, 0.02),
    ("NAQ", "Nouvelle-Aquitaine", 0.085, 0.00),
    ("PAC", "Provence-Alpes-Côte d'Azur", 0.085, 0.02),
    ("GES", "Grand Est", 0.080, 0.01),
    ("NOR", "Normandie", 0.050, 0.01),
    ("PDL", "Pays de la Loire", 0.045, -0.03),
    ("BRE", "Bretagne", 0.042, -0.03),
    ("BFC", "Bourgogne-Franche-Comté", 0.038, -0.01),
    ("CVL", "Centre-Val de Loire", 0.036, 0.00),
    ("REU", "La Réunion", 0.022, 0.15),
    ("GUA", "Guadeloupe", 0.010, 0.15),
    ("MTQ", "Martinique", 0.008, 0.15),
    ("COR", "Corse", 0.005, 0.00),
    ("GUY", "Guyane", 0.005, 0.15),
    ("MAY", "Mayotte", 0.004, 0.15),
)
AGENCY_COLUMNS: tuple[str, ...] = (
    "agency_id",
    "name",
    "region",
    "size",
    "share_long_term_unemployed",
    "share_rsa",
    "baseline_employment_rate",
    "added_by_hand",
)
MAX_ICC = 0.5
_AGENCY_STREAM = 0xA6E  # the agency table's own stream: the same table for a seed, whatever else is drawn
_PLACEMENT_STREAM = 0x91A  # which agency each person belongs to
_ICC_SAMPLE_ROWS = 20_000  # people whose log-odds calibrate sigma (the first rows: people are drawn iid)
_HERMITE_NODES = 60


def agencies_path(people_path: str | Path) -> Path:
    """Where ``jalon data synth --agencies K`` puts the agencies: ``people.parquet`` → ``people.agencies.parquet``."""
    people_path = Path(people_path)
    return people_path.with_name(f"{people_path.stem}.agencies{people_path.suffix}")


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SyntheticInputError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return int(value)


def _region_counts(n: int) -> np.ndarray:
    """Agencies per region, largest remainder on the shares (exact total, deterministic)."""
    shares = np.array([r[2] for r in REGIONS])
    quota = n * shares / shares.sum()
    counts = np.floor(quota).astype(np.int64)
    left = n - int(counts.sum())
    counts[np.argsort(-(quota - counts), kind="stable")[:left]] += 1
    return counts


def agencies_with_effect(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The agency table of :func:`generate_agencies` and the hidden standard-normal effect of each agency."""
    n = _check_count("agencies", n, 1)
    seed = _check_count("seed", seed, 0)
    rng = np.random.default_rng([seed, _AGENCY_STREAM])
    counts = _region_counts(n)
    region_index = np.repeat(np.arange(len(REGIONS)), counts)
    within = np.concatenate([np.arange(1, c + 1) for c in counts])
    width = max(3, len(str(n)))
    z = rng.standard_normal(n)
    if n > 1:  # standardised over the agencies, so that the population's ICC is the one asked for
        z = (z - z.mean()) / z.std()
    size = np.clip(np.rint(np.exp(np.log(5500.0) + 0.45 * rng.standard_normal(n))), 600, 30000).astype(np.int64)
    rsa_shift = np.array([r[3] for r in REGIONS])[region_index]
    share_rsa = np.clip(0.16 + rsa_shift + 0.04 * rng.standard_normal(n) - 0.01 * z, 0.02, 0.6)
    long_term = np.clip(0.48 - 0.02 * z + 0.05 * rng.standard_normal(n), 0.2, 0.8)
    employment = np.clip(0.42 + 0.035 * z - 0.3 * (share_rsa - 0.16) + 0.02 * rng.standard_normal(n), 0.1, 0.8)
    frame = pd.DataFrame(
        {
            "agency_id": pd.array([f"AG{i + 1:0{width}d}" for i in range(n)], dtype="str"),
            "name": pd.array(
                [f"Agence {REGIONS[r][1]} {k:03d}" for r, k in zip(region_index, within, strict=True)], dtype="str"
            ),
            "region": pd.array([REGIONS[r][0] for r in region_index], dtype="str"),
            "size": size,
            "share_long_term_unemployed": np.round(long_term, 4),
            "share_rsa": np.round(share_rsa, 4),
            "baseline_employment_rate": np.round(employment, 4),
            "added_by_hand": np.zeros(n, dtype=bool),
        }
    )
    return frame, z


def generate_agencies(n: int, seed: int) -> pd.DataFrame:
    """``n`` agencies: ``agency_id``, ``name``, ``region``, ``size``, baseline covariates, ``added_by_hand`` (False).

    Same ``n`` and ``seed`` → same table; it is the table that
    ``generate_population(..., agencies=n)`` with the same seed spreads people over.
    """
    return agencies_with_effect(n, seed)[0]


def agency_effect_scale(logits: np.ndarray, icc: float) -> float:
    """sigma such that ``y ~ Bernoulli(sigmoid(logit + sigma·z_agency))`` has intra-agency correlation ``icc``.

    ICC = Var_z(E_i[p | z]) / (p̄ (1 - p̄)), the between-agency share of the variance of
    a binary outcome, computed by Gauss-Hermite quadrature over z on the given people.
    """
    if icc == 0 or len(logits) == 0:
        return 0.0
    nodes, weights = hermegauss(_HERMITE_NODES)
    weights = weights / weights.sum()
    sample = np.asarray(logits, dtype=float)[:_ICC_SAMPLE_ROWS]

    def icc_of(scale: float) -> float:
        mean_given_z = np.array([sigmoid(sample + scale * node).mean() for node in nodes])
        mean = float(weights @ mean_given_z)
        return float(weights @ (mean_given_z - mean) ** 2) / (mean * (1 - mean)) - icc

    return float(brentq(icc_of, 0.0, 20.0, xtol=1e-10))


def place_people(
    rows: int, seed: int, agencies: int, icc: float, p_employed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's agency id (drawn in proportion to size) and true employment probability with the effect."""
    if isinstance(icc, bool) or not isinstance(icc, (int, float, np.floating)) or not 0 <= icc <= MAX_ICC:
        raise SyntheticInputError(f"icc must be between 0 and {MAX_ICC}, got {icc!r}")
    table, z = agencies_with_effect(agencies, seed)
    rng = np.random.default_rng([int(seed), _PLACEMENT_STREAM])
    cumulative = np.cumsum(table["size"].to_numpy(dtype=float))
    index = np.minimum(np.searchsorted(cumulative / cumulative[-1], rng.random(rows), side="right"), len(table) - 1)
    p = np.clip(p_employed, 1e-12, 1 - 1e-12)
    logits = np.log(p) - np.log1p(-p)
    scale = agency_effect_scale(logits, icc)
    shifted = sigmoid(logits + scale * z[index]) if scale > 0 else p_employed
    ids = table["agency_id"].to_numpy(dtype=object)[index]
    return ids, shifted
