"""The person's report and the advisor page shell, without a server.

Reports are rendered from SuggestionRecord objects, built by hand or read back from a real
DecisionStore on a SQLite file; the page shell is requested through the ASGI app.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.api_models import Profile
from features.schema import GROUPS, NEEDS, Field, profile_fields
from models.card import KNOWN_LIMITS, OVERSIGHT
from policy import recommend
from records import DecisionRecord, DecisionStore, SuggestionRecord
from serving.ui import EXAMPLE_PROFILE, form_groups, report_html, ui_app

CREATED = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


def factor(field: str, sentence: str, contribution: float, **extra) -> dict:
    return {
        "field": field,
        "label_fr": field,
        "value": 1,
        "display_value": "1",
        "contribution": contribution,
        "direction": "towards" if contribution >= 0 else "against",
        "sentence_fr": sentence,
        **extra,
    }


NEED_FACTORS = [
    factor(
        "months_worked_24m",
        "2 mois travaillés sur les 24 derniers : rapproche du besoin « Se former, se qualifier »",
        0.9,
        protected=False,
    ),
    # A protected attribute must never reach the person, whatever the explanation says:
    factor("sex", "Sexe Femme : rapproche du besoin « Se former, se qualifier »", 0.5, protected=True),
    # Wrongly flagged as not protected: the report's own list of never-shown fields still holds it back.
    factor("nationality_group", "Nationalité Hors Union européenne : éloigne du besoin", -0.4, protected=False),
    factor("some_future_field", "Champ protégé futur : rapproche du besoin", 0.3, protected=True),
    factor(
        "education_level",
        "Diplôme sans diplôme : rapproche du besoin « Se former, se qualifier »",
        0.25,
        protected=False,
    ),
    factor(
        "experience_years",
        "0 an(s) d'expérience dans le métier recherché : éloigne du besoin « Se former, se qualifier »",
        -0.2,
        protected=False,
    ),
]
EMP_FACTORS = [
    factor("registration_months", "Inscrit depuis 30 mois : réduit les chances d'emploi", -0.6, protected=False),
    factor(
        "nationality_group", "Nationalité Hors Union européenne : réduit les chances d'emploi", -0.3, protected=True
    ),
    factor("driving_licence", "Titulaire du permis de conduire : augmente les chances d'emploi", 0.2, protected=False),
]
PROTECTED_SENTENCES = [
    f["sentence_fr"]
    for f in NEED_FACTORS + EMP_FACTORS
    if f["field"] in ("sex", "nationality_group", "some_future_field")
]


def output(need="TRAINING", p_need=0.62, tier="C", p_emp=0.21, needs_review=False) -> dict:
    return {
        "need": {
            "code": need,
            "label_fr": NEEDS[need],
            "probability": p_need,
            "distribution": [{"code": need, "label_fr": NEEDS[need], "probability": p_need}],
        },
        "employability": {
            "probability": p_emp,
            "tier": tier,
            "tier_label_fr": "Éloigné de l'emploi",
            "bands": {"A": 0.6, "B": 0.3},
        },
        "needs_review": needs_review,
        "review_reasons": [],
        "recommendation": recommend(need, tier, {}, CREATED.date()).model_dump(mode="json"),
        "policy_context": {"housing": "STABLE"},
    }


def explanation() -> dict:
    return {
        "need": {
            "target": "TRAINING",
            "units": "log-odds",
            "base_value": -1.0,
            "raw_score": 0.5,
            "factors": NEED_FACTORS,
            "other_contribution": 0.1,
        },
        "employability": {
            "target": "employed_6m",
            "units": "log-odds",
            "base_value": -0.5,
            "raw_score": -1.2,
            "factors": EMP_FACTORS,
            "other_contribution": -0.1,
        },
    }


def suggestion(decisions=(), **kwargs) -> SuggestionRecord:
    return SuggestionRecord(
        suggestion_id="s-123",
        created_at=CREATED,
        model_version="7",
        agency_id="AG075",
        person_id="P-42",
        advisor_id="adv-1",
        input_hash="0" * 64,
        output=output(**kwargs),
        explanation=explanation(),
        decisions=list(decisions),
    )


def decision(action="confirm", need="TRAINING", tier="C", reason=None, revision_of=None, seq=0) -> DecisionRecord:
    rec = recommend(need, tier, {}, dt.date(2025, 3, 15)).model_dump(mode="json")
    return DecisionRecord(
        decision_id=f"d-{seq}",
        suggestion_id="s-123",
        advisor_id="adv-1",
        action=action,
        final_need=need,
        final_tier=tier,
        reason=reason,
        revision_of=revision_of,
        recommendation=rec,
        milestone_date=dt.date.fromisoformat(rec["milestone_date"]),
        created_at=CREATED + dt.timedelta(minutes=5 + seq),
    )


def text_of(page: str) -> str:
    """The visible text, roughly: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).replace("\u00a0", " ")


