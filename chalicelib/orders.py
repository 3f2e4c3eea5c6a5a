"""Orders: placing them within the bar's limits, showing guests their own, and moving
them through the bar's queue.

Lifecycle: pending -> in_progress -> ready -> completed; pending | in_progress ->
cancelled (by an admin with a reason, or by the guest while still pending). Every
change is recorded in `order_status_history` with its time.

Placement is one write transaction. It first bumps the pickup counter row, which
every placement updates: on PostgreSQL the row lock makes concurrent placements take
turns (each later statement sees the orders committed before it), and on Aurora DSQL
two placements racing on that row conflict at commit (40001) and the loser is retried
whole. Either way the queue and per-guest limits are checked against a count no
concurrent placement can slip past. The price is one placement at a time; at a bar's
pace (a few orders a second at most) that is not a limit (see benchmarks/).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from psycopg import Connection
from psycopg import errors as pg_errors

from chalicelib import bar
from chalicelib.errors import (
    BarClosed,
    ConflictError,
    DrinkUnavailable,
    IdempotencyKeyReused,
    NotFoundError,
    QueueFull,
    TooManyActiveOrders,
)
from chalicelib.menu import AVAILABLE_SQL
from chalicelib.validation import OrderRequest, OrderStatus

# Orders the bar still has to make: what the queue limit counts.
QUEUED = (OrderStatus.PENDING.value, OrderStatus.IN_PROGRESS.value)
# Orders a guest is still waiting for or has yet to pick up: what the per-guest limit counts.
ACTIVE = (*QUEUED, OrderStatus.READY.value)
# Every allowed move; anything else (including staying put) is a 409.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"ready", "cancelled"}),
    "ready": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
# Pickup numbers run 1..999 and wrap: short enough to call out and read on a board.
# The queue limit is at most 500, so two orders waiting at once never share a number.
PICKUP_NUMBER_MAX = 999
PICKUP_COUNTER_ID = "pickup"
MY_ORDERS_LIMIT = 50
ADMIN_LIST_LIMIT = 200


class Runner(Protocol):
    """What `chalicelib.db.Database` offers: a read and a write transaction runner."""

    def read(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...

    def write(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Placement:
    order: dict[str, Any]
    # False when the request replayed an earlier one with the same Idempotency-Key.
    created: bool


@dataclass(frozen=True)
class StatusChange:
    order: dict[str, Any]
    previous_status: str

    def event(self) -> dict[str, Any]:
        """The data of the OrderStatusChanged event."""
        return {**placed_event(self.order), "previous_status": self.previous_status}


def placed_event(order: dict[str, Any]) -> dict[str, Any]:
    """The data of the OrderPlaced event: the keys every order event carries (what the
    realtime relay routes on) and the whole order, so boards need no extra read."""
    return {
        "order_id": order["id"],
        "guest_id": order["guest_id"],
        "number": order["number"],
        "status": order["status"],
        "order": order,
    }


class _AlreadyPlaced(Exception):
    """Raised inside the placement transaction to roll it back: the key was used."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def request_fingerprint(request: OrderRequest) -> str:
    """What makes two requests "the same order", for reused Idempotency-Keys."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------- reading orders

_ORDER_COLUMNS = "id, number, guest_id, guest_name, status, notes, request_hash, created_at, updated_at"


def _with_details(conn: Connection[Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Orders with their items and status history: three queries, whatever the count."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    items: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for item in conn.execute(
        """SELECT order_id, drink_id, drink_name, quantity, notes FROM order_items
           WHERE order_id = ANY(%s) ORDER BY order_id, position""",
        (ids,),
    ).fetchall():
        items.setdefault(item["order_id"], []).append(
            {
                "drink_id": str(item["drink_id"]),
                "name": item["drink_name"],
                "quantity": item["quantity"],
                "notes": item["notes"],
            }
        )
    history: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for change in conn.execute(
        """SELECT order_id, status, reason, changed_at FROM order_status_history
           WHERE order_id = ANY(%s) ORDER BY order_id, changed_at, status""",
        (ids,),
    ).fetchall():
        history.setdefault(change["order_id"], []).append(
            {"status": change["status"], "at": _iso(change["changed_at"]), "reason": change["reason"]}
        )
    return [_order_from_row(row, items.get(row["id"], []), history.get(row["id"], [])) for row in rows]


def _order_from_row(row: dict[str, Any], items: list[dict[str, Any]], history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "number": row["number"],
        "status": row["status"],
        "guest_id": str(row["guest_id"]),
        "guest_name": row["guest_name"],
        "items": items,
        "notes": row["notes"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "history": history,
    }


def list_my_orders(conn: Connection[Any], guest_id: uuid.UUID) -> list[dict[str, Any]]:
    """The guest's latest orders, newest first."""
    rows = conn.execute(
        f"""SELECT {_ORDER_COLUMNS} FROM orders WHERE guest_id = %s
            ORDER BY created_at DESC, number DESC LIMIT %s""",
        (guest_id, MY_ORDERS_LIMIT),
    ).fetchall()
    return _with_details(conn, rows)


