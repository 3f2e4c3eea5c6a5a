"""One place for database connections: Aurora DSQL in AWS, plain PostgreSQL locally.

* A connection per role (reader, writer) is kept for the life of the Lambda container
  and replaced before DSQL's 60-minute limit or after it breaks.
* With DSQL the password is an IAM auth token made locally by boto3 from the
  credentials of the role's IAM role. The role is assumed through STS once and the
  credentials are reused until shortly before they expire: never an STS call per
  request.
* With `DATABASE_URL` the same roles are enforced by PostgreSQL itself (the connection
  starts with `role=<db role>`), so a read-only route cannot write locally either.
* Writes run in one transaction and are retried whole on SQLSTATE 40001 (DSQL's
  optimistic concurrency conflicts OC000/OC001) with jittered backoff. No SAVEPOINTs.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from chalicelib.config import Settings, settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0
# Renew assumed-role credentials this long before they expire.
CREDENTIAL_MARGIN_S = 300


class Role(enum.Enum):
    READER = "reader"
    WRITER = "writer"


class DatabaseUnavailable(Exception):
    """The database could not be reached (after reconnecting once)."""


class StatementCounter:
    """Counts statements sent to the server: the benchmarks report round trips."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> int:
        count, self.count = self.count, 0
        return count


STATEMENTS = StatementCounter()


class _CountingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        STATEMENTS.count += 1
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:  # type: ignore[override]
        STATEMENTS.count += 1
        return super().executemany(query, params_seq, **kwargs)


@dataclass
class _Credentials:
    access_key: str
    secret_key: str
    token: str
    expires_at: float


@dataclass
class _Slot:
    conn: psycopg.Connection[Any]
    opened_at: float


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt))
    return (rng or random).uniform(0, ceiling)


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, pg_errors.SerializationFailure) or (
        isinstance(exc, psycopg.Error) and getattr(exc, "sqlstate", None) == "40001"
    )


class Database:
    def __init__(
        self,
        config: Settings | None = None,
        *,
        boto_session_factory: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config or settings()
        self._clock = clock
        self._sleep = sleep
        self._boto_session_factory = boto_session_factory
        self._slots: dict[Role, _Slot] = {}
        self._credentials: dict[Role, _Credentials] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public API

    def read(self, fn: Callable[Concatenate[psycopg.Connection[Any], P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read-only function as the reader role.

        The connection is in autocommit mode and no BEGIN/COMMIT is sent, so a view
        that issues one SELECT costs one round trip.
        """
        return self._run(Role.READER, False, fn, *args, **kwargs)

    def write(self, fn: Callable[Concatenate[psycopg.Connection[Any], P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` in one transaction as the writer role, retried whole on conflict."""
        return self._run(Role.WRITER, True, fn, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            for slot in self._slots.values():
                slot.conn.close()
            self._slots.clear()

    # ------------------------------------------------------------------ internals

    def _run(self, role: Role, transactional: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        reconnected = False
        attempt = 0
        while True:
            conn = self._connection(role)
            try:
                if transactional:
                    STATEMENTS.count += 2  # BEGIN and COMMIT
                    with conn.transaction():
                        return fn(conn, *args, **kwargs)
                return fn(conn, *args, **kwargs)
            except psycopg.OperationalError as exc:
                if is_conflict(exc):
                    attempt += 1
                    if attempt >= MAX_ATTEMPTS:
                        raise
                    delay = backoff_delay(attempt)
                    log.info("db conflict, retrying", extra={"attempt": attempt, "delay_s": round(delay, 3)})
                    self._sleep(delay)
                    continue
                if not conn.closed and not conn.broken:
                    raise
                # The connection broke (idle timeout, failover). Reconnect once; a
                # transaction that broke before COMMIT was rolled back by the server.
                self._discard(role)
                if reconnected:
                    raise DatabaseUnavailable(str(exc)) from exc
                reconnected = True

    def _discard(self, role: Role) -> None:
        with self._lock:
            slot = self._slots.pop(role, None)
        if slot is not None:
            with contextlib.suppress(psycopg.Error):
                slot.conn.close()

    def _connection(self, role: Role) -> psycopg.Connection[Any]:
        now = self._clock()
        with self._lock:
            slot = self._slots.get(role)
            if slot is not None:
                fresh = now - slot.opened_at < self.config.db_max_connection_age_s
                if fresh and not slot.conn.closed and not slot.conn.broken:
                    return slot.conn
                self._slots.pop(role)
        if slot is not None:
            slot.conn.close()
        try:
            conn = self._open(role)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        with self._lock:
            self._slots[role] = _Slot(conn, now)
        return conn

    def _open(self, role: Role) -> psycopg.Connection[Any]:
        db_user = self.config.db_reader_user if role is Role.READER else self.config.db_writer_user
        common: dict[str, Any] = {
            "autocommit": True,
            "row_factory": dict_row,
            "cursor_factory": _CountingCursor,
            "connect_timeout": 10,
        }
        if self.config.database_url:
            # Same privileges as in DSQL: the session runs as the reader/writer role.
            return psycopg.connect(self.config.database_url, options=f"-c role={db_user}", **common)
        if not self.config.dsql_endpoint:
            raise DatabaseUnavailable("neither DATABASE_URL nor DSQL_ENDPOINT is configured")
        return psycopg.connect(
            host=self.config.dsql_endpoint,
            port=5432,
            dbname=self.config.db_name,
            user=db_user,
            password=self.auth_token(role),
            sslmode="require",
            **common,
        )

    def auth_token(self, role: Role) -> str:
        """A DSQL IAM auth token for the role's database user, made locally (no call)."""
        client = self._boto_session(role).client("dsql", region_name=self.config.region)
        return client.generate_db_connect_auth_token(
            Hostname=self.config.dsql_endpoint, Region=self.config.region, ExpiresIn=900
        )

    def _boto_session(self, role: Role) -> Any:
        import boto3  # deferred: plain-PostgreSQL runs never pay for it

        factory = self._boto_session_factory or boto3.session.Session
        role_arn = self.config.dsql_reader_role_arn if role is Role.READER else self.config.dsql_writer_role_arn
        if not role_arn:
            # The Lambda's own role is mapped to the DB role directly.
            return factory(region_name=self.config.region)
        creds = self._credentials.get(role)
        if creds is None or creds.expires_at - self._clock() < CREDENTIAL_MARGIN_S:
            sts = factory(region_name=self.config.region).client("sts", region_name=self.config.region)
            answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"drink-assistant-{role.value}")["Credentials"]
            creds = _Credentials(
                access_key=answer["AccessKeyId"],
                secret_key=answer["SecretAccessKey"],
                token=answer["SessionToken"],
                expires_at=answer["Expiration"].timestamp(),
            )
            self._credentials[role] = creds
        return factory(
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            aws_session_token=creds.token,
            region_name=self.config.region,
        )


_database: Database | None = None


def database() -> Database:
    """The container-wide Database (created on first use, not at import)."""
    global _database
    if _database is None:
        _database = Database()
    return _database


def reset_database() -> None:
    """Forget the container-wide Database (tests switch configuration)."""
    global _database
    if _database is not None:
        _database.close()
    _database = None
