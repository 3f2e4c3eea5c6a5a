"""Tonight's numbers for the admin console: orders per hour, the most-ordered drinks and
the average prep time (from "in_progress", or "pending" when the host skipped it, to
"ready", read from order_status_history).

Two small aggregate queries on the orders tables (reader role). Hours with no orders
are filled in here, so a chart gets a steady 12 bars; cancelled orders are left out
of the top drinks (nobody drank them) but counted per hour (someone asked).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import Connection

from chalicelib.errors import BadRequestError

HOURS = 12
TOP_DRINKS = 5
# How far back `since` may reach: a party's evening, or the week's; not a full scan of history.
MAX_LOOKBACK = timedelta(days=31)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_since(value: str | None, now: datetime) -> datetime:
    """The `since` query parameter: ISO-8601 (a `Z` or an offset; no offset means UTC),
    not in the future, at most MAX_LOOKBACK ago. Missing or empty: the last HOURS hours."""
    if value is None or not value.strip():
        return now - timedelta(hours=HOURS)
    try:
        # A "+01:00" offset arrives as " 01:00" when the client did not encode the "+".
        text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip()).replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequestError("since must be an ISO-8601 time, like 2025-01-01T18:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise BadRequestError("since must not be in the future")
    if now - moment > MAX_LOOKBACK:
        raise BadRequestError(f"since must be within the last {MAX_LOOKBACK.days} days")
    return moment


def hour_buckets(now: datetime, hours: int = HOURS) -> list[datetime]:
    """The starts of the last `hours` whole hours, oldest first, the current hour last."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=n) for n in range(hours - 1, -1, -1)]


def orders_per_hour(conn: Connection[Any], now: datetime, hours: int = HOURS) -> list[dict[str, Any]]:
    buckets = hour_buckets(now, hours)
    rows = conn.execute(
        """SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AS hour, count(*) AS orders
           FROM orders WHERE created_at >= %s AND created_at <= %s
           GROUP BY 1""",
        (buckets[0], now),
    ).fetchall()
    counts = {row["hour"].replace(tzinfo=UTC): int(row["orders"]) for row in rows}
    return [{"hour": _iso(start), "orders": counts.get(start, 0)} for start in buckets]


def top_drinks(conn: Connection[Any], since: datetime, now: datetime, limit: int = TOP_DRINKS) -> list[dict[str, Any]]:
    rows = conn.execute(
        """SELECT i.drink_id, max(i.drink_name) AS name, sum(i.quantity) AS quantity,
                  count(DISTINCT i.order_id) AS orders
           FROM order_items i JOIN orders o ON o.id = i.order_id
           WHERE o.created_at >= %s AND o.created_at <= %s AND o.status <> 'cancelled'
           GROUP BY i.drink_id
           ORDER BY sum(i.quantity) DESC, max(i.drink_name) ASC
           LIMIT %s""",
        (since, now, limit),
    ).fetchall()
    return [
        {"drink_id": str(r["drink_id"]), "name": r["name"], "quantity": int(r["quantity"]), "orders": int(r["orders"])}
        for r in rows
    ]


def prep_time(conn: Connection[Any], since: datetime, now: datetime) -> dict[str, Any]:
    """Average seconds from the start of making (the first "in_progress"; the first "pending"
    when an order went straight to ready) to the first "ready", over the orders that became
    ready in [since, now]; None on a night with none."""
    row = conn.execute(
        """SELECT count(*) AS orders,
                  avg(EXTRACT(EPOCH FROM (r.ready_at - coalesce(
                      (SELECT min(h.changed_at) FROM order_status_history h
                       WHERE h.order_id = r.order_id AND h.status = 'in_progress'),
                      (SELECT min(h.changed_at) FROM order_status_history h
                       WHERE h.order_id = r.order_id AND h.status = 'pending'),
                      r.ready_at)))) AS seconds
           FROM (SELECT order_id, min(changed_at) AS ready_at FROM order_status_history
                 WHERE status = 'ready' AND changed_at >= %s AND changed_at <= %s
                 GROUP BY order_id) AS r""",
        (since, now),
    ).fetchone()
    assert row is not None
    seconds = row["seconds"]
    return {
        "avg_prep_seconds": None if seconds is None else max(0, round(float(seconds))),
        "prep_orders": int(row["orders"]),
    }


def tonight(conn: Connection[Any], since: datetime, now: datetime) -> dict[str, Any]:
    """Everything the Numbers page draws, in one read."""
    total = conn.execute(
        """SELECT count(*) AS orders, coalesce(sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled
           FROM orders WHERE created_at >= %s AND created_at <= %s""",
        (since, now),
    ).fetchone()
    assert total is not None
    return {
        "since": _iso(since),
        "until": _iso(now),
        "total_orders": int(total["orders"]),
        "cancelled_orders": int(total["cancelled"]),
        "orders_per_hour": orders_per_hour(conn, now),
        "top_drinks": top_drinks(conn, since, now),
        **prep_time(conn, since, now),
    }
