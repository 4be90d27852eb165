"""The advisor page (``/ui/``) and the person's explanation report (French, printable).

The page is a server-rendered shell (Jinja2) with a small vanilla script: the profile
form is generated from :data:`features.schema.FIELDS` (a new field appears without
editing HTML), and the script calls the JSON API with the advisor's bearer token (kept
in ``sessionStorage``). The shell and its static files are open routes (see
:mod:`serving.auth`); every piece of data comes from the authenticated API.

:func:`report_html` renders the report handed to the job seeker: what was suggested,
what the advisor decided, which information weighed most (never a protected
attribute), and their rights. Everything is escaped by Jinja2's autoescape.

Nothing here loads anything from outside the service: no CDN, no web font.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.staticfiles import StaticFiles

from core import french
from core.thresholds import FACTOR_MODERATE_MIN, FACTOR_STRONG_MIN, confidence_level
from features.api_models import ID_PATTERN
from features.reference import load_reference
from features.schema import (
    GROUPS,
    NEEDS,
    PERSON_VIEWS,
    PROTECTED_COLUMNS,
    SENSITIVE_COLUMNS,
    TIERS,
    Field,
    profile_fields,
)
from models.card import KNOWN_LIMITS, OVERSIGHT
from models.suggestion import Explanation, Factor, Recommendation
from policy import OVERRIDE_REASONS, reason_label_fr
from records import DecisionRecord, SuggestionRecord
from records.contests import ContestRecord
from serving.contests import RECOURSE, outcome_words
from serving.contract import CONTRACT_STYLE_HASH
from serving.person_report import sensitive_sentence

__all__ = ["EXAMPLE_PROFILE", "form_groups", "page_html", "report_html", "ui_app", "use_form_fields"]

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

#: Fields never shown to the person as a reason, whatever the explanation says.
NEVER_SHOWN_FIELDS: frozenset[str] = frozenset({"sex", "nationality_group", *PROTECTED_COLUMNS})
#: How many factors of each explanation the person's report lists.
REPORT_FACTORS = 5
#: Inputs the page fills from the reference table (agency, occupation domain), not typed.
REFERENCE_FIELDS = ("local_unemployment_rate", "occupation_tension")
#: Rates typed as percentages (8,5 for 8.5 %); the API still receives a proportion.
PERCENT_FIELDS = ("local_unemployment_rate",)

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=True,  # every template, whatever its extension
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: The report's stylesheet, inlined so that the report is one self-contained file. Its
#: hash is the only style the report's Content-Security-Policy allows; the advisor page
#: allows it too, because the report window it opens (a blob URL) inherits the page's policy.
REPORT_CSS = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")
REPORT_STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(REPORT_CSS.encode("utf-8")).digest()).decode() + "'"

# --------------------------------------------------------------------------- formatting helpers


def date_fr(value: dt.date | dt.datetime | str | None) -> str:
    """``27 mars 2027`` (a date, a datetime or ISO text); empty for None."""
    return french.date(value)


def percent_fr(p: float | None) -> str:
    """``74 %`` (narrow no-break space), « non disponible » for None."""
    return french.percent(p)


_env.filters["date_fr"] = date_fr
_env.filters["percent_fr"] = percent_fr


# --------------------------------------------------------------------------- the profile form


def _widget(f: Field) -> dict[str, Any]:
    """How one schema field is rendered in the form (generic: driven by kind and codes)."""
    required = not f.optional_in_api
    empty_label = "— choisir —" if required else "Non renseigné"
    hints: list[str] = []
    if f.role == "sensitive":
        # Whether it may stay « non renseigné » depends on the served model (POST /model_inputs).
        hints.append("Donnée sensible, utilisée par le modèle et auditée.")
    elif f.role == "protected":
        hints.append("Facultatif : jamais utilisé par le modèle.")
    elif not required:
        hints.append("Facultatif : laisser « Non renseigné » si la personne n'a pas répondu.")
    w: dict[str, Any] = {
        "name": f.name,
        "id": f"f-{f.name}",
        "label": f.label_fr,
        "kind": f.kind,
        "required": required,
        "empty_label": empty_label,
        "options": [],
        "hints": hints,
        "role": f.role,
        "scale": "percent" if f.name in PERCENT_FIELDS else "",
        "reference": f.name in REFERENCE_FIELDS,
    }
    if f.kind == "category":
        w["widget"] = "select"
        w["options"] = [(code, f.code_labels_fr.get(code, code)) for code in (f.codes or ())]
    elif f.kind == "boolean":
        w["widget"] = "select"
        w["options"] = [("true", "Oui"), ("false", "Non")]
    elif f.kind in ("integer", "number") and f.code_labels_fr:
        # A small scale with labelled levels (self-assessments 1 to 4).
        w["widget"] = "select"
        w["options"] = list(f.code_labels_fr.items())
    elif f.kind in ("integer", "number"):
        # A text box, not <input type=number>: Chromium in French drops the decimal comma of
        # « 2,5 » (read as 25). The page parses « 2,5 » and « 2.5 » itself (jalon-numbers.js).
        w["widget"] = "number"
        scale = 100 if w["scale"] == "percent" else 1
        w["min"] = None if f.minimum is None else f.minimum * scale
        w["max"] = None if f.maximum is None else f.maximum * scale
        w["inputmode"] = "numeric" if f.kind == "integer" else "decimal"
        if f.minimum is not None and f.maximum is not None:
            rng = f"Entre {french.number(f.minimum * scale)} et {french.number(f.maximum * scale)}"
            if f.kind == "integer":
                rng += ", nombre entier"
            elif scale == 100:
                rng += " %, en pourcentage (8,5 pour 8,5\u202f%)"
            else:
                rng += " (virgule décimale : 2,5)"
            hints.insert(0, rng + ".")
    else:
        w["widget"] = "text"
        w["pattern"] = ID_PATTERN
        hints.insert(0, "Identifiant pseudonyme : lettres, chiffres, - et _ (jamais de nom).")
    w["describedby"] = " ".join(([f"{w['id']}-hint"] if hints else []) + [f"{w['id']}-error"])
    return w


def form_groups(fields: Iterable[Field] | None = None) -> list[dict[str, Any]]:
    """The form's fieldsets: :data:`GROUPS` in order, each with its fields' widgets.

    A field whose group is not in :data:`GROUPS` lands in a last « Autres informations »
    fieldset, so that a new field is never silently left out of the form.
    """
    fields = tuple(profile_fields() if fields is None else fields)
    titles = dict(GROUPS)
    order = list(titles)
    for f in fields:
        if f.group not in titles:
            titles[f.group] = "Autres informations"
            order.append(f.group)
    groups = []
    for key in order:
        members = [_widget(f) for f in fields if f.group == key]
        if members:
            groups.append({"key": key, "title": titles[key], "fields": members})
    return groups


_EXAMPLE_BASE: dict[str, Any] = {
    "person_id": "DE-EXEMPLE-0042",
    "agency_id": "AG075",
    "sex": None,
    "nationality_group": None,
    "age": 34,
    "disability_recognition": False,
    "education_level": "CAP_BEP",
    "qualification": "SKILLED_WORKER",
    "target_occupation_domain": "F",
    "experience_years": 6.5,
    "registration_months": 9,
    "past_registrations_5y": 1,
    "category": "A",
    "months_worked_24m": 10,
    "last_contract": "INTERIM",
    "unemployment_benefit": True,
    "benefit_days_left": 240,
    "rsa_recipient": False,
    "recent_training_12m": False,
    "project_clarity": 3,
    "job_search_autonomy": 2,
    "digital_autonomy": 2,
    "french_proficiency": "FLUENT",
    "driving_licence": True,
    "vehicle_access": False,
    "public_transport": "LIMITED",
    "housing": "STABLE",
    "childcare_constraint": "PARTIAL",
    "single_parent": True,
    "health_limitation": "NONE",
    "financial_difficulty": True,
    "business_creation_interest": False,
    "qpv_resident": True,
    "rural_area": False,
    "local_unemployment_rate": 0.085,
    "occupation_tension": 0.62,
}


def _example_profile() -> dict[str, Any]:
    """A realistic example profile, completed for any field added to the schema since."""
    example: dict[str, Any] = {}
    for f in profile_fields():
        if f.name in _EXAMPLE_BASE:
            example[f.name] = _EXAMPLE_BASE[f.name]
        elif f.optional_in_api:
            example[f.name] = None
        elif f.kind == "category":
            example[f.name] = (f.codes or ("",))[0]
        elif f.kind == "boolean":
            example[f.name] = False
        elif f.kind in ("integer", "number"):
            example[f.name] = int(f.minimum or 0) if f.kind == "integer" else float(f.minimum or 0)
        else:
            example[f.name] = "EXEMPLE"
    return example


def _with_reference(example: dict[str, Any]) -> dict[str, Any]:
    """The example's rate and tension as the page fills them (from the packaged table)."""
    found = load_reference().lookup(example.get("agency_id") or "", example.get("target_occupation_domain"))
    return {**example, **{k: v for k, v in found.items() if v is not None}}


