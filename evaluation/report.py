"""The French report of the MSA experiment (self-contained HTML with inline plots) and its JSON.

:func:`write_report` writes ``report.html`` and, beside it, ``report.json``
(:meth:`ExperimentEvaluation.summary`: per arm ``estimate``, ``std_error``, ``ci_low``,
``ci_high``, ``p_value_ri``, ``n_agencies``, ``n_people`` and more). The page is for the
people who steer the experiment: every number goes through :mod:`core.french`, effects
are in percentage points, plots are PNG (matplotlib, Agg) inside the page. Same
evaluation, same bytes: nothing in the page depends on the clock.
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from core import french
from evaluation.experiment import ExperimentEvaluation
from evaluation.itt import ALL
from features.schema import NEEDS, TIERS
from policy import TRACK_LABELS_FR
from policy.draw import CONTROL, HAND_ADDED

TEMPLATES = Path(__file__).with_name("templates")
DASH = "\u2013"  # en dash between a code and its label (French typography)
ARM_LABELS_FR = {
    "MODEL_1": "Modèle 1 (parcours recommandé)",
    "MODEL_2": "Modèle 2 (allocation selon les capacités)",
    CONTROL: "Agences témoins",
    HAND_ADDED: "Agences ajoutées à la main (hors comparaison)",
}
COVARIATE_LABELS_FR = {
    "size": "Taille (demandeurs d'emploi inscrits)",
    "share_long_term_unemployed": "Part de chômeurs de longue durée",
    "share_rsa": "Part d'allocataires du RSA",
    "baseline_employment_rate": "Taux d'emploi à six mois avant l'expérimentation",
}
SUBGROUP_LABELS_FR = {"tier": "Niveau d'employabilité", "need": "Besoin principal prédit"}
STRATUM_LABELS_FR = {"region": "région", "size_band": "tranche de taille", "stratum": "strate"}


def json_path(out_path: str | Path) -> Path:
    """The JSON beside a report: ``report.html`` → ``report.json``."""
    return Path(out_path).with_suffix(".json")


def points(x: float | None, decimals: int = 1) -> str:
    """An effect in percentage points: ``+2,1 points``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "non disponible"
    return f"{french.number(x * 100, decimals, signed=True)}{french.NBSP}point{'s' if abs(x * 100) >= 2 else ''}"


def p_value(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "non disponible"
    return f"<{french.NNBSP}0,001" if x < 0.001 else french.number(x, 3)


def covariate_value(x: float) -> str:
    """A covariate mean: whole numbers for counts (sizes), three decimals for shares."""
    return french.number(x, 0 if abs(x) >= 100 else 3)


def group_label(subgroup: str, group: str) -> str:
    if subgroup == "tier":
        return f"{group} {DASH} {TIERS.get(group, group)}"
    if subgroup == "need":
        return NEEDS.get(group, group)
    if group == ALL:
        return "Ensemble"
    return group


def track_label(track: str) -> str:
    return "Toutes les voies" if track == ALL else TRACK_LABELS_FR.get(track, "Sans affectation")


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _french_axis(axis: Any, scale: float = 1.0, decimals: int = 0) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: french.number(v * scale, decimals)))


def _effects_plot(effects: pd.DataFrame) -> str:
    rows = effects[effects["subgroup"].isin([ALL, "tier"])].iloc[::-1]
    labels = [
        f"{ARM_LABELS_FR[str(r.arm)].split(' (')[0]} {DASH} {group_label(str(r.subgroup), str(r.group))}"
        for r in rows.itertuples()
    ]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.2))
    position = np.arange(len(rows))
    for arm, colour in (("MODEL_1", "#1f5fa8"), ("MODEL_2", "#c2571a")):
        mine = (rows["arm"] == arm).to_numpy()
        est = rows["estimate"].to_numpy()[mine] * 100
        low, high = rows["ci_low"].to_numpy()[mine] * 100, rows["ci_high"].to_numpy()[mine] * 100
        ax.errorbar(est, position[mine], xerr=[est - low, high - est], fmt="o", color=colour, capsize=3)
    ax.axvline(0, color="#555", lw=1)
    ax.set_yticks(list(position), labels)
    ax.set_xlabel("Effet sur le taux d'emploi à six mois (points de pourcentage)")
    _french_axis(ax.xaxis)
    return _png(fig)


