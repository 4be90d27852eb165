"""Latency of ``POST /suggest`` (explained) on the real Jalon server, against a plain baseline.

Usage::

    .venv/bin/python benchmarks/bench_serving.py                        # trains a 200k-row home first
    .venv/bin/python benchmarks/bench_serving.py --home /tmp/jalon-bench-200000-seed1   # reuse it
    .venv/bin/python benchmarks/bench_serving.py --rows 20000 --requests 500            # quick run

Steps, all in one session and one process tree:

1. Prepare a JALON_HOME with a champion (reused if ``--home`` already holds one; otherwise
   synthetic data of ``--rows`` rows, ``training.run.run_training`` and a forced promotion),
   import the champion into BentoML and issue an advisor token.
2. Start the real server (``bentoml serve serving.service:Jalon``, ``JALON_WORKERS=--workers``,
   a fresh SQLite decisions database), warm it up, drive ``--requests`` requests with
   ``--concurrency`` client threads (one ``httpx.Client`` each, loopback, fixed timeout),
   each request a distinct synthetic profile; then ``--sequential`` requests from one client
   (the service time, without queueing). The client's garbage collector is paused while
   it sends (its full collections would otherwise be counted as server latency).
3. Stop it and start the baseline: the same MLflow model (``models.loading.load_segmentation``
   on the BentoML model's ``mlflow_model`` folder) behind a minimal Starlette handler served
   by uvicorn (``--workers`` processes, see :func:`serve_baseline`): ``model.encode_records``,
   ``model.score`` and
   ``shap.TreeExplainer(booster).shap_values(X)`` for the need model (all classes) and the
   employability model; no auth, no policy, no database. Same load.
4. Print p50/p90/p99/max latency and throughput for both, the baseline/Jalon ratio of p50
   and p99, server RSS (psutil over the process tree: after warm-up, and peak under load),
   server and client CPU per request, the fsync latency of the disk holding the decisions
   database (before and after the load), and whether the target (p50 <= 20 ms, p99 <= 60 ms
   under 8 concurrent clients) is met. Servers are stopped at the end, on Ctrl-C and on errors.

``--breakdown N`` first times each step of a suggestion in this process (no HTTP) and compares
the per-class explainer with ``shap.TreeExplainer`` on all classes. ``--service module:Class``
serves a variant of the service instead of ``serving.service:Jalon``, to measure a change
before making it (put its folder on ``PYTHONPATH`` with ``--server-env``).

Exit status: 1 if any request failed (or, with ``--check``, if the target is missed), else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from serving_baseline import BASELINE_MODEL_ENV, serve_baseline
from serving_breakdown import ADVISOR, breakdown
from serving_load import Measured, Result, fsync_probe, measure, sqlite_dir

from features.api_models import row_to_profile
from tests.support.launcher import ServerProcess, free_port

TARGET_P50_MS = 20.0
TARGET_P99_MS = 60.0
TARGET_CONCURRENCY = 8


# --------------------------------------------------------------------------- servers


class Server(ServerProcess):
    """A server under measurement (start/stop in :mod:`tests.support.launcher`), with its readings."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        super().__init__(command=command, env=env, port=port, log_path=log_path, name=name)

    def log_tail(self, chars: int = 3000) -> str:
        return self.logs()[-chars:]

    def rss_parts(self) -> str:
        """RSS of each process of the tree, in MiB (the server itself first, then its workers)."""
        import psutil

        parts = []
        for proc in self.tree():
            try:
                parts.append(f"{proc.memory_info().rss / 2**20:.0f}")
            except psutil.Error:
                pass
        return " + ".join(parts)

    def rss_mb(self) -> float:
        import psutil

        total = 0
        for proc in self.tree():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def cpu_seconds(self) -> float:
        import psutil

        total = 0.0
        for proc in self.tree():
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total


# --------------------------------------------------------------------------- the home


def prepare_home(home: Path, rows: int, seed: int, trials: int) -> tuple[str, str, str, Path]:
    """A home with a champion imported into BentoML; return (tag, version, token, mlflow folder)."""
    for key in ("MLFLOW_TRACKING_URI", "JALON_DB_URL"):
        os.environ.pop(key, None)
    os.environ["JALON_HOME"] = str(home)
    os.environ["BENTOML_HOME"] = str(home / "bentoml")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")

    from core.config import get_settings
    from serving.auth import issue_token
    from serving.bento_model import import_champion
    from training import registry

    settings = get_settings().ensure()
    client = registry.configure(settings)
    if registry.champion_version(client) is None:
        from features.io import write_table
        from synthetic import generate_population
        from training.run import run_training

        data = settings.data_dir / f"population-{rows}-seed{seed}.parquet"
        if not data.exists():
            print(f"generating {rows:,} synthetic rows (seed {seed}) -> {data}", flush=True)
            write_table(generate_population(rows, seed), data)
        print(f"training on {rows:,} rows (seed {seed}, {trials} trial(s)); this takes a few minutes", flush=True)
        t0 = time.perf_counter()
        result = run_training(data, seed=seed, n_trials=trials)
        registry.promote(client, result.version, force=True, reason="serving benchmark home")
        print(f"trained and promoted version {result.version} in {time.perf_counter() - t0:.0f} s", flush=True)
    import bentoml

    tag, version = import_champion(settings)
    token = issue_token(settings.tokens_file, ADVISOR, "advisor")
    return tag, version, token, Path(bentoml.models.get(tag).path_of("mlflow_model"))


