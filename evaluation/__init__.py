"""The evaluation of the MSA experiment: power before it, ITT effects and the report after it.

Public functions, as the command line calls them (``docs/experiment.md``):

- ``jalon experiment power``: :func:`experiment_power` (MDE per arm) from a :class:`Design`'s
  parameters, which :func:`estimate_design` measures on a past cohort; :func:`simulate_power`
  checks the formula by simulation.
- ``jalon experiment evaluate``: :func:`evaluate_experiment` (outcomes + baseline scores +
  the verified draw of :func:`policy.draw.load_draw`, optionally the agency table and the
  MODEL_2 allocation), then :func:`write_report` (French HTML and JSON).

Modules: ``power`` (MDE, simulation), ``_sufficient`` (the regression from per-agency sums),
``itt`` (effects and randomisation inference), ``observed`` (observed/expected in MODEL_2),
``experiment`` (inputs checked and put together), ``report`` (HTML, JSON).
"""

from __future__ import annotations

from evaluation.experiment import ARM_KEYS, ExperimentEvaluation, evaluate_experiment, prepare_people
from evaluation.itt import DEFAULT_RI_DRAWS, DEFAULT_RI_SEED, itt_effects
from evaluation.observed import observed_expected
from evaluation.power import (
    Design,
    DesignEstimate,
    MinimumDetectableEffect,
    SimulatedPower,
    estimate_design,
    experiment_power,
    minimum_detectable_effect,
    simulate_power,
)
from evaluation.report import json_path, render_report, write_report

__all__ = [
    "ARM_KEYS",
    "DEFAULT_RI_DRAWS",
    "DEFAULT_RI_SEED",
    "Design",
    "DesignEstimate",
    "ExperimentEvaluation",
    "MinimumDetectableEffect",
    "SimulatedPower",
    "estimate_design",
    "evaluate_experiment",
    "experiment_power",
    "itt_effects",
    "json_path",
    "minimum_detectable_effect",
    "observed_expected",
    "prepare_people",
    "render_report",
    "simulate_power",
    "write_report",
]
