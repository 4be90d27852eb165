"""Which inputs a fitted model needs, read from the model itself.

LightGBM records, in every split, how the feature's missing values were seen in training:
``missing_type`` is ``NaN`` when the training data had missing values for that feature
(the split then has a learned direction for them), and ``None`` when it had none (a
missing value is then read as 0: an age of 0, a branch the model never learned). Omitting
age and disability recognition on a model trained without missing values changed the tier
for 27.6% of 2,000 people and the need for 10.7%.

So an input the model splits on is **required** unless training saw it missing; an input
it never splits on has no effect and may be left out. A model trained since this was
recorded carries the exact list (``SegmentationModel.inputs_seen_missing``). For an older
model it is read from the boosters: a numeric split says it directly; a categorical split
does not (LightGBM also puts rare categories in its « missing » bin), so a categorical
input counts as seen missing only when the spec declared it nullable and every split on it
has a learned direction for missing values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb

__all__ = ["InputRequirements", "input_requirements", "missing_required"]


@dataclass(frozen=True)
class InputRequirements:
    """The model's inputs by what a missing value does to them.

    ``required``: split on, and at least one split never saw the input missing in training.
    ``may_be_missing``: split on, and training saw it missing (« non renseigné » is allowed).
    ``unused``: never split on (its value changes nothing).
    """

    required: tuple[str, ...]
    may_be_missing: tuple[str, ...]
    unused: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "required": list(self.required),
            "may_be_missing": list(self.may_be_missing),
            "unused": list(self.unused),
        }


def _split_missing_types(booster: lgb.Booster) -> dict[int, set[str]]:
    """For each feature index, the ``missing_type`` of every split on it."""
    seen: dict[int, set[str]] = {}
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                seen.setdefault(int(node["split_feature"]), set()).add(str(node.get("missing_type", "None")))
                stack.extend((node["left_child"], node["right_child"]))
    return seen


def input_requirements(
    feature_names: Sequence[str],
    boosters: Iterable[lgb.Booster | None],
    seen_missing: Iterable[str] | None = None,
    categorical: Iterable[str] = (),
    nullable: Iterable[str] = (),
) -> InputRequirements:
    """:class:`InputRequirements` of the model whose boosters take ``feature_names`` in that order.

    ``seen_missing``: the inputs training saw missing, when the model recorded them; else
    they are read from the splits (``categorical`` inputs also need to be ``nullable``).
    """
    known = None if seen_missing is None else set(seen_missing)
    categorical, nullable = set(categorical), set(nullable)
    types: dict[int, set[str]] = {}
    for booster in boosters:
        if booster is None:
            continue
        for index, kinds in _split_missing_types(booster).items():
            types.setdefault(index, set()).update(kinds)
    required: list[str] = []
    optional: list[str] = []
    unused: list[str] = []
    for index, name in enumerate(feature_names):
        found = types.get(index)
        if not found:
            unused.append(name)
            continue
        if known is not None:
            learned = name in known
        else:
            learned = found == {"NaN"} and (name not in categorical or name in nullable)
        (optional if learned else required).append(name)
    return InputRequirements(tuple(required), tuple(optional), tuple(unused))


def missing_required(record: Mapping[str, Any], requirements: InputRequirements) -> list[str]:
    """The required inputs that ``record`` leaves out (absent, None or empty text), in model order."""
    return [name for name in requirements.required if record.get(name) is None or record.get(name) == ""]
