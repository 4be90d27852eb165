"""The model report (self-contained HTML) and the model card (Markdown), as MLflow artifacts.

The report is for data scientists and auditors: mean |SHAP| per profile field for each
need and for employability, beeswarm plots, the calibration curve, the confusion
matrix, the model against its baselines and the Bayes reference, and the fairness
tables. The model card is the technical documentation and the instructions for use
that the AI Act asks of a high-risk system (Art. 11, 13, 14).
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from jinja2 import Environment, FileSystemLoader

from features.schema import FIELDS_BY_NAME, NEEDS
from features.spec import PROFILE_SPEC_NAME, TrainingSpec
from models.calibration import ECE_BINS, reliability_table
from models.card import KNOWN_LIMITS, OVERSIGHT
from models.explainer import Contributions
from models.segmentation import SegmentationModel
from training import evaluate

if TYPE_CHECKING:
    from training.evaluate import Evaluation
    from training.train import FittedModels

SAMPLE_ROWS = 1000
TEMPLATES = Path(__file__).with_name("templates")
COMPARED = (
    ("need_accuracy", "higher"),
    ("need_macro_f1", "higher"),
    ("need_log_loss", "lower"),
    ("need_top2_accuracy", "higher"),
    ("emp_auc", "higher"),
    ("emp_brier", "lower"),
    ("emp_ece", "lower"),
    ("tier_accuracy", "higher"),
)


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        # HTML is escaped; the Markdown card is not (it would show &lt; for <).
        autoescape=lambda name: name is not None and ".html" in name,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _labeller(spec: TrainingSpec):
    """Column labels from the spec (its ``label_fr``), or from the profile schema for the profile."""
    if spec.name == PROFILE_SPEC_NAME:
        return lambda name: FIELDS_BY_NAME[name].label_fr if name in FIELDS_BY_NAME else name
    return spec.label_of


def explanation_sets(model: SegmentationModel, X: np.ndarray) -> dict[str, Contributions]:
    """SHAP values of every row of ``X`` for each need class, and for employability."""
    out: dict[str, Contributions] = {}
    for index, code in enumerate(model.need_classes if model.has_need else []):
        out[code] = model.explain_need(X, np.full(len(X), index))
    if model.has_employability:
        out["employability"] = model.explain_employability(X)
    return out


def importance_tables(explained: dict[str, Contributions], names: list[str]) -> dict[str, pd.Series]:
    """Mean |SHAP| per profile field: one series per need, and one for employability."""
    return {target: pd.Series(np.abs(c.values).mean(axis=0), index=names) for target, c in explained.items()}


def _beeswarm(values: np.ndarray, base: np.ndarray, X: np.ndarray, names: list[str], title: str) -> str:
    explanation = shap.Explanation(values=values, base_values=base, data=X, feature_names=names)
    shap.plots.beeswarm(explanation, max_display=12, show=False)
    fig = plt.gcf()
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def _importance_plot(tables: dict[str, pd.Series], label) -> str:
    frame = pd.DataFrame(tables)
    frame = frame.loc[frame.sum(axis=1).sort_values().index[-15:]]
    frame.index = [label(n) for n in frame.index]
    fig, ax = plt.subplots(figsize=(8, 6))
    frame.plot.barh(ax=ax, width=0.8)
    ax.set_xlabel("mean |SHAP| (log-odds)")
    ax.legend(fontsize=7)
    return _png(fig)


def _calibration_plot(
    y: np.ndarray, p_used: np.ndarray, p_raw: np.ndarray, method: str, horizon: str, n_bins: int
) -> str:
    """Reliability diagram on equal-width bins, each point labelled with how many people it holds."""
    fig, (ax, bars) = plt.subplots(2, 1, figsize=(5.5, 7), height_ratios=[3, 1], sharex=True)
    curves = [("raw LightGBM, no calibration applied" if method == "none" else f"calibrated ({method})", p_used)]
    if method != "none":
        curves.append(("raw LightGBM (before calibration)", p_raw))
    for label, p in curves:
        table = reliability_table(y, p, n_bins)
        xs = [r["mean_probability"] for r in table]
        ax.plot(xs, [r["observed_rate"] for r in table], marker="o", label=label)
        if p is p_used:
            for r in table:
                ax.annotate(
                    str(r["count"]),
                    (r["mean_probability"], r["observed_rate"]),
                    fontsize=6,
                    textcoords="offset points",
                    xytext=(3, -9),
                )
            bars.bar(
                [r["low"] for r in table],
                [r["count"] for r in table],
                width=1 / n_bins,
                align="edge",
                edgecolor="white",
            )
    ax.plot([0, 1], [0, 1], "k--", label="perfect")
    ax.set_ylabel("observed rate")
    ax.set_title(f"{n_bins} equal-width bins; numbers: people per bin", fontsize=8)
    ax.legend(fontsize=7)
    bars.set_xlabel(f"predicted probability of the outcome ({horizon})")
    bars.set_ylabel("people")
    return _png(fig)


def _confusion_plot(matrix: np.ndarray, classes: list[str]) -> str:
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if count > matrix.max() / 2 else "black",
        )
    ax.set_xlabel("suggested need")
    ax.set_ylabel("recorded need")
    return _png(fig)


def comparison_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Model, baselines and Bayes side by side, metric by metric."""
    rows = []
    for key, better in COMPARED:
        if key not in metrics:
            continue
        rows.append(
            {
                "metric": key,
                "better": better,
                "model": metrics.get(key),
                "logreg": metrics.get(f"baseline_logreg_{key}"),
                "rules": metrics.get(f"baseline_rules_{key}"),
                "bayes": metrics.get(f"bayes_{key}"),
            }
        )
    return rows


