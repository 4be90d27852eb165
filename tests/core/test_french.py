"""French formatting: one home, French typography."""

from __future__ import annotations

import datetime as dt

import pytest

from core import french

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, None, f"1{NNBSP}234,5"),
        (2.5, None, "2,5"),
        (3.0, None, "3"),
        (0.085, None, "0,085"),
        (-0.5, 2, "−0,50"),
        (-0.0, 1, "0,0"),
        (1_000_000, 0, f"1{NNBSP}000{NNBSP}000"),
        (None, None, ""),
        (float("nan"), None, ""),
    ],
)
def test_numbers(value, decimals, expected) -> None:
    assert french.number(value, decimals) == expected


def test_signed_numbers_and_percentages() -> None:
    assert french.number(0.42, 2, signed=True) == "+0,42"
    assert french.number(-0.42, 2, signed=True) == "−0,42"
    assert french.percent(0.742) == f"74{NNBSP}%"
    assert french.percent(0.7425, 1) == f"74,2{NNBSP}%" or french.percent(0.7425, 1) == f"74,3{NNBSP}%"
    assert french.percent(0.001, floor=True) == f"moins de 1{NNBSP}%"
    assert french.percent(0.0, floor=True) == f"0{NNBSP}%"
    assert french.percent(None) == "non disponible"


def test_dates_are_written_out_with_1er() -> None:
    assert french.date(dt.date(2027, 4, 1)) == "1er avril 2027"
    assert french.date("2027-03-27") == "27 mars 2027"
    # A UTC instant late on 30 November is already 1 December in Paris.
    assert french.date(dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)) == "1er décembre 2026"
    assert french.date(None) == ""


def test_plurals_follow_french_rules() -> None:
    assert french.plural(0, "personne") == "0 personne"
    assert french.plural(1, "mois", "mois") == "1 mois"
    assert french.plural(2, "personne") == "2 personnes"
    assert french.plural(1500, "personne") == f"1{NNBSP}500 personnes"


def test_guillemets_hold_no_break_spaces() -> None:
    assert french.quoted("Se former") == "«\u00a0Se former\u00a0»"
