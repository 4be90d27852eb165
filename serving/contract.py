"""The person's contrat d'engagement, from a recorded decision: printable HTML and PDF (French).

The contract formalises the path decided with the person (parcours, modality, priority
objective, service offers, duration and jalon date), the need the person named themself
next to the tool's suggestion and the need retained, each side's commitments, and places
for both signatures. Its short reference (``CE-`` and the first eight characters of the
decision id) is printed on every page of the PDF.

The HTML is one self-contained file whose only style is allowed by hash in its own
Content-Security-Policy (like the person's report). The PDF is rendered from the same HTML
by WeasyPrint (system fonts: DejaVu), so the two never disagree.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from core import french
from features.schema import NEEDS, PERSON_VIEWS
from models.suggestion import Recommendation
from records import DecisionRecord, SuggestionRecord

__all__ = ["AGENCY_COMMITMENTS", "PERSON_COMMITMENTS", "contract_html", "contract_pdf", "contract_reference"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CONTRACT_CSS = (TEMPLATES_DIR / "contract.css").read_text(encoding="utf-8")
CONTRACT_STYLE_HASH = (
    "'sha256-" + base64.b64encode(hashlib.sha256(CONTRACT_CSS.encode("utf-8")).digest()).decode() + "'"
)

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: What France Travail commits to (the path's services, a referent, the jalon, explanations).
AGENCY_COMMITMENTS: tuple[str, ...] = (
    "vous proposer les services listés ci-dessus et vous aider à y accéder ;",
    "vous donner un conseiller ou une conseillère référent·e, joignable pendant toute la durée du parcours ;",
    "faire le point avec vous au plus tard à la date du jalon, et plus tôt si votre situation change ;",
    "vous expliquer les décisions qui vous concernent et réexaminer votre situation si vous le demandez.",
)
#: What the person commits to (taking part, keeping the agency informed).
PERSON_COMMITMENTS: tuple[str, ...] = (
    "participer aux actions et rendez-vous prévus dans ce contrat, ou prévenir en cas d'empêchement ;",
    "rechercher activement un emploi ou une formation, selon l'objectif convenu ;",
    "informer votre conseiller ou conseillère de tout changement de votre situation ;",
    "faire le point sur votre parcours au jalon.",
)


def contract_reference(decision_id: str) -> str:
    """``CE-1A2B3C4D``: short enough to say on the phone, unique enough to find the decision."""
    return "CE-" + decision_id.replace("-", "")[:8].upper()


def contract_view(suggestion: SuggestionRecord, decision: DecisionRecord) -> dict[str, Any]:
    """What the contract shows, in French, from a decision and its suggestion."""
    rec = Recommendation.model_validate(decision.recommendation) if decision.recommendation else None
    suggested = suggestion.suggestion
    person_view = (
        PERSON_VIEWS.get(decision.person_view_need, decision.person_view_need)
        if decision.person_view_need
        else "non recueilli"
    )
    duration = french.plural(rec.duration_months, "mois", "mois") if rec else "à définir"
    return {
        "reference": contract_reference(decision.decision_id),
        "decision_id": decision.decision_id,
        "suggestion_id": suggestion.suggestion_id,
        "person_id": suggestion.person_id,
        "agency_id": suggestion.agency_id,
        "advisor_id": decision.advisor_id,
        "decided_on": french.date(decision.created_at),
        "person_view": person_view,
        "tool_view": suggested.need.label_fr if suggested.need else "pas de suggestion",
        "need_label": NEEDS.get(decision.final_need, decision.final_need),
        "reason": (decision.reason or "").strip(),
        "parcours": rec.parcours_label_fr if rec else "à définir",
        "modality": rec.modality_label_fr if rec else "à définir",
        "objective": rec.objective_fr if rec else "à définir avec votre conseiller",
        "offers": [o.name_fr for o in rec.offers] if rec else [],
        "duration": duration,
        "milestone": french.date(decision.milestone_date or (rec.milestone_date if rec else None), missing="à fixer"),
        "agency_commitments": AGENCY_COMMITMENTS,
        "person_commitments": PERSON_COMMITMENTS,
    }


def contract_html(suggestion: SuggestionRecord, decision: DecisionRecord) -> str:
    """The contract as one self-contained, printable HTML page."""
    return _env.get_template("contract.html").render(
        c=contract_view(suggestion, decision), css=Markup(CONTRACT_CSS), style_hash=Markup(CONTRACT_STYLE_HASH)
    )


def contract_pdf(suggestion: SuggestionRecord, decision: DecisionRecord) -> bytes:
    """The contract as a PDF (A4), rendered from the same HTML by WeasyPrint."""
    from weasyprint import HTML  # imported here: only this route needs it (and its system libraries)

    pdf = HTML(string=contract_html(suggestion, decision)).write_pdf()
    if not isinstance(pdf, bytes):  # write_pdf returns bytes when given no target
        raise TypeError("WeasyPrint returned no PDF")
    return pdf
