"""A plan: a scored population, a staffing file, a horizon, scenarios side by side.

:func:`run_plan` reads and checks everything first (the scored file, the staffing file, the
caps against the people at the start), draws the population once (shared by every
scenario), simulates each scenario and returns one table (one row per scenario, agency and
month) with the headline figures the staff representatives asked for (:func:`headline`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planning.population import Population, build_population, read_scored
from planning.simulate import WEEKS_PER_MONTH, ScenarioRun, simulate
from policy.staffing import (
    HELD_BY_SCENARIO,
    NORM_KEYS,
    PACKAGED_STAFFING,
    SCENARIOS,
    AgencyStaff,
    Staffing,
    check_caps,
    load_staffing,
    resolve_agencies,
)

#: Columns every ``plan.csv`` has, in this order first (an interface: tools outside read them).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "scenario",
    "agency_id",
    "month",
    "stock",
    "entries",
    "exits",
    "intensive",
    "reviews_due",
    "hours_needed",
    "hours_available",
    "reexamined_6m_share",
)


@dataclass
class PlanResult:
    frame: pd.DataFrame
    staffing: Staffing
    staffing_source: str
    agencies: list[AgencyStaff]
    population: Population
    runs: list[ScenarioRun]
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def headline(self) -> pd.DataFrame:
        return headline(self.frame, self.runs, self.staffing)


def _start_counts(pop: Population, agencies: list[AgencyStaff], scenario: str, staffing: Staffing) -> np.ndarray:
    """People per held modality at the start (for the caps check), agency by agency."""
    keys = HELD_BY_SCENARIO[scenario]
    n = len(agencies)
    start = slice(0, pop.n_start)
    ag = pop.agency[start].astype(np.int64)
    if scenario == "current":
        codes = np.array([2, 1, 0], dtype=np.int64)[pop.tier[start]]  # A → SUIVI, B → GUIDE, C → RENFORCE
        current: np.ndarray = np.bincount(ag * 3 + codes, minlength=n * 3).reshape(n, 3)
        return current
    if scenario == "model1":
        model1: np.ndarray = np.bincount(ag * 4 + pop.modality[start], minlength=n * 4).reshape(n, 4)
        return model1
    people = np.bincount(ag, minlength=n)
    places = np.array(
        [sum(a.caseloads(int(staffing.norms["INTENSIVE"].cap or 0))) + a.provider_places for a in agencies]
    )
    counts: np.ndarray = np.maximum(people - places, 0).reshape(n, len(keys))
    return counts


def run_plan(
    scored: str | Path,
    *,
    staffing: str | Path | None = None,
    months: int = 24,
    scenarios: tuple[str, ...] = SCENARIOS,
    seed: int = 0,
    start: date | None = None,
) -> PlanResult:
    """Simulate ``scenarios`` over ``months`` for the agencies of ``scored`` (see the module docstring)."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        from planning.population import PlanInputError

        raise PlanInputError(f"--scenario: unknown {', '.join(unknown)}; expected {', '.join(SCENARIOS)}")
    start = (start or date.today()).replace(day=1)
    staff_file = load_staffing(staffing)
    frame = read_scored(scored)
    timings["read"] = time.perf_counter() - began
    pop = build_population(frame, staff_file, months, seed)
    agencies = resolve_agencies(staff_file, pop.people_at_start())
    for scenario in scenarios:
        check_caps(
            staff_file,
            agencies,
            _start_counts(pop, agencies, scenario, staff_file),
            scenario,
            HELD_BY_SCENARIO[scenario],
        )
    timings["population"] = time.perf_counter() - began - timings["read"]
    runs = [simulate(pop, staff_file, agencies, s, start) for s in scenarios]
    for run in runs:
        timings[run.scenario] = run.seconds
    table = pd.concat([r.frame for r in runs], ignore_index=True)
    rest = [c for c in table.columns if c not in REQUIRED_COLUMNS]
    table = table[[*REQUIRED_COLUMNS, *rest]]
    return PlanResult(
        frame=table,
        staffing=staff_file,
        staffing_source=str(staffing or PACKAGED_STAFFING),
        agencies=agencies,
        population=pop,
        runs=runs,
        settings={
            "scored": str(scored),
            "months": months,
            "scenarios": list(scenarios),
            "seed": seed,
            "start": start.isoformat(),
            "people_at_start": pop.n_start,
            "entrants": pop.size - pop.n_start,
            "agencies": len(agencies),
        },
        seconds=timings,
    )


def _pooled(frame: pd.DataFrame, numerator: str, denominator: str) -> float:
    num = frame[numerator].to_numpy(dtype=np.float64)
    den = frame[denominator].to_numpy(dtype=np.float64)
    ok = np.isfinite(num) & np.isfinite(den)
    total = den[ok].sum()
    return float(num[ok].sum() / total) if total > 0 else float("nan")


def headline(frame: pd.DataFrame, runs: list[ScenarioRun], staffing: Staffing) -> pd.DataFrame:
    """One row per scenario: the seed's figures over the whole horizon (people-weighted, pooled).

    Portfolio sizes are people per FTE holding that portfolio (summed over agencies and months,
    then divided); reviews per advisor per week are the examinations due per portfolio FTE; the
    FTE gap is the sum over agencies, averaged over months (positive: advisors missing).
    """
    rows = []
    waits = {r.scenario: r.waits for r in runs}
    share = staffing.staff.cde_employer_share
    for scenario, part in frame.groupby("scenario", sort=False):
        months = part["month"].nunique()
        last = part[part["month"] == part["month"].max()]
        by_month = part.groupby("month")
        row: dict[str, Any] = {"scenario": scenario, "months": months}
        row["people"] = float(by_month["people"].sum().mean())
        for key in (*HELD_BY_SCENARIO[str(scenario)], "INTENSIVE"):
            people_col, fte_col = f"people_{key}", f"fte_{key}"
            row[f"ptf_{key}"] = _pooled(part, people_col, fte_col) if part[fte_col].notna().any() else np.nan
        held = [f"people_{k}" for k in HELD_BY_SCENARIO[str(scenario)]]
        general = part[[f"fte_{k}" for k in HELD_BY_SCENARIO[str(scenario)]]].sum(axis=1)
        row["ptf_cde"] = float(part[held].to_numpy().sum() / general.sum() * (1 - share)) if general.sum() else np.nan
        row["reviews_per_advisor_week"] = _pooled(part, "reviews_due", "fte_portfolio") / WEEKS_PER_MONTH
        row["fte_gap"] = float(by_month["fte_gap"].sum().mean())
        row["fte_gap_last_month"] = float(last["fte_gap"].sum())
        row["agencies_short"] = int((part.groupby("agency_id")["fte_gap"].mean() > 0).sum())
        row["fte_portfolio"] = float(last["fte_portfolio"].sum())
        row["hours_needed"] = float(by_month["hours_needed"].sum().mean())
        row["hours_available"] = float(by_month["hours_available"].sum().mean())
        row["reexamined_6m_share"] = _pooled(
            part.assign(_r=part["reexamined_6m_share"] * part["people"]), "_r", "people"
        )
        row["review_backlog_last_month"] = int(last["review_backlog"].sum())
        row["waiting_list"] = float(by_month["waiting_list"].sum().mean())
        w = waits.get(str(scenario))
        row["intensive_wait_median_months"] = float(np.median(w)) if w is not None and len(w) else np.nan
        if scenario == "model2":
            eligible = last["intensive_queue"] + last["intensive"]
            ever = (last["ever_intensive_share"] * eligible).sum()
            row["ever_intensive_share_last_month"] = float(ever / eligible.sum()) if eligible.sum() else np.nan
            row["intensive_queue_last_month"] = int(last["intensive_queue"].sum())
        else:
            row["ever_intensive_share_last_month"] = np.nan
            row["intensive_queue_last_month"] = np.nan
        row["max_over_cap_factor"] = float(part["over_cap_factor"].max())
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["NORM_KEYS", "REQUIRED_COLUMNS", "PlanResult", "headline", "run_plan"]
