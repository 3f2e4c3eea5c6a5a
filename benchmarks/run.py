"""Benchmarks: measured, never asserted. `make bench` (or python benchmarks/run.py).

* cold start: wall time of `import app` in a fresh interpreter (minus a bare
  interpreter's start-up), the part of a Lambda cold start our code controls;
* warm latency and database round trips of GET /drinks (and friends) over the seeded
  menu, in-process through chalice.test.Client against the embedded PostgreSQL.

Prints a table and writes benchmarks/results/latest.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded  # noqa: E402

RUNS_COLD = int(os.environ.get("BENCH_COLD_RUNS", "15"))
RUNS_WARM = int(os.environ.get("BENCH_WARM_RUNS", "300"))
PATHS = [
    "/drinks",
    "/drinks?ingredient=tequila",
    "/drinks?ingredient=gin&ingredient=lime%20juice&available=true",
    "/drinks?q=orange",
    "/sections",
    "/bar",
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_command(args: list[str], runs: int) -> list[float]:
    times = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def cold_start() -> dict[str, float]:
    python = sys.executable
    time_command([python, "-c", "import app"], 2)  # warm the bytecode cache once, as a deployed package has it
    baseline = time_command([python, "-c", "pass"], RUNS_COLD)
    with_app = time_command([python, "-c", "import app"], RUNS_COLD)
    return {
        "interpreter_ms_p50": statistics.median(baseline),
        "import_app_ms_p50": statistics.median(with_app),
        "app_import_cost_ms_p50": statistics.median(with_app) - statistics.median(baseline),
    }


def warm_latency(client: Any) -> list[dict[str, Any]]:
    from chalicelib.db import STATEMENTS

    rows = []
    for path in PATHS:
        for _ in range(20):  # warm-up: connection, caches
            client.http.get(path)
        latencies, trips = [], []
        for _ in range(RUNS_WARM):
            STATEMENTS.reset()
            started = time.perf_counter()
            response = client.http.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            trips.append(STATEMENTS.reset())
            assert response.status_code == 200, response.body
        rows.append(
            {
                "path": path,
                "items": len(json.loads(response.body)) if response.body.startswith(b"[") else 1,
                "p50_ms": statistics.median(latencies),
                "p95_ms": percentile(latencies, 95),
                "max_ms": max(latencies),
                "db_round_trips": statistics.mean(trips),
                "requests_per_s": 1000 / statistics.mean(latencies),
            }
        )
    return rows


def main() -> int:
    admin_uri = os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")
    name = f"da_bench_{uuid.uuid4().hex[:6]}"
    url = ensure_database(admin_uri, name)
    os.environ["DATABASE_URL"] = url
    os.environ["LOG_LEVEL"] = "WARNING"
    try:
        import psycopg

        from sql.migrate import migrate
        from sql.seed import seed

        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        from chalice.test import Client

        import app as app_module
        from chalicelib.db import database

        seed(database().write)
        cold = cold_start()
        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
            warm = warm_latency(client)
        database().close()
    finally:
        drop_database(admin_uri, name)

    print("\ncold start (fresh interpreter, median of", RUNS_COLD, "runs)")
    for key, value in cold.items():
        print(f"  {key:28s} {value:8.1f}")
    print(f"\nwarm requests (in-process, {RUNS_WARM} each, embedded PostgreSQL)")
    print(f"  {'path':62s} {'items':>5s} {'p50 ms':>7s} {'p95 ms':>7s} {'trips':>5s} {'req/s':>7s}")
    for row in warm:
        print(
            f"  {row['path']:62s} {row['items']:5d} {row['p50_ms']:7.2f} {row['p95_ms']:7.2f}"
            f" {row['db_round_trips']:5.1f} {row['requests_per_s']:7.0f}"
        )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"cold_start": cold, "warm": warm}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