#: What « Charger un exemple » puts in the form (valid against the API's Profile model).
EXAMPLE_PROFILE: dict[str, Any] = _with_reference(_example_profile())


#: The form's fields when the served model was trained on another spec than the profile
#: (set once at service start by :func:`use_form_fields`); None: the reference profile.
_FORM_FIELDS: tuple[Field, ...] | None = None
#: What the employability probability is of, as the page and the person's report say it.
_OUTCOME = {
    "probability": "probabilité d'un emploi d'au moins un mois dans les 6 mois",
    "people": "trouvent un emploi d'au moins un mois dans les 6 mois",
}


def use_form_fields(fields: tuple[Field, ...], outcome_fr: str | None = None) -> None:
    """Generate the advisor page's form (and its example) from the served model's spec;
    ``outcome_fr`` (« En emploi en 1998 », dans les 2 ans) replaces the profile's outcome."""
    global _FORM_FIELDS
    _FORM_FIELDS = tuple(fields)
    if outcome_fr:
        _OUTCOME["probability"] = f"probabilité de {outcome_fr}"
        _OUTCOME["people"] = f"atteignent {outcome_fr}"


def _example_for(fields: tuple[Field, ...]) -> dict[str, Any]:
    """A valid example profile for ``fields``: mid-range numbers, first codes, pseudonymous ids."""
    example: dict[str, Any] = {}
    for f in fields:
        if f.role == "id":
            example[f.name] = "EXEMPLE-0001"
        elif f.role == "protected":
            example[f.name] = None
        elif f.kind == "category":
            example[f.name] = (f.codes or ("",))[0]
        elif f.kind == "boolean":
            example[f.name] = False
        elif f.kind in ("integer", "number"):
            low, high = f.minimum or 0, f.maximum if f.maximum is not None else (f.minimum or 0) + 10
            middle = (low + high) / 2
            example[f.name] = int(middle) if f.kind == "integer" else float(middle)
        else:
            example[f.name] = "EXEMPLE"
    return example


