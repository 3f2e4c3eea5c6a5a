"""Order placement against its floor: measured, never asserted.

Ours: `chalicelib.orders.place_order` (the whole write transaction: limits,
availability, pickup number, order, items, history) with 8 concurrent clients, each a
process of its own with its own `Database` (as separate Lambda containers are), each with
a guest placing 10 orders one after another (each with a fresh Idempotency-Key), then the
bar completes them and a new guest takes over.

The floor: the same 8 clients running a raw psycopg transaction that inserts an order
row, an item row and a history row (BEGIN, three INSERTs, COMMIT) and nothing else.
Rounds alternate floor / ours for a fixed time each, so load on the machine slows both
alike; the ratio of the median rates is what counts.

Also measured: round trips per new order and per idempotent replay (one client; counted
on the wire with libpq's trace: one per Sync or simple Query the client sends), and
conflict retries per order at 8 clients (`chalicelib.db.RETRIES`; writes run at
REPEATABLE READ, so conflicts raise 40001 as on Aurora DSQL).

    .venv/bin/python benchmarks/orders_throughput.py
Environment: BENCH_CLIENTS (default 8), BENCH_SECONDS (per round, default 1.5),
BENCH_ROUNDS (default 3), TEST_DATABASE_URL (use that cluster).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import bench_database, percentile  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Each client is a phone passed round: a guest orders this many drinks, the bar hands
# them out (completed), and the next guest orders (a party's guests have short histories).
COMPLETE_EVERY = 10


def _raw_transaction(conn: Any, guest: uuid.UUID, n: int, drink_id: uuid.UUID) -> None:
    """The floor: an order row, an item row and a history row, nothing else."""
    order_id = uuid.uuid4()
    with conn.transaction():
        conn.execute(
            """INSERT INTO orders (id, number, guest_id, guest_name, status, notes, idempotency_key, request_hash)
               VALUES (%s, %s, %s, 'raw', 'completed', '', %s, '')""",
            (order_id, n % 999 + 1, guest, f"raw-{uuid.uuid4()}"),
        )
        conn.execute(
            """INSERT INTO order_items (order_id, position, drink_id, drink_name, quantity, notes)
               VALUES (%s, 0, %s, 'Raw', 1, '')""",
            (order_id, drink_id),
        )
        conn.execute(
            """INSERT INTO order_status_history (order_id, status, changed_by, changed_at)
               VALUES (%s, 'pending', %s, now())""",
            (order_id, str(guest)),
        )


def _client(index: int, url: str, drink_ids: list[uuid.UUID], commands: Any, results: Any, barrier: Any) -> None:
    """One client process (a Lambda container of its own): its connections, its guests.
    Runs the rounds it is told to, each for a fixed time after the shared start."""
    os.environ["DATABASE_URL"] = url
    os.environ["LOG_LEVEL"] = "WARNING"
    import psycopg

    from chalicelib import db as db_module
    from chalicelib import orders
    from chalicelib.db import Database
    from chalicelib.uow import UnitOfWork
    from chalicelib.validation import OrderItemRequest, OrderRequest

    retries = getattr(db_module, "RETRIES", None)
    db = UnitOfWork(Database())
    raw = psycopg.connect(url, autocommit=True)
    admin = psycopg.connect(url, autocommit=True)
    db.read(lambda conn: conn.execute("SELECT 1").fetchone())  # connect before any clock starts
    db.write(lambda conn: None)
    guest = uuid.uuid4()
    try:
        while (command := commands.get()) is not None:
            kind, seconds = command
            if retries is not None:
                retries.reset()
            latencies: list[float] = []
            errors: list[str] = []
            barrier.wait(timeout=120)
            began = time.perf_counter()
            n = 0
            while time.perf_counter() - began < seconds:
                started = time.perf_counter()
                try:
                    if kind == "raw":
                        _raw_transaction(raw, guest, n, drink_ids[0])
                    else:
                        drink = drink_ids[(index + n) % len(drink_ids)]
                        request = OrderRequest(items=[OrderItemRequest(drink_id=drink)])
                        orders.place_order(db, guest, f"client {index}", request, f"bench-{uuid.uuid4()}")
                except Exception as exc:  # counted and reported, not raised
                    errors.append(f"{type(exc).__name__}: {exc}")
                else:
                    latencies.append((time.perf_counter() - started) * 1000)
                n += 1
                if kind == "ours" and n % COMPLETE_EVERY == 0:
                    # The bar hands that guest's drinks out; the next guest takes the phone.
                    admin.execute("UPDATE orders SET status = 'completed' WHERE guest_id = %s", (guest,))
                    guest = uuid.uuid4()
            elapsed = time.perf_counter() - began
            results.put((kind, latencies, errors, retries.reset() if retries is not None else None, elapsed))
    finally:
        db.db.close()
        raw.close()
        admin.close()


class Clients:
    """`count` client processes, started once (spawned: nothing inherited but the
    environment) and stopped in `close`."""

    def __init__(self, url: str, count: int, drink_ids: list[uuid.UUID]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.count = count
        self.barrier = context.Barrier(count + 1)
        self.results = context.Queue()
        self.commands = [context.Queue() for _ in range(count)]
        self.processes = [
            context.Process(
                target=_client, args=(i, url, drink_ids, self.commands[i], self.results, self.barrier), daemon=True
            )
            for i in range(count)
        ]
        for process in self.processes:
            process.start()

    def round(self, kind: str, seconds: float) -> dict[str, Any]:
        for queue in self.commands:
            queue.put((kind, seconds))
        self.barrier.wait(timeout=120)  # every client connected and ready
        answers = [self.results.get(timeout=seconds + 120) for _ in range(self.count)]
        flat = [value for _, latencies, _, _, _ in answers for value in latencies]
        errors = [error for _, _, errs, _, _ in answers for error in errs]
        retried = [r for _, _, _, r, _ in answers if r is not None]
        elapsed = max(answer[4] for answer in answers)
        result: dict[str, Any] = {
            "orders": len(flat),
            "orders_per_s": len(flat) / elapsed,
            "p50_ms": statistics.median(flat) if flat else 0.0,
            "p95_ms": percentile(flat, 95) if flat else 0.0,
            "failed": len(errors),
            "errors": sorted(set(errors))[:3],
        }
        if kind == "ours":
            result["retries"] = sum(retried) if retried else None
            result["retries_per_order"] = (sum(retried) / len(flat)) if retried and flat else None
        return result

    def close(self) -> None:
        for queue in self.commands:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)


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
    from chalicelib.uow import UnitOfWork
    from chalicelib.validation import OrderItemRequest, OrderRequest

    with _traced_writer() as files:
        db = UnitOfWork(Database())
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
            db.db.close()
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
    pool = Clients(url, clients, drink_ids)
    try:
        pool.round("ours", 0.5)  # warm-up: prepared statements, caches
        pool.round("raw", 0.5)
        floors, ours = [], []
        for _ in range(rounds):
            floors.append(pool.round("raw", seconds))
            ours.append(pool.round("ours", seconds))
    finally:
        pool.close()
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
