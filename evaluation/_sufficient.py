"""The ITT regression from per-agency sums: Frisch-Waugh-Lovell, many assignments at once.

The model is ``y ~ T + strata fixed effects + p`` (``p`` the baseline predicted
probability), with standard errors clustered by agency (CR1). The treatment ``T`` is an
agency's, so everything the estimate and its clustered variance need reduces to five
sums per agency over its people: ``n``, ``Σp``, ``Σp²``, ``Σy``, ``Σpy``.

With ``S_uv`` the within-stratum centred cross-product of ``u`` and ``v`` over the
people of the compared agencies (the strata dummies partialled out), FWL gives
``T'M_X T = S_TT - S_pT²/S_pp`` and ``T'M_X y = S_Ty - S_pT·S_py/S_pp``, hence
``β = T'M_X y / T'M_X T``. The CR1 variance is
``G/(G-1) · (N-1)/(N-K) · Σ_g s_g² / (T'M_X T)²`` with ``s_g = Σ_{i∈g} T̃_i ê_i`` (the
residualised treatment times the full model's residual, summed over the agency), which
expands into the same five sums; ``K`` counts the parameters (strata with people, ``T``,
``p``), as statsmodels does. :func:`fit_assignments` evaluates this for a whole batch of
assignments (one row each) with a few matrix products over agencies: a thousand
re-randomisations of 900 agencies cost what one regression on a thousand agencies does,
whatever the number of people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TINY = 1e-12


@dataclass(frozen=True)
class AgencySums:
    """Per-agency sums of one set of people (``p`` centred by ``p_centre`` for precision)."""

    n: np.ndarray
    sp: np.ndarray
    spp: np.ndarray
    sy: np.ndarray
    spy: np.ndarray
    stratum: np.ndarray  # stratum code of each agency
    n_strata: int

    @classmethod
    def from_people(
        cls, agency: np.ndarray, y: np.ndarray, p: np.ndarray, stratum: np.ndarray, n_strata: int, p_centre: float = 0.0
    ) -> AgencySums:
        """Sums over people; ``agency`` is each person's agency position (0..G-1), ``stratum`` each agency's code."""
        size = len(stratum)
        pc = p - p_centre

        def total(weights: np.ndarray | None) -> np.ndarray:
            return np.bincount(agency, weights=weights, minlength=size).astype(float)

        return cls(total(None), total(pc), total(pc * pc), total(y), total(pc * y), np.asarray(stratum), n_strata)


@dataclass(frozen=True)
class Fits:
    """One fit per assignment: estimate, CR1 standard error, and the size of the compared sample."""

    estimate: np.ndarray
    std_error: np.ndarray
    n_treated_agencies: np.ndarray
    n_control_agencies: np.ndarray
    n_treated_people: np.ndarray
    n_control_people: np.ndarray

    @property
    def t_stat(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.estimate / self.std_error


def fit_assignments(sums: AgencySums, treated: np.ndarray, compared: np.ndarray) -> Fits:
    """ITT estimate and CR1 standard error for each row of ``treated`` (D, G) within ``compared`` (D, G).

    ``compared`` marks the agencies in the regression (the arm and the controls);
    ``treated`` those of the arm. Agencies without people drop out. A fit without
    treated or without control people within some stratum's variation gives NaN.
    """
    treated = np.atleast_2d(treated)
    w = (np.atleast_2d(compared) & (sums.n > 0)[None, :]).astype(float)
    t = (treated & (w > 0)).astype(float)
    onehot = np.zeros((len(sums.stratum), sums.n_strata))
    onehot[np.arange(len(sums.stratum)), sums.stratum] = 1.0
    wt = w * t

    def by_stratum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
        return (weights * values[None, :]) @ onehot

    n_s, p_s, y_s = by_stratum(w, sums.n), by_stratum(w, sums.sp), by_stratum(w, sums.sy)
    tt_s, tp_s, ty_s = by_stratum(wt, sums.n), by_stratum(wt, sums.sp), by_stratum(wt, sums.sy)
    inv = np.divide(1.0, n_s, out=np.zeros_like(n_s), where=n_s > 0)
    s_pp = (w @ sums.spp) - (p_s * p_s * inv).sum(1)
    s_py = (w @ sums.spy) - (p_s * y_s * inv).sum(1)
    s_pt = tp_s.sum(1) - (p_s * tt_s * inv).sum(1)
    s_tt = tt_s.sum(1) - (tt_s * tt_s * inv).sum(1)
    s_ty = ty_s.sum(1) - (tt_s * y_s * inv).sum(1)
    has_p = s_pp > _TINY * np.maximum(1.0, (w @ sums.n))  # a covariate with no within-stratum spread drops out
    inv_pp = np.divide(1.0, s_pp, out=np.zeros_like(s_pp), where=has_p)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = s_tt - s_pt * s_pt * inv_pp
        estimate = (s_ty - s_pt * s_py * inv_pp) / denominator
        estimate = np.where(denominator > _TINY, estimate, np.nan)
        theta = (s_py - estimate * s_pt) * inv_pp  # coefficient of p in the full model
        gamma_p = s_pt * inv_pp  # coefficient of p when T is regressed on the controls
        y_bar, p_bar, t_bar = y_s * inv, p_s * inv, tt_s * inv
        intercept = y_bar - theta[:, None] * p_bar - estimate[:, None] * t_bar  # full model, per stratum
        gamma_s = t_bar - gamma_p[:, None] * p_bar
    c1 = t - gamma_s[:, sums.stratum]  # residualised T = c1 - gamma_p·p within the agency
    c2 = -intercept[:, sums.stratum] - estimate[:, None] * t  # residual = y + c2 - θ·p
    th, gp = theta[:, None], gamma_p[:, None]
    score = c1 * c2 * sums.n + c1 * sums.sy - c1 * th * sums.sp - gp * c2 * sums.sp - gp * sums.spy + gp * th * sums.spp
    meat = (w * score * score).sum(1)
    clusters = w.sum(1)
    people = w @ sums.n
    params = (n_s > 0).sum(1) + 1 + has_p
    with np.errstate(invalid="ignore", divide="ignore"):
        correction = clusters / (clusters - 1) * (people - 1) / (people - params)
        std_error = np.sqrt(correction * meat) / denominator
    control = w * (1 - t)
    return Fits(
        estimate,
        np.where(np.isnan(estimate), np.nan, std_error),
        wt.sum(1),
        control.sum(1),
        wt @ sums.n,
        control @ sums.n,
    )
