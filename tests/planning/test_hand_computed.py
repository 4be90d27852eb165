"""A small agency computed by hand: 10 people, 2 advisors (1 CDDE, 1 référent), 8 months, no exits.

Every expected figure below is derived in the comments from the rules of ``docs/planning.md``;
the only random input is each person's phase in their cycle (seed 0), asserted first so that a
change of random stream fails loudly instead of silently changing the arithmetic.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from planning.population import build_population
from planning.simulate import simulate
from policy.staffing import parse_staffing, resolve_agencies

STAFFING = {
    "version": "hand",
    # 160 h a month, half for the portfolio: 80 h per FTE; 2 FTE = 160 h available
    "working_time": {"hours_per_fte_month": 160, "portfolio_share": 0.5},
    "staff": {"cde_employer_share": 0.8},
    "agencies": {"A1": {"CDDE": 1.0, "REFERENT": 1.0, "provider_places": 1}},
    "norms": {
        "SUIVI": {"contacts_per_month": 1, "minutes_per_contact": 30, "review_minutes": 60, "cap": 10},  # 0.5 h
        "GUIDE": {"contacts_per_month": 2, "minutes_per_contact": 30, "review_minutes": 60, "cap": 10},  # 1 h
        "RENFORCE": {"contacts_per_month": 4, "minutes_per_contact": 30, "review_minutes": 60, "cap": 10},  # 2 h
        "GLOBAL": {"contacts_per_month": 4, "minutes_per_contact": 60, "review_minutes": 60, "cap": 10},  # 4 h
        "INTENSIVE": {"contacts_per_month": 4, "minutes_per_contact": 60, "review_minutes": 120, "cap": 2},  # 4 h
        "LARGE_PORTFOLIO": {"contacts_per_month": 1, "minutes_per_contact": 30, "review_minutes": 60, "cap": 10},
        "EXTERNAL": {"contacts_per_month": 0, "minutes_per_contact": 0, "review_minutes": 30},
        "UNALLOCATED": {"contacts_per_month": 1, "minutes_per_contact": 15, "review_minutes": 60},
    },
    "entry_minutes": 60,
    "over_cap": "accept",
    "reexamination": {"max_months": 6, "current_every_months": 12},
    "model2": {"intensive_months": 2, "excluded_needs": ["DIRECT_EMPLOYMENT"], "already_served": "last"},
    "flows": {"entries": 0},
}
PEOPLE = pd.DataFrame(
    {
        "person_id": [f"P{k:02d}" for k in range(1, 11)],
        "agency_id": "A1",
        "need": ["DIRECT_EMPLOYMENT"] * 2 + ["TRAINING"] * 8,  # P01, P02 never intensive
        "p_employed": 0.0,  # nobody leaves; all tie on priority, so the person id decides
        "tier": list("AAAABBBCCC"),
        "modality": ["SUIVI"] * 4 + ["GUIDE"] * 3 + ["RENFORCE"] * 2 + ["GLOBAL"],
        "duration_months": [3, 3, 3, 3, 4, 4, 4, 6, 6, 9],
    }
)
PHASES = [0.943, 0.316, 0.722, 0.126, 0.423, 0.648, 0.057, 0.819, 0.269, 0.679]


@pytest.fixture(scope="module")
def runs() -> dict[str, pd.DataFrame]:
    staffing = parse_staffing(STAFFING)
    pop = build_population(PEOPLE, staffing, 8, seed=0)
    assert np.round(pop.phase, 3).tolist() == PHASES
    assert pop.size == 10  # no entrant
    agencies = resolve_agencies(staffing, pop.people_at_start())
    return {s: simulate(pop, staffing, agencies, s, date(2026, 1, 1)).frame for s in ("current", "model1", "model2")}


def test_current_organisation(runs) -> None:
    f = runs["current"]
    # one examination a year, at month floor(phase × 12): P01 11, P02 3, P03 8, P04 1, P05 5, P06 7, P07 0,
    # P08 9, P09 3, P10 8 (months counted from 0) → due per month: P07 | P04 | – | P02 P09 | – | P05 | – | P06
    assert f["reviews_due"].tolist() == [1, 1, 0, 2, 0, 1, 0, 1]
    assert f["reviews_done"].tolist() == f["reviews_due"].tolist()
    # contacts: 4 A in « suivi » × 0.5 h + 3 B in « guidé » × 1 h + 3 C in « renforcé » × 2 h = 11 h, + 1 h a review
    assert f["hours_needed"].tolist() == [12.0, 12.0, 11.0, 13.0, 11.0, 12.0, 11.0, 12.0]
    assert (f["hours_available"] == 160.0).all()
    assert f["fte_gap"].tolist() == pytest.approx([(h - 160) / 80 for h in f["hours_needed"]])
    # last examination before the plan: its month - 12; within six months when now - last < 6:
    # month 1: P01 (1), P03 (4), P06 (5), P07 (0), P08 (3), P10 (4) → 6 of 10
    assert f["reexamined_6m_share"].tolist() == [0.6, 0.6, 0.4, 0.5, 0.5, 0.5, 0.4, 0.4]
    # caps first: renforcé 3 / 10 = 0.3 FTE, guidé 0.3 FTE, « suivi » gets the 1.4 FTE left: 4 / 1.4
    assert f["ptf_RENFORCE"].iloc[0] == pytest.approx(10.0)
    assert f["ptf_SUIVI"].iloc[0] == pytest.approx(4 / 1.4)
    assert (f["stock"] == 10).all()
    assert (f["exits"] == 0).all()


def test_model1(runs) -> None:
    f = runs["model1"]
    # milestone = the catalogue's duration, at most 6 months: 3, 3, 3, 3, 4, 4, 4, 6, 6, 6 (P10's 9 → 6);
    # first at floor(phase × interval): 2, 0, 2, 0, 1, 2, 0, 4, 1, 4, then every interval
    assert f["reviews_due"].tolist() == [3, 2, 3, 2, 3, 3, 3, 1]
    # contacts: suivi 4 × 0.5 + guidé 3 × 1 + renforcé 2 × 2 + global 1 × 4 = 13 h, + 1 h a review
    assert f["hours_needed"].tolist() == [16.0, 15.0, 16.0, 15.0, 16.0, 16.0, 16.0, 14.0]
    assert (f["reexamined_6m_share"] == 1.0).all()


def test_model2_rotation_with_memory(runs) -> None:
    f = runs["model2"]
    # eligible P03–P10, one référent with 2 places, two-month episodes, one provider place.
    # Month 1 (launch): P03 (ends month 3) and P04 (ends month 2) are already in support; the provider
    # takes P01 (closest to work, ties by id); the 7 others are in the large portfolio.
    assert f["intensive"].tolist() == [2] * 8
    assert f["people_EXTERNAL"].tolist() == [1] * 8
    assert f["people_LARGE_PORTFOLIO"].tolist() == [7] * 8
    # one place frees each month from month 2 and goes to the next person never served:
    # P05 (waited 1 month), P06 (2), P07 (3), P08 (4), P09 (5), P10 (6); in month 8 everybody was served
    # once, so the place goes to P03 again (already served; back in the queue since month 3: 5 months)
    assert f["intensive_starts"].tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    assert f["intensive_wait_median_months"].tolist()[1:] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 5.0]
    assert f["ever_intensive_share"].tolist() == [0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 1.0]
    # examinations: six-monthly (first at floor(phase × 6)), the end of each episode and each start:
    # m1 P07 | m2 P04 end, P05 start, P02, P09 | m3 P03 end, P06 start | m4 P05 end, P07 start |
    # m5 P06 end, P08 start, P10 | m6 P07 end, P09 start, P01 | m7 P08 end, P10 start | m8 P09 end, P03 start, P02, P04
    assert f["reviews_due"].tolist() == [1, 4, 2, 2, 3, 3, 2, 4]
    # contacts: 2 intensive × 4 h + 7 large × 0.5 h = 11.5 h; reviews 1 h (2 h for a start, 0.5 h at the provider)
    assert f["hours_needed"].tolist() == [12.5, 16.5, 14.5, 14.5, 15.5, 15.0, 14.5, 16.5]
    # P04's six-monthly examination fell at month 1 but its episode's end (month 2) replaced it
    assert f["reexamined_6m_share"].tolist() == [0.9] + [1.0] * 7
    assert f["ptf_INTENSIVE"].tolist() == [2.0] * 8
    assert f["max_referent_fill"].tolist() == [1.0] * 8
