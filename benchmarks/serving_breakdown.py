"""The in-process breakdown of the serving benchmark: where one suggestion's time goes.

Called by ``bench_serving.py --breakdown N``; see that module's docstring.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

#: The benchmark's advisor (token subject and author of the recorded suggestions).
ADVISOR = "bench-advisor"


# --------------------------------------------------------------------------- in-process breakdown


def breakdown(mlflow_dir: Path, bodies: list[bytes], db_url: str) -> None:
    """Time each step of one /suggest in this process (no HTTP), and ClassExplainer vs shap.

    The steps are those of ``serving.service.Jalon.suggest`` and ``serving.logic.Advisory.suggest``,
    called one by one on the same model and a real DecisionStore (``db_url``), one profile at a time.
    """
    import uuid
    import warnings
    from datetime import UTC, datetime

    import numpy as np
    import shap

    from features.api_models import Profile
    from models.loading import load_segmentation
    from models.suggestion import Suggestion
    from records import DecisionStore, row_from_suggestion
    from serving import logic
    from serving.auth import Principal, Role

    warnings.filterwarnings("ignore", message="LightGBM binary classifier")
    model = load_segmentation(mlflow_dir)
    model.set_threads(1)
    store = DecisionStore(db_url)
    advisory = logic.Advisory(model, "bench", store)
    principal = Principal(ADVISOR, Role.ADVISOR)
    need_booster = model.need_pipeline[-1].booster_
    need_shap = shap.TreeExplainer(need_booster)
    emp_shap = shap.TreeExplainer(model.emp_pipeline[-1].booster_)
    profiles = [json.loads(b)["profile"] for b in bodies]
    warm, profiles = profiles[:50], profiles[50:]
    for p in warm:
        advisory.suggest([Profile.model_validate(p).model_dump()], principal)[0].model_dump_json()
    steps: dict[str, list[float]] = {
        k: []
        for k in (
            "pydantic: Profile in",
            "encode_records",
            "predict (score)",
            "explain need (shown class)",
            "explain employability",
            "suggest_encoded (all model work)",
            "policy recommend",
            "input hash",
            "store.record_suggestion (commit)",
            "pydantic: Suggestion + JSON",
            "Advisory.suggest end to end",
            "shap.TreeExplainer need (all classes)",
            "shap.TreeExplainer employability",
            "pred_contrib need all classes, 1 thread",
        )
    }
    try:
        for p in profiles:
            t = [time.perf_counter()]
            record = Profile.model_validate(p).model_dump()
            t.append(time.perf_counter())
            X = model.encode_records([record])
            t.append(time.perf_counter())
            scores = model.score(X)
            t.append(time.perf_counter())
            model.explain_need(X, scores.need_index)
            t.append(time.perf_counter())
            model.explain_employability(X)
            t.append(time.perf_counter())
            output = model.suggest_encoded(X)[0]
            t.append(time.perf_counter())
            recommendation = advisory._recommend(output.need_code, output.tier, record, datetime.now(UTC).date())
            t.append(time.perf_counter())
            digest = logic.input_hash(record)
            t.append(time.perf_counter())
            suggestion = Suggestion(
                suggestion_id=uuid.uuid4().hex,
                model_version="bench",
                created_at=datetime.now(UTC),
                person_id=record["person_id"],
                agency_id=record.get("agency_id"),
                **dict(output),
                recommendation=recommendation,
            )
            store.record_suggestion(**row_from_suggestion(suggestion, advisor_id=ADVISOR, input_hash=digest))
            t.append(time.perf_counter())
            suggestion.model_dump_json()
            t.append(time.perf_counter())
            advisory.suggest([Profile.model_validate(p).model_dump()], principal)[0].model_dump_json()
            t.append(time.perf_counter())
            need_shap.shap_values(X)
            t.append(time.perf_counter())
            emp_shap.shap_values(X)
            t.append(time.perf_counter())
            need_booster.predict(X, pred_contrib=True, num_threads=1)
            t.append(time.perf_counter())
            for name, a, b in zip(steps, t, t[1:], strict=False):
                steps[name].append((b - a) * 1000)
    finally:
        store.dispose()
    print(f"\nin-process breakdown of one /suggest ({len(profiles)} profiles, one at a time, no HTTP; store {db_url})")
    print(f"{'step':40s} {'mean':>7s} {'p50':>7s} {'p99':>7s}  ms")
    for name, values in steps.items():
        v = np.asarray(values)
        print(f"{name:40s} {v.mean():7.3f} {np.percentile(v, 50):7.3f} {np.percentile(v, 99):7.3f}")
    ours = np.asarray(steps["explain need (shown class)"]) + np.asarray(steps["explain employability"])
    theirs = np.asarray(steps["shap.TreeExplainer need (all classes)"]) + np.asarray(
        steps["shap.TreeExplainer employability"]
    )
    one_thread = np.asarray(steps["pred_contrib need all classes, 1 thread"])
    need_ours = np.asarray(steps["explain need (shown class)"])
    print(
        f"explanations (p50): ClassExplainer need+employability {np.median(ours):.3f} ms vs shap.TreeExplainer "
        f"all classes {np.median(theirs):.3f} ms ({np.median(theirs) / np.median(ours):.1f}x); need model alone "
        f"at one thread: shown class {np.median(need_ours):.3f} ms vs all classes {np.median(one_thread):.3f} ms "
        f"({np.median(one_thread) / np.median(need_ours):.1f}x); {len(model.need_classes)} need classes, "
        f"{need_booster.num_trees()} + {model.emp_pipeline[-1].booster_.num_trees()} trees"
    )
