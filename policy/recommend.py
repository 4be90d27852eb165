"""Model 1 — recommendation by primary need: parcours, modality, objective, offers, milestone.

A versioned YAML catalogue (``policy/catalogue.yaml``, or an agency's file named by
``JALON_CATALOGUE`` or passed to :func:`load_catalogue`) lists the service offers and
ordered rules mapping (need, tier, barriers) to a parcours (EMPLOI / SOCIO_PRO /
SOCIAL), a modality (SUIVI / GUIDE / RENFORCE / GLOBAL), a priority objective in
French, offers and a duration ending at the milestone (jalon « corde de rappel »).

The catalogue is validated on load (:class:`CatalogueError` names the file, the entry
and the rule broken), including the guarantee that every need × tier combination has a
rule without barrier conditions. The first matching rule gives the suggestion; the
advisor decides and may override it. See ``docs/policy.md``.
"""

from __future__ import annotations

import calendar
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from features.schema import FIELDS_BY_NAME, NEED_CODES, NEEDS, TIER_CODES, TIERS

PACKAGED_CATALOGUE = Path(__file__).resolve().with_name("catalogue.yaml")
ENV_VAR = "JALON_CATALOGUE"

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
MIN_DURATION, MAX_DURATION = 1, 24
MAX_COMPLEMENTS = 48
_SECTIONS = ("offers", "rules", "complements")


class CatalogueError(ValueError):
    """A catalogue file that cannot be used. ``problems`` lists (entry, message) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


# --------------------------------------------------------------------------- dates


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, the day clamped to the month's end.

    >>> add_months(date(2025, 1, 31), 1)
    datetime.date(2025, 2, 28)
    """
    index = start.year * 12 + (start.month - 1) + int(months)
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last))


