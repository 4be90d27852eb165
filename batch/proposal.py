"""The milestone cycle closes: for each person whose situation moved, the new path to propose.

After the review has re-scored the people due (:mod:`batch.review`), each changed person gets
model 1's recommendation for their **new** need and tier, with the barrier fields of their
current profile, counted from the review date (``policy.recommend_frame``, the same rules as the
service): parcours, modality, duration, milestone, offers, and the change of modality from the
recorded path (« renforcé → guidé »). It is a proposal: the advisor decides, and records the
decision as usual (which sets the next milestone).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from core import french
from features.schema import NEEDS, TIERS
from policy import MODALITIES, PARCOURS, load_catalogue, recommend_frame
from policy.catalogue import BARRIER_FIELDS

PROPOSAL_COLUMNS: tuple[str, ...] = (
    "recorded_modality",
    "proposed_rule_id",
    "proposed_parcours",
    "proposed_modality",
    "proposed_duration_months",
    "proposed_milestone_date",
    "proposed_offers",
    "modality_change",
    "proposal_fr",
)


def _sentence(row: dict[str, Any], catalogue_version: str) -> str:
    modality = MODALITIES[row["proposed_modality"]]
    before = row["recorded_modality"]
    was = MODALITIES.get(before, "non connue") if before else "non connue"
    change = (
        f"modalité {modality} (inchangée)"
        if before == row["proposed_modality"]
        else f"modalité {modality} (avant{french.NNBSP}: {was})"
    )
    return (
        f"Nouveau parcours proposé pour le besoin {french.quoted(NEEDS[row['new_need']])}, niveau {row['new_tier']} "
        f"({TIERS[row['new_tier']]}){french.NNBSP}: {PARCOURS[row['proposed_parcours']]}, {change}, "
        f"{french.plural(int(row['proposed_duration_months']), 'mois', 'mois')}, jalon le "
        f"{french.date(row['proposed_milestone_date'])} (règle {french.quoted(row['proposed_rule_id'])}, "
        f"catalogue {catalogue_version}). Le conseiller décide et peut modifier cette proposition."
    )


def add_proposals(
    changes: pd.DataFrame, profiles: pd.DataFrame, recorded_paths: dict[str, dict | None], as_of: date
) -> pd.DataFrame:
    """``changes`` with :data:`PROPOSAL_COLUMNS` added (empty where the model gives no need or tier).

    ``profiles``: the validated current profiles (barrier fields), matched by ``person_id``;
    ``recorded_paths``: each person's recorded recommendation (``DecisionRecord.recommendation``).
    """
    out = changes.copy()
    for column in PROPOSAL_COLUMNS:
        out[column] = None
    if not len(out):
        return out
    out["recorded_modality"] = [
        (recorded_paths.get(str(p)) or {}).get("modality") for p in out["person_id"].astype(str)
    ]
    usable = out["new_need"].notna() & out["new_tier"].notna()
    if not usable.any():
        return out
    barriers = [c for c in BARRIER_FIELDS if c in profiles.columns]
    current = profiles.assign(person_id=profiles["person_id"].astype(str)).set_index("person_id")[barriers]
    frame = out.loc[usable, ["person_id", "new_need", "new_tier"]].copy()
    frame["_key"] = frame["person_id"].astype(str)
    frame = frame.merge(current, left_on="_key", right_index=True, how="left") if barriers else frame
    catalogue = load_catalogue()
    rec = recommend_frame(frame, need_col="new_need", tier_col="new_tier", decision_date=as_of, catalogue=catalogue)
    out.loc[usable, "proposed_rule_id"] = rec["rule_id"].astype(str).to_numpy()
    out.loc[usable, "proposed_parcours"] = rec["parcours"].astype(str).to_numpy()
    out.loc[usable, "proposed_modality"] = rec["modality"].astype(str).to_numpy()
    out.loc[usable, "proposed_duration_months"] = rec["duration_months"].to_numpy()
    out.loc[usable, "proposed_milestone_date"] = [d.date() for d in rec["milestone_date"]]
    out.loc[usable, "proposed_offers"] = rec["offers"].astype(str).to_numpy()
    out.loc[usable, "modality_change"] = [
        "" if before == after else f"{before or 'UNKNOWN'} → {after}"
        for before, after in zip(
            out.loc[usable, "recorded_modality"], out.loc[usable, "proposed_modality"], strict=True
        )
    ]
    out.loc[usable, "proposal_fr"] = [_sentence(r, catalogue.version) for r in out.loc[usable].to_dict("records")]
    return out
