"""Fit the segmentation model: split, search, early stopping, calibration.

Both models are scikit-learn pipelines (:class:`FrameEncoder` then LightGBM). Their
hyper-parameters come from a small seeded search scored on the validation split, with
early stopping on that split, never from the test split. The employability model's
calibration is chosen by cross-validated log loss on out-of-fold probabilities of the
whole training data (train and validation splits; see :mod:`models.calibration`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from features.spec import TrainingSpec
from features.transforms import FrameEncoder
from models.calibration import ProbabilityCalibrator
from models.segmentation import ReviewPolicy, SegmentationModel, TierBands, make_lgbm

#: The search space: a few shapes of tree ensemble, small enough to explain one person
#: in a few milliseconds (trees x leaves x depth^2 is the cost of TreeSHAP).
SEARCH_SPACE: tuple[dict[str, Any], ...] = (
    {"num_leaves": 15, "min_child_samples": 50, "learning_rate": 0.1},
    {"num_leaves": 31, "min_child_samples": 100, "learning_rate": 0.1},
    {"num_leaves": 31, "min_child_samples": 40, "learning_rate": 0.1, "colsample_bytree": 0.6},
    {"num_leaves": 63, "min_child_samples": 200, "learning_rate": 0.1, "max_depth": 8},
    {"num_leaves": 15, "min_child_samples": 100, "learning_rate": 0.15, "reg_lambda": 5.0},
)
EARLY_STOPPING_ROUNDS = 30
#: Folds of the out-of-fold probabilities the calibration is chosen on.
CALIBRATION_FOLDS = 5
#: Above this many training rows, the out-of-fold probabilities are computed on a stratified
#: sample of this size: a calibration mapping needs far fewer rows than the model.
CALIBRATION_MAX_ROWS = 60_000

Progress = Callable[[str], None]


@dataclass
class Split:
    """Row positions of the train / validation / test splits."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def split_rows(
    frame: pd.DataFrame, spec: TrainingSpec, seed: int, validation: float = 0.15, test: float = 0.15
) -> Split:
    """Stratified, reproducible split (by need, and employment, when present)."""
    strata = pd.Series("", index=frame.index)
    for label in (spec.need_label, spec.employment_label):
        if label is not None:
            strata = strata + "|" + frame[label.name].astype(str)
    positions = np.arange(len(frame))
    stratify = strata.to_numpy() if strata.value_counts().min() >= 3 else None
    rest, test_idx = train_test_split(positions, test_size=test, random_state=seed, stratify=stratify)
    rest_strata = stratify[rest] if stratify is not None else None
    train_idx, val_idx = train_test_split(
        rest, test_size=validation / (1 - test), random_state=seed + 1, stratify=rest_strata
    )
    return Split(train=np.sort(train_idx), validation=np.sort(val_idx), test=np.sort(test_idx))


@dataclass
class SearchResult:
    params: dict[str, Any]
    best_iteration: int
    validation_score: float
    trials: list[dict[str, Any]] = field(default_factory=list)


def _candidates(n_trials: int, seed: int) -> list[dict[str, Any]]:
    order = np.random.default_rng(seed).permutation(len(SEARCH_SPACE))
    return [SEARCH_SPACE[i] for i in order[: max(1, min(n_trials, len(SEARCH_SPACE)))]]


def _fit_lgbm(objective: str, X_tr, y_tr, X_val, y_val, params, seed, categorical) -> lgb.LGBMClassifier:
    model = make_lgbm(objective, params, seed)
    with warnings.catch_warnings():
        # LightGBM 4.7 deprecates eval_set for eval_X/eval_y, but only eval_set applies the
        # classifier's label encoding to string labels of the validation split.
        warnings.simplefilter("ignore", category=lgb.basic.LGBMDeprecationWarning)
        model.fit(
            X_tr,
            y_tr,
            eval_set=[(X_val, y_val)],
            categorical_feature=categorical,
            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        )
    return model


def search(
    objective: str,
    X_tr,
    y_tr,
    X_val,
    y_val,
    seed: int,
    n_trials: int,
    categorical: list[int],
    progress: Progress | None = None,
) -> tuple[lgb.LGBMClassifier, SearchResult]:
    """Seeded search over :data:`SEARCH_SPACE`, each candidate early-stopped on validation log loss."""
    best_model, best = None, None
    trials = []
    for i, params in enumerate(_candidates(n_trials, seed)):
        model = _fit_lgbm(objective, X_tr, y_tr, X_val, y_val, params, seed, categorical)
        score = float(log_loss(y_val, model.predict_proba(X_val), labels=model.classes_))
        trials.append(
            {**params, "best_iteration": int(model.best_iteration_ or model.n_estimators), "validation_log_loss": score}
        )
        if progress:
            progress(f"{objective} candidate {i + 1}: log loss {score:.4f} at {trials[-1]['best_iteration']} trees")
        if best is None or score < best.validation_score:
            best_model = model
            best = SearchResult(
                params=dict(params), best_iteration=trials[-1]["best_iteration"], validation_score=score
            )
    best.trials = trials
    return best_model, best


