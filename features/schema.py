"""The job-seeker profile: one definition of every column.

Everything else derives from ``FIELDS``: the pandera schema for data files
(:mod:`features.validation`), the pydantic models of the API
(:mod:`features.api_models`), the default training spec (:mod:`features.spec`),
the advisor form and the French explanation sentences.

Column names and codes are a contract with the data extracts; do not rename.
"""

from __future__ import annotations

# The schema's public names, re-exported (a column's definition lives in features.field).
from features.field import GROUPS as GROUPS
from features.field import Field as Field
from features.field import Kind as Kind
from features.field import Role as Role

NEEDS: dict[str, str] = {
    "DIRECT_EMPLOYMENT": "Retour direct à l'emploi",
    "SEARCH_SKILLS": "Adapter ses techniques de recherche",
    "CAREER_PROJECT": "Élaborer son projet professionnel",
    "TRAINING": "Se former, se qualifier",
    "SOCIAL_BARRIERS": "Lever les freins périphériques",
    "BUSINESS_CREATION": "Créer ou reprendre une entreprise",
}
NEED_CODES: tuple[str, ...] = tuple(NEEDS)

#: The need a person names themself, asked before the tool's suggestion is shown: one of
#: the six needs, or « ne sait pas » (UNKNOWN).
PERSON_VIEWS: dict[str, str] = {**NEEDS, "UNKNOWN": "Ne sait pas"}
PERSON_VIEW_CODES: tuple[str, ...] = tuple(PERSON_VIEWS)

TIERS: dict[str, str] = {
    "A": "Proche de l'emploi",
    "B": "Intermédiaire",
    "C": "Éloigné de l'emploi",
}
TIER_CODES: tuple[str, ...] = tuple(TIERS)

ROME_DOMAINS: dict[str, str] = {
    "A": "Agriculture et pêche, espaces naturels et verts, soins aux animaux",
    "B": "Arts et façonnage d'ouvrages d'art",
    "C": "Banque, assurance, immobilier",
    "D": "Commerce, vente et grande distribution",
    "E": "Communication, média et multimédia",
    "F": "Construction, bâtiment et travaux publics",
    "G": "Hôtellerie-restauration, tourisme, loisirs et animation",
    "H": "Industrie",
    "I": "Installation et maintenance",
    "J": "Santé",
    "K": "Services à la personne et à la collectivité",
    "L": "Spectacle",
    "M": "Support à l'entreprise",
    "N": "Transport et logistique",
}

_LEVEL_1_4 = {"1": "1 (faible)", "2": "2", "3": "3", "4": "4 (forte)"}

