"""Observed against expected six-month employment: inside MODEL_2 agencies by track and tier, controls beside.

The expected rate of a group is the mean of its people's baseline predicted probability
(``p_employed``, scored before the experiment); the observed rate the share employed at
six months. A ratio above 1 means the group did better than its baseline score foretold.
Within MODEL_2 agencies the allocation (:func:`policy.allocate`) decides the track, so a
track's ratio says how its people fared against their own forecast; the control
agencies' ratio by tier is the reference (what happens without either model, including
any drift of the score since it was trained). These are descriptive: the tracks were not
randomised, so only the ITT effects of :mod:`evaluation.itt` are causal.

Agencies added by hand (outside the draw) are left out of the ITT comparison; they are
described here, by tier, like the others, so that what happened there is visible without
being mistaken for an effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InvalidInput
from policy import TRACKS
from policy.draw import CONTROL, HAND_ADDED

ALL = "ALL"
NO_TRACK = "MISSING"  # a person of a MODEL_2 agency that the allocation file does not list
OBSERVED_COLUMNS: tuple[str, ...] = ("arm", "track", "tier", "n_people", "observed", "expected", "ratio")


def _tracks(people: pd.DataFrame, arm: np.ndarray, allocation: pd.DataFrame | None) -> np.ndarray:
    track = np.full(len(people), ALL, dtype=object)
    if allocation is None:
        return track
    for column in ("person_id", "track"):
        if column not in allocation.columns:
            raise InvalidInput(f"{column}: missing column in the allocation")
    if allocation["person_id"].duplicated().any():
        raise InvalidInput("person_id: a person appears twice in the allocation")
    unknown = sorted(set(allocation["track"].astype(str)) - set(TRACKS))
    if unknown:
        raise InvalidInput(f"track: unknown track {unknown[0]!r}; expected {', '.join(TRACKS)}")
    by_person = pd.Series(allocation["track"].astype(str).to_numpy(), index=allocation["person_id"].astype(str))
    found = by_person.reindex(people["person_id"].astype(str)).to_numpy(dtype=object)
    listed = pd.notna(found)
    outside = listed & (arm != "MODEL_2")
    if outside.any():
        raise InvalidInput(
            f"allocation: {int(outside.sum())} allocated people are not in MODEL_2 agencies; "
            "the allocation must be that of the MODEL_2 agencies of this draw"
        )
    in_model_2 = arm == "MODEL_2"
    track[in_model_2] = np.where(listed[in_model_2], found[in_model_2], NO_TRACK)
    return track


def observed_expected(people: pd.DataFrame, arm: np.ndarray, allocation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows for MODEL_2 (by track, ALL tracks, and tier), CONTROL and HAND_ADDED (by tier): observed, expected, ratio.

    ``people``: ``person_id``, ``employed_6m``, ``p_employed``, ``tier`` (optional);
    ``arm``: each person's arm; ``allocation``: ``person_id``, ``track`` of the MODEL_2 people.
    """
    track = _tracks(people, arm, allocation)
    tier = people["tier"].astype(str).to_numpy() if "tier" in people.columns else np.full(len(people), ALL)
    frame = pd.DataFrame(
        {
            "arm": arm,
            "track": track,
            "tier": tier,
            "y": people["employed_6m"].to_numpy(dtype=float),
            "p": people["p_employed"].to_numpy(dtype=float),
        }
    )
    frame = frame[frame["arm"].isin(["MODEL_2", CONTROL, HAND_ADDED])]
    pieces = []
    for by_track in (False, True):
        if by_track and allocation is None:
            continue
        for by_tier in (False, True):
            part = frame.assign(track=frame["track"] if by_track else ALL, tier=frame["tier"] if by_tier else ALL)
            if by_track:
                part = part[part["arm"] == "MODEL_2"]
            pieces.append(
                part.groupby(["arm", "track", "tier"], sort=True)
                .agg(n_people=("y", "size"), observed=("y", "mean"), expected=("p", "mean"))
                .reset_index()
            )
    out = pd.concat(pieces, ignore_index=True).drop_duplicates(["arm", "track", "tier"])
    out["ratio"] = out["observed"] / out["expected"].where(out["expected"] > 0)
    order = {"MODEL_2": 0, CONTROL: 1, HAND_ADDED: 2}
    out = out.sort_values(
        ["arm", "track", "tier"],
        key=lambda c: c.map(order) if c.name == "arm" else c.map(lambda v: "" if v == ALL else str(v)),
        kind="stable",
    ).reset_index(drop=True)
    return out[list(OBSERVED_COLUMNS)]
