"""Orders: placing them within the bar's limits, showing guests their own, and moving
them through the bar's queue.

Lifecycle: pending -> in_progress -> ready -> completed; pending | in_progress ->
cancelled (by an admin with a reason, or by the guest while still pending). Every
change is recorded in `order_status_history` with its time.

Placement is one write transaction in one round trip (BEGIN, four statements, COMMIT,
one Sync; chalicelib/db.py `write_in_one_trip`) and has no global hot row: each
placement claims one free queue slot (1..max_queue: the queue limit), one free pickup
number (1..999) and its own guest's row (the per-guest limit), all in `order_slots`.
Different guests' placements write different rows, so on Aurora DSQL they do not
conflict at commit unless two pick the same free slot or number (the pick starts at a
random place, so that is rare); then, as for two placements of one guest, the loser is
retried whole (40001). Whether a slot or number is free is read from the status of the
order holding it, so moving an order never touches these rows. See docs/orders.md for why the limits stay exact.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
from chalicelib.order_status import ACTIVE, QUEUED, TRANSITIONS, OrderStatus
from chalicelib.uow import Tx, UnitOfWork

if TYPE_CHECKING:  # request models: built on first use, not with every cold start
    from chalicelib.validation import OrderRequest

# Pickup numbers run 1..999: short enough to call out and read on a board. A number is
# held from placement until the order is picked up or cancelled, so two orders waiting
# at the same time (pending, in progress or ready) never share one.
PICKUP_NUMBER_MAX = 999
# Queue slots 1..QUEUE_SLOTS exist (sql/migrations/0007): the largest max_queue allowed.
# A guest's row in order_slots is kind 'guest:<guest id>', n 0 (sql/migrations/0013).
QUEUE_SLOTS = 500
# Slot 0 is never held; placements write it only while orders hold slots beyond the
# current max_queue (see _place), which serializes them until the queue is back in range.
SERIAL_SLOT = 0
# A refused placement is placed again when, read afterwards, nothing refuses it (the bar
# changed in between): at most this many times.
PLACEMENT_ATTEMPTS = 3
# Where a placement starts looking for a free slot and number (tests pin it).
_pick = random.Random()
MY_ORDERS_LIMIT = 50
ADMIN_LIST_LIMIT = 200


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


# ---------------------------------------------------------------- where a guest's order is in the queue
# Guest orders carry `queue_position` (1 = made next) and `estimated_wait_s` while
# pending or in progress, null otherwise (docs/orders.md "Queue position and wait").

# Per-order time when tonight has no finished orders yet.
DEFAULT_PREP_S = 180
# How many of tonight's latest ready orders the per-order time is the median of.
PREP_SAMPLE = 10
# "Tonight": orders that became ready within this many hours.
PREP_WINDOW_HOURS = 12

_QUEUE_SQL = f"""SELECT o.id,
       (SELECT count(*) FROM orders q WHERE q.status IN {{queued}}
           AND (q.created_at < o.created_at OR (q.created_at = o.created_at AND q.id <= o.id))) AS position,
       (SELECT array_agg(r.seconds) FROM (
            SELECT EXTRACT(EPOCH FROM (h.changed_at - p.created_at))::float8 AS seconds
            FROM order_status_history h JOIN orders p ON p.id = h.order_id
            WHERE h.status = 'ready' AND h.changed_at > now() - interval '{PREP_WINDOW_HOURS} hours'
            ORDER BY h.changed_at DESC LIMIT {PREP_SAMPLE}) AS r) AS recent
FROM orders o WHERE o.id = ANY(%s) AND o.status IN {{queued}}"""


def prep_seconds(recent: list[float] | None) -> float:
    """The per-order time: the median of recent pending -> ready times, or the default."""
    samples = sorted(s for s in (recent or []) if s is not None and s >= 0)
    if not samples:
        return float(DEFAULT_PREP_S)
    middle = len(samples) // 2
    return samples[middle] if len(samples) % 2 else (samples[middle - 1] + samples[middle]) / 2


def _with_queue(conn: Connection[Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add queue_position and estimated_wait_s to a guest's orders: one query, and none
    when no order of theirs is waiting."""
    waiting = [uuid.UUID(o["id"]) for o in found if o["status"] in QUEUED]
    places: dict[str, int] = {}
    per_order = float(DEFAULT_PREP_S)
    if waiting:
        rows = conn.execute(_QUEUE_SQL.replace("{queued}", _sql_list(QUEUED)), (waiting,)).fetchall()
        for row in rows:
            places[str(row["id"])] = int(row["position"])
            per_order = prep_seconds(row["recent"])
    for order in found:
        position = places.get(order["id"])
        order["queue_position"] = position
        order["estimated_wait_s"] = None if position is None else round(position * per_order)
    return found


