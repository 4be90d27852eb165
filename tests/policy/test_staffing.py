"""The staffing file: the packaged example, every refusal naming its field and rule, the portfolio rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from core.errors import ConfigError
from policy.staffing import (
    HELD_BY_SCENARIO,
    NORM_KEYS,
    PACKAGED_STAFFING,
    StaffingError,
    check_caps,
    load_staffing,
    parse_staffing,
    portfolio_split,
    resolve_agencies,
)


def packaged() -> dict:
    return yaml.safe_load(PACKAGED_STAFFING.read_text(encoding="utf-8"))


def refused(data: dict) -> str:
    with pytest.raises(StaffingError) as caught:
        parse_staffing(data, "agence.yaml")
    assert isinstance(caught.value, ConfigError)
    return str(caught.value)


def test_packaged_example_loads_and_scales_with_each_agency():
    staffing = load_staffing()
    assert set(staffing.norms) == set(NORM_KEYS)
    agencies = resolve_agencies(staffing, {"AG002": 1500, "AG001": 2000})
    assert [a.agency_id for a in agencies] == ["AG001", "AG002"]
    first = agencies[0]
    assert first.cdde == pytest.approx(13.14)
    assert first.cde == pytest.approx(3.08)
    assert first.referent_ids == ("AG001-REF01", "AG001-REF02", "AG001-REF03", "AG001-REF04")
    assert first.caseloads(50) == (50, 50, 50, 50)
    assert first.provider_places == 200
    second = agencies[1]
    assert second.referent_fte == (1.0, 1.0, 1.0)
    # « à iso effectif »: every scenario has the same portfolio FTE; model 2 keeps référents apart
    share = staffing.staff.cde_employer_share
    assert first.portfolio_fte(share) == pytest.approx(13.14 + 3.08 * 0.2 + 4.0)
    assert first.general_fte("model2", share) == pytest.approx(13.14 + 3.08 * 0.2)
    assert first.general_fte("model1", share) == pytest.approx(first.portfolio_fte(share))


def test_listed_agencies_and_named_referents():
    data = packaged()
    data["agencies"] = {75012: {"CDDE": 10, "CDE": 2, "referents": {"R-01": 1.0, "R-02": 0.5}, "provider_places": 7}}
    staffing = parse_staffing(data)
    (agency,) = resolve_agencies(staffing, {"75012": 900})
    assert agency.referent_ids == ("R-01", "R-02")
    assert agency.caseloads(50) == (50, 25)
    assert agency.provider_places == 7
    assert agency.source == "agencies.75012"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["agencies"].update({"AG001": {"CDDE": -1}}), "agencies.AG001.CDDE: Input should be greater"),
        (lambda d: d["staff"]["per_1000_people"].update({"REFERENT": -0.5}), "staff.per_1000_people.REFERENT"),
        (lambda d: d["norms"].pop("GLOBAL"), "norms: no norm for GLOBAL; every modality and track needs"),
        (lambda d: d["norms"].pop("UNALLOCATED"), "norms: no norm for UNALLOCATED"),
        (
            lambda d: d["norms"].update({"INTENSIF": d["norms"]["INTENSIVE"]}),
            "(model 2 intensive support is INTENSIVE)",
        ),
        (lambda d: d["norms"]["RENFORCE"].pop("cap"), "norms.RENFORCE.cap: missing field"),
        (lambda d: d["norms"]["EXTERNAL"].update({"cap": 10}), "norms.EXTERNAL.cap: not allowed"),
        (lambda d: d["norms"]["SUIVI"].update({"minutes_per_contact": -5}), "norms.SUIVI.minutes_per_contact"),
        (lambda d: d["norms"]["SUIVI"].pop("review_minutes"), "norms.SUIVI.review_minutes: missing field"),
        (lambda d: d["working_time"].update({"portfolio_share": 1.5}), "working_time.portfolio_share"),
        (lambda d: d["staff"].update({"cde_employer_share": 2}), "staff.cde_employer_share"),
        (lambda d: d.update({"over_cap": "squeeze"}), "over_cap: Input should be 'accept' or 'waiting_list'"),
        (lambda d: d["model2"].update({"excluded_needs": ["JOBS"]}), "model2.excluded_needs: unknown need code"),
        (lambda d: d["model2"].update({"intensive_months": 0}), "model2.intensive_months"),
        (lambda d: d["reexamination"].pop("current_every_months"), "reexamination.current_every_months: missing"),
        (lambda d: d.update({"version": 2026.1}), "version: version must be text"),
        (lambda d: d.update({"advisors": 3}), "advisors: unknown field"),
        (
            lambda d: d["agencies"].update({"AG001": {"REFERENT": 2, "referents": {"R1": 1}}}),
            "give either REFERENT (FTE) or referents",
        ),
        (lambda d: d["agencies"].update({"AG001": {"referents": {"R 1": 1}}}), "must be a pseudonymous id"),
        (lambda d: d["agencies"].update({"AG001": {"referents": {"R1": 1.5}}}), "FTE must be above 0 and at most 1"),
        (lambda d: d["flows"].update({"entries": -3}), "flows.entries"),
    ],
)
def test_incoherent_staffing_is_refused_naming_field_and_rule(change, message):
    data = packaged()
    data.setdefault("agencies", {})
    change(data)
    text = refused(data)
    assert text.startswith("agence.yaml: ")
    assert message in text


def test_no_ratios_and_an_unlisted_agency():
    data = packaged()
    del data["staff"]["per_1000_people"]
    assert "staff.per_1000_people: missing field" in refused(data)
    data["agencies"] = {"AG001": {"CDDE": 3}}
    staffing = parse_staffing(data)
    with pytest.raises(StaffingError, match=r"agencies: no entry for 'AG002' and no staff.per_1000_people"):
        resolve_agencies(staffing, {"AG001": 100, "AG002": 100})


def test_an_agency_without_portfolio_advisors_is_refused():
    data = packaged()
    data["agencies"] = {"AG001": {"CDE": 2}}
    data["staff"]["cde_employer_share"] = 1.0
    with pytest.raises(StaffingError, match=r"agencies.AG001: no advisor holds a portfolio .* 40 people"):
        resolve_agencies(parse_staffing(data), {"AG001": 40})


def test_caps_below_the_stock_need_a_stated_policy():
    data = packaged()
    data["over_cap"] = None
    data["agencies"] = {"AG001": {"CDDE": 2.0}}
    staffing = parse_staffing(data)
    agencies = resolve_agencies(staffing, {"AG001": 300})
    keys = HELD_BY_SCENARIO["current"]  # RENFORCE, GUIDE, SUIVI
    counts = np.array([[100, 100, 100]])  # needs 100/70 + 100/150 + 100/350 = 2.38 FTE > 2.0
    with pytest.raises(StaffingError) as caught:
        check_caps(staffing, agencies, counts, "current", keys)
    text = str(caught.value)
    assert "agencies.AG001: norms caps below the stock at the start in scenario current" in text
    assert (
        "needs 2.4 FTE (RENFORCE 100 people / cap 70, GUIDE 100 people / cap 150, SUIVI 100 people / cap 350)" in text
    )
    assert "state over_cap: accept" in text
    # a stated policy lets the plan go on; and caps that hold everyone pass without one
    data["over_cap"] = "accept"
    check_caps(parse_staffing(data), agencies, counts, "current", keys)
    data["over_cap"] = None
    check_caps(parse_staffing(data), agencies, np.array([[70, 100, 100]]), "current", keys)


def test_portfolio_split_caps_first_then_the_last_portfolio_grows():
    caps = np.array([70.0, 150.0, 350.0])
    # 10 FTE: renforcé at cap (140/70 = 2 FTE), guidé at cap (300/150 = 2), suivi gets the 6 left
    split = portfolio_split(np.array([[140, 300, 900]]), caps, np.array([10.0]), None)
    assert split.fte.tolist() == [[2.0, 2.0, 6.0]]
    assert split.size.tolist() == [[70.0, 150.0, 150.0]]
    assert split.over_factor.tolist() == [1.0]
    # 4 FTE cannot hold them at the caps (2 + 2 + 900/350 = 6.571 FTE): all over by the same factor
    over = portfolio_split(np.array([[140, 300, 900]]), caps, np.array([4.0]), "accept")
    factor = (2 + 2 + 900 / 350) / 4
    assert over.over_factor[0] == pytest.approx(factor)
    assert over.size[0] == pytest.approx(caps * factor)
    assert over.waiting.tolist() == [[0, 0, 0]]
    # waiting_list: the caps hold, the others wait
    wait = portfolio_split(np.array([[140, 300, 900]]), caps, np.array([4.0]), "waiting_list")
    assert (wait.size[0] <= caps + 1e-9).all()
    assert wait.held.sum() + wait.waiting.sum() == 1340
    assert wait.waiting.sum() > 0


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.yaml", "version: [", "s.yaml: bad YAML at line"),
        ("s.yaml", "", "s.yaml: empty staffing file"),
        ("s.json", "{}", "unsupported extension '.json'"),
        ("s.yaml", "- a\n- b\n", "s.yaml: must be a mapping"),
    ],
)
def test_file_errors(tmp_path: Path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StaffingError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_staffing(path)
    with pytest.raises(StaffingError, match="no such file"):
        load_staffing(tmp_path / "missing.yaml")
