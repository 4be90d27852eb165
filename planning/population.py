"""Everyone a plan follows: the people of a scored file, and every entrant of the horizon, drawn up front.

The registered population does not depend on how the agency organises support (the plan
assumes no effect of support on exits: it plans work, not outcomes), so it is drawn once and
shared by every scenario (common random numbers: the scenarios differ only by their
organisation). For each person:

- the monthly probability of leaving for work, ``h = 1 - (1 - p)^(1/6)``, from the calibrated
  probability ``p`` of finding work within six months (a constant monthly hazard with that
  six-month total), combined with ``flows.other_exits_per_month``: ``q = 1 - (1-h)(1-o)``;
- the month at whose end they leave: present for ``K`` months, ``K`` geometric with ``q``
  (drawn by inversion from one uniform per person);
- entrants: each agency receives ``λ`` people a month (``steady``: ``λ = Σ q/(1-q)`` over its
  people at the start, which keeps a stationary stock; or ``flows.entries`` per 1,000), spread
  without rounding drift (``floor((t+1)λ) - floor(tλ)``). Their profiles are drawn from the
  agency's people at the start with weights ``q/(1-q)``: in a stationary population the stock of
  each kind of person is ``λ_k (1-q_k)/q_k``, so this is the mix of registrations that keeps the
  stock's mix (Little's law, kind by kind).

Rows are ordered: the people at the start by agency then ``person_id``, then entrants by
month; the row number breaks every tie, so results do not depend on the file's row order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InvalidInput
from core.thresholds import TierBands
from features.io import DataFileError, file_format, read_table
from features.schema import NEED_CODES, TIER_CODES
from features.validation import ColumnRule, DataValidationError, validate_frame
from policy import load_catalogue, recommend_frame
from policy.staffing import PORTFOLIO_MODALITIES, Staffing

#: A person who never leaves within any horizon (monthly exit probability 0).
NEVER = np.int32(2**31 - 1)
#: Monthly exit probabilities above this are clipped for the steady inflow weights q/(1-q).
_MAX_Q = 0.95
_COLUMNS = ("person_id", "agency_id", "need", "p_employed", "tier", "modality", "duration_months")


class PlanInputError(InvalidInput):
    """A scored table a plan cannot use; the message names the column and the rule."""


def _rules() -> list[ColumnRule]:
    return [
        ColumnRule("person_id", "string"),
        ColumnRule("agency_id", "string"),
        ColumnRule("need", "category", codes=NEED_CODES),
        ColumnRule("p_employed", "number", minimum=0, maximum=1),
        ColumnRule("tier", "category", codes=TIER_CODES, required=False),
        ColumnRule("modality", "category", codes=PORTFOLIO_MODALITIES, required=False),
        ColumnRule("duration_months", "integer", minimum=1, maximum=24, required=False),
    ]


def read_scored(path: str | Path) -> pd.DataFrame:
    """The columns a plan needs from a scored file (output of ``jalon score``), validated."""
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(path).schema_arrow.names
        except Exception as exc:
            raise DataFileError(f"{path}: cannot be read as parquet: {exc}") from exc
    else:
        names = list(pd.read_csv(path, nrows=0, dtype=str).columns)
    frame = read_table(path, columns=[c for c in _COLUMNS if c in names])
    typed = validate_frame(frame, _rules(), source=str(path))
    if typed["person_id"].duplicated().any():
        dup = typed.loc[typed["person_id"].duplicated(), "person_id"].iloc[0]
        raise PlanInputError(f"{path}: person_id {dup!r} appears more than once")
    if not len(typed):
        raise PlanInputError(f"{path}: no people to plan for")
    return typed


@dataclass
class Population:
    """Every person of the horizon, as arrays (one row per person; see the module docstring)."""

    agency_ids: tuple[str, ...]
    agency: np.ndarray  # int32, index into agency_ids
    p: np.ndarray  # float64, calibrated probability of work within six months
    q: np.ndarray  # float64, monthly probability of leaving the register
    need: np.ndarray  # int8, index into NEED_CODES
    tier: np.ndarray  # int8, index into TIER_CODES (A, B, C)
    modality: np.ndarray  # int8, model 1 modality: index into PORTFOLIO_MODALITIES
    duration: np.ndarray  # int16, model 1 duration to the milestone (months)
    entry: np.ndarray  # int32: -1 for the people at the start, else the month of registration
    exit: np.ndarray  # int32: the month at whose end the person leaves (NEVER if they stay)
    phase: np.ndarray  # float64 in [0, 1): where the people at the start are in their cycle
    n_start: int
    months: int
    inflow: np.ndarray  # float64 per agency: entries per month

    @property
    def size(self) -> int:
        return len(self.agency)

    def people_at_start(self) -> dict[str, int]:
        counts = np.bincount(self.agency[: self.n_start], minlength=len(self.agency_ids))
        return {a: int(c) for a, c in zip(self.agency_ids, counts, strict=True)}


def monthly_hazard(p: np.ndarray) -> np.ndarray:
    """Monthly probability of finding work, constant over six months, from the six-month probability."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    h: np.ndarray = 1.0 - np.power(1.0 - p, 1.0 / 6.0)
    return h


