"""The evaluation of the MSA experiment, from files to figures: what ``jalon experiment evaluate`` calls.

:func:`evaluate_experiment` takes the outcomes (``jalon data outcomes`` or the real
six-month follow-up: ``person_id``, ``agency_id``, ``observed_on``, ``employed_6m``), the
baseline scored file (``jalon batch score`` before the experiment: ``person_id``,
``p_employed``, ``tier``, ``need``), the verified draw (:func:`policy.draw.load_draw`) and,
optionally, the agency table (for the balance table) and the MODEL_2 allocation (for
observed/expected by track). It refuses inputs that would make the comparison careless:
duplicate people, outcomes without baseline score, agencies outside the draw, a baseline
that puts a person in another agency, a draw that its seed does not reproduce.
:func:`evaluation.report.write_report` turns the result into HTML and JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInput
from evaluation.itt import ALL, DEFAULT_RI_DRAWS, DEFAULT_RI_SEED, SUBGROUP_COLUMNS, itt_effects, observed_codes
from evaluation.observed import observed_expected
from policy.draw import ARMS, CONTROL, HAND_ADDED, DrawResult, balance_table

#: What the JSON gives for each arm (the first seven are the contract of the issue).
ARM_KEYS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value_ri",
    "n_agencies",
    "n_people",
    "p_value_cr1",
    "degrees_of_freedom",
    "n_control_agencies",
    "n_control_people",
    "arm_rate",
    "control_rate",
    "ri_draws_used",
)


def _flags(name: str, column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=float)
        if np.isnan(values).any() or not np.isin(values, (0.0, 1.0)).all():
            raise InvalidInput(f"{name}: values must be 0 or 1 (or true/false) for every person")
        return values == 1.0
    text = column.astype(str).str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0"])
    if not known.all():
        raise InvalidInput(f"{name}: values must be true or false, got {text[~known].iloc[0]!r}")
    return text.isin(["true", "1"]).to_numpy()


def _require(frame: pd.DataFrame, what: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InvalidInput(f"{column}: missing column in the {what}")
    duplicated = frame["person_id"].astype(str).duplicated()
    if duplicated.any():
        raise InvalidInput(f"person_id: {frame['person_id'][duplicated].iloc[0]!r} appears twice in the {what}")


def prepare_people(outcomes: pd.DataFrame, baseline: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per person with an outcome: ``person_id``, ``agency_id``, ``employed_6m``, ``p_employed`` (+ tier, need).

    Returns the frame and the number of baseline people without an outcome (attrition, reported).
    """
    _require(outcomes, "outcomes", ("person_id", "agency_id", "employed_6m"))
    _require(baseline, "baseline", ("person_id", "p_employed"))
    scores = baseline.set_index(baseline["person_id"].astype(str))
    ids = outcomes["person_id"].astype(str)
    found = scores.index.get_indexer(ids)
    if (found < 0).any():
        raise InvalidInput(
            f"person_id: {int((found < 0).sum())} people of the outcomes have no baseline score "
            f"(first {ids[found < 0].iloc[0]!r}); score everyone before the experiment"
        )
    people = pd.DataFrame(
        {
            "person_id": ids.to_numpy(),
            "agency_id": outcomes["agency_id"].astype(str).to_numpy(),
            "employed_6m": _flags("employed_6m", outcomes["employed_6m"]),
        }
    )
    p = pd.to_numeric(scores["p_employed"], errors="coerce").to_numpy(dtype=float)[found]
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise InvalidInput("p_employed: every baseline score must be a probability between 0 and 1")
    people["p_employed"] = p
    if "agency_id" in scores.columns:
        moved = scores["agency_id"].astype(str).to_numpy()[found] != people["agency_id"].to_numpy()
        if moved.any():
            raise InvalidInput(
                f"agency_id: {int(moved.sum())} people are in another agency in the baseline than in "
                f"the outcomes (first {people['person_id'][moved].iloc[0]!r}); the ITT keeps the "
                "baseline agency: fix the outcomes file"
            )
    for column in SUBGROUP_COLUMNS:
        if column in scores.columns:
            people[column] = scores[column].astype(str).to_numpy()[found]
    return people, int(len(scores) - len(people))


