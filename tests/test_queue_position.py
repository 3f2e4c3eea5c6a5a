"""Where a guest's order is in the queue: `queue_position` (1 = made next) and
`estimated_wait_s` on the guest's orders (GET /orders, GET /orders/{id}), against the
real database. Orders are placed one after the other (no concurrency), so creation
order is known."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import bar, orders
from chalicelib.order_status import OrderStatus
from chalicelib.validation import OrderItemRequest, OrderRequest
from tests.test_orders import call


@pytest.fixture(autouse=True)
def empty_open_bar(database_url: str, admin_conn: Any) -> Iterator[None]:
    """No order in play and no ready history from earlier tests; generous limits."""
    admin_conn.execute("UPDATE orders SET status = 'completed' WHERE status IN ('pending', 'in_progress', 'ready')")
    admin_conn.execute("DELETE FROM order_status_history WHERE status = 'ready'")
    admin_conn.execute(
        "UPDATE bar_settings SET is_open = true, message = '', max_queue = 500, max_active_per_guest = 20"
        " WHERE id = 'bar'"
    )
    yield
    admin_conn.execute(
        """UPDATE bar_settings SET is_open = %(is_open)s, message = %(message)s, max_queue = %(max_queue)s,
           max_active_per_guest = %(max_active_per_guest)s WHERE id = 'bar'""",
        bar.DEFAULTS,
    )


@pytest.fixture(scope="module")
def drink(database_url: str) -> uuid.UUID:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT id FROM drinks WHERE name = 'Margarita'").fetchone()[0]


def place(db: Any, guest: uuid.UUID, drink: uuid.UUID) -> dict[str, Any]:
    return orders.place_order(db, guest, "Ada", OrderRequest(items=[OrderItemRequest(drink_id=drink)])).order


def position(db: Any, guest: uuid.UUID, order: dict[str, Any]) -> tuple[int | None, int | None]:
    mine = db.read(orders.get_my_order, guest, uuid.UUID(order["id"]))
    return mine["queue_position"], mine["estimated_wait_s"]


def test_positions_are_1_to_n_in_creation_order_and_move_up(db: Any, drink: uuid.UUID) -> None:
    guests = [uuid.uuid4() for _ in range(4)]
    placed = [place(db, guest, drink) for guest in guests]
    default = orders.DEFAULT_PREP_S
    assert [position(db, g, o) for g, o in zip(guests, placed, strict=True)] == [
        (n, n * default) for n in (1, 2, 3, 4)
    ]

    # The first is made and picked up, the third is cancelled: the others move up.
    db.write(orders.transition, uuid.UUID(placed[0]["id"]), OrderStatus.IN_PROGRESS, "", "host")
    assert position(db, guests[1], placed[1])[0] == 2  # in progress is still ahead
    db.write(orders.transition, uuid.UUID(placed[0]["id"]), OrderStatus.READY, "", "host")
    db.write(orders.transition, uuid.UUID(placed[2]["id"]), OrderStatus.CANCELLED, "out of lime", "host")
    assert position(db, guests[1], placed[1])[0] == 1
    assert position(db, guests[3], placed[3])[0] == 2
    # Not waiting any more: no place, no estimate.
    assert position(db, guests[0], placed[0]) == (None, None)
    assert position(db, guests[2], placed[2]) == (None, None)


def test_the_estimate_uses_the_median_of_tonights_ready_times(db: Any, admin_conn: Any, drink: uuid.UUID) -> None:
    # Three orders made tonight in 60, 120 and 600 s (median 120); one from yesterday
    # (2 h, outside the window) must not count.
    for seconds, age_h in ((60, 1), (120, 1), (600, 1), (7200, 30)):
        done = place(db, uuid.uuid4(), drink)
        admin_conn.execute(
            "UPDATE orders SET status = 'completed', created_at = now() - %s WHERE id = %s",
            (timedelta(hours=age_h), done["id"]),
        )
        admin_conn.execute(
            """INSERT INTO order_status_history (order_id, status, reason, changed_by, changed_at)
               VALUES (%s, 'ready', '', 'host', now() - %s + %s)""",
            (done["id"], timedelta(hours=age_h), timedelta(seconds=seconds)),
        )
    guests = [uuid.uuid4(), uuid.uuid4()]
    waiting = [place(db, g, drink) for g in guests]
    assert position(db, guests[0], waiting[0]) == (1, 120)
    assert position(db, guests[1], waiting[1]) == (2, 240)


def test_prep_seconds_median() -> None:
    assert orders.prep_seconds(None) == orders.DEFAULT_PREP_S
    assert orders.prep_seconds([]) == orders.DEFAULT_PREP_S
    assert orders.prep_seconds([30.0]) == 30
    assert orders.prep_seconds([300.0, 60.0, 100.0, 200.0]) == 150
    assert orders.prep_seconds([-5.0, 90.0]) == 90  # a clock oddity is ignored


def test_the_list_carries_positions_and_only_waiting_orders_get_one(db: Any, drink: uuid.UUID) -> None:
    guest = uuid.uuid4()
    first, second = place(db, guest, drink), place(db, guest, drink)
    db.write(orders.cancel_my_order, guest, uuid.UUID(first["id"]))
    mine = {o["id"]: o for o in db.read(orders.list_my_orders, guest)}
    assert (mine[second["id"]]["queue_position"], mine[first["id"]]["queue_position"]) == (1, None)
    assert mine[first["id"]]["estimated_wait_s"] is None


def test_the_api_shows_the_position_to_the_guest(client: Any, admin_headers: dict, drink: uuid.UUID) -> None:
    body = {"items": [{"drink_id": str(drink), "quantity": 1}]}
    _, one, _ = call(client, "POST", "/orders", admin_headers, body)
    _, two, _ = call(client, "POST", "/orders", admin_headers, body)
    status, mine, _ = call(client, "GET", "/orders", admin_headers)
    assert status == 200
    assert [(o["id"], o["queue_position"]) for o in mine] == [(two["id"], 2), (one["id"], 1)]
    status, single, _ = call(client, "GET", f"/orders/{two['id']}", admin_headers)
    assert status == 200 and (single["queue_position"], single["estimated_wait_s"]) == (2, 2 * orders.DEFAULT_PREP_S)
