"""Model 2 month by month: intensive places rotate, référents are named, the provider and portfolios follow.

Each month, with the rules of :mod:`policy.allocation` (the same vectorised ranking):

1. episodes reaching their planned end free their place; the person is reviewed (end of
   intensive support) and joins the queue again, behind people never served
   (``model2.already_served``);
2. the free places of each référent (caseload = FTE × the INTENSIVE cap, rounded down, minus
   the people they hold; people who left the register free theirs) go to eligible people
   (need not in ``model2.excluded_needs``) in priority order — furthest from employment first,
   people already served moved back — each to the least-filled référent of the agency;
   a start is an examination (the référent's first interview);
3. among the others, the provider's places go to those closest to employment (EXTERNAL);
4. everyone else is in a large portfolio; under ``over_cap: waiting_list`` only up to the
   large portfolios' caps, the rest on the waiting list (UNALLOCATED), in priority order.

At the start of the plan the places are filled as by a running programme: the people given a
place in month 1 are already part-way through their episode (it ends after 1 to
``intensive_months`` months, spread by each person's phase), so rotation starts at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.schema import NEED_CODES
from planning.population import Population
from policy.allocation import TIER_RANK, referent_slots, take_slots
from policy.staffing import NORM_KEYS, AgencyStaff, Staffing

_K = {k: i for i, k in enumerate(NORM_KEYS)}
_TIER_ORDER = np.array([TIER_RANK[t] for t in ("A", "B", "C")], dtype=np.int64)  # by tier code index


def _group_rank_sorted(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Rank within group of a sequence already sorted by group."""
    starts = np.searchsorted(group, np.arange(n_groups), side="left")
    ranked: np.ndarray = np.arange(len(group)) - starts[group]
    return ranked


@dataclass
class Model2Month:
    """What the allocation did this month (for the metrics)."""

    starts: np.ndarray  # rows that started intensive support this month (not the launch fill)
    waits: np.ndarray  # months each of them waited in the queue
    referent_load: np.ndarray  # people held by each référent after the allocation
    queue: np.ndarray  # rows eligible and waiting for a place after the allocation


