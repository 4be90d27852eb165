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

Everything is vectorised (sorts and group ranks); the output does not depend on the
order of the input rows. See ``docs/policy.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from features.schema import NEED_CODES, NEEDS
from policy.recommend import add_months

TRACKS: tuple[str, ...] = ("INTENSIVE", "EXTERNAL", "LARGE_PORTFOLIO", "UNALLOCATED")
TRACK_LABELS_FR: dict[str, str] = {
    "INTENSIVE": "Accompagnement intensif (référent de parcours)",
    "EXTERNAL": "Accompagnement externalisé (prestataire)",
    "LARGE_PORTFOLIO": "Portefeuille élargi",
    "UNALLOCATED": "Liste d'attente",
}
#: Columns whose groups ``by_group`` reports when present (``tier`` for like-with-like reading).
GROUP_COLUMNS: tuple[str, ...] = (
    "sex", "nationality_group", "age", "disability_recognition", "rsa_recipient", "qpv_resident", "tier",
)
AGE_BANDS: tuple[tuple[str, float, float], ...] = (("16-25", 0, 25), ("26-49", 26, 49), ("50+", 50, math.inf))
MISSING_GROUP = "MISSING"


class AgencyConfigError(ValueError):
    """An agency configuration that cannot be used; the message names the file and field."""


class AllocationInputError(ValueError):
    """A scored table that cannot be allocated (missing column, bad value, duplicate id)."""


