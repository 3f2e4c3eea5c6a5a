"""Shared fixtures: a real PostgreSQL (the embedded one), migrated and seeded.

Each test session gets its own database in the embedded cluster under
.local/test-pg (or in the cluster of TEST_DATABASE_URL), dropped at the end.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded  # noqa: E402

# Tests never reach real AWS: anything boto3 does without an explicit endpoint
# would fail fast on these fake credentials instead of using a developer's own.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


def _reset_app_state() -> None:
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.db import reset_database

    settings.cache_clear()
    reset_database()
    aws.reset()


@pytest.fixture(scope="session")
def pg_cluster() -> str:
    """Admin URI of a PostgreSQL 16 cluster."""
    return os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")


@pytest.fixture(scope="session")
def database_url(pg_cluster: str) -> Iterator[str]:
    """A fresh, migrated and seeded database for this test session."""
    from sql.migrate import migrate
    from sql.seed import seed

    name = f"da_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = ensure_database(pg_cluster, name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    _reset_app_state()
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    from chalicelib.db import database

    seed(database().write)
    yield url
    _reset_app_state()
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    drop_database(pg_cluster, name)


@pytest.fixture()
def admin_conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection for arranging and inspecting state."""
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture()
def db(database_url: str) -> Any:
    """The app's unit of work (chalicelib/uow.py) on the session database: `db.read(fn)`
    lends `fn` a connection, `db.write(fn)` a `Tx` (events published after the commit)."""
    from chalicelib.uow import UnitOfWork

    return UnitOfWork()


@pytest.fixture()
def client(database_url: str) -> Iterator[Any]:
    """The Chalice app in-process against the real database."""
    from chalice.test import Client

    import app as app_module

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def user_pool() -> Iterator[Any]:
    """A stand-in Cognito user pool; the app is configured to trust it."""
    from tests.tokens import CLIENT_ID, UserPool

    pool = UserPool()
    saved = {k: os.environ.get(k) for k in ("AUTH_ISSUER", "AUTH_CLIENT_ID", "AUTH_JWKS_URL")}
    os.environ.update({"AUTH_ISSUER": pool.issuer, "AUTH_CLIENT_ID": CLIENT_ID, "AUTH_JWKS_URL": pool.jwks_url})
    _reset_app_state()
    _reset_authenticator()
    yield pool
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _reset_app_state()
    _reset_authenticator()
    pool.close()


def _reset_authenticator() -> None:
    import app as app_module

    app_module._authenticator = None


@pytest.fixture()
def admin_headers(user_pool: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_pool.admin_token()}"}
