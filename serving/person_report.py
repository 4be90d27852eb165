"""How the person's documents state a sensitive factor (age, disability recognition).

A sensitive input is stated plainly and framed by what it leads to, never as a judgement on
the person: the report says that people of their age find work less quickly *on average* and
that the tool therefore suggests more support, not that their age « réduit les chances ».
Keeping these inputs is a positive action documented in the model card (an agency may serve
a model trained without them); the person is told how they were used.
"""

from __future__ import annotations

from models.suggestion import Factor

__all__ = ["sensitive_sentence"]

_EMPLOYABILITY_TARGET = "employed_6m"


def _subject(factor: Factor) -> str:
    if factor.field == "age":
        return f"Votre âge ({factor.display_value} ans)" if factor.value is not None else "Votre âge"
    if factor.field == "disability_recognition":
        if factor.value:
            return "Votre reconnaissance de handicap (RQTH ou BOETH)"
        return "L'absence de reconnaissance de handicap dans votre dossier"
    return f"L'information « {factor.label_fr} »"


def sensitive_sentence(factor: Factor, target: str) -> str:
    """The French sentence for one sensitive factor of the person's report."""
    subject = _subject(factor)
    if target != _EMPLOYABILITY_TARGET:
        towards = "vers ce besoin" if factor.direction == "towards" else "vers un autre besoin"
        return f"{subject} a orienté la suggestion {towards}, comme pour les personnes dans la même situation."
    if factor.field == "disability_recognition" and factor.value:
        if factor.direction == "against":
            return (
                f"{subject} : en moyenne, l'accès à l'emploi prend plus de temps pour les personnes dans cette "
                "situation ; c'est pourquoi l'outil suggère un accompagnement plus soutenu, qui peut s'appuyer sur les "
                "aides prévues pour les personnes en situation de handicap."
            )
        return f"{subject} a été prise en compte : elle ouvre l'accès à des aides et à des services adaptés."
    group = "les personnes de votre âge" if factor.field == "age" else "les personnes dans la même situation"
    if factor.direction == "against":
        return (
            f"{subject} : en moyenne, {group} retrouvent un emploi moins vite ; c'est pourquoi l'outil suggère "
            "davantage d'accompagnement. Ce n'est pas un jugement sur vous."
        )
    return (
        f"{subject} : en moyenne, {group} retrouvent un emploi plus vite ; l'outil en a tenu compte pour estimer "
        "l'accompagnement utile."
    )
