"""The truth: need and employability probabilities as functions of the observed model inputs only.

The truth columns are computed from the model-input columns (features plus the
sensitive ``age`` and ``disability_recognition``; never sex, nationality or a latent),
so the Bayes-optimal rule from the model inputs is the argmax of the truth columns
(and ``true_p_employed_6m`` itself for employability). Advisor disagreement is folded
into the truth: ``p = (1-ε)·softmax + ε·π``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.schema import FIELDS_BY_NAME, NEED_CODES, TRUTH_EMPLOYMENT_COLUMN, TRUTH_NEED_COLUMNS
from synthetic._calibrated import CALIBRATED, CalibratedConstants
from synthetic._codes import CODE_POSITION, TRUTH_INPUT_COLUMNS
from synthetic._errors import SyntheticInputError
from synthetic._sampling import sigmoid, softmax
from synthetic._targets import NEED_LABEL_NOISE, NEED_SHARES


def _self_assessment(x: np.ndarray) -> np.ndarray:
    """1..4 → -1..1; a missing answer counts as the neutral midpoint (0)."""
    out = (x - 2.5) / 1.5
    return np.where(np.isnan(out), 0.0, out)


def _barrier_score(c: dict[str, np.ndarray]) -> np.ndarray:
    """Intensity of the non-work barriers seen in the profile (0 = none)."""
    code = CODE_POSITION
    hou = c["housing"]
    hea = c["health_limitation"]
    chi = c["childcare_constraint"]
    fre = c["french_proficiency"]
    tra = c["public_transport"]
    no_car = ~c["driving_licence"] & ~c["vehicle_access"]
    da = c["digital_autonomy"]
    s = (
        1.0 * (hou == code["housing"]["PRECARIOUS"])
        + 2.0 * (hou == code["housing"]["NONE"])
        + 0.7 * (hea == code["health"]["MODERATE"])
        + 1.6 * (hea == code["health"]["SEVERE"])
        + 0.4 * (chi == code["childcare"]["PARTIAL"])
        + 1.2 * (chi == code["childcare"]["STRONG"])
        + 0.7 * c["financial_difficulty"]
        + no_car * (0.3 + 0.5 * (tra == code["transport"]["LIMITED"]) + 1.0 * (tra == code["transport"]["NONE"]))
        + 0.5 * (fre == code["french"]["INTERMEDIATE"])
        + 1.5 * (fre == code["french"]["BASIC"])
        + 0.5 * c["rsa_recipient"]
        + 0.4 * (da == 1)
        + 0.3 * c["single_parent"]
    )
    return s


def _need_logits(c: dict[str, np.ndarray], constants: CalibratedConstants) -> np.ndarray:
    age = c["age"].astype(np.float64)
    mw = c["months_worked_24m"] / 24.0
    expf = np.minimum(c["experience_years"], 15.0) / 15.0
    ten = c["occupation_tension"]
    clar = _self_assessment(c["project_clarity"])
    auto = _self_assessment(c["job_search_autonomy"])
    dig = _self_assessment(c["digital_autonomy"])
    regl = np.log1p(c["registration_months"]) / np.log(241.0)
    young = sigmoid((25.5 - age) / 2.0)
    eduv = c["education_level"].astype(np.float64)
    edu_low = np.clip(2.0 - eduv, 0.0, 2.0) / 2.0
    qual = c["qualification"]
    qi = CODE_POSITION["qual"]
    qual_low = 1.0 * ((qual == qi["UNSKILLED_WORKER"]) | (qual == qi["UNSKILLED_EMPLOYEE"])) + 0.3 * (
        (qual == qi["SKILLED_WORKER"]) | (qual == qi["SKILLED_EMPLOYEE"])
    )
    contract = c["last_contract"]
    ci = CODE_POSITION["contract"]
    worked_contract = (contract == ci["CDI"]) | (contract == ci["CDD"]) | (contract == ci["INTERIM"])
    s = _barrier_score(c)
    past = np.minimum(c["past_registrations_5y"], 4) / 4.0

    logits = np.empty((len(age), 6))
    logits[:, 0] = (
        2.2 * mw + 0.9 * expf + 1.3 * ten + 0.6 * auto + 0.5 * clar - 0.6 * s + 0.4 * worked_contract
    )  # DIRECT_EMPLOYMENT
    logits[:, 1] = (
        -1.0 * auto + 0.5 * clar + 0.6 * expf + 0.9 * regl + 0.4 * past + 0.2 * dig - 0.3 * s
    )  # SEARCH_SKILLS
    logits[:, 2] = -1.3 * clar + 1.2 * young - 0.8 * expf + 0.3 * (eduv >= 3) - 0.3 * s  # CAREER_PROJECT
    logits[:, 3] = (
        1.2 * edu_low + 0.8 * qual_low - 1.0 * ten - 1.0 * c["recent_training_12m"] + 0.2 * young - 0.3 * s
    )  # TRAINING
    logits[:, 4] = 1.0 * s + 0.15 * s * s  # SOCIAL_BARRIERS
    logits[:, 5] = 4.0 * c["business_creation_interest"] + 1.2 * (contract == ci["SELF_EMPLOYED"])  # BUSINESS
    logits *= constants.need_scale
    logits += np.asarray(constants.need_intercepts)[None, :]
    return logits


def need_probabilities(c: dict[str, np.ndarray], *, constants: CalibratedConstants = CALIBRATED) -> np.ndarray:
    """True need probabilities (n, 6), in NEED_CODES order, rows summing to 1.

    ``p = (1 - ε)·softmax(logits) + ε·π`` with ``ε = NEED_LABEL_NOISE`` and ``π`` the
    assumed need shares: with probability ε the advisor records a need unrelated to
    the profile (disagreement between advisors).
    """
    p = softmax(_need_logits(c, constants))
    p *= 1.0 - NEED_LABEL_NOISE
    p += NEED_LABEL_NOISE * np.array([NEED_SHARES[k] for k in NEED_CODES])[None, :]
    return p


def _employment_logit(c: dict[str, np.ndarray], constants: CalibratedConstants) -> np.ndarray:
    code = CODE_POSITION
    age = c["age"].astype(np.float64)
    u = c["local_unemployment_rate"]
    reg = c["registration_months"].astype(np.float64)
    ten = c["occupation_tension"]
    expf = np.minimum(c["experience_years"], 15.0) / 15.0
    hea = c["health_limitation"]
    hou = c["housing"]
    fre = c["french_proficiency"]
    chi = c["childcare_constraint"]
    cat = c["category"]
    contract = c["last_contract"]
    ci = code["contract"]
    no_lic = ~c["driving_licence"]
    are_end = c["unemployment_benefit"] & (c["benefit_days_left"] < 60)
    g = (
        1.5 * np.log1p(c["months_worked_24m"]) / np.log(25.0)  # monotone in months worked
        - (0.30 + 3.0 * u) * np.log1p(reg)  # registration length, worse where unemployment is high
        - 6.0 * (u - 0.073)
        + 0.8 * ten
        + 1.2 * ten * expf  # experience pays off in tight occupations
        - 1.2 * ((age - 37.0) / 20.0) ** 2
        - 0.9 * np.maximum(age - 55.0, 0.0) / 10.0  # non-monotone age
        - 0.35 * (hea == code["health"]["MODERATE"])
        - 0.9 * (hea == code["health"]["SEVERE"])
        - 0.35 * c["disability_recognition"]
        - 0.3 * (hou == code["housing"]["PRECARIOUS"])
        - 0.8 * (hou == code["housing"]["NONE"])
        - 0.2 * (fre == code["french"]["INTERMEDIATE"])
        - 0.5 * (fre == code["french"]["BASIC"])
        - no_lic * (0.2 + 0.5 * c["rural_area"] + 0.3 * (c["public_transport"] == code["transport"]["NONE"]))
        - 0.15 * (chi == code["childcare"]["PARTIAL"])
        - 0.5 * (chi == code["childcare"]["STRONG"])
        + 0.1 * c["education_level"]
        + 0.35 * (cat == code["cat"]["B"])
        + constants.employment_category_c * (cat == code["cat"]["C"])
        - 0.35 * c["rsa_recipient"]
        + 0.25 * _self_assessment(c["job_search_autonomy"])
        + 0.15 * _self_assessment(c["project_clarity"])
        + 0.1 * _self_assessment(c["digital_autonomy"])
        + 0.06 * np.minimum(c["past_registrations_5y"], 6)
        + 0.2 * c["recent_training_12m"]
        + 0.25 * are_end
        + 0.2 * (contract == ci["INTERIM"])
        - 0.3 * (contract == ci["NONE"])
        - 0.1 * c["single_parent"]
        - 0.1 * c["financial_difficulty"]
    )
    return constants.employment_intercept + constants.employment_scale * g


def employment_probability(c: dict[str, np.ndarray], *, constants: CalibratedConstants = CALIBRATED) -> np.ndarray:
    """True probability of ``employed_6m`` (n,)."""
    return sigmoid(_employment_logit(c, constants))


def _arrays_from_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Model-input columns of a frame in the generator's internal representation."""
    c: dict[str, np.ndarray] = {}
    for name in TRUTH_INPUT_COLUMNS:
        f = FIELDS_BY_NAME[name]
        col = frame[name]
        if f.kind == "category":
            codes = pd.Categorical(
                col.astype(str) if not isinstance(col.dtype, pd.CategoricalDtype) else col, categories=f.codes
            ).codes
            if (codes < 0).any():
                raise SyntheticInputError(f"{name}: values outside {', '.join(f.codes or ())}")
            c[name] = codes.astype(np.int8)
        elif f.kind == "boolean":
            c[name] = _as_bool(name, col)
        else:
            if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):  # text, e.g. read from CSV
                col = pd.to_numeric(col.replace("", np.nan), errors="raise")
            if f.nullable:
                c[name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            elif f.kind == "integer":
                c[name] = col.to_numpy(dtype=np.int64)
            else:
                c[name] = col.to_numpy(dtype=np.float64)
    return c


def _as_bool(name: str, col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=bool)
    text = col.astype(str).str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0"])
    if not known.all():
        raise SyntheticInputError(f"{name}: values must be true or false, got {text[~known].iloc[0]!r}")
    return text.isin(["true", "1"]).to_numpy()


def true_probabilities(frame: pd.DataFrame) -> pd.DataFrame:
    """The truth columns recomputed from the model-input columns of ``frame`` only."""
    c = _arrays_from_frame(frame)
    p = need_probabilities(c)
    out = pd.DataFrame(p, columns=list(TRUTH_NEED_COLUMNS), index=frame.index)
    out[TRUTH_EMPLOYMENT_COLUMN] = employment_probability(c)
    return out