def list_my_orders(conn: Connection[Any], guest_id: uuid.UUID) -> list[dict[str, Any]]:
    """The guest's latest orders, newest first, with their place in the queue."""
    rows = conn.execute(
        f"""SELECT {_ORDER_COLUMNS} FROM orders WHERE guest_id = %s
            ORDER BY created_at DESC, number DESC LIMIT %s""",
        (guest_id, MY_ORDERS_LIMIT),
    ).fetchall()
    return _with_queue(conn, _with_details(conn, rows))


def get_my_order(conn: Connection[Any], guest_id: uuid.UUID, order_id: uuid.UUID) -> dict[str, Any]:
    """One of the guest's own orders. Anyone else's is "not found", never "forbidden":
    a guest cannot even learn that an order id exists."""
    rows = conn.execute(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = %s AND guest_id = %s", (order_id, guest_id)
    ).fetchall()
    if not rows:
        raise NotFoundError("no such order")
    return _with_queue(conn, _with_details(conn, rows))[0]


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
    uow: UnitOfWork,
    guest_id: uuid.UUID,
    guest_name: str,
    request: OrderRequest,
    idempotency_key: str | None = None,
) -> Placement:
    """Place an order, or return the one already placed with this Idempotency-Key.

    The placement is one write transaction in one round trip (`_send_placement`). A
    refused one writes nothing; only then does a read find out why (`_why_refused`), so
    the refusals cost a second round trip and a new order does not.

    A retry with the same key (sequential or in parallel) never makes a second order:
    the insert happens only while the key is unused, and the unique index on
    (guest_id, idempotency_key) settles any race the check cannot see.
    """
    fingerprint = request_fingerprint(request)
    for _ in range(PLACEMENT_ATTEMPTS):
        try:
            order = uow.write_in_one_trip(_send_placement, guest_id, guest_name, request, idempotency_key, fingerprint)
        except pg_errors.UniqueViolation:
            if idempotency_key is None:
                raise
            existing = uow.read(_order_by_key, guest_id, idempotency_key)
        else:
            if order is not None:
                return Placement(order, created=True)
            existing = uow.read(_why_refused, guest_id, request, idempotency_key)  # raises the refusal
            if existing is None:
                continue  # nothing refuses it any more (the bar changed meanwhile): again
        if existing is None:  # pragma: no cover - the key was just seen committed
            raise ConflictError("the order with this Idempotency-Key could not be read; retry")
        if existing.pop("_request_hash") != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different order")
        return Placement(existing, created=False)
    raise ConflictError("the bar changed while the order was placed; try again")


def _sql_list(values: tuple[str, ...]) -> str:
    """Our own status constants as an SQL list (literals plan better than array parameters)."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


_KEY_FREE = """NOT EXISTS (SELECT 1 FROM orders k
                  WHERE k.guest_id = %(guest_id)s AND k.idempotency_key = %(key)s::text)"""
_MAX_QUEUE = "(SELECT COALESCE((SELECT max_queue FROM bar_settings WHERE id = %(bar_id)s), %(default_queue)s))"
# The order this placement inserted (its other statements write only if it exists).
_PLACED = "EXISTS (SELECT 1 FROM orders p WHERE p.id = %(order_id)s)"
# Queued orders holding no slot within max_queue (it was lowered, or they predate the slots).
# Two short ranges of orders_status_slot_idx (sql/migrations/0012), not a scan of orders.
_OUTSIDE = f"""(EXISTS (SELECT 1 FROM orders q WHERE q.status IN {_sql_list(QUEUED)} AND q.queue_slot IS NULL)
    OR EXISTS (SELECT 1 FROM orders q WHERE q.status IN {_sql_list(QUEUED)} AND q.queue_slot > {_MAX_QUEUE}))"""


def _first_free(kind: str, start: str, last: str, statuses: tuple[str, ...]) -> str:
    """SQL: the first free row of `kind` at or after `start` (up to `last`), wrapping
    round to 1: a short walk along the primary key. Free means never held, or held by
    an order whose status is no longer in `statuses`. Two placements collide only if
    they land on the same free row, and they start at random places."""
    # A scalar subquery, so each row walked costs one primary-key lookup (an EXISTS here
    # would be planned as a hash over every order in play).
    free = f"""(s.order_id IS NULL OR COALESCE(
        (SELECT o.status FROM orders o WHERE o.id = s.order_id), 'gone') NOT IN {_sql_list(statuses)})"""
    return f"""(SELECT pick.n FROM (
        (SELECT s.n FROM order_slots s
          WHERE s.kind = '{kind}' AND s.n >= {start} AND s.n <= {last} AND {free} ORDER BY s.n LIMIT 1)
        UNION ALL
        (SELECT s.n FROM order_slots s
          WHERE s.kind = '{kind}' AND s.n >= 1 AND s.n < {start} AND {free} ORDER BY s.n LIMIT 1)
    ) AS pick LIMIT 1)"""


# The order, inserted only when every rule lets it in: the bar is open, the queue and
# the guest's active orders are below their limits, every drink is orderable, the key
# is unused, and a free pickup number and queue slot were found (picked on the way in).
# The drinks are listed one parameter each (`{drinks}`: %(drink_0)s, ...), not as an
# array, so PostgreSQL keeps one generic plan per count.
_INSERT_ORDER_SQL = f"""INSERT INTO orders
    (id, number, queue_slot, guest_id, guest_name, status, notes, idempotency_key, request_hash)
