"""Model 2 — one person's track proposal, from the allocation's own eligibility and priority rules.

The advisor page of a MODEL_2 agency shows, for the person in front of the advisor, what
model 2's allocation (:func:`policy.allocate`) would do with them, short of the capacity:

- eligible for intensive support when the need is not in ``priority.excluded_needs``
  (default: « Retour direct à l'emploi »), proposed track ``INTENSIVE``; places go in the
  order of ``priority.order_by`` (default ``p_employed``, lowest first), so the proposal
  gives the person's priority value;
- otherwise ``EXTERNAL``: the provider, whose places go to the people closest to employment,
  or a large portfolio when the provider is full.

Whether an intensive place is actually free is the allocation's business (a batch over the
agency's whole list, within its capacities): the proposal says so in its explanation.
"""

from __future__ import annotations

from core import french
from features.schema import NEEDS
from models.suggestion import TrackProposal
from policy.allocation._agency_config import AgencyConfig, PriorityConfig
from policy.allocation._result import TRACK_LABELS_FR

ELIGIBLE_RULE = "model2-intensive-eligible"
EXCLUDED_RULE = "model2-excluded-need"
#: The allocation's default length of intensive support (months), when no configuration is given.
DEFAULT_INTENSIVE_MONTHS: int = AgencyConfig.model_fields["intensive_months"].default
EXTERNAL_LABEL_FR = "Accompagnement externalisé (prestataire) ou portefeuille élargi"


def _typography(text: str) -> str:
    """French spacing: a narrow no-break space before « : » and « ; »."""
    return text.replace(" :", french.NNBSP + ":").replace(" ;", french.NNBSP + ";")


def _needs_fr(needs: tuple[str, ...]) -> str:
    return " ou ".join(french.quoted(NEEDS.get(n, n)) for n in needs) or "aucun"


def propose_track(
    need: str | None,
    p_employed: float | None,
    priority: PriorityConfig | None = None,
    intensive_months: int = DEFAULT_INTENSIVE_MONTHS,
) -> TrackProposal | None:
    """The model 2 proposal for a person with this suggested ``need`` and ``p_employed`` (None without a need)."""
    if need is None:
        return None
    priority = priority or PriorityConfig()
    excluded = tuple(priority.excluded_needs)
    eligible = need not in excluded
    order = "la plus basse" if priority.ascending else "la plus haute"
    criterion = (
        "probabilité estimée d'accès à l'emploi"
        if priority.order_by == "p_employed"
        else f"valeur de priorité ({priority.order_by})"
    )
    score = None
    if priority.order_by == "p_employed" and p_employed is not None:
        score = float(p_employed)
    rule_fr = (
        f"Modèle 2 : l'accompagnement intensif par un référent de parcours est ouvert à toute personne dont le "
        f"besoin principal n'est pas {_needs_fr(excluded)} ; dans la limite des places de l'agence, il va d'abord "
        f"aux personnes dont la {criterion} est {order}, pour "
        f"{french.plural(intensive_months, 'mois', 'mois')} au plus. Les autres personnes sont orientées vers le "
        "prestataire (places attribuées aux personnes les plus proches de l'emploi) ou suivies en portefeuille élargi."
    )
    need_fr = french.quoted(NEEDS.get(need, need))
    chance = (
        f" Probabilité estimée d'accès à l'emploi : {french.percent(p_employed)} ; plus elle est basse, plus la "
        "personne est prioritaire."
        if score is not None and priority.ascending
        else ""
    )
    if eligible:
        explanation = (
            f"Besoin principal {need_fr} : la personne peut bénéficier d'un accompagnement intensif par un référent "
            f"de parcours, limité à {french.plural(intensive_months, 'mois', 'mois')}.{chance} L'attribution des "
            "places, dans la limite des capacités de l'agence, est faite par l'allocation du modèle 2 ; le conseiller "
            "décide."
        )
    else:
        explanation = (
            f"Besoin principal {need_fr} : hors accompagnement intensif (règle du modèle 2). Accompagnement "
            "externalisé auprès du prestataire, ou suivi en portefeuille élargi selon les places ; le conseiller "
            "décide."
        )
    return TrackProposal(
        eligible_intensive=eligible,
        track="INTENSIVE" if eligible else "EXTERNAL",
        track_label_fr=TRACK_LABELS_FR["INTENSIVE"] if eligible else EXTERNAL_LABEL_FR,
        rule_id=ELIGIBLE_RULE if eligible else EXCLUDED_RULE,
        rule_fr=_typography(rule_fr),
        priority_score=score,
        priority_order_by=priority.order_by,
        excluded_needs=excluded,
        intensive_months=intensive_months,
        explanation_fr=_typography(explanation),
    )
