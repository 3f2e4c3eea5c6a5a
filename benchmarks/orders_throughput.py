"""Order placement against its floor: measured, never asserted.

Ours: `chalicelib.orders.place_order` (the whole write transaction: limits,
availability, pickup number, order, items, history) with 8 concurrent clients, each a
thread with its own `Database` (as separate Lambda containers would have), each its
own guest placing orders one after another with a fresh Idempotency-Key.

The floor: the same 8 clients running a raw psycopg transaction that inserts an order
row, an item row and a history row (BEGIN, three INSERTs, COMMIT) and nothing else.
Rounds alternate floor / ours for a fixed time each, so load on the machine slows both
alike; the ratio of the median rates is what counts.

Also measured: round trips per new order and per idempotent replay (one client; counted
on the wire with libpq's trace: one per Sync or simple Query the client sends), and
conflict retries per order at 8 clients (`chalicelib.db.RETRIES`; writes run at
REPEATABLE READ, so conflicts raise 40001 as on Aurora DSQL).

    .venv/bin/python benchmarks/orders_throughput.py
Environment: BENCH_CLIENTS (default 8), BENCH_SECONDS (per round, default 2),
BENCH_ROUNDS (default 3), TEST_DATABASE_URL (use that cluster).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import bench_database, percentile  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# The bar completes a client's orders after this many, to keep it under its limit.
COMPLETE_EVERY = 10


def _retries() -> Any:
    from chalicelib import db

    return getattr(db, "RETRIES", None)


def _clients(count: int, seconds: float, work: Callable[[int, int], None], setup: Callable[[int], Any]) -> dict:
    """Run `work(client, n)` in `count` threads for `seconds`; rate and latencies."""
    latencies: list[list[float]] = [[] for _ in range(count)]
    errors: list[str] = []
    start = threading.Barrier(count + 1)
    stop = threading.Event()

    def client(index: int) -> None:
        closer = None
        try:
            closer = setup(index)
            start.wait(timeout=30)
            n = 0
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    work(index, n)
                except Exception as exc:  # counted and reported, not raised
                    errors.append(f"{type(exc).__name__}: {exc}")
                else:
                    latencies[index].append((time.perf_counter() - began) * 1000)
                n += 1
        except Exception as exc:  # setup failed: reported, not raised
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if closer is not None:
                closer()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    start.wait(timeout=30)
    began = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.perf_counter() - began
    flat = [value for per in latencies for value in per]
    return {
        "orders": len(flat),
        "orders_per_s": len(flat) / elapsed,
        "p50_ms": statistics.median(flat) if flat else 0.0,
        "p95_ms": percentile(flat, 95) if flat else 0.0,
        "failed": len(errors),
        "errors": sorted(set(errors))[:3],
    }


def floor_round(url: str, clients: int, seconds: float, drink_id: uuid.UUID) -> dict[str, Any]:
    """The raw transaction: an order row, an item row and a history row."""
    import psycopg

    conns: dict[int, Any] = {}
    guests = {i: uuid.uuid4() for i in range(clients)}

    def setup(index: int) -> Callable[[], None]:
        conns[index] = psycopg.connect(url, autocommit=True)
        return conns[index].close

    def work(index: int, n: int) -> None:
        conn = conns[index]
        order_id = uuid.uuid4()
        with conn.transaction():
            conn.execute(
                """INSERT INTO orders (id, number, guest_id, guest_name, status, notes, idempotency_key, request_hash)
                   VALUES (%s, %s, %s, 'raw', 'completed', '', %s, '')""",
                (order_id, n % 999 + 1, guests[index], f"raw-{n}"),
            )
            conn.execute(
                """INSERT INTO order_items (order_id, position, drink_id, drink_name, quantity, notes)
                   VALUES (%s, 0, %s, 'Raw', 1, '')""",
                (order_id, drink_id),
            )
            conn.execute(
                """INSERT INTO order_status_history (order_id, status, changed_by, changed_at)
                   VALUES (%s, 'pending', %s, now())""",
                (order_id, str(guests[index])),
            )

    return _clients(clients, seconds, work, setup)


def ours_round(url: str, clients: int, seconds: float, drink_ids: list[uuid.UUID]) -> dict[str, Any]:
    import psycopg

    from chalicelib import orders
    from chalicelib.db import Database
    from chalicelib.validation import OrderItemRequest, OrderRequest

    dbs: dict[int, Any] = {}
    guests = {i: uuid.uuid4() for i in range(clients)}
    admin = psycopg.connect(url, autocommit=True)
    admin_lock = threading.Lock()

    def setup(index: int) -> Callable[[], None]:
        dbs[index] = Database()
        dbs[index].read(lambda conn: conn.execute("SELECT 1").fetchone())  # connect before the clock starts
        dbs[index].write(lambda conn: None)
        return dbs[index].close

    def work(index: int, n: int) -> None:
        request = OrderRequest(items=[OrderItemRequest(drink_id=drink_ids[(index + n) % len(drink_ids)])])
        orders.place_order(dbs[index], guests[index], f"client {index}", request, f"bench-{uuid.uuid4()}")
        if n % COMPLETE_EVERY == COMPLETE_EVERY - 1:  # the bar hands them out
            with admin_lock:
                admin.execute(
                    "UPDATE orders SET status = 'completed' WHERE guest_id = %s AND status <> 'completed'",
                    (guests[index],),
                )

    retries = _retries()
    if retries is not None:
        retries.reset()
    try:
        result = _clients(clients, seconds, work, setup)
    finally:
        admin.close()
    retried = retries.reset() if retries is not None else None
    result["retries"] = retried
    result["retries_per_order"] = (retried / result["orders"]) if retried is not None and result["orders"] else None
    return result


@contextlib.contextmanager
def _traced_writer() -> Iterator[list[Path]]:
    """Every psycopg connection opened meanwhile traces its protocol messages to a file."""
    import psycopg
    from psycopg import pq

    files: list[Path] = []
    tmp = tempfile.mkdtemp(prefix="da-trace-")
    original = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

    def connect(cls: Any, *args: Any, **kwargs: Any) -> Any:
        conn = original(cls, *args, **kwargs)
        path = Path(tmp) / f"{len(files)}.trace"
        files.append(path)
        handle = path.open("w")
        conn.pgconn.trace(handle.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        conn._bench_trace = handle  # kept open as long as the connection
        return conn

    psycopg.Connection.connect = classmethod(connect)  # type: ignore[method-assign, assignment]
    try:
        yield files
    finally:
        psycopg.Connection.connect = classmethod(original)  # type: ignore[method-assign, assignment]


def _round_trips(files: list[Path]) -> int:
    """Client messages that make the client wait for the server: Sync and simple Query."""
    count = 0
    for path in files:
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] == "F" and parts[2].split(" ")[0] in ("Sync", "Query"):
                count += 1
        path.write_text("")
    return count


def round_trips(drink_id: uuid.UUID) -> dict[str, Any]:
    """Round trips and statements per placement, one client, warm connections."""
    from chalicelib import orders
    from chalicelib.db import STATEMENTS, Database
    from chalicelib.validation import OrderItemRequest, OrderRequest

    with _traced_writer() as files:
        db = Database()
        try:
            guest = uuid.uuid4()
            request = OrderRequest(items=[OrderItemRequest(drink_id=drink_id)])
            orders.place_order(db, guest, "trips", request, "warm-up")
            orders.place_order(db, guest, "trips", request, "warm-up")
            _round_trips(files)
            STATEMENTS.reset()
            orders.place_order(db, guest, "trips", request, "fresh")
            fresh = (_round_trips(files), STATEMENTS.reset())
            orders.place_order(db, guest, "trips", request, "fresh")
            replay = (_round_trips(files), STATEMENTS.reset())
        finally:
            db.close()
    return {
        "new_order": fresh[0],
        "idempotent_replay": replay[0],
        "statements_new_order": fresh[1],
        "statements_replay": replay[1],
    }


def drinks_to_order(url: str) -> list[uuid.UUID]:
    import psycopg

    from chalicelib.menu import AVAILABLE_SQL

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE bar_settings SET is_open = TRUE, max_queue = 500, max_active_per_guest = 20")
        return [
            row[0]
            for row in conn.execute(
                f"""SELECT d.id FROM drinks d JOIN sections s ON s.id = d.section_id
                    WHERE d.archived_at IS NULL AND s.archived_at IS NULL AND {AVAILABLE_SQL} ORDER BY d.name"""
            ).fetchall()
        ]


def measure(url: str, clients: int = CLIENTS, seconds: float = SECONDS, rounds: int = ROUNDS) -> dict[str, Any]:
    drink_ids = drinks_to_order(url)
    trips = round_trips(drink_ids[0])
    ours_round(url, 2, 0.3, drink_ids)  # warm-up
    floor_round(url, 2, 0.3, drink_ids[0])
    floors, ours = [], []
    for _ in range(rounds):
        floors.append(floor_round(url, clients, seconds, drink_ids[0]))
        ours.append(ours_round(url, clients, seconds, drink_ids))
    ours_rate = statistics.median(r["orders_per_s"] for r in ours)
    floor_rate = statistics.median(r["orders_per_s"] for r in floors)
    retried = [r["retries_per_order"] for r in ours if r["retries_per_order"] is not None]
    return {
        "clients": clients,
        "ours_orders_per_s": ours_rate,
        "raw_orders_per_s": floor_rate,
        "ratio": ours_rate / floor_rate if floor_rate else 0.0,
        "ours_p50_ms": statistics.median(r["p50_ms"] for r in ours),
        "ours_p95_ms": statistics.median(r["p95_ms"] for r in ours),
        "retries_per_order": statistics.mean(retried) if retried else None,
        "round_trips": trips,
        "failed": sum(r["failed"] for r in ours),
        "errors": sorted({e for r in ours + floors for e in r["errors"]})[:5],
        "rounds": {"ours": ours, "raw": floors},
    }


def main() -> int:
    with bench_database("da_bench_orders") as url:
        result = measure(url)
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
