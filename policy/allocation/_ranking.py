"""Vectorised ranking rules shared by the batch allocation and the month-by-month plan.

- the priority order for intensive support, with memory of who was already served
  (:func:`priority_positions`);
- ranks within groups (agencies) along an order (:func:`rank_within`);
- the places of named référents, given out so that their caseloads fill evenly
  (:func:`referent_slots`, :func:`take_slots`).

Everything works on integer and float arrays (sorts and group ranks, no Python loop per
person), so that the plan can run the allocation every month for a million people.
"""

from __future__ import annotations

import numpy as np

#: How people who already had intensive support are ranked (``priority.already_served``):
#: ``last``: after everyone never served; ``last_within_tier``: after the never served of their
#: tier (tiers C, B, A in that order first); ``ignore``: history plays no part.
ALREADY_SERVED_RULES: tuple[str, ...] = ("last", "last_within_tier", "ignore")
#: Tier order for ``last_within_tier``: furthest from employment first.
TIER_RANK: dict[str, int] = {"C": 0, "B": 1, "A": 2}


def group_rank(order: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Rank (0-based) of each row within its group, following ``order`` (a permutation
    that sorts rows with the group as primary key)."""
    g = group[order]
    n = len(g)
    starts = np.ones(n, dtype=bool)
    if n:
        starts[1:] = g[1:] != g[:-1]
    pos = np.arange(n)
    first = np.maximum.accumulate(np.where(starts, pos, 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = pos - first
    return rank


def positions(*keys: np.ndarray) -> np.ndarray:
    """Position of each row when sorted by ``keys`` (first key primary): a unique integer per row
    when the last key is unique (the person id)."""
    order = np.lexsort(tuple(reversed(keys)))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order), dtype=np.int64)
    return pos


def rank_within(sub: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """0-based rank of each row within its ``sub`` group, following ``pos``."""
    order = np.argsort(sub.astype(np.int64) * max(len(pos), 1) + pos, kind="stable")
    return group_rank(order, sub)


def priority_positions(
    key: np.ndarray, pid: np.ndarray, served: np.ndarray, tier_rank: np.ndarray | None, rule: str
) -> np.ndarray:
    """Positions in the intensive priority order: ``key`` ascending (the caller negates a
    descending key), then person id, with people already served moved back by ``rule``."""
    if rule == "ignore":
        return positions(key, pid)
    if rule == "last":
        return positions(served.astype(np.int8), key, pid)
    if rule == "last_within_tier":
        if tier_rank is None:
            raise ValueError("last_within_tier needs each person's tier")
        return positions(tier_rank, served.astype(np.int8), key, pid)
    raise ValueError(f"unknown already_served rule {rule!r}; expected {', '.join(ALREADY_SERVED_RULES)}")


def referent_slots(ref_group: np.ndarray, caseload: np.ndarray, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The free places of every référent, in the order they are given out.

    Returns (group, référent index) of each free place, sorted by group, then by how full the
    référent is when the place is taken (``(load + j) / caseload`` for their j-th free place),
    then by référent order: giving the places in this order always hands the next person to the
    least-filled référent of the agency, so caseloads fill evenly (round robin when equal).
    """
    caseload = np.asarray(caseload, dtype=np.int64)
    load = np.asarray(load, dtype=np.int64)
    free = np.maximum(caseload - load, 0)
    ref = np.repeat(np.arange(len(caseload), dtype=np.int64), free)
    j = np.arange(len(ref), dtype=np.int64) - np.repeat(np.cumsum(free) - free, free)
    level = (load[ref] + j) / caseload[ref]
    group = np.asarray(ref_group, dtype=np.int64)[ref]
    order = np.lexsort((ref, level, group))
    return group[order], ref[order]


def take_slots(person_group: np.ndarray, slot_group: np.ndarray, slot_ref: np.ndarray) -> np.ndarray:
    """The référent of each new person: ``person_group`` lists the groups of the people served, sorted
    (priority order within a group); the k-th person of a group takes the group's k-th free place."""
    person_group = np.asarray(person_group, dtype=np.int64)
    if not len(person_group):
        return np.empty(0, dtype=np.int64)
    groups = np.arange(int(max(person_group.max(), slot_group.max(initial=-1))) + 1)
    slot_start = np.searchsorted(slot_group, groups, side="left")
    slot_end = np.searchsorted(slot_group, groups, side="right")
    person_start = np.searchsorted(person_group, groups, side="left")
    k = np.arange(len(person_group)) - person_start[person_group]
    idx = slot_start[person_group] + k
    if (idx >= slot_end[person_group]).any():
        raise ValueError("more people than free référent places in a group")
    taken: np.ndarray = slot_ref[idx]
    return taken
