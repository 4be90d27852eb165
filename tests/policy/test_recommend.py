"""Model 1: catalogue validation, rule matching, milestones, agency overrides, batch parity."""

from __future__ import annotations

import copy
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from core.errors import ConfigError
from core.french import NNBSP
from features.schema import NEED_CODES, TIER_CODES
from policy import (
    MODALITIES,
    PACKAGED_CATALOGUE,
    PARCOURS,
    CatalogueError,
    Recommendation,
    add_months,
    add_months_array,
    load_catalogue,
    recommend,
    recommend_frame,
)
from policy.catalogue import Condition

ENV_VAR = "JALON_CATALOGUE"  # read through core.config.Settings.catalogue_file

DAY = date(2025, 3, 15)

# need × tier -> (parcours, modality) of the packaged catalogue, for a person without
# recorded barriers. Families: tier A is never renforcé/global, tier C never suivi.
EXPECTED = {
    ("DIRECT_EMPLOYMENT", "A"): ("EMPLOI", "SUIVI"),
    ("DIRECT_EMPLOYMENT", "B"): ("EMPLOI", "GUIDE"),
    ("DIRECT_EMPLOYMENT", "C"): ("EMPLOI", "RENFORCE"),
    ("SEARCH_SKILLS", "A"): ("EMPLOI", "GUIDE"),
    ("SEARCH_SKILLS", "B"): ("EMPLOI", "GUIDE"),
    ("SEARCH_SKILLS", "C"): ("EMPLOI", "RENFORCE"),
    ("CAREER_PROJECT", "A"): ("EMPLOI", "GUIDE"),
    ("CAREER_PROJECT", "B"): ("EMPLOI", "RENFORCE"),
    ("CAREER_PROJECT", "C"): ("SOCIO_PRO", "RENFORCE"),
    ("TRAINING", "A"): ("EMPLOI", "GUIDE"),
    ("TRAINING", "B"): ("EMPLOI", "RENFORCE"),
    ("TRAINING", "C"): ("SOCIO_PRO", "RENFORCE"),
    ("SOCIAL_BARRIERS", "A"): ("SOCIO_PRO", "GUIDE"),
    ("SOCIAL_BARRIERS", "B"): ("SOCIO_PRO", "RENFORCE"),
    ("SOCIAL_BARRIERS", "C"): ("SOCIAL", "GLOBAL"),
    ("BUSINESS_CREATION", "A"): ("EMPLOI", "GUIDE"),
    ("BUSINESS_CREATION", "B"): ("EMPLOI", "GUIDE"),
    ("BUSINESS_CREATION", "C"): ("SOCIO_PRO", "RENFORCE"),
}
# An offer each need's path must contain, whatever the tier.
NEED_OFFER = {
    "DIRECT_EMPLOYMENT": {"MISE_EN_RELATION", "ACTIV_EMPLOI"},
    "SEARCH_SKILLS": {"ATELIERS_CV_ENTRETIEN", "ACTIV_EMPLOI"},
    "CAREER_PROJECT": {"ACTIV_PROJET"},
    "TRAINING": {"AIF", "POEI"},
    "SOCIAL_BARRIERS": {"ACCOMPAGNEMENT_GLOBAL", "CLUBS_EMPLOI"},
    "BUSINESS_CREATION": {"ACTIV_CREA"},
}


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load(PACKAGED_CATALOGUE.read_text(encoding="utf-8"))


def write(tmp_path: Path, name: str, data: dict | str) -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the grid


def test_all_18_combinations_in_expected_table():
    assert set(EXPECTED) == {(n, t) for n in NEED_CODES for t in TIER_CODES}


