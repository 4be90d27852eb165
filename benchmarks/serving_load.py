"""The load of the serving benchmark: concurrent clients, latencies, and the disk's fsync cost.

Used by ``bench_serving.py``; see that module's docstring.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.launcher import ServerProcess

# --------------------------------------------------------------------------- the load


def fsync_probe(directory: Path, n: int = 30) -> tuple[float, float]:
    """p50 and p90 of fsync after a 4 KiB write in ``directory`` (ms): SQLite's FULL sync cost."""
    import numpy as np

    times = []
    fd, name = tempfile.mkstemp(dir=directory, prefix=".fsync-probe-")
    try:
        for _ in range(n):
            os.write(fd, b"\0" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(name)
    return float(np.percentile(times, 50)), float(np.percentile(times, 90))


def sqlite_dir(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url and not url.startswith(prefix + "file:"):
        return Path(url[len(prefix) :]).parent
    return None


@dataclass
class Result:
    latencies_ms: list[float]
    errors: int
    first_error: str | None
    wall_s: float
    cpu_s: float
    client_cpu_s: float
    rss_peak_mb: float

    def pct(self, q: float) -> float:
        import numpy as np

        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


def drive(server: ServerProcess, bodies: list[bytes], token: str, concurrency: int, timeout: float) -> Result:
    """Send every body once to POST /suggest from ``concurrency`` threads; client-side latencies."""
    import httpx

    n = len(bodies)
    latencies: list[float | None] = [None] * n
    statuses: list[int] = [0] * n
    first_error: list[str] = []
    counter = itertools.count()  # next() on itertools.count is atomic under the GIL
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    peak = [server.rss_mb()]
    done = threading.Event()  # set at the end, or on Ctrl-C: client loops stop after their request

    def sample_rss() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], server.rss_mb())

    def client_loop() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=timeout) as client:
            while not done.is_set() and (i := next(counter)) < n:
                t0 = time.perf_counter()
                try:
                    response = client.post("/suggest", content=bodies[i])
                    statuses[i] = response.status_code
                    if response.status_code != 200 and not first_error:
                        first_error.append(f"HTTP {response.status_code}: {response.text[:300]}")
                except httpx.HTTPError as exc:
                    statuses[i] = -1
                    if not first_error:
                        first_error.append(f"{type(exc).__name__}: {exc}")
                latencies[i] = (time.perf_counter() - t0) * 1000.0

    # This process holds the population and (after training) much more: a full collection
    # here would stall every client thread for 100+ ms and be counted as server latency.
    # The loop allocates little, so the collector is paused while it runs.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        cpu0 = server.cpu_seconds()
        client0 = time.process_time()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():  # a bare join() would not see Ctrl-C until the load ends
                t.join(0.2)
        wall = time.perf_counter() - t0
        client_cpu = time.process_time() - client0
        cpu = server.cpu_seconds() - cpu0
        done.set()
        sampler.join()
    finally:
        done.set()
        gc.enable()
        gc.unfreeze()
    ok = [lat for lat, status in zip(latencies, statuses, strict=True) if status == 200 and lat is not None]
    return Result(
        ok, n - len(ok), first_error[0] if first_error else None, wall, cpu, client_cpu, max(peak[0], server.rss_mb())
    )


@dataclass
class Measured:
    name: str
    loaded: Result
    sequential: Result | None
    rss_idle_mb: float
    rss_parts: str
    fsync_ms: list[tuple[float, float]] = field(default_factory=list)


def measure(server: ServerProcess, token: str, bodies: list[bytes], args: argparse.Namespace) -> Measured:
    warm = bodies[: args.warmup]
    load = bodies[args.warmup : args.warmup + args.requests]
    seq = bodies[args.warmup + args.requests : args.warmup + args.requests + args.sequential]
    print(f"[{server.name}] warm-up: {len(warm)} requests", flush=True)
    warm_result = drive(server, warm, token, args.concurrency, args.timeout)
    if warm_result.errors:
        raise RuntimeError(f"{server.name}: warm-up failed ({warm_result.first_error})\n{server.log_tail()}")
    rss_idle, rss_parts = server.rss_mb(), server.rss_parts()
    print(f"[{server.name}] load: {len(load)} requests, {args.concurrency} concurrent clients", flush=True)
    loaded = drive(server, load, token, args.concurrency, args.timeout)
    sequential = None
    if seq:
        print(f"[{server.name}] service time: {len(seq)} requests, 1 client", flush=True)
        sequential = drive(server, seq, token, 1, args.timeout)
    return Measured(server.name, loaded, sequential, rss_idle, rss_parts)
