"""A write transaction sent in one round trip: `BEGIN; EXECUTE ...; ...; COMMIT` as one
simple-protocol message (chalicelib/db.py `Database.write_in_one_trip`).

Each statement is a server-side prepared statement (SQL `PREPARE`, once per connection
and statement shape), so the server plans it once per connection, as psycopg's own
prepared statements are. What goes out per transaction is one short text of `EXECUTE
name(literal, ...)` lines, the literals quoted by psycopg's client-side binding
(`ClientCursor`, libpq's escaping): far less client work than one protocol exchange per
statement, and a single wait for the server.

A statement must decide in SQL whether it writes: nothing reads a result before COMMIT.
An error in one statement skips the rest and the COMMIT (the caller rolls back).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import re
import threading
import uuid
import weakref
from datetime import datetime
from typing import Any

import psycopg
from psycopg import ClientCursor
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

# Statements this connection has prepared (by name): a connection is one server session.
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], set[str]] = weakref.WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()  # chalice local's threads share it (each its own connections)
_NAMED = re.compile(r"%\((\w+)\)s")
_POSITIONAL = re.compile(r"(?<!%)%s")
_SQL_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "bigint",
    float: "double precision",
    str: "text",
    uuid.UUID: "uuid",
    datetime: "timestamptz",
}


def to_positional(sql: str, params: dict[str, Any] | list[Any] | tuple[Any, ...]) -> tuple[str, list[Any]]:
    """`%(name)s` (or `%s`) placeholders as `$1..$n`, and the values in that order."""
    if isinstance(params, dict):
        text, names = _named_to_positional(sql)
        return text, [params[name] for name in names]
    return _positional(sql), list(params)


@functools.lru_cache(maxsize=256)
def _named_to_positional(sql: str) -> tuple[str, tuple[str, ...]]:
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        order.setdefault(match.group(1), len(order) + 1)
        return f"${order[match.group(1)]}"

    return _NAMED.sub(number, sql).replace("%%", "%"), tuple(order)


@functools.lru_cache(maxsize=256)
def _positional(sql: str) -> str:
    counter = itertools.count(1)
    return _POSITIONAL.sub(lambda _m: f"${next(counter)}", sql).replace("%%", "%")


@functools.lru_cache(maxsize=512)
def _prepared(text: str, types: tuple[str, ...]) -> tuple[str, str]:
    """The statement's name (its text and parameter types) and its PREPARE definition."""
    signature = ", ".join(types)
    digest = hashlib.sha1(f"{signature}|{text}".encode(), usedforsecurity=False).hexdigest()[:16]
    return f"da_{digest}", (f"({signature}) AS {text}" if types else f"AS {text}")


def _sql_type(value: Any) -> str:
    # None carries no type: text, which every such parameter of ours is (or casts to).
    return "text" if value is None else _SQL_TYPES[type(value)]


class Deferred:
    """The rows of one statement of a batch, readable once the batch has run."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: Batch, index: int) -> None:
        self._batch, self._index = batch, index

    def fetchall(self) -> list[dict[str, Any]]:
        return self._batch.rows(self._index)

    def fetchone(self) -> dict[str, Any] | None:
        rows = self.fetchall()
        return rows[0] if rows else None


class Batch:
    """The statements of one write transaction, sent together by `run`."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._statements: list[tuple[str, str, list[Any]]] = []  # name, $n text, values
        self._rows: list[list[dict[str, Any]]] | None = None

    def execute(self, sql: str, params: dict[str, Any] | list[Any] | tuple[Any, ...] = ()) -> Deferred:
        text, values = to_positional(sql, params)
        name, definition = _prepared(text, tuple(_sql_type(value) for value in values))
        self._statements.append((name, definition, values))
        return Deferred(self, len(self._statements) - 1)

    def __len__(self) -> int:
        return len(self._statements)

    def rows(self, index: int) -> list[dict[str, Any]]:
        if self._rows is None:
            raise RuntimeError("the batch has not run yet")
        return self._rows[index]

    def run(self, begin: str, *, commit: bool = True) -> None:
        """Prepare what this connection has not prepared yet (a round trip each, once
        per connection), then send `begin; EXECUTE ...; [COMMIT]` as one message and
        keep each statement's rows.

        psycopg deallocates every prepared statement of a connection when one of its
        transactions rolls back (DEALLOCATE ALL, for its own cache's sake), ours too:
        then the EXECUTE finds no statement (26000), nothing ran, and the batch is
        prepared again and sent once more."""
        try:
            self._send(begin, commit)
        except pg_errors.InvalidSqlStatementName:
            rollback(self.conn)
            with _PREPARED_LOCK:
                _PREPARED.pop(self.conn, None)
            self._send(begin, commit)

    def _send(self, begin: str, commit: bool) -> None:
        with _PREPARED_LOCK:
            prepared = _PREPARED.setdefault(self.conn, set())
        for name, definition, _ in self._statements:
            if name not in prepared:
                # Outside any transaction. Already there (our registry lost track of it):
                # the same name is the same text and types, so it is the same statement.
                with contextlib.suppress(pg_errors.DuplicatePreparedStatement):
                    self.conn.execute(f"PREPARE {name} {definition}")
                prepared.add(name)
        lines, values = [begin], []
        for name, _, args in self._statements:
            lines.append(f"EXECUTE {name}({', '.join(['%s'] * len(args))})" if args else f"EXECUTE {name}")
            values += args
        if commit:
            lines.append("COMMIT")
        with ClientCursor(self.conn) as cur:
            cur.execute("; ".join(lines), values)
            results: list[list[dict[str, Any]]] = []
            while True:
                results.append(cur.fetchall() if cur.pgresult is not None and cur.pgresult.ntuples else [])
                if not cur.nextset():
                    break
        # One result per line: BEGIN, each statement, COMMIT.
        self._rows = results[1 : 1 + len(self._statements)]


def rollback(conn: psycopg.Connection[Any]) -> None:
    """End a failed batch's transaction. Sent on libpq's connection directly: psycopg's
    own ROLLBACK would also deallocate every prepared statement (see `Batch.run`)."""
    if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
        conn.pgconn.exec_(b"ROLLBACK")