def _add_months_array(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Vectorised :func:`add_months` on ``datetime64[D]`` values (NaT stays NaT)."""
    month_start = days.astype("datetime64[M]")
    day0 = (days - month_start.astype("datetime64[D]")).astype("int64")
    target = month_start + months.astype("int64").astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype("int64")
    return target.astype("datetime64[D]") + np.minimum(day0, length - 1).astype("timedelta64[D]")


# --------------------------------------------------------------------------- values

_MISSING = object()
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


# --------------------------------------------------------------------------- compiled catalogue


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
        spec = FIELDS_BY_NAME[self.field]
        v = _normalise(self.kind, value)
        if self.kind == "integer" and isinstance(v, float) and v.is_integer():
            value = int(v)
        elif self.kind == "boolean" and isinstance(v, bool):
            value = v
        return spec.sentence_fr(value)


@dataclass(frozen=True)
class Offer:
    id: str
    name_fr: str
    needs: tuple[str, ...]


@dataclass(frozen=True)
class _Selector:
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
class Rule(_Selector):
    parcours: str = ""
    modality: str = ""
    objective_fr: str = ""
    offers: tuple[str, ...] = ()
    duration_months: int = 0
    note_fr: str | None = None


@dataclass(frozen=True)
class Complement(_Selector):
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

    @property
    def barrier_fields(self) -> tuple[str, ...]:
        """Profile fields tested by any rule or complement (sorted)."""
        names = {c.field for e in (*self.rules, *self.complements) for c in (*e.when, *e.when_any)}
        return tuple(sorted(names))

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def match(self, need: str, tier: str, profile: Any = None):
        """(rule, rule conditions used, [(complement, conditions used)]) for one person."""
        for r in self.rules:
            used = r.matched_conditions(need, tier, profile)
            if used is not None:
                break
        else:  # pragma: no cover - load-time coverage check makes this unreachable
            raise RuntimeError(f"catalogue {self.version}: no rule matches {need} × {tier}")
        comps = []
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
            rows.append({
                "rule_id": r.id,
                "needs": ",".join(n for n in NEED_CODES if n in r.needs),
                "tiers": ",".join(t for t in TIER_CODES if t in r.tiers),
                "barriers": " & ".join(conds),
                "parcours": r.parcours,
                "modality": r.modality,
                "offers": ";".join(r.offers),
                "duration_months": r.duration_months,
            })
        return pd.DataFrame(rows)


def _describe_condition(c: Condition) -> str:
    parts = [str(v).lower() if isinstance(v, bool) else str(v) for v in sorted(c.values, key=str)]
    if c.minimum is not None:
        parts.append(f">={c.minimum:g}")
    if c.maximum is not None:
        parts.append(f"<={c.maximum:g}")
    return f"{c.field} in {{{', '.join(parts)}}}" if len(parts) > 1 else f"{c.field}={parts[0]}"


# --------------------------------------------------------------------------- pydantic structure


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _code_list(value: Any, codes: tuple[str, ...], what: str) -> list[str]:
    if value == "*":
        return list(codes)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f'must be "*" or a non-empty list of {what} codes')
    for item in value:
        if not isinstance(item, str) or item not in codes:
            raise ValueError(f"unknown {what} code {item!r}; expected one of {', '.join(codes)}")
    if len(set(value)) != len(value):
        raise ValueError(f"a {what} code is listed twice")
    return list(value)


def _non_empty_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty text")
    return value


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or any(ch in value for ch in " ;,"):
        raise ValueError(f"id must be a non-empty text without spaces, commas or semicolons, got {value!r}")
    return value


class _OfferModel(_Model):
    id: Any
    name_fr: Any
    needs: Any = "*"
    description_fr: str | None = None

    @field_validator("id")
    @classmethod
    def check_id(cls, v: Any) -> str:
        return _identifier(v)

    @field_validator("name_fr")
    @classmethod
    def check_name(cls, v: Any) -> str:
        return _non_empty_text(v, "name_fr")

    @field_validator("needs")
    @classmethod
    def check_needs(cls, v: Any) -> list[str]:
        return _code_list(v, NEED_CODES, "need")


class _SelectorModel(_Model):
    id: Any
    needs: Any = "*"
    tiers: Any = "*"
    when: dict[str, Any] | None = None
    when_any: dict[str, Any] | None = None
    offers: Any

    @field_validator("id")
    @classmethod
    def check_id(cls, v: Any) -> str:
        return _identifier(v)

    @field_validator("needs")
    @classmethod
    def check_needs(cls, v: Any) -> list[str]:
        return _code_list(v, NEED_CODES, "need")

    @field_validator("tiers")
    @classmethod
    def check_tiers(cls, v: Any) -> list[str]:
        return _code_list(v, TIER_CODES, "tier")

    @field_validator("offers")
    @classmethod
    def check_offers(cls, v: Any) -> list[str]:
        if not isinstance(v, list) or not v or not all(isinstance(o, str) for o in v):
            raise ValueError("offers must be a non-empty list of offer ids")
        return v


class _RuleModel(_SelectorModel):
    parcours: Any
    modality: Any
    objective_fr: Any
    duration_months: Any
    note_fr: str | None = None

    @field_validator("objective_fr")
    @classmethod
    def check_objective(cls, v: Any) -> str:
        return _non_empty_text(v, "objective_fr")

    @field_validator("parcours")
    @classmethod
    def check_parcours(cls, v: Any) -> str:
        return _check_code(v, tuple(PARCOURS), "parcours")

    @field_validator("modality")
    @classmethod
    def check_modality(cls, v: Any) -> str:
        return _check_code(v, tuple(MODALITIES), "modality")

    @field_validator("duration_months")
    @classmethod
    def check_duration(cls, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"duration_months must be a whole number of months, got {v!r}")
        if not MIN_DURATION <= v <= MAX_DURATION:
            raise ValueError(f"duration_months must be between {MIN_DURATION} and {MAX_DURATION} months, got {v}")
        return v


class _ComplementModel(_SelectorModel):
    pass


class _CatalogueModel(_Model):
    version: Any
    offers: list[_OfferModel]
    rules: list[_RuleModel]
    complements: list[_ComplementModel] = []
    base_version: str | None = None
    description_fr: str | None = None

    @field_validator("version")
    @classmethod
    def check_version(cls, v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            hint = " (quote it in YAML, e.g. version: \"2025.1\")" if isinstance(v, float) else ""
            raise ValueError(f"version must be a text or a whole number, got {type(v).__name__} {v!r}{hint}")
        if isinstance(v, str) and not v.strip():
            raise ValueError("version must not be empty")
        return str(v)

    @field_validator("offers", "rules")
    @classmethod
    def check_non_empty(cls, v: list) -> list:
        if not v:
            raise ValueError("must list at least one entry")
        return v


# --------------------------------------------------------------------------- loading


def _fmt_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Origins:
    """Where each entry of the (possibly merged) catalogue came from, for messages."""

    def __init__(self, main_file: Path):
        self.main_file = main_file
        self.labels: dict[str, list[tuple[str, str]]] = {s: [] for s in _SECTIONS}

    def entry(self, loc: tuple) -> tuple[str, str]:
        if len(loc) >= 2 and loc[0] in self.labels and isinstance(loc[1], int) and loc[1] < len(self.labels[loc[0]]):
            label, note = self.labels[loc[0]][loc[1]]
            rest = _fmt_loc(loc[2:])
            return label + ("." + rest if rest and not rest.startswith("[") else rest), note
        return f"{self.main_file}: {_fmt_loc(loc) or '(top level)'}", ""


def _raise(problems: list[tuple[str, str]], source: Path) -> None:
    lines = [f"{entry}: {msg}" for entry, msg in problems]
    if len(lines) == 1:
        raise CatalogueError(f"invalid catalogue {lines[0]}", problems)
    raise CatalogueError(
        f"invalid catalogue {source} ({len(lines)} problems):\n  - " + "\n  - ".join(lines), problems
    )


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


def _merge(base: dict, over: dict, base_file: Path, over_file: Path) -> tuple[dict, _Origins]:
    """Apply an agency override (``extends: default``) onto the packaged catalogue."""
    problems: list[tuple[str, str]] = []
    origins = _Origins(over_file)
    merged = dict(base)
    merged["base_version"] = str(base.get("version"))
    if "version" not in over:
        problems.append((f"{over_file}: version", "missing field: an extending catalogue needs its own version"))
    for key, value in over.items():
        if key not in _SECTIONS and key not in ("remove_rules", "remove_complements"):
            merged[key] = value
    for section in _SECTIONS:
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
            keep = [i for i, item in enumerate(merged[section]) if not (isinstance(item, dict) and item.get("id") == ident)]
            if len(keep) == len(merged[section]):
                problems.append((f"{over_file}: {key}[{j}]", f"unknown {section[:-1]} id {ident!r}"))
            merged[section] = [merged[section][i] for i in keep]
            origins.labels[section] = [origins.labels[section][i] for i in keep]
    if problems:
        _raise(problems, over_file)
    return merged, origins


def _compile_conditions(spec: dict[str, Any] | None, loc: tuple, problems: list) -> tuple[Condition, ...]:
    out = []
    for name, raw in (spec or {}).items():
        where = (*loc, name)
        if name not in BARRIER_FIELDS:
            problems.append((where, f"unknown barrier field {name!r}; expected one of {', '.join(BARRIER_FIELDS)}"))
            continue
        f = FIELDS_BY_NAME[name]
        kind = f.kind
        if kind == "category":
            values = raw if isinstance(raw, list) else [raw]
            bad = [v for v in values if not isinstance(v, str) or v not in (f.codes or ())]
            if not values or bad:
                problems.append((where, f"unknown code {bad[0] if bad else raw!r} for {name}; expected one of {', '.join(f.codes or ())}"))
                continue
            out.append(Condition(name, kind, frozenset(values)))
        elif kind == "boolean":
            if not isinstance(raw, bool):
                problems.append((where, f"{name} must be tested against true or false, got {raw!r}"))
                continue
            out.append(Condition(name, kind, frozenset([raw])))
        else:
            lo_ok, hi_ok = f.minimum, f.maximum

            def number(x: Any) -> bool:
                return isinstance(x, (int, float)) and not isinstance(x, bool) and (lo_ok is None or x >= lo_ok) and (hi_ok is None or x <= hi_ok)

            if isinstance(raw, dict):
                unknown = set(raw) - {"min", "max"}
                lo, hi = raw.get("min"), raw.get("max")
                if unknown or not raw or any(x is not None and not number(x) for x in (lo, hi)) or (lo is not None and hi is not None and lo > hi):
                    problems.append((where, f"{name} range must be {{min: x, max: y}} with numbers between {lo_ok:g} and {hi_ok:g}, got {raw!r}"))
                    continue
                out.append(Condition(name, kind, frozenset(), None if lo is None else float(lo), None if hi is None else float(hi)))
            else:
                values = raw if isinstance(raw, list) else [raw]
                if not values or not all(number(v) for v in values):
                    problems.append((where, f"{name} must be a number, a list of numbers or {{min, max}} between {lo_ok:g} and {hi_ok:g}, got {raw!r}"))
                    continue
                out.append(Condition(name, kind, frozenset(float(v) for v in values)))
    return tuple(out)


def _build(data: dict, origins: _Origins, source: Path) -> Catalogue:
    try:
        model = _CatalogueModel.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            label, note = origins.entry(tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "missing field"
            elif err["type"] == "extra_forbidden":
                msg = "unknown field"
            problems.append((label, msg + note))
        _raise(problems, source)
    raw_problems: list[tuple[tuple, str]] = []
    offers: dict[str, Offer] = {}
    for i, o in enumerate(model.offers):
        if o.id in offers:
            raw_problems.append((("offers", i, "id"), f"duplicate offer id {o.id!r}"))
        offers[o.id] = Offer(o.id, o.name_fr, tuple(o.needs))

    def check_offers(entry, loc):
        for k, oid in enumerate(entry.offers):
            if oid not in offers:
                raw_problems.append(((*loc, "offers", k), f"unknown offer id {oid!r} (not listed under offers)"))
            elif oid in entry.offers[:k]:
                raw_problems.append(((*loc, "offers", k), f"offer {oid!r} listed twice"))

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(model.rules):
        loc = ("rules", i)
        if r.id in seen:
            raw_problems.append(((*loc, "id"), f"duplicate rule id {r.id!r} (already rules[{seen[r.id]}])"))
        seen.setdefault(r.id, i)
        check_offers(r, loc)
        rules.append(Rule(
            id=r.id, index=i, needs=frozenset(r.needs), tiers=frozenset(r.tiers),
            when=_compile_conditions(r.when, (*loc, "when"), raw_problems),
            when_any=_compile_conditions(r.when_any, (*loc, "when_any"), raw_problems),
            parcours=r.parcours, modality=r.modality, objective_fr=r.objective_fr,
            offers=tuple(r.offers), duration_months=r.duration_months, note_fr=r.note_fr,
        ))
    complements: list[Complement] = []
    seen_c: dict[str, int] = {}
    if len(model.complements) > MAX_COMPLEMENTS:
        raw_problems.append((("complements",), f"at most {MAX_COMPLEMENTS} complements are supported"))
    for i, c in enumerate(model.complements):
        loc = ("complements", i)
        if c.id in seen_c:
            raw_problems.append(((*loc, "id"), f"duplicate complement id {c.id!r} (already complements[{seen_c[c.id]}])"))
        seen_c.setdefault(c.id, i)
        check_offers(c, loc)
        if not c.when and not c.when_any:
            raw_problems.append((loc, "a complement needs a when or when_any barrier condition"))
        complements.append(Complement(
            id=c.id, index=i, needs=frozenset(c.needs), tiers=frozenset(c.tiers),
            when=_compile_conditions(c.when, (*loc, "when"), raw_problems),
            when_any=_compile_conditions(c.when_any, (*loc, "when_any"), raw_problems),
            offers=tuple(c.offers),
        ))
    covered: dict[tuple[str, str], int] = {}
    for r in rules:
        combos = r.combos()
        if combos and combos <= covered.keys():
            earlier = sorted({covered[c] for c in combos})
            raw_problems.append((("rules", r.index), f"rule {r.id!r} is unreachable: every need × tier it applies to is "
                                 f"already matched by an earlier rule without barrier conditions "
                                 f"({', '.join(f'rules[{k}]' for k in earlier)})"))
        if r.unconditional:
            for c in combos:
                covered.setdefault(c, r.index)
    for need in NEED_CODES:
        for tier in TIER_CODES:
            if (need, tier) not in covered:
                raw_problems.append((("rules",), f"uncovered need × tier combination {need} × {tier}: no rule "
                                     f"without barrier conditions (when / when_any) has need {need} and tier {tier}"))
    if raw_problems:
        problems = []
        for loc, msg in raw_problems:
            label, note = origins.entry(loc)
            problems.append((label, msg + note))
        _raise(problems, source)
    return Catalogue(version=model.version, source=source, offers=offers, rules=tuple(rules),
                     complements=tuple(complements), base_version=model.base_version)


def _load_uncached(path: Path) -> Catalogue:
    data = _read_yaml(path)
    extends = data.pop("extends", None)
    if extends is not None:
        if extends != "default":
            raise CatalogueError(f"{path}: extends: only 'default' (the packaged catalogue) can be extended, got {extends!r}")
        if path == PACKAGED_CATALOGUE:
            raise CatalogueError(f"{path}: extends: the packaged catalogue cannot extend itself")
        base = _read_yaml(PACKAGED_CATALOGUE)
        data, origins = _merge(base, data, PACKAGED_CATALOGUE, path)
    else:
        origins = _Origins(path)
        for section in _SECTIONS:
            items = data.get(section)
            n = len(items) if isinstance(items, list) else 0
            origins.labels[section] = [(f"{path}: {section}[{i}]", "") for i in range(n)]
    return _build(data, origins, path)


_CACHE: dict[str, tuple[tuple, Catalogue]] = {}
_LOCK = threading.Lock()


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (st.st_mtime_ns, st.st_size)


def catalogue_path() -> Path:
    """The catalogue used when none is given: ``$JALON_CATALOGUE`` or the packaged one."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else PACKAGED_CATALOGUE


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue (cached by path and modification time).

    ``path=None`` uses ``$JALON_CATALOGUE`` if set, else the packaged ``policy/catalogue.yaml``.
    Raises :class:`CatalogueError` naming the file, the entry and the rule broken.
    """
    from_env = path is None and bool(os.environ.get(ENV_VAR))
    resolved = Path(path).expanduser() if path is not None else catalogue_path()
    resolved = resolved.resolve()
    try:
        key = (_stamp(resolved), _stamp(PACKAGED_CATALOGUE))
    except FileNotFoundError:
        where = f" ({ENV_VAR} points to it)" if from_env else ""
        raise CatalogueError(f"{resolved}: no such catalogue file{where}") from None
    cached = _CACHE.get(str(resolved))
    if cached is not None and cached[0] == key:
        return cached[1]
    catalogue = _load_uncached(resolved)
    with _LOCK:
        _CACHE[str(resolved)] = (key, catalogue)
    return catalogue


# --------------------------------------------------------------------------- recommendation


@dataclass(frozen=True)
class Recommendation:
    """A model 1 suggestion for one person, to be confirmed or overridden by the advisor."""

    rule_id: str
    catalogue_version: str
    parcours: str
    parcours_label_fr: str
    modality: str
    modality_label_fr: str
    objective_fr: str
    offers: list[dict]
    duration_months: int
    milestone_date: date
    need: str
    tier: str
    need_label_fr: str = ""
    tier_label_fr: str = ""
    complement_ids: tuple[str, ...] = ()
    explanation_fr: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dictionary (dates as ISO text)."""
        return {
            "rule_id": self.rule_id,
            "catalogue_version": self.catalogue_version,
            "parcours": self.parcours,
            "parcours_label_fr": self.parcours_label_fr,
            "modality": self.modality,
            "modality_label_fr": self.modality_label_fr,
            "objective_fr": self.objective_fr,
            "offers": [dict(o) for o in self.offers],
            "duration_months": self.duration_months,
            "milestone_date": self.milestone_date.isoformat(),
            "need": self.need,
            "need_label_fr": self.need_label_fr,
            "tier": self.tier,
            "tier_label_fr": self.tier_label_fr,
            "complement_ids": list(self.complement_ids),
            "explanation_fr": self.explanation_fr,
        }


def _check_code(value: Any, codes: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in codes:
        raise ValueError(f"unknown {what} code {value!r}; expected one of {', '.join(codes)}")
    return value


def recommend(
    need: str,
    tier: str,
    profile: Mapping[str, Any] | None,
    decision_date: date,
    catalogue: Catalogue | None = None,
) -> Recommendation:
    """The first matching rule's suggestion for a person, with its milestone date.

    ``profile`` holds barrier fields (``housing``, ``health_limitation``…); a missing
    field or ``None`` never satisfies a barrier condition.
    """
    need = _check_code(need, NEED_CODES, "need")
    tier = _check_code(tier, TIER_CODES, "tier")
    if not isinstance(decision_date, date):
        raise TypeError(f"decision_date must be a date, got {type(decision_date).__name__}")
    if hasattr(decision_date, "date") and callable(decision_date.date):  # datetime / Timestamp
        decision_date = decision_date.date()
    cat = catalogue or load_catalogue()
    rule, used, comps = cat.match(need, tier, profile)
    offer_ids = cat.offer_ids(rule, [c for c, _ in comps])
    milestone = add_months(decision_date, rule.duration_months)
    text = (f"Suggestion de la règle « {rule.id} » (catalogue {cat.version}) : besoin principal "
            f"« {NEEDS[need]} », niveau {tier} ({TIERS[tier]})")
    if used:
        text += " ; freins pris en compte : " + " ; ".join(c.describe_fr(v) for c, v in used)
    text += f". {PARCOURS[rule.parcours].capitalize()}, modalité {MODALITIES[rule.modality]}, " \
            f"{rule.duration_months} mois."
    for comp, c_used in comps:
        added = [cat.offers[o].name_fr for o in comp.offers]
        text += f" Offre ajoutée « {' », « '.join(added)} » : " + " ; ".join(c.describe_fr(v) for c, v in c_used) + "."
    text += f" Jalon de réexamen le {milestone.strftime('%d/%m/%Y')}. Le conseiller décide et peut modifier cette suggestion."
    return Recommendation(
        rule_id=rule.id,
        catalogue_version=cat.version,
        parcours=rule.parcours,
        parcours_label_fr=PARCOURS[rule.parcours],
        modality=rule.modality,
        modality_label_fr=MODALITIES[rule.modality],
        objective_fr=rule.objective_fr,
        offers=[{"id": o, "name_fr": cat.offers[o].name_fr} for o in offer_ids],
        duration_months=rule.duration_months,
        milestone_date=milestone,
        need=need,
        tier=tier,
        need_label_fr=NEEDS[need],
        tier_label_fr=TIERS[tier],
        complement_ids=tuple(c.id for c, _ in comps),
        explanation_fr=text,
    )


# --------------------------------------------------------------------------- batch


def _code_index(series: pd.Series, codes: tuple[str, ...], column: str) -> np.ndarray:
    """Position of each value in ``codes`` (int8), raising on unknown or missing values."""
    values, uniques = pd.factorize(series, use_na_sentinel=True)
    lookup = np.full(len(uniques) + 1, -1, dtype=np.int8)
    bad = []
    for k, u in enumerate(uniques):
        if isinstance(u, str) and u in codes:
            lookup[k] = codes.index(u)
        else:
            bad.append(u)
    if bad:
        raise ValueError(f"column {column!r}: unknown code(s) {sorted(map(repr, bad))[:5]}; expected one of {', '.join(codes)}")
    out = lookup[values]
    if (out < 0).any():
        raise ValueError(f"column {column!r}: {int((out < 0).sum())} row(s) have no value")
    return out


def recommend_frame(
    frame: pd.DataFrame,
    need_col: str = "need",
    tier_col: str = "tier",
    decision_date: date | str | pd.Series | None = None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """:func:`recommend` for every row, vectorised (rules evaluated column-wise).

    ``decision_date`` is one date for all rows (default: today), a column name of
    ``frame`` or a Series aligned with it. Barrier columns absent from ``frame`` never
    match. Returns, on ``frame``'s index: ``rule_id``, ``parcours``, ``modality``,
    ``duration_months``, ``milestone_date`` (datetime64, day precision) and ``offers``
    (offer ids joined by ``;``).
    """
    cat = catalogue or load_catalogue()
    n = len(frame)
    for col in (need_col, tier_col):
        if col not in frame.columns:
            raise ValueError(f"recommend_frame: missing column {col!r}")
    combo = _code_index(frame[need_col], NEED_CODES, need_col).astype(np.int16) * len(TIER_CODES) \
        + _code_index(frame[tier_col], TIER_CODES, tier_col)

    factorized: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def cond_mask(c: Condition) -> np.ndarray:
        if c.field not in factorized:
            if c.field in frame.columns:
                codes, uniques = pd.factorize(frame[c.field], use_na_sentinel=True)
                factorized[c.field] = (codes, uniques)
            else:
                factorized[c.field] = None
        got = factorized[c.field]
        if got is None:
            return np.zeros(n, dtype=bool)
        codes, uniques = got
        table = np.fromiter((c.test(u) for u in uniques), dtype=bool, count=len(uniques))
        return np.append(table, False)[codes]

    def selector_mask(s: _Selector) -> np.ndarray:
        table = np.array([(nd, t) in s.combos() for nd in NEED_CODES for t in TIER_CODES], dtype=bool)
        mask = table[combo]
        for c in s.when:
            mask &= cond_mask(c)
        if s.when_any:
            any_mask = np.zeros(n, dtype=bool)
            for c in s.when_any:
                any_mask |= cond_mask(c)
            mask &= any_mask
        return mask

    rule_idx = np.full(n, -1, dtype=np.int32)
    for r in cat.rules:
        free = rule_idx < 0
        if not free.any():
            break
        rule_idx[free & selector_mask(r)] = r.index
    if (rule_idx < 0).any():  # pragma: no cover - guaranteed by the coverage check
        raise RuntimeError("recommend_frame: some rows matched no rule")

    bits = np.zeros(n, dtype=np.int64)
    for k, c in enumerate(cat.complements):
        bits |= selector_mask(c).astype(np.int64) << k
    key = (rule_idx.astype(np.int64) << len(cat.complements)) | bits
    uniq, inverse = np.unique(key, return_inverse=True)
    offer_strings = []
    for value in uniq:
        rule = cat.rules[int(value) >> len(cat.complements)]
        comps = [c for k, c in enumerate(cat.complements) if (int(value) >> k) & 1]
        offer_strings.append(";".join(cat.offer_ids(rule, comps)))
    offer_categories = list(dict.fromkeys(offer_strings))
    offer_codes = np.array([offer_categories.index(s) for s in offer_strings], dtype=np.int64)
    offers = pd.Categorical.from_codes(offer_codes[inverse.reshape(-1)], categories=offer_categories)

    durations = np.array([r.duration_months for r in cat.rules], dtype=np.int64)
    dur = durations[rule_idx]
    if decision_date is None or isinstance(decision_date, date):
        start = decision_date or date.today()
        if hasattr(start, "date") and callable(start.date):
            start = start.date()
        per_rule = np.array([np.datetime64(add_months(start, r.duration_months), "D") for r in cat.rules])
        milestone = per_rule[rule_idx]
    else:
        dates = frame[decision_date] if isinstance(decision_date, str) else pd.Series(decision_date, index=frame.index)
        days = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
        milestone = _add_months_array(days, dur)

    index = frame.index
    return pd.DataFrame({
        "rule_id": pd.Categorical.from_codes(rule_idx, categories=[r.id for r in cat.rules]),
        "parcours": pd.Categorical.from_codes(
            np.array([list(PARCOURS).index(r.parcours) for r in cat.rules])[rule_idx], categories=list(PARCOURS)),
        "modality": pd.Categorical.from_codes(
            np.array([list(MODALITIES).index(r.modality) for r in cat.rules])[rule_idx], categories=list(MODALITIES)),
        "duration_months": dur,
        "milestone_date": pd.Series(milestone, index=index).astype("datetime64[s]"),
        "offers": offers,
    }, index=index)
