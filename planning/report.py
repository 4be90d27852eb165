"""The plan in French for the direction and the staff representatives: HTML with charts, CSV beside it.

``write_plan(result, "plan.html")`` writes ``plan.html`` (self-contained: inline CSS and SVG,
no script, no network), ``plan.csv`` (one row per scenario, agency and month; the columns of
:data:`planning.plan.REQUIRED_COLUMNS` first) and ``plan.summary.json`` (the headline figures
and the settings, for tools).
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core import french
from planning import charts
from planning.plan import PlanResult
from policy.allocation import TRACK_LABELS_FR
from policy.catalogue import MODALITIES
from policy.staffing import HELD_BY_SCENARIO, NORM_KEYS, ROLE_LABELS_FR, SCENARIO_LABELS_FR

_TEMPLATES = Path(__file__).resolve().parent / "templates"
KEY_LABELS_FR: dict[str, str] = {
    **{k: french.quoted(MODALITIES[k]) for k in ("SUIVI", "GUIDE", "RENFORCE", "GLOBAL")},
    "INTENSIVE": "accompagnement intensif",
    "EXTERNAL": "prestataire",
    "LARGE_PORTFOLIO": "portefeuille volumineux",
    "UNALLOCATED": "liste d'attente",
}
SHORT_KEY_LABELS_FR: dict[str, str] = {
    "INTENSIVE": "intensif",
    "GLOBAL": "global",
    "RENFORCE": "renforcé",
    "GUIDE": "guidé",
    "SUIVI": "suivi",
    "LARGE_PORTFOLIO": "volumineux",
}
SHORT_SCENARIO_FR = {"current": "Actuelle", "model1": "Modèle 1", "model2": "Modèle 2"}


def typography_fr(text: str) -> str:
    """French spacing in texts read from files: narrow no-break spaces in numbers and before
    %, no-break spaces inside « »."""
    text = re.sub(r"(?<=\d) (?=\d{3}\b)", french.NNBSP, text)
    text = re.sub(r" (?=[%;:!?])", french.NNBSP, text)
    text = text.replace("« ", "«" + french.NBSP).replace(" »", french.NBSP + "»")
    return text


def _num(value: Any, decimals: int = 0, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return french.number(round(float(value), decimals), decimals, signed=signed)


def _gap_fr(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    if abs(value) < 0.05:
        return "à l'équilibre"
    word = "manque" if value > 0 else "excédent"
    return f"{word} de {_num(abs(value), 1)} ETP"


def _headline_rows(result: PlanResult) -> list[dict[str, Any]]:
    table = result.headline()
    rows = []
    for r in table.to_dict("records"):
        scenario = str(r["scenario"])
        held = HELD_BY_SCENARIO[scenario]
        portfolios = [
            f"{KEY_LABELS_FR[k]} {_num(r.get(f'ptf_{k}'))}" for k in held if math.isfinite(r.get(f"ptf_{k}", math.nan))
        ]
        rows.append(
            {
                "scenario": scenario,
                "label": SCENARIO_LABELS_FR[scenario],
                "intensive": _num(r.get("ptf_INTENSIVE")) if scenario == "model2" else "sans objet",
                "large": _num(r.get(f"ptf_{held[-1]}")),
                "large_label": KEY_LABELS_FR[held[-1]],
                "portfolios": f"{french.NNBSP}; ".join(portfolios),
                "cde": _num(r["ptf_cde"]),
                "reviews_week": _num(r["reviews_per_advisor_week"], 1),
                "gap": _gap_fr(r["fte_gap"]),
                "gap_value": r["fte_gap"],
                "agencies_short": r["agencies_short"],
                "reexamined": french.percent(r["reexamined_6m_share"], 1),
                "backlog": _num(r["review_backlog_last_month"]),
                "wait": _num(r["intensive_wait_median_months"], 1) + " mois"
                if math.isfinite(r["intensive_wait_median_months"])
                else "sans objet",
                "ever": french.percent(r["ever_intensive_share_last_month"], 1)
                if math.isfinite(r["ever_intensive_share_last_month"])
                else "sans objet",
                "waiting": _num(r["waiting_list"]),
                "over_cap": _num(r["max_over_cap_factor"], 2),
                "hours_needed": _num(r["hours_needed"]),
                "hours_available": _num(r["hours_available"]),
            }
        )
    return rows


def _monthly(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per scenario, the sums over agencies of each month (shares kept as people-weighted sums)."""
    out = {}
    for scenario, part in frame.groupby("scenario", sort=False):
        part = part.assign(
            reexamined_people=part["reexamined_6m_share"] * part["people"],
            eligible=part["intensive_queue"] + part["intensive"],
        )
        part = part.assign(ever_people=part["ever_intensive_share"].fillna(0) * part["eligible"])
        columns = ["fte_gap", "reviews_due", "fte_portfolio", "people", "reexamined_people", "eligible", "ever_people"]
        out[str(scenario)] = part.groupby("month")[columns].sum().sort_index()
    return out


