"""Where a spec read from YAML went wrong, in words that name the column (used by :mod:`features.spec`)."""

from __future__ import annotations

from typing import Any

YAML_BOOLEAN_HINT = (
    "YAML reads unquoted yes/no/on/off/true/false as booleans: quote the value (for example 'yes') if it is a text code"
)


def yaml_boolean_problems(raw: dict[str, Any]) -> list[str]:
    """Values YAML turned into booleans where the spec expects text (names, codes, labels)."""
    problems = []
    for i, column in enumerate(raw.get("columns") or []):
        if not isinstance(column, dict):
            continue
        where = f"columns[{i}]" + (f" ({column['name']!r})" if isinstance(column.get("name"), str) else "")
        for key in ("name", "label_fr", "description", "unit"):
            if isinstance(column.get(key), bool):
                problems.append(f"{where}.{key}: read as the boolean {str(column[key]).lower()}")
        categories = column.get("categories")
        if isinstance(categories, list):
            for j, code in enumerate(categories):
                if isinstance(code, bool):
                    problems.append(f"{where}.categories[{j}]: read as the boolean {str(code).lower()}")
        positive = column.get("positive")
        values = positive if isinstance(positive, list) else [positive]
        if column.get("type") == "categorical" and any(isinstance(v, bool) for v in values):
            problems.append(f"{where}.positive: read as a boolean")
    return problems


def located(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """A pydantic error location with columns named by name: ``columns[3] ('age').type``."""
    parts: list[str] = []
    items = list(loc)
    if len(items) >= 2 and items[0] == "columns" and isinstance(items[1], int):
        index = items[1]
        columns = raw.get("columns") or []
        name = columns[index].get("name") if index < len(columns) and isinstance(columns[index], dict) else None
        parts.append(f"columns[{index}]" + (f" ({name!r})" if isinstance(name, str) else ""))
        items = items[2:]
    for item in items:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
    text = "".join(parts).lstrip(".")
    return text or "spec"
