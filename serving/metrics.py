"""Prometheus metrics labelled by route *template*, never by raw path.

BentoML's own request metrics label each request with its raw path, so every suggestion id
read became a label of its own (ids leaked to anyone who could scrape, and the label set, the
worker's memory and the scrape grew without bound). The service turns them off and counts
here instead: the ``route`` label is the route's template (``/suggestions/{suggestion_id}``),
``unmatched`` for any path the service does not have, ``method-not-allowed`` for a known path
with another method. No label carries a subject, a person or an id.

Metrics (multi-process: BentoML gives each worker ``PROMETHEUS_MULTIPROC_DIR``, and a scrape
sums every worker's files):

* ``jalon_http_requests_total{route, method, status}``
* ``jalon_http_request_duration_seconds{route, method}`` (histogram)

``prometheus_client`` is imported on first use, after the worker has set its multi-process
folder (imported earlier, it would count in this process only).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from serving import routes

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_lock = threading.Lock()
_metrics: dict[str, Any] = {}


def _instruments() -> dict[str, Any]:
    with _lock:
        if not _metrics:
            import prometheus_client

            _metrics["requests"] = prometheus_client.Counter(
                "jalon_http_requests", "HTTP requests by route template", ["route", "method", "status"]
            )
            _metrics["duration"] = prometheus_client.Histogram(
                "jalon_http_request_duration_seconds",
                "HTTP request duration by route template",
                ["route", "method"],
                buckets=_BUCKETS,
            )
        return _metrics


def observe(method: str, path: str, status: int, seconds: float) -> None:
    """Count one finished request."""
    route = routes.label(method, path)
    method_label = method if method in _METHODS else "OTHER"
    instruments = _instruments()
    instruments["requests"].labels(route, method_label, str(status)).inc()
    instruments["duration"].labels(route, method_label).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The scrape's body and content type (every worker's counts when multi-process)."""
    import prometheus_client
    from prometheus_client import multiprocess

    _instruments()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST
