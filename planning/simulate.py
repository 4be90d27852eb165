"""The month-by-month simulation of one scenario: who is where, what work falls due, who does it.

For each month ``t`` (see ``docs/planning.md`` for every rule and why):

1. **who is registered**: the people present at the start of the month (``stock``), the month's
   entrants (``entries``) and those who leave at its end (``exits``), from the population drawn
   once for all scenarios (:mod:`planning.population`), so that
   ``stock[t+1] = stock[t] + entries[t] - exits[t]`` for every agency;
2. **where each person is**: today (``current``): « suivi » for tier A, « guidé » for B,
   « renforcé » for C; model 1: the catalogue's modality; model 2: the monthly allocation
   (:mod:`planning.model2`);
3. **what falls due**: an examination (milestone review) when its date comes — today every
   ``reexamination.current_every_months``; model 1 at the catalogue's milestone, brought forward
   to ``reexamination.max_months`` (the six-month rule); model 2 at the end of an intensive
   episode and every ``max_months`` otherwise — plus the registration interview of entrants;
4. **the work**: contacts of every person (``contacts_per_month × minutes_per_contact`` of their
   modality or track, the waiting list included), the examinations due and the registration
   interviews, against the hours of the advisors holding portfolios (FTE × hours a month × the
   share left for the portfolio);
5. **who does it**: when hours are short, every activity is cut in the same proportion; the
   examinations not done stay due (the backlog), the oldest first the next month, and spare
   hours go to the backlog. ``hours_needed`` counts the work the month brings (the backlog is
   not counted again), so the FTE gap is the scenario's structural shortfall; the share of
   people re-examined within six months shows what the shortfall does to people.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from planning.model2 import Model2State
from planning.population import Population
from policy import add_months
from policy.staffing import (
    HELD_BY_SCENARIO,
    HELD_KEYS,
    NORM_KEYS,
    SCENARIOS,
    AgencyStaff,
    Staffing,
    portfolio_split,
)

_K = {k: i for i, k in enumerate(NORM_KEYS)}
#: Weeks in a month, for reviews per advisor per week.
WEEKS_PER_MONTH = 52.0 / 12.0
#: The seed's question: « réexaminés 2 fois par an », i.e. within six months of the last examination.
REEXAMINED_WITHIN_MONTHS = 6
#: Today's organisation by tier (A, B, C): suivi, guidé, renforcé.
_CURRENT_BY_TIER = np.array([_K["SUIVI"], _K["GUIDE"], _K["RENFORCE"]], dtype=np.int8)
_MODALITY_KEY = np.array([_K[m] for m in ("GLOBAL", "RENFORCE", "GUIDE", "SUIVI")], dtype=np.int8)


@dataclass
class ScenarioRun:
    scenario: str
    frame: pd.DataFrame
    seconds: float
    #: Months waited by every person who started intensive support (model 2), over the horizon.
    waits: np.ndarray


def _interval(pop: Population, staffing: Staffing, scenario: str) -> np.ndarray:
    """Months from one examination to the next, per person (outside intensive support)."""
    r = staffing.reexamination
    if scenario == "current":
        return np.full(pop.size, r.current_every_months, dtype=np.int32)
    if scenario == "model1":
        return np.minimum(pop.duration.astype(np.int32), r.max_months)
    return np.full(pop.size, r.max_months, dtype=np.int32)


def _median_by_group(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.full(n_groups, np.nan)
    if not len(values):
        return out
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    starts = np.searchsorted(g, np.arange(n_groups), side="left")
    ends = np.searchsorted(g, np.arange(n_groups), side="right")
    count = ends - starts
    has = count > 0
    lo = starts[has] + (count[has] - 1) // 2
    hi = starts[has] + count[has] // 2
    out[has] = (v[lo] + v[hi]) / 2.0
    return out


def simulate(
    pop: Population, staffing: Staffing, agencies: list[AgencyStaff], scenario: str, start: date
) -> ScenarioRun:
    """One row per agency and month (columns: see ``docs/planning.md``)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected {', '.join(SCENARIOS)}")
    started = time.perf_counter()
    n_agencies, n_keys, months = len(agencies), len(NORM_KEYS), pop.months
    share = staffing.staff.cde_employer_share
    wt = staffing.working_time
    hours_per_fte = wt.hours_per_fte_month * wt.portfolio_share
    portfolio_fte = np.array([a.portfolio_fte(share) for a in agencies])
    general_fte = np.array([a.general_fte(scenario, share) for a in agencies])
    referent_fte = np.array([a.referent_total for a in agencies])
    hours_available = portfolio_fte * hours_per_fte
    contact_hours = np.array([staffing.norms[k].contact_hours_per_month for k in NORM_KEYS])
    review_hours = np.array([staffing.norms[k].review_minutes / 60.0 for k in NORM_KEYS])
    entry_hours = staffing.entry_minutes / 60.0
    held = [_K[k] for k in HELD_BY_SCENARIO[scenario]]
    caps = np.array([staffing.norms[k].cap or 1 for k in HELD_BY_SCENARIO[scenario]], dtype=np.float64)

    interval = _interval(pop, staffing, scenario)
    max_months = staffing.reexamination.max_months
    # the people at the start are spread over their cycle; entrants are examined when they register
    offset = np.floor(pop.phase * interval).astype(np.int32)
    is_start = pop.entry < 0
    next_review = np.where(is_start, offset, pop.entry + interval).astype(np.int32)
    last_review = np.where(is_start, offset - interval, pop.entry).astype(np.int32)
    if scenario == "current":
        key = _CURRENT_BY_TIER[pop.tier]
    elif scenario == "model1":
        key = _MODALITY_KEY[pop.modality]
    else:
        key = np.full(pop.size, _K["LARGE_PORTFOLIO"], dtype=np.int8)
    key = key.astype(np.int8)
    m2 = Model2State(pop, staffing, agencies) if scenario == "model2" else None

    rows = []
    all_waits: list[np.ndarray] = []
    # rows are ordered by entry month: those registered by month t are a prefix
    registered_by = np.searchsorted(pop.entry, np.arange(months), side="right")
    for t in range(months):
        idx = np.flatnonzero(pop.exit[: registered_by[t]] >= t)
        ag = pop.agency[idx].astype(np.int64)
        stock = np.bincount(ag[pop.entry[idx] < t], minlength=n_agencies)
        entries = np.bincount(ag[pop.entry[idx] == t], minlength=n_agencies)
        exits = np.bincount(ag[pop.exit[idx] == t], minlength=n_agencies)
        m2month = m2.step(t, idx, key, next_review) if m2 is not None else None

        counts = np.bincount(ag * n_keys + key[idx], minlength=n_agencies * n_keys).reshape(n_agencies, n_keys)
        counts = counts.astype(np.float64)
        split = portfolio_split(counts[:, held], caps, general_fte, staffing.over_cap)
        if staffing.over_cap == "waiting_list" and scenario != "model2":
            counts[:, held] = split.held
            counts[:, _K["UNALLOCATED"]] += split.waiting.sum(axis=1)

        due = idx[next_review[idx] <= t]
        ag_due = pop.agency[due].astype(np.int64)
        fresh = next_review[due] == t  # falling due this month; the others are the backlog
        new_counts = np.bincount(ag_due[fresh] * n_keys + key[due[fresh]], minlength=n_agencies * n_keys).reshape(
            n_agencies, n_keys
        )
        hours_needed = counts @ contact_hours + new_counts @ review_hours + entries * entry_hours
        ratio = np.minimum(
            1.0, np.divide(hours_available, hours_needed, out=np.ones(n_agencies), where=hours_needed > 0)
        )
        # hours for examinations: their share of the month's cut, plus any spare hours for the backlog
        budget = ratio * (new_counts @ review_hours) + np.maximum(hours_available - hours_needed, 0.0) + 1e-9
        order = np.lexsort((due, next_review[due], ag_due))
        seq = due[order]
        seq_ag = ag_due[order]
        cost = review_hours[key[seq]]
        cumulative = np.cumsum(cost)
        before_agency = np.concatenate([[0.0], cumulative])[np.searchsorted(seq_ag, np.arange(n_agencies))]
        done = seq[cumulative - before_agency[seq_ag] <= budget[seq_ag]]
        n_due = new_counts.sum(axis=1)
        n_done = np.bincount(pop.agency[done].astype(np.int64), minlength=n_agencies)
        backlog = np.bincount(ag_due, minlength=n_agencies) - n_done
        last_review[done] = t
        following = t + interval[done]
        if m2 is not None:
            ongoing = m2.intensive_end[done] > t
            following = np.where(ongoing, np.minimum(m2.intensive_end[done], t + max_months), following)
        next_review[done] = following

        present = np.bincount(ag, minlength=n_agencies)
        recent = np.bincount(ag, weights=(t - last_review[idx]) < REEXAMINED_WITHIN_MONTHS, minlength=n_agencies)
        size = split.size
        row: dict[str, object] = {
            "month": np.full(n_agencies, t + 1),
            "month_start": np.full(n_agencies, add_months(start, t).isoformat()),
            "agency_id": list(pop.agency_ids),
            "stock": stock,
            "entries": entries,
            "exits": exits,
            "people": present,
        }
        for k, name in enumerate(NORM_KEYS):
            row[f"people_{name}"] = counts[:, k].astype(np.int64)
        row["intensive"] = counts[:, _K["INTENSIVE"]].astype(np.int64)
        row["waiting_list"] = counts[:, _K["UNALLOCATED"]].astype(np.int64)
        row["reviews_due"] = n_due
        row["reviews_done"] = n_done
        row["review_backlog"] = backlog
        row["hours_needed"] = hours_needed
        row["hours_available"] = hours_available
        row["fte_portfolio"] = portfolio_fte
        row["fte_gap"] = (hours_needed - hours_available) / hours_per_fte
        row["service_ratio"] = ratio
        row["reviews_per_advisor_week"] = n_due / portfolio_fte / WEEKS_PER_MONTH
        row["reexamined_6m_share"] = np.divide(recent, present, out=np.full(n_agencies, np.nan), where=present > 0)
        for name in HELD_KEYS:
            row[f"ptf_{name}"] = np.full(n_agencies, np.nan)
            row[f"fte_{name}"] = np.full(n_agencies, np.nan)
        for j, k in enumerate(held):
            row[f"ptf_{NORM_KEYS[k]}"] = size[:, j]
            row[f"fte_{NORM_KEYS[k]}"] = split.fte[:, j]
        general_people = split.held.sum(axis=1)
        row["ptf_cde"] = np.divide(
            general_people * (1 - share), general_fte, out=np.full(n_agencies, np.nan), where=general_fte > 0
        )
        row["over_cap_factor"] = split.over_factor
        row.update(_model2_columns(m2, m2month, pop, counts, referent_fte, n_agencies))
        rows.append(pd.DataFrame(row))
        if m2month is not None:
            all_waits.append(m2month.waits)
    frame = pd.concat(rows, ignore_index=True)
    frame.insert(0, "scenario", scenario)
    frame = frame.sort_values(["agency_id", "month"], kind="stable").reset_index(drop=True)
    waits = np.concatenate(all_waits) if all_waits else np.zeros(0, dtype=np.int64)
    return ScenarioRun(scenario, frame, time.perf_counter() - started, waits)


