"""Order placement throughput: measured, never asserted.

`.venv/bin/python benchmarks/orders_throughput.py` creates a temporary database in the
embedded PostgreSQL cluster (migrated and seeded), then, for 1, 4, 8 and 16 concurrent
clients (threads, each with its own connections, as separate Lambda containers would
have), places a fixed number of orders through `chalicelib.orders.place_order` (the
whole write transaction: limits, availability, pickup number, order, items, history).
It prints orders/s and p50/p95 latency per client count, then drops the database.

Every placement bumps the one pickup-counter row, so placements take turns by design
(that is what keeps the queue limits exact); these numbers show what that costs.
Environment: BENCH_ORDERS (orders per run, default 400), BENCH_CLIENTS ("1,4,8,16"),
TEST_DATABASE_URL (use that cluster instead of the embedded one).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded  # noqa: E402

ORDERS_PER_RUN = int(os.environ.get("BENCH_ORDERS", "400"))
CLIENT_COUNTS = [int(n) for n in os.environ.get("BENCH_CLIENTS", "1,4,8,16").split(",")]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(clients: int, total: int, drink_ids: list[uuid.UUID], admin: Any) -> dict[str, Any]:
    from chalicelib import orders
    from chalicelib.db import Database
    from chalicelib.validation import OrderItemRequest, OrderRequest

    # Start from an empty queue with room for the whole run.
    admin.execute("UPDATE orders SET status = 'completed' WHERE status IN ('pending', 'in_progress', 'ready')")
    admin.execute("UPDATE bar_settings SET is_open = TRUE, max_queue = 500, max_active_per_guest = 20")
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        db = Database()
        guest = uuid.uuid4()  # one guest per client, each order with its own Idempotency-Key
        try:
            db.read(lambda conn: conn.execute("SELECT 1").fetchone())  # connect before the clock starts
            db.write(lambda conn: None)
            barrier.wait()
            for n in range(per_client[index]):
                request = OrderRequest(
                    items=[OrderItemRequest(drink_id=drink_ids[(index + n) % len(drink_ids)], quantity=1)]
                )
                started = time.perf_counter()
                orders.place_order(db, guest, f"client {index}", request, f"bench-{index}-{n}")
                latencies[index].append((time.perf_counter() - started) * 1000)
                # Keep the guest under the per-guest limit: the bar "completes" it at once.
                if n % 10 == 9:
                    admin_complete(guest)
        except Exception as exc:  # reported, not raised: a benchmark prints what happened
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            db.close()

    lock = threading.Lock()

    def admin_complete(guest: uuid.UUID) -> None:
        with lock:
            admin.execute("UPDATE orders SET status = 'completed' WHERE guest_id = %s", (guest,))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [value for per in latencies for value in per]
    return {
        "clients": clients,
        "orders": len(flat),
        "seconds": elapsed,
        "orders_per_s": len(flat) / elapsed if elapsed else 0.0,
        "p50_ms": statistics.median(flat) if flat else 0.0,
        "p95_ms": percentile(flat, 95) if flat else 0.0,
        "max_ms": max(flat) if flat else 0.0,
        "errors": errors[:5],
    }


def round_trips(drink_id: uuid.UUID) -> dict[str, float]:
    """Statements per placement (one client, so the global counter is exact)."""
    from chalicelib import orders
    from chalicelib.db import STATEMENTS, Database
    from chalicelib.validation import OrderItemRequest, OrderRequest

    db = Database()
    try:
        guest = uuid.uuid4()
        request = OrderRequest(items=[OrderItemRequest(drink_id=drink_id)])
        orders.place_order(db, guest, "trips", request, "warm-up")
        STATEMENTS.reset()
        orders.place_order(db, guest, "trips", request, "fresh")
        fresh = STATEMENTS.reset()
        orders.place_order(db, guest, "trips", request, "fresh")
        replay = STATEMENTS.reset()
    finally:
        db.close()
    return {"new_order": fresh, "idempotent_replay": replay}


def main() -> int:
    admin_uri = os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")
    name = f"da_bench_orders_{uuid.uuid4().hex[:6]}"
    url = ensure_database(admin_uri, name)
    os.environ["DATABASE_URL"] = url
    os.environ["LOG_LEVEL"] = "WARNING"
    results: list[dict[str, Any]] = []
    try:
        import psycopg

        from chalicelib.db import database
        from chalicelib.menu import AVAILABLE_SQL
        from sql.migrate import migrate
        from sql.seed import seed

        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        seed(database().write)
        database().close()
        with psycopg.connect(url, autocommit=True) as admin:
            drink_ids = [
                row[0]
                for row in admin.execute(
                    f"SELECT d.id FROM drinks d WHERE d.archived_at IS NULL AND {AVAILABLE_SQL} ORDER BY d.name"
                ).fetchall()
            ]
            trips = round_trips(drink_ids[0])
            run(2, 20, drink_ids, admin)  # warm-up
            for clients in CLIENT_COUNTS:
                results.append(run(clients, ORDERS_PER_RUN, drink_ids, admin))
    finally:
        drop_database(admin_uri, name)

    print(f"\norder placement, embedded PostgreSQL, {ORDERS_PER_RUN} orders per run")
    print(f"  statements per new order: {trips['new_order']}, per idempotent replay: {trips['idempotent_replay']}")
    print(f"  {'clients':>7s} {'orders':>6s} {'orders/s':>9s} {'p50 ms':>7s} {'p95 ms':>7s} {'max ms':>7s}  errors")
    for row in results:
        print(
            f"  {row['clients']:7d} {row['orders']:6d} {row['orders_per_s']:9.0f} {row['p50_ms']:7.2f}"
            f" {row['p95_ms']:7.2f} {row['max_ms']:7.2f}  {'; '.join(row['errors']) or '-'}"
        )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "orders_throughput.json").write_text(json.dumps({"round_trips": trips, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
