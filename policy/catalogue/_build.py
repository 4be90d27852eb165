"""From a validated catalogue structure to the compiled :class:`Catalogue`, checking what
pydantic cannot see field by field: ids that must be unique and known, barrier
conditions that must fit their field, rules that can never match, and the guarantee
that every need × tier has a rule without barrier conditions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from features.schema import FIELDS_BY_NAME, NEED_CODES, TIER_CODES
from policy._validation import validation_problems
from policy.catalogue._entries import BARRIER_FIELDS, Catalogue, Complement, Condition, Offer, Rule
from policy.catalogue._problems import Origins, raise_problems
from policy.catalogue._schema import CatalogueModel, _SelectorModel

#: ``recommend_frame`` groups rows by an int64 key: one bit per complement, the rule index above.
MAX_COMPLEMENTS = 48


def _is_number_within(x: Any, low: float | None, high: float | None) -> bool:
    return (
        isinstance(x, (int, float))
        and not isinstance(x, bool)
        and (low is None or x >= low)
        and (high is None or x <= high)
    )


def _numeric_condition(name: str, kind: str, raw: Any) -> Condition | str:
    """The condition on a numeric field (values or a ``{min, max}`` range), or what is wrong."""
    f = FIELDS_BY_NAME[name]
    low, high = f.minimum, f.maximum
    if isinstance(raw, dict):
        lo, hi = raw.get("min"), raw.get("max")
        bad_bound = any(x is not None and not _is_number_within(x, low, high) for x in (lo, hi))
        if set(raw) - {"min", "max"} or not raw or bad_bound or (lo is not None and hi is not None and lo > hi):
            return f"{name} range must be {{min: x, max: y}} with numbers between {low:g} and {high:g}, got {raw!r}"
        return Condition(name, kind, frozenset(), None if lo is None else float(lo), None if hi is None else float(hi))
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(_is_number_within(v, low, high) for v in values):
        return f"{name} must be a number, a list of numbers or {{min, max}} between {low:g} and {high:g}, got {raw!r}"
    return Condition(name, kind, frozenset(float(v) for v in values))


def _condition(name: str, raw: Any) -> Condition | str:
    """The condition ``name: raw`` of a ``when`` / ``when_any`` mapping, or what is wrong with it."""
    if name not in BARRIER_FIELDS:
        return f"unknown barrier field {name!r}; expected one of {', '.join(BARRIER_FIELDS)}"
    f = FIELDS_BY_NAME[name]
    if f.kind == "category":
        values = raw if isinstance(raw, list) else [raw]
        bad = [v for v in values if not isinstance(v, str) or v not in (f.codes or ())]
        if not values or bad:
            return f"unknown code {bad[0] if bad else raw!r} for {name}; expected one of {', '.join(f.codes or ())}"
        return Condition(name, f.kind, frozenset(values))
    if f.kind == "boolean":
        if not isinstance(raw, bool):
            return f"{name} must be tested against true or false, got {raw!r}"
        return Condition(name, f.kind, frozenset([raw]))
    return _numeric_condition(name, f.kind, raw)


def _compile_conditions(spec: dict[str, Any] | None, loc: tuple, problems: list) -> tuple[Condition, ...]:
    out = []
    for name, raw in (spec or {}).items():
        compiled = _condition(name, raw)
        if isinstance(compiled, str):
            problems.append(((*loc, name), compiled))
        else:
            out.append(compiled)
    return tuple(out)


def build_catalogue(data: dict, origins: Origins, source: Path) -> Catalogue:
    try:
        model = CatalogueModel.model_validate(data)
    except ValidationError as exc:
        problems = []
        for loc, msg in validation_problems(exc):
            label, note = origins.entry(loc)
            problems.append((label, msg + note))
        raise_problems(problems, source)
    raw_problems: list[tuple[tuple, str]] = []
    offers: dict[str, Offer] = {}
    for i, o in enumerate(model.offers):
        if o.id in offers:
            raw_problems.append((("offers", i, "id"), f"duplicate offer id {o.id!r}"))
        offers[o.id] = Offer(o.id, o.name_fr, tuple(o.needs))

    def check_offers(entry: _SelectorModel, loc: tuple[str | int, ...]) -> None:
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
        rules.append(
            Rule(
                id=r.id,
                index=i,
                needs=frozenset(r.needs),
                tiers=frozenset(r.tiers),
                when=_compile_conditions(r.when, (*loc, "when"), raw_problems),
                when_any=_compile_conditions(r.when_any, (*loc, "when_any"), raw_problems),
                parcours=r.parcours,
                modality=r.modality,
                objective_fr=r.objective_fr,
                offers=tuple(r.offers),
                duration_months=r.duration_months,
                note_fr=r.note_fr,
            )
        )
    complements: list[Complement] = []
    seen_c: dict[str, int] = {}
    if len(model.complements) > MAX_COMPLEMENTS:
        raw_problems.append((("complements",), f"at most {MAX_COMPLEMENTS} complements are supported"))
    for i, c in enumerate(model.complements):
        loc = ("complements", i)
        if c.id in seen_c:
            raw_problems.append(
                ((*loc, "id"), f"duplicate complement id {c.id!r} (already complements[{seen_c[c.id]}])")
            )
        seen_c.setdefault(c.id, i)
        check_offers(c, loc)
        if not c.when and not c.when_any:
            raw_problems.append((loc, "a complement needs a when or when_any barrier condition"))
        complements.append(
            Complement(
                id=c.id,
                index=i,
                needs=frozenset(c.needs),
                tiers=frozenset(c.tiers),
                when=_compile_conditions(c.when, (*loc, "when"), raw_problems),
                when_any=_compile_conditions(c.when_any, (*loc, "when_any"), raw_problems),
                offers=tuple(c.offers),
            )
        )
    covered: dict[tuple[str, str], int] = {}
    for rule in rules:
        combos = rule.combos()
        if combos and combos <= covered.keys():
            earlier = sorted({covered[combo] for combo in combos})
            raw_problems.append(
                (
                    ("rules", rule.index),
                    f"rule {rule.id!r} is unreachable: every need × tier it applies to is "
                    f"already matched by an earlier rule without barrier conditions "
                    f"({', '.join(f'rules[{k}]' for k in earlier)})",
                )
            )
        if rule.unconditional:
            for combo in combos:
                covered.setdefault(combo, rule.index)
    for need in NEED_CODES:
        for tier in TIER_CODES:
            if (need, tier) not in covered:
                raw_problems.append(
                    (
                        ("rules",),
                        f"uncovered need × tier combination {need} × {tier}: no rule "
                        f"without barrier conditions (when / when_any) has need {need} and tier {tier}",
                    )
                )
    if raw_problems:
        problems = []
        for loc, msg in raw_problems:
            label, note = origins.entry(loc)
            problems.append((label, msg + note))
        raise_problems(problems, source)
    return Catalogue(
        version=model.version,
        source=source,
        offers=offers,
        rules=tuple(rules),
        complements=tuple(complements),
        base_version=model.base_version,
    )