@pytest.mark.parametrize(("need", "tier"), sorted(EXPECTED))
def test_every_need_and_tier_gets_a_sensible_path(need, tier):
    cat = load_catalogue()
    rec = recommend(need, tier, {}, DAY)
    assert isinstance(rec, Recommendation)
    assert rec.rule_id
    assert rec.rule_id in {r.id for r in cat.rules}
    assert (rec.parcours, rec.modality) == EXPECTED[(need, tier)]
    assert rec.parcours_label_fr == PARCOURS[rec.parcours]
    assert rec.modality_label_fr == MODALITIES[rec.modality]
    if tier == "A":
        assert rec.modality in ("SUIVI", "GUIDE")
    if tier == "C":
        assert rec.modality != "SUIVI"
    assert 3 <= rec.duration_months <= 12
    assert rec.milestone_date == add_months(DAY, rec.duration_months)
    assert rec.milestone_date > DAY
    ids = [o.id for o in rec.offers]
    assert ids
    assert len(ids) == len(set(ids))
    assert all(o.name_fr == cat.offers[o.id].name_fr for o in rec.offers)
    assert NEED_OFFER[need] & set(ids)
    assert rec.objective_fr.strip()
    assert rec.catalogue_version == cat.version
    assert (rec.need, rec.tier) == (need, tier)
    assert rec.rule_id in rec.explanation_fr
    d = rec.model_dump(mode="json")
    assert d["milestone_date"] == rec.milestone_date.isoformat()
    assert d["offers"] == [o.model_dump() for o in rec.offers]


def test_headline_rules():
    rec = recommend("DIRECT_EMPLOYMENT", "A", None, DAY)
    assert (rec.parcours, rec.modality, rec.duration_months) == ("EMPLOI", "SUIVI", 3)
    rec = recommend("SOCIAL_BARRIERS", "C", None, DAY)
    assert (rec.parcours, rec.modality) == ("SOCIAL", "GLOBAL")
    assert "ACCOMPAGNEMENT_GLOBAL" in [o.id for o in rec.offers]
    for tier in TIER_CODES:
        ids = {o.id for o in recommend("TRAINING", tier, None, DAY).offers}
        assert ids & {"AIF", "POEI"}


def test_explanation_writes_dates_and_numbers_the_french_way():
    rec = recommend("DIRECT_EMPLOYMENT", "A", {"digital_autonomy": 1.0}, date(2027, 1, 1))
    assert rec.milestone_date == date(2027, 4, 1)
    # the same words as the advisor page (core.french.date), not « 01/04/2027 »
    assert "Jalon de réexamen le 1er avril 2027." in rec.explanation_fr
    assert "01/04/2027" not in rec.explanation_fr
    assert "3 mois." in rec.explanation_fr
    assert "Autonomie numérique évaluée à 1 sur 4" in rec.explanation_fr
    later = recommend("DIRECT_EMPLOYMENT", "A", None, date(2027, 9, 27))
    assert "Jalon de réexamen le 27 décembre 2027." in later.explanation_fr


def test_condition_numbers_use_the_decimal_comma():
    condition = Condition("digital_autonomy", "integer", minimum=1.0, maximum=2.5)
    assert condition.describe_fr(2.5) == "Autonomie numérique évaluée à 2,5 sur 4"
    assert condition.describe_fr("2") == "Autonomie numérique évaluée à 2 sur 4"
    assert NNBSP not in condition.describe_fr(2)


def test_unknown_codes_are_refused():
    with pytest.raises(ValueError, match="unknown need code 'JOB'"):
        recommend("JOB", "A", {}, DAY)
    with pytest.raises(ValueError, match="unknown tier code 'D'"):
        recommend("TRAINING", "D", {}, DAY)


# --------------------------------------------------------------------------- barriers


@pytest.mark.parametrize("need", NEED_CODES)
@pytest.mark.parametrize("tier", TIER_CODES)
def test_severe_housing_or_health_means_social_global(need, tier):
    for profile in (
        {"housing": "NONE"},
        {"health_limitation": "SEVERE"},
        {"housing": "NONE", "health_limitation": "SEVERE", "financial_difficulty": True},
    ):
        rec = recommend(need, tier, profile, DAY)
        assert (rec.parcours, rec.modality) == ("SOCIAL", "GLOBAL"), (need, tier, profile)
        assert "ACCOMPAGNEMENT_GLOBAL" in [o.id for o in rec.offers]
        assert "Logement" in rec.explanation_fr or "santé" in rec.explanation_fr


def test_missing_or_none_barrier_never_matches():
    plain = recommend("TRAINING", "B", {}, DAY)
    for profile in (
        None,
        {"housing": None},
        {"housing": float("nan")},
        {"housing": pd.NA},
        {"health_limitation": None},
        {"housing": "STABLE", "health_limitation": "MODERATE"},
    ):
        assert recommend("TRAINING", "B", profile, DAY).rule_id == plain.rule_id == "training-b"