SELECT %(order_id)s, c.number, c.slot, %(guest_id)s,
       COALESCE(NULLIF((SELECT name FROM guests WHERE id = %(guest_id)s), ''), %(guest_name)s::text),
       'pending', %(notes)s::text, %(key)s::text, %(request_hash)s::text
FROM (SELECT COALESCE(b.is_open, %(default_open)s) AS is_open,
             COALESCE(b.max_queue, %(default_queue)s) AS max_queue,
             COALESCE(b.max_active_per_guest, %(default_per_guest)s) AS max_mine
      FROM (SELECT 1) AS one LEFT JOIN bar_settings b ON b.id = %(bar_id)s) AS bar
CROSS JOIN LATERAL (
    SELECT {_first_free("pickup", "%(number_start)s", str(PICKUP_NUMBER_MAX), ACTIVE)} AS number,
           {
    _first_free(
        "queue", f"(1 + floor(%(slot_start)s * LEAST(bar.max_queue, {QUEUE_SLOTS}))::int)", "bar.max_queue", QUEUED
    )
} AS slot
    OFFSET 0) AS c  -- evaluated once: OFFSET 0 keeps the planner from inlining the picks
WHERE bar.is_open
  AND (NOT {_OUTSIDE} OR (SELECT count(*) FROM orders q WHERE q.status IN {_sql_list(QUEUED)}) < bar.max_queue)
  AND (SELECT count(*) FILTER (WHERE m.status IN {_sql_list(ACTIVE)}) FROM orders m
        WHERE m.guest_id = %(guest_id)s) < bar.max_mine  -- found by guest (few), not by status (many)
  AND (SELECT count(*) FROM drinks d LEFT JOIN sections s ON s.id = d.section_id
        WHERE d.id IN ({{drinks}}) AND d.archived_at IS NULL AND s.archived_at IS NULL
          AND {{available}}) = %(drink_count)s
  AND {_KEY_FREE}
  AND c.number IS NOT NULL AND c.slot IS NOT NULL
RETURNING number, guest_name, created_at, updated_at"""

# Claim what the order holds, in one statement: its queue slot and its pickup number
# (this write is what makes two placements that picked the same row conflict) and its
# guest's row (kind 'guest:<id>', made by the guest's first placement: two placements
# of one guest conflict there, so the per-guest limit is counted exactly). While orders
# hold slots beyond max_queue the slots alone no longer bound the queue (the count
# does): the placement also writes queue slot 0 (never held), so placements in that
# state conflict there and each counts after the other.
_CLAIM_SQL = f"""INSERT INTO order_slots (kind, n, order_id)
SELECT c.kind, c.n, c.holder FROM orders o
CROSS JOIN LATERAL (VALUES ('queue', o.queue_slot, o.id), ('pickup', o.number, o.id),
                           ('guest:' || o.guest_id::text, 0, o.id)) AS c(kind, n, holder)
