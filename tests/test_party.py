"""A party on the real local stack (`local/stack.py`, free loopback ports, a fresh
database): the scenario of `benchmarks/party_load.py`, smaller, checked by counts and
never by timings. First the bug report of issue 8: 16 phones joining at the same moment
with one 16-use invite got two 201s and fourteen 500s, and left a transaction open."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import psycopg
import pytest

from benchmarks.party import (
    Client,
    LocalStack,
    PartyConfig,
    check,
    idle_in_transaction,
    limit_violations,
    run_party,
    summary,
)
from local.realtime_client import admin_token

T0 = dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.UTC)


def run_async(coroutine: Any) -> Any:
    """asyncio.run on a thread of its own: the e2e tests' Playwright keeps an event loop
    running on the main thread for the whole session, where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _orders(*placed: tuple[str, str, float]) -> list[dict[str, Any]]:
    return [
        {"id": oid, "guest_id": guest, "number": n, "created_at": _at(t)} for n, (oid, guest, t) in enumerate(placed)
    ]


def _moves(*moves: tuple[str, str, float]) -> list[dict[str, Any]]:
    return [{"order_id": oid, "status": status, "changed_at": _at(t)} for oid, status, t in moves]


def test_the_limit_replay_finds_an_over_full_queue_and_a_greedy_guest() -> None:
    """The party's limit check can fail: a third order while two wait, with a limit of 2;
    a guest's second active order with a limit of 1."""
    orders = _orders(("a", "g1", 0), ("b", "g2", 1), ("c", "g3", 2), ("d", "g1", 3))
    assert limit_violations(orders, [], max_queue=4, max_active_per_guest=2) == []
    over = limit_violations(orders, [], max_queue=2, max_active_per_guest=1)
    assert [v.split(": ", 1)[1] for v in over] == [
        "3 in the queue (limit 2)",
        "4 in the queue (limit 2)",
        "its guest had 2 active (limit 1)",
    ]