def _model2_columns(
    m2: Model2State | None, month: object, pop: Population, counts: np.ndarray, referent_fte: np.ndarray, n: int
) -> dict[str, object]:
    nan = np.full(n, np.nan)
    if m2 is None or month is None:
        return {
            "intensive_places": np.zeros(n, dtype=np.int64),
            "provider_places": np.zeros(n, dtype=np.int64),
            "intensive_queue": np.zeros(n, dtype=np.int64),
            "intensive_starts": np.zeros(n, dtype=np.int64),
            "intensive_wait_median_months": nan,
            "ever_intensive_share": nan,
            "max_referent_fill": nan,
            "ptf_INTENSIVE": nan,
            "fte_INTENSIVE": nan,
        }
    from planning.model2 import Model2Month

    assert isinstance(month, Model2Month)
    starts_ag = pop.agency[month.starts].astype(np.int64)
    queue_ag = pop.agency[month.queue].astype(np.int64)
    fill = np.divide(month.referent_load, m2.caseload, out=np.zeros(len(m2.caseload)), where=m2.caseload > 0)
    max_fill = np.zeros(n)
    np.maximum.at(max_fill, m2.ref_agency, fill)
    eligible_present = np.bincount(queue_ag, minlength=n) + np.bincount(
        m2.ref_agency, weights=month.referent_load, minlength=n
    )
    served_rows = month.queue[m2.served[month.queue]]
    ever = np.bincount(pop.agency[served_rows].astype(np.int64), minlength=n) + np.bincount(
        m2.ref_agency, weights=month.referent_load, minlength=n
    )
    return {
        "intensive_places": m2.places,
        "provider_places": m2.provider_places,
        "intensive_queue": np.bincount(queue_ag, minlength=n),
        "intensive_starts": np.bincount(starts_ag, minlength=n),
        "intensive_wait_median_months": _median_by_group(starts_ag, month.waits.astype(np.float64), n),
        "ever_intensive_share": np.divide(ever, eligible_present, out=np.full(n, np.nan), where=eligible_present > 0),
        "max_referent_fill": max_fill,
        "ptf_INTENSIVE": np.divide(
            counts[:, _K["INTENSIVE"]], referent_fte, out=np.full(n, np.nan), where=referent_fte > 0
        ),
        "fte_INTENSIVE": referent_fte,
    }