def test_cumulated_barriers_need_both_conditions():
    both = {"housing": "PRECARIOUS", "financial_difficulty": True}
    assert recommend("SEARCH_SKILLS", "C", both, DAY).rule_id == "cumulated-barriers"
    assert recommend("SEARCH_SKILLS", "C", {"housing": "PRECARIOUS"}, DAY).rule_id == "search-skills-c"
    assert (
        recommend("SEARCH_SKILLS", "C", {"housing": "PRECARIOUS", "financial_difficulty": None}, DAY).rule_id
        == "search-skills-c"
    )
    assert recommend("SEARCH_SKILLS", "B", both, DAY).rule_id == "search-skills-b"


def test_complements_add_barrier_specific_offers():
    profile = {
        "vehicle_access": False,
        "public_transport": "NONE",
        "french_proficiency": "BASIC",
        "childcare_constraint": "STRONG",
        "single_parent": True,
        "digital_autonomy": 1,
    }
    rec = recommend("DIRECT_EMPLOYMENT", "B", profile, DAY)
    ids = [o.id for o in rec.offers]
    assert ids[:3] == ["MISE_EN_RELATION", "ACTIV_EMPLOI", "MRS"]
    assert ids[3:] == ["AIDES_MOBILITE", "AGEPI", "FORMATION_FRANCAIS", "ATELIERS_NUMERIQUES"]
    assert rec.complement_ids == ("mobility", "childcare-single-parent", "french-language", "digital")
    assert "Sans véhicule" in rec.explanation_fr
    # a missing boolean is not "false"; values from text files are understood
    assert recommend("DIRECT_EMPLOYMENT", "B", {"public_transport": "NONE"}, DAY).complement_ids == ()
    assert recommend(
        "DIRECT_EMPLOYMENT", "B", {"vehicle_access": "false", "public_transport": "LIMITED"}, DAY
    ).complement_ids == ("mobility",)
    assert recommend("DIRECT_EMPLOYMENT", "B", {"digital_autonomy": "2"}, DAY).complement_ids == ()


def test_profile_may_be_a_series():
    row = pd.Series({"need": "TRAINING", "housing": "NONE"})
    assert recommend("TRAINING", "A", row, DAY).rule_id == "severe-barriers-close-to-work"


