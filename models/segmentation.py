"""The segmentation model: primary need, employability tier, and their explanations.

:class:`SegmentationModel` holds the two fitted scikit-learn pipelines (each a
:class:`~features.transforms.FrameEncoder` followed by a LightGBM classifier), the
employability calibrator, the tier bands and the review policy. It is the one place
that turns profiles into suggestions: the service, the batch scorer and the MLflow
pyfunc all call :meth:`SegmentationModel.suggest_encoded`, so that they agree exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from features.schema import FIELDS_BY_NAME, NEEDS, PROTECTED_COLUMNS, TIERS
from features.spec import TrainingSpec
from features.transforms import FrameEncoder, UnknownCategoryError
from models.calibration import ProbabilityCalibrator
from models.explainer import ClassExplainer, Contributions, contributions

class ModelInputError(ValueError):
    """Data the fitted model cannot take: a missing input column or an unknown code."""


NEED_UNITS = "log-odds (softmax margin of the suggested need)"
EMPLOYABILITY_UNITS = "log-odds (uncalibrated employability score)"


@dataclass(frozen=True)
class TierBands:
    """Employability tier bands on the calibrated probability: A if p >= a, B if p >= b, else C."""

    a: float = 0.60
    b: float = 0.30

    def __post_init__(self) -> None:
        if not 0 < self.b < self.a < 1:
            raise ValueError(f"tier bands must satisfy 0 < B ({self.b}) < A ({self.a}) < 1")

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

    min_top_probability: float = 0.50
    min_margin: float = 0.10
    tier_borderline: float = 0.03

    def flags(self, need_proba: np.ndarray | None, p_employed: np.ndarray | None,
              bands: TierBands) -> dict[str, np.ndarray]:
        """Each review reason as a boolean vector over the rows (vectorised for batches)."""
        out: dict[str, np.ndarray] = {}
        if need_proba is not None:
            top2 = np.sort(need_proba, axis=1)[:, -2:]
            out["LOW_CONFIDENCE"] = top2[:, 1] < self.min_top_probability
            out["CLOSE_CALL"] = top2[:, 1] - top2[:, 0] < self.min_margin
        if p_employed is not None:
            out["TIER_BORDERLINE"] = (np.abs(p_employed - bands.a) < self.tier_borderline) | (
                np.abs(p_employed - bands.b) < self.tier_borderline)
        return out

    def reasons(self, need_proba: np.ndarray | None, p_employed: float | None,
                bands: TierBands) -> list[dict[str, str]]:
        """The review reasons of one row, with a French message for the advisor."""
        flags = self.flags(None if need_proba is None else need_proba[None, :],
                           None if p_employed is None else np.array([p_employed]), bands)
        reasons = []
        if need_proba is not None:
            top2 = np.sort(need_proba)[-2:]
            if flags["LOW_CONFIDENCE"][0]:
                reasons.append({"code": "LOW_CONFIDENCE", "message_fr":
                                f"Le modèle est peu sûr : le besoin suggéré n'a que {_pct(top2[1])} de probabilité."})
            if flags["CLOSE_CALL"][0]:
                reasons.append({"code": "CLOSE_CALL", "message_fr":
                                f"Deux besoins sont proches ({_pct(top2[1])} et {_pct(top2[0])}) : "
                                "examinez les deux avec la personne."})
        if p_employed is not None and flags["TIER_BORDERLINE"][0]:
            edge, name = min(((bands.a, "A"), (bands.b, "B")), key=lambda e: abs(p_employed - e[0]))
            reasons.append({"code": "TIER_BORDERLINE", "message_fr":
                            f"La probabilité d'accès à l'emploi ({_pct(p_employed)}) est à la limite "
                            f"du palier {name} ({_pct(edge)})."})
        return reasons


def _pct(p: float) -> str:
    """A probability as French advisors write it: « 42 % »."""
    return f"{p * 100:.0f} %"


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

    def set_threads(self, n: int) -> None:
        """LightGBM threads for prediction (one per worker when serving several workers)."""
        for pipeline in (self.need_pipeline, self.emp_pipeline):
            if pipeline is not None:
                pipeline[-1].set_params(n_jobs=n)

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
                len(X), n_classes)
            scores.need_proba = softmax(scores.need_raw)
        if self._emp_booster is not None:
            scores.emp_raw = self._emp_booster.predict(X, raw_score=True, num_threads=threads)
            scores.p_employed_raw = sigmoid(scores.emp_raw)
            scores.p_employed = (self.calibrator.transform(scores.p_employed_raw)
                                 if self.calibrator is not None else scores.p_employed_raw)
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
        return self._need_explainer.explain(X, classes)

    def explain_employability(self, X: np.ndarray) -> Contributions:
        return contributions(self._emp_booster, X)

    def _factors(self, x: np.ndarray, contrib: np.ndarray, base: float, target_label: str | None,
                 units: str, target: str) -> dict[str, Any]:
        order = np.argsort(-np.abs(contrib), kind="stable")
        shown = order[: self.top_factors]
        factors = []
        for j in shown:
            name = self.feature_names[j]
            value = self.encoder.decode_value(name, x[j])
            factors.append(explained_factor(name, value, float(contrib[j]), target_label))
        other = float(contrib[order[self.top_factors:]].sum())
        return {
            "target": target, "units": units, "base_value": float(base),
            "raw_score": float(base + contrib.sum()), "factors": factors,
            "other_contribution": other,
        }

    def suggest_encoded(self, X: np.ndarray, explain: bool = True) -> list[dict[str, Any]]:
        """Suggestions (JSON-ready dicts) for encoded rows, as ``POST /suggest`` returns them."""
        if len(X) == 0:
            return []
        scores = self.score(X)
        need_idx = scores.need_index
        need_contrib = self.explain_need(X, need_idx) if explain and need_idx is not None else None
        emp_contrib = self.explain_employability(X) if explain and scores.emp_raw is not None else None
        out = []
        for i in range(len(X)):
            item: dict[str, Any] = {"need": None, "employability": None}
            proba_i = None
            if need_idx is not None:
                proba_i = scores.need_proba[i]
                code = self.need_classes[need_idx[i]]
                item["need"] = {
                    "code": code, "label_fr": NEEDS.get(code, code), "probability": float(proba_i[need_idx[i]]),
                    "distribution": [
                        {"code": c, "label_fr": NEEDS.get(c, c), "probability": float(p)}
                        for c, p in sorted(zip(self.need_classes, proba_i), key=lambda cp: -cp[1])
                    ],
                }
            p_emp = None
            if scores.p_employed is not None:
                p_emp = float(scores.p_employed[i])
                tier = str(scores.tier[i])
                item["employability"] = {"probability": p_emp, "tier": tier, "tier_label_fr": TIERS[tier],
                                         "bands": self.tier_bands.to_dict()}
            reasons = self.review.reasons(proba_i, p_emp, self.tier_bands)
            item["needs_review"] = bool(reasons)
            item["review_reasons"] = reasons
            if explain:
                item["explanations"] = {
                    "need": None if need_contrib is None else self._factors(
                        X[i], need_contrib.values[i], need_contrib.base[i], NEEDS.get(item["need"]["code"]),
                        NEED_UNITS, item["need"]["code"]),
                    "employability": None if emp_contrib is None else self._factors(
                        X[i], emp_contrib.values[i], emp_contrib.base[i], None, EMPLOYABILITY_UNITS,
                        "employed_6m"),
                }
            out.append(item)
        return out

    def suggest_records(self, records: Sequence[Mapping[str, Any]], explain: bool = True) -> list[dict[str, Any]]:
        return self.suggest_encoded(self.encode_records(records), explain=explain)


def explained_factor(name: str, value: Any, contribution: float, need_label: str | None) -> dict[str, Any]:
    """One explained factor, with the French sentence an advisor reads."""
    schema_field = FIELDS_BY_NAME.get(name)
    label = schema_field.label_fr if schema_field else name
    described = schema_field.sentence_fr(value) if schema_field else f"{name} : {value}"
    shown_value = schema_field.display_value(value) if schema_field else str(value)
    towards = contribution >= 0
    if need_label is not None:
        effect = f"rapproche du besoin « {need_label} »" if towards else f"éloigne du besoin « {need_label} »"
    else:
        effect = "augmente les chances d'emploi" if towards else "réduit les chances d'emploi"
    if isinstance(value, float) and value.is_integer() and schema_field and schema_field.kind == "integer":
        value = int(value)
    return {
        "field": name, "label_fr": label, "value": value, "display_value": shown_value,
        "contribution": contribution, "direction": "towards" if towards else "against",
        "sentence_fr": f"{described} : {effect}",
        # Protected attributes are never model inputs by default; if a spec made one an
        # input, reports to the person must not give it as a reason.
        "protected": name in PROTECTED_COLUMNS,
    }


def make_lgbm(objective: str, params: Mapping[str, Any], seed: int, n_classes: int | None = None) -> lgb.LGBMClassifier:
    """A LightGBM classifier with Jalon's fixed settings and the searched ``params``."""
    base = dict(n_estimators=600, learning_rate=0.08, num_leaves=31, max_depth=-1, min_child_samples=40,
                subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
                random_state=seed, deterministic=True, force_row_wise=True, n_jobs=0, verbose=-1)
    base.update(params)
    if objective == "multiclass":
        return lgb.LGBMClassifier(objective="multiclass", **base)
    return lgb.LGBMClassifier(objective="binary", **base)