def get_my_order(conn: Connection[Any], guest_id: uuid.UUID, order_id: uuid.UUID) -> dict[str, Any]:
    """One of the guest's own orders. Anyone else's is "not found", never "forbidden":
    a guest cannot even learn that an order id exists."""
    rows = conn.execute(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = %s AND guest_id = %s", (order_id, guest_id)
    ).fetchall()
    if not rows:
        raise NotFoundError("no such order")
    return _with_details(conn, rows)[0]


def list_orders(conn: Connection[Any], status: OrderStatus | None) -> list[dict[str, Any]]:
    """The admin's view: one status, or every order still in play (pending, in progress,
    ready). Orders in play come oldest first (the order they are made in); finished
    ones newest first."""
    statuses = [status.value] if status is not None else list(ACTIVE)
    newest_first = status is not None and status.value not in ACTIVE
    rows = conn.execute(
        f"""SELECT {_ORDER_COLUMNS} FROM orders WHERE status = ANY(%s)
            ORDER BY created_at {"DESC" if newest_first else "ASC"} LIMIT %s""",
        (statuses, ADMIN_LIST_LIMIT),
    ).fetchall()
    return _with_details(conn, rows)


def get_order(conn: Connection[Any], order_id: uuid.UUID) -> dict[str, Any]:
    rows = conn.execute(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = %s", (order_id,)).fetchall()
    if not rows:
        raise NotFoundError("no such order")
    return _with_details(conn, rows)[0]


def _order_by_key(conn: Connection[Any], guest_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    rows = conn.execute(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE guest_id = %s AND idempotency_key = %s", (guest_id, key)
    ).fetchall()
    if not rows:
        return None
    order = _with_details(conn, rows)[0]
    order["_request_hash"] = rows[0]["request_hash"]
    return order


# ---------------------------------------------------------------- placing an order


def place_order(
    db: Runner,
    guest_id: uuid.UUID,
    guest_name: str,
    request: OrderRequest,
    idempotency_key: str | None = None,
) -> Placement:
    """Place an order, or return the one already placed with this Idempotency-Key.

    A retry with the same key (sequential or in parallel) never makes a second order:
    the transaction looks for the key first, and the unique index on
    (guest_id, idempotency_key) settles any race the lookup cannot see.
    """
    fingerprint = request_fingerprint(request)
    try:
        order = db.write(_place, guest_id, guest_name, request, idempotency_key, fingerprint)
        return Placement(order, created=True)
    except (_AlreadyPlaced, pg_errors.UniqueViolation):
        if idempotency_key is None:
            raise
    existing = db.read(_order_by_key, guest_id, idempotency_key)
    if existing is None:  # pragma: no cover - the key was just seen committed
        raise ConflictError("the order with this Idempotency-Key could not be read; retry")
    if existing.pop("_request_hash") != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different order")
    return Placement(existing, created=False)


def _place(
    conn: Connection[Any],
    guest_id: uuid.UUID,
    guest_name: str,
    request: OrderRequest,
    idempotency_key: str | None,
    fingerprint: str,
) -> dict[str, Any]:
    if idempotency_key is not None and _key_used(conn, guest_id, idempotency_key):
        raise _AlreadyPlaced
    # Checked before taking our turn, so the turn is short; reported after the bar's
    # own refusals (a closed bar matters more than a missing lime).
    names, unavailable = _orderable_drinks(conn, [item.drink_id for item in request.items])

    # Take our turn (see the module docstring): all that follows sees every order
    # committed before ours, and everything it needs comes back in one round trip.
    number = _next_pickup_number(conn)
    state = conn.execute(
        """SELECT b.is_open, b.message, b.max_queue, b.max_active_per_guest,
                  (SELECT count(*) FROM orders WHERE status = ANY(%(queued)s)) AS queued,
                  (SELECT count(*) FROM orders
                    WHERE guest_id = %(guest_id)s AND status = ANY(%(active)s)) AS mine,
                  (SELECT name FROM guests WHERE id = %(guest_id)s) AS guest_name,
                  EXISTS (SELECT 1 FROM orders
                          WHERE guest_id = %(guest_id)s AND idempotency_key = %(key)s) AS key_used
           FROM (SELECT 1) AS one LEFT JOIN bar_settings b ON b.id = %(bar_id)s""",
        {
            "queued": list(QUEUED),
            "active": list(ACTIVE),
            "guest_id": guest_id,
            "key": idempotency_key,
            "bar_id": bar.BAR_ID,
        },
    ).fetchone()
    if state["key_used"]:
        # A parallel retry committed while we waited: roll back our number, return its order.
        raise _AlreadyPlaced
    settings = {k: bar.DEFAULTS[k] if state[k] is None else state[k] for k in bar.DEFAULTS}
    if not settings["is_open"]:
        raise BarClosed(settings["message"] or "the bar is closed")
    if state["queued"] >= settings["max_queue"]:
        raise QueueFull("the bar's queue is full; try again in a few minutes")
    if state["mine"] >= settings["max_active_per_guest"]:
        raise TooManyActiveOrders(
            f"you have {state['mine']} orders on the go (at most {settings['max_active_per_guest']}); "
            "pick one up first"
        )
    if unavailable:
        raise DrinkUnavailable(unavailable)
    # The guest's registered name wins over the token's copy; admins have no guest row.
    guest_name = state["guest_name"] or guest_name

    row = conn.execute(
        """INSERT INTO orders (number, guest_id, guest_name, status, notes, idempotency_key, request_hash)
           VALUES (%s, %s, %s, 'pending', %s, %s, %s)
           RETURNING id, number, guest_id, guest_name, status, notes, created_at, updated_at""",
        (number, guest_id, guest_name, request.notes, idempotency_key, fingerprint),
    ).fetchone()
    order_id = row["id"]
    values = []
    params: list[Any] = []
    for position, item in enumerate(request.items):
        values.append("(%s, %s, %s, %s, %s, %s)")
        params += [order_id, position, item.drink_id, names[item.drink_id], item.quantity, item.notes]
    conn.execute(
        "INSERT INTO order_items (order_id, position, drink_id, drink_name, quantity, notes) VALUES "
        + ", ".join(values),
        params,
    )
    conn.execute(
        """INSERT INTO order_status_history (order_id, status, changed_by, changed_at)
           VALUES (%s, 'pending', %s, %s)""",
        (order_id, str(guest_id), row["created_at"]),
    )
    items = [
        {"drink_id": str(item.drink_id), "name": names[item.drink_id], "quantity": item.quantity, "notes": item.notes}
        for item in request.items
    ]
    history = [{"status": "pending", "at": _iso(row["created_at"]), "reason": ""}]
    return _order_from_row(row, items, history)


def _key_used(conn: Connection[Any], guest_id: uuid.UUID, key: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM orders WHERE guest_id = %s AND idempotency_key = %s", (guest_id, key)
        ).fetchone()
        is not None
    )


def _next_pickup_number(conn: Connection[Any]) -> int:
    row = conn.execute(
        "UPDATE order_counters SET value = value %% %s + 1 WHERE id = %s RETURNING value",
        (PICKUP_NUMBER_MAX, PICKUP_COUNTER_ID),
    ).fetchone()
    if row is None:
        # The migration seeds the row; should it be missing, start again at 1 (a
        # concurrent insert conflicts on the primary key and the transaction is retried).
        conn.execute("INSERT INTO order_counters (id, value) VALUES (%s, 1)", (PICKUP_COUNTER_ID,))
        return 1
    return int(row["value"])


def _orderable_drinks(conn: Connection[Any], drink_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, str], str]:
    """Every drink must exist, be on the menu and have its ingredients in stock.
    Returns drink id -> name (the snapshot the order keeps), and why the first drink
    that is not orderable is not ("" when all are)."""
    rows = conn.execute(
        f"""SELECT d.id, d.name, d.archived_at IS NULL AND s.archived_at IS NULL AS on_menu,
                   {AVAILABLE_SQL} AS available
            FROM drinks d LEFT JOIN sections s ON s.id = d.section_id
            WHERE d.id = ANY(%s)""",
        (list(set(drink_ids)),),
    ).fetchall()
    found = {row["id"]: row for row in rows}
    for drink_id in drink_ids:
        row = found.get(drink_id)
        if row is None or not row["on_menu"]:
            return {}, f"drink {drink_id} is not on the menu"
        if not row["available"]:
            return {}, f"{row['name']} is not available right now"
    return {drink_id: row["name"] for drink_id, row in found.items()}, ""