WHERE o.id = %(order_id)s
UNION ALL
SELECT 'queue', {SERIAL_SLOT}, NULL WHERE {_PLACED} AND {_OUTSIDE}
ON CONFLICT (kind, n) DO UPDATE SET order_id = EXCLUDED.order_id"""

_HISTORY_SQL = f"""INSERT INTO order_status_history (order_id, status, changed_by, changed_at)
SELECT %(order_id)s, 'pending', %(changed_by)s::text, now() WHERE {_PLACED}"""


@functools.cache
def _with_drinks(sql: str, drink_count: int) -> str:
    # The menu's definition of "available"; imported here, not with this module, so a
    # cold start that never places an order does not load the menu code.
    from chalicelib.menu import AVAILABLE_SQL

    drinks = ", ".join(f"%(drink_{i})s" for i in range(drink_count))
    return sql.replace("{drinks}", drinks).replace("{available}", AVAILABLE_SQL)


@functools.cache
def _items_sql(item_count: int) -> str:
    values = ", ".join(
        f"({i}, %(item_{i}_drink)s::uuid, %(item_{i}_quantity)s::int, %(item_{i}_notes)s::text)"
        for i in range(item_count)
    )
    return f"""INSERT INTO order_items (order_id, position, drink_id, drink_name, quantity, notes)
SELECT %(order_id)s, v.position, v.drink_id, d.name, v.quantity, v.notes
FROM (VALUES {values}) AS v(position, drink_id, quantity, notes) JOIN drinks d ON d.id = v.drink_id
WHERE {_PLACED}
RETURNING position, drink_name"""


def _placement_params(guest_id: uuid.UUID, request: OrderRequest, idempotency_key: str | None) -> dict[str, Any]:
    drink_ids = sorted({item.drink_id for item in request.items})
    params: dict[str, Any] = {
        "guest_id": guest_id,
        "key": idempotency_key,
        "bar_id": bar.BAR_ID,
        "default_open": bar.DEFAULTS["is_open"],
        "default_queue": bar.DEFAULTS["max_queue"],
        "default_per_guest": bar.DEFAULTS["max_active_per_guest"],
        "drink_count": len(drink_ids),
    }
    params.update({f"drink_{i}": drink_id for i, drink_id in enumerate(drink_ids)})
    return params


def _send_placement(
    tx: Tx,
    guest_id: uuid.UUID,
    guest_name: str,
    request: OrderRequest,
    idempotency_key: str | None,
    fingerprint: str,
) -> Callable[[], dict[str, Any] | None]:
    """Queue the placement's statements (no result is read in between): insert the order
    if every rule lets it in, then, only if it was inserted, claim its queue slot, its
    pickup number and its guest's row, and insert its items and its first history row.
    Returns what reads the answers once committed: the order, or None when it was
    refused (then nothing at all was written)."""
    order_id = uuid.uuid4()
    params = _placement_params(guest_id, request, idempotency_key)
    params.update(
        order_id=order_id,
        guest_name=guest_name,
        request_hash=fingerprint,
        notes=request.notes,
        changed_by=str(guest_id),
        slot_start=_pick.random(),
        number_start=_pick.randint(1, PICKUP_NUMBER_MAX),
    )
    for i, item in enumerate(request.items):
        params.update({f"item_{i}_drink": item.drink_id, f"item_{i}_quantity": item.quantity})
        params[f"item_{i}_notes"] = item.notes
    batch = tx.batch
    order_cur = batch.execute(_with_drinks(_INSERT_ORDER_SQL, params["drink_count"]), params)
    batch.execute(_CLAIM_SQL, params)
    items_cur = batch.execute(_items_sql(len(request.items)), params)
    batch.execute(_HISTORY_SQL, params)

    def finish() -> dict[str, Any] | None:
        row = order_cur.fetchone()
        if row is None:
            return None
        names = {item["position"]: item["drink_name"] for item in items_cur.fetchall()}
        items = [
            {"drink_id": str(item.drink_id), "name": names[position], "quantity": item.quantity, "notes": item.notes}
            for position, item in enumerate(request.items)
        ]
        history = [{"status": "pending", "at": _iso(row["created_at"]), "reason": ""}]
        order = _order_from_row(
            {**row, "id": order_id, "guest_id": guest_id, "status": "pending", "notes": request.notes}, items, history
        )
        tx.record("OrderPlaced", placed_event(order))
        return order

    return finish


# Why a placement was refused: the bar's state, the guest's count, the key, the drinks
# and whether a pickup number is free, in one row (read only after a refusal).
_STATE_SQL = f"""SELECT b.is_open, b.message, b.max_queue, b.max_active_per_guest,
       (SELECT count(*) FROM orders o WHERE o.status IN {_sql_list(QUEUED)}) AS queued,
       (SELECT count(*) FROM orders
         WHERE guest_id = %(guest_id)s AND status IN {_sql_list(ACTIVE)}) AS mine,
       NOT {_KEY_FREE} AS key_used,
       {_first_free("pickup", "1", str(PICKUP_NUMBER_MAX), ACTIVE)} IS NOT NULL AS number_free,
       d.ids, d.names, d.on_menu, d.available
