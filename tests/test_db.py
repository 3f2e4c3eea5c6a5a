"""The connection layer: roles, reuse, reconnects, conflict retries, DSQL tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading
from concurrent.futures import ThreadPoolExecutor
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
from chalicelib.db import RETRIES, STATEMENTS, Database, Role, backoff_delay


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


def _backend_pid(conn: Any) -> int:
    return int(conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])


def test_connections_are_reused(db: Database) -> None:
    first = db.read(_backend_pid)
    assert db.read(_backend_pid) == first
    assert db.write(_backend_pid) != first  # the writer role has its own connection


def test_a_read_costs_one_round_trip(db: Database) -> None:
    db.read(lambda conn: conn.execute("SELECT 1"))  # warm: connected
    STATEMENTS.reset()
    db.read(lambda conn: conn.execute("SELECT 1").fetchone())
    assert STATEMENTS.reset() == 1


def test_an_old_connection_is_replaced(database_url: str) -> None:
    now = [1000.0]
    database = Database(clock=lambda: now[0])
    first = database.read(_backend_pid)
    assert database.read(_backend_pid) == first
    now[0] += settings().db_max_connection_age_s + 1
    assert database.read(_backend_pid) != first
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

    with pytest.raises(db_module.DatabaseBusy):
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

    # Credentials about to expire: renewed. Relative to the expiry STS gave, not to the
    # clock at the start: on a loaded machine the first AssumeRole can come seconds later.
    now[0] = database._credentials[Role.READER].expires_at - db_module.CREDENTIAL_MARGIN_S + 1
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


# ---------------------------------------------------------------- concurrency (issue: 201 and gone)


def test_threads_never_share_a_connection(database_url: str) -> None:
    """Each concurrent call gets its own connection: no transaction of one request ever
    runs on another request's connection (which nested them into SAVEPOINTs)."""
    database = Database()
    barrier = threading.Barrier(6)

    def hold(conn: Any) -> int:
        barrier.wait(timeout=10)  # all six hold a connection at the same moment
        return _backend_pid(conn)

    with ThreadPoolExecutor(6) as pool:
        pids = list(pool.map(lambda _i: database.write(hold), range(6)))
    assert len(set(pids)) == 6
    assert database.pool_stats()["writer"] == {"idle": 6, "lent": 0}
    database.close()


def test_a_call_inside_another_call_raises(db: Database) -> None:
    with pytest.raises(db_module.NestedTransaction):
        db.write(lambda conn: db.write(lambda inner: None))
    with pytest.raises(db_module.NestedTransaction):
        db.read(lambda conn: db.write(lambda inner: None))
    assert db.read(lambda conn: 1) == 1  # the guard is released afterwards


def test_savepoints_are_impossible(db: Database) -> None:
    with pytest.raises(db_module.NestedTransaction):
        db.write(lambda conn: conn.transaction().__enter__())
    with pytest.raises(db_module.NestedTransaction):
        db.write(lambda conn: conn.execute("SAVEPOINT sp1"))
    with pytest.raises(db_module.NestedTransaction):
        db.read(lambda conn: conn.transaction(savepoint_name="sp").__enter__())


def test_a_connection_left_in_a_transaction_is_never_reused(database_url: str, admin_conn: Any) -> None:
    database = Database()
    pid = database.read(lambda conn: (conn.execute("BEGIN"), _backend_pid(conn))[1])
    assert database.read(_backend_pid) != pid
    idle_in_tx = admin_conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = %s AND state LIKE 'idle in transaction%%'", (pid,)
    ).fetchone()["n"]
    assert idle_in_tx == 0
    database.close()


def test_writes_run_at_repeatable_read(db: Database) -> None:
    level = db.write(lambda conn: conn.execute("SHOW transaction_isolation").fetchone()["transaction_isolation"])
    assert level == "repeatable read"


