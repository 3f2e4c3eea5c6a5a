"""Orders: placement within the bar's limits, idempotency (also in parallel), the
status machine, guests seeing only their own orders, and the bar settings.

Domain functions run against the real database; the API runs in-process through
chalice.test.Client. Every test orders as its own fresh guest id, and the bar's
settings are opened wide before and put back after each test.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib import bar, orders
from chalicelib.batch import Batch
from chalicelib.db import Database
from chalicelib.errors import (
    BarClosed,
    ConflictError,
    DrinkUnavailable,
    IdempotencyKeyReused,
    NotFoundError,
    QueueFull,
    TooManyActiveOrders,
)
from chalicelib.order_status import OrderStatus
from chalicelib.uow import Tx, UnitOfWork
from chalicelib.validation import BarSettingsUpdate, OrderItemRequest, OrderRequest
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)

STATUSES = [s.value for s in OrderStatus]
ALLOWED = {
    ("pending", "in_progress"),
    ("in_progress", "ready"),
    ("ready", "completed"),
    ("pending", "cancelled"),
    ("in_progress", "cancelled"),
}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(autouse=True)
def wide_open_bar(database_url: str, admin_conn: Any) -> Iterator[None]:
    """Open, generous limits, an empty queue; the seeded defaults are put back after."""
    _clear_queue(admin_conn)
    _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=20)
    yield
    _set_bar(admin_conn, **bar.DEFAULTS)


def _set_bar(conn: Any, **values: Any) -> None:
    conn.execute(
        """UPDATE bar_settings SET is_open = %(is_open)s, message = %(message)s, max_queue = %(max_queue)s,
           max_active_per_guest = %(max_active_per_guest)s WHERE id = 'bar'""",
        values,
    )


def _clear_queue(conn: Any) -> None:
    # Orders left in play by earlier tests would count against the queue limit.
    conn.execute("UPDATE orders SET status = 'completed' WHERE status IN ('pending', 'in_progress', 'ready')")


@pytest.fixture(scope="module")
def drinks(database_url: str) -> dict[str, uuid.UUID]:
    """Seeded drink name -> id."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return {name: drink_id for drink_id, name in conn.execute("SELECT id, name FROM drinks").fetchall()}


def request_for(*drink_ids: uuid.UUID, quantity: int = 1, notes: str = "") -> OrderRequest:
    return OrderRequest(
        items=[OrderItemRequest(drink_id=d, quantity=quantity, notes=notes) for d in drink_ids], notes=notes
    )


def order_rows(conn: Any, guest_id: uuid.UUID) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM orders WHERE guest_id = %s", (guest_id,)).fetchall()


def order_in(db: Any, admin_conn: Any, drink_id: uuid.UUID, status: str, guest_id: uuid.UUID | None = None) -> dict:
    """A placed order, put straight into `status` (arranging state, not testing moves)."""
    order = orders.place_order(db, guest_id or uuid.uuid4(), "Ada", request_for(drink_id)).order
    admin_conn.execute("UPDATE orders SET status = %s WHERE id = %s", (status, order["id"]))
    return {**order, "status": status}


