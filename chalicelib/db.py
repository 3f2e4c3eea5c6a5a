"""One place for database connections: Aurora DSQL in AWS, plain PostgreSQL locally.

* Connections are kept in a small pool per role (reader, writer) and lent to one call
  at a time: `chalice local` serves requests on threads, so two requests never share a
  connection (a shared one would nest their transactions into SAVEPOINTs, which DSQL
  does not have, and commit at the wrong level). In Lambda, one request per container
  at a time means the pool holds one connection per role. No background threads.
* A call inside another call on the same thread (a `write` inside a `read`, say) raises
  `NestedTransaction`, and so does any SAVEPOINT: a nested transaction is impossible,
  never silently nested. Pass the connection down instead.
* A connection is replaced before DSQL's 60-minute limit, after it breaks, and whenever
  it comes back with a transaction still open (it is closed, never reused), so nothing
  is ever left "idle in transaction".
* With DSQL the password is an IAM auth token made locally by boto3 from the
  credentials of the role's IAM role. The role is assumed through STS once and the
  credentials are reused until shortly before they expire: never an STS call per
  request.
* With `DATABASE_URL` the same roles are enforced by PostgreSQL itself (the connection
  starts with `role=<db role>`), so a read-only route cannot write locally either.
* Writes run in one transaction at REPEATABLE READ (DSQL's snapshot isolation; locally
  PostgreSQL then raises 40001 for a concurrent update of the same row, as DSQL's
  optimistic concurrency does at commit) and are retried whole on 40001 and deadlocks
  with jittered backoff. `RETRIES` counts the retries for the benchmarks. A write that
  still conflicts after MAX_ATTEMPTS raises `DatabaseBusy`; the commit happens before
  `write` returns, so an answered write is a committed write.
* `write_in_one_trip` sends a whole write transaction as one message (chalicelib/batch.py:
  statements prepared once per connection, values quoted client-side), for the writes a
  crowd makes at once (order placement); retried and committed like `write`.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from chalicelib.batch import Batch, rollback
from chalicelib.config import Settings, settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.01
BACKOFF_CAP_S = 0.5
# Renew assumed-role credentials this long before they expire.
CREDENTIAL_MARGIN_S = 300


class Role(enum.Enum):
    READER = "reader"
    WRITER = "writer"


class DatabaseUnavailable(Exception):
    """The database could not be reached (after reconnecting once). The edge answers 503."""


class DatabaseBusy(Exception):
    """A write kept conflicting, or no connection was free in time. The edge answers 503."""


class NestedTransaction(RuntimeError):
    """A database call inside another one on the same thread, or a SAVEPOINT: a bug."""


class Counter:
    """A process-wide count the benchmarks read (statements sent, conflict retries)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.count += n

    def reset(self) -> int:
        with self._lock:
            count, self.count = self.count, 0
        return count


# Kept for the benchmarks and tests that import the old name.
StatementCounter = Counter
STATEMENTS = Counter()
RETRIES = Counter()


class _CountingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        _refuse_savepoint(query)
        STATEMENTS.add()
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _refuse_savepoint(query)
        STATEMENTS.add()
        return super().executemany(query, params_seq, **kwargs)


def _refuse_savepoint(query: Any) -> None:
    text = query if isinstance(query, str) else query.decode() if isinstance(query, bytes) else ""
    if text.lstrip()[:9].upper() == "SAVEPOINT":
        raise NestedTransaction("SAVEPOINTs are not supported by Aurora DSQL")


class _GuardedConnection(psycopg.Connection[Any]):
    """A connection whose `transaction()` refuses to nest (psycopg would use a SAVEPOINT)."""

    def transaction(self, savepoint_name: str | None = None, force_rollback: bool = False) -> Any:
        if savepoint_name is not None or self.info.transaction_status != TransactionStatus.IDLE:
            raise NestedTransaction("a transaction is already open on this connection (no SAVEPOINTs)")
        return super().transaction(savepoint_name, force_rollback)


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


@dataclass
class _Pool:
    """Idle connections of one role, lent to one caller at a time (at most `size`)."""

    size: int
    idle: list[_Slot] = field(default_factory=list)
    lent: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    free: threading.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.free = threading.BoundedSemaphore(self.size)


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt))
    return (rng or random).uniform(0, ceiling)