def out_of_fold_probabilities(
    X: np.ndarray, y: np.ndarray, searched: SearchResult, seed: int, categorical: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Employment probabilities of every training row from a model fitted without it.

    Each fold's model has the searched parameters and the early-stopped number of trees of
    the final model, so its probabilities are distributed like the final model's.
    """
    if len(X) > CALIBRATION_MAX_ROWS:
        keep, _ = train_test_split(np.arange(len(X)), train_size=CALIBRATION_MAX_ROWS, random_state=seed, stratify=y)
        X, y = X[np.sort(keep)], y[np.sort(keep)]
    folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    p = np.empty(len(X), dtype=float)
    params = {**searched.params, "n_estimators": max(1, searched.best_iteration)}
    for fit_rows, held in folds.split(X, y):
        model = make_lgbm("binary", params, seed)
        model.fit(X[fit_rows], y[fit_rows], categorical_feature=categorical)
        p[held] = np.asarray(model.predict_proba(X[held]))[:, 1]
    return p, y


@dataclass
class FittedModels:
    model: SegmentationModel
    split: Split
    searches: dict[str, SearchResult]


def fit_segmentation(
    frame: pd.DataFrame,
    spec: TrainingSpec,
    seed: int = 0,
    n_trials: int = 3,
    tier_bands: TierBands | None = None,
    progress: Progress | None = None,
) -> FittedModels:
    """Split ``frame`` and fit the need and employability pipelines declared by ``spec``."""
    split = split_rows(frame, spec, seed)
    train, val = frame.iloc[split.train], frame.iloc[split.validation]
    encoder = FrameEncoder.from_spec(spec).fit(train)
    X_tr, X_val = encoder.transform(train), encoder.transform(val)
    categorical = encoder.categorical_indices_
    searches: dict[str, SearchResult] = {}
    need_pipeline, classes = None, []
    if spec.need_label is not None:
        label = spec.need_label
        y_tr = train[label.name].astype(str).to_numpy()
        y_val = val[label.name].astype(str).to_numpy()
        known = label.categories or sorted(set(y_tr))
        classes = [c for c in known if c in set(y_tr)]
        clf, searches["need"] = search("multiclass", X_tr, y_tr, X_val, y_val, seed, n_trials, categorical, progress)
        classes = list(clf.classes_)
        need_pipeline = Pipeline([("encode", encoder), ("classifier", clf)])
    emp_pipeline, calibrator = None, None
    if spec.employment_label is not None:
        y_tr, y_val = spec.outcome(train), spec.outcome(val)
        clf, searches["employability"] = search(
            "binary", X_tr, y_tr, X_val, y_val, seed, n_trials, categorical, progress
        )
        emp_pipeline = Pipeline([("encode", encoder), ("classifier", clf)])
        X_all, y_all = np.vstack([X_tr, X_val]), np.concatenate([y_tr, y_val])
        p_oof, y_oof = out_of_fold_probabilities(X_all, y_all, searches["employability"], seed, categorical)
        calibrator = ProbabilityCalibrator(random_state=seed).fit(p_oof, y_oof)
        if progress:
            progress(
                f"calibration: {calibrator.method_} (cross-validated log loss on {len(p_oof):,} out-of-fold "
                "probabilities: " + ", ".join(f"{k} {v:.4f}" for k, v in calibrator.scores_.items()) + ")"
            )
    model = SegmentationModel(
        spec=spec,
        need_pipeline=need_pipeline,
        need_classes=classes,
        emp_pipeline=emp_pipeline,
        calibrator=calibrator,
        tier_bands=tier_bands or TierBands(),
        review=ReviewPolicy(),
    )
    seen = pd.concat([train[spec.input_names], val[spec.input_names]])
    model.inputs_seen_missing = [name for name in spec.input_names if seen[name].isna().any()]
    model.review = _chosen_review_policy(model, val, X_val, spec)
    if progress:
        progress(f"review policy chosen on the validation split: {model.review}")
    return FittedModels(model=model, split=split, searches=searches)


def _chosen_review_policy(model: SegmentationModel, val: pd.DataFrame, X_val: np.ndarray, spec: TrainingSpec):
    """The review thresholds for the stated trade-off (see :mod:`training.review_policy`)."""
    from training.review_policy import choose

    y_need = val[spec.need_label.name].astype(str).to_numpy() if spec.need_label is not None else None
    truth = spec.truth_employment
    true_tier = model.tier_bands.tier(val[truth].to_numpy(dtype=float)) if truth and truth in val else None
    return choose(model.score(X_val), model.need_classes, model.tier_bands, y_need, true_tier)
