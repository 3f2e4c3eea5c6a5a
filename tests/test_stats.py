"""Tonight's numbers (GET /admin/stats): orders per hour and the top drinks.

The domain functions run against the real database with a fixed "now" years in the
past, so only the orders a test inserts fall inside the window; the API test uses the
real clock and checks what its own orders add.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import stats
from chalicelib.errors import BadRequestError

NOW = datetime(2020, 3, 7, 22, 30, tzinfo=UTC)  # a Saturday night, long ago


@pytest.fixture()
def insert_order(admin_conn: Any) -> Iterator[Any]:
    """insert_order(created_at, [(drink_id, name, qty), ...], status=...) -> order id;
    every inserted order (with its items) is deleted afterwards."""
    made: list[uuid.UUID] = []

    def insert(created_at: datetime, items: list[tuple[uuid.UUID, str, int]], status: str = "completed") -> uuid.UUID:
        order_id = uuid.uuid4()
        admin_conn.execute(
            """INSERT INTO orders (id, number, guest_id, guest_name, status, created_at, updated_at)
               VALUES (%s, 1, %s, 'Stats Guest', %s, %s, %s)""",
            (order_id, uuid.uuid4(), status, created_at, created_at),
        )
        for position, (drink_id, name, quantity) in enumerate(items):
            admin_conn.execute(
                """INSERT INTO order_items (order_id, position, drink_id, drink_name, quantity)
                   VALUES (%s, %s, %s, %s, %s)""",
                (order_id, position, drink_id, name, quantity),
            )
        made.append(order_id)
        return order_id

    yield insert
    admin_conn.execute("DELETE FROM order_items WHERE order_id = ANY(%s)", (made,))
    admin_conn.execute("DELETE FROM orders WHERE id = ANY(%s)", (made,))


# ---------------------------------------------------------------- since


def test_since_defaults_to_twelve_hours_ago() -> None:
    assert stats.parse_since(None, NOW) == NOW - timedelta(hours=12)
    assert stats.parse_since("  ", NOW) == NOW - timedelta(hours=12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-07T18:00:00Z", datetime(2020, 3, 7, 18, tzinfo=UTC)),
        ("2020-03-07T19:00:00+01:00", datetime(2020, 3, 7, 18, tzinfo=UTC)),
        ("2020-03-07T19:00:00 01:00", datetime(2020, 3, 7, 18, tzinfo=UTC)),  # an unencoded "+"
        ("2020-03-07T18:00:00", datetime(2020, 3, 7, 18, tzinfo=UTC)),  # no offset: UTC
    ],
)
def test_since_parses_iso_times(text: str, expected: datetime) -> None:
    assert stats.parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2020-13-01T00:00:00Z", "2020-03-08T00:00:00Z", "2019-01-01T00:00:00Z"])
def test_since_refuses_bad_future_and_ancient_times(text: str) -> None:
    with pytest.raises(BadRequestError):
        stats.parse_since(text, NOW)


# ---------------------------------------------------------------- the numbers


def test_hour_buckets_are_the_last_twelve_whole_hours() -> None:
    buckets = stats.hour_buckets(NOW)
    assert len(buckets) == 12
    assert buckets[-1] == datetime(2020, 3, 7, 22, tzinfo=UTC)
    assert buckets[0] == datetime(2020, 3, 7, 11, tzinfo=UTC)


def test_orders_per_hour_and_top_drinks(db: Any, insert_order: Any) -> None:
    negroni, spritz, mojito, soda = (uuid.uuid4() for _ in range(4))
    insert_order(NOW - timedelta(minutes=5), [(negroni, "Negroni", 2), (spritz, "Spritz", 1)])
    insert_order(NOW - timedelta(minutes=50), [(negroni, "Negroni", 1)])  # 21:40: the 21:00 hour
    insert_order(NOW - timedelta(hours=3), [(mojito, "Mojito", 4)], status="ready")
    insert_order(NOW - timedelta(hours=3, minutes=10), [(soda, "Soda", 9)], status="cancelled")
    insert_order(NOW - timedelta(hours=13), [(spritz, "Spritz", 7)])  # before the window
    insert_order(NOW + timedelta(minutes=10), [(spritz, "Spritz", 7)])  # after "now"

    numbers = db.read(stats.tonight, NOW - timedelta(hours=12), NOW)

    per_hour = {row["hour"]: row["orders"] for row in numbers["orders_per_hour"]}
    assert len(per_hour) == 12
    assert per_hour["2020-03-07T22:00:00Z"] == 1
    assert per_hour["2020-03-07T21:00:00Z"] == 1
    assert per_hour["2020-03-07T19:00:00Z"] == 2  # 19:30 and 19:20; the cancelled one counts here
    assert sum(per_hour.values()) == 4
    # Mojito 4, Negroni 3 (two orders), Spritz 1; the cancelled Soda and the orders outside are left out.
    assert [(d["name"], d["quantity"], d["orders"]) for d in numbers["top_drinks"]] == [
        ("Mojito", 4, 1),
        ("Negroni", 3, 2),
        ("Spritz", 1, 1),
    ]
    assert numbers["top_drinks"][0]["drink_id"] == str(mojito)
    assert numbers["total_orders"] == 4
    assert numbers["cancelled_orders"] == 1
    assert numbers["since"] == "2020-03-07T10:30:00Z"
    assert numbers["until"] == "2020-03-07T22:30:00Z"


def test_top_drinks_keeps_five_ties_by_name(db: Any, insert_order: Any) -> None:
    names = ["Gimlet", "Daiquiri", "Bramble", "Fizz", "Collins", "Alexander"]
    insert_order(NOW - timedelta(minutes=1), [(uuid.uuid4(), name, 2) for name in names])
    top = db.read(stats.top_drinks, NOW - timedelta(hours=1), NOW)
    assert [d["name"] for d in top] == ["Alexander", "Bramble", "Collins", "Daiquiri", "Fizz"]


def test_a_quiet_night_is_all_zeros(db: Any) -> None:
    quiet = db.read(stats.orders_per_hour, datetime(2001, 1, 1, 3, tzinfo=UTC))
    assert [row["orders"] for row in quiet] == [0] * 12


# ---------------------------------------------------------------- prep time


@pytest.fixture()
def history(admin_conn: Any) -> Iterator[Any]:
    """history(order_id, status, changed_at): a status change row, deleted afterwards."""
    made: list[uuid.UUID] = []

    def add(order_id: uuid.UUID, status: str, changed_at: datetime) -> None:
        admin_conn.execute(
            "INSERT INTO order_status_history (order_id, status, changed_at) VALUES (%s, %s, %s)",
            (order_id, status, changed_at),
        )
        made.append(order_id)

    yield add
    admin_conn.execute("DELETE FROM order_status_history WHERE order_id = ANY(%s)", (made,))


def test_average_prep_time_runs_from_in_progress_or_pending_to_ready(db: Any, history: Any) -> None:
    made, quick, skipped, waiting, old = (uuid.uuid4() for _ in range(5))
    # Waited 10 min in the queue, then 4 min in the making: 240 s (the queue is not prep).
    history(made, "pending", NOW - timedelta(minutes=30))
    history(made, "in_progress", NOW - timedelta(minutes=20))
    history(made, "ready", NOW - timedelta(minutes=16))
    history(made, "completed", NOW - timedelta(minutes=10))
    # 2 min in the making.
    history(quick, "pending", NOW - timedelta(minutes=9))
    history(quick, "in_progress", NOW - timedelta(minutes=5))
    history(quick, "ready", NOW - timedelta(minutes=3))
    # Straight from pending to ready: 6 min, counted from pending.
    history(skipped, "pending", NOW - timedelta(minutes=8))
    history(skipped, "ready", NOW - timedelta(minutes=2))
    # Not ready yet, and ready long before the window: neither counts.
    history(waiting, "in_progress", NOW - timedelta(minutes=1))
    history(old, "in_progress", NOW - timedelta(hours=14))
    history(old, "ready", NOW - timedelta(hours=13))

    numbers = db.read(stats.prep_time, NOW - timedelta(hours=12), NOW)
    assert numbers == {"avg_prep_seconds": (240 + 120 + 360) // 3, "prep_orders": 3}


def test_no_ready_orders_means_no_prep_time(db: Any) -> None:
    quiet = db.read(stats.prep_time, datetime(2001, 1, 1, 3, tzinfo=UTC) - timedelta(hours=12),
                    datetime(2001, 1, 1, 3, tzinfo=UTC))
    assert quiet == {"avg_prep_seconds": None, "prep_orders": 0}


# ---------------------------------------------------------------- the API


def test_admin_stats_counts_new_orders(client: Any, admin_headers: dict[str, str], insert_order: Any) -> None:
    before = client.http.get("/admin/stats", headers=admin_headers)
    assert before.status_code == 200, before.body
    drink = uuid.uuid4()
    now = datetime.now(UTC)
    insert_order(now - timedelta(seconds=30), [(drink, "Stats Special", 500)])
    insert_order(now - timedelta(seconds=20), [(drink, "Stats Special", 500)])

    answer = client.http.get("/admin/stats", headers=admin_headers)
    assert answer.status_code == 200, answer.body
    numbers = answer.json_body
    assert numbers["top_drinks"][0] == {"drink_id": str(drink), "name": "Stats Special", "quantity": 1000, "orders": 2}
    assert len(numbers["orders_per_hour"]) == 12
    assert numbers["total_orders"] == before.json_body["total_orders"] + 2
    assert "avg_prep_seconds" in numbers and "prep_orders" in numbers
    current_hour = numbers["orders_per_hour"][-1]
    previous = before.json_body["orders_per_hour"][-1]
    if current_hour["hour"] == previous["hour"]:  # the clock did not cross an hour in between
        assert current_hour["orders"] == previous["orders"] + 2


def test_admin_stats_since_narrows_the_top_drinks(
    client: Any, admin_headers: dict[str, str], insert_order: Any
) -> None:
    drink = uuid.uuid4()
    now = datetime.now(UTC)
    insert_order(now - timedelta(hours=2), [(drink, "Early Bird", 900)])
    recent = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    names = [d["name"] for d in client.http.get(f"/admin/stats?since={recent}", headers=admin_headers).json_body[
        "top_drinks"]]
    assert "Early Bird" not in names
    assert client.http.get("/admin/stats", headers=admin_headers).json_body["top_drinks"][0]["name"] == "Early Bird"


@pytest.mark.parametrize("since", ["soon", "2999-01-01T00:00:00Z", "1999-01-01T00:00:00Z"])
def test_admin_stats_refuses_a_bad_since(client: Any, admin_headers: dict[str, str], since: str) -> None:
    answer = client.http.get(f"/admin/stats?since={since}", headers=admin_headers)
    assert answer.status_code == 400
    assert answer.json_body["Code"] == "BadRequestError"


def test_admin_stats_needs_an_admin(client: Any, user_pool: Any) -> None:
    assert client.http.get("/admin/stats").status_code == 401
    guest_like = {"Authorization": f"Bearer {user_pool.token(groups=[])}"}
    assert client.http.get("/admin/stats", headers=guest_like).status_code == 403