FROM (SELECT 1) AS one LEFT JOIN bar_settings b ON b.id = %(bar_id)s
CROSS JOIN LATERAL (
    SELECT array_agg(d.id) AS ids, array_agg(d.name) AS names,
           array_agg(d.archived_at IS NULL AND s.archived_at IS NULL) AS on_menu,
           array_agg({{available}}) AS available
    FROM drinks d LEFT JOIN sections s ON s.id = d.section_id
    WHERE d.id IN ({{drinks}})) AS d"""


def _why_refused(
    conn: Connection[Any], guest_id: uuid.UUID, request: OrderRequest, idempotency_key: str | None
) -> dict[str, Any] | None:
    """After a refused placement: raise what refuses it, checked in the documented order
    (docs/orders.md), or return the order the key already placed (a replay), or None
    when nothing refuses it any more."""
    params = _placement_params(guest_id, request, idempotency_key)
    state = conn.execute(_with_drinks(_STATE_SQL, params["drink_count"]), params).fetchone()
    if state["key_used"] and idempotency_key is not None:
        return _order_by_key(conn, guest_id, idempotency_key)
    settings = {k: bar.DEFAULTS[k] if state[k] is None else state[k] for k in bar.DEFAULTS}
    if not settings["is_open"]:
        raise BarClosed(settings["message"] or "the bar is closed")
    if state["queued"] >= settings["max_queue"]:
        raise QueueFull("the bar's queue is full; try again in a few minutes")
    if state["mine"] >= settings["max_active_per_guest"]:
        raise TooManyActiveOrders(
            f"you have {state['mine']} orders on the go (at most {settings['max_active_per_guest']}); pick one up first"
        )
    unavailable = _unavailable(state, [item.drink_id for item in request.items])
    if unavailable:
        raise DrinkUnavailable(unavailable)
    if not state["number_free"]:
        raise QueueFull("every pickup number is taken by an order waiting to be picked up; try again soon")
    return None


def _unavailable(state: dict[str, Any], drink_ids: list[uuid.UUID]) -> str:
    """Every drink must exist, be on the menu and have its ingredients in stock: why the
    first drink that is not orderable is not ("" when all are)."""
    found = {
        drink_id: (name, on_menu, available)
        for drink_id, name, on_menu, available in zip(
            state["ids"] or [], state["names"] or [], state["on_menu"] or [], state["available"] or [], strict=True
        )
    }
    for drink_id in drink_ids:
        if drink_id not in found or not found[drink_id][1]:
            return f"drink {drink_id} is not on the menu"
        if not found[drink_id][2]:
            return f"{found[drink_id][0]} is not available right now"
    return ""


# ---------------------------------------------------------------- moving an order


def cancel_my_order(tx: Tx, guest_id: uuid.UUID, order_id: uuid.UUID) -> StatusChange:
    """A guest may take back an order the bar has not started on."""
    return _change_status(
        tx,
        order_id,
        OrderStatus.CANCELLED.value,
        reason="cancelled by the guest",
        changed_by=str(guest_id),
        allowed_from=frozenset({OrderStatus.PENDING.value}),
        guest_id=guest_id,
    )


def transition(tx: Tx, order_id: uuid.UUID, status: OrderStatus, reason: str, changed_by: str) -> StatusChange:
    """An admin moves an order along (see TRANSITIONS); any other move is a 409."""
    allowed_from = frozenset(old for old, targets in TRANSITIONS.items() if status.value in targets)
    return _change_status(tx, order_id, status.value, reason, changed_by, allowed_from)


def _change_status(
    tx: Tx,
    order_id: uuid.UUID,
    status: str,
    reason: str,
    changed_by: str,
    allowed_from: frozenset[str],
    guest_id: uuid.UUID | None = None,
) -> StatusChange:
    """Move the order and record OrderStatusChanged (the guest's page and the board follow)."""
    conn = tx.conn
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
    change = StatusChange(get_order(conn, order_id), previous)
    tx.record("OrderStatusChanged", change.event())
    return change


def _refusal(previous: str, status: str, by_guest: bool) -> str:
    if by_guest:
        return f"the order is {previous.replace('_', ' ')}; only a pending order can be cancelled"
    if previous == status:
        return f"the order is already {status.replace('_', ' ')}"
    allowed = sorted(TRANSITIONS[previous])
    if not allowed:
        return f"the order is {previous} and can no longer change"
    return f"an order that is {previous.replace('_', ' ')} can move to {' or '.join(allowed)}, not {status}"
