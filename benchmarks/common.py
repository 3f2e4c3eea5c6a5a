"""Shared pieces of the benchmarks: a temporary migrated and seeded database, percentiles.

Benchmarks measure, they never assert. Each one also measures its floor in the same
run (see run.py), so the ratio ours / floor means something on a noisy machine.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextlib.contextmanager
def bench_database(prefix: str = "da_bench") -> Iterator[str]:
    """A fresh database in the embedded cluster (or TEST_DATABASE_URL's), migrated and
    seeded, set as DATABASE_URL for the app; dropped afterwards."""
    from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded

    admin_uri = os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")
    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    url = ensure_database(admin_uri, name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import psycopg

        from chalicelib.config import settings
        from chalicelib.db import database, reset_database
        from sql.migrate import migrate
        from sql.seed import seed

        settings.cache_clear()
        reset_database()
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        seed(database().write)
        yield url
    finally:
        from chalicelib.db import reset_database

        reset_database()
        drop_database(admin_uri, name)