def make_bodies(n: int, seed: int) -> list[bytes]:
    """``n`` distinct realistic profiles (a synthetic population), as request bodies."""
    from synthetic import generate_population

    frame = generate_population(max(n, 1000), seed)
    bodies = [json.dumps({"profile": row_to_profile(row)}).encode() for _, row in frame.head(n).iterrows()]
    return bodies


# --------------------------------------------------------------------------- report


def line(label: str, r: Result) -> str:
    n = max(len(r.latencies_ms), 1)
    return (
        f"{label:30s} {r.pct(50):7.1f} {r.pct(90):7.1f} {r.pct(99):7.1f} "
        f"{max(r.latencies_ms, default=float('nan')):7.1f} {r.throughput:8.1f} {r.cpu_s * 1000 / n:7.2f} "
        f"{r.client_cpu_s * 1000 / n:7.2f} {r.errors:6d}"
    )


def report(results: list[Measured], args: argparse.Namespace) -> bool:
    if not results:
        return False
    print()
    print(
        f"POST /suggest, {args.requests} requests, {args.concurrency} concurrent clients, "
        f"{args.workers} server worker(s), {os.cpu_count()} CPU(s); load average now "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" (at start {args.load_at_start})"
    )
    print(
        f"{'':30s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s} {'req/s':>8s} {'server':>7s} "
        f"{'client':>7s} {'errors':>6s}"
    )
    print(f"{'':30s} {'latency in ms, client side':>31s} {'':8s} {'CPU ms per request':>15s}")
    for m in results:
        print(line(f"{m.name} (c={args.concurrency})", m.loaded))
        if m.sequential is not None:
            print(line(f"{m.name} (c=1, service time)", m.sequential))
    print()
    for m in results:
        print(
            f"{m.name:10s} server RSS (process tree): {m.rss_idle_mb:5.0f} MiB after warm-up "
            f"({m.rss_parts}), peak {m.loaded.rss_peak_mb:5.0f} MiB under load"
        )
    for m in results:
        if m.fsync_ms:
            print(
                f"{m.name:10s} fsync of the decisions database's disk (4 KiB, before/after the load): "
                + ", ".join(f"p50 {a:.2f} ms p90 {b:.2f} ms" for a, b in m.fsync_ms)
            )
    by_name = {m.name: m for m in results}
    jalon, base = by_name.get("jalon"), by_name.get("baseline")
    if jalon and base:
        print()
        print(
            f"ratio baseline/jalon       p50 {base.loaded.pct(50) / jalon.loaded.pct(50):5.2f}x   "
            f"p99 {base.loaded.pct(99) / jalon.loaded.pct(99):5.2f}x   "
            f"throughput jalon/baseline {jalon.loaded.throughput / base.loaded.throughput:5.2f}x"
        )
    met = None
    if jalon:
        p50, p99 = jalon.loaded.pct(50), jalon.loaded.pct(99)
        met = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS
        note = "" if args.concurrency == TARGET_CONCURRENCY else f" (measured at c={args.concurrency}, target is c=8)"
        print(
            f"target p50 <= {TARGET_P50_MS:.0f} ms: {'met' if p50 <= TARGET_P50_MS else 'NOT met'} ({p50:.1f} ms); "
            f"p99 <= {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'NOT met'} ({p99:.1f} ms){note}"
        )
    for m in results:
        for r in (m.loaded, m.sequential):
            if r is not None and r.first_error:
                print(f"{m.name}: {r.errors} failed request(s); first: {r.first_error}")
    return bool(met)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="JALON_HOME to reuse (trained into if it has no champion); default "
        "$TMPDIR/jalon-bench-ROWS-seedSEED, kept for reuse",
    )
    parser.add_argument(
        "--rows", type=int, default=200_000, help="training rows when a home is made (make run: 200000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the training data and run (make run: 1)")
    parser.add_argument("--trials", type=int, default=3, help="search candidates per model (jalon train: 3)")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per server")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--workers", type=int, default=2, help="server workers (Jalon: JALON_WORKERS; baseline: uvicorn processes)"
    )
    parser.add_argument("--port", type=int, default=0, help="Jalon's port (baseline: port + 1); default free ports")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument(
        "--sequential",
        type=int,
        default=200,
        help="requests from a single client after the load (service time); 0 to skip",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds")
    parser.add_argument("--profile-seed", type=int, default=2024, help="seed of the request profiles")
    parser.add_argument(
        "--only",
        choices=("both", "jalon", "baseline", "none"),
        default="both",
        help="servers to measure (none: only --breakdown)",
    )
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="first time each step of /suggest in-process on N profiles (store on the same disk)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for both servers (repeatable, wins over the defaults), "
        "e.g. OMP_NUM_THREADS=1 or JALON_DB_URL=sqlite:////dev/shm/d.db",
    )
    parser.add_argument(
        "--service",
        default="serving.service:Jalon",
        help="BentoML service to serve as 'jalon' (a variant to compare; its module on PYTHONPATH, see --server-env)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is not met")
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.requests, args.concurrency, args.workers) < 1 or args.warmup < 0 or args.sequential < 0:
        parser.error("--requests, --concurrency and --workers must be >= 1; --warmup, --sequential >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_baseline:  # the baseline server's own process (started by the benchmark)
        serve_baseline(args.port, args.workers)
        return 0
    args.load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())  # the machine may be shared
    home = (args.home or Path(tempfile.gettempdir()) / f"jalon-bench-{args.rows}-seed{args.seed}").resolve()
    extra = dict(item.split("=", 1) for item in args.server_env)
    stamp = time.strftime("%Y%m%d-%H%M%S")

    def on_term(signum, frame):  # turn SIGTERM into the KeyboardInterrupt path (servers stopped)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    servers: list[Server] = []
    try:
        print(f"home {home}", flush=True)
        tag, version, token, mlflow_dir = prepare_home(home, args.rows, args.seed, args.trials)
        print(f"model {tag} (registry version {version})", flush=True)
        n = args.warmup + args.requests + args.sequential
        bodies = make_bodies(max(n, args.breakdown + 50), args.profile_seed)
        print(
            f"{n} distinct profiles, {sum(map(len, bodies)) // len(bodies)} bytes per request body on average",
            flush=True,
        )
        logs = home / "bench-logs"
        logs.mkdir(exist_ok=True)
        base_env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "JALON_DB_URL")}
        base_env.update(BENTOML_DO_NOT_TRACK="True", **extra)
        jalon_port = args.port or free_port()
        baseline_port = args.port + 1 if args.port else free_port()
        results: list[Measured] = []
        db = home / "bench-logs" / f"decisions-{stamp}.db"
        if args.breakdown:
            breakdown(mlflow_dir, bodies[: args.breakdown + 50], extra.get("JALON_DB_URL", f"sqlite:///{db}"))
            for path in logs.glob(f"decisions-{stamp}.db*"):  # the servers start on an empty database
                path.unlink()

        if args.only in ("both", "jalon"):
            env = dict(
                base_env,
                JALON_HOME=str(home),
                BENTOML_HOME=str(home / "bentoml"),
                JALON_BENTO_MODEL=tag,
                JALON_WORKERS=str(args.workers),
                JALON_DB_URL=f"sqlite:///{db}",
            )
            env.update(extra)  # --server-env wins (e.g. JALON_DB_URL on another disk)
            server = Server(
                "jalon",
                [
                    sys.executable,
                    "-m",
                    "bentoml",
                    "serve",
                    args.service,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(jalon_port),
                ],
                env,
                jalon_port,
                logs / f"jalon-{stamp}.log",
            )
            servers.append(server)
            print(f"starting jalon on {server.url} (log {server.log_path})", flush=True)
            db_dir = sqlite_dir(env["JALON_DB_URL"])
            server.start()
            probes = [fsync_probe(db_dir)] if db_dir else []
            measured = measure(server, token, bodies, args)
            measured.fsync_ms = probes + ([fsync_probe(db_dir)] if db_dir else [])
            results.append(measured)
            server.stop()

        if args.only in ("both", "baseline"):
            env = dict(base_env, **{BASELINE_MODEL_ENV: str(mlflow_dir)})
            server = Server(
                "baseline",
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--serve-baseline",
                    "--port",
                    str(baseline_port),
                    "--workers",
                    str(args.workers),
                ],
                env,
                baseline_port,
                logs / f"baseline-{stamp}.log",
            )
            servers.append(server)
            print(f"starting baseline on {server.url} (log {server.log_path})", flush=True)
            server.start()
            results.append(measure(server, token, bodies, args))
            server.stop()

        met = report(results, args)
        print(f"\nreuse this home with: --home {home}")
        failed = any(r.errors for m in results for r in (m.loaded, m.sequential) if r is not None)
        return 1 if failed or (args.check and not met) else 0
    except KeyboardInterrupt:
        print("interrupted: stopping servers", file=sys.stderr)
        return 130
    finally:
        for server in servers:
            server.stop()
        try:  # keep the logs; remove this run's decisions database
            for path in (home / "bench-logs").glob(f"decisions-{stamp}.db*"):
                path.unlink(missing_ok=True)
        except OSError:
            pass


if __name__ == "__main__":
    raise SystemExit(main())
