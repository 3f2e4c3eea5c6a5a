"""GET /drinks in-process against the raw SQL it runs, fetched with psycopg and json.dumps.

Ours: the whole request through chalice.test.Client (routing, middleware, the view,
the reader connection, shaping, JSON). The floor (issue 10's baseline, unchanged since
PostgreSQL builds the JSON): the drinks' plain rows (menu.list_drinks_rows_sql: the
same columns, filters and order the route's JSON is built from) fetched on a plain
psycopg connection with dict rows and turned into JSON with `json.dumps`. Moving work
into SQL makes the route's query dearer while this floor stays put, so a gain is real.
Also printed, for what it is worth: ours against a raw fetch of the very SQL the request
sent (captured from the request, no JSON work: what the route costs above its query).
Requests alternate between ours and the floor, so load on the machine slows both
alike; the ratio of the p50s is what counts. Also measured: the other menu routes
(p50/p95, round trips).

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

    from chalicelib.menu import list_drinks_rows_sql
    from chalicelib.validation import DrinkQuery

    statements = _captured_sql(client, "/drinks")
    assert len(statements) == 1, statements  # one round trip is part of the contract
    sent, sent_params = statements[0]
    query, params = list_drinks_rows_sql(DrinkQuery())
    ours, floor, own_sql = [], [], []
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as raw:
        for _ in range(20):  # warm-up all three
            client.http.get("/drinks")
            json.dumps(raw.execute(query, params).fetchall(), default=str)
            raw.execute(sent, sent_params).fetchall()
        for _ in range(runs):
            started = time.perf_counter()
            body = json.dumps(raw.execute(query, params).fetchall(), default=str)
            floor.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = client.http.get("/drinks")
            ours.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            started = time.perf_counter()
            raw.execute(sent, sent_params).fetchall()
            own_sql.append((time.perf_counter() - started) * 1000)
    count = len(json.loads(response.body))
    return {
        "drinks": count,
        "raw_rows": len(json.loads(body)),
        "ours_p50_ms": statistics.median(ours),
        "raw_p50_ms": statistics.median(floor),
        "ratio": statistics.median(ours) / statistics.median(floor),
        "own_sql_raw_p50_ms": statistics.median(own_sql),
        "ratio_vs_own_sql": statistics.median(ours) / statistics.median(own_sql),
    }


def _lambda_invoke() -> Any:
    """GET /drinks as the Lambda runtime delivers it: the API Gateway proxy event, handed
    to the app object with a Lambda context (no chalice.test / LocalGateway on the way:
    they rebuild the event and copy os.environ on every request, work Lambda never does)."""
    from chalice.local import LambdaContext

    import app as app_module

    event = {
        "resource": "/drinks", "path": "/drinks", "httpMethod": "GET",
        "headers": {"Host": "bench.local", "Accept": "application/json"},
        "multiValueHeaders": {"Host": ["bench.local"], "Accept": ["application/json"]},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/drinks", "httpMethod": "GET", "path": "/api/drinks",
                           "stage": "api", "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}},
    }  # fmt: skip
    context = LambdaContext("api_handler", 512)

    def invoke() -> dict[str, Any]:
        return app_module.app(event, context)

    return invoke


def lambda_vs_raw(url: str, runs: int) -> dict[str, Any]:
    """The same comparison with the request handed in as Lambda hands it."""
    import psycopg
    from psycopg.rows import dict_row

    from chalicelib.menu import list_drinks_rows_sql
    from chalicelib.validation import DrinkQuery

    invoke = _lambda_invoke()
    query, params = list_drinks_rows_sql(DrinkQuery())
    ours, floor = [], []
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as raw:
        for _ in range(20):
            invoke()
            json.dumps(raw.execute(query, params).fetchall(), default=str)
        for _ in range(runs):
            started = time.perf_counter()
            json.dumps(raw.execute(query, params).fetchall(), default=str)
            floor.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            answer = invoke()
            ours.append((time.perf_counter() - started) * 1000)
            assert answer["statusCode"] == 200, answer
    return {
        "drinks": len(json.loads(answer["body"])),
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
        return {
            "drinks_vs_raw": drinks_vs_raw(client, url, runs),
            "drinks_lambda_vs_raw": lambda_vs_raw(url, runs),
            "routes": routes(client, max(50, runs // 3)),
        }


def main() -> int:
    with bench_database("da_bench_menu") as url:
        result = measure(url)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
