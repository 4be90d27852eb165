"""Probability calibration of the employability model, chosen by cross-validated proper scoring.

Training (:func:`training.train.fit_segmentation`) gives :meth:`ProbabilityCalibrator.fit`
out-of-fold probabilities of the boosted model on the whole training data (train and
validation splits, each row predicted by a model that did not see it). No calibration,
sigmoid (Platt) and isotonic are compared by K-fold cross-validation on those
probabilities, scored by log loss (a proper scoring rule; the Brier score is reported
beside it); the lowest wins, ties going to the simpler method. The chosen mapping is then
refitted on all of them. The test split is never touched.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("none", "sigmoid", "isotonic")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 15) -> float:  # ECE_BINS
    """ECE with equal-width bins: the mean |observed rate - mean probability|, weighted by bin size."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(p) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    used = counts > 0
    return float(np.sum(np.abs(sum_y[used] - sum_p[used])) / len(p))


class ProbabilityCalibrator(BaseEstimator):
    """Map raw probabilities to calibrated ones.

    Parameters
    ----------
    method : {"auto", "none", "sigmoid", "isotonic"}
        ``auto`` chooses on the data given to :meth:`fit`.
    min_gain : float
        Relative log-loss improvement a method needs over a simpler one to be chosen by
        ``auto`` (ties go to the simpler method: none, then sigmoid, then isotonic).
    random_state : int
        Seed of the cross-validation folds.
    folds : int
        Folds of the cross-validation that compares the methods.
    """

    def __init__(self, method: str = "auto", min_gain: float = 0.001, random_state: int = 0, folds: int = 5) -> None:
        self.method = method
        self.min_gain = min_gain
        self.random_state = random_state
        self.folds = folds

    def fit(self, p_raw: np.ndarray, y: np.ndarray) -> ProbabilityCalibrator:
        p_raw = np.asarray(p_raw, dtype=float)
        y = np.asarray(y, dtype=int)
        if self.method not in (*METHODS, "auto"):
            raise ValueError(f"method must be one of auto, {', '.join(METHODS)}; got {self.method!r}")
        self.scores_: dict[str, float] = {}
        self.brier_: dict[str, float] = {}
        if self.method == "auto":
            self.scores_, self.brier_ = self._cross_validated(p_raw, y)
            self.method_ = "none"
            for method in METHODS[1:]:  # ordered from the simplest
                if self.scores_[method] < self.scores_[self.method_] * (1 - self.min_gain):
                    self.method_ = method
        else:
            self.method_ = self.method
        self.mapping_ = self._fit_method(self.method_, p_raw, y)
        return self

    def _cross_validated(self, p: np.ndarray, y: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        """Log loss and Brier score of each method, each row scored by a mapping fitted without it."""
        rng = np.random.default_rng(self.random_state)
        fold = np.empty(len(p), dtype=int)
        for label in (0, 1):  # stratified: every fold sees both outcomes
            rows = np.flatnonzero(y == label)
            fold[rows] = rng.permutation(len(rows)) % self.folds
        log_losses, briers = {}, {}
        for method in METHODS:
            out = np.empty_like(p)
            for k in range(self.folds):
                held = fold == k
                if not held.any():
                    continue
                mapping = self._fit_method(method, p[~held], y[~held])
                out[held] = self._apply(method, mapping, p[held])
            clipped = np.clip(out, _EPS, 1 - _EPS)
            log_losses[method] = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
            briers[method] = float(np.mean((out - y) ** 2))
        return log_losses, briers

    @staticmethod
    def _fit_method(method: str, p: np.ndarray, y: np.ndarray):
        if method == "isotonic":
            return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
        if method == "sigmoid":
            return LogisticRegression(C=1e6).fit(_logit(p).reshape(-1, 1), y)
        return None

    @staticmethod
    def _apply(method: str, mapping, p: np.ndarray) -> np.ndarray:
        if method == "isotonic":
            return mapping.predict(p)
        if method == "sigmoid":
            return mapping.predict_proba(_logit(p).reshape(-1, 1))[:, 1]
        return p

    def transform(self, p_raw: np.ndarray) -> np.ndarray:
        return self._apply(self.method_, self.mapping_, np.asarray(p_raw, dtype=float))


#: Equal-width bins of the reported expected calibration error and reliability plot.
ECE_BINS = 15


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per equal-width bin: its range, how many people, their mean probability and observed rate."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = bins == b
        count = int(inside.sum())
        if count:
            rows.append(
                {
                    "low": b / n_bins,
                    "high": (b + 1) / n_bins,
                    "count": count,
                    "mean_probability": float(p[inside].mean()),
                    "observed_rate": float(y[inside].mean()),
                }
            )
    return rows
