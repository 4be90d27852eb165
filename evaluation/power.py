"""Power of the MSA experiment: the minimum detectable effect on six-month employment, arm vs control.

The outcome is binary (employed six months after registration, rate ``p0`` among the
controls) and the treatment is an agency's, so people of one agency are correlated
(intra-agency correlation rho, the ICC). The estimator is the ITT regression of
:mod:`evaluation.itt` (``y ~ arm + strata + baseline predicted probability``). Its
variance, following Bloom (2005, *Learning More from Social Experiments*, ch. 4), for
``J_T`` agencies in the arm and ``J_C`` controls with ``m`` people each:

    Var = sigma² · [rho·(1 - R²_agency)·(1 + cv²) + (1 - rho)·(1 - R²)/m] · (1/J_T + 1/J_C),
    sigma² = p0·(1 - p0)

where ``R²`` is the share of the *within-agency* variance of the outcome that the
baseline covariate explains, ``R²_agency`` the share of the *between-agency* variance
it explains (0 by default: a person's score says little about the agency's effect), and
``cv`` the coefficient of variation of the number of people per agency (unequal
agencies weigh more). Without covariate and with equal agencies this is the textbook
design effect ``1 + (m - 1)·rho`` applied to the simple two-sample variance. The gain from
covariate adjustment is reported as the ratio of the adjusted to the unadjusted MDE.

**Quantiles.** Student's *t*, two-sided, with ``min(J_T, J_C) - 1`` degrees of freedom:
with 20 agencies in an arm and 800 controls, the arm's 20 agency means carry nearly all
the variance, so the clustered *t* statistic behaves like a Welch statistic with about
19 degrees of freedom; the normal quantile (or ``G - 1`` with ``G`` all agencies)
would promise too much. ``MDE = (t_{1-alpha/2} + t_{power}) · SE``, and the predicted power
of an effect δ is ``P(|T| > t_{1-alpha/2})`` for ``T`` noncentral *t* with noncentrality
``δ/SE`` (at the MDE both give the requested power, to 0.001). :func:`evaluation.itt` uses the same
degrees of freedom for its confidence intervals.

:func:`simulate_power` checks the formula by simulation (the design drawn many times and
the same estimator run each time); :func:`estimate_design` measures rho, R² and the rest
from a past or pilot table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import InvalidInput
from evaluation._sufficient import AgencySums, fit_assignments


@dataclass(frozen=True)
class Design:
    """One comparison: an arm's agencies against the controls."""

    treated_agencies: int
    control_agencies: int
    people_per_agency: float
    icc: float
    baseline_rate: float
    r2: float = 0.0  # within-agency R² of the baseline covariate
    r2_agency: float = 0.0  # between-agency R² of the baseline covariate
    cluster_size_cv: float = 0.0
    alpha: float = 0.05
    power: float = 0.80

    def __post_init__(self) -> None:
        for name in ("treated_agencies", "control_agencies"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
                raise InvalidInput(f"{name}: must be a whole number of at least 2 agencies, got {value!r}")
        checks = (
            ("people_per_agency", self.people_per_agency >= 1, "at least 1"),
            ("icc", 0 <= self.icc < 1, "in [0, 1)"),
            ("baseline_rate", 0 < self.baseline_rate < 1, "in (0, 1)"),
            ("r2", 0 <= self.r2 < 1, "in [0, 1)"),
            ("r2_agency", 0 <= self.r2_agency < 1, "in [0, 1)"),
            ("cluster_size_cv", self.cluster_size_cv >= 0, "at least 0"),
            ("alpha", 0 < self.alpha < 1, "in (0, 1)"),
            ("power", 0 < self.power < 1, "in (0, 1)"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise InvalidInput(f"{name}: must be {rule}, got {getattr(self, name)!r}")

    @property
    def degrees_of_freedom(self) -> int:
        return min(self.treated_agencies, self.control_agencies) - 1

    @property
    def design_effect(self) -> float:
        """``1 + ((1 + cv²)·m - 1)·rho``: ``1 + (m - 1)·rho`` for agencies of equal size."""
        return 1 + ((1 + self.cluster_size_cv**2) * self.people_per_agency - 1) * self.icc

    def standard_error(self, adjusted: bool = True) -> float:
        """Standard error of the ITT estimate (with or without the baseline covariate)."""
        r2, r2_agency = (self.r2, self.r2_agency) if adjusted else (0.0, 0.0)
        sigma2 = self.baseline_rate * (1 - self.baseline_rate)
        per_agency = (
            self.icc * (1 - r2_agency) * (1 + self.cluster_size_cv**2)
            + (1 - self.icc) * (1 - r2) / self.people_per_agency
        )
        return math.sqrt(sigma2 * per_agency * (1 / self.treated_agencies + 1 / self.control_agencies))

    def multiplier(self) -> float:
        df = self.degrees_of_freedom
        return float(stats.t.ppf(1 - self.alpha / 2, df) + stats.t.ppf(self.power, df))

    def mde(self, adjusted: bool = True) -> float:
        return self.multiplier() * self.standard_error(adjusted)

    def predicted_power(self, effect: float, adjusted: bool = True) -> float:
        """Probability that the two-sided test at ``alpha`` rejects when the true effect is ``effect``."""
        df = self.degrees_of_freedom
        critical = float(stats.t.ppf(1 - self.alpha / 2, df))
        noncentrality = effect / self.standard_error(adjusted)
        return float(stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality))


@dataclass(frozen=True)
class MinimumDetectableEffect:
    """What :func:`minimum_detectable_effect` reports for one arm."""

    arm: str
    treated_agencies: int
    control_agencies: int
    mde: float
    mde_unadjusted: float
    adjustment_gain: float  # 1 - mde / mde_unadjusted: the share of the MDE the covariate saves
    standard_error: float
    design_effect: float
    degrees_of_freedom: int
    critical_value: float

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def minimum_detectable_effect(design: Design, arm: str = "") -> MinimumDetectableEffect:
    """The MDE (absolute difference in the six-month employment rate) of one comparison."""
    mde, raw = design.mde(adjusted=True), design.mde(adjusted=False)
    return MinimumDetectableEffect(
        arm,
        design.treated_agencies,
        design.control_agencies,
        mde,
        raw,
        1 - mde / raw,
        design.standard_error(),
        design.design_effect,
        design.degrees_of_freedom,
        float(stats.t.ppf(1 - design.alpha / 2, design.degrees_of_freedom)),
    )


def experiment_power(
    arms: Mapping[str, int],
    agencies: int,
    people_per_agency: float,
    icc: float,
    baseline_rate: float,
    *,
    r2: float = 0.0,
    r2_agency: float = 0.0,
    cluster_size_cv: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.80,
    hand_added: int = 0,
) -> pd.DataFrame:
    """MDE of every arm against the controls (all agencies not drawn and not added by hand): one row per arm."""
    controls = agencies - hand_added - sum(arms.values())
    if controls < 2:
        raise InvalidInput(f"agencies: {agencies} agencies leave {controls} controls after the draw; at least 2 needed")
    rows = []
    for arm, count in arms.items():
        design = Design(
            count, controls, people_per_agency, icc, baseline_rate, r2, r2_agency, cluster_size_cv, alpha, power
        )
        rows.append(minimum_detectable_effect(design, arm).as_dict())
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SimulatedPower:
    """Share of simulated experiments whose two-sided test at ``alpha`` rejected, and the estimator's behaviour."""

    replications: int
    rejection_rate: float
    predicted_power: float
    mean_estimate: float
    mean_std_error: float
    sd_estimate: float


def simulate_power(design: Design, effect: float, replications: int, seed: int) -> SimulatedPower:
    """Empirical power of the design: simulate it ``replications`` times and run the ITT estimator on each.

    Agency ``g`` has ``m`` people (gamma-distributed sizes when ``cluster_size_cv`` > 0);
    person ``i`` is employed with probability ``p0 + b_g + a_g + c_i + effect·T_g``
    (clipped to [0, 1]), with ``b_g`` normal of variance ``rhosigma²(1 - R²_agency)``,
    ``a_g`` normal of variance ``rhosigma²·R²_agency`` and ``c_i`` ±√(R²(1 - rho)sigma²) with equal
    chances: the outcome's ICC is rho and the covariate ``a_g + c_i`` explains R² of the
    within- and R²_agency of the between-agency variance. The first ``J_T`` agencies are
    treated (agencies are exchangeable). Same design, effect and seed → same result.
    """
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)) or replications < 1:
        raise InvalidInput(f"replications: must be a whole number of at least 1, got {replications!r}")
    rng = np.random.Generator(np.random.PCG64(seed))
    n_agencies = design.treated_agencies + design.control_agencies
    sigma2 = design.baseline_rate * (1 - design.baseline_rate)
    sd_b = math.sqrt(design.icc * sigma2 * (1 - design.r2_agency))
    sd_a = math.sqrt(design.icc * sigma2 * design.r2_agency)
    half_c = math.sqrt(design.r2 * (1 - design.icc) * sigma2)
    treated = np.arange(n_agencies) < design.treated_agencies
    stratum = np.zeros(n_agencies, dtype=np.int64)
    estimates, errors, rejected = [], [], 0
    critical = float(stats.t.ppf(1 - design.alpha / 2, design.degrees_of_freedom))
    for _ in range(replications):
        if design.cluster_size_cv > 0:
            shape = 1 / design.cluster_size_cv**2
            sizes = np.maximum(1, np.rint(rng.gamma(shape, design.people_per_agency / shape, n_agencies))).astype(int)
        else:
            sizes = np.full(n_agencies, round(design.people_per_agency))
        agency = np.repeat(np.arange(n_agencies), sizes)
        a = sd_a * rng.standard_normal(n_agencies)
        shift = sd_b * rng.standard_normal(n_agencies) + a + effect * treated
        c = half_c * np.where(rng.random(len(agency)) < 0.5, -1.0, 1.0)
        probability = np.clip(design.baseline_rate + shift[agency] + c, 0.0, 1.0)
        y = (rng.random(len(agency)) < probability).astype(float)
        sums = AgencySums.from_people(agency, y, c + a[agency], stratum, 1)
        fit = fit_assignments(sums, treated[None, :], np.ones((1, n_agencies), dtype=bool))
        estimates.append(fit.estimate[0])
        errors.append(fit.std_error[0])
        rejected += bool(abs(fit.t_stat[0]) > critical)
    return SimulatedPower(
        int(replications),
        rejected / replications,
        design.predicted_power(effect),
        float(np.mean(estimates)),
        float(np.mean(errors)),
        float(np.std(estimates, ddof=1)) if replications > 1 else 0.0,
    )


