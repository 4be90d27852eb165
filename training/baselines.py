"""Reference models trained and scored in the same run, on the same split.

* ``logreg``: multinomial and binary logistic regressions on one-hot / scaled inputs.
* ``rules``: a transparent orientation in the spirit of France's November 2024 criteria
  (recent work activity, project clarity, qualification, non-work barriers). It needs
  the reference profile columns, so it is skipped for other datasets. Its hard
  decisions get probabilities from lookup tables counted on the training split (the
  share of each recorded need given the rule's need, the employment rate per points
  score), so that log loss, Brier and calibration are comparable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from features.schema import NEED_CODES
from features.spec import TrainingSpec
from features.transforms import one_hot_preprocessor, to_float_frame

RULE_COLUMNS = (
    "months_worked_24m",
    "project_clarity",
    "job_search_autonomy",
    "education_level",
    "qualification",
    "housing",
    "health_limitation",
    "childcare_constraint",
    "financial_difficulty",
    "french_proficiency",
    "driving_licence",
    "public_transport",
    "business_creation_interest",
    "last_contract",
    "registration_months",
    "recent_training_12m",
)


def logreg_pipeline(spec: TrainingSpec, seed: int) -> Pipeline:
    return Pipeline(
        [
            ("prepare", one_hot_preprocessor(spec)),
            ("classifier", LogisticRegression(max_iter=300, C=1.0, random_state=seed)),
        ]
    )


def fit_logreg(spec: TrainingSpec, frame: pd.DataFrame, y: np.ndarray, seed: int) -> Pipeline:
    return logreg_pipeline(spec, seed).fit(to_float_frame(frame, spec), y)


def logreg_proba(pipeline: Pipeline, spec: TrainingSpec, frame: pd.DataFrame) -> np.ndarray:
    return pipeline.predict_proba(to_float_frame(frame, spec))


def rules_available(frame: pd.DataFrame) -> bool:
    return all(c in frame.columns for c in RULE_COLUMNS)


def _flag(frame: pd.DataFrame, column: str, values: tuple) -> np.ndarray:
    return frame[column].isin(values).fillna(False).to_numpy(dtype=bool)


def _level(frame: pd.DataFrame, column: str, default: float) -> np.ndarray:
    return frame[column].astype("Float64").to_numpy(dtype=float, na_value=default)


def barrier_count(frame: pd.DataFrame) -> np.ndarray:
    """Number of non-work barriers declared (housing, health, childcare, money, language, mobility)."""
    return (
        _flag(frame, "housing", ("PRECARIOUS", "NONE")).astype(int)
        + _flag(frame, "health_limitation", ("MODERATE", "SEVERE"))
        + _flag(frame, "childcare_constraint", ("STRONG",))
        + frame["financial_difficulty"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        + _flag(frame, "french_proficiency", ("BASIC",))
        + (
            ~frame["driving_licence"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            & _flag(frame, "public_transport", ("NONE", "LIMITED"))
        )
    )


def rule_need(frame: pd.DataFrame) -> np.ndarray:
    """The rule-based primary need, first matching rule wins."""
    barriers = barrier_count(frame)
    worked = _level(frame, "months_worked_24m", 0)
    clarity = _level(frame, "project_clarity", 2)
    autonomy = _level(frame, "job_search_autonomy", 2)
    low_qualification = _flag(frame, "education_level", ("NONE", "CAP_BEP")) & _flag(
        frame, "qualification", ("UNSKILLED_WORKER", "UNSKILLED_EMPLOYEE")
    )
    business = frame["business_creation_interest"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    conditions = [
        business,
        barriers >= 2,
        clarity <= 2,
        low_qualification,
        (worked >= 6) & (autonomy >= 3),
    ]
    choices = ["BUSINESS_CREATION", "SOCIAL_BARRIERS", "CAREER_PROJECT", "TRAINING", "DIRECT_EMPLOYMENT"]
    return np.select(conditions, choices, default="SEARCH_SKILLS")


def rule_points(frame: pd.DataFrame) -> np.ndarray:
    """An additive employability score: recent work, clarity, qualification, minus barriers."""
    worked = _level(frame, "months_worked_24m", 0)
    clarity = _level(frame, "project_clarity", 2)
    registration = _level(frame, "registration_months", 12)
    qualified = ~_flag(frame, "education_level", ("NONE",))
    return (
        np.minimum(worked // 6, 3)
        + (clarity >= 3)
        + qualified
        + (registration < 12)
        - np.minimum(barrier_count(frame), 3)
    ).astype(int)


class RulesBaseline:
    """Rule-based orientation with probabilities looked up from the training split."""

    def fit(self, frame: pd.DataFrame, y_need: np.ndarray | None, y_emp: np.ndarray | None) -> RulesBaseline:
        self.classes_ = list(NEED_CODES)
        if y_need is not None:
            rule = rule_need(frame)
            table = pd.crosstab(pd.Series(rule, name="rule"), pd.Series(np.asarray(y_need), name="need"))
            table = table.reindex(index=self.classes_, columns=self.classes_, fill_value=0) + 1.0
            self.need_table_ = (table.div(table.sum(axis=1), axis=0)).to_numpy()
        if y_emp is not None:
            points = rule_points(frame)
            rates = pd.Series(np.asarray(y_emp, dtype=float)).groupby(points).agg(["sum", "count"])
            self.points_rate_ = ((rates["sum"] + 1) / (rates["count"] + 2)).to_dict()
            self.default_rate_ = float(np.mean(y_emp))
        return self

    def need_proba(self, frame: pd.DataFrame) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes_)}
        rows = np.array([index[c] for c in rule_need(frame)])
        return self.need_table_[rows]

    def employment_proba(self, frame: pd.DataFrame) -> np.ndarray:
        points = rule_points(frame)
        return np.array([self.points_rate_.get(int(p), self.default_rate_) for p in points])
