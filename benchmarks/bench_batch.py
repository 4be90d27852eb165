"""Benchmark of batch scoring, allocation and milestone review on a large population.

Usage::

    .venv/bin/python benchmarks/bench_batch.py --rows 1000000
    .venv/bin/python benchmarks/bench_batch.py --data people.parquet --model models:/jalon-segmentation@champion

Steps:

1. the population: ``--data FILE``, or ``synthetic.generate_population(--rows, --seed)``
   written to Parquet in the work folder;
2. the model: ``--model URI`` (registry URI or local MLflow model folder, loaded with
   ``models.loading.load_segmentation``; a ``.joblib`` file of a SegmentationModel also
   works), or by default ``training.train.fit_segmentation`` on ``--train-rows`` other
   synthetic people with one search candidate;
3. each phase runs in a **fresh subprocess** (``python bench_batch.py --phase ...``) so
   that its peak memory is its own: the figure reported is that process's high-water
   mark ``VmHWM`` (``/proc/self/status``) at the end of the phase (interpreter, libraries
   and model included; ``rss_start`` is the RSS after loading them). ``getrusage``'s
   ``ru_maxrss`` is not used: on Linux a child's value includes the pages of the parent
   it was forked from (here the parent that generated the population):

   - ``score``: :func:`batch.score.score_file` without explanations, all rows;
   - ``score --explain``: with explanations, ``--explain-rows`` rows (default all);
   - ``allocate``: read the scored file's allocation columns, ``policy.allocate.allocate``
     with one entry per agency, ``write_allocation``;
   - ``review`` (unless ``--review-people 0``): a decisions database planted through
     ``serving.logic.Advisory`` for ``--review-people`` people, a tenth of whom were
     suggested on a different profile (so they change), then
     :func:`batch.review.review` against the whole data file;

4. the baseline, in the same subprocess as each scoring phase and after its measurement:
   the naive loop that the service would run, ``model.suggest_records([record])`` one
   profile at a time (plus ``recommend`` per row) on ``--baseline-rows`` people. The
   ratio is batch rows/s ÷ baseline rows/s.

Targets (2 cores): ≥ 20,000 profiles/s without explanations, ≥ 1,000 with, < 2 GiB
peak memory for 1,000,000 rows. The machine may be shared: the load average at start
and end is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_PLAIN = 20_000
TARGET_EXPLAIN = 1_000
TARGET_MEMORY_MB = 2048
DECISION_DATE = date(2025, 1, 6)


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB: VmHWM (ru_maxrss would include the parent's pages at fork)."""
    from batch.score import peak_rss_mb as vm_hwm

    return vm_hwm()


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def load_model(spec: str):
    if spec.endswith(".joblib"):
        import joblib

        return joblib.load(spec)
    from core.config import get_settings
    from models.loading import load_segmentation
    from training.registry import configure

    configure(get_settings())
    return load_segmentation(spec)


def to_records(frame) -> list[dict]:
    """Typed profile rows as plain API records (see features.api_models.row_to_profile)."""
    from features.api_models import row_to_profile

    return [row_to_profile(row) for row in frame.to_dict("records")]


