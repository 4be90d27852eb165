"""An agency's catalogue that extends the packaged one (``extends: default``).

The agency file patches entries by id, adds new ones (new rules come *before* the
packaged ones, so an agency's rule takes precedence) and may remove rules and
complements. :class:`Origins` remembers which file each merged entry came from, so
that a problem found later names the agency's line rather than the packaged one.
"""

from __future__ import annotations

from pathlib import Path

from policy.catalogue._problems import SECTIONS, Origins, raise_problems


def merge_override(base: dict, over: dict, base_file: Path, over_file: Path) -> tuple[dict, Origins]:
    """Apply an agency override (``extends: default``) onto the packaged catalogue."""
    problems: list[tuple[str, str]] = []
    origins = Origins(over_file)
    merged = dict(base)
    merged["base_version"] = str(base.get("version"))
    if "version" not in over:
        problems.append((f"{over_file}: version", "missing field: an extending catalogue needs its own version"))
    for key, value in over.items():
        if key not in SECTIONS and key not in ("remove_rules", "remove_complements"):
            merged[key] = value
    for section in SECTIONS:
        items = list(base.get(section) or [])
        labels = [(f"{base_file}: {section}[{i}]", "") for i in range(len(items))]
        position = {item.get("id"): i for i, item in enumerate(items) if isinstance(item, dict)}
        new_items, new_labels, seen = [], [], set()
        patch = over.get(section, [])
        if not isinstance(patch, list):
            problems.append((f"{over_file}: {section}", "must be a list of entries"))
            patch = []
        for j, item in enumerate(patch):
            where = f"{over_file}: {section}[{j}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                problems.append((where, "each entry must be a mapping with an id"))
                continue
            ident = item["id"]
            if ident in seen:
                problems.append((f"{where}.id", f"duplicate id {ident!r} in the override"))
                continue
            seen.add(ident)
            if ident in position:
                pos = position[ident]
                items[pos] = {**items[pos], **item}
                labels[pos] = (where, f" (patch of {section[:-1]} {ident!r} of {base_file})")
            else:
                new_items.append(item)
                new_labels.append((where, ""))
        if section == "rules":  # an agency's new rules take precedence over the packaged ones
            items, labels = new_items + items, new_labels + labels
        else:
            items, labels = items + new_items, labels + new_labels
        merged[section] = items
        origins.labels[section] = labels
    for section, key in (("rules", "remove_rules"), ("complements", "remove_complements")):
        removed = over.get(key, [])
        if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
            problems.append((f"{over_file}: {key}", "must be a list of ids"))
            continue
        for j, ident in enumerate(removed):
            keep = [
                i for i, item in enumerate(merged[section]) if not (isinstance(item, dict) and item.get("id") == ident)
            ]
            if len(keep) == len(merged[section]):
                problems.append((f"{over_file}: {key}[{j}]", f"unknown {section[:-1]} id {ident!r}"))
            merged[section] = [merged[section][i] for i in keep]
            origins.labels[section] = [origins.labels[section][i] for i in keep]
    if problems:
        raise_problems(problems, over_file)
    return merged, origins
