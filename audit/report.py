"""The oversight report: how advisors use Jalon's suggestions, in French, for auditors and staff representatives.

It answers the staff representatives' question « Sera-t-elle automatique ? » with figures:
how often advisors override the suggestions (overall, by suggested need and tier, by agency),
why, whether suggestions flagged « à examiner » are overridden more often, how long advisors
take, and how many confirmations come too quickly to have been read (the automation-bias
signal of :data:`core.thresholds.QUICK_CONFIRMATION_SECONDS`). Every rate has its count and
its 95 % interval; a rate over fewer than :data:`core.thresholds.OVERSIGHT_MIN_DECISIONS`
decisions is marked « effectif faible ».

Advisors are not named: individual figures are for auditors (``GET /audit/oversight``); the
report shows how advisors are spread over bands of each rate. The report is one
self-contained HTML file (inline style and SVG charts, nothing loaded from elsewhere).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from audit.charts import Bar, bar_chart
from core import french
from core.thresholds import OVERSIGHT_MIN_DECISIONS, QUICK_CONFIRMATION_SECONDS
from features.schema import NEEDS, TIERS
from policy import reason_label_fr
from records import DecisionStore, OversightFigures, oversight_figures
from records.oversight import UNKNOWN_KEY, Rate, Share

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Bands of a per-advisor rate, for the distribution the report shows instead of names.
ADVISOR_BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.10, f"moins de {french.percent(0.10)}"),
    (0.10, 0.25, f"de {french.percent(0.10)} à {french.percent(0.25)}"),
    (0.25, 0.50, f"de {french.percent(0.25)} à {french.percent(0.50)}"),
    (0.50, 1.01, f"{french.percent(0.50)} ou plus"),
)

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined, trim_blocks=True
)


def _pct(p: float | None) -> str:
    return french.percent(p, 1) if p is not None else "—"


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "—"
    return f"{french.percent(low, 1)} à {french.percent(high, 1)}"


def _rate_row(label: str, rate: Rate) -> dict[str, Any]:
    ci = rate.override_rate_ci
    return {
        "label": label,
        "decisions": french.number(rate.decisions),
        "overrides": french.number(rate.overrides),
        "rate": _pct(rate.override_rate),
        "interval": _interval(ci.low if ci else None, ci.high if ci else None),
        "faint": 0 < rate.decisions < OVERSIGHT_MIN_DECISIONS,
        "bar": Bar(
            label,
            rate.override_rate,
            ci.low if ci else None,
            ci.high if ci else None,
            faint=rate.decisions < OVERSIGHT_MIN_DECISIONS,
        ),
    }


def _share_text(share: Share) -> dict[str, str]:
    ci = share.share_ci
    return {
        "count": french.number(share.count),
        "total": french.number(share.total),
        "share": _pct(share.share),
        "interval": _interval(ci.low if ci else None, ci.high if ci else None),
    }


def _group(title: str, rates: dict[str, Rate], labels: dict[str, str]) -> dict[str, Any]:
    rows = [_rate_row(labels.get(key, key if key != UNKNOWN_KEY else "non renseigné"), r) for key, r in rates.items()]
    return {"title": title, "rows": rows, "chart": bar_chart(title, [r["bar"] for r in rows])}


def _bands(values: list[float]) -> list[dict[str, str]]:
    return [
        {"band": label, "advisors": french.number(sum(low <= v < high for v in values))}
        for low, high, label in ADVISOR_BANDS
    ]


def _advisors(figures: OversightFigures) -> dict[str, Any]:
    counted = {a: r for a, r in figures.by_advisor.items() if r.decisions >= OVERSIGHT_MIN_DECISIONS}
    quick = {
        a: s
        for a, s in figures.quick_confirmations.by_advisor.items()
        if s.total >= OVERSIGHT_MIN_DECISIONS and s.share is not None
    }
    return {
        "all": french.number(len(figures.by_advisor)),
        "counted": french.number(len(counted)),
        "override_bands": _bands([r.override_rate for r in counted.values() if r.override_rate is not None]),
        "quick_counted": french.number(len(quick)),
        "quick_bands": _bands([s.share for s in quick.values() if s.share is not None]),
    }


def _delay(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{french.number(round(seconds))}{french.NNBSP}s"
    if seconds < 2 * 3600:
        return f"{french.number(round(seconds / 60))}{french.NNBSP}min"
    if seconds < 2 * 86400:
        return f"{french.number(seconds / 3600, 1)}{french.NNBSP}h"
    return f"{french.number(seconds / 86400, 1)}{french.NNBSP}jours"


def report_view(figures: OversightFigures, generated: dt.datetime) -> dict[str, Any]:
    """What the template shows, formatted in French."""
    ci = figures.override_rate_ci
    flagged = _rate_row("Suggestions « à examiner »", figures.override_rate_flagged)
    unflagged = _rate_row("Autres suggestions", figures.override_rate_not_flagged)
    reasons = [(reason_label_fr(code), count) for code, count in figures.reasons.items() if count]
    delays = figures.time_to_decision_seconds
    return {
        "period": (
            f"du {french.date(figures.since)} au {french.date(figures.until or generated)}"
            if figures.since
            else f"jusqu'au {french.date(figures.until or generated)}"
        ),
        "generated": french.date(generated),
        "suggestions": french.number(figures.suggestions),
        "undecided": french.number(figures.undecided),
        "decisions": french.number(figures.decisions),
        "overrides": french.number(figures.overrides),
        "override_rate": _pct(figures.override_rate),
        "override_interval": _interval(ci.low if ci else None, ci.high if ci else None),
        "few": 0 < figures.decisions < OVERSIGHT_MIN_DECISIONS,
        "min_decisions": OVERSIGHT_MIN_DECISIONS,
        "revisions": _share_text(figures.revisions),
        "flagged": _share_text(figures.flagged),
        "flag_rows": [flagged, unflagged],
        "flag_chart": bar_chart("Taux de modification selon le signalement", [flagged["bar"], unflagged["bar"]]),
        "groups": [
            _group("Par besoin suggéré", figures.by_need, dict(NEEDS)),
            _group("Par palier suggéré", figures.by_tier, {code: f"{code} — {label}" for code, label in TIERS.items()}),
            _group("Par agence", figures.by_agency, {}),
        ],
        "reasons": [{"label": label, "count": french.number(count)} for label, count in reasons],
        "reason_chart": bar_chart(
            "Motifs des modifications", [Bar(label, float(count)) for label, count in reasons], percent=False
        ),
        "delays": {key: _delay(getattr(delays, key)) for key in ("median", "p25", "p75", "p90")},
        "delay_count": french.number(delays.decisions),
        "quick": _share_text(figures.quick_confirmations.overall),
        "quick_seconds": QUICK_CONFIRMATION_SECONDS,
        "on_behalf": french.number(figures.on_behalf),
        "advisors": _advisors(figures),
        "confidence": french.percent(figures.confidence),
    }


def oversight_html(figures: OversightFigures, generated: dt.datetime | None = None) -> str:
    """The report as one self-contained HTML page."""
    generated = generated or dt.datetime.now(dt.UTC)
    return _env.get_template("oversight.html.j2").render(r=report_view(figures, generated))


def write_oversight_report(
    store: DecisionStore, out: Path, since: dt.date | None = None, until: dt.date | None = None
) -> OversightFigures:
    """Compute the figures from ``store`` and write the report to ``out``; return the figures."""
    figures = oversight_figures(store, since=since, until=until)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(oversight_html(figures), encoding="utf-8")
    return figures