def _months_present(u: np.ndarray, q: np.ndarray) -> np.ndarray:
    """K >= 1 months present (geometric with monthly exit probability q), by inversion of u in [0, 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log1p(-u) / np.log1p(-np.minimum(q, 1.0)))
    k = np.where(q >= 1.0, 1.0, np.where(q <= 0.0, np.inf, np.maximum(k, 1.0)))
    out: np.ndarray = np.minimum(k, float(NEVER)).astype(np.int64)
    return out


def build_population(scored: pd.DataFrame, staffing: Staffing, months: int, seed: int) -> Population:
    """Draw the horizon's population from a validated scored table (see the module docstring)."""
    if months < 1:
        raise PlanInputError("months must be at least 1")
    frame = scored.sort_values(["agency_id", "person_id"], kind="stable").reset_index(drop=True)
    agency_codes, agency_ids = pd.factorize(frame["agency_id"].astype(str), sort=True)
    n0 = len(frame)
    n_agencies = len(agency_ids)
    p = frame["p_employed"].to_numpy(dtype=np.float64)
    if "tier" in frame.columns and frame["tier"].notna().all():
        tier_text = frame["tier"].astype(str).to_numpy()
    else:
        tier_text = TierBands().tier(p)
    tier = pd.Categorical(tier_text, categories=list(TIER_CODES)).codes.astype(np.int8)
    need = pd.Categorical(frame["need"].astype(str), categories=list(NEED_CODES)).codes.astype(np.int8)
    if "modality" in frame.columns and "duration_months" in frame.columns:
        modality_text = frame["modality"].astype(str).to_numpy()
        duration = frame["duration_months"].to_numpy(dtype=np.int16)
    else:  # no path in the file: model 1's rule for the need and tier (no barrier known)
        rec = recommend_frame(
            pd.DataFrame({"need": frame["need"].astype(str), "tier": tier_text}), catalogue=load_catalogue()
        )
        modality_text = rec["modality"].astype(str).to_numpy()
        duration = rec["duration_months"].to_numpy(dtype=np.int16)
    modality = pd.Categorical(modality_text, categories=list(PORTFOLIO_MODALITIES)).codes.astype(np.int8)
    if (modality < 0).any():
        raise PlanInputError(f"modality: model 1 paths must be one of {', '.join(PORTFOLIO_MODALITIES)}")

    other = staffing.flows.other_exits_per_month
    q0 = 1.0 - (1.0 - monthly_hazard(p)) * (1.0 - other)
    weight = np.minimum(q0, _MAX_Q) / (1.0 - np.minimum(q0, _MAX_Q))
    inflow: np.ndarray
    if staffing.flows.entries == "steady":
        inflow = np.bincount(agency_codes, weights=weight, minlength=n_agencies).astype(np.float64)
    else:
        inflow = float(staffing.flows.entries) * np.bincount(agency_codes, minlength=n_agencies) / 1000.0

    seeds = np.random.SeedSequence(seed).spawn(3)
    phase_rng, entry_rng, exit_rng = (np.random.default_rng(s) for s in seeds)
    phase0 = phase_rng.random(n0)

    # entrants: counts per agency and month, profiles drawn from the agency's people at the start
    t = np.arange(months + 1, dtype=np.float64)
    cumulative = np.floor(np.outer(inflow, t) + 1e-9).astype(np.int64)  # (agency, month boundary)
    per_month = np.diff(cumulative, axis=1)  # (agency, month)
    starts = np.searchsorted(agency_codes, np.arange(n_agencies), side="left")
    ends = np.searchsorted(agency_codes, np.arange(n_agencies), side="right")
    sources, months_in = [], []
    for a in range(n_agencies):
        total = int(per_month[a].sum())
        if not total:
            continue
        w = weight[starts[a] : ends[a]]
        if w.sum() <= 0:
            raise PlanInputError(
                f"agency {agency_ids[a]}: nobody ever leaves (p_employed = 0 and no other exits): "
                "a steady inflow is 0; give flows.entries as a number"
            )
        sources.append(starts[a] + entry_rng.choice(ends[a] - starts[a], size=total, p=w / w.sum()))
        months_in.append(np.repeat(np.arange(months, dtype=np.int32), per_month[a]))
    source = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
    entry_month = np.concatenate(months_in) if months_in else np.zeros(0, dtype=np.int32)
    order = np.argsort(entry_month, kind="stable")  # entrants by month (agency order kept within a month)
    source, entry_month = source[order], entry_month[order]

    take = np.concatenate([np.arange(n0), source])
    q = q0[take]
    entry = np.concatenate([np.full(n0, -1, dtype=np.int32), entry_month.astype(np.int32)])
    present_from = np.maximum(entry, 0).astype(np.int64)
    k = _months_present(exit_rng.random(len(take)), q)
    exit_month = np.minimum(present_from + k - 1, int(NEVER)).astype(np.int32)
    return Population(
        agency_ids=tuple(str(a) for a in agency_ids),
        agency=agency_codes[take].astype(np.int32),
        p=p[take],
        q=q,
        need=need[take],
        tier=tier[take],
        modality=modality[take],
        duration=duration[take],
        entry=entry,
        exit=exit_month,
        phase=np.concatenate([phase0, np.zeros(len(source))]),
        n_start=n0,
        months=months,
        inflow=inflow,
    )


__all__ = [
    "NEVER",
    "DataValidationError",
    "PlanInputError",
    "Population",
    "build_population",
    "monthly_hazard",
    "read_scored",
]
