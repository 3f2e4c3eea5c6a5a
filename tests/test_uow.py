"""The unit of work (chalicelib/uow.py) on the real database: what a write records is
carried out once, after the commit, flush first; a refused or retried attempt leaves
nothing behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from psycopg import errors as pg_errors

from chalicelib import cache, catalog
from chalicelib.errors import ConflictError
from chalicelib.uow import Tx, UnitOfWork
from chalicelib.validation import SectionCreate


class Outbox:
    """Where the unit of work's after-commit steps land, in order, with what the
    database held when each ran (so the test sees they ran after the commit)."""

    def __init__(self, admin_conn: Any) -> None:
        self.admin_conn = admin_conn
        self.steps: list[tuple[str, Any, bool]] = []
        self.watch: uuid.UUID | None = None

    def _committed(self) -> bool:
        row = self.admin_conn.execute("SELECT 1 FROM sections WHERE id = %s", (self.watch,)).fetchone()
        return row is not None

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        self.watch = uuid.UUID(data["id"]) if "id" in data else self.watch
        self.steps.append(("publish", event_type, self._committed()))

    def flush(self, routes: list[str]) -> None:
        self.steps.append(("flush", routes, None))


@pytest.fixture()
def outbox(admin_conn: Any) -> Outbox:
    return Outbox(admin_conn)


def _uow(outbox: Outbox) -> UnitOfWork:
    return UnitOfWork(publish=outbox.publish, flush=outbox.flush)


def _name() -> str:
    return f"UoW section {uuid.uuid4().hex[:8]}"


def test_a_write_flushes_then_publishes_once_after_the_commit(database_url: str, outbox: Outbox) -> None:
    section = _uow(outbox).write(catalog.create_section, SectionCreate(name=_name()))
    assert [step[0] for step in outbox.steps] == ["flush", "publish"]
    assert outbox.steps[0][1] == sorted(cache.routes_to_flush("section"))  # one flush, what a section makes stale
    kind, event_type, committed = outbox.steps[1]
    assert event_type == "MenuChanged" and committed is True  # another connection already saw the row
    assert outbox.watch == uuid.UUID(section["id"])


def test_a_refused_write_publishes_and_flushes_nothing(database_url: str, outbox: Outbox) -> None:
    name = _name()
    _uow(outbox).write(catalog.create_section, SectionCreate(name=name))
    outbox.steps.clear()
    with pytest.raises(ConflictError):
        _uow(outbox).write(catalog.create_section, SectionCreate(name=name))  # the name is taken
    assert outbox.steps == []


def test_a_retried_attempt_records_nothing_twice(database_url: str, outbox: Outbox) -> None:
    attempts: list[int] = []

    def conflicting_once(tx: Tx, name: str) -> dict[str, Any]:
        section = catalog.create_section(tx, SectionCreate(name=name))
        attempts.append(len(tx.events))
        if len(attempts) == 1:  # as DSQL answers a conflicting commit: 40001, and db.write retries
            raise pg_errors.SerializationFailure("conflict")
        return section

    section = _uow(outbox).write(conflicting_once, _name())
    assert attempts == [1, 1]  # each attempt started with nothing recorded
    stale = sorted(cache.routes_to_flush("section"))
    assert [step[:2] for step in outbox.steps] == [("flush", stale), ("publish", "MenuChanged")]
    assert outbox.watch == uuid.UUID(section["id"])


def test_a_write_that_changes_nothing_announces_nothing(database_url: str, outbox: Outbox) -> None:
    from chalicelib.validation import SectionUpdate

    section = _uow(outbox).write(catalog.create_section, SectionCreate(name=_name()))
    outbox.steps.clear()
    again = SectionUpdate(name=section["name"])
    _uow(outbox).write(catalog.update_section, uuid.UUID(section["id"]), again)
    assert outbox.steps == []


def test_an_unknown_cache_kind_fails_inside_the_transaction(database_url: str, outbox: Outbox, admin_conn: Any) -> None:
    name = _name()

    def wrong(tx: Tx) -> None:
        catalog.create_section(tx, SectionCreate(name=name))
        tx.stale("nonsense")

    with pytest.raises(KeyError):
        _uow(outbox).write(wrong)
    assert admin_conn.execute("SELECT 1 FROM sections WHERE name = %s", (name,)).fetchone() is None  # rolled back
    assert outbox.steps == []


def test_announce_publishes_at_once_and_reads_lend_a_connection(database_url: str, outbox: Outbox) -> None:
    uow = _uow(outbox)
    uow.announce("PictureRequested", {"drink_id": "d"})
    assert outbox.steps == [("publish", "PictureRequested", False)]
    assert uow.read(lambda conn: conn.execute("SELECT 1 AS one").fetchone()["one"]) == 1


def test_a_one_trip_write_publishes_what_its_finish_records_after_the_commit(
    database_url: str, outbox: Outbox
) -> None:
    """`write_in_one_trip`: the batch is sent, committed, then `finish` reads the rows and
    records; the event goes out once, and another connection already sees the row."""
    section_id = uuid.uuid4()

    def send(tx: Tx, name: str) -> Any:
        inserted = tx.batch.execute(
            "INSERT INTO sections (id, name, name_key, position) VALUES (%s, %s, %s, 99) RETURNING id::text AS id",
            (section_id, name, name.lower()),
        )

        def finish() -> str:
            row = inserted.fetchone()
            tx.record("MenuChanged", {"id": row["id"]})
            return row["id"]

        return finish

    assert _uow(outbox).write_in_one_trip(send, _name()) == str(section_id)
    assert outbox.steps == [("publish", "MenuChanged", True)]


def test_a_failed_one_trip_write_publishes_nothing(database_url: str, outbox: Outbox) -> None:
    def send(tx: Tx) -> Any:
        name = _name()
        tx.batch.execute(
            "INSERT INTO sections (id, name, name_key, position) VALUES (%s, %s, %s, 99)", (uuid.uuid4(), name, name)
        )
        tx.batch.execute("SELECT 1 / %s", (0,))
        return lambda: tx.record("MenuChanged", {})

    with pytest.raises(pg_errors.DivisionByZero):
        _uow(outbox).write_in_one_trip(send)
    assert outbox.steps == []
