"""Intention-to-treat effects of each model against the controls, with randomisation inference.

For each arm (MODEL_1, MODEL_2) the people of the arm's agencies are compared with
those of the control agencies (the other arm and hand-added agencies are left out):

    employed_6m ~ arm + strata fixed effects + p_employed        (linear probability model)

``p_employed`` is the baseline predicted probability (the scored file before the
experiment), which soaks up individual variance. Standard errors are clustered by
agency, CR1 (as statsmodels' ``cov_type="cluster"``); confidence intervals use Student's
*t* with ``min(J_arm, J_control) - 1`` degrees of freedom (see :mod:`evaluation.power`).
The computation is Frisch-Waugh-Lovell on per-agency sums (:mod:`evaluation._sufficient`),
equal to the library's regression (checked in ``tests/evaluation``).

**Randomisation inference.** The draw is re-run with ``ri_draws`` new seeds through the
very plan that made it (:meth:`policy.draw.DrawPlan.assign`: same strata, same quotas,
same algorithm); each re-draw is analysed like the real one, and the p-value is
``(1 + #{|t_redraw| ≥ |t_observed|}) / (1 + #redraws)`` with ``t`` the CR1 *t* statistic
(studentised: it stays sound for heterogeneous effects). Re-draws whose statistic is
undefined (a subgroup with no person in a re-drawn arm) are left out of both counts. It
tests the sharp null that no model changes anyone's six-month outcome, and it is exact
whatever the number of treated agencies: with 20 agencies in MODEL_2 the clustered
*t* test may over-reject, this one does not.

Subgroups (baseline ``tier``, predicted ``need``) use the same machinery on their people.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import InvalidInput
from evaluation._sufficient import AgencySums, Fits, fit_assignments
from policy.draw import ARMS, DrawPlan, DrawResult

ALL = "ALL"
SUBGROUP_COLUMNS: tuple[str, ...] = ("tier", "need")
DEFAULT_RI_DRAWS = 1000
DEFAULT_RI_SEED = 20270401
_RI_BATCH = 250  # re-draws fitted at once: (batch x agencies) arrays stay a few MB
EFFECT_COLUMNS: tuple[str, ...] = (
    "arm",
    "subgroup",
    "group",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "degrees_of_freedom",
    "p_value_cr1",
    "p_value_ri",
    "ri_draws_used",
    "n_agencies",
    "n_people",
    "n_control_agencies",
    "n_control_people",
    "arm_rate",
    "control_rate",
)


def ri_seeds(ri_seed: int, count: int, exclude: int) -> list[int]:
    """The seeds of the re-draws: ``count`` draws from ``Generator(PCG64(ri_seed))``, never the real draw's seed."""
    rng = np.random.Generator(np.random.PCG64(ri_seed))
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=count, dtype=np.int64) if int(s) != exclude]


def _agency_positions(people: pd.DataFrame, agency_ids: np.ndarray) -> np.ndarray:
    position = pd.Index(agency_ids).get_indexer(people["agency_id"].astype(str))
    if (position < 0).any():
        missing = people["agency_id"].astype(str).to_numpy()[position < 0][0]
        raise InvalidInput(f"agency_id: agency {missing!r} of the outcomes is not in the draw")
    return position


def observed_codes(draw: DrawResult) -> tuple[DrawPlan, np.ndarray]:
    """The draw's plan and its arm codes (agencies sorted by id), checked against what its seed gives."""
    plan = draw.plan()
    codes = plan.assign_codes(draw.seed)
    recorded = draw.assignment.set_index(draw.assignment["agency_id"].astype(str))["arm"].reindex(plan.agency_id)
    names = np.array(("CONTROL", *ARMS, "HAND_ADDED"), dtype=object)
    if not np.array_equal(names[codes], recorded.to_numpy(dtype=object)):
        raise InvalidInput(f"draw: the arms are not those that seed {draw.seed} gives; the draw cannot be verified")
    return plan, codes


