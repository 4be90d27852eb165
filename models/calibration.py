"""Probability calibration of the employability model, chosen on held-out data.

The boosted model's probabilities are checked on the validation split. Isotonic and
sigmoid (Platt) calibration are compared with no calibration by two-fold cross-fitting
on that split; the method with the lowest Brier score wins (no calibration unless a
method improves it by a margin), then is refitted on the whole split. The test split is
never touched.
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


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 15) -> float:
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
        Relative Brier improvement a method needs over ``none`` to be chosen by ``auto``.
    random_state : int
        Seed of the cross-fitting split.
    """

    def __init__(self, method: str = "auto", min_gain: float = 0.002, random_state: int = 0) -> None:
        self.method = method
        self.min_gain = min_gain
        self.random_state = random_state

    def fit(self, p_raw: np.ndarray, y: np.ndarray) -> ProbabilityCalibrator:
        p_raw = np.asarray(p_raw, dtype=float)
        y = np.asarray(y, dtype=int)
        if self.method not in (*METHODS, "auto"):
            raise ValueError(f"method must be one of auto, {', '.join(METHODS)}; got {self.method!r}")
        self.scores_ = self._cross_fitted_brier(p_raw, y) if self.method == "auto" else {}
        if self.method == "auto":
            best = min(self.scores_, key=lambda method: self.scores_[method])
            gain = 1 - self.scores_[best] / self.scores_["none"]
            self.method_ = best if gain > self.min_gain else "none"
        else:
            self.method_ = self.method
        self.mapping_ = self._fit_method(self.method_, p_raw, y)
        return self

    def _cross_fitted_brier(self, p: np.ndarray, y: np.ndarray) -> dict[str, float]:
        rng = np.random.default_rng(self.random_state)
        fold = rng.permutation(len(p)) % 2
        scores = {}
        for method in METHODS:
            out = np.empty_like(p)
            for k in (0, 1):
                mapping = self._fit_method(method, p[fold != k], y[fold != k])
                out[fold == k] = self._apply(method, mapping, p[fold == k])
            scores[method] = float(np.mean((out - y) ** 2))
        return scores

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