# --------------------------------------------------------------------------- milestones


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 6, date(2025, 9, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 5, 15), 12, date(2026, 5, 15)),
        (date(2023, 2, 28), 12, date(2024, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 10, 31), 24, date(2027, 10, 31)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_vectorised_months_equal_scalar():
    days = [date(2023, 1, 1) + timedelta(days=k) for k in range(0, 1200, 7)] + [date(2024, 1, 31), date(2025, 1, 29)]
    months = np.array([(k % 24) + 1 for k in range(len(days))])
    got = add_months_array(np.array(days, dtype="datetime64[D]"), months)
    assert [d.astype(object) for d in got] == [add_months(d, int(m)) for d, m in zip(days, months, strict=True)]


def test_milestone_of_recommendation_clamps():
    rec = recommend("DIRECT_EMPLOYMENT", "A", {}, date(2025, 11, 30))  # 3 months
    assert rec.milestone_date == date(2026, 2, 28)
    assert recommend("DIRECT_EMPLOYMENT", "A", {}, pd.Timestamp("2025-11-30 14:00")).milestone_date == date(2026, 2, 28)


# --------------------------------------------------------------------------- agency overrides


def test_agency_extension_changes_a_duration(tmp_path):
    path = write(
        tmp_path,
        "agence.yaml",
        'extends: default\nversion: "2025.1-agence-75012.1"\n'
        "rules:\n  - id: direct-employment-a\n    duration_months: 2\n",
    )
    cat = load_catalogue(path)
    assert cat.version == "2025.1-agence-75012.1"
    assert cat.base_version == "2025.1"
    rec = recommend("DIRECT_EMPLOYMENT", "A", {}, date(2025, 12, 31), catalogue=cat)
    assert rec.duration_months == 2
    assert rec.milestone_date == date(2026, 2, 28)
    assert rec.catalogue_version == "2025.1-agence-75012.1"
    assert rec.offers == recommend("DIRECT_EMPLOYMENT", "A", {}, DAY).offers  # rest of the rule kept
    assert recommend("TRAINING", "C", {}, DAY, catalogue=cat).duration_months == 12


def test_agency_extension_adds_and_removes_rules(tmp_path):
    path = write(
        tmp_path,
        "agence.yaml",
        {
            "extends": "default",
            "version": "agence-2",
            "offers": [{"id": "GARAGE_SOLIDAIRE", "name_fr": "Garage solidaire", "needs": ["SOCIAL_BARRIERS"]}],
            "rules": [
                {
                    "id": "rural-mobility",
                    "needs": ["SOCIAL_BARRIERS"],
                    "tiers": ["A", "B"],
                    "when": {"vehicle_access": False},
                    "parcours": "SOCIO_PRO",
                    "modality": "GUIDE",
                    "objective_fr": "Retrouver une solution de mobilité",
                    "offers": ["GARAGE_SOLIDAIRE", "AIDES_MOBILITE"],
                    "duration_months": 3,
                }
            ],
            "remove_complements": ["digital"],
        },
    )
    cat = load_catalogue(path)
    assert cat.rules[0].id == "rural-mobility"
    rec = recommend("SOCIAL_BARRIERS", "A", {"vehicle_access": False, "digital_autonomy": 1}, DAY, catalogue=cat)
    assert rec.rule_id == "rural-mobility"
    assert [o.id for o in rec.offers] == ["GARAGE_SOLIDAIRE", "AIDES_MOBILITE"]
    assert (
        recommend("SOCIAL_BARRIERS", "A", {"vehicle_access": True}, DAY, catalogue=cat).rule_id == "social-barriers-a"
    )


def test_full_replacement_file_and_env_var(tmp_path, monkeypatch, base):
    data = copy.deepcopy(base)
    data["version"] = "agence-full-1"
    for rule in data["rules"]:
        if rule["id"] == "training-c":
            rule["duration_months"] = 10
    path = write(tmp_path, "full.yaml", data)
    monkeypatch.setenv(ENV_VAR, str(path))
    cat = load_catalogue()
    assert cat.version == "agence-full-1"
    assert recommend("TRAINING", "C", {}, DAY).duration_months == 10  # default catalogue follows the env var
    monkeypatch.delenv(ENV_VAR)
    assert recommend("TRAINING", "C", {}, DAY).duration_months == 12


def test_env_var_to_missing_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent.yaml"))
    with pytest.raises(CatalogueError, match=r"absent\.yaml: no such catalogue file \(JALON_CATALOGUE"):
        load_catalogue()


def test_catalogue_file_is_read_through_the_settings(tmp_path, monkeypatch):
    from core.config import get_settings

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert get_settings().catalogue_file is None  # the packaged catalogue
    assert load_catalogue().source == PACKAGED_CATALOGUE
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "agence.yaml"))
    assert get_settings().catalogue_file == tmp_path / "agence.yaml"


def test_catalogue_errors_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_catalogue(tmp_path / "absent.yaml")
    assert isinstance(info.value, CatalogueError)
    assert not isinstance(info.value, ValueError)


def test_cache_follows_file_changes(tmp_path):
    path = write(tmp_path, "a.yaml", 'extends: default\nversion: "v1"\n')
    first = load_catalogue(path)
    assert load_catalogue(path) is first  # cached
    path.write_text(
        'extends: default\nversion: "v2"\nrules:\n  - id: training-a\n    duration_months: 5\n', encoding="utf-8"
    )
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    second = load_catalogue(path)
    assert second.version == "v2"
    assert second.rule("training-a").duration_months == 5


# --------------------------------------------------------------------------- catalogue errors


def _error(tmp_path, data, name="cat.yaml") -> str:
    path = write(tmp_path, name, data)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_uncovered_combination_is_refused(tmp_path, base):
    data = copy.deepcopy(base)
    data["rules"] = [r for r in data["rules"] if r["id"] != "training-c"]
    msg = _error(tmp_path, data)
    assert "rules" in msg
    assert "uncovered need × tier combination TRAINING × C" in msg


def test_conditional_rule_does_not_count_as_coverage(tmp_path, base):
    data = copy.deepcopy(base)
    for r in data["rules"]:
        if r["id"] == "business-creation-a":
            r["when"] = {"rsa_recipient": True}
    assert "BUSINESS_CREATION × A" in _error(tmp_path, data)


def test_unknown_offer_names_the_entry(tmp_path, base):
    data = copy.deepcopy(base)
    data["rules"][3]["offers"].append("NOPE")
    msg = _error(tmp_path, data)
    assert "rules[3].offers[1]: unknown offer id 'NOPE'" in msg


