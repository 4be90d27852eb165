"""Exact TreeSHAP explanations of the segmentation model, for the class that is shown.

SHAP values of a LightGBM model are what ``shap.TreeExplainer`` computes with its
default ``tree_path_dependent`` method, which for LightGBM is LightGBM's own
``Booster.predict(X, pred_contrib=True)``. For a multiclass model that computes every
class, although the advisor is shown only the suggested need. :class:`ClassExplainer`
splits the multiclass booster into one single-output booster per class (the trees of
class ``c`` are trees ``c, c + K, c + 2K, …``), so explaining the shown class costs
1/K of the full computation, with identical values (tested against ``shap``).

Values are in raw score units: log-odds for employability, the class's softmax margin
for needs. For each row, ``base + sum(contributions) == raw score`` exactly (up to
float rounding); :func:`check_additivity` asserts it because shap skips that check on
this path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

_TREE_BLOCKS = re.compile(r"\nTree=0\n")


def split_multiclass_booster(booster: lgb.Booster) -> list[lgb.Booster]:
    """One single-output booster per class, each holding only that class's trees."""
    n_classes = booster.num_model_per_iteration()
    text = booster.model_to_string()
    if n_classes == 1:
        return [booster]
    head, rest = _TREE_BLOCKS.split(text, maxsplit=1)
    trees_part, tail = rest.split("\nend of trees", 1)
    blocks = [b.strip("\n") for b in ("Tree=0\n" + trees_part).split("\n\n\n") if b.strip()]
    head = re.sub(r"num_class=\d+", "num_class=1", head)
    head = re.sub(r"num_tree_per_iteration=\d+", "num_tree_per_iteration=1", head)
    head = re.sub(r"objective=.*", "objective=regression", head)
    boosters = []
    for c in range(n_classes):
        own = [re.sub(r"^Tree=\d+", f"Tree={j}", block) + "\n\n\n" for j, block in enumerate(blocks[c::n_classes])]
        sizes = " ".join(str(len(t.encode())) for t in own)
        class_head = re.sub(r"tree_sizes=.*", f"tree_sizes={sizes}", head)
        boosters.append(lgb.Booster(model_str=class_head + "\n" + "".join(own) + "end of trees" + tail))
    return boosters


@dataclass
class Contributions:
    """SHAP values of one output for a batch: ``values`` (n, n_features), ``base`` (n,)."""

    values: np.ndarray
    base: np.ndarray

    @property
    def raw_score(self) -> np.ndarray:
        return self.base + self.values.sum(axis=1)


def contributions(booster: lgb.Booster, X: np.ndarray) -> Contributions:
    """TreeSHAP values of a single-output booster (LightGBM's ``pred_contrib``)."""
    out = np.asarray(booster.predict(X, pred_contrib=True, num_threads=1 if len(X) < 64 else 0))
    return Contributions(values=out[:, :-1], base=out[:, -1])


def check_additivity(contrib: Contributions, raw_score: np.ndarray, atol: float = 1e-6) -> None:
    """Raise if base + contributions does not give the model's raw score."""
    gap = np.abs(contrib.raw_score - raw_score)
    if gap.size and gap.max() > atol:
        raise AssertionError(f"SHAP additivity broken: max gap {gap.max():.3g} > {atol}")


class ClassExplainer:
    """Explain one chosen class per row of a multiclass LightGBM model, exactly.

    Parameters
    ----------
    booster : lightgbm.Booster
        A fitted multiclass (or binary) booster.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster

    def fit(self) -> ClassExplainer:
        self.class_boosters_ = split_multiclass_booster(self.booster)
        return self

    def __getstate__(self) -> dict:
        # Boosters pickle as model strings; keep only the source booster and rebuild.
        return {"booster": self.booster}

    def __setstate__(self, state: dict) -> None:
        self.booster = state["booster"]
        self.fit()

    def explain(self, X: np.ndarray, classes: Sequence[int] | np.ndarray) -> Contributions:
        """SHAP values of class ``classes[i]`` for row ``i``."""
        classes = np.asarray(classes, dtype=int)
        values = np.empty_like(X, dtype=np.float64)
        base = np.empty(len(X), dtype=np.float64)
        for c in np.unique(classes):
            rows = np.flatnonzero(classes == c)
            part = contributions(self.class_boosters_[c], X[rows])
            values[rows] = part.values
            base[rows] = part.base
        return Contributions(values=values, base=base)
