"""Warning fatigue: is a suggestion flagged « à examiner » really less often right?

A flag costs an advisor's careful review; flagging too much teaches advisors to ignore it.
:func:`choose` picks the review thresholds on the validation split for the trade-off stated
in :mod:`core.thresholds` (flag at most ``REVIEW_FLAG_BUDGET`` of suggestions, and within
that budget catch as many wrong suggestions as possible). :func:`measure` then reports, on
the test split, need accuracy and tier accuracy of flagged and unflagged suggestions and the
flagged share, for the first (default) policy and the chosen one; the model card shows both.

A suggestion is *wrong* when its need differs from the recorded need, or (where truth
columns exist, i.e. on synthetic data) when its tier differs from the tier of the true
probability. Without a need model and without truth there is nothing to measure a flag
against: the default policy is kept and the card says so.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.thresholds import (
    REVIEW_CANDIDATE_MARGIN,
    REVIEW_CANDIDATE_TIER_BORDERLINE,
    REVIEW_CANDIDATE_TOP_PROBABILITY,
    REVIEW_FLAG_BUDGET,
    ReviewPolicy,
    TierBands,
)
from features.spec import TrainingSpec
from models.segmentation import Scores

if TYPE_CHECKING:
    from models.segmentation import SegmentationModel
    from training.evaluate import Evaluation


def flagged(policy: ReviewPolicy, scores: Scores, bands: TierBands) -> np.ndarray:
    """Whether each row is flagged by ``policy``."""
    flags = policy.flags(scores.need_proba, scores.p_employed, bands)
    return np.logical_or.reduce([*flags.values(), np.zeros(len(scores.X), dtype=bool)])


def _correctness(
    scores: Scores, classes: list[str], y_need: np.ndarray | None, true_tier: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    need_ok = None
    if y_need is not None and scores.need_index is not None:
        need_ok = np.asarray(classes, dtype=object)[scores.need_index] == np.asarray(y_need, dtype=object)
    tier_ok = None if true_tier is None or scores.tier is None else scores.tier == true_tier
    return need_ok, tier_ok


def choose(
    scores: Scores,
    classes: list[str],
    bands: TierBands,
    y_need: np.ndarray | None,
    true_tier: np.ndarray | None,
    budget: float = REVIEW_FLAG_BUDGET,
) -> ReviewPolicy:
    """The candidate policy within ``budget`` that flags the most wrong suggestions (validation split).

    Ties go to the policy that flags fewer suggestions. With nothing to measure against
    (no recorded need, no truth) the default policy is returned.
    """
    need_ok, tier_ok = _correctness(scores, classes, y_need, true_tier)
    if need_ok is None and tier_ok is None:
        return ReviewPolicy()
    wrong = np.zeros(len(scores.X), dtype=bool)
    for ok in (need_ok, tier_ok):
        if ok is not None:
            wrong |= ~ok
    best: tuple[int, float, ReviewPolicy] | None = None
    for top, margin, border in itertools.product(
        REVIEW_CANDIDATE_TOP_PROBABILITY, REVIEW_CANDIDATE_MARGIN, REVIEW_CANDIDATE_TIER_BORDERLINE
    ):
        policy = ReviewPolicy(min_top_probability=top, min_margin=margin, tier_borderline=border)
        mask = flagged(policy, scores, bands)
        share = float(mask.mean()) if len(mask) else 0.0
        if share > budget:
            continue
        caught = int((mask & wrong).sum())
        if best is None or caught > best[0] or (caught == best[0] and share < best[1]):
            best = (caught, share, policy)
    return best[2] if best is not None else ReviewPolicy()


@dataclass
class PolicyFigures:
    """How one review policy does on the test split."""

    policy: dict[str, float]
    flagged_share: float
    need_accuracy_flagged: float | None
    need_accuracy_unflagged: float | None
    tier_accuracy_flagged: float | None
    tier_accuracy_unflagged: float | None


def _figures(policy: ReviewPolicy, scores: Scores, bands: TierBands, need_ok, tier_ok) -> PolicyFigures:
    mask = flagged(policy, scores, bands)

    def rate(ok: np.ndarray | None, rows: np.ndarray) -> float | None:
        return None if ok is None or not rows.any() else float(ok[rows].mean())

    return PolicyFigures(
        policy=asdict(policy),
        flagged_share=float(mask.mean()) if len(mask) else 0.0,
        need_accuracy_flagged=rate(need_ok, mask),
        need_accuracy_unflagged=rate(need_ok, ~mask),
        tier_accuracy_flagged=rate(tier_ok, mask),
        tier_accuracy_unflagged=rate(tier_ok, ~mask),
    )


@dataclass
class ReviewPolicyReport:
    """The default and the chosen policy, measured on the test split."""

    default: PolicyFigures
    chosen: PolicyFigures
    budget: float
    measurable: bool

    def metrics(self) -> dict[str, float]:
        out = {
            "review_flagged_share": self.chosen.flagged_share,
            "review_flagged_share_default": self.default.flagged_share,
        }
        for key in (
            "need_accuracy_flagged",
            "need_accuracy_unflagged",
            "tier_accuracy_flagged",
            "tier_accuracy_unflagged",
        ):
            value = getattr(self.chosen, key)
            if value is not None:
                out[f"review_{key}"] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "measurable": self.measurable,
            "default": asdict(self.default),
            "chosen": asdict(self.chosen),
        }


def measure(model: SegmentationModel, evaluation: Evaluation, spec: TrainingSpec) -> ReviewPolicyReport:
    """Flagged and unflagged accuracy on the test split, for the default and the model's policy."""
    test, scores = evaluation.test, evaluation.scores
    y_need = test[spec.need_label.name].astype(str).to_numpy() if spec.need_label is not None else None
    truth = spec.truth_employment
    true_tier = model.tier_bands.tier(test[truth].to_numpy(dtype=float)) if truth and truth in test else None
    need_ok, tier_ok = _correctness(scores, model.need_classes, y_need, true_tier)
    return ReviewPolicyReport(
        default=_figures(ReviewPolicy(), scores, model.tier_bands, need_ok, tier_ok),
        chosen=_figures(model.review, scores, model.tier_bands, need_ok, tier_ok),
        budget=REVIEW_FLAG_BUDGET,
        measurable=need_ok is not None or tier_ok is not None,
    )
