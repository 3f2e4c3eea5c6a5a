"""A database of a test module's own in the embedded cluster: migrated, seeded, set as
the app's DATABASE_URL while it lives, dropped afterwards (the session's database stays
as the other tests left it)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg


@contextlib.contextmanager
def own_database(pg_cluster: str, prefix: str) -> Iterator[str]:
    from chalicelib.config import settings
    from chalicelib.db import database, reset_database
    from local.pg import drop_database, ensure_database
    from sql.migrate import migrate
    from sql.seed import seed

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = ensure_database(pg_cluster, name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    settings.cache_clear()
    reset_database()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        seed(database().write)
        yield url
    finally:
        reset_database()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        settings.cache_clear()
        drop_database(pg_cluster, name)
