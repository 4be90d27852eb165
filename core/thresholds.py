"""Named thresholds: every number that turns a score into something a person acts on.

One module an auditor can read from top to bottom. Each value says what it decides and
why it has that value; code elsewhere imports these names and never repeats the numbers.
A model records the tier bands and review policy it was trained with (they travel in the
registered model), so changing a default here affects models trained afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InvalidInput

# --------------------------------------------------------------------------- employability tiers
#: Tier A (« proche de l'emploi ») from this calibrated probability of a job within the horizon.
TIER_A_MIN = 0.60
#: Tier B (« intermédiaire ») from this probability; below it, tier C (« éloigné de l'emploi »).
#: Chosen so that the tier shares on the synthetic population match the published shares of
#: categories A / B / C of registered job seekers (about 57 / 15 / 28 %).
TIER_B_MIN = 0.30

# --------------------------------------------------------------------------- review flags
#: « à examiner » when the suggested need's probability is below this: the model is unsure.
REVIEW_MIN_TOP_PROBABILITY = 0.50
#: « à examiner » when the two most likely needs are closer than this: a close call.
REVIEW_MIN_MARGIN = 0.10
#: « à examiner » when the employability probability is this close to a tier band.
REVIEW_TIER_BORDERLINE = 0.03

# --------------------------------------------------------------------------- re-examination (MSA)
#: Everyone is re-examined at least this often, in months: the MSA's « deux fois par an ». A
#: milestone further away than this is brought forward to it (``jalon worklist``, ``jalon plan``;
#: an agency's staffing file may set its own value, ``reexamination.max_months``).
REEXAMINATION_MAX_MONTHS = 6

#: Warning fatigue: a flag is worth an advisor's extra attention only if flagged suggestions are
#: really less often right. Training measures need and tier accuracy of flagged and unflagged
#: suggestions and chooses the review thresholds on the validation split for this trade-off:
#: flag at most this share of suggestions (the careful reviews an advisor can give without
#: learning to ignore the flag; the first policy flagged 31.5 % of the synthetic population),
#: and within that budget catch as many wrong suggestions as possible.
REVIEW_FLAG_BUDGET = 0.15
#: The candidate thresholds the choice is made among (each a value of the three above).
REVIEW_CANDIDATE_TOP_PROBABILITY: tuple[float, ...] = (0.30, 0.35, 0.40, 0.45, 0.50)
REVIEW_CANDIDATE_MARGIN: tuple[float, ...] = (0.0, 0.03, 0.05, 0.10)
REVIEW_CANDIDATE_TIER_BORDERLINE: tuple[float, ...] = (0.0, 0.01, 0.02, 0.03)

# --------------------------------------------------------------------------- confidence words
#: The advisor page and the person's report say « élevée » from this need probability ...
CONFIDENCE_HIGH_MIN = 0.70
#: ... « moyenne » from this one (the review threshold), « faible » below.
CONFIDENCE_MEDIUM_MIN = REVIEW_MIN_TOP_PROBABILITY

# --------------------------------------------------------------------------- factor strength words
#: The advisor page says a factor weighs « fort » from this absolute contribution (log-odds):
#: around a probability of 50 %, 0.5 moves it by about 12 points.
FACTOR_STRONG_MIN = 0.5
#: ... « modéré » from this one (about 5 points around 50 %), « faible » below.
FACTOR_MODERATE_MIN = 0.2

# --------------------------------------------------------------------------- contests
#: A contest waiting longer than this (days since it was received) is counted « en retard »
#: in the oversight figures. An assumption, to be set by each agency: a month is the usual
#: service commitment for answering a written complaint, well inside the two months after
#: which an administration's silence is taken as a refusal (CRPA L231-4).
CONTEST_TARGET_DAYS = 30

# --------------------------------------------------------------------------- promotion gate
#: A candidate may not be worse than the champion by more than this on a gated metric.
GATE_TOLERANCE = 0.005
#: Metrics on which a candidate is compared with the champion (higher is better).
GATED_METRICS: tuple[str, ...] = ("need_macro_f1", "emp_auc")
#: Fairness bounds of the gate. The missed-support gap partly reflects real differences in
#: employability between groups (the Bayes-optimal tiers have one too), so its bound is
#: loose; the calibration gap is what biased labels move, so its bound is tight.
GATE_FAIRNESS_BOUNDS: dict[str, float] = {"fair_max_missed_support_gap": 0.35, "fair_max_ece_gap": 0.05}

# --------------------------------------------------------------------------- fairness audit alerts
#: Groups with fewer test rows than this are not compared; the audit lists them with their
#: size. Below about 30 people a group's rates and calibration cannot be estimated at all;
#: above it, the confidence intervals (not a larger minimum) keep noise from raising alerts.
AUDIT_MIN_GROUP_SIZE = 30
#: Bootstrap resamples behind each gap's confidence interval (rows resampled within groups).
AUDIT_BOOTSTRAP = 200
#: Confidence of those intervals. An alert needs the gap and its whole interval beyond the
#: threshold: on 20 clean synthetic populations of 20,000 people this raised no alert at all,
#: and at 200,000 people a label bias of strength 0.3 on one group (NON_EU) was caught in 20 of
#: 20 seeds, naming that group only (benchmarks/bench_audit.py).
AUDIT_CONFIDENCE = 0.95
#: A finding when a group's calibration error exceeds the best-calibrated group's by this.
AUDIT_ECE_GAP_ALERT = 0.05
#: A finding when a group's missed-support rate exceeds the best-treated group's by this.
AUDIT_MISSED_GAP_ALERT = 0.05
#: A finding when a group's recorded outcome rate differs from its true mean probability by
#: this (synthetic data only, where the truth is known): its labels look biased.
AUDIT_LABEL_TRUTH_GAP_ALERT = 0.03


# --------------------------------------------------------------------------- human oversight
#: The automation-bias signal of the oversight figures: a confirmation recorded less than this
#: many seconds after the suggestion was returned. What an advisor must read before confirming
#: (need and confidence, tier, review flags, about five explanation sentences and the suggested
#: path) is 80 to 120 words and three figures: 20 to 30 seconds at the 200-250 words a minute of
#: attentive silent reading. Ten seconds is too short to have read even the explanation, so a
#: confirmation below it was most likely given without reading. The figure is a share over many
#: decisions (an advisor, an agency), never a verdict on one decision. Suggestion times are kept
#: to the second (rounded down), so a measured delay is at most 1 s too long: the share is, if
#: anything, underestimated.
QUICK_CONFIRMATION_SECONDS = 10
#: Confidence level of every interval in the oversight figures (Wilson score intervals).
OVERSIGHT_CONFIDENCE = 0.95
#: Below this many decisions, a rate is printed with its interval but marked « effectif faible »
#: in the oversight report: with 30 decisions a 95 % interval is still about ±17 points wide.
OVERSIGHT_MIN_DECISIONS = 30


@dataclass(frozen=True)
class TierBands:
    """Employability tier bands on the calibrated probability: A if p >= a, B if p >= b, else C."""

    a: float = TIER_A_MIN
    b: float = TIER_B_MIN

    def __post_init__(self) -> None:
        if not 0 < self.b < self.a < 1:
            raise InvalidInput(f"tier bands must satisfy 0 < B ({self.b}) < A ({self.a}) < 1")

    def tier(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        return np.where(p >= self.a, "A", np.where(p >= self.b, "B", "C"))

    def to_dict(self) -> dict[str, float]:
        return {"A": self.a, "B": self.b}


@dataclass(frozen=True)
class ReviewPolicy:
    """When a suggestion is flagged for careful review by the advisor.

    ``LOW_CONFIDENCE``: the suggested need's probability is below ``min_top_probability``;
    ``CLOSE_CALL``: the two most likely needs are within ``min_margin``;
    ``TIER_BORDERLINE``: the employability probability is within ``tier_borderline`` of a band.
    """

    min_top_probability: float = REVIEW_MIN_TOP_PROBABILITY
    min_margin: float = REVIEW_MIN_MARGIN
    tier_borderline: float = REVIEW_TIER_BORDERLINE

    def flags(
        self, need_proba: np.ndarray | None, p_employed: np.ndarray | None, bands: TierBands
    ) -> dict[str, np.ndarray]:
        """Each review reason as a boolean vector over the rows (vectorised for batches)."""
        out: dict[str, np.ndarray] = {}
        if need_proba is not None:
            top2 = np.sort(need_proba, axis=1)[:, -2:]
            out["LOW_CONFIDENCE"] = top2[:, 1] < self.min_top_probability
            out["CLOSE_CALL"] = top2[:, 1] - top2[:, 0] < self.min_margin
        if p_employed is not None:
            out["TIER_BORDERLINE"] = (np.abs(p_employed - bands.a) < self.tier_borderline) | (
                np.abs(p_employed - bands.b) < self.tier_borderline
            )
        return out


def confidence_level(p: float | None) -> str | None:
    """``high`` / ``medium`` / ``low`` confidence in a suggested need (None when there is none)."""
    if p is None:
        return None
    if p >= CONFIDENCE_HIGH_MIN:
        return "high"
    if p >= CONFIDENCE_MEDIUM_MIN:
        return "medium"
    return "low"
