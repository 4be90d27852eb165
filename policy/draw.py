"""The verifiable stratified draw of the MSA experiment's agencies (a pure rule).

« 80 agences expérimenteront le modèle 1, et 20 agences le modèle 2 … tirage au sort »:
:func:`draw_arms` draws which agencies use which model; every agency not drawn is a
control. Anyone holding the same agency file and the same seed gets the same bytes
(:meth:`DrawResult.to_csv` writes the draw and a ``.meta.json`` sidecar recording the
input's sha256, the seed, the algorithm version and the command).

The algorithm (``ALGORITHM_VERSION``), step by step:

1. **Canonical table.** Rows sorted by ``agency_id`` (so the input's row order does not
   matter); the input's sha256 is that of the canonical CSV (columns in name order, rows
   in ``agency_id`` order, cells as read). Hand-added agencies (``added_by_hand`` true)
   are never drawn: their arm is ``HAND_ADDED`` and they are not controls either, since
   chance did not decide their status.
2. **Strata.** The stratum of an agency joins its values of the ``strata`` columns with
   ``|`` (one stratum ``ALL`` without strata). ``size_band`` may be asked for without
   such a column: it is then derived from ``size`` (registered job seekers) by
   :data:`SIZE_BANDS`, half-open intervals ``[low, high)``.
3. **Quotas, largest remainder per arm.** Arm *a* with *k* agencies gets
   ``k·n_s / N`` agencies in stratum *s* (``n_s`` eligible agencies of *N*): the integer
   part, then the *k - Σ integer parts* agencies left over go one each to the strata
   with the largest remainders, ties broken by the larger stratum, then by stratum label.
   National totals are therefore exact (80 and 20), and the quotas do not depend on the
   seed: a re-draw (randomisation inference) keeps the design.
4. **Order within strata.** One uniform number per eligible agency, in ``agency_id``
   order, from ``numpy.random.Generator(PCG64(seed))``; within each stratum the agencies
   are ranked by it, the first quota of MODEL_1 get MODEL_1, the next quota of MODEL_2
   get MODEL_2, the rest CONTROL: a uniformly random split of each stratum.

:class:`DrawPlan` holds steps 1-3 and runs step 4 for any seed (``assign``): the draw and
the randomisation inference of ``evaluation.itt`` run the very same code.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInput

ALGORITHM_VERSION = "jalon-draw/1: PCG64, largest-remainder quotas per arm, uniform order within stratum"
ARMS: tuple[str, ...] = ("MODEL_1", "MODEL_2")
CONTROL = "CONTROL"
HAND_ADDED = "HAND_ADDED"
#: Arm codes of :meth:`DrawPlan.assign_codes`: 0 control, 1.. the arms in ``ARMS`` order.
HAND_ADDED_CODE = -1
ALL_STRATUM = "ALL"
STRATUM_SEPARATOR = "|"
SIZE_COLUMN = "size"
SIZE_BAND_COLUMN = "size_band"
#: Size bands in registered job seekers (categories A, B, C), half-open ``[low, high)``.
SIZE_BANDS: tuple[tuple[str, float, float], ...] = (("S", 0, 4000), ("M", 4000, 8000), ("L", 8000, math.inf))
SMD_THRESHOLD = 0.1
DRAW_COLUMNS: tuple[str, ...] = ("agency_id", "arm", "stratum", "added_by_hand")


def parse_arms(text: str) -> dict[str, int]:
    """``"MODEL_1=80,MODEL_2=20"`` (the command line's ``--arms``) → ``{"MODEL_1": 80, "MODEL_2": 20}``, checked."""
    arms: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, count = part.partition("=")
        if not sep or not count.strip().isdigit():
            raise InvalidInput(f"arms: {part!r} must be ARM=COUNT, e.g. MODEL_1=80")
        if name.strip() in arms:
            raise InvalidInput(f"arms: {name.strip()} is given twice")
        arms[name.strip()] = int(count)
    return _check_arms(arms)


def meta_path(out_path: str | Path) -> Path:
    """The sidecar of a draw file: ``draw.csv`` → ``draw.meta.json``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".meta.json")


def size_band(size: pd.Series) -> pd.Series:
    """The :data:`SIZE_BANDS` label of each agency size; refuses a missing or negative size."""
    values = pd.to_numeric(size, errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        raise InvalidInput(
            f"{SIZE_COLUMN}: must be a non-negative number of job seekers "
            f"({int(bad.sum())} agencies break it) to derive {SIZE_BAND_COLUMN}"
        )
    array = values.to_numpy(dtype=float)
    labels = np.select(
        [(array >= low) & (array < high) for _, low, high in SIZE_BANDS],
        [label for label, _, _ in SIZE_BANDS],
        default="",
    )
    return pd.Series(labels, index=size.index, dtype=object)


def _as_flags(name: str, column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column.dtype):
        flags: np.ndarray = column.to_numpy(dtype=bool)
        return flags
    text = column.astype(str).str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0"])
    if not known.all():
        raise InvalidInput(f"{name}: values must be true or false, got {text[~known].iloc[0]!r}")
    parsed: np.ndarray = text.isin(["true", "1"]).to_numpy()
    return parsed


def _check_arms(arms: Mapping[str, int]) -> dict[str, int]:
    unknown = [name for name in arms if name not in ARMS]
    if unknown:
        raise InvalidInput(f"arms: unknown arm {unknown[0]!r}; only {', '.join(ARMS)} may be drawn")
    if not arms:
        raise InvalidInput(f"arms: name at least one arm among {', '.join(ARMS)}")
    for name, count in arms.items():
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise InvalidInput(f"arms: {name} must be a non-negative whole number of agencies, got {count!r}")
    return {name: int(arms[name]) for name in ARMS if name in arms}


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput(f"seed: must be a non-negative whole number, got {seed!r}")
    return int(seed)


def canonical_sha256(agencies: pd.DataFrame) -> str:
    """sha256 of the canonical agency table: columns in name order, rows in ``agency_id`` order."""
    ordered = agencies.sort_values("agency_id", kind="stable")[sorted(agencies.columns)]
    text = ordered.astype(str).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(agencies: pd.DataFrame, strata: Sequence[str]) -> pd.DataFrame:
    """Checked agencies sorted by id, with ``added_by_hand`` as booleans and the stratum label."""
    if "agency_id" not in agencies.columns:
        raise InvalidInput("agency_id: missing column in the agency table")
    ids = agencies["agency_id"]
    if ids.isna().any() or (ids.astype(str).str.strip() == "").any():
        raise InvalidInput("agency_id: every agency needs an id")
    ids = ids.astype(str)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise InvalidInput(f"agency_id: duplicate agency id {duplicated.iloc[0]!r}; each agency is listed once")
    frame = pd.DataFrame({"agency_id": ids.to_numpy(dtype=object)}, index=agencies.index)
    hand = (
        _as_flags("added_by_hand", agencies["added_by_hand"])
        if "added_by_hand" in agencies.columns
        else np.zeros(len(agencies), dtype=bool)
    )
    frame["added_by_hand"] = hand
    labels: list[pd.Series] = []
    for name in strata:
        if name in agencies.columns:
            column = agencies[name]
        elif name == SIZE_BAND_COLUMN and SIZE_COLUMN in agencies.columns:
            column = size_band(agencies[SIZE_COLUMN])
        else:
            derivable = (
                f" ({SIZE_BAND_COLUMN} is derived from a {SIZE_COLUMN} column)" if name == SIZE_BAND_COLUMN else ""
            )
            raise InvalidInput(
                f"strata: unknown stratum column {name!r}{derivable}; the agency table has "
                f"{', '.join(map(str, agencies.columns))}"
            )
        if column.isna().any():
            raise InvalidInput(
                f"{name}: {int(column.isna().sum())} agencies have no value; every agency needs a stratum"
            )
        labels.append(column.astype(str))
    if labels:
        stratum = labels[0].to_numpy(dtype=object)
        for more in labels[1:]:
            stratum = stratum + STRATUM_SEPARATOR + more.to_numpy(dtype=object)
    else:
        stratum = np.full(len(frame), ALL_STRATUM, dtype=object)
    frame["stratum"] = stratum
    return frame.sort_values("agency_id", kind="stable").reset_index(drop=True)


def _quotas(strata_sizes: np.ndarray, strata_labels: Sequence[str], count: int) -> np.ndarray:
    """Largest-remainder split of ``count`` over strata in proportion to their sizes (exact total)."""
    total = int(strata_sizes.sum())
    base = count * strata_sizes // total
    remainder = count * strata_sizes % total
    left = count - int(base.sum())
    # largest remainder first, then the larger stratum, then the stratum label (deterministic)
    order = sorted(
        range(len(strata_sizes)), key=lambda s: (-int(remainder[s]), -int(strata_sizes[s]), strata_labels[s])
    )
    quota = base.copy()
    for s in order[:left]:
        quota[s] += 1
    return quota


@dataclass(frozen=True)
class DrawPlan:
    """Steps 1-3 of the draw (canonical agencies, strata, quotas); :meth:`assign` runs step 4."""

    agency_id: np.ndarray  # sorted ids (object)
    stratum: np.ndarray  # stratum label of each agency (object)
    eligible: np.ndarray  # bool: not added by hand
    arms: dict[str, int]
    strata_labels: tuple[str, ...]  # sorted
    quotas: np.ndarray  # (len(arms), len(strata_labels)) agencies of each arm per stratum
    _eligible_code: np.ndarray = field(repr=False)  # stratum code of each eligible agency, agency_id order

    @classmethod
    def build(cls, agencies: pd.DataFrame, arms: Mapping[str, int], strata: Sequence[str]) -> DrawPlan:
        """Check the request and fix everything but the seed; refusals name the field and the rule."""
        checked_arms = _check_arms(arms)
        canonical = _canonical(agencies, list(strata))
        eligible = ~canonical["added_by_hand"].to_numpy(dtype=bool)
        n_eligible = int(eligible.sum())
        wanted = sum(checked_arms.values())
        if wanted > n_eligible:
            raise InvalidInput(
                f"arms: {wanted} agencies to draw but only {n_eligible} can be drawn "
                f"({int((~eligible).sum())} added by hand are never drawn)"
            )
        stratum = canonical["stratum"].to_numpy(dtype=object)
        labels, code = np.unique(stratum[eligible], return_inverse=True)
        sizes = np.bincount(code, minlength=len(labels)).astype(np.int64)
        label_list = [str(s) for s in labels]
        quotas = (
            np.stack([_quotas(sizes, label_list, k) for k in checked_arms.values()])
            if n_eligible
            else np.zeros((len(checked_arms), 0), dtype=np.int64)
        )
        over = np.flatnonzero(quotas.sum(axis=0) > sizes)
        if len(over):
            s = over[0]
            raise InvalidInput(
                f"strata: stratum {label_list[s]!r} would have {int(quotas[:, s].sum())} agencies drawn "
                f"after rounding but has only {int(sizes[s])}; draw fewer agencies or merge strata"
            )
        return cls(
            canonical["agency_id"].to_numpy(dtype=object),
            stratum,
            eligible,
            checked_arms,
            tuple(label_list),
            quotas,
            code.astype(np.int64),
        )

    def assign_codes(self, seed: int) -> np.ndarray:
        """Arm code of every agency (``agency_id`` order): 0 control, i for ``ARMS[i-1]``, -1 hand-added."""
        rng = np.random.Generator(np.random.PCG64(_check_seed(seed)))
        keys = rng.random(len(self._eligible_code))
        order = np.lexsort((keys, self._eligible_code))
        sorted_code = self._eligible_code[order]
        starts = np.searchsorted(sorted_code, np.arange(len(self.strata_labels)))
        rank = np.arange(len(order)) - starts[sorted_code]
        arm_sorted = np.zeros(len(order), dtype=np.int8)
        upper = np.zeros(len(self.strata_labels), dtype=np.int64)
        for quota, name in zip(self.quotas, self.arms, strict=True):
            lower = upper
            upper = lower + quota
            chosen = (rank >= lower[sorted_code]) & (rank < upper[sorted_code])
            arm_sorted[chosen] = ARMS.index(name) + 1
        eligible_codes = np.empty(len(order), dtype=np.int8)
        eligible_codes[order] = arm_sorted
        codes = np.full(len(self.agency_id), HAND_ADDED_CODE, dtype=np.int8)
        codes[self.eligible] = eligible_codes
        return codes

    def assign(self, seed: int) -> np.ndarray:
        """Arm label of every agency, in ``agency_id`` order."""
        names = np.array((CONTROL, *ARMS, HAND_ADDED), dtype=object)  # code -1 indexes the last one
        labels: np.ndarray = names[self.assign_codes(seed)]
        return labels


@dataclass(frozen=True)
class DrawResult:
    """A draw: one row per agency (``agency_id``, ``arm``, ``stratum``, ``added_by_hand``) and how it was made."""

    assignment: pd.DataFrame
    arms: dict[str, int]
    strata: tuple[str, ...]
    seed: int
    input_sha256: str
    algorithm_version: str = ALGORITHM_VERSION
    command: str | None = None

    def counts(self) -> dict[str, int]:
        """Agencies per arm (the arms, CONTROL, HAND_ADDED)."""
        found = self.assignment["arm"].value_counts()
        return {name: int(found.get(name, 0)) for name in (*self.arms, CONTROL, HAND_ADDED)}

    def csv_text(self) -> str:
        frame = self.assignment[list(DRAW_COLUMNS)].copy()
        frame["added_by_hand"] = np.where(frame["added_by_hand"].to_numpy(dtype=bool), "true", "false")
        return str(frame.to_csv(index=False, lineterminator="\n"))

    def metadata(self) -> dict[str, Any]:
        """What the sidecar records: enough for anyone with the agency file and the seed to verify."""
        return {
            "algorithm_version": self.algorithm_version,
            "seed": self.seed,
            "arms": dict(self.arms),
            "strata": list(self.strata),
            "input_sha256": self.input_sha256,
            "output_sha256": hashlib.sha256(self.csv_text().encode("utf-8")).hexdigest(),
            "command": self.command,
            "counts": self.counts(),
            "hand_added": sorted(self.assignment.loc[self.assignment["added_by_hand"], "agency_id"].astype(str)),
        }

    def to_csv(self, path: str | Path) -> tuple[Path, Path]:
        """Write the draw (CSV, ``\\n`` line ends) and its ``<stem>.meta.json`` sidecar; same draw, same bytes."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.csv_text().encode("utf-8"))
        side = meta_path(path)
        side.write_bytes((json.dumps(self.metadata(), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode())
        return path, side

    def plan(self) -> DrawPlan:
        """The plan that re-runs this draw: the recorded strata labels stand for the strata columns."""
        return DrawPlan.build(self.assignment[["agency_id", "added_by_hand", "stratum"]], self.arms, ["stratum"])


def draw_arms(
    agencies: pd.DataFrame, arms: Mapping[str, int], strata: Sequence[str], seed: int, *, command: str | None = None
) -> DrawResult:
    """Draw ``arms`` (e.g. ``{"MODEL_1": 80, "MODEL_2": 20}``) among ``agencies``, stratified by ``strata``.

    ``command`` is recorded in the metadata (the command line that asked for the draw).
    Raises :class:`~core.errors.InvalidInput` for an unknown arm or stratum column,
    duplicate agency ids, or more agencies drawn than there are, overall or in a stratum.
    """
    plan = DrawPlan.build(agencies, arms, strata)
    seed = _check_seed(seed)
    assignment = pd.DataFrame(
        {
            "agency_id": plan.agency_id,
            "arm": plan.assign(seed),
            "stratum": plan.stratum,
            "added_by_hand": ~plan.eligible,
        }
    )
    return DrawResult(assignment, plan.arms, tuple(strata), seed, canonical_sha256(agencies), command=command)


def load_draw(path: str | Path) -> DrawResult:
    """Read a draw and its sidecar, and check both: the file's sha256, and that its seed gives its arms."""
    path = Path(path)
    side = meta_path(path)
    for needed in (path, side):
        if not needed.exists():
            raise InvalidInput(f"{needed}: no such file (a draw is its CSV and its .meta.json sidecar)")
    raw = path.read_bytes()
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        recorded = meta["output_sha256"]
        arms, strata, seed = dict(meta["arms"]), tuple(meta["strata"]), int(meta["seed"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{side}: not a draw sidecar ({exc})") from exc
    if hashlib.sha256(raw).hexdigest() != recorded:
        raise InvalidInput(f"{path}: its sha256 differs from output_sha256 in {side.name}; the draw was changed")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in DRAW_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path}: missing column {missing[0]!r}")
    frame["added_by_hand"] = _as_flags("added_by_hand", frame["added_by_hand"])
    result = DrawResult(
        frame[list(DRAW_COLUMNS)],
        arms,
        strata,
        seed,
        str(meta.get("input_sha256", "")),
        str(meta.get("algorithm_version", "")),
        meta.get("command"),
    )
    if result.algorithm_version != ALGORITHM_VERSION:
        raise InvalidInput(
            f"{side}: algorithm_version {result.algorithm_version!r} is not this Jalon's "
            f"({ALGORITHM_VERSION!r}); verify it with the version that made it"
        )
    if not np.array_equal(result.plan().assign(seed), frame["arm"].to_numpy(dtype=object)):
        raise InvalidInput(f"{path}: the arms are not those that seed {seed} gives; the draw cannot be verified")
    return result


def _assignment_frame(assignment: DrawResult | pd.DataFrame) -> pd.DataFrame:
    frame = assignment.assignment if isinstance(assignment, DrawResult) else assignment
    for column in ("agency_id", "arm"):
        if column not in frame.columns:
            raise InvalidInput(f"{column}: missing column in the draw")
    return frame


def _numeric(agencies: pd.DataFrame, name: str) -> pd.Series:
    if name not in agencies.columns:
        raise InvalidInput(f"covariates: unknown column {name!r} in the agency table")
    column = agencies[name]
    if pd.api.types.is_bool_dtype(column.dtype) or not (
        pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)
    ):
        raise InvalidInput(f"{name}: a balance covariate must be numeric")
    values = pd.to_numeric(column, errors="coerce")
    if values.isna().any():
        raise InvalidInput(f"{name}: a balance covariate must be numeric with no missing value")
    return values.astype(float)


def balance_table(
    agencies: pd.DataFrame, assignment: DrawResult | pd.DataFrame, covariates: Sequence[str] | None = None
) -> pd.DataFrame:
    """Standardised mean differences of agency covariates, each arm against the controls.

    SMD = (mean_arm - mean_control) / sqrt((var_arm + var_control) / 2), sample variances
    (an arm of one agency counts as variance 0); ``flagged`` when |SMD| > 0.1. Without
    ``covariates``, every numeric, non-boolean column. One row per covariate and arm.
    """
    draw = _assignment_frame(assignment)
    if covariates is None:
        covariates = [
            c
            for c in agencies.columns
            if c != "agency_id"
            and pd.api.types.is_numeric_dtype(agencies[c])
            and not pd.api.types.is_bool_dtype(agencies[c])
        ]
    arm_of = pd.Series(draw["arm"].astype(str).to_numpy(), index=draw["agency_id"].astype(str).to_numpy())
    arm = agencies["agency_id"].astype(str).map(arm_of)
    if arm.isna().any():
        raise InvalidInput(f"agency_id: agency {agencies['agency_id'][arm.isna()].iloc[0]!r} is not in the draw")
    rows = []
    control = (arm == CONTROL).to_numpy()
    for name in covariates:
        values = _numeric(agencies, name).to_numpy()
        for arm_name in ARMS:
            treated = (arm == arm_name).to_numpy()
            if not treated.any():
                continue
            a, c = values[treated], values[control]
            var_a = float(a.var(ddof=1)) if len(a) > 1 else 0.0
            var_c = float(c.var(ddof=1)) if len(c) > 1 else 0.0
            diff = float(a.mean()) - (float(c.mean()) if len(c) else math.nan)
            pooled = math.sqrt((var_a + var_c) / 2)
            smd = diff / pooled if pooled > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
            rows.append(
                {
                    "covariate": name,
                    "arm": arm_name,
                    "n_arm": len(a),
                    "n_control": len(c),
                    "mean_arm": float(a.mean()),
                    "mean_control": float(c.mean()) if len(c) else math.nan,
                    "smd": smd,
                    "flagged": bool(abs(smd) > SMD_THRESHOLD),
                }
            )
    columns = ["covariate", "arm", "n_arm", "n_control", "mean_arm", "mean_control", "smd", "flagged"]
    return pd.DataFrame(rows, columns=columns)
