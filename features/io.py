"""Reading and writing tables: Parquet, or CSV chosen by the file extension.

Raw data is immutable: these functions never modify a file they read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import InvalidInput

SUPPORTED = (".parquet", ".csv")


class DataFileError(InvalidInput):
    """A data file that cannot be read as a table (wrong extension, unreadable, empty)."""


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUPPORTED:
        raise DataFileError(f"{path}: unsupported extension {suffix!r}; use .parquet or .csv")
    return suffix[1:]


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` deterministically (same frame, same bytes)."""
    path = Path(path)
    fmt = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, path, compression="zstd")
    else:
        frame.to_csv(path, index=False, lineterminator="\n")
    return path


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole table. CSV cells are read as text, so that typing is checked, not guessed."""
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    try:
        if fmt == "parquet":
            return pq.read_table(path, columns=columns).to_pandas()
        return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=columns)
    except (pa.ArrowException, OSError, pd.errors.ParserError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot be read as {fmt}: {exc}") from exc


def iter_table(path: str | Path, chunk_rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """Stream a table in chunks of at most ``chunk_rows`` rows (bounded memory)."""
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if fmt == "parquet":
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    else:
        yield from pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows)
