"""The bar's settings: open or closed, the message guests see, and the order limits."""

from __future__ import annotations

from typing import Any

from psycopg import Connection

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
