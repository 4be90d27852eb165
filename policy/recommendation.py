"""Model 1 — recommendation by primary need: parcours, modality, objective, offers, milestone.

The first rule of the catalogue matching a person's need, tier and barriers gives the
suggestion, with the complements whose barrier conditions hold; the milestone (jalon
« corde de rappel ») ends the rule's duration. The advisor decides and may override it.
:func:`recommend` serves one person with a French explanation; :func:`recommend_frame`
does the same for a whole table, column-wise. See ``docs/policy.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd

from core import french
from features.schema import NEED_CODES, NEEDS, TIER_CODES, TIERS
from models.suggestion import Offer, Recommendation, TierCode
from policy.catalogue import MODALITIES, PARCOURS, Catalogue, Condition, Selector, check_code, load_catalogue
from policy.dates import add_months, add_months_array


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
    need = check_code(need, NEED_CODES, "need")
    tier = check_code(tier, TIER_CODES, "tier")
    if not isinstance(decision_date, date):
        raise TypeError(f"decision_date must be a date, got {type(decision_date).__name__}")
    if hasattr(decision_date, "date") and callable(decision_date.date):  # datetime / Timestamp
        decision_date = decision_date.date()
    cat = catalogue or load_catalogue()
    rule, used, comps = cat.match(need, tier, profile)
    offer_ids = cat.offer_ids(rule, [c for c, _ in comps])
    milestone = add_months(decision_date, rule.duration_months)
    text = (
        f"Suggestion de la règle « {rule.id} » (catalogue {cat.version}) : besoin principal "
        f"« {NEEDS[need]} », niveau {tier} ({TIERS[tier]})"
    )
    if used:
        text += " ; freins pris en compte : " + " ; ".join(c.describe_fr(v) for c, v in used)
    text += (
        f". {PARCOURS[rule.parcours].capitalize()}, modalité {MODALITIES[rule.modality]}, "
        f"{french.number(rule.duration_months)} mois."
    )
    for comp, c_used in comps:
        added = [cat.offers[o].name_fr for o in comp.offers]
        text += f" Offre ajoutée « {' », « '.join(added)} » : " + " ; ".join(c.describe_fr(v) for c, v in c_used) + "."
    text += f" Jalon de réexamen le {french.date(milestone)}. Le conseiller décide et peut modifier cette suggestion."
    return Recommendation(
        rule_id=rule.id,
        catalogue_version=cat.version,
        parcours=rule.parcours,
        parcours_label_fr=PARCOURS[rule.parcours],
        modality=rule.modality,
        modality_label_fr=MODALITIES[rule.modality],
        objective_fr=rule.objective_fr,
        offers=[Offer(id=o, name_fr=cat.offers[o].name_fr) for o in offer_ids],
        duration_months=rule.duration_months,
        milestone_date=milestone,
        need=need,
        tier=cast(TierCode, tier),  # checked against TIER_CODES above
        need_label_fr=NEEDS[need],
        tier_label_fr=TIERS[tier],
        complement_ids=tuple(c.id for c, _ in comps),
        explanation_fr=text,
    )


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
        raise ValueError(
            f"column {column!r}: unknown code(s) {sorted(map(repr, bad))[:5]}; expected one of {', '.join(codes)}"
        )
    out: np.ndarray = lookup[values]
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
    combo = _code_index(frame[need_col], NEED_CODES, need_col).astype(np.int16) * len(TIER_CODES) + _code_index(
        frame[tier_col], TIER_CODES, tier_col
    )

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
        mask: np.ndarray = np.append(table, False)[codes]
        return mask

    def selector_mask(s: Selector) -> np.ndarray:
        table = np.array([(nd, t) in s.combos() for nd in NEED_CODES for t in TIER_CODES], dtype=bool)
        mask: np.ndarray = table[combo]
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
        milestone = add_months_array(days, dur)

    index = frame.index
    return pd.DataFrame(
        {
            "rule_id": pd.Categorical.from_codes(rule_idx, categories=[r.id for r in cat.rules]),
            "parcours": pd.Categorical.from_codes(
                np.array([list(PARCOURS).index(r.parcours) for r in cat.rules])[rule_idx], categories=list(PARCOURS)
            ),
            "modality": pd.Categorical.from_codes(
                np.array([list(MODALITIES).index(r.modality) for r in cat.rules])[rule_idx], categories=list(MODALITIES)
            ),
            "duration_months": dur,
            "milestone_date": pd.Series(milestone, index=index).astype("datetime64[s]"),
            "offers": offers,
        },
        index=index,
    )
