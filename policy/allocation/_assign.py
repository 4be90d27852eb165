"""Model 2 — capacity-aware allocation: intensive support first, then provider, then portfolios.

Capacities are explicit inputs (:class:`AgencyConfig`); the allocation never exceeds
them and shows who qualified for intensive support but found no place (``left_out``).

Rules, within each agency (or over the whole input when the config is not per agency):

1. intensive places = ``referents × caseload_per_referent``. People whose need is not
   in ``priority.excluded_needs`` (default: DIRECT_EMPLOYMENT) are ranked by
   ``priority.order_by`` (default ``p_employed``, ascending: furthest from employment
   first), ties broken by ``person_id``; the first ones get INTENSIVE support, which
   ends ``intensive_months`` after ``as_of`` (time-limited, so that as many people as
   possible get it at least once);
2. among everyone else, the provider's places (``external_provider_places``) go to those
   closest to employment: highest ``p_employed`` first, ties by ``person_id`` → EXTERNAL;
3. the rest go to LARGE_PORTFOLIO up to ``large_portfolio_places`` (null = unlimited),
   in the same priority order as step 1;
4. anyone left is UNALLOCATED (waiting list).

With the episodes of intensive support (model 2 with memory, :mod:`._history`): people in an
ongoing episode keep their place and their référent until its end, so only the places left
are given out; people never served come before people already served
(``priority.already_served``). Each intensive place goes to a named référent, the least
filled of the agency first, so caseloads stay balanced (:func:`._ranking.referent_slots`).

Everything is vectorised (sorts and group ranks); the output does not depend on the
order of the input rows. See ``docs/policy.md``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInput
from core.text import ID_PATTERN
from core.thresholds import TierBands
from features.schema import NEED_CODES, NEEDS
from policy.allocation._agency_config import AgencyConfig, ResolvedCapacity, parse_agency_config
from policy.allocation._history import History, read_history
from policy.allocation._ranking import (
    TIER_RANK,
    positions,
    priority_positions,
    rank_within,
    referent_slots,
    take_slots,
)
from policy.allocation._result import TRACKS, AllocationResult, group_shares
from policy.dates import add_months


class AllocationInputError(InvalidInput):
    """A scored table that cannot be allocated (missing column, bad value, duplicate id)."""


def _person_key(ids: pd.Series) -> np.ndarray:
    """Integer codes ordering person ids (numeric order for numbers, text order otherwise);
    raises on duplicates."""
    if pd.api.types.is_numeric_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        codes, uniques = pd.factorize(ids, sort=True)
    else:
        codes, uniques = pd.factorize(ids.astype(str), sort=True)
    if len(uniques) < len(ids):
        counts = np.bincount(codes)
        examples = [str(uniques[k]) for k in np.flatnonzero(counts > 1)[:5]]
        duplicates = int((counts - 1)[counts > 1].sum())
        raise AllocationInputError(f"person_id: {duplicates} duplicate id(s), e.g. {', '.join(examples)}")
    positions: np.ndarray = codes.astype(np.int64)
    return positions


def _take(series: pd.Series, rows: np.ndarray) -> pd.Series:
    """Rows of ``series`` by position, keeping its dtype (no re-conversion of strings)."""
    return series.take(rows).reset_index(drop=True)


def _validate(scored: pd.DataFrame, config: AgencyConfig) -> None:
    missing = [c for c in ("person_id", "need", "p_employed") if c not in scored.columns]
    order_by = config.priority.order_by
    if order_by not in scored.columns and order_by not in missing:
        missing.append(order_by)
    if missing:
        raise AllocationInputError(f"scored table: missing column(s) {', '.join(missing)}")
    if scored["person_id"].isna().any():
        raise AllocationInputError(f"person_id: {int(scored['person_id'].isna().sum())} row(s) have no value")
    # Pseudonymous ids only, as the API and the data files have them: never a name or an e-mail.
    named = np.flatnonzero(~scored["person_id"].astype(str).str.fullmatch(ID_PATTERN.strip("^$")).to_numpy(bool))
    if len(named):
        rows = ", ".join(str(i + 1) for i in named[:5]) + (" and more" if len(named) > 5 else "")
        raise AllocationInputError(
            f"person_id: {len(named)} value(s) are not pseudonymous ids (1 to 64 letters, digits, - or _), rows {rows}"
        )
    needs = pd.unique(scored["need"])
    bad = [n for n in needs if not isinstance(n, str) or n not in NEEDS]
    if bad:
        raise AllocationInputError(
            f"need: unknown code(s) {sorted(map(repr, bad))[:5]}; expected one of {', '.join(NEED_CODES)}"
        )
    for col in dict.fromkeys(("p_employed", order_by)):
        values = pd.to_numeric(scored[col], errors="coerce")
        if values.isna().any():
            raise AllocationInputError(f"{col}: {int(values.isna().sum())} row(s) are missing or not numeric")
        if col == "p_employed" and ((values < 0) | (values > 1)).any():
            raise AllocationInputError("p_employed: probabilities must be between 0 and 1")


def _pools(scored: pd.DataFrame, config: AgencyConfig) -> tuple[np.ndarray, list[ResolvedCapacity]]:
    """Each row's agency group and each group's capacities."""
    n = len(scored)
    has_agency = "agency_id" in scored.columns
    if config.agencies is not None:
        if not has_agency:
            raise AllocationInputError(
                "the configuration is per agency (agencies:) but the scored table has no agency_id column"
            )
        agency_text = scored["agency_id"].astype(str).where(scored["agency_id"].notna(), None)
        if agency_text.isna().any():
            raise AllocationInputError(f"agency_id: {int(agency_text.isna().sum())} row(s) have no value")
        group, agencies = pd.factorize(agency_text, sort=True)
        unknown = [a for a in agencies if a not in config.agencies]
        if unknown:
            raise AllocationInputError(
                f"agency_id: no entry under agencies: in the configuration for {', '.join(map(repr, unknown[:5]))}"
            )
        return np.asarray(group, dtype=np.int64), [config.for_agency(a) for a in agencies]
    if has_agency and config.agency_id is not None:
        others = set(scored["agency_id"].dropna().astype(str)) - {config.agency_id}
        if others or scored["agency_id"].isna().any():
            raise AllocationInputError(
                f"agency_id: the configuration is for agency {config.agency_id!r} but the table also holds "
                f"{', '.join(map(repr, sorted(others)[:5])) or 'rows without agency'}"
            )
    return np.zeros(n, dtype=np.int64), [config.for_agency(None)]


def _tier_rank(scored: pd.DataFrame, p: np.ndarray) -> np.ndarray:
    """Tier order for ``last_within_tier`` (C, B, A): the scored tier, else the default bands on p."""
    tiers = scored["tier"].astype(str).to_numpy() if "tier" in scored.columns else TierBands().tier(p)
    ranks = pd.Series(tiers).map(TIER_RANK)
    if ranks.isna().any():
        raise AllocationInputError("tier: every row needs a tier A, B or C for priority.already_served")
    ranked: np.ndarray = ranks.to_numpy(dtype=np.int64)
    return ranked


class _Referents:
    """The named référents of every agency group: caseloads, and who already holds a place."""

    def __init__(self, pools: list[ResolvedCapacity], group: np.ndarray, history: History) -> None:
        self.ids: list[str] = []
        self.group: list[int] = []
        self.caseload: list[int] = []
        index: dict[tuple[int, str], int] = {}
        for g, pool in enumerate(pools):
            for name in pool.referent_ids:
                index[(g, name)] = len(self.ids)
                self.ids.append(name)
                self.group.append(g)
                self.caseload.append(pool.caseload_per_referent)
        self.index = index
        self.continuing = np.zeros(len(self.ids), dtype=np.int64)
        self.of_row = np.full(len(group), -1, dtype=np.int64)
        for row in np.flatnonzero(history.ongoing):
            g, name = int(group[row]), str(history.referent[row])
            k = index.get((g, name))
            if k is None:
                known = ", ".join(pools[g].referent_ids) or "none"
                raise AllocationInputError(
                    f"episodes: the ongoing episode of a person of {pools[g].agency_id or 'the pool'} is with "
                    f"référent {name!r}, who is not among its référents ({known}); name them in referent_ids"
                )
            self.of_row[row] = k
            self.continuing[k] += 1
        over = np.flatnonzero(self.continuing > np.asarray(self.caseload, dtype=np.int64))
        if len(over):
            k = int(over[0])
            raise AllocationInputError(
                f"episodes: référent {self.ids[k]!r} holds {int(self.continuing[k])} ongoing episodes but a caseload "
                f"of {self.caseload[k]}; ongoing episodes are never cut short: raise caseload_per_referent"
            )

    def free_places(self, n_groups: int) -> np.ndarray:
        free = np.asarray(self.caseload, dtype=np.int64) - self.continuing
        return np.bincount(np.asarray(self.group, dtype=np.int64), weights=free, minlength=n_groups).astype(np.int64)

    def give(self, rows: np.ndarray, group: np.ndarray, pos: np.ndarray) -> None:
        """Hand the new intensive ``rows`` their référent: per agency in priority order, least filled first."""
        if not len(rows):
            return
        rows = rows[np.lexsort((pos[rows], group[rows]))]
        slot_group, slot_ref = referent_slots(
            np.asarray(self.group, dtype=np.int64), np.asarray(self.caseload, dtype=np.int64), self.continuing
        )
        self.of_row[rows] = take_slots(group[rows], slot_group, slot_ref)

    def loads(self, pools: list[ResolvedCapacity], new_rows: np.ndarray) -> pd.DataFrame:
        new = np.bincount(self.of_row[new_rows], minlength=len(self.ids)) if len(self.ids) else np.zeros(0, int)
        return pd.DataFrame(
            {
                "agency_id": [pools[g].agency_id for g in self.group],
                "referent_id": self.ids,
                "caseload": np.asarray(self.caseload, dtype=np.int64),
                "continuing": self.continuing,
                "new": new.astype(np.int64),
                "load": (self.continuing + new).astype(np.int64),
            }
        )


def allocate(
    scored: pd.DataFrame, config: AgencyConfig, as_of: date, episodes: pd.DataFrame | None = None
) -> AllocationResult:
    """Assign every person to INTENSIVE, EXTERNAL, LARGE_PORTFOLIO or UNALLOCATED.

    See the module docstring for the rules. ``episodes`` (person_id, referent_id, start_date,
    end_date) gives model 2 its memory. Deterministic and independent of row order.
    """
    if not isinstance(config, AgencyConfig):
        config = parse_agency_config(config)
    _validate(scored, config)
    n = len(scored)
    has_agency = "agency_id" in scored.columns
    group, pools = _pools(scored, config)
    n_groups = len(pools)
    history = read_history(scored["person_id"], episodes, as_of)
    referents = _Referents(pools, group, history)
    cap_ext = np.array([p.external_provider_places for p in pools], dtype=np.int64)
    cap_lp = np.array(
        [np.iinfo(np.int64).max if p.large_portfolio_places is None else p.large_portfolio_places for p in pools],
        dtype=np.int64,
    )

    # --- sort keys
    pid = _person_key(scored["person_id"])
    p = pd.to_numeric(scored["p_employed"]).to_numpy(dtype=np.float64)
    key = pd.to_numeric(scored[config.priority.order_by]).to_numpy(dtype=np.float64)
    key = key if config.priority.ascending else -key
    key = key + 0.0  # -0.0 and 0.0 tie
    eligible = ~scored["need"].isin(list(config.priority.excluded_needs)).to_numpy()
    rule = config.priority.already_served if history.episodes else "ignore"
    tier_rank = _tier_rank(scored, p) if rule == "last_within_tier" else None

    pos_priority = priority_positions(key, pid, history.served, tier_rank, rule)
    pos_closest = positions(-p + 0.0, pid)

    # 1. intensive: ongoing episodes continue; the places left go to eligible people in priority order
    continuing = history.ongoing
    candidate = eligible & ~continuing
    rank0 = rank_within(group * 2 + (~candidate), pos_priority)
    new_intensive = candidate & (rank0 < referents.free_places(n_groups)[group])
    intensive = continuing | new_intensive
    new_rows = np.flatnonzero(new_intensive)
    referents.give(new_rows, group, pos_priority)
    # 2. external: the rest, closest to employment first
    rank_ext = rank_within(group * 2 + intensive, pos_closest)
    external = ~intensive & (rank_ext < cap_ext[group])
    # 3. large portfolio: the rest, in priority order
    taken = intensive | external
    rank_lp = rank_within(group * 2 + taken, pos_priority)
    portfolio = ~taken & (rank_lp < cap_lp[group])

    track_code = np.full(n, 3, dtype=np.int8)
    track_code[portfolio] = 2
    track_code[external] = 1
    track_code[intensive] = 0
    rank = pd.array(np.where(candidate, rank0 + 1, 0), dtype="Int64")
    rank[~candidate] = pd.NA

    # --- end dates (per agency: intensive_months may differ); ongoing episodes keep theirs
    end_per_pool = np.array([np.datetime64(add_months(as_of, pl.intensive_months), "D") for pl in pools])
    end = np.where(new_intensive, end_per_pool[group], np.datetime64("NaT", "D"))
    end = np.where(continuing, history.end, end)
    referent_text = np.array([*referents.ids, None], dtype=object)[np.where(intensive, referents.of_row, -1)]

    # --- reasons: a handful of categories, never a per-row string
    excluded_label = " / ".join(f"« {NEEDS[x]} »" for x in config.priority.excluded_needs) or "—"
    reasons = [
        "Accompagnement intensif par un référent de parcours, limité dans le temps : priorité aux personnes "
        "les plus éloignées de l'emploi dans la limite des places.",
        "Pas de place en accompagnement intensif : accompagnement externalisé auprès du prestataire "
        "(places attribuées aux personnes les plus proches de l'emploi).",
        f"Besoin {excluded_label} hors accompagnement intensif : accompagnement externalisé auprès du "
        "prestataire (places attribuées aux personnes les plus proches de l'emploi).",
        "Pas de place en accompagnement intensif ni chez le prestataire : suivi en portefeuille élargi.",
        f"Besoin {excluded_label} hors accompagnement intensif : suivi en portefeuille élargi.",
        "Aucune place disponible (intensif, prestataire, portefeuille élargi) : liste d'attente.",
        "Accompagnement intensif en cours avec son référent de parcours, jusqu'à la fin prévue.",
    ]
    reason_code = np.select(
        [continuing, new_intensive, external & eligible, external, portfolio & eligible, portfolio],
        [6, 0, 1, 2, 3, 4],
        default=5,
    )

    # --- canonical output order: agency, then person id
    out_order = np.argsort(group * max(n, 1) + pid)
    columns: dict[str, Any] = {"person_id": _take(scored["person_id"], out_order)}
    if has_agency:
        columns["agency_id"] = _take(scored["agency_id"], out_order)
    columns["track"] = pd.Categorical.from_codes(track_code[out_order], categories=list(TRACKS))
    columns["rank"] = rank[out_order]
    columns["end_date"] = pd.Series(end[out_order]).astype("datetime64[s]").to_numpy()
    columns["referent_id"] = pd.array(referent_text[out_order], dtype="string")
    columns["already_served"] = history.served[out_order]
    columns["reason_fr"] = pd.Categorical.from_codes(reason_code[out_order], categories=reasons)
    assignments = pd.DataFrame(columns)

    # --- capacity used
    counts = np.zeros((n_groups, 4), dtype=np.int64)
    np.add.at(counts, (group, track_code.astype(np.int64)), 1)
    cap_rows = []
    for g, pool in enumerate(pools):
        for t, track in enumerate(TRACKS):
            cap = pool.capacity(track)
            cap_rows.append({"agency_id": pool.agency_id, "track": track, "capacity": cap, "used": int(counts[g, t])})
            if cap is not None and counts[g, t] > cap:  # pragma: no cover - guarded by construction
                raise AssertionError(f"capacity exceeded for {track} in {pool.agency_id}")
    capacity_used = pd.DataFrame(cap_rows)
    capacity_used["capacity"] = capacity_used["capacity"].astype("Int64")

    # --- left out: eligible, no intensive place (the list, not only a count)
    lo = eligible & ~intensive
    lo_rows = np.flatnonzero(lo)
    lo_order = lo_rows[np.argsort(group[lo_rows] * max(n, 1) + rank0[lo_rows])]
    left = {"person_id": _take(scored["person_id"], lo_order)}
    if has_agency:
        left["agency_id"] = _take(scored["agency_id"], lo_order)
    left["rank"] = (rank0[lo_order] + 1).astype(np.int64)
    left["p_employed"] = p[lo_order]
    left["need"] = _take(scored["need"], lo_order)
    if "tier" in scored.columns:
        left["tier"] = _take(scored["tier"], lo_order)
    left["track"] = pd.Categorical.from_codes(track_code[lo_order], categories=list(TRACKS))
    left["already_served"] = history.served[lo_order]
    left_out = pd.DataFrame(left)

    # --- the episodes this allocation starts (to record), in output order
    started = new_rows[np.argsort(group[new_rows] * max(n, 1) + pid[new_rows])]
    episode_cols: dict[str, Any] = {"person_id": _take(scored["person_id"], started)}
    if has_agency:
        episode_cols["agency_id"] = _take(scored["agency_id"], started)
    episode_cols["referent_id"] = pd.array(referent_text[started], dtype="string")
    episode_cols["start_date"] = pd.Series(np.full(len(started), np.datetime64(as_of, "D"))).astype("datetime64[s]")
    episode_cols["planned_end_date"] = pd.Series(end[started]).astype("datetime64[s]")
    new_episodes = pd.DataFrame(episode_cols)

    by_group = group_shares(scored, track_code)
    totals = {t: int(counts[:, k].sum()) for k, t in enumerate(TRACKS)}
    return AllocationResult(
        assignments=assignments,
        capacity_used=capacity_used,
        left_out=left_out,
        by_group=by_group,
        as_of=as_of,
        config=config,
        counts=totals,
        referent_loads=referents.loads(pools, new_rows),
        new_episodes=new_episodes,
        history={
            "episodes_considered": history.episodes,
            "continuing": int(continuing.sum()),
            "already_served": int(history.served.sum()),
            "rule": rule,
        },
    )
