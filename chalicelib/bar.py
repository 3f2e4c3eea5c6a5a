"""The bar's settings: open or closed, the message guests see, and the order limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg import Connection

from chalicelib.uow import Tx

if TYPE_CHECKING:  # request models: built on first use, not with every cold start
    from chalicelib.validation import BarSettingsUpdate

BAR_ID = "bar"
DEFAULTS: dict[str, Any] = {"is_open": True, "message": "", "max_queue": 30, "max_active_per_guest": 3}


def get_settings(conn: Connection[Any]) -> dict[str, Any]:
    row = conn.execute(
        "SELECT is_open, message, max_queue, max_active_per_guest FROM bar_settings WHERE id = %s",
        (BAR_ID,),
    ).fetchone()
    return dict(row) if row else dict(DEFAULTS)


def public_status(settings: dict[str, Any]) -> dict[str, Any]:
    """What guests may see: open or closed, and the host's message."""
    return {"is_open": settings["is_open"], "message": settings["message"]}


def changed_event(settings: dict[str, Any]) -> dict[str, Any]:
    """The data of BarChanged (published after the commit): only the public status,
    since the realtime relay puts it on the public menu channel."""
    return public_status(settings)


def update_settings(tx: Tx, changes: BarSettingsUpdate) -> dict[str, Any]:
    """Apply the fields given (validated at the edge) and return the settings now in force.

    Runs in the writer's transaction: order placement reads this row in its own
    transaction, so a limit changes for the next order, never halfway through one.
    GET /bar is cached: guests must see open/closed now; open guest pages follow the
    BarChanged event.
    """
    conn = tx.conn
    current = get_settings(conn)
    new = {**current, **changes.model_dump(exclude_none=True)}
    row = conn.execute(
        """INSERT INTO bar_settings (id, is_open, message, max_queue, max_active_per_guest, updated_at)
           VALUES (%(id)s, %(is_open)s, %(message)s, %(max_queue)s, %(max_active_per_guest)s, now())
           ON CONFLICT (id) DO UPDATE SET is_open = EXCLUDED.is_open, message = EXCLUDED.message,
               max_queue = EXCLUDED.max_queue, max_active_per_guest = EXCLUDED.max_active_per_guest,
               updated_at = EXCLUDED.updated_at
           RETURNING is_open, message, max_queue, max_active_per_guest""",
        {"id": BAR_ID, **new},
    ).fetchone()
    updated = dict(row)
    tx.stale("bar")
    if changes.is_open is not None or changes.message is not None:
        tx.record("BarChanged", changed_event(updated))
    return updated