def in_parallel(count: int, fn: Callable[[Database], Any]) -> list[Any]:
    """Run fn in `count` threads at once, each with its own connections; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        own = UnitOfWork(Database())
        try:
            barrier.wait(timeout=30)
            results[index] = fn(own)
        except Exception as exc:  # collected, asserted on by the caller
            results[index] = exc
        finally:
            own.db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


# ---------------------------------------------------------------- placing orders (domain)


def test_place_order_records_order_items_and_history(db: Any, admin_conn: Any, drinks: dict) -> None:
    guest = uuid.uuid4()
    request = OrderRequest(
        items=[
            OrderItemRequest(drink_id=drinks["Margarita"], quantity=2, notes="no salt"),
            OrderItemRequest(drink_id=drinks["Mojito"]),
        ],
        notes="by the window",
    )
    placement = orders.place_order(db, guest, "Ada", request)

    order = placement.order
    assert placement.created
    assert order["status"] == "pending"
    assert order["guest_id"] == str(guest)
    assert order["guest_name"] == "Ada"
    assert order["notes"] == "by the window"
    assert 1 <= order["number"] <= orders.PICKUP_NUMBER_MAX
    assert order["items"] == [
        {"drink_id": str(drinks["Margarita"]), "name": "Margarita", "quantity": 2, "notes": "no salt"},
        {"drink_id": str(drinks["Mojito"]), "name": "Mojito", "quantity": 1, "notes": ""},
    ]
    assert [h["status"] for h in order["history"]] == ["pending"]
    assert order["history"][0]["at"] == order["created_at"]
    assert order["created_at"].endswith("Z")
    # What was returned is what a later read shows.
    read = db.read(orders.get_my_order, guest, uuid.UUID(order["id"]))
    assert {k: v for k, v in read.items() if k not in ("queue_position", "estimated_wait_s")} == order
    items = admin_conn.execute(
        "SELECT position, drink_name, quantity FROM order_items WHERE order_id = %s ORDER BY position",
        (order["id"],),
    ).fetchall()
    assert [(i["position"], i["drink_name"], i["quantity"]) for i in items] == [(0, "Margarita", 2), (1, "Mojito", 1)]


def test_pickup_numbers_are_short_and_unique_among_waiting_orders(db: Any, admin_conn: Any, drinks: dict) -> None:
    placed = [orders.place_order(db, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])).order for _ in range(40)]
    # Some are made and wait for pickup: a ready order keeps its number.
    for order in placed[:10]:
        for status in (OrderStatus.IN_PROGRESS, OrderStatus.READY):
            db.write(orders.transition, uuid.UUID(order["id"]), status, "", "host")
    placed += [orders.place_order(db, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])).order for _ in range(40)]
    numbers = [order["number"] for order in placed]
    assert all(1 <= n <= orders.PICKUP_NUMBER_MAX for n in numbers)
    assert len(set(numbers)) == len(numbers) == 80
    stored = admin_conn.execute(
        "SELECT number, queue_slot FROM orders WHERE id = ANY(%s)", ([uuid.UUID(o["id"]) for o in placed],)
    ).fetchall()
    assert sorted(row["number"] for row in stored) == sorted(numbers)
    # The 70 still in the queue hold 70 different slots within the limit.
    queued = admin_conn.execute(
        "SELECT queue_slot FROM orders WHERE id = ANY(%s) AND status IN ('pending', 'in_progress')",
        ([uuid.UUID(o["id"]) for o in placed],),
    ).fetchall()
    slots = [row["queue_slot"] for row in queued]
    assert len(slots) == 70 and len(set(slots)) == 70 and all(1 <= slot <= 500 for slot in slots)


def test_the_last_free_pickup_number_is_found_and_then_the_numbers_run_out(
    db: Any, admin_conn: Any, drinks: dict
) -> None:
    holder = orders.place_order(db, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])).order
    # Arrange: every number but 321 is held by an order still waiting (the holder).
    admin_conn.execute(
        "UPDATE order_slots SET order_id = %s WHERE kind = 'pickup' AND n <> 321", (uuid.UUID(holder["id"]),)
    )
    last = orders.place_order(db, uuid.uuid4(), "Bob", request_for(drinks["Margarita"])).order
    assert last["number"] == 321
    late = uuid.uuid4()
    with pytest.raises(QueueFull, match="pickup number"):
        orders.place_order(db, late, "Cy", request_for(drinks["Margarita"]))
    assert order_rows(admin_conn, late) == []
    # Picking up frees every number the holder held.
    db.write(orders.transition, uuid.UUID(holder["id"]), OrderStatus.CANCELLED, "test", "host")
    assert orders.place_order(db, late, "Cy", request_for(drinks["Margarita"])).created


def test_guest_name_comes_from_the_guests_table(db: Any, admin_conn: Any, drinks: dict) -> None:
    guest = uuid.uuid4()
    admin_conn.execute("INSERT INTO guests (id, name, code) VALUES (%s, 'Grace', 'TESTCODE')", (guest,))
    order = orders.place_order(db, guest, "name-from-token", request_for(drinks["Margarita"])).order
    assert order["guest_name"] == "Grace"


def test_closed_bar_refuses_orders_with_its_message(db: Any, admin_conn: Any, drinks: dict) -> None:
    _set_bar(admin_conn, is_open=False, message="Back at 9", max_queue=500, max_active_per_guest=20)
    guest = uuid.uuid4()
    with pytest.raises(BarClosed, match="Back at 9"):
        orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]))
    assert order_rows(admin_conn, guest) == []


def test_queue_limit_counts_pending_and_in_progress(db: Any, admin_conn: Any, drinks: dict) -> None:
    _set_bar(admin_conn, is_open=True, message="", max_queue=2, max_active_per_guest=20)
    first = orders.place_order(db, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])).order
    orders.place_order(db, uuid.uuid4(), "Bob", request_for(drinks["Margarita"]))
    db.write(orders.transition, uuid.UUID(first["id"]), OrderStatus.IN_PROGRESS, "", "host")
    late = uuid.uuid4()
    with pytest.raises(QueueFull):
        orders.place_order(db, late, "Cy", request_for(drinks["Margarita"]))
    assert order_rows(admin_conn, late) == []
    # A ready order waits for pickup, not for the bar: it frees its place in the queue.
    db.write(orders.transition, uuid.UUID(first["id"]), OrderStatus.READY, "", "host")
    assert orders.place_order(db, late, "Cy", request_for(drinks["Margarita"])).created


def test_active_orders_per_guest_include_ready_ones(db: Any, admin_conn: Any, drinks: dict) -> None:
    _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=2)
    guest = uuid.uuid4()
    first = orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"])).order
    orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]))
    for status in (OrderStatus.IN_PROGRESS, OrderStatus.READY):
        db.write(orders.transition, uuid.UUID(first["id"]), status, "", "host")
    with pytest.raises(TooManyActiveOrders):
        orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]))
    # Another guest is not held back by Ada's orders.
    assert orders.place_order(db, uuid.uuid4(), "Bob", request_for(drinks["Margarita"])).created
    # Picking up (completed) frees a slot.
    db.write(orders.transition, uuid.UUID(first["id"]), OrderStatus.COMPLETED, "", "host")
    assert orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"])).created
    assert len(order_rows(admin_conn, guest)) == 3


def test_parallel_orders_cannot_exceed_the_guest_limit(admin_conn: Any, drinks: dict) -> None:
    _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=3)
    guest = uuid.uuid4()
    results = in_parallel(
        10, lambda own: orders.place_order(own, guest, "Ada", request_for(drinks["Margarita"]))
    )
    placed = [r for r in results if isinstance(r, orders.Placement)]
    refused = [r for r in results if isinstance(r, TooManyActiveOrders)]
    assert len(placed) == 3 and len(refused) == 7, results
    assert len(order_rows(admin_conn, guest)) == 3
    assert len({p.order["number"] for p in placed}) == 3


def test_parallel_orders_cannot_exceed_the_queue(admin_conn: Any, drinks: dict) -> None:
    _set_bar(admin_conn, is_open=True, message="", max_queue=4, max_active_per_guest=20)
    results = in_parallel(
        10, lambda own: orders.place_order(own, uuid.uuid4(), "Ada", request_for(drinks["Margarita"]))
    )
    assert sum(isinstance(r, orders.Placement) for r in results) == 4, results
    assert sum(isinstance(r, QueueFull) for r in results) == 6, results
    queued = admin_conn.execute("SELECT count(*) AS n FROM orders WHERE status IN ('pending', 'in_progress')")
    assert queued.fetchone()["n"] == 4


@pytest.mark.parametrize("case", ["unknown", "archived", "out of stock"])
def test_drinks_must_be_on_the_menu_and_available(db: Any, admin_conn: Any, drinks: dict, case: str) -> None:
    if case == "unknown":
        bad = uuid.uuid4()
    elif case == "archived":
        bad = admin_conn.execute(
            """INSERT INTO drinks (section_id, name, name_key, archived_at)
               SELECT section_id, %(n)s, lower(%(n)s), now() FROM drinks LIMIT 1 RETURNING id""",
            {"n": f"Retired {uuid.uuid4().hex[:8]}"},
        ).fetchone()["id"]
    else:
        bad = drinks["Pisco Sour"]  # its pisco is out of stock in the seed
    guest = uuid.uuid4()
    with pytest.raises(DrinkUnavailable) as refused:
        orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"], bad))
    if case == "out of stock":
        assert "Pisco Sour" in str(refused.value)
    else:
        assert str(bad) in str(refused.value)
    assert order_rows(admin_conn, guest) == []


def _claim_rows(conn: Any) -> list[tuple[Any, ...]]:
    slots = conn.execute("SELECT kind, n, order_id FROM order_slots ORDER BY kind, n").fetchall()
    guards = conn.execute("SELECT guest_id, placed_at FROM order_guest_guards ORDER BY guest_id").fetchall()
    return [tuple(row.values()) for row in slots + guards]


@pytest.mark.parametrize("refusal", ["drink", "closed", "queue", "guest"])
def test_a_refused_order_holds_no_slot_number_or_guard(db: Any, admin_conn: Any, drinks: dict, refusal: str) -> None:
    guest = uuid.uuid4()
    request = request_for(uuid.uuid4() if refusal == "drink" else drinks["Margarita"])
    if refusal == "closed":
        _set_bar(admin_conn, is_open=False, message="", max_queue=500, max_active_per_guest=20)
    elif refusal == "queue":
        _set_bar(admin_conn, is_open=True, message="", max_queue=1, max_active_per_guest=20)
        orders.place_order(db, uuid.uuid4(), "Ada", request_for(drinks["Margarita"]))
    elif refusal == "guest":
        _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=1)
        orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]))
    before = _claim_rows(admin_conn)
    with pytest.raises((DrinkUnavailable, BarClosed, QueueFull, TooManyActiveOrders)):
        orders.place_order(db, guest, "Ada", request)
    assert _claim_rows(admin_conn) == before


# ---------------------------------------------------------------- idempotency (domain)


def test_a_retry_with_the_same_key_returns_the_same_order(db: Any, admin_conn: Any, drinks: dict) -> None:
    guest = uuid.uuid4()
    first = orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]), "key-1")
    again = orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]), "key-1")
    assert first.created and not again.created
    assert again.order == first.order
    assert len(order_rows(admin_conn, guest)) == 1
    # A new key is a new order; the same key from another guest is theirs alone.
    assert orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]), "key-2").created
    assert orders.place_order(db, uuid.uuid4(), "Bob", request_for(drinks["Margarita"]), "key-1").created
    assert len(order_rows(admin_conn, guest)) == 2


def test_a_reused_key_with_a_different_order_is_refused(db: Any, admin_conn: Any, drinks: dict) -> None:
    guest = uuid.uuid4()
    orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]), "key-1")
    with pytest.raises(IdempotencyKeyReused):
        orders.place_order(db, guest, "Ada", request_for(drinks["Mojito"]), "key-1")
    assert len(order_rows(admin_conn, guest)) == 1


def test_a_retry_is_answered_even_when_the_limit_is_reached(db: Any, admin_conn: Any, drinks: dict) -> None:
    _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=1)
    guest = uuid.uuid4()
    first = orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]), "key-1")
    # The guest's one slot is taken by this very order: the retry must get it back, not a 409.
    assert orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"]), "key-1").order == first.order


def test_twenty_parallel_requests_with_one_key_make_one_order(admin_conn: Any, drinks: dict) -> None:
    guest = uuid.uuid4()
    results = in_parallel(
        20, lambda own: orders.place_order(own, guest, "Ada", request_for(drinks["Margarita"]), "same-key")
    )
    assert all(isinstance(r, orders.Placement) for r in results), results
    assert sum(r.created for r in results) == 1
    assert len({r.order["id"] for r in results}) == 1
    assert len(order_rows(admin_conn, guest)) == 1
    history = admin_conn.execute(
        "SELECT count(*) AS n FROM order_status_history WHERE order_id = %s", (results[0].order["id"],)
    ).fetchone()
    assert history["n"] == 1


class _ReadsAfter(UnitOfWork):
    """A unit of work that changes the bar around each read: what happens between a
    refused placement and the read that says why."""

    def __init__(self, before: Callable[[], None], after: Callable[[], None] = lambda: None) -> None:
        super().__init__(Database(), publish=lambda *_: None)
        self.before, self.after, self.reads = before, after, 0

    def read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        self.before()
        try:
            return super().read(fn, *args, **kwargs)
        finally:
            self.after()


def test_a_placement_refused_by_a_bar_that_then_opens_is_placed_again(admin_conn: Any, drinks: dict) -> None:
    """Closed when the placement ran, open when the refusal is read: nothing refuses it
    any more, so it is placed again, once."""
    _clear_queue(admin_conn)
    settings = {"message": "", "max_queue": 30, "max_active_per_guest": 3}
    _set_bar(admin_conn, is_open=False, **settings)
    own = _ReadsAfter(before=lambda: _set_bar(admin_conn, is_open=True, **settings))
    guest = uuid.uuid4()
    try:
        placement = orders.place_order(own, guest, "Ada", request_for(drinks["Margarita"]))
    finally:
        own.db.close()
    assert placement.created and own.reads == 1
    assert len(order_rows(admin_conn, guest)) == 1


def test_a_bar_that_keeps_changing_under_a_placement_is_a_conflict(admin_conn: Any, drinks: dict) -> None:
    """Closed at every attempt, open at every read: after PLACEMENT_ATTEMPTS the guest
    is told to try again (409), and nothing was written."""
    _clear_queue(admin_conn)
    settings = {"message": "", "max_queue": 30, "max_active_per_guest": 3}
    _set_bar(admin_conn, is_open=False, **settings)
    own = _ReadsAfter(
        before=lambda: _set_bar(admin_conn, is_open=True, **settings),
        after=lambda: _set_bar(admin_conn, is_open=False, **settings),
    )
    guest = uuid.uuid4()
    try:
        with pytest.raises(ConflictError):
            orders.place_order(own, guest, "Ada", request_for(drinks["Margarita"]))
    finally:
        own.db.close()
        _set_bar(admin_conn, is_open=True, **settings)
    assert own.reads == orders.PLACEMENT_ATTEMPTS
    assert order_rows(admin_conn, guest) == []


def test_a_twin_committing_after_the_lookups_meets_the_unique_index(
    database_url: str, admin_conn: Any, drinks: dict
) -> None:
    """The lookups cannot see a twin that is still uncommitted; the unique index can:
    our insert waits for the twin, fails on the index, and the twin's order is returned."""
    import time

    import psycopg

    guest = uuid.uuid4()
    request = request_for(drinks["Margarita"])
    results: list[Any] = []
    with psycopg.connect(database_url) as twin:  # a transaction left open
        twin_id = twin.execute(
            """INSERT INTO orders (number, guest_id, idempotency_key, request_hash)
               VALUES (7, %s, 'k', %s) RETURNING id""",
            (guest, orders.request_fingerprint(request)),
        ).fetchone()[0]

        def place() -> None:
            own = UnitOfWork(Database())
            try:
                results.append(orders.place_order(own, guest, "Ada", request, "k"))
            except Exception as exc:
                results.append(exc)
            finally:
                own.db.close()

        worker = threading.Thread(target=place)
        worker.start()
        deadline = time.monotonic() + 30
        while not _waiting_on_a_lock(admin_conn):  # our insert, on the twin's index entry
            assert time.monotonic() < deadline and worker.is_alive(), results
        twin.commit()
        worker.join(timeout=30)
    assert len(results) == 1 and isinstance(results[0], orders.Placement), results
    assert (results[0].created, results[0].order["id"]) == (False, str(twin_id))
    assert len(order_rows(admin_conn, guest)) == 1


