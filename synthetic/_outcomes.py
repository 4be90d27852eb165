"""Simulated experiment outcomes, and the scores a perfect model would have given at baseline.

:func:`simulate_outcomes` draws each person's six-month employment after the draw: the
person's true probability (``true_p_employed_6m``, which includes the agency's random
effect) plus the effect of the arm their agency was drawn into, clipped to [0, 1].
:func:`oracle_scores` stands in for the baseline scored file (``jalon batch score``)
when no model is trained: the Bayes need and the true employment probability computed
from the model inputs only (so without the agency effect, which no model can see), and
the tier by the model's bands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.schema import NEED_CODES, TRUTH_EMPLOYMENT_COLUMN, TRUTH_NEED_COLUMNS
from policy.draw import ARMS, DrawResult
from synthetic._errors import SyntheticInputError
from synthetic._truth import true_probabilities

#: Six months after the experiment starts on 1 April 2027.
DEFAULT_OBSERVED_ON = dt.date(2027, 10, 1)
OUTCOME_COLUMNS: tuple[str, ...] = ("person_id", "agency_id", "observed_on", "employed_6m")


def parse_arm_effect(text: str) -> dict[str, float]:
    """``"MODEL_1=0.02,MODEL_2=0.04"`` (the command line's ``--arm-effect``) → ``{"MODEL_1": 0.02, ...}``."""
    effects: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or number != number:
            raise SyntheticInputError(f"arm_effect: {part!r} must be ARM=EFFECT, e.g. MODEL_1=0.02")
        effects[name.strip()] = number
    _check_effects(effects)
    return effects


def _check_effects(arm_effect: Mapping[str, float]) -> None:
    unknown = [name for name in arm_effect if name not in ARMS]
    if unknown:
        raise SyntheticInputError(f"arm_effect: unknown arm {unknown[0]!r}; only {', '.join(ARMS)} have an effect")
    for name, effect in arm_effect.items():
        if isinstance(effect, bool) or not isinstance(effect, (int, float, np.floating)) or not -1 <= effect <= 1:
            raise SyntheticInputError(f"arm_effect: {name} must be a number between -1 and 1, got {effect!r}")


def _arm_of_people(people: pd.DataFrame, draw: DrawResult | pd.DataFrame) -> np.ndarray:
    frame = draw.assignment if isinstance(draw, DrawResult) else draw
    for column in ("agency_id", "arm"):
        if column not in frame.columns:
            raise SyntheticInputError(f"{column}: missing column in the draw")
    arm_of = pd.Series(frame["arm"].astype(str).to_numpy(), index=frame["agency_id"].astype(str).to_numpy())
    codes, uniques = pd.factorize(people["agency_id"].astype(str))
    arms = arm_of.reindex(uniques)
    if arms.isna().any():
        raise SyntheticInputError(f"agency_id: agency {arms.index[arms.isna()][0]!r} of the people is not in the draw")
    return arms.to_numpy(dtype=object)[codes]


def simulate_outcomes(
    people: pd.DataFrame,
    draw: DrawResult | pd.DataFrame,
    arm_effect: Mapping[str, float],
    seed: int,
    *,
    observed_on: dt.date = DEFAULT_OBSERVED_ON,
) -> pd.DataFrame:
    """``person_id``, ``agency_id``, ``observed_on``, ``employed_6m`` for every person, in the people's order.

    ``arm_effect`` adds, e.g. ``{"MODEL_1": 0.02, "MODEL_2": 0.04}``, to the true
    probability of people whose agency was drawn into that arm (controls and hand-added
    agencies: none). One uniform per person from ``Generator(PCG64(seed))``.
    """
    _check_effects(arm_effect)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SyntheticInputError(f"seed must be a non-negative integer, got {seed!r}")
    for column in ("person_id", "agency_id", TRUTH_EMPLOYMENT_COLUMN):
        if column not in people.columns:
            raise SyntheticInputError(f"{column}: missing column in the people")
    arm = _arm_of_people(people, draw)
    shift = np.zeros(len(people))
    for name, value in arm_effect.items():
        shift[arm == name] = float(value)
    p = np.clip(people[TRUTH_EMPLOYMENT_COLUMN].to_numpy(dtype=float) + shift, 0.0, 1.0)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    employed = rng.random(len(people)) < p
    return pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy(),
            "agency_id": people["agency_id"].to_numpy(),
            "observed_on": np.full(len(people), np.datetime64(observed_on.isoformat(), "s")),
            "employed_6m": employed,
        }
    )


def oracle_scores(people: pd.DataFrame) -> pd.DataFrame:
    """A baseline scored file from the truth: ``person_id``, ``agency_id``, ``need``, ``p_employed``, ``tier``."""
    from models.segmentation import TierBands  # the model's tier bands; imported here to keep import light

    truth = true_probabilities(people)
    p_employed = truth[TRUTH_EMPLOYMENT_COLUMN].to_numpy()
    need = np.asarray(NEED_CODES, dtype=object)[truth[list(TRUTH_NEED_COLUMNS)].to_numpy().argmax(axis=1)]
    return pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy(),
            "agency_id": people["agency_id"].to_numpy(),
            "need": pd.array(need, dtype="str"),
            "p_employed": p_employed,
            "tier": pd.array(TierBands().tier(p_employed), dtype="str"),
        }
    )
