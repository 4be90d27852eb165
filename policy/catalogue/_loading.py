"""Reading catalogue files: the packaged one, an agency's own, or an agency's extension.

Catalogues are cached by path and modification time (of the file and of the packaged
catalogue it may extend), so the service and batch scoring read each file once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import yaml

from core.config import get_settings
from policy.catalogue._build import build_catalogue
from policy.catalogue._entries import Catalogue
from policy.catalogue._merge import merge_override
from policy.catalogue._problems import SECTIONS, CatalogueError, Origins

PACKAGED_CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue.yaml"


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such catalogue file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(f"{path}: bad YAML at {where}: {problem}") from exc
    if data is None:
        raise CatalogueError(f"{path}: empty catalogue file")
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: (top level): must be a mapping with version, offers and rules")
    return data


def _load_uncached(path: Path) -> Catalogue:
    data = _read_yaml(path)
    extends = data.pop("extends", None)
    if extends is not None:
        if extends != "default":
            raise CatalogueError(
                f"{path}: extends: only 'default' (the packaged catalogue) can be extended, got {extends!r}"
            )
        if path == PACKAGED_CATALOGUE:
            raise CatalogueError(f"{path}: extends: the packaged catalogue cannot extend itself")
        base = _read_yaml(PACKAGED_CATALOGUE)
        data, origins = merge_override(base, data, PACKAGED_CATALOGUE, path)
    else:
        origins = Origins(path)
        for section in SECTIONS:
            items = data.get(section)
            n = len(items) if isinstance(items, list) else 0
            origins.labels[section] = [(f"{path}: {section}[{i}]", "") for i in range(n)]
    return build_catalogue(data, origins, path)


_CACHE: dict[str, tuple[tuple[tuple[int, int], tuple[int, int]], Catalogue]] = {}
_LOCK = threading.Lock()


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_mtime_ns, st.st_size)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue (cached by path and modification time).

    ``path=None`` uses the settings' ``catalogue_file`` (``$JALON_CATALOGUE``) if set, else the
    packaged ``policy/catalogue.yaml``.
    Raises :class:`CatalogueError` naming the file, the entry and the rule broken.
    """
    configured = get_settings().catalogue_file if path is None else None
    resolved = Path(path).expanduser() if path is not None else configured or PACKAGED_CATALOGUE
    resolved = resolved.resolve()
    try:
        key = (_stamp(resolved), _stamp(PACKAGED_CATALOGUE))
    except FileNotFoundError:
        where = " (JALON_CATALOGUE points to it)" if configured is not None else ""
        raise CatalogueError(f"{resolved}: no such catalogue file{where}") from None
    cached = _CACHE.get(str(resolved))
    if cached is not None and cached[0] == key:
        return cached[1]
    catalogue = _load_uncached(resolved)
    with _LOCK:
        _CACHE[str(resolved)] = (key, catalogue)
    return catalogue