def emit(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- phases (subprocess)


def baseline(model, data: Path, rows: int, explain: bool) -> dict:
    """The naive loop: one suggest_records call (and one recommend) per profile."""
    import pyarrow.parquet as pq

    from features.validation import profile_rules, validate_frame
    from policy import load_catalogue, recommend

    catalogue = load_catalogue()
    head = next(pq.ParquetFile(data).iter_batches(batch_size=rows)).to_pandas()
    typed = validate_frame(head, profile_rules())
    records = to_records(typed)
    started = time.perf_counter()
    for record in records:
        item = model.suggest_records([record], explain=explain)[0]
        recommend(item["need"]["code"], item["employability"]["tier"], record, DECISION_DATE, catalogue)
    seconds = time.perf_counter() - started
    return {"rows": len(records), "seconds": seconds, "rows_per_second": len(records) / seconds}


def phase_score(args) -> None:
    from batch.score import score_file

    model = load_model(args.model)
    start = rss_mb()
    summary = score_file(
        args.data, args.out, model, explain=args.explain, chunk_rows=args.chunk_rows, decision_date=DECISION_DATE
    )
    result = {
        "phase": "score" + (" --explain" if args.explain else ""),
        "rows": summary.rows,
        "seconds": summary.seconds,
        "rows_per_second": summary.rows_per_second,
        "peak_rss_mb": peak_rss_mb(),
        "rss_start_mb": start,
        "out_mb": Path(args.out).stat().st_size / 2**20,
    }
    if args.baseline_rows:
        result["baseline"] = baseline(model, Path(args.data), args.baseline_rows, args.explain)
    emit(result)


def phase_allocate(args) -> None:
    import pyarrow.parquet as pq

    from jalon.cli.batch import _read_scored
    from policy import allocate, parse_agency_config, write_allocation

    start = rss_mb()
    started = time.perf_counter()
    agencies = pq.read_table(args.data, columns=["agency_id"]).column(0).unique().to_pylist()
    config = parse_agency_config(
        {
            "referents": 4,
            "caseload_per_referent": 50,
            "external_provider_places": 300,
            "large_portfolio_places": 2000,
            "agencies": {a: {} for a in agencies},
        }
    )
    frame = _read_scored(Path(args.data), config.priority.order_by)
    result = allocate(frame, config, DECISION_DATE)
    write_allocation(result, args.out)
    seconds = time.perf_counter() - started
    emit(
        {
            "phase": "allocate",
            "rows": len(frame),
            "seconds": seconds,
            "rows_per_second": len(frame) / seconds,
            "peak_rss_mb": peak_rss_mb(),
            "rss_start_mb": start,
            "agencies": len(agencies),
            "left_out": len(result.left_out),
        }
    )


def phase_plant(args) -> None:
    """A decisions database for ``--review-people`` people (a tenth suggested on another profile)."""
    import numpy as np
    import pyarrow.parquet as pq

    from features.validation import profile_rules, validate_frame
    from records import DecisionStore
    from serving.auth import Principal, Role
    from serving.logic import Advisory

    model = load_model(args.model)
    pf = pq.ParquetFile(args.data)
    rng = np.random.default_rng(0)
    wanted = np.sort(rng.choice(pf.metadata.num_rows, size=args.review_people, replace=False))
    table = pq.read_table(args.data).take(wanted)  # memory is not measured in this phase
    typed = validate_frame(table.to_pandas(), profile_rules())
    records = to_records(typed)
    for r in records[: len(records) // 10]:  # a different profile then: they will have changed since
        if r["months_worked_24m"] < 6:
            r.update(months_worked_24m=24, housing="STABLE", health_limitation="NONE", registration_months=1)
        else:
            r.update(months_worked_24m=0, housing="NONE", health_limitation="SEVERE", registration_months=60)
    store = DecisionStore(args.db_url)
    principal = Principal(subject="bench", role=Role.ADVISOR)
    advisory = Advisory(model, "bench", store)
    started = time.perf_counter()
    for k in range(0, len(records), 500):
        for item in advisory.suggest(records[k : k + 500], principal, today=DECISION_DATE):
            advisory.decide(
                {"suggestion_id": item["suggestion_id"], "advisor_id": "bench", "action": "confirm"},
                principal,
                today=DECISION_DATE,
            )
    store.dispose()
    emit({"phase": "plant", "rows": len(records), "seconds": time.perf_counter() - started})


def phase_review(args) -> None:
    from batch.review import review
    from records import DecisionStore

    model = load_model(args.model)
    store = DecisionStore(args.db_url)
    start = rss_mb()
    started = time.perf_counter()
    result = review(args.data, store, model, date(2030, 1, 1))
    seconds = time.perf_counter() - started
    store.dispose()
    emit(
        {
            "phase": "review",
            "rows": result.counts["due"],
            "seconds": seconds,
            "rows_per_second": result.counts["due"] / seconds,
            "peak_rss_mb": peak_rss_mb(),
            "rss_start_mb": start,
            "counts": result.counts,
        }
    )


# --------------------------------------------------------------------------- driver


def run_phase(name: str, extra: list[str], common: list[str]) -> dict:
    command = [sys.executable, __file__, "--phase", name, *common, *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-6000:])
        raise SystemExit(f"phase {name} failed (exit {done.returncode})")
    return json.loads(lines[-1][len("RESULT ") :])


def prepare(args, work: Path) -> tuple[Path, str, dict]:
    info: dict = {}
    if args.data:
        data = Path(args.data)
    else:
        from features.io import write_table
        from synthetic import generate_population

        t0 = time.perf_counter()
        data = write_table(generate_population(args.rows, args.seed), work / "population.parquet")
        info["generate_seconds"] = time.perf_counter() - t0
    if args.model:
        model = args.model
    else:
        import joblib

        from features.spec import default_spec
        from synthetic import generate_population
        from training.train import fit_segmentation

        t0 = time.perf_counter()
        spec = default_spec()
        frame = spec.validate_data(generate_population(args.train_rows, args.seed + 1))
        fitted = fit_segmentation(frame, spec, seed=0, n_trials=1)
        model = str(work / "model.joblib")
        joblib.dump(fitted.model, model)
        info["fit_seconds"] = time.perf_counter() - t0
        info["trees"] = {
            "need": fitted.model._need_booster.num_trees(),
            "employability": fitted.model._emp_booster.num_trees(),
        }
    return data, model, info


def head_file(data: Path, rows: int, out: Path) -> Path:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(data)
    if rows >= pf.metadata.num_rows:
        return data
    with pq.ParquetWriter(out, pf.schema_arrow, compression="zstd") as writer:
        left = rows
        for batch in pf.iter_batches(batch_size=min(rows, 65_536)):
            writer.write_batch(batch.slice(0, left))
            left -= min(left, len(batch))
            if left == 0:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="population size when generated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", default=None, help="an existing population (.parquet)")
    parser.add_argument("--model", default=None, help="model URI, MLflow folder or .joblib; default: fit one")
    parser.add_argument("--train-rows", type=int, default=50_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--explain-rows", type=int, default=None, help="rows scored with explanations (default all)")
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    parser.add_argument("--review-people", type=int, default=2_000, help="people in the planted decisions DB; 0 skips")
    parser.add_argument("--workdir", default=None, help="where files go (default: a temporary folder, removed)")
    parser.add_argument("--json", default=None, help="also write the results here")
    # internal: one phase in this process
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--explain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:
        {"score": phase_score, "allocate": phase_allocate, "plant": phase_plant, "review": phase_review}[args.phase](
            args
        )
        return 0

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        load_start = os.getloadavg()
        data, model, info = prepare(args, work)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(data).metadata.num_rows
        print(
            f"population {rows:,} rows ({data}); model {model}; cores {len(os.sched_getaffinity(0))}; "
            f"load average {load_start[0]:.2f} at start",
            flush=True,
        )
        if info:
            print(
                "prepared " + json.dumps({k: (round(v, 1) if isinstance(v, float) else v) for k, v in info.items()}),
                flush=True,
            )
        common = ["--model", model, "--chunk-rows", str(args.chunk_rows)]
        results = []
        scored = work / "scored.parquet"
        results.append(
            run_phase(
                "score", ["--data", str(data), "--out", str(scored), "--baseline-rows", str(args.baseline_rows)], common
            )
        )
        print(json.dumps(results[-1]), flush=True)
        explain_rows = rows if args.explain_rows is None else args.explain_rows
        if explain_rows:
            subset = head_file(data, explain_rows, work / "explain-input.parquet")
            results.append(
                run_phase(
                    "score",
                    [
                        "--data",
                        str(subset),
                        "--out",
                        str(work / "explained.parquet"),
                        "--explain",
                        "--baseline-rows",
                        str(args.baseline_rows),
                    ],
                    common,
                )
            )
            print(json.dumps(results[-1]), flush=True)
        results.append(run_phase("allocate", ["--data", str(scored), "--out", str(work / "alloc.parquet")], common))
        print(json.dumps(results[-1]), flush=True)
        if args.review_people:
            db = f"sqlite:///{work / 'decisions.db'}"
            plant = run_phase(
                "plant", ["--data", str(data), "--db-url", db, "--review-people", str(args.review_people)], common
            )
            print(json.dumps(plant), flush=True)
            results.append(run_phase("review", ["--data", str(data), "--db-url", db], common))
            print(json.dumps(results[-1]), flush=True)
        load_end = os.getloadavg()

    print()
    print(
        f"{'phase':18s} {'rows':>10s} {'seconds':>8s} {'rows/s':>10s} {'peak RSS':>9s} {'RSS start':>9s} "
        f"{'baseline/s':>10s} {'ratio':>7s}  target"
    )
    failures = 0
    for r in results:
        base = r.get("baseline")
        target = {"score": TARGET_PLAIN, "score --explain": TARGET_EXPLAIN}.get(r["phase"])
        ok_speed = target is None or r["rows_per_second"] >= target
        ok_memory = r["peak_rss_mb"] < TARGET_MEMORY_MB
        failures += not (ok_speed and ok_memory)
        verdict = (
            f"≥{target:,}/s {'ok' if ok_speed else 'MISSED'}; " if target else ""
        ) + f"<{TARGET_MEMORY_MB} MiB {'ok' if ok_memory else 'MISSED'}"
        base_rate = f"{base['rows_per_second']:,.0f}" if base else "—"
        ratio = f"{r['rows_per_second'] / base['rows_per_second']:.1f}x" if base else "—"
        print(
            f"{r['phase']:18s} {r['rows']:>10,} {r['seconds']:>8.1f} {r['rows_per_second']:>10,.0f} "
            f"{r['peak_rss_mb']:>8,.0f}M {r['rss_start_mb']:>8,.0f}M {base_rate:>10s} {ratio:>7s}  {verdict}"
        )
    print(
        f"\nload average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end "
        f"(other processes on the machine slow every phase)"
    )
    print(
        "memory: peak RSS = VmHWM of the phase's own subprocess (interpreter, libraries and model "
        "included); RSS start = after imports and model loading"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "results": results}, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
