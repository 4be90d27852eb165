"""``jalon plan`` (workload month by month, scenarios side by side) and ``jalon worklist`` (who is due).

Thin wrappers over :mod:`planning`: bad input (unreadable scored file, incoherent staffing
file, bad week) prints one line on stderr and exits with status 2. Only pseudonymous ids are
printed.
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from jalon.cli._common import command, err, existing_database_url, fail, out

app = typer.Typer()


def _month(text: str | None) -> date | None:
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        fail(f"--start: {text!r} is not a month; expected YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _fmt(value: float, decimals: int = 0, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"


@command(app, "plan")
def plan_command(
    scored: Annotated[Path, typer.Option("--scored", help="Output of jalon score (.parquet or .csv): the people.")],
    out_path: Annotated[
        Path, typer.Option("--out", help="French HTML report; plan.csv and plan.summary.json are written beside it.")
    ] = Path("plan.html"),
    staffing: Annotated[
        Path | None,
        typer.Option(
            "--staffing", help="Staffing and norms (.yaml); default: the packaged example for the synthetic agencies."
        ),
    ] = None,
    months: Annotated[int, typer.Option("--months", min=1, max=120, help="Horizon in months.")] = 24,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help="current, model1 or model2 (repeat the option; default: all three)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation: the same seed gives the same plan.")] = 0,
    start: Annotated[
        str | None, typer.Option("--start", help="First month YYYY-MM (labels and dates); default: this month.")
    ] = None,
) -> None:
    """Simulate the agencies month by month at constant staffing; compare today, model 1 and model 2."""
    from features.io import DataFileError, file_format
    from features.validation import DataValidationError
    from planning.plan import run_plan
    from planning.report import write_plan
    from policy.staffing import SCENARIOS

    chosen = tuple(dict.fromkeys(scenario)) if scenario else SCENARIOS
    bad = [s for s in chosen if s not in SCENARIOS]
    if bad:
        fail(f"--scenario: unknown {', '.join(map(repr, bad))}; expected {', '.join(SCENARIOS)}")
    if out_path.suffix.lower() not in (".html", ".htm"):
        fail(f"--out: {out_path} must be an .html file (plan.csv is written beside it)")
    first = _month(start)
    try:
        file_format(scored)
        with err.status("simulating…"):
            result = run_plan(scored, staffing=staffing, months=months, scenarios=chosen, seed=seed, start=first)
    except DataValidationError as exc:
        shown = "; ".join(exc.messages[:3])
        more = f" (and {len(exc.messages) - 3} more)" if len(exc.messages) > 3 else ""
        fail(f"{exc.source}: {len(exc.messages)} problem(s): {shown}{more}")
    except DataFileError as exc:
        fail(str(exc))
    html, csv, summary = write_plan(result, out_path)
    s = result.settings
    out.print(
        f"plan: {s['agencies']} agencies, {s['people_at_start']:,} people at the start, "
        f"{s['entrants']:,} entrants over {s['months']} months from {s['start']}, seed {s['seed']}, "
        f"staffing {result.staffing_source}",
        highlight=False,
        soft_wrap=True,
    )
    table = Table("figure (whole horizon)", *chosen, title="Workload at constant staffing")
    head = result.headline().set_index("scenario")
    head["reexamined_6m_share_pct"] = head["reexamined_6m_share"] * 100
    head["ever_intensive_pct"] = head["ever_intensive_share_last_month"] * 100

    def row(label: str, column: str, decimals: int = 0, signed: bool = False) -> None:
        table.add_row(label, *(_fmt(float(head.loc[c, column]), decimals, signed) for c in chosen))

    for key, label in (
        ("INTENSIVE", "intensive portfolio per référent"),
        ("GLOBAL", "« global » portfolio per advisor"),
        ("RENFORCE", "« renforcé » portfolio per advisor"),
        ("GUIDE", "« guidé » portfolio per advisor"),
        ("SUIVI", "« suivi » portfolio per advisor"),
        ("LARGE_PORTFOLIO", "large portfolio per advisor"),
    ):
        if f"ptf_{key}" in head.columns:
            row(label, f"ptf_{key}")
    row("CDE portfolio (job-seeker share)", "ptf_cde")
    row("reviews due per advisor per week", "reviews_per_advisor_week", 1)
    row("FTE gap (+ = advisors missing)", "fte_gap", 1, signed=True)
    row("agencies short of advisors", "agencies_short")
    row("re-examined within six months (%)", "reexamined_6m_share_pct", 1)
    row("review backlog, last month", "review_backlog_last_month")
    row("median wait for intensive support (months)", "intensive_wait_median_months", 1)
    row("eligible who had intensive support (%, last month)", "ever_intensive_pct", 1)
    out.print(table)
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    out.print(f"timings: {timing}", highlight=False, soft_wrap=True)
    out.print(f"wrote {html}, {csv} and {summary}", highlight=False, soft_wrap=True)


def _open_stores(db_url: str | None):

    from records import DecisionStore, EpisodeStore, StoreError

    url = existing_database_url(db_url)
    try:
        return DecisionStore(url), EpisodeStore(url)
    except StoreError as exc:
        fail(str(exc))


@command(app, "worklist")
def worklist_command(
    agency: Annotated[str, typer.Option("--agency", help="Agency id.")],
    week: Annotated[str, typer.Option("--week", help="ISO week YYYY-Www, e.g. 2026-W07.")],
    advisor: Annotated[str | None, typer.Option("--advisor", help="Only this advisor's (or référent's) list.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the list (.csv or .parquet).")] = None,
    db_url: Annotated[
        str | None,
        typer.Option("--db-url", help="Decisions database URL; default JALON_DB_URL or $JALON_HOME/decisions.db."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="People shown per advisor (all are in --out).")] = 30,
) -> None:
    """The people due for an examination in a week, per advisor (milestones, six-month rule, end of intensive)."""
    from features.io import file_format, write_table
    from planning.worklist import parse_week, worklist

    monday, sunday = parse_week(week)
    if out_path is not None:
        file_format(out_path)
    decisions, episodes = _open_stores(db_url)
    try:
        items = worklist(decisions, episodes, agency, (monday, sunday), advisor_id=advisor)
    finally:
        decisions.dispose()
        episodes.dispose()
    who = f" for {advisor}" if advisor else ""
    out.print(
        f"worklist of agency {agency}{who}, week {week} ({monday} to {sunday}): {len(items):,} due, "
        f"{int(items['overdue'].sum()):,} of them overdue",
        highlight=False,
        soft_wrap=True,
    )
    for advisor_id, part in items.groupby("advisor_id", sort=True):
        table = Table(
            "person_id",
            "due",
            "kind",
            "need / tier",
            "modality",
            title=f"{advisor_id}: {len(part)} due ({int(part['overdue'].sum())} overdue)",
        )
        for r in part.head(limit).itertuples(index=False):
            late = " (overdue)" if r.overdue else ""
            need = f"{r.need} / {r.tier}" if r.need else "—"
            table.add_row(str(r.person_id), f"{r.due_date}{late}", r.kind_fr, need, str(r.modality or "—"))
        out.print(table)
    if out_path is not None:
        frame = items.copy()
        frame["due_date"] = frame["due_date"].astype(str)
        write_table(frame, out_path)
        out.print(f"wrote {out_path}", highlight=False, soft_wrap=True)