def _row(
    arm: str, subgroup: str, group: str, fit: Fits, p_ri: float, used: int, alpha: float, rates: tuple[float, float]
) -> dict[str, object]:
    estimate, error = float(fit.estimate[0]), float(fit.std_error[0])
    treated, control = int(fit.n_treated_agencies[0]), int(fit.n_control_agencies[0])
    df = min(treated, control) - 1
    if df >= 1 and np.isfinite(estimate) and error > 0:
        critical = float(stats.t.ppf(1 - alpha / 2, df))
        low, high = estimate - critical * error, estimate + critical * error
        p_cr1 = float(2 * stats.t.sf(abs(estimate / error), df))
    else:
        low = high = p_cr1 = float("nan")
    return {
        "arm": arm,
        "subgroup": subgroup,
        "group": group,
        "estimate": estimate,
        "std_error": error,
        "ci_low": low,
        "ci_high": high,
        "degrees_of_freedom": df,
        "p_value_cr1": p_cr1,
        "p_value_ri": p_ri,
        "ri_draws_used": used,
        "n_agencies": treated,
        "n_people": int(fit.n_treated_people[0]),
        "n_control_agencies": control,
        "n_control_people": int(fit.n_control_people[0]),
        "arm_rate": rates[0],
        "control_rate": rates[1],
    }


def _ri_p_value(sums: AgencySums, code: int, redraws: np.ndarray, observed_t: float) -> tuple[float, int]:
    if not len(redraws) or not np.isfinite(observed_t):
        return float("nan"), 0
    extreme = used = 0
    bound = abs(observed_t) * (1 - 1e-12)  # a re-draw equal to the real one counts as extreme
    for start in range(0, len(redraws), _RI_BATCH):
        batch = redraws[start : start + _RI_BATCH]
        t = fit_assignments(sums, batch == code, (batch == code) | (batch == 0)).t_stat
        valid = np.isfinite(t)
        used += int(valid.sum())
        extreme += int((np.abs(t[valid]) >= bound).sum())
    return (1 + extreme) / (1 + used), used


def itt_effects(
    people: pd.DataFrame,
    draw: DrawResult,
    *,
    ri_draws: int = DEFAULT_RI_DRAWS,
    ri_seed: int = DEFAULT_RI_SEED,
    alpha: float = 0.05,
    subgroups: Sequence[str] = SUBGROUP_COLUMNS,
) -> pd.DataFrame:
    """One row per arm and (sub)group: estimate, CR1 standard error, CI, p-values (CR1 and RI), sample sizes.

    ``people``: ``agency_id``, ``employed_6m`` (0/1), ``p_employed`` and the subgroup
    columns present (``tier``, ``need``); see :func:`evaluation.experiment.prepare_people`.
    Rows with ``subgroup == "ALL"`` are the main effects.
    """
    if isinstance(ri_draws, bool) or not isinstance(ri_draws, (int, np.integer)) or ri_draws < 0:
        raise InvalidInput(f"ri_draws: must be a whole number ≥ 0, got {ri_draws!r}")
    plan, codes = observed_codes(draw)
    agency_ids = plan.agency_id
    stratum_labels, stratum = np.unique(plan.stratum.astype(str), return_inverse=True)
    redraws = (
        np.stack([plan.assign_codes(s) for s in ri_seeds(ri_seed, ri_draws, draw.seed)])
        if ri_draws
        else np.zeros((0, len(agency_ids)), dtype=np.int8)
    )
    position = _agency_positions(people, agency_ids)
    y = people["employed_6m"].to_numpy(dtype=float)
    p = people["p_employed"].to_numpy(dtype=float)
    centre = float(p.mean()) if len(p) else 0.0
    person_code = codes[position]
    groups: list[tuple[str, str, np.ndarray | None]] = [(ALL, ALL, None)]
    for column in subgroups:
        if column in people.columns:
            labels = people[column].astype(str).to_numpy()
            groups += [(column, str(value), labels == value) for value in sorted(set(labels))]
    rows = []
    for subgroup, group, mask in groups:
        keep = slice(None) if mask is None else mask
        sums = AgencySums.from_people(position[keep], y[keep], p[keep], stratum, len(stratum_labels), centre)
        for arm in plan.arms:
            code = ARMS.index(arm) + 1
            fit = fit_assignments(sums, (codes == code)[None, :], ((codes == code) | (codes == 0))[None, :])
            p_ri, used = _ri_p_value(sums, code, redraws, float(fit.t_stat[0]))
            in_arm, in_control = person_code[keep] == code, person_code[keep] == 0
            rates = (
                float(y[keep][in_arm].mean()) if in_arm.any() else float("nan"),
                float(y[keep][in_control].mean()) if in_control.any() else float("nan"),
            )
            rows.append(_row(arm, subgroup, group, fit, p_ri, used, alpha, rates))
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