def test_concurrent_updates_of_one_row_conflict_and_are_retried(database_url: str, admin_conn: Any) -> None:
    """Two writers of the same row: PostgreSQL at REPEATABLE READ raises 40001 for the
    second (as DSQL does at commit); the retry makes both increments land."""
    database = Database()
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    barrier = threading.Barrier(4)
    RETRIES.reset()

    def append(conn: Any, mark: str) -> None:
        conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()  # the snapshot starts here
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)  # first attempts only: retries pass straight through
        conn.execute("UPDATE bar_settings SET message = message || %s WHERE id = 'bar'", (mark,))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda mark: database.write(append, mark), "abcd"))
    message = admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()["message"]
    assert sorted(message) == list("abcd")  # every answered write is committed, once
    assert RETRIES.count >= 1  # they really conflicted
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    database.close()


def test_a_full_pool_makes_callers_wait_then_refuses(database_url: str) -> None:
    config = replace(settings(), db_pool_size=1, db_pool_timeout_s=0.2)
    database = Database(config)
    holding, release = threading.Event(), threading.Event()

    def hold(conn: Any) -> None:
        holding.set()
        release.wait(timeout=10)

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(database.read, hold)
        assert holding.wait(timeout=10)
        with pytest.raises(db_module.DatabaseBusy):
            database.read(lambda conn: None)
        release.set()
        future.result(timeout=10)
    assert database.read(lambda conn: 1) == 1
    database.close()


def test_our_dsql_token_is_the_one_botocore_makes() -> None:
    """The token is signed without the `dsql` service model (which the Lambda runtime's
    botocore may lack), and is exactly what botocore's own helper makes."""
    session = boto3.session.Session(
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret", aws_session_token="session",
        region_name="eu-west-1",
    )  # fmt: skip
    host = "abcdefghijklmnopqrstu.dsql.eu-west-1.on.aws"
    for _ in range(3):  # the two may straddle a second; then the dates differ and we try again
        theirs = session.client("dsql").generate_db_connect_auth_token(Hostname=host, Region="eu-west-1")
        ours = db_module.dsql_auth_token(session.get_credentials().get_frozen_credentials(), host, "eu-west-1")
        if (
            parse_qs(urlsplit("https://" + theirs).query)["X-Amz-Date"]
            == parse_qs(urlsplit("https://" + ours).query)["X-Amz-Date"]
        ):
            break
    assert ours == theirs
    assert parse_qs(urlsplit("https://" + ours).query)["Action"] == ["DbConnect"]


# ---------------------------------------------------------------- one-trip writes


def _set_message(batch: Any, message: str) -> Any:
    """A one-trip write: adds its statements, reads the answer once committed."""
    level = batch.execute("SELECT current_setting('transaction_isolation') AS level")
    cur = batch.execute("UPDATE bar_settings SET message = %s WHERE id = 'bar' RETURNING message", (message,))
    return lambda: (level.fetchone()["level"], cur.fetchone()["message"])


def test_a_one_trip_write_is_one_round_trip_at_repeatable_read(
    database_url: str, admin_conn: Any, tmp_path: Any
) -> None:
    """BEGIN, the (already prepared) statements and COMMIT go out as one message: the
    client waits once, and the answer is committed when the call returns."""
    from psycopg import pq

    database = Database()
    database.write_in_one_trip(_set_message, "warm")  # connected, statements prepared
    trace = tmp_path / "wire.trace"
    handle = trace.open("w")

    def traced(batch: Any, message: str) -> Any:
        batch.conn.pgconn.trace(handle.fileno())
        batch.conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        return _set_message(batch, message)

    try:
        STATEMENTS.reset()
        level, message = database.write_in_one_trip(traced, "one trip")
        counted = STATEMENTS.reset()
    finally:
        database.write_in_one_trip(lambda batch: (batch.conn.pgconn.untrace(), lambda: None)[1])  # before it sends
        handle.close()
    sent = [line.split("\t")[2].split(" ")[0] for line in trace.read_text().splitlines() if line.startswith("F\t")]
    assert sent == ["Query"], sent
    assert (level, message) == ("repeatable read", "one trip")
    assert counted == 4  # BEGIN, two statements, COMMIT
    assert admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()["message"] == "one trip"
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    database.close()