def test_duplicate_rule_id_names_the_entry(tmp_path, base):
    data = copy.deepcopy(base)
    data["rules"][7]["id"] = data["rules"][6]["id"]
    msg = _error(tmp_path, data)
    assert f"rules[7].id: duplicate rule id '{data['rules'][6]['id']}' (already rules[6])" in msg


def test_bad_yaml_names_the_line(tmp_path):
    msg = _error(tmp_path, "version: '1'\nrules: [\n  - id: x\n")
    assert "bad YAML at line 3" in msg


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["rules"][4].__setitem__("duration_months", 30),
            "rules[4].duration_months: duration_months must be between 1 and 24 months, got 30",
        ),
        (lambda d: d["rules"][4].__setitem__("duration_months", 0), "rules[4].duration_months"),
        (lambda d: d["rules"][4].__setitem__("duration_months", "6"), "whole number of months"),
        (lambda d: d["rules"][4].pop("objective_fr"), "rules[4].objective_fr: missing field"),
        (lambda d: d.pop("version"), "version: missing field"),
        (lambda d: d.__setitem__("version", 2025.1), "version must be a text or a whole number, got float"),
        (lambda d: d.__setitem__("version", ["1"]), "version must be a text or a whole number, got list"),
        (
            lambda d: d["rules"][4].__setitem__("parcours", "EMPLOYMENT"),
            "rules[4].parcours: unknown parcours code 'EMPLOYMENT'",
        ),
        (lambda d: d["rules"][4].__setitem__("modality", "intensive"), "rules[4].modality: unknown modality code"),
        (lambda d: d["rules"][4].__setitem__("needs", ["TRAIN"]), "rules[4].needs: unknown need code 'TRAIN'"),
        (lambda d: d["rules"][4].__setitem__("tiers", ["D"]), "rules[4].tiers: unknown tier code 'D'"),
        (
            lambda d: d["rules"][0]["when_any"].__setitem__("housng", "NONE"),
            "rules[0].when_any.housng: unknown barrier field",
        ),
        (
            lambda d: d["rules"][0]["when_any"].__setitem__("housing", "HOMELESS"),
            "rules[0].when_any.housing: unknown code 'HOMELESS'",
        ),
        (
            lambda d: d["rules"][2]["when"].__setitem__("financial_difficulty", "yes please"),
            "rules[2].when.financial_difficulty",
        ),
        (
            lambda d: d["complements"][3]["when"].__setitem__("digital_autonomy", {"max": 9}),
            "complements[3].when.digital_autonomy",
        ),
        (
            lambda d: d["complements"][0]["offers"].__setitem__(0, "NOPE"),
            "complements[0].offers[0]: unknown offer id 'NOPE'",
        ),
        (lambda d: d["offers"][1].__setitem__("id", d["offers"][0]["id"]), "offers[1].id: duplicate offer id"),
        (lambda d: d.__setitem__("rule", []), "rule: unknown field"),
        (lambda d: d["rules"].insert(10, dict(d["rules"][9], id="copy")), "rules[10]: rule 'copy' is unreachable"),
    ],
)
def test_each_broken_rule_is_named(tmp_path, base, mutate, expected):
    data = copy.deepcopy(base)
    mutate(data)
    assert expected in _error(tmp_path, data)


def test_top_level_must_be_a_mapping(tmp_path):
    assert "must be a mapping" in _error(tmp_path, "- a\n- b\n")
    assert "empty catalogue file" in _error(tmp_path, "", name="empty.yaml")


def test_override_errors_name_the_override_entry(tmp_path):
    msg = _error(
        tmp_path, 'extends: default\nversion: "x"\nrules:\n  - id: direct-employment-a\n    duration_months: 30\n'
    )
    assert "rules[0].duration_months: duration_months must be between 1 and 24" in msg
    assert "patch of rule 'direct-employment-a'" in msg
    msg = _error(tmp_path, 'extends: default\nversion: "x"\nremove_rules: [training-c]\n', name="b.yaml")
    assert "TRAINING × C" in msg
    msg = _error(tmp_path, 'extends: default\nversion: "x"\nremove_rules: [nope]\n', name="c.yaml")
    assert "remove_rules[0]: unknown rule id 'nope'" in msg
    msg = _error(tmp_path, "extends: default\nrules: []\n", name="d.yaml")
    assert "version: missing field" in msg
    msg = _error(tmp_path, 'extends: other.yaml\nversion: "x"\n', name="e.yaml")
    assert "extends: only 'default'" in msg


