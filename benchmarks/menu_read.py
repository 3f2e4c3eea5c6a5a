"""GET /drinks in-process against the raw SQL it runs, fetched with psycopg and json.dumps.

Ours: the whole request through chalice.test.Client (routing, middleware, the view,
the reader connection, shaping, JSON). The floor: the very SQL the request sent
(captured from the request itself, so it follows the code), run on a plain psycopg
connection with dict rows and turned into JSON with `json.dumps`. Requests alternate
between the two, so load on the machine slows both alike; the ratio of the p50s is
what counts. Also measured: the other menu routes (p50/p95, round trips).

    .venv/bin/python benchmarks/menu_read.py         # BENCH_WARM_RUNS (default 300)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import bench_database, percentile  # noqa: E402

PATHS = [
    "/drinks",
    "/drinks?ingredient=tequila",
    "/drinks?ingredient=gin&ingredient=lime%20juice&available=true",
    "/drinks?q=orange",
    "/sections",
    "/bar",
]


def _captured_sql(client: Any, path: str) -> list[tuple[Any, Any]]:
    """The statements the request sends (query, params), in order."""
    import psycopg

    seen: list[tuple[Any, Any]] = []
    original = psycopg.Cursor.execute

    def recording(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        seen.append((query, params))
        return original(self, query, params, **kwargs)

    psycopg.Cursor.execute = recording  # type: ignore[method-assign]
    try:
        response = client.http.get(path)
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
    assert response.status_code == 200, response.body
    return seen


def drinks_vs_raw(client: Any, url: str, runs: int) -> dict[str, Any]:
    import psycopg
    from psycopg.rows import dict_row

    statements = _captured_sql(client, "/drinks")
    assert len(statements) == 1, statements  # one round trip is part of the contract
    query, params = statements[0]
    ours, floor = [], []
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as raw:
        for _ in range(20):  # warm-up both
            client.http.get("/drinks")
            json.dumps(raw.execute(query, params).fetchall(), default=str)
        for _ in range(runs):
            started = time.perf_counter()
            body = json.dumps(raw.execute(query, params).fetchall(), default=str)
            floor.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = client.http.get("/drinks")
            ours.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    count = len(json.loads(response.body))
    return {
        "drinks": count,
        "raw_rows": len(json.loads(body)),
        "ours_p50_ms": statistics.median(ours),
        "raw_p50_ms": statistics.median(floor),
        "ratio": statistics.median(ours) / statistics.median(floor),
    }


def routes(client: Any, runs: int) -> list[dict[str, Any]]:
    from chalicelib.db import STATEMENTS

    rows = []
    for path in PATHS:
        for _ in range(20):  # warm-up: connection, caches
            client.http.get(path)
        latencies, trips = [], []
        for _ in range(runs):
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
                "db_round_trips": statistics.mean(trips),
            }
        )
    return rows


def measure(url: str, runs: int | None = None) -> dict[str, Any]:
    from chalice.test import Client

    import app as app_module

    runs = runs or int(os.environ.get("BENCH_WARM_RUNS", "300"))
    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        return {"drinks_vs_raw": drinks_vs_raw(client, url, runs), "routes": routes(client, max(50, runs // 3))}


def main() -> int:
    with bench_database("da_bench_menu") as url:
        result = measure(url)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