# ---------------------------------------------------------------- no hot row (domain)
#
# A placement claims a queue slot and a pickup number (a walk from a random start) and
# writes its guest's guard row; nothing else is shared. These tests hold one placement's
# transaction open on its own writer connection (REPEATABLE READ, as db.write runs it)
# and watch whether a second placement has to wait for it.


class _Pinned:
    """Stands in for orders._pick: every placement starts its walks at the same place."""

    def __init__(self, slot_start: float, number_start: int) -> None:
        self.slot_start, self.number_start = slot_start, number_start

    def random(self) -> float:
        return self.slot_start

    def randint(self, low: int, high: int) -> int:
        return self.number_start


def _open_placement(database_url: str, guest: uuid.UUID, request: OrderRequest) -> tuple[Any, dict[str, Any]]:
    """A placement done but not committed: (its connection, its order)."""
    import psycopg
    from psycopg.rows import dict_row

    conn = psycopg.connect(database_url, options="-c role=da_writer", row_factory=dict_row, autocommit=True)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    batch = Batch(conn)
    finish = orders._send_placement(Tx(conn, batch), guest, "Ada", request, None, orders.request_fingerprint(request))
    batch.run("BEGIN ISOLATION LEVEL REPEATABLE READ", commit=False)  # left open: COMMIT when told
    order = finish()
    assert order is not None
    return conn, order


