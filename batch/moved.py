"""What moved between a recorded suggestion and today's profile, in French for the advisor.

The milestone review compares the explanation recorded with a suggestion (read through the
contract) with the current contributions, field by field, and says what changed: values
(« ancien → nouveau ») and contributions (« avant → maintenant »).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import french
from features.schema import FIELDS_BY_NAME, NEEDS
from models.segmentation import SegmentationModel, explained_factor
from models.suggestion import Explanation, Explanations
from records import SuggestionRecord

# --------------------------------------------------------------------------- formatting


def _number_fr(x: float) -> str:
    return french.number(x, 2, signed=True)


def _display(name: str, value: Any) -> str:
    f = FIELDS_BY_NAME.get(name)
    return f.display_value(value) if f is not None else ("non renseigné" if value is None else str(value))


def field_label_fr(name: str) -> str:
    """The French label of a profile field (the name itself for unknown fields)."""
    f = FIELDS_BY_NAME.get(name)
    return f.label_fr if f is not None else name


def _item_fr(e: dict[str, Any]) -> str:
    """One field: its value (old → new when it changed) and its contribution then → now."""
    label = e["label_fr"]
    if e["value_changed"]:
        head = f"{label} : {e['old_display']} → {e['new_display']}"
    else:
        head = f"{label} ({e['new_display']})"
    if e["new_contribution"] is None:
        return head
    if e["old_contribution"] is None:
        return f"{head}, {_number_fr(e['new_contribution'])} (hors des principaux facteurs auparavant)"
    return f"{head}, {_number_fr(e['old_contribution'])} → {_number_fr(e['new_contribution'])}"


def moved_text_fr(chosen: list[dict[str, Any]]) -> str:
    """The French summary of what moved, grouped by explained target."""
    parts = []
    need = [e for e in chosen if e["target"] == "need"]
    if need:
        label = NEEDS.get(need[0]["need_target"] or "", need[0]["need_target"])
        parts.append(
            f"Contributions vers le besoin « {label} » (suggéré alors), avant → maintenant : "
            + " ; ".join(_item_fr(e) for e in need)
        )
    emp = [e for e in chosen if e["target"] == "employability"]
    if emp:
        parts.append("Contributions aux chances d'emploi, avant → maintenant : " + " ; ".join(_item_fr(e) for e in emp))
    other = [e for e in chosen if e["target"] is None]
    if other:
        parts.append("Autres valeurs modifiées : " + " ; ".join(_item_fr(e) for e in other))
    return ". ".join(parts) + ("." if parts else "")


# --------------------------------------------------------------------------- comparison


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return str(a) == str(b)


def stored_explanations(suggestion: SuggestionRecord) -> Explanations | None:
    """The explanation recorded with a suggestion, read through the contract (None if none was kept)."""
    return Explanations.model_validate(suggestion.explanation) if suggestion.explanation else None


class Mover:
    """Compares current contributions with a stored explanation, field by field."""

    def __init__(self, model: SegmentationModel, top_moved: int) -> None:
        self.model = model
        self.names = list(model.feature_names)
        self.index = {n: j for j, n in enumerate(self.names)}
        self.top_moved = top_moved

    def current_value(self, name: str, x_row: np.ndarray) -> Any:
        """The value as a stored factor shows it (same conversions as the explanation)."""
        value = self.model.encoder.decode_value(name, x_row[self.index[name]])
        return explained_factor(name, value, 0.0, None).value

    def known_values(self, stored: Explanations | None, policy_context: dict | None) -> dict[str, Any]:
        """Values of the original profile that the suggestion kept: its explained factors
        (need and employability) and the barrier fields kept for the policy."""
        known: dict[str, Any] = {}
        for name, value in (policy_context or {}).items():
            if name in self.index:
                known[name] = None if value is None else explained_factor(name, value, 0.0, None).value
        for part in (stored.need, stored.employability) if stored is not None else ():
            for f in part.factors if part is not None else ():
                if f.field in self.index:
                    known[f.field] = f.value
        return known

    def _entry(
        self,
        target: str | None,
        need_target: str | None,
        name: str,
        known: dict[str, Any],
        x_row: np.ndarray,
        old_c: float | None,
        new_c: float | None,
    ) -> dict[str, Any]:
        new_value = self.current_value(name, x_row)
        has_old = name in known
        old_value = known.get(name)
        return {
            "target": target,
            "need_target": need_target,
            "field": name,
            "label_fr": field_label_fr(name),
            "old_value": old_value,
            "new_value": new_value,
            "old_display": _display(name, old_value) if has_old else None,
            "new_display": _display(name, new_value),
            "value_changed": has_old and not _same(old_value, new_value),
            "old_contribution": old_c,
            "new_contribution": new_c,
            "delta": 0.0 if new_c is None else new_c - (old_c or 0.0),
        }

    def entries(
        self,
        target: str,
        stored: Explanation | None,
        contrib: np.ndarray | None,
        x_row: np.ndarray,
        need_target: str | None,
        known: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """One entry per field among the stored top factors of ``target`` and the current ones."""
        if not stored or contrib is None:
            return []
        old = {f.field: f for f in stored.factors}
        top_new = [self.names[j] for j in np.argsort(-np.abs(contrib), kind="stable")[: self.model.top_factors]]
        out = []
        for name in dict.fromkeys([*old, *top_new]):
            if name not in self.index:
                continue
            old_c = old[name].contribution if name in old else None
            out.append(self._entry(target, need_target, name, known, x_row, old_c, float(contrib[self.index[name]])))
        return out

    def select(self, entries: list[dict[str, Any]], known: dict[str, Any], x_row: np.ndarray) -> list[dict[str, Any]]:
        """The largest changes per target, plus every field whose known value changed."""
        chosen: list[dict[str, Any]] = []
        for target in ("need", "employability"):
            part = [e for e in entries if e["target"] == target]
            part.sort(key=lambda e: (-abs(e["delta"]), e["field"]))
            chosen.extend(part[: self.top_moved] + [e for e in part[self.top_moved :] if e["value_changed"]])
        listed = {e["field"] for e in chosen if e["value_changed"]}
        for name in sorted(known):
            if name in listed:
                continue
            entry = self._entry(None, None, name, known, x_row, None, None)
            if entry["value_changed"]:
                chosen.append(entry)
        return chosen
