"""The compiled catalogue: offers, rules and complements as matched against a person.

A :class:`Catalogue` is built by :func:`policy.catalogue.load_catalogue` from a validated
YAML file; everything here is immutable and knows nothing about files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import french
from features.schema import FIELDS_BY_NAME, NEED_CODES, TIER_CODES

PARCOURS: dict[str, str] = {
    "EMPLOI": "parcours emploi",
    "SOCIO_PRO": "parcours socio-professionnel",
    "SOCIAL": "parcours social",
}
MODALITIES: dict[str, str] = {
    "SUIVI": "suivi",
    "GUIDE": "guidé",
    "RENFORCE": "renforcé",
    "GLOBAL": "global",
    "INTENSIF": "intensif",
}
#: Profile fields a rule's ``when`` / ``when_any`` may test.
BARRIER_FIELDS: tuple[str, ...] = (
    "housing",
    "health_limitation",
    "childcare_constraint",
    "single_parent",
    "financial_difficulty",
    "french_proficiency",
    "driving_licence",
    "vehicle_access",
    "public_transport",
    "digital_autonomy",
    "rsa_recipient",
    "disability_recognition",
)
_MISSING = object()  # a value no condition matches
#: Words that count as true or false when a profile comes as text (CSV cells, forms).
_TRUE = {"true", "1", "oui", "yes", "vrai", "t", "y"}
_FALSE = {"false", "0", "non", "no", "faux", "f", "n"}


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def _normalise(kind: str, value: Any) -> Any:
    """The value as a condition compares it, or ``_MISSING`` (never matches)."""
    if _is_missing(value):
        return _MISSING
    if kind == "boolean":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        if isinstance(value, (float, np.floating)) and value in (0.0, 1.0):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        return _MISSING
    if kind in ("integer", "number"):
        if isinstance(value, (bool, np.bool_)):
            return _MISSING
        if isinstance(value, (int, float, np.integer, np.floating)):
            return float(value)
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                return _MISSING
            return _MISSING if math.isnan(number) else number
        return _MISSING
    return str(value)


@dataclass(frozen=True)
class Condition:
    """One barrier test: a profile field against allowed values or a numeric range."""

    field: str
    kind: str
    values: frozenset = frozenset()
    minimum: float | None = None
    maximum: float | None = None

    def test(self, value: Any) -> bool:
        v = _normalise(self.kind, value)
        if v is _MISSING:
            return False
        if self.values and v in self.values:
            return True
        if self.minimum is None and self.maximum is None:
            return False
        if self.kind not in ("integer", "number"):
            return False
        return (self.minimum is None or v >= self.minimum) and (self.maximum is None or v <= self.maximum)

    def describe_fr(self, value: Any) -> str:
        """The person's value in French words, for the recommendation's explanation."""
        spec = FIELDS_BY_NAME[self.field]
        v = _normalise(self.kind, value)
        if self.kind in ("integer", "number") and isinstance(v, float):
            shown = french.number(v)  # decimal comma, like every figure an advisor reads
            return spec.phrase_fr.format(value=shown) if spec.phrase_fr else f"{spec.label_fr} {shown}"
        if self.kind == "boolean" and isinstance(v, bool):
            value = v
        return spec.sentence_fr(value)


@dataclass(frozen=True)
class Offer:
    id: str
    name_fr: str
    needs: tuple[str, ...]


@dataclass(frozen=True)
class Selector:
    """What rules and complements share: the need × tier they apply to and their barrier tests."""

    id: str
    index: int
    needs: frozenset[str]
    tiers: frozenset[str]
    when: tuple[Condition, ...]
    when_any: tuple[Condition, ...]

    @property
    def unconditional(self) -> bool:
        return not self.when and not self.when_any

    def combos(self) -> set[tuple[str, str]]:
        return {(n, t) for n in self.needs for t in self.tiers}

    def matched_conditions(self, need: str, tier: str, profile: Any) -> list[tuple[Condition, Any]] | None:
        """The conditions that made this entry match (empty if unconditional), or None."""
        if need not in self.needs or tier not in self.tiers:
            return None
        used: list[tuple[Condition, Any]] = []
        for cond in self.when:
            value = _get(profile, cond.field)
            if not cond.test(value):
                return None
            used.append((cond, value))
        if self.when_any:
            hits = [(c, _get(profile, c.field)) for c in self.when_any]
            hits = [(c, v) for c, v in hits if c.test(v)]
            if not hits:
                return None
            used.extend(hits)
        return used


@dataclass(frozen=True)
class Rule(Selector):
    parcours: str = ""
    modality: str = ""
    objective_fr: str = ""
    offers: tuple[str, ...] = ()
    duration_months: int = 0
    note_fr: str | None = None


@dataclass(frozen=True)
class Complement(Selector):
    offers: tuple[str, ...] = ()


def _get(profile: Any, name: str) -> Any:
    if profile is None:
        return None
    try:
        return profile.get(name)
    except (AttributeError, TypeError):
        return None


@dataclass(frozen=True, eq=False)
class Catalogue:
    """A validated catalogue. Use :func:`load_catalogue` to get one."""

    version: str
    source: Path
    offers: Mapping[str, Offer]
    rules: tuple[Rule, ...]
    complements: tuple[Complement, ...]
    base_version: str | None = None

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def match(
        self, need: str, tier: str, profile: Any = None
    ) -> tuple[Rule, list[tuple[Condition, Any]], list[tuple[Complement, list[tuple[Condition, Any]]]]]:
        """(rule, rule conditions used, [(complement, conditions used)]) for one person."""
        for r in self.rules:
            used = r.matched_conditions(need, tier, profile)
            if used is not None:
                break
        else:  # pragma: no cover - load-time coverage check makes this unreachable
            raise RuntimeError(f"catalogue {self.version}: no rule matches {need} × {tier}")
        comps: list[tuple[Complement, list[tuple[Condition, Any]]]] = []
        for c in self.complements:
            c_used = c.matched_conditions(need, tier, profile)
            if c_used is not None:
                comps.append((c, c_used))
        return r, used, comps

    def offer_ids(self, rule: Rule, complements: list[Complement] | tuple[Complement, ...]) -> list[str]:
        ids = list(rule.offers)
        for c in complements:
            ids.extend(o for o in c.offers if o not in ids)
        return ids

    def rule_table(self) -> pd.DataFrame:
        """One row per rule, in order (for documentation and review screens)."""
        rows = []
        for r in self.rules:
            conds = [_describe_condition(c) for c in r.when]
            if r.when_any:
                conds.append("any of (" + " | ".join(_describe_condition(c) for c in r.when_any) + ")")
            rows.append(
                {
                    "rule_id": r.id,
                    "needs": ",".join(n for n in NEED_CODES if n in r.needs),
                    "tiers": ",".join(t for t in TIER_CODES if t in r.tiers),
                    "barriers": " & ".join(conds),
                    "parcours": r.parcours,
                    "modality": r.modality,
                    "offers": ";".join(r.offers),
                    "duration_months": r.duration_months,
                }
            )
        return pd.DataFrame(rows)


def _describe_condition(c: Condition) -> str:
    parts = [str(v).lower() if isinstance(v, bool) else str(v) for v in sorted(c.values, key=str)]
    if c.minimum is not None:
        parts.append(f">={c.minimum:g}")
    if c.maximum is not None:
        parts.append(f"<={c.maximum:g}")
    return f"{c.field} in {{{', '.join(parts)}}}" if len(parts) > 1 else f"{c.field}={parts[0]}"
