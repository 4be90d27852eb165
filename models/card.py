"""Known limits and oversight instructions of the model, in one place.

The model card (English, for deployers and auditors) and the advisor page (French) both
render these lists, so what advisors are told matches the technical documentation.
"""

from __future__ import annotations

KNOWN_LIMITS: tuple[dict[str, str], ...] = (
    {
        "en": "Trained on a synthetic population calibrated on published national figures, not on real "
        "job seekers: figures describe the synthetic population only until the model is retrained and "
        "re-audited on a real extract.",
        "fr": "Le modèle a été entraîné sur une population synthétique calibrée sur des chiffres nationaux "
        "publiés, pas sur de vrais demandeurs d'emploi.",
    },
    {
        "en": "The primary need is a judgement made with the person; the model learns from recorded advisor "
        "labels, which disagree between advisors. Even the best possible model is wrong for about one "
        "person in four.",
        "fr": "Le besoin principal se décide avec la personne. Même le meilleur modèle possible se trompe "
        "pour environ une personne sur quatre.",
    },
    {
        "en": "Employability is a probability for groups of similar profiles, not a verdict on a person; it "
        "ignores everything the profile does not record (motivation, network, recent events).",
        "fr": "La probabilité d'accès à l'emploi vaut pour des profils semblables, pas pour la personne : "
        "elle ignore tout ce que le profil ne contient pas (motivation, réseau, événements récents).",
    },
    {
        "en": "Self-assessments may be missing or out of date; suggestions for profiles with missing answers "
        "are less reliable.",
        "fr": "Les auto-évaluations peuvent manquer ou dater : la suggestion est alors moins fiable.",
    },
    {
        "en": "Accuracy is lower for small groups and for unusual profiles; the fairness audit reports gaps "
        "between groups, it does not remove them.",
        "fr": "Le modèle est moins précis pour les profils rares ; l'audit d'équité mesure les écarts entre "
        "groupes mais ne les supprime pas.",
    },
    {
        "en": "Sex and nationality are never model inputs; age and disability recognition are inputs and are audited.",
        "fr": "Le sexe et la nationalité ne sont jamais utilisés par le modèle ; l'âge et la reconnaissance "
        "de handicap le sont et font l'objet d'un audit.",
    },
)

OVERSIGHT: tuple[dict[str, str], ...] = (
    {
        "en": "The suggestion is an input to the advisor's assessment, never the decision: the advisor confirms "
        "or overrides every suggestion, and each decision is recorded with its reason.",
        "fr": "La suggestion éclaire votre appréciation, elle ne décide pas : vous confirmez ou modifiez "
        "chaque suggestion, et votre décision est enregistrée avec son motif.",
    },
    {
        "en": "Read the confidence and the factors before deciding; suggestions flagged for review (low "
        "confidence, two close needs, a tier at a band's edge) need particular care.",
        "fr": "Lisez le niveau de confiance et les facteurs avant de décider ; les suggestions signalées "
        "« à examiner » demandent une attention particulière.",
    },
    {
        "en": "Beware automation bias: no option is pre-selected, and overriding is a normal, expected act.",
        "fr": "Méfiez-vous du biais d'automatisation : aucun choix n'est présélectionné, et modifier la "
        "suggestion est un geste normal.",
    },
    {
        "en": "The person may ask how the suggestion was made, correct their data, and contest the decision; "
        "give them their explanation report.",
        "fr": "La personne peut demander comment la suggestion a été établie, faire corriger ses données et "
        "contester la décision : remettez-lui son relevé d'explication.",
    },
)