def _spec_limits() -> list[str]:
    """The known limits for a model trained on another spec: none of the profile's own claims
    (a synthetic population, sex and nationality) holds for it."""
    return [
        "Le modèle a été entraîné sur l'extrait décrit dans sa fiche technique (model card) : ses chiffres "
        "ne valent que pour cette population.",
        *(item["fr"] for item in KNOWN_LIMITS[2:5]),
    ]


def page_html() -> str:
    """The advisor page's HTML shell (no personal data in it)."""
    reference = load_reference()
    fields = _FORM_FIELDS
    return _env.get_template("advisor.html").render(
        groups=form_groups(fields),
        needs=list(NEEDS.items()),
        tiers=list(TIERS.items()),
        person_views=list(PERSON_VIEWS.items()),
        reasons=list(OVERRIDE_REASONS.items()),
        known_limits=[item["fr"] for item in KNOWN_LIMITS] if fields is None else _spec_limits(),
        oversight=[item["fr"] for item in OVERSIGHT],
        example=EXAMPLE_PROFILE if fields is None else _example_for(fields),
        outcome_probability_fr=_OUTCOME["probability"],
        reference=reference.to_json(),
        sensitive=list(SENSITIVE_COLUMNS),
        strength={"strong": FACTOR_STRONG_MIN, "moderate": FACTOR_MODERATE_MIN},
    )


# --------------------------------------------------------------------------- the ASGI app

#: The page only talks to its own origin; the report and contract windows get their own, stricter
#: policies, but a blob URL inherits the page's: so the page allows their two stylesheets by hash.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'self'; style-src 'self' {REPORT_STYLE_HASH} {CONTRACT_STYLE_HASH}; "
    "img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

ui_app = FastAPI(title="Jalon advisor page", docs_url=None, redoc_url=None, openapi_url=None)
ui_app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")


@ui_app.middleware("http")
async def _security_headers(request: Request, call_next):
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@ui_app.get("/", response_class=HTMLResponse)
def page() -> HTMLResponse:
    """The advisor page."""
    return HTMLResponse(page_html())


# --------------------------------------------------------------------------- the person's report


_CONFIDENCE_WORDS = {"high": "élevée", "medium": "moyenne", "low": "faible", None: "non disponible"}


def confidence_words(p: float | None) -> str:
    """The model's confidence in its suggested need, in plain words (bands in ``core.thresholds``)."""
    return _CONFIDENCE_WORDS[confidence_level(p)]


def chances_words(p: float | None) -> str:
    """``environ 4 personnes sur 10`` for a probability."""
    if p is None:
        return ""
    tenths = max(0, min(10, round(float(p) * 10)))
    if tenths == 0:
        return "moins d'une personne sur 10"
    if tenths == 10:
        return "presque toutes les personnes"
    return f"environ {tenths} personne{'s' if tenths > 1 else ''} sur 10"


