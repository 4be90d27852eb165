"""Sensitive inputs, decided and stated: the model with and without them, side by side.

Age and disability recognition are model inputs by default (positive action: people the
labour market treats worse get more support, which they can only get if the model sees
why). An agency may decide otherwise (``jalon train --without-sensitive``). So that the
decision is informed, every training run whose spec has sensitive inputs also fits the
other variant on the same split and reports, for both:

* quality: employability AUC and need macro-F1, and each as a share of the Bayes
  reference where truth columns exist;
* under model 2, the share of each sensitive group (aged 50 and over; with a disability
  recognition) that gets intensive support, with intensive places for
  ``MODEL2_INTENSIVE_SHARE`` of the people scored (an assumption stated in the report).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core.age import AGE_BANDS
from features.schema import NEED_CODES
from features.spec import TrainingSpec
from policy import AgencyConfig, allocate
from training.evaluate import Evaluation

#: Intensive places as a share of the people scored, for the model 2 comparison (an
#: assumption: about 50 people per path referent, one referent for 250 registered people).
MODEL2_INTENSIVE_SHARE = 0.20
MODEL2_CASELOAD = 50
QUALITY_KEYS = ("emp_auc", "need_macro_f1")
OLDEST_BAND = AGE_BANDS[-1].label


@dataclass
class VariantFigures:
    name: str
    quality: dict[str, float]
    of_bayes: dict[str, float]
    intensive_share: dict[str, float] = field(default_factory=dict)


@dataclass
class VariantComparison:
    """Both variants' figures; ``default`` names the variant the agency runs unless it switches."""

    variants: list[VariantFigures]
    intensive_capacity_share: float
    groups: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "intensive_capacity_share": self.intensive_capacity_share,
            "groups": self.groups,
            "variants": [v.__dict__ for v in self.variants],
        }


def _quality(metrics: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    quality = {k: metrics[k] for k in QUALITY_KEYS if k in metrics}
    of_bayes = {k: metrics[k] / metrics[f"bayes_{k}"] for k in quality if metrics.get(f"bayes_{k}")}
    return quality, of_bayes


def group_masks(test: pd.DataFrame, spec: TrainingSpec) -> dict[str, np.ndarray]:
    """The sensitive groups compared: the oldest age band, and ``true`` of each boolean column."""
    from core.age import age_band

    masks = {}
    for column in spec.sensitive:
        if column.name not in test:
            continue
        if column.is_age:
            band = age_band(test[column.name], unit=column.unit or "years").to_numpy()
            masks[f"{column.name} {OLDEST_BAND}"] = band == OLDEST_BAND
        elif column.type == "boolean":
            masks[f"{column.name} = true"] = test[column.name].astype("boolean").to_numpy(dtype=bool, na_value=False)
    return masks


def intensive_shares(
    test: pd.DataFrame, spec: TrainingSpec, evaluation: Evaluation, classes: list[str]
) -> dict[str, float]:
    """Under model 2, the share of each sensitive group given intensive support (empty if not applicable)."""
    scores = evaluation.scores
    if scores.need_index is None or scores.p_employed is None or not set(classes) <= set(NEED_CODES):
        return {}
    ids = test[spec.person_id].astype(str).to_numpy() if spec.person_id else np.arange(len(test)).astype(str)
    scored = pd.DataFrame(
        {"person_id": ids, "need": np.asarray(classes)[scores.need_index], "p_employed": scores.p_employed}
    )
    referents = max(1, math.ceil(MODEL2_INTENSIVE_SHARE * len(scored) / MODEL2_CASELOAD))
    config = AgencyConfig(referents=referents, caseload_per_referent=MODEL2_CASELOAD)
    result = allocate(scored, config, date(2026, 1, 1))
    track = result.assignments.set_index("person_id").loc[ids, "track"].to_numpy()
    intensive = track == "INTENSIVE"
    shares = {"everyone": float(intensive.mean())}
    for name, mask in group_masks(test, spec).items():
        if mask.any():
            shares[name] = float(intensive[mask].mean())
    return shares


def compare(
    declared: TrainingSpec,
    classes: list[str],
    *,
    this: Evaluation,
    other: Evaluation,
    this_without_sensitive: bool,
) -> VariantComparison:
    """Compare this run's variant with the other one (fitted on the same split by the caller)."""
    with_sensitive, without = (other, this) if this_without_sensitive else (this, other)
    figures = []
    for name, evaluation in (("with sensitive inputs", with_sensitive), ("without sensitive inputs", without)):
        quality, of_bayes = _quality(evaluation.metrics)
        figures.append(
            VariantFigures(
                name=name,
                quality=quality,
                of_bayes=of_bayes,
                intensive_share=intensive_shares(evaluation.test, declared, evaluation, classes),
            )
        )
    return VariantComparison(
        variants=figures, intensive_capacity_share=MODEL2_INTENSIVE_SHARE, groups=list(group_masks(this.test, declared))
    )
