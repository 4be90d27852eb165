"""Which model the service runs for an agency: the MSA experiment's arm, read from the records.

- **No draw recorded** (before the experiment): every agency is served as today (model 1
  path, no arm on the suggestion), so the tool works before the experiment starts.
- **A draw recorded**: the agency's arm in the latest draw decides.
  ``MODEL_1`` → the model 1 path; ``MODEL_2`` → the model 2 track proposal (no model 1
  path); an agency added by hand → the model its register row names (it is still left out of
  the main analysis); ``CONTROL`` → **no suggestion**: :class:`NotDeployed` (HTTP 409), the
  tool is not deployed there. Batch scoring for the evaluation (``jalon score``) does not go
  through here and stays allowed everywhere.
- **An agency outside the draw** once a draw is recorded → :class:`NotDeployed` too. During
  the experiment the tool is deployed only where the draw (or a recorded decision to add an
  agency by hand) put it; serving an agency the draw does not know would deploy it outside
  the design, unrecorded, and most often means a mistyped agency code.

The arm is looked up at every request (one indexed read), so a replacing draw takes effect
at once in every server process.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import Conflict
from models.suggestion import ExperimentArm
from records import ExperimentRecords
from records.experiment_inputs import listed

__all__ = ["ARM_LABELS_FR", "NotDeployed", "served_arms"]

ARM_LABELS_FR: dict[str, str] = {
    "MODEL_1": "Modèle 1 — segmentation par besoin",
    "MODEL_2": "Modèle 2 — priorité à l'alliance de travail",
}


class NotDeployed(Conflict):
    """The tool is not deployed in this agency (a control agency, or one outside the experiment's draw)."""


def _agencies(ids: list[str]) -> str:
    return ("agency " if len(ids) == 1 else "agencies ") + listed(ids)


def served_arms(experiment: ExperimentRecords, agency_ids: Iterable[str]) -> dict[str, ExperimentArm | None]:
    """The arm of each agency (None for all when no draw is recorded); :class:`NotDeployed` if one is not served."""
    ids = sorted({str(a) for a in agency_ids})
    lookup = experiment.arms_of(ids)
    if lookup.draw_sequence is None:
        return dict.fromkeys(ids)
    controls = [a for a in ids if a in lookup.arms and lookup.arms[a].served_arm is None]
    outside = [a for a in ids if a not in lookup.arms]
    problems = []
    if controls:
        problems.append(
            f"{_agencies(controls)} {'is a CONTROL agency' if len(controls) == 1 else 'are CONTROL agencies'} of the "
            f"MSA experiment (draw {lookup.draw_sequence}): the tool is not deployed in this agency, so no "
            "suggestion is made there"
        )
    if outside:
        problems.append(
            f"{_agencies(outside)} {'is' if len(outside) == 1 else 'are'} not in the MSA experiment's draw "
            f"(draw {lookup.draw_sequence}): the tool is not deployed in this agency; check the agency code"
        )
    if problems:
        raise NotDeployed("; ".join(problems) + "; nothing was recorded")
    arms: dict[str, ExperimentArm | None] = {}
    for agency_id in ids:
        arm = lookup.arms[agency_id]
        served = str(arm.served_arm)
        arms[agency_id] = ExperimentArm(
            arm=served,  # type: ignore[arg-type]  # MODEL_1 or MODEL_2 (checked by the database)
            arm_label_fr=ARM_LABELS_FR[served],
            added_by_hand=arm.added_by_hand,
            draw_sequence=arm.draw_sequence,
        )
    return arms