def _is_protected(factor: Factor) -> bool:
    return factor.protected or factor.field in NEVER_SHOWN_FIELDS


def person_factors(explanation: Explanation | None, limit: int = REPORT_FACTORS) -> list[dict[str, str]]:
    """The explanation's top factors as the person reads them, protected attributes removed."""
    if explanation is None:
        return []
    shown = []
    for factor in explanation.factors:
        if _is_protected(factor):
            continue
        sentence = factor.sentence_fr.strip()
        if not sentence:
            continue
        towards = factor.direction == "towards"
        if factor.field in SENSITIVE_COLUMNS:
            # Stated plainly and framed by what it leads to, never as a judgement on the person.
            shown.append(
                {"sentence": sensitive_sentence(factor, explanation.target), "direction": "neutral", "sign": "•"}
            )
        else:
            shown.append(
                {
                    "sentence": sentence,
                    "direction": "towards" if towards else "against",
                    "sign": "+" if towards else "−",
                }
            )
        if len(shown) >= limit:
            break
    return shown


def _decision_view(decision: DecisionRecord | None, history: list[DecisionRecord]) -> dict[str, Any] | None:
    if decision is None:
        return None
    rec = Recommendation.model_validate(decision.recommendation) if decision.recommendation else None
    return {
        "action": decision.action,
        "confirmed": decision.action == "confirm",
        "need_label": NEEDS.get(decision.final_need, decision.final_need),
        "tier": decision.final_tier,
        "tier_label": TIERS.get(decision.final_tier, decision.final_tier),
        "reason": (decision.reason or "").strip(),
        "reason_label": reason_label_fr(decision.reason_code) if decision.reason_code else None,
        "on_behalf": decision.on_behalf_of is not None,
        "date": date_fr(decision.created_at),
        "revised": decision.revision_of is not None or len(history) > 1,
        "parcours": rec.parcours_label_fr if rec else None,
        "modality": rec.modality_label_fr if rec else None,
        "objective": rec.objective_fr if rec else None,
        "offers": [o.name_fr for o in rec.offers] if rec else [],
        "duration_months": rec.duration_months if rec else None,
        "milestone": date_fr(decision.milestone_date or (rec.milestone_date if rec else None)),
        "person_view": PERSON_VIEWS.get(decision.person_view_need or "", None),
    }


def _contest_view(contest: ContestRecord) -> dict[str, Any]:
    return {
        "received_on": date_fr(contest.received_on),
        "statement": contest.statement,
        "open": contest.outcome is None,
        "outcome": outcome_words(contest),
    }


def report_html(
    suggestion: SuggestionRecord, today: dt.date | None = None, contests: Iterable[ContestRecord] = ()
) -> str:
    """The person's explanation report: printable HTML in plain French.

    Shows what was suggested (need, tier, confidence in words), the advisor's latest
    decision (or « en attente de décision »), the information that weighed most in each
    direction (never a protected attribute, even if the stored explanation names one),
    the person's rights (explanation, GDPR art. 22, CRPA L311-3-1, human re-examination),
    the date and the model version. With the person's own view, the three views side by side;
    with ``contests``, each contest and its outcome, and the recourse paths with their sources.
    """
    suggested = suggestion.suggestion
    need, employability = suggested.need, suggested.employability
    explanations = suggested.explanations
    p_need = need.probability if need else None
    view = {
        "reference": suggestion.suggestion_id,
        "person_id": suggestion.person_id,
        "agency_id": suggestion.agency_id,
        "suggested_on": date_fr(suggestion.created_at),
        "printed_on": date_fr(today or dt.datetime.now(dt.UTC)),
        "model_version": suggestion.model_version,
        "need_label": need.label_fr if need else None,
        "need_confidence_words": confidence_words(p_need),
        "need_confidence": percent_fr(p_need) if p_need is not None else None,
        "tier": employability.tier if employability else None,
        "tier_label": employability.tier_label_fr if employability else None,
        "chances": chances_words(employability.probability if employability else None),
        "outcome_fr": _OUTCOME["people"],
        "needs_review": suggested.needs_review,
        "need_factors": person_factors(explanations.need),
        "employability_factors": person_factors(explanations.employability),
        "decision": _decision_view(suggestion.latest_decision, suggestion.decisions),
        "contests": [_contest_view(c) for c in contests],
        "recourse": RECOURSE,
        "arm": suggested.experiment.arm_label_fr if suggested.experiment else None,
        "track": suggested.track_proposal,
    }
    return _env.get_template("report.html").render(r=view, css=Markup(REPORT_CSS), style_hash=Markup(REPORT_STYLE_HASH))
