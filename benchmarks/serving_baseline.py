"""The baseline of the serving benchmark: a plain FastAPI + uvicorn app with shap.TreeExplainer.

Started by ``bench_serving.py --serve-baseline`` in its own process; see that module's docstring.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

#: The environment variable naming the model the baseline server loads.
BASELINE_MODEL_ENV = "JALON_BENCH_BASELINE_MODEL"


# --------------------------------------------------------------------------- the baseline server


def baseline_app():
    """The plain baseline (an ASGI app factory): same model, shap.TreeExplainer on all classes."""
    import warnings

    import numpy as np
    import shap
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from models.loading import load_segmentation

    warnings.filterwarnings("ignore", message="LightGBM binary classifier")
    model = load_segmentation(os.environ[BASELINE_MODEL_ENV])
    need_booster = model.need_pipeline[-1].booster_
    emp_booster = model.emp_pipeline[-1].booster_
    need_explainer = shap.TreeExplainer(need_booster)
    emp_explainer = shap.TreeExplainer(emp_booster)

    def explain(profile: dict[str, Any]) -> dict[str, Any]:
        X = model.encode_records([profile])
        scores = model.score(X)
        need_values = np.asarray(need_explainer.shap_values(X))  # every class
        emp_values = emp_explainer.shap_values(X)
        emp_values = np.asarray(emp_values[-1] if isinstance(emp_values, list) else emp_values)
        k = int(scores.need_index[0])
        return {
            "person_id": profile.get("person_id"),
            "need": {
                "code": model.need_classes[k],
                "probability": float(scores.need_proba[0, k]),
                "distribution": dict(zip(model.need_classes, map(float, scores.need_proba[0]), strict=True)),
            },
            "employability": {"probability": float(scores.p_employed[0]), "tier": str(scores.tier[0])},
            "explanations": {
                "features": model.feature_names,
                "need": {
                    "base_values": np.asarray(need_explainer.expected_value).tolist(),
                    "values": need_values.reshape(-1).tolist(),
                    "shape": list(need_values.shape),
                },
                "employability": {
                    "base_value": np.asarray(emp_explainer.expected_value).reshape(-1).tolist(),
                    "values": emp_values.reshape(-1).tolist(),
                },
            },
        }

    async def suggest(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(await run_in_threadpool(explain, body["profile"]))

    async def ready(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/suggest", suggest, methods=["POST"]), Route("/readyz", ready)])


def serve_baseline(port: int, workers: int) -> None:
    """Run the baseline with uvicorn: ``workers`` forked processes accepting on one socket.

    Not ``uvicorn --workers``: its multi-process mode creates the listening socket with
    protocol 0, so asyncio does not set TCP_NODELAY on accepted connections and every
    response (headers and body are two writes) waits for the client's delayed ACK, a
    constant ~40-48 ms on loopback that would say nothing about the model.
    """
    import multiprocessing

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)

    def run() -> None:
        config = uvicorn.Config(baseline_app, factory=True, log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[sock])

    if workers == 1:
        run()
        return
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=run, daemon=True) for _ in range(workers)]
    for child in children:
        child.start()

    def stop(signum, frame):
        for child in children:
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()
