"""``jalon oversight``: the human-oversight report (French HTML) from the decisions store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jalon.cli._common import command, err, fail, out, parse_date

app = typer.Typer()


@command(app)
def oversight(
    since: Annotated[str, typer.Option(help="First day (UTC) of the suggestions counted, YYYY-MM-DD.")],
    out_path: Annotated[Path, typer.Option("--out", help="The report to write (.html).")],
    until: Annotated[str | None, typer.Option(help="Last day (UTC) counted, YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Write the oversight report: override, revision and quick-confirmation rates with their intervals.

    Computed from the decisions store (JALON_DB_URL: SQLite or PostgreSQL), for auditors and
    staff representatives. Advisors are not named in the report.
    """
    from audit import write_oversight_report
    from core import french
    from records import DecisionStore

    first, last = parse_date(since, "--since"), parse_date(until, "--until")
    if out_path.suffix.lower() not in (".html", ".htm"):
        fail(f"--out {out_path}: the report is HTML; name it .html")
    with DecisionStore() as store:
        figures = write_oversight_report(store, out_path, since=first, until=last)
    err.log(f"wrote {out_path}")
    ci = figures.override_rate_ci
    interval = f" [{french.percent(ci.low, 1)} ; {french.percent(ci.high, 1)}]" if ci else ""
    quick = figures.quick_confirmations.overall
    out.print(
        f"{figures.suggestions} suggestions, {figures.decisions} decided, {figures.overrides} overridden: "
        f"override rate {french.percent(figures.override_rate, 1)}{interval}; "
        f"confirmations under {figures.quick_confirmations.threshold_seconds} s: "
        f"{quick.count} of {quick.total}",
        highlight=False,
        soft_wrap=True,
    )