def test_the_limit_replay_counts_what_left_the_queue_and_what_was_picked_up() -> None:
    orders = _orders(("a", "g1", 0), ("b", "g2", 1), ("c", "g3", 5), ("d", "g1", 6))
    history = _moves(("a", "in_progress", 2), ("a", "ready", 3), ("b", "cancelled", 4), ("a", "completed", 5.5))
    # "a" left the queue (ready) at 3 and was picked up at 5.5; "b" was cancelled at 4.
    assert limit_violations(orders, history, max_queue=2, max_active_per_guest=1) == []
    # A move that began just after a placement still counts for it (its snapshot came later)...
    late = _moves(("a", "ready", 5.1), ("b", "cancelled", 4), ("a", "completed", 5.5))
    assert limit_violations(orders, late, max_queue=2, max_active_per_guest=1) == []
    # ... one that began well after it does not.
    later = _moves(("a", "ready", 5.5), ("b", "cancelled", 4), ("a", "completed", 5.6))
    assert [v.split(": ", 1)[1] for v in limit_violations(orders, later, max_queue=1, max_active_per_guest=1)] == [
        "2 in the queue (limit 1)",  # "b" while "a" waits
        "2 in the queue (limit 1)",  # "c": "a" is still in progress at 5.25
        "2 in the queue (limit 1)",  # "d" with "c"
    ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log = tmp_path_factory.mktemp("party") / "stack.log"
    with LocalStack(log) as running:
        try:
            yield running
        except Exception:
            print(f"the stack's log, last lines:\n{running.log_tail()}")
            raise


async def join_at_once(stack: LocalStack, phones: int, max_uses: int) -> tuple[dict[str, Any], list[Any]]:
    """An invite for `max_uses`, redeemed by `phones` phones at the same moment: the
    invite, and each phone's (status, answer)."""
    admin = admin_token(stack.port)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        client = Client(session, stack.base_url)
        status, invite, _ = await client.call(
            "POST", "/admin/registration-codes", "invite", token=admin, body={"max_uses": max_uses}
        )
        assert status == 201, invite
        ready = asyncio.Event()

        async def phone(n: int) -> tuple[int, Any]:
            await ready.wait()  # every phone waits for the same moment
            status, answer, _ = await client.call(
                "POST", "/register", "register", body={"code": invite["code"], "name": f"Phone {n + 1}"}
            )
            return status, answer

        tasks = [asyncio.create_task(phone(n)) for n in range(phones)]
        await asyncio.sleep(0)  # let every task reach the start line
        ready.set()
        return invite, list(await asyncio.gather(*tasks))


@pytest.mark.e2e
def test_sixteen_phones_join_at_once_with_one_sixteen_use_invite(stack: LocalStack) -> None:
    invite, answers = run_async(join_at_once(stack, phones=16, max_uses=16))

    assert [status for status, _ in answers] == [201] * 16, Counter(status for status, _ in answers)
    guests = {answer["guest"]["id"] for _, answer in answers}
    assert len(guests) == 16
    assert idle_in_transaction(stack.database_url) == []

    # Every one of those 201s was committed, and so is what comes after them.
    with psycopg.connect(stack.database_url) as conn:
        assert conn.execute(
            """SELECT c.uses + (SELECT count(*) FROM registration_code_uses u WHERE u.code = c.code), c.max_uses
               FROM registration_codes c WHERE c.code = %s""",
            (invite["code"],),
        ).fetchone() == (16, 16)
        stored = {str(r[0]) for r in conn.execute("SELECT id FROM guests WHERE code = %s", (invite["code"],))}
        assert stored == guests
        assert conn.execute(
            "SELECT count(*) FROM refresh_tokens WHERE guest_id = ANY(%s::uuid[])", (list(guests),)
        ).fetchone() == (16,)

    async def afterwards() -> tuple[int, int, list[dict[str, Any]]]:
        admin = admin_token(stack.port)
        async with aiohttp.ClientSession() as session:
            client = Client(session, stack.base_url)
            late, _, _ = await client.call("POST", "/register", "r", body={"code": invite["code"], "name": "Phone 17"})
            created, code, _ = await client.call(
                "POST", "/admin/registration-codes", "c", token=admin, body={"max_uses": 2}
            )
            _, codes, _ = await client.call("GET", "/admin/registration-codes", "l", token=admin)
            return late, created, [c for c in codes if c["code"] in (invite["code"], code["code"])]

    late, created, listed = run_async(afterwards())
    assert late == 403  # the seventeenth phone: the invite is used up
    assert created == 201 and len(listed) == 2  # not "201 and gone"
    assert {c["code"]: (c["uses"], c["status"]) for c in listed}[invite["code"]] == (16, "used_up")
    assert idle_in_transaction(stack.database_url) == []


@pytest.mark.e2e
def test_a_party_of_sixteen_holds(stack: LocalStack) -> None:
    config = PartyConfig(
        guests=16,
        orders_per_guest=2,
        late_phones=2,
        join_window_s=0,
        max_queue=12,
        max_active_per_guest=1,
        display_interval_s=0.5,
        deadline_s=180,
    )
    started = time.monotonic()
    result = run_async(run_party(stack, config))
    failures = check(stack, result)
    data = summary(result, failures)
    print(f"party of 16 in {time.monotonic() - started:.1f} s: {data['routes']}")

    assert failures == [], "\n".join(failures)
    # The counts the limits make exact (nobody works the board during the rush).
    assert data["registrations"] == {"201": 16, "403": 2}
    assert data["first_round"] == {"201": 12, "409 QueueFull": 4}
    assert data["next_order_at_once"] == {"409 TooManyActiveOrders": 12, "201": 4}
    assert data["orders_placed"] == data["orders_in_database"] == 32
    assert data["board_moves"] == {"200": 32 * 3}
    # Idempotency-Keys really were retried, alone and at the same moment.
    replays = [a for answers in result.keys.values() for a in answers if a[0] == 200]
    assert len(replays) >= 4 and all(a[2] == "true" for a in replays)
    # Every guest heard every step of every one of their orders.
    for guest in result.guests:
        assert len(guest.placed) == 2
        for order_id in guest.placed:
            assert {"pending", "in_progress", "ready", "completed"} <= guest.feed.statuses(order_id)
    assert data["display_polls"] > 0
    assert 0 not in {c.status for c in result.calls} and max(c.status for c in result.calls) < 500