def _waiting_on_a_lock(admin_conn: Any) -> bool:
    return (
        admin_conn.execute(
            """SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
               AND wait_event_type = 'Lock' AND backend_type = 'client backend'"""
        ).fetchone()
        is not None
    )


def _place_in_thread(guest: uuid.UUID, request: OrderRequest) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []

    def place() -> None:
        own = UnitOfWork(Database())
        try:
            results.append(orders.place_order(own, guest, "Bob", request))
        except Exception as exc:  # asserted on by the caller
            results.append(exc)
        finally:
            own.db.close()

    worker = threading.Thread(target=place)
    worker.start()
    return worker, results


def _wait_for(condition: Callable[[], bool], worker: threading.Thread, what: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        assert worker.is_alive() or condition(), f"the placement ended before {what}"


def test_two_guests_placing_at_once_write_no_common_row(
    database_url: str, admin_conn: Any, drinks: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While Ada's placement is open (its rows written, not committed), Bob's, starting
    elsewhere, commits without waiting: no row both write, so on DSQL no conflict."""
    monkeypatch.setattr(orders, "_pick", _Pinned(0.1, 100))
    conn, ada = _open_placement(database_url, uuid.uuid4(), request_for(drinks["Margarita"]))
    try:
        monkeypatch.setattr(orders, "_pick", _Pinned(0.6, 600))
        worker, results = _place_in_thread(uuid.uuid4(), request_for(drinks["Mojito"]))
        worker.join(timeout=30)
        assert not worker.is_alive(), "Bob's placement waited for Ada's open transaction"
        assert isinstance(results[0], orders.Placement), results
        assert results[0].order["number"] != ada["number"]
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_two_placements_that_pick_the_same_slot_conflict_and_one_moves_on(
    database_url: str, admin_conn: Any, drinks: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same start, so the same free slot and number: the second waits for the first,
    fails with 40001 when it commits (as DSQL would at commit) and its retry takes the
    next free ones."""
    from chalicelib.db import RETRIES

    monkeypatch.setattr(orders, "_pick", _Pinned(0.2, 200))
    conn, first = _open_placement(database_url, uuid.uuid4(), request_for(drinks["Margarita"]))
    try:
        RETRIES.reset()
        worker, results = _place_in_thread(uuid.uuid4(), request_for(drinks["Mojito"]))
        _wait_for(lambda: _waiting_on_a_lock(admin_conn), worker, "the second placement to wait")
        conn.execute("COMMIT")
        worker.join(timeout=30)
    finally:
        conn.close()
    assert len(results) == 1 and isinstance(results[0], orders.Placement), results
    second = results[0].order
    assert RETRIES.count >= 1
    assert second["number"] != first["number"]
    slots = admin_conn.execute(
        "SELECT id, queue_slot FROM orders WHERE id = ANY(%s)", ([uuid.UUID(first["id"]), uuid.UUID(second["id"])],)
    ).fetchall()
    assert len({row["queue_slot"] for row in slots}) == 2


def test_one_guest_placing_twice_at_once_is_counted_exactly(
    database_url: str, admin_conn: Any, drinks: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guest's guard row: the second placement waits for the first and, retried,
    counts it. With a limit of one, it is refused."""
    _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=1)
    guest = uuid.uuid4()
    monkeypatch.setattr(orders, "_pick", _Pinned(0.3, 300))
    conn, _ = _open_placement(database_url, guest, request_for(drinks["Margarita"]))
    try:
        monkeypatch.setattr(orders, "_pick", _Pinned(0.8, 800))  # a different slot and number
        worker, results = _place_in_thread(guest, request_for(drinks["Mojito"]))
        _wait_for(lambda: _waiting_on_a_lock(admin_conn), worker, "the second placement to wait")
        conn.execute("COMMIT")
        worker.join(timeout=30)
    finally:
        conn.close()
    assert len(results) == 1 and isinstance(results[0], TooManyActiveOrders), results
    assert len(order_rows(admin_conn, guest)) == 1


def test_many_guests_at_once_place_every_order_with_few_retries(admin_conn: Any, drinks: dict) -> None:
    """8 clients, 15 orders each, all different guests: every order placed, numbers and
    slots unique among the orders waiting, and conflicts rare (a global counter row made
    most placements retry)."""
    from chalicelib.db import RETRIES

    RETRIES.reset()
    results = in_parallel(
        8,
        lambda own: [
            orders.place_order(own, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])) for _ in range(15)
        ],
    )
    retries = RETRIES.reset()
    placed = [p for per_client in results for p in per_client]
    assert len(placed) == 120, results
    assert len({p.order["number"] for p in placed}) == 120
    slots = admin_conn.execute(
        "SELECT queue_slot FROM orders WHERE id = ANY(%s)", ([uuid.UUID(p.order["id"]) for p in placed],)
    ).fetchall()
    assert len({row["queue_slot"] for row in slots}) == 120
    assert retries <= 24, f"{retries} retries for 120 orders"


def test_lowering_the_queue_limit_below_the_queue_keeps_it_exact(admin_conn: Any, drinks: dict) -> None:
    """Two queued orders hold no slot within max_queue (4): one holds slot 400 (the host
    lowered the limit), one none (placed before the slots existed). The free slots alone
    would let 4 more in; the count lets in 2, and placements in this state take turns on
    slot 0, so none slips past the count."""
    _set_bar(admin_conn, is_open=True, message="", max_queue=4, max_active_per_guest=20)
    own = UnitOfWork(Database())
    try:
        outsider = orders.place_order(own, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])).order
        legacy = orders.place_order(own, uuid.uuid4(), "Ada", request_for(drinks["Margarita"])).order
    finally:
        own.db.close()
    outsider_id, legacy_id = uuid.UUID(outsider["id"]), uuid.UUID(legacy["id"])
    admin_conn.execute(
        "UPDATE order_slots SET order_id = NULL WHERE kind = 'queue' AND order_id = ANY(%s)",
        ([outsider_id, legacy_id],),
    )
    admin_conn.execute("UPDATE order_slots SET order_id = %s WHERE kind = 'queue' AND n = 400", (outsider_id,))
    admin_conn.execute("UPDATE orders SET queue_slot = 400 WHERE id = %s", (outsider_id,))
    admin_conn.execute("UPDATE orders SET queue_slot = NULL WHERE id = %s", (legacy_id,))
    results = in_parallel(
        10, lambda own: orders.place_order(own, uuid.uuid4(), "Ada", request_for(drinks["Margarita"]))
    )
    assert sum(isinstance(r, orders.Placement) for r in results) == 2, results
    assert sum(isinstance(r, QueueFull) for r in results) == 8, results
    queued = admin_conn.execute("SELECT count(*) AS n FROM orders WHERE status IN ('pending', 'in_progress')")
    assert queued.fetchone()["n"] == 4


# ---------------------------------------------------------------- moving orders (domain)


@pytest.mark.parametrize(("start", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_status_move(db: Any, admin_conn: Any, drinks: dict, start: str, target: str) -> None:
    order = order_in(db, admin_conn, drinks["Margarita"], start)
    order_id = uuid.UUID(order["id"])
    if (start, target) in ALLOWED:
        change = db.write(orders.transition, order_id, OrderStatus(target), "out of limes", "host")
        assert change.previous_status == start
        assert change.order["status"] == target
        assert change.order["history"][-1]["status"] == target
        assert change.order["history"][-1]["reason"] == "out of limes"
        assert change.event() == {
            "order_id": order["id"],
            "guest_id": order["guest_id"],
            "number": order["number"],
            "status": target,
            "previous_status": start,
            "order": change.order,
        }
    else:
        with pytest.raises(ConflictError):
            db.write(orders.transition, order_id, OrderStatus(target), "out of limes", "host")
        row = admin_conn.execute("SELECT status FROM orders WHERE id = %s", (order_id,)).fetchone()
        assert row["status"] == start
        count = admin_conn.execute(
            "SELECT count(*) AS n FROM order_status_history WHERE order_id = %s", (order_id,)
        ).fetchone()
        assert count["n"] == 1


def test_the_full_lifecycle_keeps_a_timed_history(db: Any, drinks: dict) -> None:
    guest = uuid.uuid4()
    order = orders.place_order(db, guest, "Ada", request_for(drinks["Margarita"])).order
    for status in (OrderStatus.IN_PROGRESS, OrderStatus.READY, OrderStatus.COMPLETED):
        db.write(orders.transition, uuid.UUID(order["id"]), status, "", "host")
    final = db.read(orders.get_my_order, guest, uuid.UUID(order["id"]))
    assert [h["status"] for h in final["history"]] == ["pending", "in_progress", "ready", "completed"]
    times = [h["at"] for h in final["history"]]
    assert times == sorted(times) and len(set(times)) == 4
    assert final["updated_at"] == times[-1]


def test_moving_an_unknown_order_is_not_found(db: Any) -> None:
    with pytest.raises(NotFoundError):
        db.write(orders.transition, uuid.uuid4(), OrderStatus.READY, "", "host")


def test_two_bartenders_taking_one_order_at_once(db: Any, admin_conn: Any, drinks: dict) -> None:
    order_id = uuid.UUID(order_in(db, admin_conn, drinks["Margarita"], "pending")["id"])
    results = in_parallel(
        8, lambda own: own.write(orders.transition, order_id, OrderStatus.IN_PROGRESS, "", "host")
    )
    assert sum(isinstance(r, orders.StatusChange) for r in results) == 1, results
    assert sum(isinstance(r, ConflictError) for r in results) == 7, results
    count = admin_conn.execute(
        "SELECT count(*) AS n FROM order_status_history WHERE order_id = %s", (order_id,)
    ).fetchone()
    assert count["n"] == 2


@pytest.mark.parametrize("status", STATUSES)
def test_a_guest_cancels_only_while_pending(db: Any, admin_conn: Any, drinks: dict, status: str) -> None:
    guest = uuid.uuid4()
    order = order_in(db, admin_conn, drinks["Margarita"], status, guest)
    if status == "pending":
        change = db.write(orders.cancel_my_order, guest, uuid.UUID(order["id"]))
        assert change.order["status"] == "cancelled"
        assert change.previous_status == "pending"
        assert change.order["history"][-1]["reason"] == "cancelled by the guest"
    else:
        with pytest.raises(ConflictError, match="only a pending order"):
            db.write(orders.cancel_my_order, guest, uuid.UUID(order["id"]))


def test_guests_see_and_cancel_only_their_own_orders(db: Any, drinks: dict) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    adas = orders.place_order(db, ada, "Ada", request_for(drinks["Margarita"])).order
    bobs = orders.place_order(db, bob, "Bob", request_for(drinks["Mojito"])).order
    assert [o["id"] for o in db.read(orders.list_my_orders, ada)] == [adas["id"]]
    with pytest.raises(NotFoundError):
        db.read(orders.get_my_order, ada, uuid.UUID(bobs["id"]))
    with pytest.raises(NotFoundError):
        db.write(orders.cancel_my_order, ada, uuid.UUID(bobs["id"]))
    assert db.read(orders.get_my_order, bob, uuid.UUID(bobs["id"]))["status"] == "pending"


def test_admin_list_filters_by_status(db: Any, admin_conn: Any, drinks: dict) -> None:
    pending = order_in(db, admin_conn, drinks["Margarita"], "pending")
    ready = order_in(db, admin_conn, drinks["Margarita"], "ready")
    done = order_in(db, admin_conn, drinks["Margarita"], "completed")
    in_play = {o["id"] for o in db.read(orders.list_orders, None)}
    assert {pending["id"], ready["id"]} <= in_play and done["id"] not in in_play
    only_ready = db.read(orders.list_orders, OrderStatus.READY)
    assert {o["status"] for o in only_ready} == {"ready"} and ready["id"] in {o["id"] for o in only_ready}
    assert done["id"] in {o["id"] for o in db.read(orders.list_orders, OrderStatus.COMPLETED)}


def test_update_bar_settings_changes_only_the_given_fields(db: Any) -> None:
    before = db.read(bar.get_settings)
    after = db.write(bar.update_settings, BarSettingsUpdate(max_queue=7))
    assert after == {**before, "max_queue": 7}
    assert db.read(bar.get_settings) == after


# ---------------------------------------------------------------- the API


def call(client: Any, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None,
         raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    response = client.http.request(
        method, path, headers={"Content-Type": "application/json", **(headers or {})}, body=payload
    )
    return response.status_code, json.loads(response.body) if response.body else None, response.headers


def one_drink(drinks: dict, **extra: Any) -> dict[str, Any]:
    return {"items": [{"drink_id": str(drinks["Margarita"]), "quantity": 1, **extra}]}


def test_api_place_list_get_and_cancel(client: Any, admin_headers: dict, drinks: dict) -> None:
    status, order, _ = call(client, "POST", "/orders", admin_headers, one_drink(drinks, notes="extra lime"))
    assert status == 201, order
    assert order["status"] == "pending" and order["items"][0]["notes"] == "extra lime"
    assert set(order) == {
        "id", "number", "status", "guest_id", "guest_name", "items", "notes", "created_at", "updated_at", "history"
    }
    status, mine, _ = call(client, "GET", "/orders", admin_headers)
    assert status == 200 and [o["id"] for o in mine] == [order["id"]]
    status, same, _ = call(client, "GET", f"/orders/{order['id']}", admin_headers)
    # GET adds where the order is in the queue (tests/test_queue_position.py).
    assert status == 200 and same == {**order, "queue_position": 1, "estimated_wait_s": same["estimated_wait_s"]}
    status, cancelled, _ = call(client, "POST", f"/orders/{order['id']}/cancel", admin_headers)
    assert status == 200 and cancelled["status"] == "cancelled"
    status, body, _ = call(client, "POST", f"/orders/{order['id']}/cancel", admin_headers)
    assert status == 409 and body["Code"] == "ConflictError"


def test_api_idempotency_key(client: Any, admin_headers: dict, drinks: dict) -> None:
    headers = {**admin_headers, "Idempotency-Key": str(uuid.uuid4())}
    status, first, first_headers = call(client, "POST", "/orders", headers, one_drink(drinks))
    assert status == 201 and "Idempotent-Replayed" not in first_headers
    status, again, again_headers = call(client, "POST", "/orders", headers, one_drink(drinks))
    assert status == 200 and again == first
    assert again_headers.get("Idempotent-Replayed") == "true"
    status, body, _ = call(client, "POST", "/orders", headers, one_drink(drinks, quantity=2))
    assert status == 422 and body["Code"] == "IdempotencyKeyReused"
    status, mine, _ = call(client, "GET", "/orders", admin_headers)
    assert len(mine) == 1


@pytest.mark.parametrize("key", ["", "x" * 101, "caf\u00e9", "line\nbreak", " padded"])
def test_api_refuses_a_bad_idempotency_key(client: Any, admin_headers: dict, drinks: dict, key: str) -> None:
    status, body, _ = call(client, "POST", "/orders", {**admin_headers, "Idempotency-Key": key}, one_drink(drinks))
    assert status == 400 and body["Code"] == "BadRequestError", body
    assert call(client, "GET", "/orders", admin_headers)[1] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": []},
        {"items": [{"drink_id": "not-a-uuid"}]},
        {"items": [{"quantity": 1}]},
        "QUANTITY 0",
        "QUANTITY 6",
        "QUANTITY '2'",
        "QUANTITY true",
        "ITEM NOTES 201",
        "ORDER NOTES 201",
        "UNKNOWN FIELD",
        "ELEVEN ITEMS",
        ["a list"],
    ],
    ids=str,
)
def test_api_refuses_bad_order_bodies(client: Any, admin_headers: dict, drinks: dict, body: Any) -> None:
    margarita = str(drinks["Margarita"])
    bodies = {
        "QUANTITY 0": {"items": [{"drink_id": margarita, "quantity": 0}]},
        "QUANTITY 6": {"items": [{"drink_id": margarita, "quantity": 6}]},
        "QUANTITY '2'": {"items": [{"drink_id": margarita, "quantity": "2"}]},
        "QUANTITY true": {"items": [{"drink_id": margarita, "quantity": True}]},
        "ITEM NOTES 201": {"items": [{"drink_id": margarita, "notes": "x" * 201}]},
        "ORDER NOTES 201": {"items": [{"drink_id": margarita}], "notes": "x" * 201},
        "UNKNOWN FIELD": {"items": [{"drink_id": margarita}], "table": 4},
        "ELEVEN ITEMS": {"items": [{"drink_id": margarita}] * 11},
    }
    status, answer, _ = call(client, "POST", "/orders", admin_headers, bodies[body] if isinstance(body, str) else body)
    assert status == 400 and answer["Code"] == "BadRequestError", answer
    assert call(client, "GET", "/orders", admin_headers)[1] == []


def test_api_accepts_the_edges(client: Any, admin_headers: dict, drinks: dict) -> None:
    body = {"items": [{"drink_id": str(drinks["Margarita"]), "quantity": 5, "notes": "x" * 200}], "notes": "y" * 200}
    status, order, _ = call(client, "POST", "/orders", admin_headers, body)
    assert status == 201 and order["items"][0]["quantity"] == 5


def test_api_refuses_invalid_json(client: Any, admin_headers: dict) -> None:
    status, body, _ = call(client, "POST", "/orders", admin_headers, raw=b"{nope")
    assert status == 400, body


def test_api_refusals_carry_their_code(client: Any, admin_conn: Any, user_pool: Any, drinks: dict) -> None:
    def place(drink: str = "Margarita") -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {user_pool.admin_token()}"}  # a new orderer each time
        status, body, _ = call(client, "POST", "/orders", headers, {"items": [{"drink_id": str(drinks[drink])}]})
        return status, body

    unavailable = {"Code": "DrinkUnavailable", "Message": "Pisco Sour is not available right now"}
    assert place("Pisco Sour") == (409, unavailable)
    status, body = place()
    assert status == 201, body
    _set_bar(admin_conn, is_open=True, message="", max_queue=1, max_active_per_guest=20)
    assert place()[1]["Code"] == "QueueFull"
    _set_bar(admin_conn, is_open=False, message="Closed for a toast", max_queue=500, max_active_per_guest=20)
    assert place() == (409, {"Code": "BarClosed", "Message": "Closed for a toast"})

    _set_bar(admin_conn, is_open=True, message="", max_queue=500, max_active_per_guest=1)
    headers = {"Authorization": f"Bearer {user_pool.admin_token()}"}
    assert call(client, "POST", "/orders", headers, one_drink(drinks))[0] == 201
    status, body, _ = call(client, "POST", "/orders", headers, one_drink(drinks))
    assert (status, body["Code"]) == (409, "TooManyActiveOrders")


def test_api_orders_of_another_caller_are_not_found(client: Any, user_pool: Any, drinks: dict) -> None:
    ada = {"Authorization": f"Bearer {user_pool.admin_token()}"}
    bob = {"Authorization": f"Bearer {user_pool.admin_token()}"}
    status, order, _ = call(client, "POST", "/orders", ada, one_drink(drinks))
    assert status == 201
    assert call(client, "GET", f"/orders/{order['id']}", bob)[0] == 404
    assert call(client, "POST", f"/orders/{order['id']}/cancel", bob)[0] == 404
    assert call(client, "GET", "/orders", bob)[1] == []
    assert call(client, "GET", f"/orders/{order['id']}", ada)[1]["status"] == "pending"
    assert call(client, "GET", "/orders/not-a-uuid", ada)[0] == 400
    assert call(client, "GET", f"/orders/{uuid.uuid4()}", ada)[0] == 404


def test_api_order_routes_need_a_valid_token(client: Any, user_pool: Any) -> None:
    import time

    now = int(time.time())
    order_id = uuid.uuid4()
    bad = {
        "no token": ({}, 401),
        "expired": ({"Authorization": f"Bearer {user_pool.admin_token(exp=now - 60, iat=now - 3600)}"}, 401),
        "forged": ({"Authorization": f"Bearer {user_pool.admin_token()[:-6]}AAAAAA"}, 401),
        "not a guest nor an admin": ({"Authorization": f"Bearer {user_pool.token()}"}, 403),
    }
    routes = [("POST", "/orders"), ("GET", "/orders"), ("GET", f"/orders/{order_id}"),
              ("POST", f"/orders/{order_id}/cancel")]
    for (method, path), (name, (headers, expected)) in itertools.product(routes, bad.items()):
        status, body, _ = call(client, method, path, headers, {"items": []})
        assert status == expected, f"{method} {path} {name}: {status} {body}"


def test_api_admin_moves_orders(client: Any, admin_headers: dict, user_pool: Any, drinks: dict) -> None:
    guest = {"Authorization": f"Bearer {user_pool.admin_token()}"}
    order = call(client, "POST", "/orders", guest, one_drink(drinks))[1]
    path = f"/admin/orders/{order['id']}"
    assert call(client, "PUT", path, admin_headers, {"status": "ready"})[0] == 409
    status, moved, _ = call(client, "PUT", path, admin_headers, {"status": "in_progress"})
    assert status == 200 and moved["status"] == "in_progress"
    status, body, _ = call(client, "PUT", path, admin_headers, {"status": "cancelled"})
    assert status == 400 and "reason" in body["Message"]
    status, body, _ = call(client, "PUT", path, admin_headers, {"status": "shaken"})
    assert status == 400
    status, moved, _ = call(client, "PUT", path, admin_headers, {"status": "cancelled", "reason": "out of limes"})
    assert status == 200 and moved["history"][-1] == {**moved["history"][-1], "status": "cancelled",
                                                       "reason": "out of limes"}
    # The guest sees the change and why.
    seen = call(client, "GET", f"/orders/{order['id']}", guest)[1]
    assert [h["status"] for h in seen["history"]] == ["pending", "in_progress", "cancelled"]
    # The guest's copy adds where it is in the queue (null: cancelled).
    assert (seen.pop("queue_position"), seen.pop("estimated_wait_s")) == (None, None)
    assert call(client, "GET", path, admin_headers)[1] == seen
    assert call(client, "PUT", f"/admin/orders/{uuid.uuid4()}", admin_headers, {"status": "ready"})[0] == 404


def test_api_admin_lists_orders_by_status(client: Any, admin_headers: dict, drinks: dict) -> None:
    order = call(client, "POST", "/orders", admin_headers, one_drink(drinks))[1]
    status, listed, _ = call(client, "GET", "/admin/orders?status=pending", admin_headers)
    assert status == 200 and order["id"] in {o["id"] for o in listed}
    assert {o["status"] for o in listed} == {"pending"}
    assert call(client, "GET", "/admin/orders?status=ready", admin_headers)[1] == []
    assert order["id"] in {o["id"] for o in call(client, "GET", "/admin/orders", admin_headers)[1]}
    status, body, _ = call(client, "GET", "/admin/orders?status=shaken", admin_headers)
    assert status == 400, body


@pytest.mark.parametrize(
    "body",
    [
        {"max_queue": 0},
        {"max_queue": 501},
        {"max_queue": "10"},
        {"max_active_per_guest": 0},
        {"max_active_per_guest": 21},
        {"message": "x" * 201},
        {"is_open": "yes"},
        {"colour": "red"},
    ],
    ids=str,
)
def test_api_bar_settings_validation(client: Any, admin_headers: dict, body: dict) -> None:
    before = call(client, "GET", "/admin/bar", admin_headers)[1]
    status, answer, _ = call(client, "PUT", "/admin/bar", admin_headers, body)
    assert status == 400 and answer["Code"] == "BadRequestError", answer
    assert call(client, "GET", "/admin/bar", admin_headers)[1] == before


def test_api_bar_settings_change_what_guests_see(client: Any, admin_headers: dict, drinks: dict) -> None:
    changes = {"is_open": False, "message": "Back at 9", "max_queue": 500, "max_active_per_guest": 20}
    status, saved, _ = call(client, "PUT", "/admin/bar", admin_headers, changes)
    assert status == 200 and saved == changes
    assert call(client, "GET", "/admin/bar", admin_headers)[1] == changes
    assert call(client, "GET", "/bar")[1] == {"is_open": False, "message": "Back at 9"}
    assert call(client, "POST", "/orders", admin_headers, one_drink(drinks))[1]["Code"] == "BarClosed"
    status, saved, _ = call(client, "PUT", "/admin/bar", admin_headers, {"is_open": True})
    assert saved == {**changes, "is_open": True}
    assert call(client, "POST", "/orders", admin_headers, one_drink(drinks))[0] == 201


# ---------------------------------------------------------------- the API with guest tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_registered_guest_orders_under_their_name(
    client: Any, admin_headers: dict, secrets_manager: Any, drinks: dict  # noqa: F811
) -> None:
    status, code, _ = call(client, "POST", "/admin/registration-codes", admin_headers,
                           {"expires_in_hours": 2, "max_uses": 1})
    assert status == 201, code
    status, session, _ = call(client, "POST", "/register", body={"code": code["code"], "name": "Ann"})
    assert status == 201, session
    status, order, _ = call(client, "POST", "/orders", bearer(session["access_token"]), one_drink(drinks))
    assert status == 201, order
    assert (order["guest_id"], order["guest_name"]) == (session["guest"]["id"], "Ann")
    status, mine, _ = call(client, "GET", "/orders", bearer(session["access_token"]))
    assert status == 200 and [o["id"] for o in mine] == [order["id"]]


def test_guests_reach_only_their_own_orders(client: Any, make_guest: Any, drinks: dict) -> None:  # noqa: F811
    _, ann = make_guest("Ann")
    _, bob = make_guest("Bob")
    order = call(client, "POST", "/orders", bearer(ann), one_drink(drinks))[1]
    assert call(client, "GET", f"/orders/{order['id']}", bearer(bob))[0] == 404
    assert call(client, "POST", f"/orders/{order['id']}/cancel", bearer(bob))[0] == 404
    assert call(client, "GET", "/orders", bearer(bob))[1] == []
    status, cancelled, _ = call(client, "POST", f"/orders/{order['id']}/cancel", bearer(ann))
    assert status == 200 and cancelled["status"] == "cancelled"


def test_a_guest_cannot_cancel_once_the_bar_started(
    client: Any, make_guest: Any, admin_headers: dict, drinks: dict  # noqa: F811
) -> None:
    _, ann = make_guest("Ann")
    order = call(client, "POST", "/orders", bearer(ann), one_drink(drinks))[1]
    assert call(client, "PUT", f"/admin/orders/{order['id']}", admin_headers, {"status": "in_progress"})[0] == 200
    status, body, _ = call(client, "POST", f"/orders/{order['id']}/cancel", bearer(ann))
    assert (status, body["Code"]) == (409, "ConflictError")
    assert call(client, "GET", f"/orders/{order['id']}", bearer(ann))[1]["status"] == "in_progress"


def test_guest_tokens_do_not_open_admin_routes(client: Any, make_guest: Any, drinks: dict) -> None:  # noqa: F811
    _, ann = make_guest("Ann")
    order = call(client, "POST", "/orders", bearer(ann), one_drink(drinks))[1]
    for method, path, body in [
        ("GET", "/admin/orders", None),
        ("GET", f"/admin/orders/{order['id']}", None),
        ("PUT", f"/admin/orders/{order['id']}", {"status": "in_progress"}),
        ("GET", "/admin/bar", None),
        ("PUT", "/admin/bar", {"is_open": False}),
    ]:
        status, answer, _ = call(client, method, path, bearer(ann), body)
        assert status == 403, f"{method} {path}: {status} {answer}"
    assert call(client, "GET", f"/orders/{order['id']}", bearer(ann))[1]["status"] == "pending"
    assert call(client, "GET", "/bar")[1]["is_open"] is True


def test_expired_and_forged_guest_tokens_are_401(client: Any, make_guest: Any, drinks: dict) -> None:  # noqa: F811
    import time

    from tests.tokens import new_rsa_key

    _, expired = make_guest("Ann", now=time.time() - 2 * 24 * 3600)
    _, valid = make_guest("Bob")
    header, payload, signature = valid.split(".")
    forged_payload = payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB")
    import jwt

    other_key = jwt.encode({"sub": str(uuid.uuid4()), "token_use": "guest"}, new_rsa_key(), algorithm="RS256")
    for name, token in [
        ("expired", expired),
        ("tampered payload", f"{header}.{forged_payload}.{signature}"),
        ("tampered signature", f"{header}.{payload}.{signature[:-4]}AAAA"),
        ("foreign key", other_key),
    ]:
        for method, path in [("POST", "/orders"), ("GET", "/orders")]:
            status, body, _ = call(client, method, path, bearer(token), one_drink(drinks))
            assert status == 401, f"{name} {method} {path}: {status} {body}"


# ---------------------------------------------------------------- events


def test_order_events_are_published_after_the_commit(
    client: Any, admin_headers: dict, admin_conn: Any, monkeypatch: pytest.MonkeyPatch, drinks: dict
) -> None:
    from chalicelib import events

    published: list[tuple[str, dict[str, Any]]] = []

    def publish(detail_type: str, data: dict[str, Any]) -> bool:
        # Another connection sees only committed rows: the write must be visible already.
        row = admin_conn.execute("SELECT status FROM orders WHERE id = %s", (data["order_id"],)).fetchone()
        assert row is not None and row["status"] == data["status"], (detail_type, data)
        published.append((detail_type, data))
        return True

    monkeypatch.setattr(events, "publish", publish)
    headers = {**admin_headers, "Idempotency-Key": "events-1"}
    order = call(client, "POST", "/orders", headers, one_drink(drinks))[1]
    assert published == [
        ("OrderPlaced", {"order_id": order["id"], "guest_id": order["guest_id"], "number": order["number"],
                         "status": "pending", "order": order})
    ]
    assert call(client, "POST", "/orders", headers, one_drink(drinks))[0] == 200  # a replay: nothing new
    assert call(client, "PUT", f"/admin/orders/{order['id']}", admin_headers, {"status": "ready"})[0] == 409
    assert len(published) == 1

    moved = call(client, "PUT", f"/admin/orders/{order['id']}", admin_headers, {"status": "in_progress"})[1]
    assert published[-1] == (
        "OrderStatusChanged",
        {"order_id": order["id"], "guest_id": order["guest_id"], "number": order["number"],
         "status": "in_progress", "previous_status": "pending", "order": moved},
    )
    second = call(client, "POST", "/orders", admin_headers, one_drink(drinks))[1]
    call(client, "POST", f"/orders/{second['id']}/cancel", admin_headers)
    assert [(t, d["status"], d.get("previous_status")) for t, d in published[-2:]] == [
        ("OrderPlaced", "pending", None),
        ("OrderStatusChanged", "cancelled", "pending"),
    ]
    call(client, "POST", f"/orders/{second['id']}/cancel", admin_headers)  # a 409: no event
    assert len(published) == 4
