"""An order's life: its statuses, and the moves between them (domain vocabulary, used by
chalicelib/orders.py and by the request models that name a status)."""

from __future__ import annotations

import enum


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


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
