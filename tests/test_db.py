"""The connection layer: roles, reuse, reconnects, conflict retries, DSQL tokens."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import psycopg
import pytest
from moto import mock_aws
from psycopg import errors as pg_errors

from chalicelib import db as db_module
from chalicelib.config import settings
from chalicelib.db import STATEMENTS, Database, Role, backoff_delay


def test_the_reader_role_cannot_write(db: Database) -> None:
    with pytest.raises(pg_errors.InsufficientPrivilege):
        db.read(lambda conn: conn.execute("UPDATE bar_settings SET message = 'hacked'"))


def test_the_writer_role_writes_in_one_transaction(db: Database, admin_conn: Any) -> None:
    def write_then_fail(conn: Any) -> None:
        conn.execute("UPDATE bar_settings SET message = 'half done' WHERE id = 'bar'")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.write(write_then_fail)
    row = admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()
    assert row["message"] != "half done"


def test_connections_are_reused(db: Database) -> None:
    first = db._connection(Role.READER)
    db.read(lambda conn: conn.execute("SELECT 1"))
    assert db._connection(Role.READER) is first
    assert db._connection(Role.WRITER) is not first


def test_a_read_costs_one_round_trip(db: Database) -> None:
    db.read(lambda conn: conn.execute("SELECT 1"))  # warm: connected
    STATEMENTS.reset()
    db.read(lambda conn: conn.execute("SELECT 1").fetchone())
    assert STATEMENTS.reset() == 1


def test_an_old_connection_is_replaced(database_url: str) -> None:
    now = [1000.0]
    database = Database(clock=lambda: now[0])
    first = database._connection(Role.READER)
    now[0] += settings().db_max_connection_age_s + 1
    second = database._connection(Role.READER)
    assert second is not first and first.closed
    database.close()


def test_a_broken_connection_is_replaced_transparently(database_url: str, admin_conn: Any) -> None:
    database = Database()
    pid = database.read(lambda conn: conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])
    admin_conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    new_pid = database.read(lambda conn: conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])
    assert new_pid != pid
    database.close()


def test_conflicts_are_retried_whole(database_url: str, admin_conn: Any) -> None:
    delays: list[float] = []
    database = Database(sleep=delays.append)
    attempts = []

    def flaky(conn: Any) -> str:
        attempts.append(1)
        conn.execute("UPDATE bar_settings SET message = message || 'x' WHERE id = 'bar'")
        if len(attempts) < 3:
            raise pg_errors.SerializationFailure("change conflicts with another transaction (OC000)")
        return "done"

    before = admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()["message"]
    assert database.write(flaky) == "done"
    after = admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()["message"]
    # Only the successful attempt's change survived: the failed ones rolled back.
    assert after == before + "x"
    assert len(attempts) == 3 and len(delays) == 2
    admin_conn.execute("UPDATE bar_settings SET message = %s WHERE id = 'bar'", (before,))
    database.close()


def test_conflicts_give_up_eventually(database_url: str) -> None:
    database = Database(sleep=lambda _s: None)

    def always(conn: Any) -> None:
        raise pg_errors.SerializationFailure("OC001")

    with pytest.raises(pg_errors.SerializationFailure):
        database.write(always)
    database.close()


def test_backoff_is_jittered_and_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(attempt, rng) for attempt in range(1, 12)]
    assert all(0 <= d <= db_module.BACKOFF_CAP_S for d in delays)
    assert len(set(delays)) == len(delays)
    assert max(backoff_delay(1, random.Random(s)) for s in range(50)) <= db_module.BACKOFF_BASE_S * 2


class _CountingSessions:
    """boto3 sessions whose STS AssumeRole calls are counted (moto answers them)."""

    def __init__(self) -> None:
        self.assume_role_calls = 0

    def __call__(self, **kwargs: Any) -> Any:
        session = boto3.session.Session(**kwargs)
        outer = self

        def count(**_: Any) -> None:
            outer.assume_role_calls += 1

        session.events.register("before-call.sts.AssumeRole", count)
        return session


@mock_aws
def test_dsql_tokens_come_from_assumed_roles_without_an_sts_call_per_request() -> None:
    config = replace(
        settings(),
        database_url="",
        dsql_endpoint="abcdefghijklmnopqrstu.dsql.us-east-1.on.aws",
        dsql_reader_role_arn="arn:aws:iam::123456789012:role/drink-assistant-dev-db-reader",
        dsql_writer_role_arn="arn:aws:iam::123456789012:role/drink-assistant-dev-db-writer",
        region="us-east-1",
    )
    now = [dt.datetime.now(dt.UTC).timestamp()]
    sessions = _CountingSessions()
    database = Database(config, boto_session_factory=sessions, clock=lambda: now[0])

    tokens = [database.auth_token(Role.READER) for _ in range(5)]
    assert sessions.assume_role_calls == 1
    parts = urlsplit("https://" + tokens[0])
    query = parse_qs(parts.query)
    assert parts.hostname == config.dsql_endpoint
    assert query["Action"] == ["DbConnect"]
    assert query["X-Amz-Security-Token"], "the token is signed with the assumed role's credentials"
    assert "/us-east-1/dsql/aws4_request" in query["X-Amz-Credential"][0]

    database.auth_token(Role.WRITER)
    assert sessions.assume_role_calls == 2  # one per role

    now[0] += 3600 - db_module.CREDENTIAL_MARGIN_S + 1  # credentials about to expire: renewed
    database.auth_token(Role.READER)
    assert sessions.assume_role_calls == 3


def test_unconfigured_database_is_a_503(database_url: str) -> None:
    database = Database(replace(settings(), database_url="", dsql_endpoint=""))
    with pytest.raises(db_module.DatabaseUnavailable):
        database.read(lambda conn: None)


def test_unreachable_database_is_a_503(database_url: str) -> None:
    bad = replace(settings(), database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(db_module.DatabaseUnavailable):
        Database(bad).read(lambda conn: None)
    assert issubclass(db_module.DatabaseUnavailable, Exception)
    assert psycopg  # the driver is what raised underneath