# --------------------------------------------------------------------------- the report


def test_pending_report_says_what_was_suggested_and_the_rights():
    page = report_html(suggestion(), today=dt.date(2025, 3, 20))
    text = text_of(page)
    assert page.startswith("<!doctype html>")
    assert '<html lang="fr">' in page
    assert "« Se former, se qualifier »" in text
    assert "Confiance de l'outil : moyenne (62 %)" in text
    assert "Éloigné de l'emploi (palier C)" in text
    assert "environ 2 personnes sur 10" in text
    assert "En attente de décision" in text
    # Rights: explanation, GDPR art. 22, CRPA L311-3-1, human re-examination, correction.
    for expected in (
        "L311-3-1",
        "article 22",
        "RGPD",
        "réexamen par une personne",
        "Faire corriger vos données",
        "Contester la décision",
        "Obtenir une explication",
    ):
        assert expected in text, expected
    # Date and model version.
    assert "Relevé établi le 20 mars 2025" in text
    assert "suggestion du 14 mars 2025" in text
    assert "version du modèle : 7" in text
    assert "@media print" in page
    assert "@page" in page


def test_report_lists_the_factors_and_never_a_protected_attribute():
    text = text_of(report_html(suggestion()))
    for f in NEED_FACTORS + EMP_FACTORS:
        if f["sentence_fr"] in PROTECTED_SENTENCES:
            assert f["sentence_fr"] not in text
        else:
            assert f["sentence_fr"] in text
    for word in ("Sexe Femme", "Hors Union européenne", "Champ protégé futur"):
        assert word not in text
    # Direction is given by a sign, not by colour alone.
    assert re.search(r"\+\s*2 mois travaillés", text)
    assert re.search(r"−\s*Inscrit depuis 30 mois", text)


def test_confirmed_decision_with_path_and_milestone():
    d = decision()
    text = text_of(report_html(suggestion([d])))
    assert "Votre conseiller·ère a confirmé la suggestion" in text
    assert "En attente de décision" not in text
    rec = d.recommendation
    assert rec["parcours_label_fr"] in text
    assert rec["objective_fr"] in text
    assert rec["offers"][0]["name_fr"] in text
    assert f"{rec['duration_months']} mois" in text
    milestone = d.milestone_date
    assert f"{milestone.day if milestone.day > 1 else '1er'} " in text
    assert str(milestone.year) in text


def test_latest_decision_wins_and_everything_is_escaped():
    first = decision()
    revised = decision(
        "override",
        need="SOCIAL_BARRIERS",
        tier="C",
        seq=1,
        revision_of="d-0",
        reason="<script>alert('x')</script> & logement à trouver",
    )
    page = report_html(suggestion([first, revised]))
    text = text_of(page)
    assert "Votre conseiller·ère a modifié la suggestion" in text
    assert "Cette décision remplace une décision précédente" in text
    assert NEEDS["SOCIAL_BARRIERS"] in text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&amp; logement à trouver" in page


def test_report_style_is_allowed_by_its_policy():
    page = report_html(suggestion())
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert f"sha256-{digest}" in html.unescape(policy)
    assert "script-src" not in policy
    assert "default-src 'none'" in html.unescape(policy)
    # The advisor page opens the report in a window that inherits its policy: allowed there too.
    headers = TestClient(ui_app).get("/").headers
    assert f"sha256-{digest}" in headers["content-security-policy"]