def _balance_plot(balance: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * balance["covariate"].nunique() + 1.2))
    covariates = list(dict.fromkeys(balance["covariate"]))
    for offset, (arm, colour) in zip((-0.12, 0.12), (("MODEL_1", "#1f5fa8"), ("MODEL_2", "#c2571a")), strict=True):
        part = balance[balance["arm"] == arm]
        ax.scatter(
            part["smd"],
            [covariates.index(c) + offset for c in part["covariate"]],
            color=colour,
            label=ARM_LABELS_FR[arm].split(" (")[0],
        )
    for x in (-0.1, 0.1):
        ax.axvline(x, color="#999", ls="--", lw=1)
    ax.axvline(0, color="#555", lw=1)
    ax.set_yticks(range(len(covariates)), [COVARIATE_LABELS_FR.get(c, c) for c in covariates])
    ax.set_xlabel(f"Différence moyenne standardisée (agences tirées {french.MINUS} témoins)")
    _french_axis(ax.xaxis, decimals=2)
    ax.legend(loc="best")
    return _png(fig)


def _observed_plot(table: pd.DataFrame) -> str:
    part = table[(table["track"] == ALL) & (table["tier"] != ALL)]
    tiers = sorted(set(part["tier"]))
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for offset, (arm, colour) in zip((-0.2, 0.2), (("MODEL_2", "#c2571a"), (CONTROL, "#888888")), strict=True):
        rows = part[part["arm"] == arm].set_index("tier").reindex(tiers)
        ax.bar(
            [i + offset for i in range(len(tiers))],
            rows["ratio"],
            width=0.4,
            color=colour,
            label=ARM_LABELS_FR[arm].split(" (")[0],
        )
    ax.axhline(1, color="#555", lw=1)
    ax.set_xticks(range(len(tiers)), [group_label("tier", t) for t in tiers])
    ax.set_ylabel("Observé / attendu")
    _french_axis(ax.yaxis, decimals=2)
    ax.legend(loc="best")
    return _png(fig)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        points=points,
        p_value=p_value,
        covariate_value=covariate_value,
        stratum_label=lambda name: STRATUM_LABELS_FR.get(name, name),
        number=french.number,
        percent=french.percent,
        plural=french.plural,
        date=french.date,
        quoted=french.quoted,
    )
    env.globals.update(
        arm_label=lambda a: ARM_LABELS_FR.get(a, a),
        group_label=group_label,
        subgroup_label=lambda s: SUBGROUP_LABELS_FR.get(s, s),
        track_label=track_label,
        covariate_label=lambda c: COVARIATE_LABELS_FR.get(c, c),
        NNBSP=french.NNBSP,
    )
    return env


def render_report(evaluation: ExperimentEvaluation) -> str:
    """The report as HTML text (French)."""
    effects = evaluation.effects
    context = {
        "summary": evaluation.summary(),
        "main": evaluation.main_effects().to_dict("records"),
        "subgroups": effects[effects["subgroup"] != ALL].to_dict("records"),
        "observed": evaluation.observed_expected.to_dict("records"),
        "balance": evaluation.balance.to_dict("records") if evaluation.balance is not None else None,
        "effects_plot": _effects_plot(effects),
        "balance_plot": _balance_plot(evaluation.balance) if evaluation.balance is not None else None,
        "observed_plot": _observed_plot(evaluation.observed_expected),
        "alpha": evaluation.settings["alpha"],
    }
    return _environment().get_template("experiment_report.html.j2").render(**context)


def write_report(evaluation: ExperimentEvaluation, out_path: str | Path) -> tuple[Path, Path]:
    """Write ``out_path`` (HTML) and the JSON beside it; returns both paths."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_report(evaluation), encoding="utf-8")
    side = json_path(out_path)
    side.write_text(
        json.dumps(evaluation.summary(), ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return out_path, side