# ---------------------------------------------------------------- moving an order


def cancel_my_order(conn: Connection[Any], guest_id: uuid.UUID, order_id: uuid.UUID) -> StatusChange:
    """A guest may take back an order the bar has not started on."""
    return _change_status(
        conn,
        order_id,
        OrderStatus.CANCELLED.value,
        reason="cancelled by the guest",
        changed_by=str(guest_id),
        allowed_from=frozenset({OrderStatus.PENDING.value}),
        guest_id=guest_id,
    )


def transition(
    conn: Connection[Any], order_id: uuid.UUID, status: OrderStatus, reason: str, changed_by: str
) -> StatusChange:
    """An admin moves an order along (see TRANSITIONS); any other move is a 409."""
    allowed_from = frozenset(old for old, targets in TRANSITIONS.items() if status.value in targets)
    return _change_status(conn, order_id, status.value, reason, changed_by, allowed_from)


def _change_status(
    conn: Connection[Any],
    order_id: uuid.UUID,
    status: str,
    reason: str,
    changed_by: str,
    allowed_from: frozenset[str],
    guest_id: uuid.UUID | None = None,
) -> StatusChange:
    current = conn.execute("SELECT status, guest_id FROM orders WHERE id = %s", (order_id,)).fetchone()
    if current is None or (guest_id is not None and current["guest_id"] != guest_id):
        raise NotFoundError("no such order")
    previous = current["status"]
    if previous not in allowed_from:
        raise ConflictError(_refusal(previous, status, guest_id is not None))
    # Conditional on the status we checked: a concurrent move makes this match nothing
    # (PostgreSQL) or conflict at commit and be retried (DSQL), never apply twice.
    updated = conn.execute(
        """UPDATE orders SET status = %s, updated_at = now()
           WHERE id = %s AND status = %s RETURNING updated_at""",
        (status, order_id, previous),
    ).fetchone()
    if updated is None:
        raise ConflictError("the order changed meanwhile; reload it and try again")
    conn.execute(
        """INSERT INTO order_status_history (order_id, status, reason, changed_by, changed_at)
           VALUES (%s, %s, %s, %s, %s)""",
        (order_id, status, reason, changed_by, updated["updated_at"]),
    )
    return StatusChange(get_order(conn, order_id), previous)


def _refusal(previous: str, status: str, by_guest: bool) -> str:
    if by_guest:
        return f"the order is {previous.replace('_', ' ')}; only a pending order can be cancelled"
    if previous == status:
        return f"the order is already {status.replace('_', ' ')}"
    allowed = sorted(TRANSITIONS[previous])
    if not allowed:
        return f"the order is {previous} and can no longer change"
    return f"an order that is {previous.replace('_', ' ')} can move to {' or '.join(allowed)}, not {status}"