@dataclass
class ExperimentEvaluation:
    """Everything the report shows; :meth:`summary` is the JSON."""

    effects: pd.DataFrame
    observed_expected: pd.DataFrame
    balance: pd.DataFrame | None
    draw: DrawResult
    settings: dict[str, Any]
    counts: dict[str, Any] = field(default_factory=dict)

    def main_effects(self) -> pd.DataFrame:
        return self.effects[self.effects["subgroup"] == ALL].reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        arms = {
            row["arm"]: {key: _plain(row[key]) for key in ARM_KEYS} for row in self.main_effects().to_dict("records")
        }
        subgroups = _records(self.effects[self.effects["subgroup"] != ALL])
        return {
            "arms": arms,
            "subgroups": subgroups,
            "observed_expected": _records(self.observed_expected),
            "balance": _records(self.balance) if self.balance is not None else None,
            "draw": self.draw.metadata(),
            "method": self.settings,
            "people": self.counts,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{key: _plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    """JSON-safe scalars: numpy to Python, NaN and infinities to null."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def evaluate_experiment(
    outcomes: pd.DataFrame,
    baseline: pd.DataFrame,
    draw: DrawResult,
    *,
    agencies: pd.DataFrame | None = None,
    allocation: pd.DataFrame | None = None,
    ri_draws: int = DEFAULT_RI_DRAWS,
    ri_seed: int = DEFAULT_RI_SEED,
    alpha: float = 0.05,
) -> ExperimentEvaluation:
    """ITT effects (overall, by tier, by need), observed/expected in MODEL_2, balance: see the module docstring."""
    if not 0 < alpha < 1:
        raise InvalidInput(f"alpha: must be in (0, 1), got {alpha!r}")
    people, without_outcome = prepare_people(outcomes, baseline)
    effects = itt_effects(people, draw, ri_draws=ri_draws, ri_seed=ri_seed, alpha=alpha)
    plan, codes = observed_codes(draw)
    names = np.array((CONTROL, *ARMS, HAND_ADDED), dtype=object)
    arm = names[codes][pd.Index(plan.agency_id).get_indexer(people["agency_id"])]
    balance = balance_table(agencies, draw) if agencies is not None else None
    observed_on = (
        pd.to_datetime(outcomes["observed_on"])
        if "observed_on" in outcomes.columns
        else pd.Series([], dtype="datetime64[s]")
    )
    counts = {
        "with_outcome": len(people),
        "baseline_without_outcome": without_outcome,
        "by_arm": {name: int((arm == name).sum()) for name in (*plan.arms, CONTROL, HAND_ADDED)},
        "observed_from": observed_on.min().date().isoformat() if len(observed_on) else None,
        "observed_to": observed_on.max().date().isoformat() if len(observed_on) else None,
    }
    settings = {
        "model": "employed_6m ~ arm + strata fixed effects + p_employed (linear probability model)",
        "std_error": "clustered by agency, CR1: G/(G-1)·(N-1)/(N-K)",
        "confidence_interval": f"{1 - alpha:.0%} two-sided, Student's t with min(arm agencies, control agencies) - 1 "
        "degrees of freedom",
        "alpha": alpha,
        "randomisation_inference": {
            "draws": int(ri_draws),
            "seed": int(ri_seed),
            "algorithm_version": draw.algorithm_version,
            "statistic": "absolute CR1 t statistic",
            "null": "no model changes anyone's six-month outcome (sharp null)",
        },
        "strata": list(draw.strata),
    }
    return ExperimentEvaluation(effects, observed_expected(people, arm, allocation), balance, draw, settings, counts)
