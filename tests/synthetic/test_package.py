"""The synthetic package: no run-time state, errors users can act on, the offline recalibration script."""

from __future__ import annotations

import dataclasses
import importlib.util
import pickle
import pkgutil
import types
from pathlib import Path

import pytest

import synthetic
from core.errors import InvalidInput, JalonError
from synthetic._calibrated import CALIBRATED

ROOT = Path(__file__).resolve().parents[2]


def _package_state() -> dict[str, bytes]:
    """Every module-level value of every module of the package, as bytes (numpy arrays included)."""
    state: dict[str, bytes] = {}
    modules = [synthetic] + [
        importlib.import_module(f"synthetic.{m.name}") for m in pkgutil.iter_modules(synthetic.__path__)
    ]
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, (types.ModuleType, types.FunctionType, type)):
                continue
            state[f"{module.__name__}.{name}"] = pickle.dumps(value)
    return state


def test_generating_and_reporting_change_no_module_global():
    before = _package_state()
    assert "synthetic._calibrated.CALIBRATED" in before
    assert "synthetic._person._AGE_PMF" in before
    frame = synthetic.generate_population(2_000, 3, synthetic.parse_label_bias("sex=F=0.5"))
    synthetic.calibration_report(frame)
    synthetic.bayes_reference(frame)
    synthetic.true_probabilities(frame)
    after = _package_state()
    assert after.keys() == before.keys()
    assert [name for name in before if after[name] != before[name]] == []


def test_fitted_constants_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CALIBRATED.need_scale = 1.0  # type: ignore[misc]
    assert all(isinstance(getattr(CALIBRATED, f.name), (float, tuple)) for f in dataclasses.fields(CALIBRATED))


@pytest.mark.parametrize(
    "call",
    [
        lambda: synthetic.generate_population(-1, 1),
        lambda: synthetic.parse_label_bias("nationality_group=MARS=0.5"),
        lambda: synthetic.LabelBias("age", "70-16", 0.5),
    ],
)
def test_bad_requests_are_invalid_input(call):
    with pytest.raises(InvalidInput) as caught:
        call()
    assert isinstance(caught.value, JalonError)


def test_recalibration_script_refits_without_touching_the_package():
    spec = importlib.util.spec_from_file_location("recalibrate_synthetic", ROOT / "scripts/recalibrate_synthetic.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    before = _package_state()
    refitted = script.recalibrate(rows=5_000, seed=1, rounds=1)
    assert _package_state() == before
    assert type(refitted) is type(CALIBRATED)
    assert refitted != CALIBRATED
    pasted = script.as_python(refitted)
    assert pasted.startswith("CALIBRATED = CalibratedConstants(\n")
    assert pasted.endswith("\n)")
    # the printed block is Python that rebuilds the constants to 4 decimals
    rebuilt = eval(pasted.removeprefix("CALIBRATED = "), {"CalibratedConstants": type(CALIBRATED)})
    assert rebuilt.need_scale == round(refitted.need_scale, 4)
    assert rebuilt.education_cuts == tuple(round(x, 4) for x in refitted.education_cuts)