def _charts(result: PlanResult) -> list[str]:
    frame = result.frame
    x_labels = [f"{d[5:7]}/{d[:4]}" for d in frame.drop_duplicates("month").sort_values("month")["month_start"]]
    monthly = _monthly(frame)
    names = {s: SHORT_SCENARIO_FR[s] for s in monthly}

    def series(column: Any) -> dict[str, list[float]]:
        return {names[s]: [float(v) for v in column(m)] for s, m in monthly.items()}

    percent = lambda v: french.number(v, 0) + french.NNBSP + "%"  # noqa: E731
    out = [
        charts.line_chart(
            "Écart d'ETP, toutes agences (+\u202f: il manque des conseillers)",
            x_labels,
            series(lambda m: m["fte_gap"]),
            y_label="ETP manquants (+) ou en excédent (−)",
            fmt=lambda v: french.number(v, 0),
            zero_line=True,
        ),
        charts.line_chart(
            "Examens dus par conseiller et par semaine",
            x_labels,
            series(lambda m: m["reviews_due"] / m["fte_portfolio"] / (52 / 12)),
            y_label="examens par conseiller et par semaine",
            fmt=lambda v: french.number(v, 1),
        ),
        charts.line_chart(
            "Part des personnes réexaminées dans les six mois",
            x_labels,
            series(lambda m: m["reexamined_people"] / m["people"] * 100),
            y_label="% des personnes inscrites",
            fmt=percent,
            y_range=(0.0, 100.0),
        ),
    ]
    if "model2" in monthly:
        m = monthly["model2"]
        out.append(
            charts.line_chart(
                "Modèle 2\u202f: éligibles ayant eu l'intensif au moins une fois",
                x_labels,
                {names["model2"]: [float(v) for v in m["ever_people"] / m["eligible"] * 100]},
                y_label="% des personnes éligibles inscrites",
                fmt=percent,
                y_range=(0.0, 100.0),
            )
        )
    head = result.headline().set_index("scenario")
    keys = ["INTENSIVE", "GLOBAL", "RENFORCE", "GUIDE", "SUIVI", "LARGE_PORTFOLIO"]
    bars = {names[str(s)]: [float(head.loc[s].get(f"ptf_{k}", np.nan)) for k in keys] for s in head.index}
    out.append(
        charts.bar_chart(
            "Personnes par conseiller (ETP), moyenne sur l'horizon",
            [SHORT_KEY_LABELS_FR[k] for k in keys],
            bars,
            y_label="personnes par conseiller",
            caps=[result.staffing.norms[k].cap for k in keys],
        )
    )
    return out


def _agency_table(result: PlanResult) -> list[dict[str, Any]]:
    frame = result.frame
    means = frame.groupby(["agency_id", "scenario"], sort=False)["fte_gap"].mean().unstack("scenario")
    means = means[[s for s in result.settings["scenarios"] if s in means.columns]]  # the report's column order
    people = frame[frame["month"] == 1].groupby("agency_id")["people"].first()
    order = means.max(axis=1).sort_values(ascending=False).index[:10]
    return [
        {
            "agency": a,
            "people": _num(people.get(a)),
            "gaps": [_num(means.loc[a, s], 1, signed=True) for s in means.columns],
        }
        for a in order
    ]


