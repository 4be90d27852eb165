"""The figures the population is calibrated on: published targets and stated assumptions.

Published figures come from ``shared/calibration.md``; every assumption is argued in
``docs/data-card.md``. The generator draws from them, the calibration report measures
a population against them, and ``scripts/recalibrate_synthetic.py`` refits the
generator's constants to them.
"""

from __future__ import annotations

from core.age import AGE_BAND_LABELS
from features.schema import NEED_CODES

SHARE_CATEGORY = {"A": 0.571, "B": 0.152, "C": 0.277}  # INSEE Références 2025
SHARE_WOMEN = 0.512  # INSEE Références 2025
#: By the age bands of core.age, which are those of the published statistics.
SHARE_AGE = {"<25": 0.131, "25-49": 0.597, "50+": 0.272}  # INSEE Références 2025
assert tuple(SHARE_AGE) == AGE_BAND_LABELS
SHARE_DISABILITY = 0.093  # Agefiph 2024 (512.6k of 5,492k)
DISABLED_50_PLUS = 0.52  # Agefiph 2024
DISABLED_REGISTERED_1Y = 0.54  # Agefiph 2024
SHARE_REGISTERED_1Y = 0.436  # INSEE Références 2025
SHARE_BAC_PLUS = 0.56  # Agefiph 2024
SHARE_RSA = 0.15  # DARES Sept 2024; Unédic
SHARE_QPV = 0.13  # ONPV (June 2018)
QPV_BELOW_BAC = 0.60  # ONPV: 3 in 5 below the baccalauréat
EMPLOYED_6M_AB = 0.358  # France Travail, Stats & indicateurs 25.027
#: Assumption (no public figure for the stock of category C): people already working
#: more than 78 h a month reach a job of at least one month more often than A and B.
EMPLOYED_6M_C = 0.58
#: Assumption: the distribution of primary needs (no public figure).
NEED_SHARES: dict[str, float] = {
    "DIRECT_EMPLOYMENT": 0.28,
    "SEARCH_SKILLS": 0.20,
    "CAREER_PROJECT": 0.16,
    "TRAINING": 0.16,
    "SOCIAL_BARRIERS": 0.15,
    "BUSINESS_CREATION": 0.05,
}
assert tuple(NEED_SHARES) == NEED_CODES
#: Assumption: nationality groups of the registered stock.
SHARE_NATIONALITY = {"FR": 0.86, "EU": 0.03, "NON_EU": 0.11}
#: Assumption: full education breakdown (only "bac or higher = 56%" is published).
SHARE_EDUCATION = {"NONE": 0.17, "CAP_BEP": 0.27, "BAC": 0.25, "BAC2": 0.14, "BAC3_PLUS": 0.17}
#: Assumption: health limitation NONE / MODERATE / SEVERE.
SHARE_HEALTH_LIMITATION = {"NONE": 0.80, "MODERATE": 0.14, "SEVERE": 0.06}
#: Share of each self-assessment left unanswered (documented band 3-6%).
MISSING_BAND = (0.03, 0.06)
#: Advisor labelling noise: weight of the fixed distribution NEED_SHARES in p_need.
NEED_LABEL_NOISE = 0.06
#: Bands the Bayes rule must reach on the population (the issue's contract).
BAYES_NEED_ACCURACY_BAND = (0.65, 0.85)
BAYES_EMP_AUC_BAND = (0.75, 0.85)
