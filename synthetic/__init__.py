"""Synthetic job-seeker population, calibrated on published figures, with known truth.

There is no real data. This package draws a population of registered job seekers
(categories A, B and C) whose marginals match the published figures of
``shared/calibration.md`` and whose labels are drawn from *known* probabilities, so
that any model can be compared with the best possible one (the Bayes rule).

The generative story (the full version, with every figure and assumption, is
``docs/data-card.md``), module by module:

1. ``_territory``: a fixed territory of 100 agencies, each with a local unemployment
   rate, a rural share, a propensity of priority neighbourhoods (QPV) and a
   labour-market tension shift. Persons are spread over agencies and inherit these
   with small noise.
2. ``_person``: each person has protected and sensitive attributes (sex, nationality
   group, age, disability recognition) and **latent factors**: precarity (common
   cause of the non-work barriers), distance to employment, human capital, readiness
   of the professional project, search skills, digital skills, entrepreneurial drive,
   health, activity while registered.
3. ``_draws`` and ``_work_history``: the latents (and the protected attributes, as in
   reality) drive the **observed features**: education, qualification, occupation and
   its tension, registration length, months worked, benefits, RSA, each barrier
   (mobility, housing, health, childcare, financial, digital, language), the
   self-assessments (with a few % missing answers)...
4. ``_truth``: the **truth columns are computed from the observed model-input columns
   only** (features plus the sensitive columns ``age`` and ``disability_recognition``;
   never sex, nationality or a latent): :func:`need_probabilities` and
   :func:`employment_probability`. The recorded labels are drawn from exactly these
   probabilities, so the Bayes-optimal rule from the model inputs is the argmax of
   the truth columns (and ``true_p_employed_6m`` itself for employability).
   Advisor disagreement is folded into the truth: ``p = (1-ε)·softmax + ε·π``.
5. ``_label_bias``: optionally (:class:`LabelBias`, off by default), the *recorded*
   labels of one group are made systematically worse than the truth; the truth is
   unchanged.

6. ``_experiment_agencies``: for the MSA experiment, :func:`generate_agencies` makes an
   agency table to draw from, and ``generate_population(..., agencies=K, icc=R)``
   spreads people over those K agencies with an agency random effect of intra-agency
   correlation R (off by default; the default frame is unchanged). ``_outcomes``:
   :func:`simulate_outcomes` draws six-month employment after a draw with a given effect
   per arm, and :func:`oracle_scores` gives the baseline scores a perfect model would.

``_population`` assembles the frame; ``_report`` measures it against the targets of
``_targets``. The fitted constants (``_calibrated``) are plain literals, refitted
offline by ``scripts/recalibrate_synthetic.py``; nothing changes them at run time.

Everything is vectorised numpy drawn from ``np.random.default_rng(seed)``: the same
seed gives the same frame, hence the same bytes through :func:`features.io.write_table`.
"""

from __future__ import annotations

from synthetic._codes import NULLABLE_COLUMNS, TRUTH_INPUT_COLUMNS
from synthetic._errors import SyntheticInputError
from synthetic._experiment_agencies import (
    AGENCY_COLUMNS,
    REGIONS,
    agencies_path,
    agency_effect_scale,
    generate_agencies,
)
from synthetic._label_bias import LabelBias, parse_label_bias
from synthetic._outcomes import (
    DEFAULT_OBSERVED_ON,
    OUTCOME_COLUMNS,
    oracle_scores,
    parse_arm_effect,
    simulate_outcomes,
)
from synthetic._population import generate_population
from synthetic._report import (
    CALIBRATION_TARGETS,
    CalibrationRow,
    CalibrationTarget,
    bayes_reference,
    calibration_report,
)
from synthetic._targets import (
    BAYES_EMP_AUC_BAND,
    BAYES_NEED_ACCURACY_BAND,
    MISSING_BAND,
    NEED_LABEL_NOISE,
    NEED_SHARES,
)
from synthetic._territory import N_AGENCIES, Agencies, agency_table
from synthetic._truth import employment_probability, need_probabilities, true_probabilities

__all__ = [
    "AGENCY_COLUMNS",
    "BAYES_EMP_AUC_BAND",
    "BAYES_NEED_ACCURACY_BAND",
    "CALIBRATION_TARGETS",
    "DEFAULT_OBSERVED_ON",
    "MISSING_BAND",
    "NEED_LABEL_NOISE",
    "NEED_SHARES",
    "NULLABLE_COLUMNS",
    "N_AGENCIES",
    "OUTCOME_COLUMNS",
    "REGIONS",
    "TRUTH_INPUT_COLUMNS",
    "Agencies",
    "CalibrationRow",
    "CalibrationTarget",
    "LabelBias",
    "SyntheticInputError",
    "agencies_path",
    "agency_effect_scale",
    "agency_table",
    "bayes_reference",
    "calibration_report",
    "employment_probability",
    "generate_agencies",
    "generate_population",
    "need_probabilities",
    "oracle_scores",
    "parse_arm_effect",
    "parse_label_bias",
    "simulate_outcomes",
    "true_probabilities",
]