FIELDS: tuple[Field, ...] = (
    Field("person_id", "id", "string", "Identifiant pseudonyme", "identification"),
    Field("agency_id", "id", "string", "Agence", "identification"),
    Field(
        "sex", "protected", "category", "Sexe", "audit", codes=("F", "M"), code_labels_fr={"F": "Femme", "M": "Homme"}
    ),
    Field(
        "nationality_group",
        "protected",
        "category",
        "Nationalité",
        "audit",
        codes=("FR", "EU", "NON_EU"),
        code_labels_fr={"FR": "Française", "EU": "Union européenne", "NON_EU": "Hors Union européenne"},
    ),
    Field("age", "sensitive", "integer", "Âge", "situation", minimum=16, maximum=70, phrase_fr="{value} ans"),
    Field(
        "disability_recognition",
        "sensitive",
        "boolean",
        "Reconnaissance de handicap (RQTH / BOETH)",
        "situation",
        phrase_true_fr="Reconnaissance de handicap (RQTH / BOETH)",
        phrase_false_fr="Pas de reconnaissance de handicap",
    ),
    Field(
        "education_level",
        "feature",
        "category",
        "Niveau de diplôme",
        "parcours",
        codes=("NONE", "CAP_BEP", "BAC", "BAC2", "BAC3_PLUS"),
        code_labels_fr={
            "NONE": "Sans diplôme",
            "CAP_BEP": "CAP / BEP",
            "BAC": "Baccalauréat",
            "BAC2": "Bac + 2",
            "BAC3_PLUS": "Bac + 3 ou plus",
        },
        phrase_fr="Diplôme {value}",
    ),
    Field(
        "qualification",
        "feature",
        "category",
        "Qualification",
        "parcours",
        codes=(
            "UNSKILLED_WORKER",
            "SKILLED_WORKER",
            "UNSKILLED_EMPLOYEE",
            "SKILLED_EMPLOYEE",
            "TECHNICIAN",
            "SUPERVISOR",
            "EXECUTIVE",
        ),
        code_labels_fr={
            "UNSKILLED_WORKER": "Ouvrier·ère non qualifié·e",
            "SKILLED_WORKER": "Ouvrier·ère qualifié·e",
            "UNSKILLED_EMPLOYEE": "Employé·e non qualifié·e",
            "SKILLED_EMPLOYEE": "Employé·e qualifié·e",
            "TECHNICIAN": "Technicien·ne",
            "SUPERVISOR": "Agent·e de maîtrise",
            "EXECUTIVE": "Cadre",
        },
        phrase_fr="Qualification {value}",
    ),
    Field(
        "target_occupation_domain",
        "feature",
        "category",
        "Domaine du métier recherché (ROME)",
        "parcours",
        codes=tuple(ROME_DOMAINS),
        code_labels_fr=ROME_DOMAINS,
        phrase_fr="Métier recherché en {value}",
    ),
    Field(
        "experience_years",
        "feature",
        "number",
        "Expérience dans le métier recherché (années)",
        "parcours",
        minimum=0,
        maximum=50,
        phrase_fr="{value} d'expérience dans le métier recherché",
        unit_fr=("an", "ans"),
        phrase_zero_fr="Pas d'expérience dans le métier recherché",
    ),
    Field(
        "registration_months",
        "feature",
        "integer",
        "Ancienneté d'inscription (mois)",
        "situation",
        minimum=0,
        maximum=240,
        phrase_fr="Inscription depuis {value}",
        unit_fr=("mois", "mois"),
        phrase_zero_fr="Inscription de ce mois-ci",
    ),
    Field(
        "past_registrations_5y",
        "feature",
        "integer",
        "Inscriptions antérieures (5 ans)",
        "situation",
        minimum=0,
        maximum=20,
        phrase_fr="{value} en 5 ans",
        unit_fr=("inscription antérieure", "inscriptions antérieures"),
        phrase_zero_fr="Aucune inscription antérieure en 5 ans",
    ),
    Field(
        "category",
        "feature",
        "category",
        "Catégorie d'inscription",
        "situation",
        codes=("A", "B", "C"),
        code_labels_fr={
            "A": "A (sans activité)",
            "B": "B (activité réduite courte)",
            "C": "C (activité réduite longue)",
        },
        phrase_fr="Catégorie {value}",
    ),
    Field(
        "months_worked_24m",
        "feature",
        "integer",
        "Mois travaillés sur les 24 derniers",
        "parcours",
        minimum=0,
        maximum=24,
        phrase_fr="{value} sur les 24 derniers",
        unit_fr=("mois travaillé", "mois travaillés"),
        phrase_zero_fr="Aucun mois travaillé sur les 24 derniers",
    ),
    Field(
        "last_contract",
        "feature",
        "category",
        "Dernier contrat",
        "parcours",
        codes=("NONE", "CDI", "CDD", "INTERIM", "SELF_EMPLOYED"),
        code_labels_fr={
            "NONE": "Aucun",
            "CDI": "CDI",
            "CDD": "CDD",
            "INTERIM": "Intérim",
            "SELF_EMPLOYED": "Travail indépendant",
        },
        phrase_fr="Dernier contrat {value}",
    ),
    Field(
        "unemployment_benefit",
        "feature",
        "boolean",
        "Indemnisation chômage (ARE)",
        "situation",
        phrase_true_fr="Perçoit l'allocation chômage (ARE)",
        phrase_false_fr="Ne perçoit pas l'allocation chômage (ARE)",
    ),
    Field(
        "benefit_days_left",
        "feature",
        "integer",
        "Jours d'indemnisation restants",
        "situation",
        minimum=0,
        maximum=1095,
        phrase_fr="{value}",
        unit_fr=("jour d'indemnisation restant", "jours d'indemnisation restants"),
        phrase_zero_fr="Aucun jour d'indemnisation restant",
    ),
    Field(
        "rsa_recipient",
        "feature",
        "boolean",
        "Bénéficiaire du RSA",
        "situation",
        phrase_true_fr="Bénéficiaire du RSA",
        phrase_false_fr="Non bénéficiaire du RSA",
    ),
    Field(
        "recent_training_12m",
        "feature",
        "boolean",
        "Formation suivie dans les 12 derniers mois",
        "parcours",
        phrase_true_fr="Formation suivie dans les 12 derniers mois",
        phrase_false_fr="Pas de formation dans les 12 derniers mois",
    ),
    Field(
        "project_clarity",
        "feature",
        "integer",
        "Clarté du projet professionnel (1 à 4)",
        "auto_evaluation",
        minimum=1,
        maximum=4,
        nullable=True,
        code_labels_fr=_LEVEL_1_4,
        phrase_fr="Clarté du projet professionnel évaluée à {value} sur 4",
    ),
    Field(
        "job_search_autonomy",
        "feature",
        "integer",
        "Autonomie dans la recherche d'emploi (1 à 4)",
        "auto_evaluation",
        minimum=1,
        maximum=4,
        nullable=True,
        code_labels_fr=_LEVEL_1_4,
        phrase_fr="Autonomie dans la recherche évaluée à {value} sur 4",
    ),
    Field(
        "digital_autonomy",
        "feature",
        "integer",
        "Autonomie numérique (1 à 4)",
        "auto_evaluation",
        minimum=1,
        maximum=4,
        nullable=True,
        code_labels_fr=_LEVEL_1_4,
        phrase_fr="Autonomie numérique évaluée à {value} sur 4",
    ),
    Field(
        "french_proficiency",
        "feature",
        "category",
        "Maîtrise du français",
        "freins",
        codes=("NATIVE", "FLUENT", "INTERMEDIATE", "BASIC"),
        code_labels_fr={
            "NATIVE": "Langue maternelle",
            "FLUENT": "Courante",
            "INTERMEDIATE": "Intermédiaire",
            "BASIC": "Élémentaire",
        },
        phrase_fr="Maîtrise du français {value}",
    ),
    Field(
        "driving_licence",
        "feature",
        "boolean",
        "Permis de conduire",
        "freins",
        phrase_true_fr="Titulaire du permis de conduire",
        phrase_false_fr="Sans permis de conduire",
    ),
    Field(
        "vehicle_access",
        "feature",
        "boolean",
        "Accès à un véhicule",
        "freins",
        phrase_true_fr="Dispose d'un véhicule",
        phrase_false_fr="Sans véhicule",
    ),
    Field(
        "public_transport",
        "feature",
        "category",
        "Desserte en transports en commun",
        "freins",
        codes=("GOOD", "LIMITED", "NONE"),
        code_labels_fr={"GOOD": "Bonne", "LIMITED": "Limitée", "NONE": "Aucune"},
        phrase_fr="Desserte en transports en commun {value}",
    ),
    Field(
        "housing",
        "feature",
        "category",
        "Logement",
        "freins",
        codes=("STABLE", "PRECARIOUS", "NONE"),
        code_labels_fr={"STABLE": "Stable", "PRECARIOUS": "Précaire", "NONE": "Sans logement"},
        phrase_fr="Logement {value}",
    ),
    Field(
        "childcare_constraint",
        "feature",
        "category",
        "Contrainte de garde d'enfants",
        "freins",
        codes=("NONE", "PARTIAL", "STRONG"),
        code_labels_fr={"NONE": "Aucune", "PARTIAL": "Partielle", "STRONG": "Forte"},
        phrase_fr="Contrainte de garde d'enfants {value}",
    ),
    Field(
        "single_parent",
        "feature",
        "boolean",
        "Élève seul·e ses enfants (famille monoparentale)",
        "freins",
        phrase_true_fr="Élève seul·e ses enfants",
        phrase_false_fr="N'élève pas seul·e ses enfants",
    ),
    Field(
        "health_limitation",
        "feature",
        "category",
        "Limitation liée à la santé",
        "freins",
        codes=("NONE", "MODERATE", "SEVERE"),
        code_labels_fr={"NONE": "Aucune", "MODERATE": "Modérée", "SEVERE": "Importante"},
        phrase_fr="Limitation liée à la santé {value}",
    ),
    Field(
        "financial_difficulty",
        "feature",
        "boolean",
        "Difficultés financières",
        "freins",
        phrase_true_fr="Difficultés financières",
        phrase_false_fr="Pas de difficulté financière",
    ),
    Field(
        "business_creation_interest",
        "feature",
        "boolean",
        "Projet de création d'entreprise",
        "auto_evaluation",
        phrase_true_fr="Intérêt pour la création d'entreprise",
        phrase_false_fr="Pas de projet de création d'entreprise",
    ),
    Field(
        "qpv_resident",
        "feature",
        "boolean",
        "Réside dans un quartier prioritaire (QPV)",
        "situation",
        phrase_true_fr="Réside en quartier prioritaire",
        phrase_false_fr="Ne réside pas en quartier prioritaire",
    ),
    Field(
        "rural_area",
        "feature",
        "boolean",
        "Zone rurale",
        "situation",
        phrase_true_fr="Réside en zone rurale",
        phrase_false_fr="Ne réside pas en zone rurale",
    ),
    Field(
        "local_unemployment_rate",
        "feature",
        "number",
        "Taux de chômage local (%)",
        "situation",
        minimum=0.02,
        maximum=0.25,
        phrase_fr="Taux de chômage local de {value}",
    ),
    Field(
        "occupation_tension",
        "feature",
        "number",
        "Tension du métier recherché (0 à 1)",
        "parcours",
        minimum=0,
        maximum=1,
        phrase_fr="Tension du métier recherché de {value}",
    ),
    Field("primary_need", "label", "category", "Besoin principal", "parcours", codes=NEED_CODES, code_labels_fr=NEEDS),
    Field("employed_6m", "label", "boolean", "Accès à l'emploi dans les 6 mois", "parcours"),
    *(
        Field(f"true_p_{need}", "truth", "number", f"Probabilité vraie : {label}", "parcours", minimum=0, maximum=1)
        for need, label in NEEDS.items()
    ),
    Field(
        "true_p_employed_6m",
        "truth",
        "number",
        "Probabilité vraie d'accès à l'emploi",
        "parcours",
        minimum=0,
        maximum=1,
    ),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

NEED_LABEL = "primary_need"
EMPLOYMENT_LABEL = "employed_6m"
TRUTH_NEED_COLUMNS: tuple[str, ...] = tuple(f"true_p_{need}" for need in NEED_CODES)
TRUTH_EMPLOYMENT_COLUMN = "true_p_employed_6m"


def fields_with_role(*roles: Role) -> tuple[Field, ...]:
    """Fields whose role is one of ``roles``, in contract order."""
    return tuple(f for f in FIELDS if f.role in roles)


def model_input_fields() -> tuple[Field, ...]:
    """Default model inputs: features and sensitive columns (never protected, ids, labels, truth)."""
    return tuple(f for f in FIELDS if f.is_model_input)


def profile_fields() -> tuple[Field, ...]:
    """What a profile sent to the service carries: ids, features, protected and sensitive."""
    return fields_with_role("id", "protected", "sensitive", "feature")


PROTECTED_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields_with_role("protected"))
SENSITIVE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields_with_role("sensitive"))
