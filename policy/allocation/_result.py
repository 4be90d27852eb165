"""What an allocation produced: assignments, capacity used, who was left out, group shares.

The group shares (``by_group``) are the allocation's fairness reading: for each group
of each protected or sensitive column present (age in the bands of :mod:`core.age`, the
same as the training fairness audit), the share of each track.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from core.age import AGE_BAND_LABELS, MISSING_BAND, age_band
from policy.allocation._agency_config import AgencyConfig

TRACKS: tuple[str, ...] = ("INTENSIVE", "EXTERNAL", "LARGE_PORTFOLIO", "UNALLOCATED")
TRACK_LABELS_FR: dict[str, str] = {
    "INTENSIVE": "Accompagnement intensif (référent de parcours)",
    "EXTERNAL": "Accompagnement externalisé (prestataire)",
    "LARGE_PORTFOLIO": "Portefeuille élargi",
    "UNALLOCATED": "Liste d'attente",
}
#: Columns whose groups ``by_group`` reports when present (``tier`` for like-with-like reading).
GROUP_COLUMNS: tuple[str, ...] = (
    "sex",
    "nationality_group",
    "age",
    "disability_recognition",
    "rsa_recipient",
    "qpv_resident",
    "tier",
)


@dataclass
class AllocationResult:
    """Outcome of :func:`allocate`.

    ``assignments``: one row per person (person_id, [agency_id], track, rank, end_date,
    reason_fr), sorted by agency then person_id; ``rank`` is the position in the
    intensive-support priority order (1 = first served) for eligible people, empty for
    others. ``capacity_used``: agency_id, track, capacity (empty = unlimited), used.
    ``left_out``: eligible people who got no intensive place, with rank and p_employed.
    ``by_group``: group_column, group_value, track, count, share (shares sum to 1 per
    group value). ``referent_loads``: agency_id, referent_id, caseload, continuing, new, load.
    ``new_episodes``: the intensive episodes this allocation starts (person_id, [agency_id],
    referent_id, start_date, planned_end_date), to be recorded. ``history``: what the memory
    of past episodes changed (episodes considered, continuing, already served, rule).
    """

    assignments: pd.DataFrame
    capacity_used: pd.DataFrame
    left_out: pd.DataFrame
    by_group: pd.DataFrame
    as_of: date
    config: AgencyConfig
    counts: dict[str, int] = field(default_factory=dict)
    referent_loads: pd.DataFrame | None = None
    new_episodes: pd.DataFrame | None = None
    history: dict = field(default_factory=dict)

    def summary(self) -> dict:
        cap = []
        for row in self.capacity_used.itertuples(index=False):
            cap.append(
                {
                    "agency_id": None if pd.isna(row.agency_id) else str(row.agency_id),
                    "track": row.track,
                    "capacity": None if pd.isna(row.capacity) else int(row.capacity),
                    "used": int(row.used),
                }
            )
        groups = [
            {
                "group_column": r.group_column,
                "group_value": r.group_value,
                "track": r.track,
                "count": int(r.count),
                "share": round(float(r.share), 6),
            }
            for r in self.by_group.itertuples(index=False)
        ]
        referents = [
            {
                "agency_id": None if pd.isna(r.agency_id) else str(r.agency_id),
                "referent_id": str(r.referent_id),
                "caseload": int(r.caseload),
                "continuing": int(r.continuing),
                "new": int(r.new),
                "load": int(r.load),
            }
            for r in (self.referent_loads.itertuples(index=False) if self.referent_loads is not None else ())
        ]
        return {
            "as_of": self.as_of.isoformat(),
            "people": len(self.assignments),
            "tracks": {t: int(self.counts.get(t, 0)) for t in TRACKS},
            "capacity": cap,
            "left_out_count": len(self.left_out),
            "new_episodes": 0 if self.new_episodes is None else len(self.new_episodes),
            "history": self.history,
            "referents": referents,
            "by_group": groups,
            "config": self.config.model_dump(mode="json"),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.summary(), ensure_ascii=False, indent=indent, sort_keys=False)


def _group_codes(series: pd.Series, column: str) -> tuple[np.ndarray, list[str]]:
    """(code per row, label per code) for a fairness group column; missing → ``MISSING``."""
    if column == "age":
        labels = [*AGE_BAND_LABELS, MISSING_BAND]
        codes = pd.Categorical(age_band(series), categories=labels).codes
        return codes.astype(np.int64), labels
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = [str(u).lower() if isinstance(u, (bool, np.bool_)) else str(u) for u in uniques]
    labels.append(MISSING_BAND)
    codes = np.where(codes < 0, len(labels) - 1, codes)
    merged, unique_labels = pd.factorize(np.array(labels, dtype=object))  # e.g. 1 and "1"
    return merged[codes].astype(np.int64), [str(u) for u in unique_labels]


def group_shares(scored: pd.DataFrame, track_code: np.ndarray) -> pd.DataFrame:
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
        {"count": np.int64, "share": np.float64}
    )


def summary_path(out_path: str | Path) -> Path:
    """The sidecar of ``out_path``: ``alloc.parquet`` → ``alloc.summary.json``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".summary.json")


def left_out_path(out_path: str | Path) -> Path:
    """The left-out list beside ``out_path``: ``alloc.parquet`` → ``alloc.left_out.parquet`` (or ``.csv``)."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".left_out" + out_path.suffix)


def write_allocation(result: AllocationResult, out_path: str | Path) -> tuple[Path, Path]:
    """Write the assignments (Parquet or CSV by extension), the eligible people left out of
    intensive support beside them (:func:`left_out_path`) and ``<stem>.summary.json``."""
    from features.io import write_table

    out_path = Path(out_path)
    csv = out_path.suffix.lower() == ".csv"
    frame = result.assignments.copy()
    for col in ("track", "reason_fr"):
        frame[col] = frame[col].astype(str)
    if csv:
        frame["end_date"] = frame["end_date"].dt.strftime("%Y-%m-%d")
    write_table(frame, out_path)
    left = result.left_out.copy()
    left["track"] = left["track"].astype(str)
    write_table(left, left_out_path(out_path))
    side = summary_path(out_path)
    side.write_text(result.to_json(indent=2) + "\n", encoding="utf-8")
    return out_path, side
