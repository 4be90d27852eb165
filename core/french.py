"""French formatting, in one place: numbers, percentages, dates, plurals.

Everything advisors, job seekers and staff read goes through these functions, so that
the page, the person's report, the batch files and the policy texts agree. French
typography: a narrow no-break space (U+202F) before « % » and as the thousands
separator, a decimal comma, a true minus sign, « 1er » for the first day of a month.
"""

from __future__ import annotations

import datetime as dt
import math

NNBSP = "\u202f"  # narrow no-break space: before %, :, ; ! ? and between thousands
NBSP = "\u00a0"  # no-break space: inside « guillemets »
MINUS = "\u2212"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
PARIS = "Europe/Paris"


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x: float | None, decimals: int | None = None, *, signed: bool = False, missing: str = "") -> str:
    """``1 234,5``: decimal comma, narrow no-break thousands separator, true minus sign.

    ``decimals=None`` drops trailing zeros (``2,5``, ``3``); a fixed count keeps them.
    """
    if _missing(x):
        return missing
    value = float(x)  # type: ignore[arg-type]
    if decimals is None:
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{decimals}f}"
    if text in {"-0", "-0." + "0" * (decimals or 0)}:
        text = text[1:]
    text = text.replace(",", NNBSP).replace(".", ",").replace("-", MINUS)
    if signed and value > 0:
        text = "+" + text
    return text


def percent(p: float | None, decimals: int = 0, *, missing: str = "non disponible", floor: bool = False) -> str:
    """``74 %`` from a probability (0.74). ``floor=True`` writes « moins de 1 % » for tiny values."""
    if _missing(p):
        return missing
    value = float(p) * 100  # type: ignore[arg-type]
    if floor and 0 < value < 10**-decimals:
        return f"moins de {number(10**-decimals, decimals)}{NNBSP}%"
    return f"{number(round(value, decimals), decimals)}{NNBSP}%"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 mois``, ``2 mois``, ``1 personne``, ``3 personnes`` (French: 0 and 1 are singular)."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{number(count)} {word}"


def _local(moment: dt.datetime) -> dt.datetime:
    """A datetime in French local time (UTC if the time-zone database is missing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo(PARIS))
    except Exception:  # no tzdata on the machine: stay in UTC rather than fail a report
        return moment.astimezone(dt.UTC)


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return _local(value).date()
    return value


def date(value: dt.date | dt.datetime | str | None, *, missing: str = "") -> str:
    """``1er avril 2027``, ``27 mars 2027`` (a date, a datetime in UTC, or ISO text)."""
    if value is None or value == "":
        return missing
    day = _as_date(value)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def quoted(text: str) -> str:
    """« text », with no-break spaces inside the guillemets."""
    return f"«{NBSP}{text}{NBSP}»"