def test_rule_table_lists_every_rule_in_order():
    cat = load_catalogue()
    table = cat.rule_table()
    assert table["rule_id"].tolist() == [r.id for r in cat.rules]
    assert table["duration_months"].between(3, 12).all()


# --------------------------------------------------------------------------- batch


def _random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def pick(values, p_missing=0.1):
        out = rng.choice(np.array(values, dtype=object), n)
        out[rng.random(n) < p_missing] = None
        return out

    return pd.DataFrame(
        {
            "need": rng.choice(NEED_CODES, n),
            "tier": rng.choice(TIER_CODES, n),
            "housing": pick(["STABLE", "STABLE", "PRECARIOUS", "NONE"]),
            "health_limitation": pick(["NONE", "MODERATE", "SEVERE"], 0.05),
            "childcare_constraint": pick(["NONE", "PARTIAL", "STRONG"]),
            "single_parent": pick([True, False]),
            "financial_difficulty": pick([True, False, "true", "false"]),
            "french_proficiency": pick(["NATIVE", "FLUENT", "INTERMEDIATE", "BASIC"]),
            "vehicle_access": pick([True, False]),
            "public_transport": pick(["GOOD", "LIMITED", "NONE"]),
            "digital_autonomy": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 5, n)),
            "decided": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        },
        index=pd.Index(rng.permutation(n) + 1000, name="row"),
    )


def _expected(frame: pd.DataFrame, when) -> pd.DataFrame:
    rows = []
    for _, row in frame.iterrows():
        day = row["decided"].date() if when is None else when
        rec = recommend(row["need"], row["tier"], row.to_dict(), day)
        rows.append(
            {
                "rule_id": rec.rule_id,
                "parcours": rec.parcours,
                "modality": rec.modality,
                "duration_months": rec.duration_months,
                "milestone_date": rec.milestone_date,
                "offers": ";".join(o.id for o in rec.offers),
            }
        )
    return pd.DataFrame(rows, index=frame.index)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recommend_frame_equals_recommend_row_by_row(seed):
    frame = _random_frame(600, seed)
    for when, arg in ((date(2025, 1, 31), date(2025, 1, 31)), (None, "decided")):
        got = recommend_frame(frame, decision_date=arg)
        assert list(got.columns) == ["rule_id", "parcours", "modality", "duration_months", "milestone_date", "offers"]
        assert got.index.equals(frame.index)
        expected = _expected(frame, when)
        plain = got.astype({"rule_id": str, "parcours": str, "modality": str, "offers": str})
        plain["milestone_date"] = [ts.date() for ts in plain["milestone_date"]]
        pd.testing.assert_frame_equal(plain, expected, check_dtype=False)
    assert frame["housing"].isna().any()
    assert (got["rule_id"] == "severe-barriers").any()


def test_recommend_frame_without_barrier_columns_and_custom_names():
    frame = pd.DataFrame({"besoin": ["TRAINING", "DIRECT_EMPLOYMENT"], "niveau": ["C", "A"]})
    got = recommend_frame(frame, need_col="besoin", tier_col="niveau", decision_date=date(2025, 1, 31))
    assert got["rule_id"].tolist() == ["training-c", "direct-employment-a"]
    assert got["milestone_date"].dt.date.tolist() == [date(2026, 1, 31), date(2025, 4, 30)]
    assert got["offers"].tolist() == ["PMSMP;AIF", "MISE_EN_RELATION;MRS"]


def test_recommend_frame_refuses_unknown_codes():
    with pytest.raises(ValueError, match="column 'need': unknown code"):
        recommend_frame(pd.DataFrame({"need": ["JOB"], "tier": ["A"]}), decision_date=DAY)
    with pytest.raises(ValueError, match="column 'tier'"):
        recommend_frame(pd.DataFrame({"need": ["TRAINING"], "tier": [None]}), decision_date=DAY)
    with pytest.raises(ValueError, match="missing column 'tier'"):
        recommend_frame(pd.DataFrame({"need": ["TRAINING"]}), decision_date=DAY)
