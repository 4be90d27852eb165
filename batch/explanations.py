"""JSON text of the model's explanations for whole chunks at once, identical to ``POST /suggest``.

Batch scoring with ``--explain`` writes each row's explanations as JSON text. Building one
pydantic :class:`~models.suggestion.Explanation` per row would cost more than the SHAP values
themselves, so :class:`ExplanationWriter` builds the same text from cached fragments; the
tests check it equals the contract's JSON for the same profiles.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from core.errors import InvalidInput
from features.schema import FIELDS_BY_NAME, NEEDS
from models.segmentation import EMPLOYABILITY_UNITS, NEED_UNITS, Scores, SegmentationModel, explained_factor

_CONTRIBUTION_SLOT = '"contribution": null'


class ExplanationWriter:
    """JSON text of ``suggest_encoded``'s explanations, for a whole chunk at once.

    Same SHAP values (the model's own exact per-class TreeSHAP, which is row-wise and
    so independent of how rows are batched), same ordering (stable sort by decreasing
    absolute contribution), same sums (numpy reductions along a contiguous row give the
    bits of the per-row sums), and the factor dictionaries are built by the model's own
    :func:`models.segmentation.explained_factor`, cached per (field, value, direction, need) and
    serialised once; only the contribution is written per row, with ``repr`` as
    :func:`json.dumps` does.
    """

    #: Bound on the factor cache (numeric fields have many values); cleared when reached.
    MAX_CACHE = 100_000

    def __init__(self, model: SegmentationModel) -> None:
        self.model = model
        self.names = list(model.feature_names)
        self.top = int(model.top_factors)
        self._integer = [bool(FIELDS_BY_NAME.get(n) and FIELDS_BY_NAME[n].kind == "integer") for n in self.names]
        self._cache: dict[tuple, tuple[str, str]] = {}

    # -- public
    def need(self, X: np.ndarray, scores: Scores) -> list[str]:
        """``explanations.need`` of every row, as JSON text (the suggested need's SHAP values)."""
        need_idx = scores.need_index
        if need_idx is None:
            raise InvalidInput("this model has no need label: there is no need to explain")
        contrib = self.model.explain_need(X, need_idx)
        codes = [self.model.need_classes[k] for k in range(len(self.model.need_classes))]
        heads = [
            f'{{"target": {json.dumps(c, ensure_ascii=False)}, "units": {json.dumps(NEED_UNITS)}, "base_value": '
            for c in codes
        ]
        labels = [NEEDS.get(c) for c in codes]
        return self._rows(X, contrib.values, contrib.base, need_idx, heads, labels)

    def employability(self, X: np.ndarray) -> list[str]:
        """``explanations.employability`` of every row, as JSON text."""
        contrib = self.model.explain_employability(X)
        head = f'{{"target": "employed_6m", "units": {json.dumps(EMPLOYABILITY_UNITS)}, "base_value": '
        return self._rows(X, contrib.values, contrib.base, np.zeros(len(X), dtype=np.int64), [head], [None])

    # -- internals
    def _rows(
        self,
        X: np.ndarray,
        values: np.ndarray,
        base: np.ndarray,
        target: np.ndarray,
        heads: list[str],
        labels: list[str | None],
    ) -> list[str]:
        n = len(X)
        if n == 0:
            return []
        values = np.ascontiguousarray(values, dtype=np.float64)
        order = np.argsort(-np.abs(values), axis=1, kind="stable")
        shown = order[:, : self.top]
        other = np.take_along_axis(values, order[:, self.top :], axis=1).sum(axis=1)
        raw = base + values.sum(axis=1)
        shown_values = np.take_along_axis(values, shown, axis=1).tolist()
        shown_x = np.take_along_axis(X, shown, axis=1).tolist()
        shown_j = shown.tolist()
        base_list, raw_list, other_list, target_list = base.tolist(), raw.tolist(), other.tolist(), target.tolist()
        if len(self._cache) > self.MAX_CACHE:
            self._cache.clear()
        cache, fragment = self._cache, self._fragment
        out = []
        for i in range(n):
            t = target_list[i]
            label = labels[t]
            parts = []
            for j, x, c in zip(shown_j[i], shown_x[i], shown_values[i], strict=True):
                # NaN never equals itself and -0.0 == 0.0: give both keys of their own.
                key = (
                    j,
                    x if x == x and x != 0.0 else ("nan" if x != x else ("zero", math.copysign(1.0, x))),
                    c >= 0,
                    label,
                )
                frag = cache.get(key)
                if frag is None:
                    frag = cache[key] = fragment(j, x, c >= 0, label)
                parts.append(frag[0] + repr(c) + frag[1])
            out.append(
                f'{heads[t]}{base_list[i]!r}, "raw_score": {raw_list[i]!r}, "factors": [{", ".join(parts)}], '
                f'"other_contribution": {other_list[i]!r}}}'
            )
        return out

    def _fragment(self, j: int, x: float, towards: bool, label: str | None) -> tuple[str, str]:
        name = self.names[j]
        value = self.model.encoder.decode_value(name, x)
        factor = explained_factor(name, value, 0.0 if towards else -1.0, label, self.model.spec).model_dump()
        factor["contribution"] = None
        text = json.dumps(factor, ensure_ascii=False)
        prefix, suffix = text.split(_CONTRIBUTION_SLOT)
        return prefix + '"contribution": ', suffix


def explanations_from_row(row: Any) -> dict[str, Any]:
    """``{"need": ..., "employability": ...}`` from a scored row's JSON columns (as POST /suggest)."""
    out = {}
    for key, column in (("need", "need_factors"), ("employability", "employability_factors")):
        text = row.get(column) if hasattr(row, "get") else row[column]
        out[key] = None if text is None or (isinstance(text, float) and math.isnan(text)) else json.loads(text)
    return out


# --------------------------------------------------------------------------- one chunk