def test_report_from_a_real_store(tmp_path: Path):
    store = DecisionStore(f"sqlite:///{tmp_path / 'decisions.db'}")
    try:
        out = output(need="CAREER_PROJECT", p_need=0.41, tier="B", p_emp=0.45, needs_review=True)
        store.record_suggestion(
            suggestion_id="s-real",
            model_version="3",
            person_id="P-9",
            advisor_id="adv-1",
            input_hash="a" * 64,
            output=out,
            explanation=explanation(),
            agency_id="AG001",
            created_at=CREATED,
        )
        assert "En attente de décision" in text_of(report_html(store.get_suggestion("s-real")))

        rec = recommend("TRAINING", "B", out["policy_context"], dt.date(2025, 3, 15)).model_dump(mode="json")
        store.record_decision(
            suggestion_id="s-real",
            advisor_id="adv-1",
            action="override",
            final_need="TRAINING",
            final_tier="B",
            reason="Projet de formation déjà financé",
            recommendation=rec,
            milestone_date=dt.date.fromisoformat(rec["milestone_date"]),
        )
        text = text_of(report_html(store.get_suggestion("s-real")))
    finally:
        store.dispose()
    assert "« Élaborer son projet professionnel »" in text  # what was suggested
    assert "Confiance de l'outil : faible (41 %)" in text
    assert "signalé que cette suggestion était incertaine" in text
    assert "Votre conseiller·ère a modifié la suggestion" in text
    assert "Se former, se qualifier" in text
    assert "Projet de formation déjà financé" in text
    assert rec["objective_fr"] in text
    assert "version du modèle : 3" in text
    assert not any(s in text for s in PROTECTED_SENTENCES)


def test_report_without_explanation_or_employability():
    record = SuggestionRecord(
        suggestion_id="s-min",
        created_at=CREATED,
        model_version="1",
        agency_id=None,
        person_id="P-1",
        advisor_id="adv-1",
        input_hash="b" * 64,
        # What a need-only model stores: no employability, hence no recommendation, and no explanation kept.
        output={
            "need": {
                "code": "DIRECT_EMPLOYMENT",
                "label_fr": NEEDS["DIRECT_EMPLOYMENT"],
                "probability": 0.8,
                "distribution": [
                    {"code": "DIRECT_EMPLOYMENT", "label_fr": NEEDS["DIRECT_EMPLOYMENT"], "probability": 0.8}
                ],
            },
            "employability": None,
            "needs_review": False,
            "review_reasons": [],
            "recommendation": None,
        },
        explanation={"need": None, "employability": None},
        decisions=[],
    )
    text = text_of(report_html(record))
    assert "Retour direct à l'emploi" in text
    assert "élevée (80 %)" in text
    assert "Aucune explication détaillée" in text


# --------------------------------------------------------------------------- the page shell


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(ui_app)


def test_page_shell_is_generated_from_the_schema(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="fr">' in page
    for f in profile_fields():
        assert f'id="f-{f.name}"' in page, f.name
        assert f'for="f-{f.name}"' in page, f.name
        assert f.label_fr in html.unescape(page), f.name
    legends = [html.unescape(t) for t in re.findall(r"<legend>(.*?)</legend>", page)]
    for group in form_groups():
        assert group["title"] in legends
    assert {g["key"] for g in form_groups()} <= set(GROUPS)
    # Optional self-assessments may stay unanswered; codes have French labels.
    assert re.search(r'id="f-project_clarity"[^>]*>\s*<option value="">Non renseigné</option>', page)
    assert '<option value="BAC3_PLUS">Bac + 3 ou plus</option>' in page
    assert re.search(r'id="f-age"[^>]*min="16"[^>]*max="70"', page.replace("\n", " "))
    # No decision is pre-selected.
    assert "checked" not in page
    assert "selected" not in page
    # The model card's known limits and oversight instructions, in French.
    unescaped = html.unescape(page)
    for item in (*KNOWN_LIMITS, *OVERSIGHT):
        assert item["fr"] in unescaped
    # Self-contained: nothing from another origin.
    for asset in (page, client.get("/static/jalon.js").text, client.get("/static/jalon.css").text):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", asset, re.I)
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_example_profile_is_valid_and_complete():
    Profile.model_validate(EXAMPLE_PROFILE)
    assert set(EXAMPLE_PROFILE) == {f.name for f in profile_fields()}


def test_a_new_field_appears_in_the_form():
    extra = Field(
        "new_barrier",
        "feature",
        "category",
        "Nouveau frein",
        "freins",
        codes=("X", "Y"),
        code_labels_fr={"X": "Ixe", "Y": "Igrec"},
    )
    orphan = Field("orphan", "feature", "boolean", "Champ sans groupe", "nowhere")
    groups = form_groups((*profile_fields(), extra, orphan))
    freins = next(g for g in groups if g["key"] == "freins")
    widget = next(w for w in freins["fields"] if w["name"] == "new_barrier")
    assert widget["widget"] == "select"
    assert widget["options"] == [("X", "Ixe"), ("Y", "Igrec")]
    assert groups[-1]["title"] == "Autres informations"
    assert groups[-1]["fields"][0]["options"] == [("true", "Oui"), ("false", "Non")]


def test_static_files_are_served(client):
    assert client.get("/static/jalon.js").status_code == 200
    assert client.get("/static/jalon.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/nope.js").status_code == 404