def test_one_trip_values_are_quoted_as_data(database_url: str, admin_conn: Any) -> None:
    """Values go out as literals (client-side binding): quotes, semicolons and
    backslashes in them stay data, never SQL."""
    database = Database()
    hostile = "x'); UPDATE bar_settings SET is_open = FALSE; --\\ \"; SELECT 1; '"
    before = admin_conn.execute("SELECT is_open FROM bar_settings WHERE id = 'bar'").fetchone()["is_open"]
    _, message = database.write_in_one_trip(_set_message, hostile)
    assert message == hostile
    row = admin_conn.execute("SELECT message, is_open FROM bar_settings WHERE id = 'bar'").fetchone()
    assert (row["message"], row["is_open"]) == (hostile, before)
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    database.close()


def test_a_one_trip_write_survives_psycopg_deallocating_every_prepared_statement(
    database_url: str, admin_conn: Any
) -> None:
    """A rolled-back transaction makes psycopg send DEALLOCATE ALL once it has prepared
    statements of its own: the next one-trip write prepares its statements again."""
    database = Database()
    database.write_in_one_trip(_set_message, "prepared")

    def psycopg_prepares_then_rolls_back(conn: Any) -> None:
        for _ in range(6):  # past psycopg's prepare threshold (5)
            conn.execute("SELECT message FROM bar_settings WHERE id = %s", ("bar",))
        raise RuntimeError("refused: rolled back")

    with pytest.raises(RuntimeError):
        database.write(psycopg_prepares_then_rolls_back)
    assert database.write(lambda conn: conn.execute("SELECT count(*) AS n FROM pg_prepared_statements").fetchone())[
        "n"
    ] == 0
    assert database.write_in_one_trip(_set_message, "again") == ("repeatable read", "again")
    assert admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()["message"] == "again"
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    database.close()


def test_a_one_trip_write_whose_statements_the_registry_forgot_still_runs(database_url: str, admin_conn: Any) -> None:
    """The server still has the statements but the client-side registry lost track of
    them: PREPARE says "already exists", which is the same statement (the name is its
    text and types), and the write goes on."""
    from chalicelib import batch as batch_module

    database = Database()
    database.write_in_one_trip(_set_message, "prepared")
    with batch_module._PREPARED_LOCK:
        batch_module._PREPARED.clear()
    assert database.write_in_one_trip(_set_message, "still") == ("repeatable read", "still")
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    database.close()


def test_an_error_in_a_one_trip_write_writes_nothing_and_keeps_the_connection(
    database_url: str, admin_conn: Any
) -> None:
    database = Database()
    pid = database.write(_backend_pid)

    def half_then_fail(batch: Any) -> Any:
        _set_message(batch, "half done")
        batch.execute("SELECT 1 / %s", (0,))
        batch.execute("UPDATE bar_settings SET message = 'after the error' WHERE id = 'bar'")
        return lambda: None

    with pytest.raises(pg_errors.DivisionByZero):
        database.write_in_one_trip(half_then_fail)
    message = admin_conn.execute("SELECT message FROM bar_settings WHERE id = 'bar'").fetchone()["message"]
    assert message not in ("half done", "after the error")
    assert database.write(_backend_pid) == pid  # rolled back and lent again, not dropped
    database.close()


def test_a_conflicting_one_trip_write_is_retried_whole(database_url: str, admin_conn: Any) -> None:
    """Another transaction holds the row: the one-trip write waits, gets 40001 when that
    one commits (as DSQL would at commit), and its retry lands on the committed row."""
    import time

    database = Database()
    RETRIES.reset()
    results: list[Any] = []
    with psycopg.connect(database_url) as holder:
        holder.execute("UPDATE bar_settings SET message = 'holder' WHERE id = 'bar'")

        def append(batch: Any) -> Any:
            cur = batch.execute(
                "UPDATE bar_settings SET message = message || '+trip' WHERE id = 'bar' RETURNING message"
            )
            return lambda: cur.fetchone()["message"]

        worker = threading.Thread(target=lambda: results.append(database.write_in_one_trip(append)))
        worker.start()
        deadline = time.monotonic() + 30
        while not admin_conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone():
            assert time.monotonic() < deadline and worker.is_alive(), results
        holder.commit()
        worker.join(timeout=30)
    assert results == ["holder+trip"]
    assert RETRIES.count >= 1
    admin_conn.execute("UPDATE bar_settings SET message = '' WHERE id = 'bar'")
    database.close()