class Model2State:
    """Intensive episodes, named référents and tracks of every person, month after month."""

    def __init__(self, pop: Population, staffing: Staffing, agencies: list[AgencyStaff]) -> None:
        self.pop = pop
        m2 = staffing.model2
        self.months = m2.intensive_months
        self.rule = m2.already_served
        n = pop.size
        n_agencies = len(agencies)
        self.n_agencies = n_agencies
        excluded_codes = np.array([NEED_CODES.index(x) for x in m2.excluded_needs], dtype=np.int8)
        self.eligible = ~np.isin(pop.need, excluded_codes)
        self.intensive_end = np.full(n, -1, dtype=np.int32)
        self.referent = np.full(n, -1, dtype=np.int32)
        self.served = np.zeros(n, dtype=bool)
        self.queue_start = np.maximum(pop.entry, 0).astype(np.int32)
        cap = int(staffing.norms["INTENSIVE"].cap or 0)
        ref_agency, caseload = [], []
        for a, staff in enumerate(agencies):
            for c in staff.caseloads(cap):
                ref_agency.append(a)
                caseload.append(c)
        self.ref_agency = np.asarray(ref_agency, dtype=np.int64)
        self.caseload = np.asarray(caseload, dtype=np.int64)
        self.places = np.bincount(self.ref_agency, weights=self.caseload, minlength=n_agencies).astype(np.int64)
        self.provider_places = np.array([s.provider_places for s in agencies], dtype=np.int64)
        lp_cap = float(staffing.norms["LARGE_PORTFOLIO"].cap or 0)
        share = staffing.staff.cde_employer_share
        general = np.array([s.general_fte("model2", share) for s in agencies], dtype=np.float64)
        self.large_places = (
            np.floor(lp_cap * general + 1e-9).astype(np.int64)
            if staffing.over_cap == "waiting_list"
            else np.full(n_agencies, np.iinfo(np.int64).max)
        )
        # static orders, one stable sort of one float key each (the row breaks ties): priority
        # (agency, [tier], p ascending) and closest to employment (agency, p descending)
        tier_rank = _TIER_ORDER[pop.tier]
        agency = pop.agency.astype(np.float64)
        if self.rule == "last_within_tier":
            self.priority = np.argsort(agency * 16 + tier_rank * 4 + pop.p, kind="stable")
        else:
            self.priority = np.argsort(agency * 4 + pop.p, kind="stable")
        self.tier_rank = tier_rank
        self.closest = np.argsort(agency * 4 + (1.0 - pop.p), kind="stable")

    def _candidates_in_order(self, mask: np.ndarray) -> np.ndarray:
        """Rows of ``mask`` in intensive priority order, agency by agency (memory applied)."""
        seq = self.priority[mask[self.priority]]
        if self.rule == "ignore" or not len(seq):
            return seq
        agency = self.pop.agency[seq].astype(np.int64)
        served = self.served[seq].astype(np.int64)
        if self.rule == "last":
            group = agency * 2 + served
        else:
            group = (agency * 3 + self.tier_rank[seq]) * 2 + served
        ordered: np.ndarray = seq[np.argsort(group, kind="stable")]
        return ordered

    def step(self, t: int, idx: np.ndarray, key: np.ndarray, next_review: np.ndarray) -> Model2Month:
        """Allocate month ``t`` for the present rows ``idx``; writes ``key`` and ``next_review``."""
        pop = self.pop
        n = pop.size
        # 1. planned ends: review now, back in the queue
        ending = idx[self.intensive_end[idx] == t]
        self.intensive_end[ending] = -1
        self.referent[ending] = -1
        self.queue_start[ending] = t
        next_review[ending] = t
        # 2. référent loads (people who left hold nothing) and free places
        present = np.zeros(n, dtype=bool)
        present[idx] = True
        holding = idx[self.intensive_end[idx] > t]
        load = np.bincount(self.referent[holding], minlength=len(self.caseload)).astype(np.int64)
        slot_group, slot_ref = referent_slots(self.ref_agency, self.caseload, load)
        free = np.bincount(slot_group, minlength=self.n_agencies)
        candidate = present & self.eligible & (self.intensive_end < 0)
        seq = self._candidates_in_order(candidate)
        agency = pop.agency[seq].astype(np.int64)
        given = seq[_group_rank_sorted(agency, self.n_agencies) < free[agency]]
        refs = take_slots(pop.agency[given].astype(np.int64), slot_group, slot_ref)
        launch = t == 0
        if launch:  # a running programme: episodes part-way through
            self.intensive_end[given] = 1 + np.floor(pop.phase[given] * self.months).astype(np.int32)
            next_review[given] = self.intensive_end[given]
        else:
            self.intensive_end[given] = t + self.months
            next_review[given] = t
        self.referent[given] = refs
        waits = (t - self.queue_start[given]).astype(np.int64)
        self.served[given] = True
        load += np.bincount(refs, minlength=len(self.caseload))
        # 3-4. tracks of everyone present
        in_intensive = present & (self.intensive_end > t)
        key[idx] = _K["LARGE_PORTFOLIO"]
        key[idx[in_intensive[idx]]] = _K["INTENSIVE"]
        rest = present & ~in_intensive
        seq = self.closest[rest[self.closest]]
        agency = pop.agency[seq].astype(np.int64)
        external = seq[_group_rank_sorted(agency, self.n_agencies) < self.provider_places[agency]]
        key[external] = _K["EXTERNAL"]
        if (self.large_places < np.iinfo(np.int64).max).any():
            rest[external] = False
            seq = self.priority[rest[self.priority]]
            agency = pop.agency[seq].astype(np.int64)
            key[seq[_group_rank_sorted(agency, self.n_agencies) >= self.large_places[agency]]] = _K["UNALLOCATED"]
        queue = idx[self.eligible[idx] & ~in_intensive[idx]]
        empty = np.zeros(0, dtype=np.int64)
        return Model2Month(
            starts=empty if launch else given,
            waits=empty if launch else waits,
            referent_load=load,
            queue=queue,
        )