def known_limits(spec: TrainingSpec, has_need: bool) -> list[str]:
    """The model card's known limits, as they apply to this run's data and models."""
    limits = []
    if spec.is_synthetic:
        limits.append(KNOWN_LIMITS[0]["en"])
    else:
        limits.append(
            f"Trained on {spec.source or 'the data file named above'}: figures describe that extract only; "
            "no truth is known, so no Bayes reference is given and the label-bias check cannot run."
        )
    if has_need:
        limits.append(
            KNOWN_LIMITS[1]["en"] if spec.name == PROFILE_SPEC_NAME else KNOWN_LIMITS[1]["en"].split(".")[0] + "."
        )
    limits += [item["en"] for item in KNOWN_LIMITS[2:5]]
    protected = [c.name for c in spec.protected]
    sensitive = [c.name for c in spec.sensitive]
    limits.append(
        (
            f"Protected columns ({', '.join(protected)}) are never model inputs; "
            if protected
            else "No protected column is declared; "
        )
        + (
            f"sensitive columns ({', '.join(sensitive)}) are inputs and are audited."
            if sensitive
            else "no sensitive column is an input."
        )
    )
    return limits


def build_context(
    model: SegmentationModel,
    evaluation: Evaluation,
    fitted: FittedModels,
    tags: dict[str, str],
    extras: dict[str, Any] | None = None,
) -> dict[str, Any]:
    extras = extras or {}
    spec = model.spec
    label = _labeller(spec)
    test = evaluation.test
    sample = test.iloc[:SAMPLE_ROWS]
    X = model.encode_frame(sample)
    names = model.feature_names
    labels = [label(n) for n in names]
    explained = explanation_sets(model, X)
    tables = importance_tables(explained, names)
    plots: dict[str, str] = {"importance": _importance_plot(tables, label)}
    outcome = spec.employment_label
    horizon = outcome.horizon if outcome and outcome.horizon else "no horizon declared"
    titles = {"employability": f"Outcome: {outcome.display_label if outcome else ''} ({horizon})", **NEEDS}
    order = ["employability", *[c for c in explained if c != "employability"]]
    beeswarms = [
        (titles.get(target, target), _beeswarm(explained[target].values, explained[target].base, X, labels, target))
        for target in order
        if target in explained
    ]
    method = model.calibrator.method_ if model.calibrator is not None else None
    reliability = []
    scores = evaluation.scores
    if scores.p_employed is not None and scores.p_employed_raw is not None:
        y = spec.outcome(test)
        plots["calibration"] = _calibration_plot(
            y, scores.p_employed, scores.p_employed_raw, method or "none", horizon, ECE_BINS
        )
        reliability = reliability_table(y, scores.p_employed, ECE_BINS)
    if spec.need_label is not None and scores.need_proba is not None:
        matrix = evaluate.confusion(
            test[spec.need_label.name].astype(str).to_numpy(), scores.need_proba, model.need_classes
        )
        plots["confusion"] = _confusion_plot(matrix, model.need_classes)
    importance = pd.DataFrame(tables)
    importance = importance.loc[importance.sum(axis=1).sort_values(ascending=False).index]
    importance.index = [f"{label(n)} ({n})" for n in importance.index]
    audit = evaluation.audit
    comparison = comparison_rows(evaluation.metrics)
    calibrator = model.calibrator
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "model_name": spec.registered_model_name,
        "tags": tags,
        "metrics": evaluation.metrics,
        "comparison": comparison,
        "has_bayes": any(row["bayes"] is not None for row in comparison),
        "has_rules": any(row["rules"] is not None for row in comparison),
        "plots": plots,
        "beeswarms": beeswarms,
        "importance_html": importance.to_html(float_format=lambda v: f"{v:.3f}", classes="table"),
        "fairness_html": {
            name: t.to_html(float_format=lambda v: f"{v:.3f}", classes="table")
            for name, t in (audit.tables.items() if audit else [])
        },
        "audit": audit,
        "findings": audit.findings if audit else [],
        "worst": audit.worst if audit else {},
        "searches": {k: v.__dict__ for k, v in fitted.searches.items()},
        "calibration_method": method,
        "calibration_scores": dict(calibrator.scores_) if calibrator is not None else {},
        "ece_bins": ECE_BINS,
        "reliability": reliability,
        "bands": model.tier_bands.to_dict(),
        "spec": spec,
        "synthetic": spec.is_synthetic,
        "outcome": outcome,
        "horizon": horizon,
        "need_label": spec.need_label,
        "classes": model.need_classes,
        "inputs": [(label(c.name), c.name, c.role) for c in spec.inputs],
        "protected": [c.name for c in spec.protected],
        "sensitive": [c.name for c in spec.sensitive],
        "audited": [c.name for c in spec.audited],
        "split": {
            "train": len(fitted.split.train),
            "validation": len(fitted.split.validation),
            "test": len(fitted.split.test),
        },
        "review": model.review,
        "review_report": extras.get("review_policy"),
        "variants": extras.get("variants"),
        "limits": known_limits(spec, model.has_need),
        "oversight": OVERSIGHT,
    }


def write_reports(
    model: SegmentationModel,
    evaluation: Evaluation,
    fitted: FittedModels,
    tags: dict[str, str],
    folder: Path,
    extras: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``model_report.html`` and ``model_card.md`` into ``folder``; return their paths."""
    context = build_context(model, evaluation, fitted, tags, extras)
    env = _environment()
    report_path = folder / "model_report.html"
    report_path.write_text(env.get_template("model_report.html.j2").render(**context), encoding="utf-8")
    card_path = folder / "model_card.md"
    card_path.write_text(env.get_template("model_card.md.j2").render(**context), encoding="utf-8")
    return [report_path, card_path]