@dataclass(frozen=True)
class DesignEstimate:
    """Design parameters measured on a table of people (a past cohort or a pilot)."""

    baseline_rate: float
    icc: float
    r2: float
    people_per_agency: float
    cluster_size_cv: float
    agencies: int


def estimate_design(y: np.ndarray, covariate: np.ndarray, agency: np.ndarray) -> DesignEstimate:
    """Rate, ICC (one-way ANOVA estimator), within-agency R² of the covariate, agency sizes and their cv."""
    codes, _ = pd.factorize(pd.Series(agency))
    y = np.asarray(y, dtype=float)
    x = np.asarray(covariate, dtype=float)
    n_g = np.bincount(codes).astype(float)
    groups, total = len(n_g), len(y)
    if groups < 2 or total <= groups:
        raise InvalidInput("agency: need at least 2 agencies and more people than agencies to estimate the design")
    mean_y_g = np.bincount(codes, y) / n_g
    mean_x_g = np.bincount(codes, x) / n_g
    dy, dx = y - mean_y_g[codes], x - mean_x_g[codes]
    within_ss = float(dy @ dy)
    between_ss = float(n_g @ (mean_y_g - y.mean()) ** 2)
    ms_between, ms_within = between_ss / (groups - 1), within_ss / (total - groups)
    m0 = (total - float(n_g @ n_g) / total) / (groups - 1)
    icc = (ms_between - ms_within) / (ms_between + (m0 - 1) * ms_within)
    sxx, sxy = float(dx @ dx), float(dx @ dy)
    r2 = sxy * sxy / (sxx * within_ss) if sxx > 0 and within_ss > 0 else 0.0
    return DesignEstimate(
        float(y.mean()), max(0.0, float(icc)), float(r2), float(n_g.mean()), float(n_g.std() / n_g.mean()), groups
    )
