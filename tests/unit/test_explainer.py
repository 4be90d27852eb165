"""Explanations are exact TreeSHAP values of the shown class, and add up to the raw score."""

from __future__ import annotations

import numpy as np
import shap

from models.explainer import check_additivity


def test_per_class_values_equal_shap_tree_explainer(model, population) -> None:
    X = model.encode_frame(population.head(50))
    booster = model.need_pipeline[-1].booster_
    reference = np.asarray(shap.TreeExplainer(booster).shap_values(X))  # (n, features, classes)
    classes = model.score(X).need_index
    ours = model.explain_need(X, classes)
    expected = reference[np.arange(len(X)), :, classes]
    np.testing.assert_allclose(ours.values, expected, atol=1e-9)


def test_base_plus_contributions_is_the_raw_score(model, records) -> None:
    X = model.encode_records(records[:100])
    scores = model.score(X)
    need = model.explain_need(X, scores.need_index)
    check_additivity(need, scores.need_raw[np.arange(len(X)), scores.need_index], atol=1e-9)
    check_additivity(model.explain_employability(X), scores.emp_raw, atol=1e-9)


def test_suggestion_explanations_add_up(model, records) -> None:
    for item in model.suggest_records(records[:20]):
        for key in ("need", "employability"):
            e = getattr(item.explanations, key)
            total = e.base_value + sum(f.contribution for f in e.factors) + e.other_contribution
            assert abs(total - e.raw_score) < 1e-9
            assert all(f.sentence_fr and f.direction in ("towards", "against") for f in e.factors)


def test_record_path_equals_frame_path(model, population, records) -> None:
    frame_X = model.encode_frame(population.head(200))
    record_X = model.encode_records(records)
    np.testing.assert_array_equal(frame_X, record_X)
