"""The contrat d'engagement and the person's report's new parts, rendered without a server from
a real model's suggestion recorded in a real store; the PDF is read back with pypdf."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from features.schema import NEEDS
from records import DecisionStore
from serving.auth import Principal, Role
from serving.contract import contract_html, contract_pdf, contract_reference
from serving.logic import Advisory
from serving.ui import report_html

ADVISOR = Principal("adv-1", Role.ADVISOR)


@pytest.fixture
def advisory(model, tmp_path):
    store = DecisionStore(f"sqlite:///{tmp_path / 'decisions.db'}")
    yield Advisory(model, "7", store)
    store.dispose()


def decided(advisory, records, index: int = 0, **decision):
    (s,) = advisory.suggest([records[index]], ADVISOR, today=dt.date(2026, 12, 1))
    body = {"suggestion_id": s.suggestion_id, "advisor_id": "adv-1", "action": "confirm", **decision}
    record = advisory.decide(body, ADVISOR, today=dt.date(2026, 12, 1))
    return advisory.store.get_decision(record.decision_id)


def test_contract_html_says_everything_the_contract_must(advisory, records):
    suggestion, decision = decided(advisory, records, person_view_need="TRAINING")
    html = contract_html(suggestion, decision)
    rec = decision.recommendation
    for expected in (
        '<html lang="fr">',
        "<main>",
        contract_reference(decision.decision_id),
        rec["parcours_label_fr"],
        rec["modality_label_fr"],
        rec["objective_fr"],
        *(o["name_fr"] for o in rec["offers"]),
        NEEDS["TRAINING"],
        NEEDS[decision.final_need],
        "L5411-6",
        "Signature",
    ):
        assert expected.replace("'", "&#39;") in html or expected in html, expected
    assert re.search(r"au plus tard le <strong>\d{1,2}(er)? [a-zéû]+ \d{4}</strong>", html)
    assert "style-src 'sha256-" in html


def test_contract_pdf_reads_back(advisory, records):
    suggestion, decision = decided(advisory, records, person_view_need="UNKNOWN")
    pdf = contract_pdf(suggestion, decision)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    reference = contract_reference(decision.decision_id)
    assert reference in text
    assert "Contrat d’engagement" in text or "Contrat d'engagement" in text
    assert decision.recommendation["parcours_label_fr"] in text
    assert "Ne sait pas" in text  # the person's own view
    assert "France Travail s’engage" in text or "France Travail s'engage" in text
    assert "«" in text  # French quotation marks survive
    assert f"page 1/{len(reader.pages)}" in text  # the reference on every page's footer
    assert "moiss" not in text


def test_report_frames_sensitive_factors_and_shows_the_three_views(advisory, records, model):
    # A person whose age weighs in the employability explanation.
    outputs = model.suggest_records(records[:200])
    index = next(
        i for i, o in enumerate(outputs) if any(f.field == "age" for f in o.explanations.employability.factors)
    )
    suggestion, _ = decided(advisory, records, index, person_view_need="SEARCH_SKILLS")
    html = report_html(advisory.store.get_suggestion(suggestion.suggestion_id))
    assert "<main>" in html
    employability = html.split("Pour l'estimation d'accès à l'emploi")[1].split("</ul>")[0]
    (age,) = [line for line in employability.split("</li>") if "Votre âge" in line]
    assert "réduit les chances" not in age
    assert "en moyenne" in age
    assert "accompagnement" in age
    views = html.split("Trois regards")[1].split("</table>")[0]
    assert NEEDS["SEARCH_SKILLS"] in views
    assert "médiateur" in html
    assert "L5312-12-1" in html
