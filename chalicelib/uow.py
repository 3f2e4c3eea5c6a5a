"""The unit of work: the one way code reaches the database, and the one place that
runs what must follow a commit (docs/architecture.md, "Services and the unit of work").

A write use case is a function `fn(tx: Tx, ...)` run by `UnitOfWork.write(fn, ...)`:
one transaction, retried whole on a conflict (chalicelib/db.py). While it runs it
*records* what its change means: the domain events to publish (`tx.record`) and the
kinds of cached public reads it makes stale (`tx.stale`, chalicelib/cache.py's
WRITE_AFFECTS). Nothing leaves the process inside the transaction. When the transaction
has committed, and only then, the unit of work flushes the stale cached routes (one
flush) and then publishes the events, in the order they were recorded: flush first, so
a guest who refetches on the event does not read the old cached answer. A retried
attempt's records are dropped with the attempt; a refused write (a domain error) records
nothing that survives. Neither step can fail the request (both log and carry on).

Reads are `UnitOfWork.read(fn, ...)`: `fn(conn, ...)` on the reader role, autocommit.
A multi-step use case (place an order, then replay it; a bartender turn) takes the unit
of work itself and calls `read` / `write` as it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from psycopg import Connection

from chalicelib.batch import Batch
from chalicelib.db import Database, database

P = ParamSpec("P")
T = TypeVar("T")

Publisher = Callable[[str, dict[str, Any]], Any]
Flusher = Callable[[list[str]], Any]


class Tx:
    """One attempt of a write transaction: its connection, and what it recorded.

    `execute`, `cursor` and `transaction` are the connection's, so SQL helpers written
    against a connection take a `Tx` as well; pass `tx.conn` where a helper's type asks
    for the connection itself."""

    __slots__ = ("_batch", "conn", "events", "stale_kinds")

    def __init__(self, conn: Connection[Any], batch: Batch | None = None) -> None:
        self.conn = conn
        self._batch = batch
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.stale_kinds: set[str] = set()

    @property
    def batch(self) -> Batch:
        """The statements of a one-trip write (`UnitOfWork.write_in_one_trip`)."""
        if self._batch is None:
            raise RuntimeError("not a one-trip write: use tx.execute")
        return self._batch

    def record(self, event_type: str, data: dict[str, Any]) -> None:
        """A domain event, published once this transaction has committed."""
        self.events.append((event_type, data))

    def stale(self, kind: str) -> None:
        """This write changes what public reads of `kind` answer (chalicelib/cache.py)."""
        from chalicelib import cache

        cache.routes_to_flush(kind)  # an unknown kind is a bug: fail inside the transaction
        self.stale_kinds.add(kind)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self.conn.execute(*args, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self.conn.cursor(*args, **kwargs)

    def transaction(self, *args: Any, **kwargs: Any) -> Any:
        return self.conn.transaction(*args, **kwargs)  # refused inside a write: chalicelib/db.py


def _publish(event_type: str, data: dict[str, Any]) -> Any:
    from chalicelib import events  # imported on the first event, not with every route

    return events.publish(event_type, data)


def _flush(routes: list[str]) -> Any:
    from chalicelib import cache

    return cache.flush_menu_cache(routes)


class UnitOfWork:
    """A request's (or an event handler's) access to the database and its after-commit
    steps. Cheap to make: one per request; the connection pool lives in `Database`."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        publish: Publisher | None = None,
        flush: Flusher | None = None,
    ) -> None:
        self._db = db
        self._publish = publish or _publish
        self._flush = flush or _flush

    @property
    def db(self) -> Database:
        return self._db if self._db is not None else database()

    def read(self, fn: Callable[Concatenate[Connection[Any], P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(conn, ...)` as the reader role (autocommit: one SELECT, one round trip)."""
        return self.db.read(fn, *args, **kwargs)

    def write(self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(tx, ...)` in one transaction (retried whole on conflict); committed when
        this returns, and then the committed attempt's records are carried out."""
        attempts: list[Tx] = []

        def attempt(conn: Connection[Any]) -> T:
            tx = Tx(conn)
            attempts.append(tx)
            return fn(tx, *args, **kwargs)

        result = self.db.write(attempt)
        self._after_commit(attempts[-1])
        return result

    def write_in_one_trip(
        self, send: Callable[Concatenate[Tx, P], Callable[[], T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`write` in one round trip (`Database.write_in_one_trip`): `send(tx, ...)` adds
        statements to `tx.batch` and returns `finish()`, which reads their rows once
        committed and may record events; then the records are carried out as for `write`."""
        attempts: list[Tx] = []

        def attempt(batch: Batch) -> Callable[[], T]:
            tx = Tx(batch.conn, batch)
            attempts.append(tx)
            return send(tx, *args, **kwargs)

        result = self.db.write_in_one_trip(attempt)
        self._after_commit(attempts[-1])
        return result

    def announce(self, event_type: str, data: dict[str, Any]) -> None:
        """An event that follows no database write of ours (an event handler's
        re-announcement, a request for work): published now."""
        self._publish(event_type, data)

    def _after_commit(self, tx: Tx) -> None:
        if tx.stale_kinds:
            from chalicelib import cache

            routes = sorted(set().union(*(cache.routes_to_flush(kind) for kind in tx.stale_kinds)))
            if routes:
                self._flush(routes)
        for event_type, data in tx.events:
            self._publish(event_type, data)
