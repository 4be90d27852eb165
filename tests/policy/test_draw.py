"""The stratified draw: exact totals, byte-identical output, verifiable sidecar, every refusal, balance flags."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidInput
from policy.draw import (
    ALGORITHM_VERSION,
    CONTROL,
    HAND_ADDED,
    SMD_THRESHOLD,
    DrawPlan,
    balance_table,
    canonical_sha256,
    draw_arms,
    load_draw,
    meta_path,
    parse_arms,
)

ARMS = {"MODEL_1": 80, "MODEL_2": 20}


def agency_frame(n: int = 900, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "agency_id": [f"AG{i:04d}" for i in range(n)],
            "region": rng.choice(["IDF", "ARA", "HDF", "OCC", "COR"], n, p=[0.35, 0.25, 0.2, 0.18, 0.02]),
            "size": np.rint(rng.lognormal(8.6, 0.45, n)),
            "share_rsa": rng.random(n),
            "added_by_hand": False,
        }
    )


def test_totals_are_exact_and_each_stratum_gets_its_proportional_share():
    agencies = agency_frame()
    result = draw_arms(agencies, ARMS, ["region", "size_band"], seed=7)
    assert result.counts() == {"MODEL_1": 80, "MODEL_2": 20, CONTROL: 800, HAND_ADDED: 0}
    table = pd.crosstab(result.assignment["stratum"], result.assignment["arm"])
    sizes = table.sum(axis=1)
    for arm, total in ARMS.items():
        share = total * sizes / sizes.sum()
        assert ((table[arm] >= np.floor(share)) & (table[arm] <= np.ceil(share))).all()
    assert set(result.assignment["stratum"]) <= {f"{r}|{b}" for r in "IDF ARA HDF OCC COR".split() for b in "SML"}


def test_same_table_in_any_row_order_and_seed_give_the_same_bytes(tmp_path):
    agencies = agency_frame()
    first = draw_arms(agencies, ARMS, ["region"], seed=11, command="jalon experiment draw --seed 11")
    shuffled = agencies.sample(frac=1.0, random_state=5)[list(reversed(agencies.columns))]
    second = draw_arms(shuffled, ARMS, ["region"], seed=11, command="jalon experiment draw --seed 11")
    paths_a = first.to_csv(tmp_path / "a" / "draw.csv")
    paths_b = second.to_csv(tmp_path / "b" / "draw.csv")
    assert [p.read_bytes() for p in paths_a] == [p.read_bytes() for p in paths_b]
    assert paths_a[1] == meta_path(paths_a[0])
    assert paths_a[1].name == "draw.meta.json"
    other = draw_arms(agencies, ARMS, ["region"], seed=12)
    assert not np.array_equal(other.assignment["arm"], first.assignment["arm"])


def test_sidecar_records_what_anyone_needs_to_verify(tmp_path):
    agencies = agency_frame(200)
    result = draw_arms(agencies, {"MODEL_1": 10, "MODEL_2": 5}, ["region"], seed=3, command="jalon experiment draw")
    csv_path, side = result.to_csv(tmp_path / "draw.csv")
    meta = json.loads(side.read_text())
    assert meta["seed"] == 3
    assert meta["algorithm_version"] == ALGORITHM_VERSION
    assert meta["input_sha256"] == canonical_sha256(agencies.iloc[::-1])
    assert meta["command"] == "jalon experiment draw"
    assert meta["strata"] == ["region"]
    loaded = load_draw(csv_path)
    assert loaded.assignment.equals(result.assignment)
    # the plan rebuilt from the file re-runs the same draw: randomisation inference uses it
    assert np.array_equal(loaded.plan().assign(3), result.assignment["arm"].to_numpy(dtype=object))


def test_a_changed_draw_file_is_refused(tmp_path):
    result = draw_arms(agency_frame(100), {"MODEL_1": 10}, [], seed=3)
    csv_path, side = result.to_csv(tmp_path / "draw.csv")
    text = csv_path.read_text()
    drawn = result.assignment.loc[result.assignment["arm"] == "MODEL_1", "agency_id"].iloc[0]
    control = result.assignment.loc[result.assignment["arm"] == CONTROL, "agency_id"].iloc[0]
    swapped = text.replace(f"{drawn},MODEL_1", f"{drawn},CONTROL").replace(f"{control},CONTROL", f"{control},MODEL_1")
    csv_path.write_text(swapped)
    with pytest.raises(InvalidInput, match="sha256"):
        load_draw(csv_path)
    meta = json.loads(side.read_text())
    meta["output_sha256"] = hashlib.sha256(swapped.encode()).hexdigest()
    side.write_text(json.dumps(meta))
    with pytest.raises(InvalidInput, match="not those that seed 3 gives"):
        load_draw(csv_path)


def test_hand_added_agencies_are_never_drawn_and_recorded_as_such():
    agencies = agency_frame(60)
    agencies.loc[:9, "added_by_hand"] = True
    for seed in range(20):
        result = draw_arms(agencies, {"MODEL_1": 20, "MODEL_2": 10}, ["region"], seed)
        hand = result.assignment["added_by_hand"]
        assert (result.assignment.loc[hand, "arm"] == HAND_ADDED).all()
        assert hand.sum() == 10
        assert result.counts()[CONTROL] == 20
    assert result.metadata()["hand_added"] == sorted(agencies.loc[:9, "agency_id"])


def test_each_agency_of_a_stratum_is_equally_likely_to_be_drawn():
    agencies = agency_frame(40)
    agencies["region"] = ["A"] * 30 + ["B"] * 10
    plan = DrawPlan.build(agencies, {"MODEL_1": 8, "MODEL_2": 4}, ["region"])
    codes = np.stack([plan.assign_codes(seed) for seed in range(2000)])
    share = (codes == 1).mean(axis=0)  # 6 of 30 in A, 2 of 10 in B: 0.2 each
    assert np.abs(share - 0.2).max() < 0.04
    assert ((codes == 1).sum(axis=1) == 8).all()
    assert ((codes == 2).sum(axis=1) == 4).all()


@pytest.mark.parametrize(
    ("arms", "strata", "edit", "message"),
    [
        ({"MODEL_1": 901}, [], None, "arms: 901 agencies to draw but only 900"),
        ({"MODEL_1": 80, "MODEL_3": 20}, [], None, "unknown arm 'MODEL_3'"),
        ({"MODEL_1": -1}, [], None, "non-negative whole number"),
        ({"MODEL_1": 80}, ["departement"], None, "unknown stratum column 'departement'"),
        ({"MODEL_1": 80}, ["size_band"], "no_size", "size_band is derived from a size column"),
        ({"MODEL_1": 80}, [], "duplicate", "duplicate agency id 'AG0003'"),
        ({"MODEL_1": 80}, ["region"], "missing_region", "region: 1 agencies have no value"),
        ({"MODEL_1": 1, "MODEL_2": 1}, ["region"], "two_strata", "stratum 'A' would have 2 agencies drawn"),
    ],
)
def test_refusals_name_the_field_and_the_rule(arms, strata, edit, message):
    agencies = agency_frame()
    if edit == "no_size":
        agencies = agencies.drop(columns="size")
    elif edit == "duplicate":
        agencies.loc[5, "agency_id"] = "AG0003"
    elif edit == "missing_region":
        agencies.loc[5, "region"] = None
    elif edit == "two_strata":
        agencies = pd.DataFrame({"agency_id": ["X1", "X2"], "region": ["A", "B"]})
    with pytest.raises(InvalidInput, match=message):
        draw_arms(agencies, arms, strata, seed=1)


def test_bad_seed_is_refused():
    with pytest.raises(InvalidInput, match="seed"):
        draw_arms(agency_frame(10), {"MODEL_1": 1}, [], seed=-3)


def test_balance_flags_differences_beyond_a_tenth_of_a_standard_deviation():
    agencies = agency_frame(300)
    result = draw_arms(agencies, {"MODEL_1": 40, "MODEL_2": 20}, ["region"], seed=4)
    arm = agencies["agency_id"].map(result.assignment.set_index("agency_id")["arm"])
    agencies["tilted"] = np.where(arm == "MODEL_1", 1.0, 0.0) + np.linspace(0, 1, len(agencies))
    agencies["constant"] = 5.0
    table = balance_table(agencies, result, ["tilted", "constant", "share_rsa"]).set_index(["covariate", "arm"])
    assert table.loc[("tilted", "MODEL_1"), "flagged"]
    assert table.loc[("tilted", "MODEL_1"), "smd"] > 2
    assert table.loc[("constant", "MODEL_1"), "smd"] == 0
    assert not table.loc[("constant", "MODEL_2"), "flagged"]
    assert (table["flagged"] == (table["smd"].abs() > SMD_THRESHOLD)).all()
    control = agencies.loc[arm == CONTROL, "share_rsa"]
    treated = agencies.loc[arm == "MODEL_2", "share_rsa"]
    expected = (treated.mean() - control.mean()) / np.sqrt((treated.var() + control.var()) / 2)
    assert table.loc[("share_rsa", "MODEL_2"), "smd"] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InvalidInput, match="region: a balance covariate must be numeric"):
        balance_table(agencies, result, ["region"])


def test_command_line_arms_are_parsed_and_checked():
    assert parse_arms("MODEL_2=20, MODEL_1=80") == {"MODEL_1": 80, "MODEL_2": 20}
    for text, message in (
        ("MODEL_1=eighty", "must be ARM=COUNT"),
        ("MODEL_1=8,MODEL_1=9", "given twice"),
        ("MODEL_9=3", "unknown arm 'MODEL_9'"),
    ):
        with pytest.raises(InvalidInput, match=message):
            parse_arms(text)