# --------------------------------------------------------------------------- configuration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class PriorityConfig(_Model):
    """Who may receive intensive support and in which order."""

    excluded_needs: tuple[str, ...] = ("DIRECT_EMPLOYMENT",)
    order_by: str = "p_employed"
    ascending: bool = True

    @field_validator("excluded_needs")
    @classmethod
    def check_needs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in v if n not in NEED_CODES]
        if bad:
            raise ValueError(f"unknown need code(s) {', '.join(map(repr, bad))}; expected {', '.join(NEED_CODES)}")
        return tuple(dict.fromkeys(v))

    @field_validator("order_by")
    @classmethod
    def check_order(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("order_by must name a numeric column")
        return v


class AgencyCapacity(_Model):
    """Per-agency values; a field left out inherits the top-level value."""

    referents: int | None = Field(default=None, ge=0)
    caseload_per_referent: int | None = Field(default=None, ge=1)
    intensive_months: int | None = Field(default=None, ge=1, le=24)
    external_provider_places: int | None = Field(default=None, ge=0)
    large_portfolio_places: int | None = Field(default=None, ge=0)


@dataclass(frozen=True)
class ResolvedCapacity:
    """The capacities applying to one agency (or to the whole pool)."""

    agency_id: str | None
    referents: int
    caseload_per_referent: int
    intensive_months: int
    external_provider_places: int
    large_portfolio_places: int | None

    @property
    def intensive_places(self) -> int:
        return self.referents * self.caseload_per_referent

    def capacity(self, track: str) -> int | None:
        return {
            "INTENSIVE": self.intensive_places,
            "EXTERNAL": self.external_provider_places,
            "LARGE_PORTFOLIO": self.large_portfolio_places,
            "UNALLOCATED": None,
        }[track]


class AgencyConfig(_Model):
    """Capacities and priority for model 2 (from YAML/JSON with :func:`load_agency_config`).

    Either one pool (``referents`` etc. at the top level, ``agency_id`` optional) or one
    entry per agency under ``agencies:`` (top-level values are then defaults).
    """

    agency_id: str | None = None
    referents: int | None = Field(default=None, ge=0)
    caseload_per_referent: int = Field(default=50, ge=1)
    intensive_months: int = Field(default=6, ge=1, le=24)
    external_provider_places: int = Field(default=0, ge=0)
    large_portfolio_places: int | None = Field(default=None, ge=0)
    priority: PriorityConfig = PriorityConfig()
    agencies: dict[str, AgencyCapacity] | None = None

    @field_validator("agency_id", mode="before")
    @classmethod
    def check_agency_id(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("agencies", mode="before")
    @classmethod
    def check_agency_keys(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: val for k, val in v.items()}
        return v

    @model_validator(mode="after")
    def check_referents(self) -> "AgencyConfig":
        if self.agencies is None:
            if self.referents is None:
                raise ValueError("referents: missing field (number of path referents for intensive support)")
        else:
            if not self.agencies:
                raise ValueError("agencies: must list at least one agency")
            if self.agency_id is not None:
                raise ValueError("agency_id: give either agency_id (one agency) or agencies (one entry per agency), not both")
            for key, entry in self.agencies.items():
                if entry.referents is None and self.referents is None:
                    raise ValueError(f"agencies.{key}.referents: missing field (and no top-level default)")
        return self

    def for_agency(self, agency_id: str | None) -> ResolvedCapacity:
        """Capacities for ``agency_id`` (or the single pool when not per agency)."""
        if self.agencies is None:
            return ResolvedCapacity(self.agency_id, int(self.referents or 0), self.caseload_per_referent,
                                    self.intensive_months, self.external_provider_places, self.large_portfolio_places)
        if agency_id not in self.agencies:
            raise KeyError(agency_id)
        e = self.agencies[agency_id]
        given = e.model_fields_set

        def pick(name: str) -> Any:
            return getattr(e, name) if name in given else getattr(self, name)

        return ResolvedCapacity(agency_id, int(pick("referents")), pick("caseload_per_referent"),
                                pick("intensive_months"), pick("external_provider_places"),
                                pick("large_portfolio_places"))


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _config_errors(exc: ValidationError, source: str) -> AgencyConfigError:
    lines = []
    for err in exc.errors():
        where = _loc(tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing field"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        lines.append(f"{where}: {msg}" if where else msg)
    if len(lines) == 1:
        return AgencyConfigError(f"{source}: {lines[0]}")
    return AgencyConfigError(f"{source}: {len(lines)} problems:\n  - " + "\n  - ".join(lines))


def parse_agency_config(data: Any, source: str = "agency config") -> AgencyConfig:
    """Validate a mapping into an :class:`AgencyConfig` (errors name the field)."""
    if not isinstance(data, dict):
        raise AgencyConfigError(f"{source}: must be a mapping of settings (referents, caseload_per_referent…)")
    try:
        return AgencyConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_errors(exc, source) from None


def load_agency_config(path: str | Path) -> AgencyConfig:
    """Read an agency configuration from a ``.yaml`` / ``.yml`` or ``.json`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise AgencyConfigError(f"{path}: unsupported extension {suffix!r}; use .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AgencyConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AgencyConfigError(f"{path}: cannot be read: {exc}") from exc
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise AgencyConfigError(f"{path}: bad JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown position"
        raise AgencyConfigError(f"{path}: bad YAML at {where}: {getattr(exc, 'problem', None) or exc}") from exc
    return parse_agency_config(data, str(path))


# --------------------------------------------------------------------------- result


@dataclass
class AllocationResult:
    """Outcome of :func:`allocate`.

    ``assignments``: one row per person (person_id, [agency_id], track, rank, end_date,
    reason_fr), sorted by agency then person_id; ``rank`` is the position in the
    intensive-support priority order (1 = first served) for eligible people, empty for
    others. ``capacity_used``: agency_id, track, capacity (empty = unlimited), used.
    ``left_out``: eligible people who got no intensive place, with rank and p_employed.
    ``by_group``: group_column, group_value, track, count, share (shares sum to 1 per
    group value).
    """

    assignments: pd.DataFrame
    capacity_used: pd.DataFrame
    left_out: pd.DataFrame
    by_group: pd.DataFrame
    as_of: date
    config: AgencyConfig
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        cap = []
        for row in self.capacity_used.itertuples(index=False):
            cap.append({
                "agency_id": None if pd.isna(row.agency_id) else str(row.agency_id),
                "track": row.track,
                "capacity": None if pd.isna(row.capacity) else int(row.capacity),
                "used": int(row.used),
            })
        groups = [
            {"group_column": r.group_column, "group_value": r.group_value, "track": r.track,
             "count": int(r.count), "share": round(float(r.share), 6)}
            for r in self.by_group.itertuples(index=False)
        ]
        return {
            "as_of": self.as_of.isoformat(),
            "people": int(len(self.assignments)),
            "tracks": {t: int(self.counts.get(t, 0)) for t in TRACKS},
            "capacity": cap,
            "left_out_count": int(len(self.left_out)),
            "by_group": groups,
            "config": self.config.model_dump(mode="json"),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.summary(), ensure_ascii=False, indent=indent, sort_keys=False)


# --------------------------------------------------------------------------- allocation


def _group_rank(order: np.ndarray, group: np.ndarray) -> np.ndarray:
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
        raise AllocationInputError(f"person_id: {int((counts - 1)[counts > 1].sum())} duplicate id(s), e.g. {', '.join(examples)}")
    return codes.astype(np.int64)


def _positions(primary: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """Position of each row when sorted by (primary, pid): a unique integer per row."""
    order = np.lexsort((pid, primary))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order), dtype=np.int64)
    return pos


def _rank_within(sub: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """0-based rank of each row within its ``sub`` group, following ``pos``."""
    order = np.argsort(sub.astype(np.int64) * max(len(pos), 1) + pos)
    return _group_rank(order, sub)


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
    needs = pd.unique(scored["need"])
    bad = [n for n in needs if not isinstance(n, str) or n not in NEEDS]
    if bad:
        raise AllocationInputError(f"need: unknown code(s) {sorted(map(repr, bad))[:5]}; expected one of {', '.join(NEED_CODES)}")
    for col in dict.fromkeys(("p_employed", order_by)):
        values = pd.to_numeric(scored[col], errors="coerce")
        if values.isna().any():
            raise AllocationInputError(f"{col}: {int(values.isna().sum())} row(s) are missing or not numeric")
        if col == "p_employed" and ((values < 0) | (values > 1)).any():
            raise AllocationInputError("p_employed: probabilities must be between 0 and 1")


def allocate(scored: pd.DataFrame, config: AgencyConfig, as_of: date) -> AllocationResult:
    """Assign every person to INTENSIVE, EXTERNAL, LARGE_PORTFOLIO or UNALLOCATED.

    See the module docstring for the rules. Deterministic and independent of row order.
    """
    if not isinstance(config, AgencyConfig):
        config = parse_agency_config(config)
    _validate(scored, config)
    n = len(scored)
    has_agency = "agency_id" in scored.columns
    per_agency = config.agencies is not None

    # --- agency groups and their capacities
    if per_agency:
        if not has_agency:
            raise AllocationInputError("the configuration is per agency (agencies:) but the scored table has no agency_id column")
        agency_text = scored["agency_id"].astype(str).where(scored["agency_id"].notna(), None)
        if agency_text.isna().any():
            raise AllocationInputError(f"agency_id: {int(agency_text.isna().sum())} row(s) have no value")
        group, agencies = pd.factorize(agency_text, sort=True)
        unknown = [a for a in agencies if a not in config.agencies]
        if unknown:
            raise AllocationInputError(f"agency_id: no entry under agencies: in the configuration for {', '.join(map(repr, unknown[:5]))}")
        pools = [config.for_agency(a) for a in agencies]
    else:
        if has_agency and config.agency_id is not None:
            others = set(scored["agency_id"].dropna().astype(str)) - {config.agency_id}
            if others or scored["agency_id"].isna().any():
                raise AllocationInputError(
                    f"agency_id: the configuration is for agency {config.agency_id!r} but the table also holds "
                    f"{', '.join(map(repr, sorted(others)[:5])) or 'rows without agency'}")
        group = np.zeros(n, dtype=np.int64)
        pools = [config.for_agency(None)]
    group = np.asarray(group, dtype=np.int64)
    cap_int = np.array([p.intensive_places for p in pools], dtype=np.int64)
    cap_ext = np.array([p.external_provider_places for p in pools], dtype=np.int64)
    cap_lp = np.array([np.iinfo(np.int64).max if p.large_portfolio_places is None else p.large_portfolio_places
                       for p in pools], dtype=np.int64)

    # --- sort keys
    pid = _person_key(scored["person_id"])
    p = pd.to_numeric(scored["p_employed"]).to_numpy(dtype=np.float64)
    key = pd.to_numeric(scored[config.priority.order_by]).to_numpy(dtype=np.float64)
    key = key if config.priority.ascending else -key
    key = key + 0.0  # -0.0 and 0.0 tie
    eligible = ~scored["need"].isin(list(config.priority.excluded_needs)).to_numpy()

    pos_priority = _positions(key, pid)
    pos_closest = _positions(-p + 0.0, pid)

    # 1. intensive: eligible people, by priority key then person id, within the agency
    rank0 = _rank_within(group * 2 + (~eligible), pos_priority)
    intensive = eligible & (rank0 < cap_int[group])
    # 2. external: the rest, closest to employment first
    rank_ext = _rank_within(group * 2 + intensive, pos_closest)
    external = ~intensive & (rank_ext < cap_ext[group])
    # 3. large portfolio: the rest, in priority order
    taken = intensive | external
    rank_lp = _rank_within(group * 2 + taken, pos_priority)
    portfolio = ~taken & (rank_lp < cap_lp[group])

    track_code = np.full(n, 3, dtype=np.int8)
    track_code[portfolio] = 2
    track_code[external] = 1
    track_code[intensive] = 0
    rank = pd.array(np.where(eligible, rank0 + 1, 0), dtype="Int64")
    rank[~eligible] = pd.NA

    # --- end dates (per agency: intensive_months may differ)
    end_per_pool = np.array([np.datetime64(add_months(as_of, pl.intensive_months), "D") for pl in pools])
    end = np.where(intensive, end_per_pool[group], np.datetime64("NaT", "D"))

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
    ]
    reason_code = np.select(
        [intensive, external & eligible, external, portfolio & eligible, portfolio],
        [0, 1, 2, 3, 4], default=5,
    )

    # --- canonical output order: agency, then person id
    out_order = np.argsort(group * max(n, 1) + pid)
    columns: dict[str, Any] = {"person_id": _take(scored["person_id"], out_order)}
    if has_agency:
        columns["agency_id"] = _take(scored["agency_id"], out_order)
    columns["track"] = pd.Categorical.from_codes(track_code[out_order], categories=list(TRACKS))
    columns["rank"] = rank[out_order]
    columns["end_date"] = pd.Series(end[out_order]).astype("datetime64[s]").to_numpy()
    columns["reason_fr"] = pd.Categorical.from_codes(reason_code[out_order], categories=reasons)
    assignments = pd.DataFrame(columns)

    # --- capacity used
    counts = np.zeros((len(pools), 4), dtype=np.int64)
    np.add.at(counts, (group, track_code.astype(np.int64)), 1)
    cap_rows = []
    for g, pool in enumerate(pools):
        for t, track in enumerate(TRACKS):
            cap = pool.capacity(track)
            cap_rows.append({"agency_id": pool.agency_id, "track": track,
                             "capacity": cap, "used": int(counts[g, t])})
            if cap is not None and counts[g, t] > cap:  # pragma: no cover - guarded by construction
                raise AssertionError(f"capacity exceeded for {track} in {pool.agency_id}")
    capacity_used = pd.DataFrame(cap_rows)
    capacity_used["capacity"] = capacity_used["capacity"].astype("Int64")

    # --- left out: eligible, no intensive place
    lo = eligible & ~intensive
    lo_rows = np.flatnonzero(lo)
    lo_order = lo_rows[np.argsort(group[lo_rows] * max(n, 1) + rank0[lo_rows])]
    left = {"person_id": _take(scored["person_id"], lo_order)}
    if has_agency:
        left["agency_id"] = _take(scored["agency_id"], lo_order)
    left["rank"] = (rank0[lo_order] + 1).astype(np.int64)
    left["p_employed"] = p[lo_order]
    left["need"] = _take(scored["need"], lo_order)
    left["track"] = pd.Categorical.from_codes(track_code[lo_order], categories=list(TRACKS))
    left_out = pd.DataFrame(left)

    by_group = _by_group(scored, track_code)
    totals = {t: int(counts[:, k].sum()) for k, t in enumerate(TRACKS)}
    return AllocationResult(assignments=assignments, capacity_used=capacity_used, left_out=left_out,
                            by_group=by_group, as_of=as_of, config=config, counts=totals)


def _group_codes(series: pd.Series, column: str) -> tuple[np.ndarray, list[str]]:
    """(code per row, label per code) for a fairness group column; missing → ``MISSING``."""
    if column == "age":
        age = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        labels = [band[0] for band in AGE_BANDS] + [MISSING_GROUP]
        codes = np.select([(age >= lo) & (age <= hi) for _, lo, hi in AGE_BANDS],
                          list(range(len(AGE_BANDS))), default=len(AGE_BANDS))
        return codes.astype(np.int64), labels
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = [str(u).lower() if isinstance(u, (bool, np.bool_)) else str(u) for u in uniques]
    labels.append(MISSING_GROUP)
    codes = np.where(codes < 0, len(labels) - 1, codes)
    merged, unique_labels = pd.factorize(np.array(labels, dtype=object))  # e.g. 1 and "1"
    return merged[codes].astype(np.int64), [str(u) for u in unique_labels]


def _by_group(scored: pd.DataFrame, track_code: np.ndarray) -> pd.DataFrame:
    rows = []
    k = len(TRACKS)
    for column in GROUP_COLUMNS:
        if column not in scored.columns:
            continue
        codes, labels = _group_codes(scored[column], column)
        counts = np.bincount(codes * k + track_code, minlength=len(labels) * k).reshape(len(labels), k)
        for g in sorted(range(len(labels)), key=lambda i: labels[i]):
            total = int(counts[g].sum())
            if total == 0:
                continue
            for t, track in enumerate(TRACKS):
                rows.append((column, labels[g], track, int(counts[g, t]), counts[g, t] / total))
    return pd.DataFrame(rows, columns=["group_column", "group_value", "track", "count", "share"]).astype(
        {"count": np.int64, "share": np.float64})


# --------------------------------------------------------------------------- writing


def summary_path(out_path: str | Path) -> Path:
    """The sidecar of ``out_path``: ``alloc.parquet`` → ``alloc.summary.json``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".summary.json")


def write_allocation(result: AllocationResult, out_path: str | Path) -> tuple[Path, Path]:
    """Write the assignments (Parquet or CSV by extension) and ``<stem>.summary.json``."""
    from features.io import write_table

    out_path = Path(out_path)
    frame = result.assignments.copy()
    frame["track"] = frame["track"].astype(str)
    frame["reason_fr"] = frame["reason_fr"].astype(str)
    if out_path.suffix.lower() == ".csv":
        frame["end_date"] = frame["end_date"].dt.strftime("%Y-%m-%d")
    write_table(frame, out_path)
    side = summary_path(out_path)
    side.write_text(result.to_json(indent=2) + "\n", encoding="utf-8")
    return out_path, side
