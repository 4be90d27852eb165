"""The segmentation model: primary need, employability tier, and their explanations.

:class:`SegmentationModel` holds the two fitted scikit-learn pipelines (each a
:class:`~features.transforms.FrameEncoder` followed by a LightGBM classifier), the
employability calibrator, the tier bands and the review policy. It is the one place
that turns profiles into suggestions: the service, the batch scorer and the MLflow
pyfunc all call :meth:`SegmentationModel.suggest_encoded`, so that they agree exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core import french
from core.errors import InvalidInput
from core.thresholds import ReviewPolicy, TierBands  # also keeps pickled models loading (their class paths)
from features.schema import FIELDS_BY_NAME, NEEDS, PROTECTED_COLUMNS, TIERS
from features.spec import PROFILE_SPEC_NAME, TrainingSpec
from features.transforms import FrameEncoder, UnknownCategoryError
from features.validation import ColumnRule, DataValidationError, validate_frame
from models.calibration import ProbabilityCalibrator
from models.explainer import ClassExplainer, Contributions, contributions
from models.suggestion import (
    EmployabilityOut,
    Explanation,
    Explanations,
    Factor,
    ModelSuggestion,
    NeedShare,
    NeedSuggestion,
    ReviewReason,
    TierBandsOut,
    TierCode,
)


class ModelInputError(InvalidInput):
    """Data the fitted model cannot take: a missing input column or an unknown code."""


NEED_UNITS = "log-odds (softmax margin of the suggested need)"
EMPLOYABILITY_UNITS = "log-odds (uncalibrated employability score)"


def review_reasons(
    policy: ReviewPolicy, need_proba: np.ndarray | None, p_employed: float | None, bands: TierBands
) -> list[ReviewReason]:
    """The review reasons of one row, with a French message for the advisor."""
    flags = policy.flags(
        None if need_proba is None else need_proba[None, :],
        None if p_employed is None else np.array([p_employed]),
        bands,
    )
    reasons = []
    if need_proba is not None:
        top2 = np.sort(need_proba)[-2:]
        if flags["LOW_CONFIDENCE"][0]:
            reasons.append(
                ReviewReason(
                    code="LOW_CONFIDENCE",
                    message_fr=(
                        f"Le modèle est peu sûr : le besoin suggéré n'a que {french.percent(top2[1])} de probabilité."
                    ),
                )
            )
        if flags["CLOSE_CALL"][0]:
            reasons.append(
                ReviewReason(
                    code="CLOSE_CALL",
                    message_fr=(
                        f"Deux besoins sont proches ({french.percent(top2[1])} et {french.percent(top2[0])}) : "
                        "examinez les deux avec la personne."
                    ),
                )
            )
    if p_employed is not None and flags["TIER_BORDERLINE"][0]:
        edge, name = min(((bands.a, "A"), (bands.b, "B")), key=lambda e: abs(p_employed - e[0]))
        reasons.append(
            ReviewReason(
                code="TIER_BORDERLINE",
                message_fr=(
                    f"La probabilité d'accès à l'emploi ({french.percent(p_employed)}) est à la limite "
                    f"du palier {name} ({french.percent(edge)})."
                ),
            )
        )
    return reasons


def softmax(raw: np.ndarray) -> np.ndarray:
    z = raw - raw.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(raw: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-raw))


@dataclass
class Scores:
    """Model outputs for a batch, before they are turned into suggestions."""

    X: np.ndarray
    need_raw: np.ndarray | None = None
    need_proba: np.ndarray | None = None
    emp_raw: np.ndarray | None = None
    p_employed_raw: np.ndarray | None = None
    p_employed: np.ndarray | None = None
    tier: np.ndarray | None = None

    @property
    def need_index(self) -> np.ndarray | None:
        return None if self.need_proba is None else self.need_proba.argmax(axis=1)


@dataclass
class SegmentationModel:
    """Both fitted pipelines and the policy that turns their scores into suggestions.

    Either pipeline may be ``None`` when the dataset had no such label.
    """

    spec: TrainingSpec
    need_pipeline: Pipeline | None
    need_classes: list[str]
    emp_pipeline: Pipeline | None
    calibrator: ProbabilityCalibrator | None
    tier_bands: TierBands = field(default_factory=TierBands)
    review: ReviewPolicy = field(default_factory=ReviewPolicy)
    top_factors: int = 6
    #: Inputs that had missing values in the training data: the only ones a caller may leave out.
    inputs_seen_missing: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._prepare()

    def _prepare(self) -> None:
        pipeline = self.need_pipeline or self.emp_pipeline
        if pipeline is None:
            raise ValueError("a segmentation model needs at least one fitted pipeline")
        self.encoder: FrameEncoder = pipeline.named_steps["encode"]
        self._need_booster = self.need_pipeline[-1].booster_ if self.need_pipeline is not None else None
        self._emp_booster = self.emp_pipeline[-1].booster_ if self.emp_pipeline is not None else None
        self._need_explainer = ClassExplainer(self._need_booster).fit() if self._need_booster else None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for key in ("encoder", "_need_booster", "_emp_booster", "_need_explainer"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("inputs_seen_missing", [])  # models pickled before it existed
        self.__dict__.update(state)
        self._prepare()

    # -- introspection ------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        return list(self.encoder.feature_names_out_)

    @property
    def has_need(self) -> bool:
        return self.need_pipeline is not None

    @property
    def has_employability(self) -> bool:
        return self.emp_pipeline is not None

    @property
    def boosters(self) -> tuple[lgb.Booster | None, lgb.Booster | None]:
        """The need and employability boosters (None for a model without that label)."""
        return self._need_booster, self._emp_booster

    def set_threads(self, n: int) -> None:
        """LightGBM threads for prediction (one per worker when serving several workers)."""
        for pipeline in (self.need_pipeline, self.emp_pipeline):
            if pipeline is not None:
                pipeline[-1].set_params(n_jobs=n)

    # -- input rules --------------------------------------------------------------------
    def input_rules(self) -> list[ColumnRule]:
        """The rules an input frame must meet: the spec's, with missing values allowed only
        where training saw them (a branch the model never learnt otherwise decides)."""
        rules = []
        for column in self.spec.inputs:
            rule = column.rule(labels=False)
            rules.append(replace(rule, nullable=rule.nullable and column.name in self.inputs_seen_missing))
        return rules

    def validate_inputs(self, frame: pd.DataFrame, source: str = "input") -> pd.DataFrame:
        """The model's inputs of ``frame``, typed and checked like the API checks a profile.

        An input that training saw missing may be left out (it is then missing for every
        row). :class:`ModelInputError` names each column and rule broken, with a summary.
        """
        frame = frame.copy()
        for name in self.inputs_seen_missing:
            if name not in frame.columns:
                frame[name] = None
        try:
            return validate_frame(frame, self.input_rules(), source=source)
        except DataValidationError as exc:
            lines = exc.summary()
            raise ModelInputError(
                f"{source}: {len(exc.messages)} problem(s): "
                + "; ".join(lines[:10])
                + (f"; and {len(lines) - 10} more" if len(lines) > 10 else "")
            ) from None

    # -- scoring ------------------------------------------------------------------------
    def encode_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's input matrix; :class:`ModelInputError` names a missing column or unknown code."""
        try:
            return self.encoder.transform(frame)
        except UnknownCategoryError as exc:
            raise ModelInputError(f"the model does not know a code of the data: {exc}") from exc
        except KeyError as exc:
            raise ModelInputError(f"column {exc.args[0]!r} is a model input but is missing from the data") from exc

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.encoder.encode_records(records)

    def score(self, X: np.ndarray) -> Scores:
        if len(X) == 0:
            return self._empty_scores(X)
        threads = 1 if len(X) < 64 else 0
        scores = Scores(X=X)
        if self._need_booster is not None:
            n_classes = len(self.need_classes)
            # LightGBM returns a flat array for an empty input: keep the (0, K) shape.
            scores.need_raw = self._need_booster.predict(X, raw_score=True, num_threads=threads).reshape(
                len(X), n_classes
            )
            scores.need_proba = softmax(scores.need_raw)
        if self._emp_booster is not None:
            scores.emp_raw = self._emp_booster.predict(X, raw_score=True, num_threads=threads)
            scores.p_employed_raw = sigmoid(scores.emp_raw)
            scores.p_employed = (
                self.calibrator.transform(scores.p_employed_raw)
                if self.calibrator is not None
                else scores.p_employed_raw
            )
            scores.tier = self.tier_bands.tier(scores.p_employed)
        return scores

    def _empty_scores(self, X: np.ndarray) -> Scores:
        """Scores of no row (LightGBM cannot predict on an empty matrix)."""
        scores = Scores(X=X)
        if self.has_need:
            scores.need_raw = np.empty((0, len(self.need_classes)))
            scores.need_proba = scores.need_raw.copy()
        if self.has_employability:
            scores.emp_raw = scores.p_employed_raw = scores.p_employed = np.empty(0)
            scores.tier = np.empty(0, dtype=object)
        return scores

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Scores as a frame: need, need_proba_<CODE>, p_employed, tier, needs_review."""
        return self.scores_to_frame(self.score(self.encode_frame(frame)), index=frame.index)

    def scores_to_frame(self, scores: Scores, index: pd.Index | None = None) -> pd.DataFrame:
        out: dict[str, Any] = {}
        if scores.need_proba is not None:
            out["need"] = np.asarray(self.need_classes, dtype=object)[scores.need_index]
            for j, code in enumerate(self.need_classes):
                out[f"need_proba_{code}"] = scores.need_proba[:, j]
        if scores.p_employed is not None:
            out["p_employed"] = scores.p_employed
            out["tier"] = scores.tier
        out["needs_review"] = self._needs_review_vector(scores)
        return pd.DataFrame(out, index=index)

    def _needs_review_vector(self, scores: Scores) -> np.ndarray:
        flags = self.review.flags(scores.need_proba, scores.p_employed, self.tier_bands)
        return np.logical_or.reduce([*flags.values(), np.zeros(len(scores.X), dtype=bool)])

    # -- explanations -------------------------------------------------------------------
    def explain_need(self, X: np.ndarray, classes: np.ndarray) -> Contributions:
        if self._need_explainer is None:
            raise InvalidInput("this model has no need label: there is no need to explain")
        return self._need_explainer.explain(X, classes)

    def explain_employability(self, X: np.ndarray) -> Contributions:
        if self._emp_booster is None:
            raise InvalidInput("this model has no employment label: there is no employability to explain")
        return contributions(self._emp_booster, X)

    def _explanation(
        self, x: np.ndarray, contrib: np.ndarray, base: float, target_label: str | None, units: str, target: str
    ) -> Explanation:
        order = np.argsort(-np.abs(contrib), kind="stable")
        shown = order[: self.top_factors]
        factors = []
        for j in shown:
            name = self.feature_names[j]
            value = self.encoder.decode_value(name, x[j])
            factors.append(explained_factor(name, value, float(contrib[j]), target_label, self.spec))
        return Explanation(
            target=target,
            units=units,
            base_value=float(base),
            raw_score=float(base + contrib.sum()),
            factors=factors,
            other_contribution=float(contrib[order[self.top_factors :]].sum()),
        )

    def suggest_encoded(self, X: np.ndarray, explain: bool = True) -> list[ModelSuggestion]:
        """Suggestions for encoded rows (the model's part of what ``POST /suggest`` returns)."""
        if len(X) == 0:
            return []
        scores = self.score(X)
        need_idx = scores.need_index
        need_contrib = self.explain_need(X, need_idx) if explain and need_idx is not None else None
        emp_contrib = self.explain_employability(X) if explain and scores.emp_raw is not None else None
        bands = TierBandsOut(**self.tier_bands.to_dict())
        out = []
        for i in range(len(X)):
            need: NeedSuggestion | None = None
            proba_i = None
            if need_idx is not None and scores.need_proba is not None:
                proba_i = scores.need_proba[i]
                code = self.need_classes[need_idx[i]]
                need = NeedSuggestion(
                    code=code,
                    label_fr=NEEDS.get(code, code),
                    probability=float(proba_i[need_idx[i]]),
                    distribution=[
                        NeedShare(code=c, label_fr=NEEDS.get(c, c), probability=float(p))
                        for c, p in sorted(zip(self.need_classes, proba_i, strict=True), key=lambda cp: -cp[1])
                    ],
                )
            employability: EmployabilityOut | None = None
            p_emp = None
            if scores.p_employed is not None and scores.tier is not None:
                p_emp = float(scores.p_employed[i])
                tier = cast(TierCode, str(scores.tier[i]))  # TierBands.tier gives only A, B or C
                employability = EmployabilityOut(probability=p_emp, tier=tier, tier_label_fr=TIERS[tier], bands=bands)
            reasons = review_reasons(self.review, proba_i, p_emp, self.tier_bands)
            explanations = None
            if explain:
                explanations = Explanations(
                    need=None
                    if need_contrib is None or need is None
                    else self._explanation(
                        X[i], need_contrib.values[i], need_contrib.base[i], need.label_fr, NEED_UNITS, need.code
                    ),
                    employability=None
                    if emp_contrib is None
                    else self._explanation(
                        X[i], emp_contrib.values[i], emp_contrib.base[i], None, EMPLOYABILITY_UNITS, "employed_6m"
                    ),
                )
            out.append(
                ModelSuggestion(
                    need=need,
                    employability=employability,
                    needs_review=bool(reasons),
                    review_reasons=reasons,
                    explanations=explanations,
                )
            )
        return out

    def suggest_records(self, records: Sequence[Mapping[str, Any]], explain: bool = True) -> list[ModelSuggestion]:
        return self.suggest_encoded(self.encode_records(records), explain=explain)


def explained_factor(
    name: str, value: Any, contribution: float, need_label: str | None, spec: TrainingSpec | None = None
) -> Factor:
    """One explained factor, with the French sentence an advisor reads.

    Labels and sentences come from the profile schema for the reference profile, and from
    the spec (``label_fr``, ``unit``) for any other dataset, so that a column that merely
    shares a profile column's name is not described as that column.
    """
    column = None
    if spec is not None and spec.name != PROFILE_SPEC_NAME:
        try:
            column = spec.column(name)
        except KeyError:
            column = None
    schema_field = None if column is not None else FIELDS_BY_NAME.get(name)
    if (
        isinstance(value, float)
        and value.is_integer()
        and ((schema_field and schema_field.kind == "integer") or (column and column.type == "integer"))
    ):
        value = int(value)
    if column is not None:
        label = column.display_label
        shown_value = _spec_value(value, column.type)
        unit = f" {column.unit}" if column.unit and column.type in ("numeric", "integer") and value is not None else ""
        described = f"{label} : {shown_value}{unit}"
    else:
        label = schema_field.label_fr if schema_field else name
        described = schema_field.sentence_fr(value) if schema_field else f"{name} : {value}"
        shown_value = schema_field.display_value(value) if schema_field else str(value)
    towards = contribution >= 0
    if need_label is not None:
        effect = f"rapproche du besoin « {need_label} »" if towards else f"éloigne du besoin « {need_label} »"
    else:
        effect = "augmente les chances d'emploi" if towards else "réduit les chances d'emploi"
    return Factor(
        field=name,
        label_fr=label,
        value=value,
        display_value=shown_value,
        contribution=contribution,
        direction="towards" if towards else "against",
        sentence_fr=f"{described} : {effect}",
        # Protected attributes are never model inputs by default; if a spec made one an
        # input, reports to the person must not give it as a reason.
        protected=name in PROTECTED_COLUMNS or (column is not None and column.role == "protected"),
    )


def _spec_value(value: Any, kind: str | None) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "non renseigné"
    if kind == "boolean":
        return "oui" if bool(value) else "non"
    if kind in ("numeric", "integer"):
        return french.number(float(value), 2 if kind == "numeric" and not float(value).is_integer() else None)
    return str(value)


def make_lgbm(objective: str, params: Mapping[str, Any], seed: int, n_classes: int | None = None) -> lgb.LGBMClassifier:
    """A LightGBM classifier with Jalon's fixed settings and the searched ``params``."""
    base_settings: dict[str, Any] = dict(
        n_estimators=600,
        learning_rate=0.08,
        num_leaves=31,
        max_depth=-1,
        min_child_samples=40,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=0,
        verbose=-1,
    )
    base: dict[str, Any] = dict(base_settings, **params)
    if objective == "multiclass":
        return lgb.LGBMClassifier(objective="multiclass", **base)
    return lgb.LGBMClassifier(objective="binary", **base)
