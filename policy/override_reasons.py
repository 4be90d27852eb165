"""Why an advisor overrides a suggestion: the coded reasons, in French.

An override records a ``reason_code`` from this list *and* a free-text reason. The code
makes overrides countable (the oversight figures and report tally them by code); the text
says what happened, for the person's report and for an auditor. The list is short on
purpose: a code is chosen in a few seconds, and « OTHER » catches the rest. Changing a code
changes the meaning of past records: add codes, do not rename or remove them.
"""

from __future__ import annotations

#: Reason code -> French label shown to advisors, auditors and staff representatives.
OVERRIDE_REASONS: dict[str, str] = {
    "NEW_INFORMATION": "Information nouvelle recueillie en entretien",
    "PERSON_PROJECT": "Projet professionnel exprimé par la personne",
    "PERIPHERAL_BARRIER": (
        "Frein périphérique que le profil ne reflète pas (santé, logement, mobilité, garde d'enfants…)"
    ),
    "CHANGED_SITUATION": "Situation changée depuis l'inscription",
    "PROFILE_ERROR": "Donnée du profil erronée ou manquante",
    "PERSON_CHOICE": "Choix exprimé par la personne",
    "PROFESSIONAL_JUDGEMENT": "Appréciation professionnelle en entretien",
    "OTHER": "Autre motif (précisé dans le texte)",
}
#: The codes, in display order.
OVERRIDE_REASON_CODES: tuple[str, ...] = tuple(OVERRIDE_REASONS)
#: How older overrides, recorded before reasons were coded, are counted.
UNCODED_REASON = "UNCODED"
UNCODED_REASON_LABEL_FR = "Motif non codé (décision antérieure aux motifs codés)"


def reason_label_fr(code: str | None) -> str:
    """The French label of a reason code (uncoded and unknown codes are said so)."""
    if code is None or code == UNCODED_REASON:
        return UNCODED_REASON_LABEL_FR
    return OVERRIDE_REASONS.get(code, f"Code inconnu ({code})")