def _norm_rows(result: PlanResult) -> list[dict[str, str]]:
    out = []
    for k in NORM_KEYS:
        n = result.staffing.norms[k]
        out.append(
            {
                "label": KEY_LABELS_FR[k],
                "contacts": _num(n.contacts_per_month, 2),
                "minutes": _num(n.minutes_per_contact),
                "review": _num(n.review_minutes),
                "cap": _num(n.cap) if n.cap is not None else "—",
                "hours": _num(n.contact_hours_per_month * 60, 1),
            }
        )
    return out


def render_plan(result: PlanResult) -> str:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]), keep_trailing_newline=True
    )
    staffing = result.staffing
    settings = result.settings
    ratios = staffing.staff.per_1000_people
    context = {
        "settings": settings,
        "start": french.date(settings["start"]),
        "months": settings["months"],
        "people": _num(settings["people_at_start"]),
        "entrants": _num(settings["entrants"]),
        "agencies": settings["agencies"],
        "seed": settings["seed"],
        "staffing_source": Path(result.staffing_source).name,
        "staffing_version": staffing.version,
        "scenarios": [(s, SCENARIO_LABELS_FR[s]) for s in settings["scenarios"]],
        "count_fr": {1: "une", 2: "deux", 3: "trois"}.get(len(settings["scenarios"]), str(len(settings["scenarios"]))),
        "short": [SHORT_SCENARIO_FR[s] for s in settings["scenarios"]],
        "headline": _headline_rows(result),
        "charts": _charts(result),
        "agency_rows": _agency_table(result),
        "norms": _norm_rows(result),
        "fte_total": _num(sum(a.portfolio_fte(staffing.staff.cde_employer_share) for a in result.agencies), 1),
        "roles": [
            (ROLE_LABELS_FR[r], _num(getattr(ratios, r), 2) if ratios is not None else "—")
            for r in ("CDDE", "CDE", "REFERENT")
        ],
        "employer_share": french.percent(staffing.staff.cde_employer_share),
        "hours": _num(staffing.working_time.hours_per_fte_month, 1),
        "portfolio_share": french.percent(staffing.working_time.portfolio_share),
        "entry_minutes": _num(staffing.entry_minutes),
        "max_months": staffing.reexamination.max_months,
        "current_months": staffing.reexamination.current_every_months,
        "intensive_months": staffing.model2.intensive_months,
        "over_cap": staffing.over_cap,
        "waiting_contacts": _num(staffing.norms["UNALLOCATED"].contacts_per_month, 2),
        "waiting_minutes": _num(staffing.norms["UNALLOCATED"].minutes_per_contact),
        "waiting_review": _num(staffing.norms["UNALLOCATED"].review_minutes),
        "sources": [(k, typography_fr(v)) for k, v in staffing.sources.items()],
        "track_labels": TRACK_LABELS_FR,
        "nnbsp": french.NNBSP,
        "generated": french.date(datetime.now().date()),
    }
    return env.get_template("plan.html.j2").render(**context)


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _json_ready(value.item())
    return value


def write_plan(result: PlanResult, out: str | Path) -> tuple[Path, Path, Path]:
    """Write ``out`` (HTML), the CSV and the summary JSON beside it; returns the three paths."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        from planning.population import PlanInputError

        raise PlanInputError(f"--out: {out} must be an .html file (plan.csv is written beside it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_suffix(".csv")
    summary_path = out.with_name(out.stem + ".summary.json")
    frame = result.frame
    frame.to_csv(csv_path, index=False, lineterminator="\n", float_format="%.6g")
    out.write_text(render_plan(result), encoding="utf-8")
    headline = [{k: _json_ready(v) for k, v in row.items()} for row in result.headline().to_dict("records")]
    summary = {"settings": result.settings, "staffing": result.staffing_source, "headline": headline}
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out, csv_path, summary_path


__all__ = ["KEY_LABELS_FR", "render_plan", "typography_fr", "write_plan"]
