"""The population frame: draws, truth and recorded labels as typed columns in FIELDS order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.schema import (
    EMPLOYMENT_LABEL,
    FIELDS,
    NEED_CODES,
    NEED_LABEL,
    TRUTH_EMPLOYMENT_COLUMN,
    TRUTH_NEED_COLUMNS,
)
from synthetic._draws import draw_features
from synthetic._errors import SyntheticInputError
from synthetic._experiment_agencies import place_people
from synthetic._label_bias import LabelBias
from synthetic._sampling import from_rows
from synthetic._territory import agency_table
from synthetic._truth import employment_probability, need_probabilities


def _person_ids(seed: int, n: int) -> pa.Array:
    """ "P" + 9 digits: an affine permutation of the row number modulo 10^9 (unique)."""
    offset = int(np.random.default_rng([int(seed), 0x1D]).integers(0, 10**9))
    num = (np.arange(n, dtype=np.int64) * 738_219_517 + offset) % 1_000_000_000
    buf = np.empty((n, 10), dtype=np.uint8)
    buf[:, 0] = ord("P")
    for k in range(9):
        buf[:, 9 - k] = (num % 10) + 48
        num //= 10
    offsets = np.arange(0, 10 * (n + 1), 10, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes()))


def _str_column(index: np.ndarray, codes: tuple[str, ...]) -> pd.api.extensions.ExtensionArray:
    arr = pc.take(pa.array(codes, pa.string()), pa.array(index.astype(np.int8, copy=False)))
    return pd.array(arr, dtype="str")


def generate_population(
    rows: int, seed: int, label_bias: LabelBias | None = None, *, agencies: int | None = None, icc: float = 0.0
) -> pd.DataFrame:
    """A synthetic population of ``rows`` job seekers, every column of FIELDS in order.

    Category columns are pandas ``str`` (the schema codes), booleans ``bool``,
    integers ``int64`` except the nullable self-assessments (``Int64`` with a few %
    missing), numbers ``float64``. Same ``seed`` → same frame.

    ``agencies=K`` spreads people over the K agencies of ``generate_agencies(K, seed)``
    (in proportion to their size) and gives each agency a random effect on the true
    employment probability with intra-agency correlation ``icc`` (``_experiment_agencies``);
    ``true_p_employed_6m`` and ``employed_6m`` include it. Off by default: without
    ``agencies`` the frame is the one it always was, byte for byte (its own streams).
    """
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 0:
        raise SyntheticInputError(f"rows must be a non-negative integer, got {rows!r}")
    if agencies is None and icc != 0:
        raise SyntheticInputError("icc needs agencies: the random effect is an agency's")
    n = int(rows)
    rng = np.random.default_rng(int(seed))
    c = draw_features(rng, n)

    p_need = need_probabilities(c)
    p_emp = employment_probability(c)
    experiment_agency = None
    if agencies is not None:
        experiment_agency, p_emp = place_people(n, int(seed), agencies, icc, p_emp)
    u_need = rng.random(n)
    u_emp = rng.random(n)
    need = from_rows(u_need, p_need)
    employed = u_emp < p_emp

    columns: dict[str, object] = {}
    territory = agency_table()
    columns["person_id"] = pd.array(_person_ids(seed, n), dtype="str")
    columns["agency_id"] = (
        _str_column(c["agency"], territory.agency_id)
        if experiment_agency is None
        else pd.array(experiment_agency, dtype="str")
    )
    for f in FIELDS:
        if f.name in columns or f.role in ("label", "truth"):
            continue
        values = c[f.name]
        if f.kind == "category":
            columns[f.name] = _str_column(values, f.codes or ())
        elif f.nullable:
            columns[f.name] = pd.arrays.IntegerArray(np.nan_to_num(values, nan=0.0).astype(np.int64), np.isnan(values))
        elif f.kind == "integer":
            columns[f.name] = values.astype(np.int64, copy=False)
        elif f.kind == "boolean":
            columns[f.name] = values.astype(bool, copy=False)
        else:
            columns[f.name] = values.astype(np.float64, copy=False)
    del c
    frame = pd.DataFrame(columns, copy=False)

    if label_bias is not None:
        need, employed = label_bias.apply(frame, seed, need, employed)

    frame[NEED_LABEL] = _str_column(need, NEED_CODES)
    frame[EMPLOYMENT_LABEL] = employed
    for k, name in enumerate(TRUTH_NEED_COLUMNS):
        frame[name] = p_need[:, k]
    frame[TRUTH_EMPLOYMENT_COLUMN] = p_emp
    assert list(frame.columns) == [f.name for f in FIELDS]
    return frame
