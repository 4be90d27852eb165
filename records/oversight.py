"""The oversight figures: how advisors use the suggestions, with the uncertainty of each rate.

Computed from the store (SQLite or PostgreSQL) over the suggestions made in a date range
(:class:`~records.audit.AuditFilter`'s ``since`` / ``until``, UTC days, both included); each
decided suggestion counts once.

* **Override rate**: the share of decided suggestions whose decision, as finally decided (the
  latest of the chain), is an override; overall and by suggested need, suggested tier,
  agency and advisor (the advisor the decision belongs to).
* **Revision rate**: the share of decided suggestions whose first decision was revised.
* **Flagged share**: the share of decided suggestions the model flagged « à examiner », and the
  override rate among flagged and among unflagged ones (advisors should override the flagged
  ones more often; equal rates suggest the flag is not read).
* **Time to decision**: from the suggestion to its first decision (median, quartiles, 90th centile).
* **Quick confirmations** (an automation-bias signal): among first decisions that confirm, the
  share recorded less than ``QUICK_CONFIRMATION_SECONDS`` after the suggestion (see
  :mod:`core.thresholds` for why that threshold), overall and by advisor.
* **Reasons**: the coded reasons of the overrides (``UNCODED`` for overrides recorded before
  reasons were coded), and how many decisions an admin recorded for an advisor.

Every rate comes with its count, its denominator and a Wilson interval (:mod:`core.stats`);
``tests/records/test_oversight.py`` plants known rates in a store and reads them back exactly.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from core.stats import proportion
from core.thresholds import OVERSIGHT_CONFIDENCE, QUICK_CONFIRMATION_SECONDS
from features.schema import NEED_CODES, TIER_CODES
from policy.override_reasons import OVERRIDE_REASON_CODES, UNCODED_REASON
from records.audit import AuditFilter, AuditRow, iter_rows
from records.store import UNKNOWN_NEED, DecisionStore

__all__ = [
    "UNKNOWN_KEY",
    "Delays",
    "Interval",
    "OversightFigures",
    "QuickConfirmations",
    "Rate",
    "Share",
    "figures_from_rows",
    "oversight_figures",
]

#: The key of a group whose value is missing (a model without tier, a suggestion without agency).
UNKNOWN_KEY = UNKNOWN_NEED


class _Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interval(_Figure):
    """A confidence interval (Wilson score, at the figures' ``confidence``)."""

    low: float
    high: float


class Rate(_Figure):
    """Override rate of a group of decided suggestions."""

    decisions: int
    overrides: int
    override_rate: float | None = Field(description="overrides / decisions (null without decisions)")
    override_rate_ci: Interval | None


class Share(_Figure):
    """``count`` out of ``total``, with its interval."""

    count: int
    total: int
    share: float | None
    share_ci: Interval | None


class Delays(_Figure):
    """Seconds from a suggestion to its first decision."""

    decisions: int
    median: float | None
    p25: float | None
    p75: float | None
    p90: float | None


class QuickConfirmations(_Figure):
    """Confirmations recorded within ``threshold_seconds`` of the suggestion, among first decisions that confirm."""

    threshold_seconds: int
    overall: Share
    by_advisor: dict[str, Share]


class OversightFigures(_Figure):
    """``GET /audit/oversight`` and the oversight report."""

    since: dt.date | None
    until: dt.date | None
    confidence: float = Field(description="confidence level of every interval")
    suggestions: int = Field(description="suggestions made in the period")
    undecided: int = Field(description="of which without any decision yet")
    decisions: int = Field(description="decided suggestions (each counted once, as finally decided)")
    overrides: int
    override_rate: float | None
    override_rate_ci: Interval | None
    by_need: dict[str, Rate] = Field(description="by the need the model suggested")
    by_tier: dict[str, Rate] = Field(description="by the tier the model suggested")
    by_agency: dict[str, Rate]
    by_advisor: dict[str, Rate] = Field(description="by the advisor the decision belongs to")
    revisions: Share = Field(description="decided suggestions whose first decision was revised")
    flagged: Share = Field(description="decided suggestions the model flagged « à examiner »")
    override_rate_flagged: Rate
    override_rate_not_flagged: Rate
    time_to_decision_seconds: Delays
    quick_confirmations: QuickConfirmations
    reasons: dict[str, int] = Field(description="overrides by coded reason (UNCODED: recorded before codes)")
    on_behalf: int = Field(description="decisions an admin recorded on an advisor's behalf")


@dataclass
class _Tally:
    decisions: int = 0
    overrides: int = 0

    def add(self, override: bool) -> None:
        self.decisions += 1
        self.overrides += override

    def rate(self, confidence: float) -> Rate:
        p = proportion(self.overrides, self.decisions, confidence)
        return Rate(
            decisions=self.decisions,
            overrides=self.overrides,
            override_rate=p.rate,
            override_rate_ci=_interval(p.low, p.high),
        )


@dataclass
class _Groups:
    tallies: dict[str, _Tally] = field(default_factory=dict)

    def add(self, key: str, override: bool) -> None:
        self.tallies.setdefault(key, _Tally()).add(override)

    def rates(self, confidence: float, keys: Iterable[str] = ()) -> dict[str, Rate]:
        """Each group's rate: the ``keys`` first, in their order (zeros when absent), then the others sorted."""
        first = {key: i for i, key in enumerate(keys)}
        for key in first:
            self.tallies.setdefault(key, _Tally())
        ordered = sorted(self.tallies, key=lambda key: (first.get(key, len(first)), key))
        return {key: self.tallies[key].rate(confidence) for key in ordered}


def _interval(low: float | None, high: float | None) -> Interval | None:
    return None if low is None or high is None else Interval(low=low, high=high)


def _share(count: int, total: int, confidence: float) -> Share:
    p = proportion(count, total, confidence)
    return Share(count=count, total=total, share=p.rate, share_ci=_interval(p.low, p.high))


def _delays(values: list[float]) -> Delays:
    if not values:
        return Delays(decisions=0, median=None, p25=None, p75=None, p90=None)
    if len(values) == 1:
        return Delays(decisions=1, median=values[0], p25=values[0], p75=values[0], p90=values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return Delays(decisions=len(values), median=statistics.median(values), p25=cuts[24], p75=cuts[74], p90=cuts[89])


def figures_from_rows(
    rows: Iterable[AuditRow],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    quick_seconds: int = QUICK_CONFIRMATION_SECONDS,
    confidence: float = OVERSIGHT_CONFIDENCE,
) -> OversightFigures:
    """The figures over audit rows (each suggestion once, as :func:`records.audit.iter_rows` gives them)."""
    total = undecided = revised = flagged = on_behalf = 0
    overall, flagged_tally, unflagged_tally = _Tally(), _Tally(), _Tally()
    by_need, by_tier, by_agency, by_advisor = _Groups(), _Groups(), _Groups(), _Groups()
    delays: list[float] = []
    confirmations: Counter[str] = Counter()
    quick: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for row in rows:
        total += 1
        if row.latest_action is None:
            undecided += 1
            continue
        override = row.latest_action == "override"
        overall.add(override)
        by_need.add(row.suggested_need or UNKNOWN_KEY, override)
        by_tier.add(row.suggested_tier or UNKNOWN_KEY, override)
        by_agency.add(row.agency_id or UNKNOWN_KEY, override)
        by_advisor.add(row.decided_by or UNKNOWN_KEY, override)
        (flagged_tally if row.needs_review else unflagged_tally).add(override)
        flagged += row.needs_review
        revised += row.revised
        on_behalf += row.on_behalf_of is not None
        if override:
            reasons[row.reason_code or UNCODED_REASON] += 1
        if row.seconds_to_first_decision is not None:
            delays.append(row.seconds_to_first_decision)
            if row.first_action == "confirm":
                advisor = row.decided_by or UNKNOWN_KEY
                confirmations[advisor] += 1
                quick[advisor] += row.seconds_to_first_decision < quick_seconds
    decided = overall.decisions
    overall_rate = overall.rate(confidence)
    return OversightFigures(
        since=since,
        until=until,
        confidence=confidence,
        suggestions=total,
        undecided=undecided,
        decisions=decided,
        overrides=overall.overrides,
        override_rate=overall_rate.override_rate,
        override_rate_ci=overall_rate.override_rate_ci,
        by_need=by_need.rates(confidence, NEED_CODES),
        by_tier=by_tier.rates(confidence, TIER_CODES),
        by_agency=by_agency.rates(confidence),
        by_advisor=by_advisor.rates(confidence),
        revisions=_share(revised, decided, confidence),
        flagged=_share(flagged, decided, confidence),
        override_rate_flagged=flagged_tally.rate(confidence),
        override_rate_not_flagged=unflagged_tally.rate(confidence),
        time_to_decision_seconds=_delays(delays),
        quick_confirmations=QuickConfirmations(
            threshold_seconds=quick_seconds,
            overall=_share(sum(quick.values()), sum(confirmations.values()), confidence),
            by_advisor={a: _share(quick[a], confirmations[a], confidence) for a in sorted(confirmations)},
        ),
        reasons={code: reasons[code] for code in (*OVERRIDE_REASON_CODES, UNCODED_REASON, *sorted(reasons))},
        on_behalf=on_behalf,
    )


def oversight_figures(
    store: DecisionStore,
    since: dt.date | None = None,
    until: dt.date | None = None,
    *,
    quick_seconds: int = QUICK_CONFIRMATION_SECONDS,
    confidence: float = OVERSIGHT_CONFIDENCE,
) -> OversightFigures:
    """The oversight figures of the suggestions made from ``since`` to ``until`` (UTC days, included)."""
    rows = iter_rows(store, AuditFilter(since=since, until=until))
    return figures_from_rows(rows, since=since, until=until, quick_seconds=quick_seconds, confidence=confidence)