def is_conflict(exc: BaseException) -> bool:
    """40001 (DSQL's OC000/OC001, PostgreSQL's serialization failure) or a deadlock."""
    if isinstance(exc, pg_errors.SerializationFailure | pg_errors.DeadlockDetected):
        return True
    return isinstance(exc, psycopg.Error) and getattr(exc, "sqlstate", None) in ("40001", "40P01")


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
        self._pools = {role: _Pool(max(1, self.config.db_pool_size)) for role in Role}
        self._credentials: dict[Role, _Credentials] = {}
        self._credentials_lock = threading.Lock()
        self._held = threading.local()

    # ------------------------------------------------------------------ public API

    def read(self, fn: Callable[Concatenate[psycopg.Connection[Any], P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read-only function as the reader role.

        The connection is in autocommit mode and no BEGIN/COMMIT is sent, so a view
        that issues one SELECT costs one round trip.
        """
        return self._run(Role.READER, False, fn, *args, **kwargs)

    def write(self, fn: Callable[Concatenate[psycopg.Connection[Any], P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` in one transaction as the writer role, retried whole on conflict.

        Committed when this returns. `fn` may run more than once: it must not have
        side effects outside the database (publish events after `write` returns).
        """
        return self._run(Role.WRITER, True, fn, *args, **kwargs)

    def write_in_one_trip(
        self,
        send: Callable[Concatenate[Batch, P], Callable[[], T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """A whole write transaction in one round trip, retried whole on conflict.

        `send(batch, ...)` adds the statements (`batch.execute`, chalicelib/batch.py: no
        result can be read in between) and returns `finish()`, which reads their rows.
        BEGIN, the statements and COMMIT go out as one message; then `finish()` runs:
        committed when this returns. Every statement must therefore decide in SQL
        whether it writes (a refusal is statements that write nothing). An error in any
        statement skips the rest and the COMMIT; the transaction is rolled back.
        """

        def attempt(conn: psycopg.Connection[Any]) -> T:
            batch = Batch(conn)
            finish = send(batch, *args, **kwargs)
            STATEMENTS.add(len(batch) + 2)  # with BEGIN and COMMIT
            try:
                batch.run(_begin_command(conn))
            except psycopg.Error:
                with contextlib.suppress(psycopg.Error):  # else the pool closes it
                    rollback(conn)  # the error skipped the COMMIT
                raise
            return finish()

        return self._run(Role.WRITER, False, attempt)

    def close(self) -> None:
        """Close the idle connections (lent ones close when they come back)."""
        for pool in self._pools.values():
            with pool.lock:
                idle, pool.idle = pool.idle, []
            for slot in idle:
                with contextlib.suppress(psycopg.Error):
                    slot.conn.close()

    def pool_stats(self) -> dict[str, dict[str, int]]:
        """Idle and lent connections per role (tests, benchmarks)."""
        out = {}
        for role, pool in self._pools.items():
            with pool.lock:
                out[role.value] = {"idle": len(pool.idle), "lent": len(pool.lent)}
        return out

    # ------------------------------------------------------------------ internals

    def _run(self, role: Role, transactional: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if getattr(self._held, "role", None) is not None:
            raise NestedTransaction(
                f"database {role.value} call inside a {self._held.role.value} call on the same thread:"
                " pass the connection down instead"
            )
        self._held.role = role
        try:
            return self._attempts(role, transactional, fn, *args, **kwargs)
        finally:
            self._held.role = None

    def _attempts(self, role: Role, transactional: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        reconnected = False
        attempt = 0
        while True:
            try:
                with self._lend(role) as conn:
                    if not transactional:
                        return fn(conn, *args, **kwargs)
                    STATEMENTS.add(2)  # BEGIN and COMMIT
                    with conn.transaction():
                        result = fn(conn, *args, **kwargs)
                    return result  # committed: the block above ended with COMMIT
            except psycopg.OperationalError as exc:
                if is_conflict(exc):
                    attempt += 1
                    if attempt >= MAX_ATTEMPTS:
                        raise DatabaseBusy(f"gave up after {attempt} conflicting attempts") from exc
                    RETRIES.add()
                    delay = backoff_delay(attempt)
                    log.info("db conflict, retrying", extra={"attempt": attempt, "delay_s": round(delay, 3)})
                    self._sleep(delay)
                    continue
                if not _broken(exc):
                    raise
                # The connection broke (restart, idle timeout, failover): the server rolled
                # back whatever was open. Idle ones are likely dead too. Reconnect once.
                self._drop_idle(role)
                if reconnected:
                    raise DatabaseUnavailable(str(exc)) from exc
                reconnected = True

    @contextlib.contextmanager
    def _lend(self, role: Role) -> Iterator[psycopg.Connection[Any]]:
        pool = self._pools[role]
        if not pool.free.acquire(timeout=self.config.db_pool_timeout_s):
            raise DatabaseBusy(f"no {role.value} connection free within {self.config.db_pool_timeout_s} s")
        slot: _Slot | None = None
        try:
            slot = self._take(role, pool)
            yield slot.conn
        finally:
            if slot is not None:
                self._give_back(pool, slot)
            pool.free.release()

    def _take(self, role: Role, pool: _Pool) -> _Slot:
        now = self._clock()
        while True:
            with pool.lock:
                slot = pool.idle.pop() if pool.idle else None
            if slot is None:
                break
            if now - slot.opened_at < self.config.db_max_connection_age_s and not slot.conn.closed:
                with pool.lock:
                    pool.lent.add(id(slot))
                return slot
            with contextlib.suppress(psycopg.Error):
                slot.conn.close()
        try:
            conn = self._open(role)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        slot = _Slot(conn, now)
        with pool.lock:
            pool.lent.add(id(slot))
        return slot

    def _give_back(self, pool: _Pool, slot: _Slot) -> None:
        with pool.lock:
            pool.lent.discard(id(slot))
        conn = slot.conn
        healthy = not conn.closed and not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE
        if healthy:
            with pool.lock:
                pool.idle.append(slot)
            return
        with contextlib.suppress(psycopg.Error):
            conn.close()

    def _drop_idle(self, role: Role) -> None:
        pool = self._pools[role]
        with pool.lock:
            idle, pool.idle = pool.idle, []
        for slot in idle:
            with contextlib.suppress(psycopg.Error):
                slot.conn.close()

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
            conn = _GuardedConnection.connect(self.config.database_url, options=f"-c role={db_user}", **common)
            # DSQL's snapshot isolation, so concurrent writes of one row conflict here too.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            return conn
        if not self.config.dsql_endpoint:
            raise DatabaseUnavailable("neither DATABASE_URL nor DSQL_ENDPOINT is configured")
        # DSQL runs every transaction at REPEATABLE READ already: a plain BEGIN.
        return _GuardedConnection.connect(
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
        credentials = self._boto_session(role).get_credentials()
        if credentials is None:
            raise DatabaseUnavailable("no AWS credentials to sign a DSQL auth token with")
        return dsql_auth_token(credentials.get_frozen_credentials(), self.config.dsql_endpoint, self.config.region)

    def _boto_session(self, role: Role) -> Any:
        import boto3  # deferred: plain-PostgreSQL runs never pay for it

        factory = self._boto_session_factory or boto3.session.Session
        role_arn = self.config.dsql_reader_role_arn if role is Role.READER else self.config.dsql_writer_role_arn
        if not role_arn:
            # The Lambda's own role is mapped to the DB role directly.
            return factory(region_name=self.config.region)
        with self._credentials_lock:
            creds = self._credentials.get(role)
            if creds is None or creds.expires_at - self._clock() < CREDENTIAL_MARGIN_S:
                sts = factory(region_name=self.config.region).client("sts", region_name=self.config.region)
                answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"drink-assistant-{role.value}")[
                    "Credentials"
                ]
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


def dsql_auth_token(credentials: Any, hostname: str, region: str, *, action: str = "DbConnect",
                    expires_in: int = 900) -> str:  # fmt: skip
    """What botocore's `dsql` client's `generate_db_connect_auth_token` makes (a SigV4
    presigned `GET https://<host>/?Action=DbConnect`, without the scheme), signed with the
    query signer every botocore has: the Lambda runtime's own botocore, which the package
    relies on, may predate the `dsql` service model."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=f"https://{hostname}/", params={"Action": action})
    SigV4QueryAuth(credentials, "dsql", region, expires=expires_in).add_auth(request)
    return request.url.removeprefix("https://")


def _begin_command(conn: psycopg.Connection[Any]) -> str:
    """BEGIN at the connection's isolation level (what psycopg's own transactions send)."""
    if conn.isolation_level is None:
        return "BEGIN"
    return f"BEGIN ISOLATION LEVEL {conn.isolation_level.name.replace('_', ' ')}"


def _broken(exc: psycopg.OperationalError) -> bool:
    """A lost connection rather than an error the statement itself caused."""
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")


_database: Database | None = None
_database_lock = threading.Lock()


def database() -> Database:
    """The container-wide Database (created on first use, not at import)."""
    global _database
    if _database is None:
        with _database_lock:
            if _database is None:
                _database = Database()
    return _database


def reset_database() -> None:
    """Forget the container-wide Database (tests switch configuration)."""
    global _database
    with _database_lock:
        if _database is not None:
            _database.close()
        _database = None
