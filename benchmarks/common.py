"""Shared pieces of the benchmarks: a temporary migrated and seeded database, percentiles.

Benchmarks measure, they never assert. Each one also measures its floor in the same
run (see run.py), so the ratio ours / floor means something on a noisy machine.
"""

from __future__ import annotations

import contextlib
import os
import sys
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
    from local.pg import LOCAL_DIR, migrated_database, start_embedded

    admin_uri = os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with migrated_database(admin_uri, prefix) as url:
        yield url
