"""A party on the real local stack: the scenario behind `benchmarks/party_load.py` and
`tests/test_party.py` (local-only; nothing here ships in the Lambda).

The stack is `local/stack.py`, started on free loopback ports against a fresh database
in the embedded test cluster (`LocalStack`). The party (`run_party`):

1. The admin sets the bar's limits (PUT /admin/bar) and creates one invite for exactly
   `guests` uses; `guests + late_phones` phones redeem it, spread over `join_window_s`
   (0: all at once). Exactly `guests` must get 201, the late ones the invite's 403.
2. Every guest browses (bar, sections, ingredients, the menu filtered by ingredient,
   availability and search, one drink) and subscribes to `/orders/guest/{id}` over the
   gateway's AppSync Events WebSocket.
3. When every guest is subscribed, each places its first order (some send it twice at
   once with the same Idempotency-Key, some retry it after the answer) and at once tries
   its next one. Nobody works the board yet, so what the limits refuse here is exact.
4. The admin works the board (GET /admin/orders, PUT /admin/orders/{id} one step at a
   time to "completed", woken by `/orders/admin` events); guests whose order was refused
   try again, and place their next order when the last one is completed (heard over the
   WebSocket; a guest that hears nothing polls GET /orders like the web app does). The TV
   display polls what `/display` calls (GET /admin/orders, GET /admin/registration-codes).

`check()` then lists what went wrong: any 5xx or transport error, sessions left idle in
transaction, invite uses, orders missing from or twice on the board, status changes
that never reached their guest, idempotency, and the bar's limits, replayed from the
database's order history. Everything is bounded: a deadline for the whole party and a
timeout on every request and wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded  # noqa: E402
from local.realtime import PROTOCOL, encode_header_protocol  # noqa: E402
from local.realtime_client import admin_token  # noqa: E402

STACK_START_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 20
# A status change reaches its guest within this long, or the guest polls (and it counts as missed).
WS_WAIT_S = 15
# Replaying the order history: a move counts as done this long after its transaction began
# (now() is a transaction's start; a placement's snapshot is taken a moment after its own).
MOVE_TOLERANCE_S = 0.25
LOG_CONFLICT = "db conflict, retrying"
NEXT_STATUS = {"pending": "in_progress", "in_progress": "ready", "ready": "completed"}
STEPS = ("pending", "in_progress", "ready", "completed")


# ---------------------------------------------------------------- the stack


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (loopback only)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class LocalStack:
    """`local/stack.py` on free loopback ports with a fresh database of its own in the
    embedded test cluster (or TEST_DATABASE_URL's). Stopped (SIGINT, then SIGKILL for
    anything left) and the database dropped on exit, pass or fail."""

    log_path: Path
    cluster: str = ""
    db_name: str = field(default_factory=lambda: f"da_party_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    port: int = 0
    database_url: str = ""
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    media_dir: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalStack:
        self.cluster = self.cluster or os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")
        self.database_url = ensure_database(self.cluster, self.db_name)
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        import tempfile

        self.port = _free_port()
        self.media_dir = tempfile.mkdtemp(prefix="da-party-media-")
        env = {
            **os.environ,
            "PORT": str(self.port),
            "API_PORT": str(_free_port()),
            "EMULATOR_PORT": str(_free_port()),
            "DATABASE_URL": self.database_url,
            "JOIN_BASE_URL": self.base_url,
            "PYTHONUNBUFFERED": "1",
            "LOCAL_MEDIA_DIR": self.media_dir,
            # The emulator's request log next to the stack's, not in the shared .local/logs.
            "LOCAL_LOG_DIR": str(self.log_path.parent / f"{self.log_path.stem}-logs"),
            **self.extra_env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "local" / "stack.py")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STACK_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited while starting; see {self.log_path}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if _status(f"{self.base_url}/api/bar") == 200:
                    return
            time.sleep(0.2)  # polling a condition with a deadline
        raise TimeoutError(f"the stack did not start in {STACK_START_TIMEOUT_S} s; see {self.log_path}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def conflict_retries(self) -> int:
        """How many times the API retried a write on a conflict (its log lines)."""
        if not self.log_path.exists():
            return 0
        return sum(1 for line in self.log_path.read_text(errors="replace").splitlines() if LOG_CONFLICT in line)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        import psutil

        try:
            tree = [process.pid] + [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
        except psutil.Error:
            tree = [process.pid]
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # stack.py stops its children on Ctrl-C
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        for pid in tree:  # whatever is left of the stack (its children run in sessions of their own)
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                psutil.Process(pid).kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def __exit__(self, *_: object) -> None:
        try:
            self.stop()
        finally:
            if self.media_dir:
                import shutil

                shutil.rmtree(self.media_dir, ignore_errors=True)
            if self.cluster and self.database_url:
                drop_database(self.cluster, self.db_name)


def idle_in_transaction(database_url: str, settle_s: float = 3.0) -> list[dict[str, Any]]:
    """Sessions of the database left idle in a transaction. A transaction that is merely
    finishing gets `settle_s` to end; one left open stays and is returned."""
    from psycopg.rows import dict_row

    deadline = time.monotonic() + settle_s
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            rows = conn.execute(
                """SELECT pid, usename, state, left(query, 200) AS query,
                          now() - state_change AS for_how_long
                   FROM pg_stat_activity
                   WHERE datname = current_database() AND state LIKE 'idle in transaction%%'"""
            ).fetchall()
            if not rows or time.monotonic() > deadline:
                return [{k: str(v) for k, v in row.items()} for row in rows]
            time.sleep(0.1)  # polling a condition with a deadline


# ---------------------------------------------------------------- HTTP with measurements


@dataclass
class Call:
    route: str
    status: int  # 0: no answer (transport error, timeout)
    ms: float
    code: str = ""


class Client:
    """aiohttp against the gateway's /api, every call recorded by route."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.calls: list[Call] = []
        self.transport_errors: list[str] = []

    async def call(
        self,
        method: str,
        path: str,
        route: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        try:
            async with self.session.request(
                method,
                f"{self.base}/api{path}",
                json=body,
                headers=sent,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                raw = await response.read()
                status, answer_headers = response.status, dict(response.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.calls.append(Call(route, 0, (time.perf_counter() - started) * 1000))
            self.transport_errors.append(f"{route}: {type(exc).__name__}: {exc}")
            return 0, None, {}
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        code = payload.get("Code", "") if isinstance(payload, dict) and status >= 400 else ""
        self.calls.append(Call(route, status, (time.perf_counter() - started) * 1000, code))
        return status, payload, answer_headers


class Feed:
    """One AppSync Events WebSocket with a reader task: every data event, decoded."""

    def __init__(self) -> None:
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.events: list[dict[str, Any]] = []
        self.latencies_ms: list[float] = []
        self.changed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None
        self.authorization = ""

    async def open(self, session: aiohttp.ClientSession, base: str, token: str, channel: str) -> bool:
        self.authorization = f"Bearer {token}"
        header = encode_header_protocol({"host": base.split("://", 1)[1], "Authorization": self.authorization})
        self.ws = await asyncio.wait_for(
            session.ws_connect(f"{base.replace('http', 'ws', 1)}/event/realtime", protocols=(PROTOCOL, header)),
            REQUEST_TIMEOUT_S,
        )
        await self.ws.send_json({"type": "connection_init"})
        if (await self._next("connection_ack", "connection_error"))["type"] != "connection_ack":
            return False
        await self.ws.send_json(
            {
                "type": "subscribe",
                "id": str(uuid.uuid4()),
                "channel": channel,
                "authorization": {"Authorization": self.authorization},
            }
        )
        if (await self._next("subscribe_success", "subscribe_error"))["type"] != "subscribe_success":
            return False
        self.reader = asyncio.create_task(self._read())
        return True

    async def _next(self, *types: str) -> dict[str, Any]:
        assert self.ws is not None
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while True:
            message = await self.ws.receive_json(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("type") in types:
                return message

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data.get("type") != "data":
                continue
            event = json.loads(data["event"])
            self.events.append(event)
            with contextlib.suppress(KeyError, ValueError, TypeError):
                occurred = dt.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
                self.latencies_ms.append((time.time() - occurred) * 1000)
            self.changed.set()

    async def wait(self, condition: Any, timeout_s: float) -> bool:
        """Until `condition()` holds (re-checked on every event) or the timeout."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            if condition():
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    def statuses(self, order_id: str) -> set[str]:
        return {str(e.get("status")) for e in self.events if e.get("order_id") == order_id}

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader


# ---------------------------------------------------------------- the party


@dataclass
class PartyConfig:
    guests: int = 60
    orders_per_guest: int = 2
    late_phones: int = 3  # redeem the same invite after it is used up: 403
    join_window_s: float = 10.0  # 0: every phone at the same moment
    max_queue: int = 40  # pending + in_progress
    max_active_per_guest: int = 1
    concurrent_retry_every: int = 4  # every n-th guest sends its first order twice at once
    replay_every: int = 4  # every n-th guest (offset 2) re-sends it after the answer
    display_interval_s: float = 1.0
    deadline_s: float = 240.0
    seed: int = 8


@dataclass
class Guest:
    index: int
    name: str
    guest_id: str = ""
    token: str = ""
    feed: Feed = field(default_factory=Feed)
    placed: list[str] = field(default_factory=list)  # order ids answered 201, in order
    missed_ws: list[str] = field(default_factory=list)  # "order status" never heard
    # "order completed" not heard within WS_WAIT_S of starting to wait (the bar was busy,
    # or the event late): the guest then also polled GET /orders, as the web app would.
    late_ws: list[str] = field(default_factory=list)
    polled_completed: set[str] = field(default_factory=set)  # seen completed by polling instead
    foreign_events: int = 0
    final_orders: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PartyResult:
    config: PartyConfig
    invite: dict[str, Any] = field(default_factory=dict)
    invite_after: dict[str, Any] = field(default_factory=dict)
    join_statuses: Counter[int] = field(default_factory=Counter)
    join_seconds: float = 0.0
    first_round: Counter[str] = field(default_factory=Counter)  # status/code of first orders
    probe_round: Counter[str] = field(default_factory=Counter)  # the next order, tried at once
    # Idempotency-Key -> every answer: (status, order id, Idempotent-Replayed, sent, answered)
    keys: dict[str, list[tuple[int, str, str, float, float]]] = field(default_factory=dict)
    placed: dict[str, str] = field(default_factory=dict)  # order id -> guest id (every 201)
    board_seen: set[str] = field(default_factory=set)
    board_duplicates: list[str] = field(default_factory=list)
    moves: Counter[str] = field(default_factory=Counter)
    display_polls: int = 0
    guests: list[Guest] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Filled in by check(): from the database and the stack.
    idle_in_transaction: list[dict[str, Any]] = field(default_factory=list)
    db_orders: int = 0
    limit_violations: list[str] = field(default_factory=list)
    conflict_retries: int = 0


def _outcome(status: int, what: str) -> str:
    """ "201", "200" or "409 QueueFull": how an order attempt ended."""
    return str(status) if status in (200, 201) else f"{status} {what}".strip()


def _order_body(drink_id: str, note: str) -> dict[str, Any]:
    return {"items": [{"drink_id": drink_id, "quantity": 1, "notes": note}]}


async def run_party(stack: LocalStack, config: PartyConfig) -> PartyResult:
    """The whole party (see the module's docstring); never raises for what it finds."""
    result = PartyResult(config)
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(session, stack.base_url)
        party = _Party(stack, config, client, session, result)
        try:
            await asyncio.wait_for(party.run(), config.deadline_s)
        except TimeoutError:
            result.timed_out = True
        except Exception as exc:  # reported, not raised: the checks say what failed
            result.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            await party.close()
        result.calls = client.calls
        result.transport_errors = client.transport_errors
    result.seconds = time.perf_counter() - started
    return result


class _Party:
    def __init__(
        self,
        stack: LocalStack,
        config: PartyConfig,
        client: Client,
        session: aiohttp.ClientSession,
        result: PartyResult,
    ) -> None:
        self.stack = stack
        self.config = config
        self.client = client
        self.session = session
        self.result = result
        self.admin = admin_token(stack.port)
        self.rng = random.Random(config.seed)
        self.guests_done = asyncio.Event()
        self.board_feed = Feed()
        self.drinks: list[dict[str, Any]] = []
        self.ingredients: list[str] = []
        self.deadline_at = time.monotonic() + config.deadline_s

    async def run(self) -> None:
        config, client = self.config, self.client
        status, bar, _ = await client.call(
            "PUT",
            "/admin/bar",
            "PUT /admin/bar",
            token=self.admin,
            body={"is_open": True, "message": "", "max_queue": config.max_queue,
                  "max_active_per_guest": config.max_active_per_guest},
        )  # fmt: skip
        if status != 200:
            raise RuntimeError(f"PUT /admin/bar -> {status} {bar}")
        status, invite, _ = await client.call(
            "POST",
            "/admin/registration-codes",
            "POST /admin/registration-codes",
            token=self.admin,
            body={"max_uses": config.guests, "expires_in_hours": 4, "note": "party load"},
        )
        if status != 201:
            raise RuntimeError(f"POST /admin/registration-codes -> {status} {invite}")
        self.result.invite = invite
        _, drinks, _ = await client.call("GET", "/drinks?available=true", "GET /drinks?available")
        self.drinks = drinks or []
        _, ingredients, _ = await client.call("GET", "/ingredients", "GET /ingredients")
        self.ingredients = [i["name"] for i in ingredients or [] if i.get("in_stock", True)][:12] or ["lime juice"]
        if not self.drinks:
            raise RuntimeError("no drink is available to order")

        guests = await self.join(invite["code"])
        self.result.guests = guests
        subscribed = await asyncio.gather(*(self.arrive(g) for g in guests))
        if not all(subscribed):
            self.result.errors.append(f"{subscribed.count(False)} guests could not subscribe to their orders")
        await self.board_feed.open(self.session, self.stack.base_url, self.admin, "/orders/admin")

        display = asyncio.create_task(self.display())
        try:
            # The rush, before anyone works the board, so what the limits refuse is exact:
            # every first order at once (the queue limit decides) ...
            await asyncio.gather(*(self.first_order(g) for g in guests))
            # ... the bartender gets every order to "ready" (the queue empties; a ready order
            # still counts for its guest) ...
            await self.bartender_pass(until="ready")
            # ... and everyone tries again at once: the next order (the per-guest limit
            # decides) or the refused first one (now there is room).
            await asyncio.gather(*(self.second_try(g) for g in guests))
            bartender = asyncio.create_task(self.bartender())
            try:
                await asyncio.gather(*(self.keep_ordering(g) for g in guests))
                self.guests_done.set()
                await asyncio.wait_for(asyncio.shield(bartender), REQUEST_TIMEOUT_S)
            finally:
                bartender.cancel()
        finally:
            self.guests_done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(display), REQUEST_TIMEOUT_S)
            display.cancel()
        await asyncio.gather(*(self.settle(g) for g in guests))
        _, codes, _ = await client.call(
            "GET", "/admin/registration-codes", "GET /admin/registration-codes", token=self.admin
        )
        self.result.invite_after = next((c for c in codes or [] if c.get("code") == invite["code"]), {})

    async def close(self) -> None:
        await self.board_feed.close()
        for guest in self.result.guests:
            await guest.feed.close()

    # ------------------------------------------------------------ guests

    async def join(self, code: str) -> list[Guest]:
        """Every phone redeems the invite (spread over the join window, or all at once)."""
        config = self.config
        phones = config.guests + config.late_phones
        offsets = sorted(self.rng.uniform(0, config.join_window_s) for _ in range(phones))
        started = time.monotonic()

        async def phone(index: int, offset: float) -> Guest | None:
            await asyncio.sleep(max(0.0, started + offset - time.monotonic()))  # the guest's arrival time
            guest = Guest(index, f"Guest {index + 1}")
            status, session, _ = await self.client.call(
                "POST", "/register", "POST /register", body={"code": code, "name": guest.name}
            )
            self.result.join_statuses[status] += 1
            if status != 201:
                return None
            guest.guest_id, guest.token = str(session["guest"]["id"]), session["access_token"]
            return guest

        joined = await asyncio.gather(*(phone(i, offset) for i, offset in enumerate(offsets)))
        self.result.join_seconds = time.monotonic() - started
        return [g for g in joined if g is not None]

    async def arrive(self, guest: Guest) -> bool:
        """Look around the menu like a guest does, then follow one's own orders."""
        c, rng = self.client, random.Random(self.config.seed + guest.index)
        await c.call("GET", "/bar", "GET /bar")
        await c.call("GET", "/sections", "GET /sections")
        await c.call("GET", "/drinks", "GET /drinks")
        ingredient = urllib.request.quote(rng.choice(self.ingredients))
        await c.call("GET", f"/drinks?ingredient={ingredient}&available=true", "GET /drinks?ingredient&available")
        await c.call("GET", f"/drinks?q={urllib.request.quote(rng.choice(['sour', 'gin', 'rum', 'spritz']))}",
                     "GET /drinks?q")  # fmt: skip
        await c.call("GET", f"/drinks/{rng.choice(self.drinks)['id']}", "GET /drinks/{id}")
        await c.call("GET", "/me", "GET /me", token=guest.token)
        try:
            return await guest.feed.open(
                self.session, self.stack.base_url, guest.token, f"/orders/guest/{guest.guest_id}"
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.client.transport_errors.append(f"websocket of {guest.name}: {type(exc).__name__}: {exc}")
            return False

    def _key(self, guest: Guest, n: int) -> str:
        return f"party-{guest.guest_id}-{n}"

    def _drink(self, guest: Guest, n: int) -> str:
        return str(self.drinks[(guest.index * 7 + n) % len(self.drinks)]["id"])

    async def order(self, guest: Guest, n: int, route: str = "POST /orders") -> tuple[int, str]:
        """One attempt at the guest's n-th order (its own Idempotency-Key): (status, id or Code)."""
        key = self._key(guest, n)
        sent = time.monotonic()
        status, answer, headers = await self.client.call(
            "POST",
            "/orders",
            route,
            token=guest.token,
            body=_order_body(self._drink(guest, n), f"order {n}"),
            headers={"Idempotency-Key": key},
        )
        ident = answer.get("id", "") if status in (200, 201) and isinstance(answer, dict) else ""
        replayed = headers.get("Idempotent-Replayed", "")
        self.result.keys.setdefault(key, []).append((status, str(ident), replayed, sent, time.monotonic()))
        if status == 201:
            guest.placed.append(str(ident))
            self.result.placed[str(ident)] = guest.guest_id
        if status in (200, 201):
            return status, str(ident)
        return status, answer.get("Code", "") if isinstance(answer, dict) else ""

    async def first_order(self, guest: Guest) -> None:
        config = self.config
        if config.concurrent_retry_every and guest.index % config.concurrent_retry_every == 0:
            # A phone that re-sent on a flaky network: the same order twice at the same moment.
            answers = await asyncio.gather(self.order(guest, 0), self.order(guest, 0, "POST /orders (retry)"))
        else:
            answers = [await self.order(guest, 0)]
            if config.replay_every and guest.index % config.replay_every == 2 and answers[0][0] == 201:
                answers.append(await self.order(guest, 0, "POST /orders (retry)"))
        first = next((a for a in answers if a[0] == 201), answers[0])
        self.result.first_round[_outcome(*first)] += 1

    async def second_try(self, guest: Guest) -> None:
        """After the rush: a guest with an order tries the next one; one without, again."""
        if not guest.placed:
            self.result.probe_round[_outcome(*await self.order(guest, 0))] += 1
        elif self.config.orders_per_guest > 1:
            self.result.probe_round[_outcome(*await self.order(guest, 1))] += 1

    def _active(self, guest: Guest) -> list[str]:
        return [
            o for o in guest.placed if o not in guest.polled_completed and "completed" not in guest.feed.statuses(o)
        ]

    async def _wait_completed(self, guest: Guest, order_id: str) -> None:
        """Until the order is completed: heard over the WebSocket, or else polled."""
        heard = await guest.feed.wait(lambda: "completed" in guest.feed.statuses(order_id), WS_WAIT_S)
        if heard:
            return
        guest.late_ws.append(f"{order_id} completed")
        while time.monotonic() < self.deadline_at:
            _, mine, _ = await self.client.call("GET", "/orders", "GET /orders", token=guest.token)
            if any(o.get("id") == order_id and o.get("status") == "completed" for o in mine or []):
                guest.polled_completed.add(order_id)
                return
            await guest.feed.wait(lambda: False, 2.0)  # the web app's poll interval, woken by nothing

    async def keep_ordering(self, guest: Guest) -> None:
        """Place the rest of the guest's orders, within the bar's limits."""
        config = self.config
        placed_keys = {key for key, answers in self.result.keys.items() if any(a[0] == 201 for a in answers)}
        n = next((i for i in range(config.orders_per_guest) if self._key(guest, i) not in placed_keys), None)
        backoff = 0.2
        while n is not None and time.monotonic() < self.deadline_at:
            active = self._active(guest)
            if len(active) >= config.max_active_per_guest:
                await self._wait_completed(guest, active[0])
                continue
            status, what = await self.order(guest, n)
            if status in (200, 201):
                n = n + 1 if n + 1 < config.orders_per_guest else None
                backoff = 0.2
            elif status == 409 and what == "TooManyActiveOrders" and self._active(guest):
                await self._wait_completed(guest, self._active(guest)[0])
            else:  # QueueFull (or anything else): the guest tries again a little later
                await asyncio.sleep(backoff * (0.5 + self.rng.random()))  # the guest's think time
                backoff = min(2.0, backoff * 1.5)
        for order_id in self._active(guest):
            await self._wait_completed(guest, order_id)

    async def settle(self, guest: Guest) -> None:
        """Every change heard (or given up on), then what "My orders" shows."""
        await guest.feed.wait(lambda: all(set(STEPS) <= guest.feed.statuses(o) for o in guest.placed), WS_WAIT_S)
        for order_id in guest.placed:
            guest.missed_ws += [f"{order_id} {s}" for s in STEPS if s not in guest.feed.statuses(order_id)]
        guest.foreign_events = sum(1 for e in guest.feed.events if e.get("guest_id") not in (None, guest.guest_id))
        _, mine, _ = await self.client.call("GET", "/orders", "GET /orders", token=guest.token)
        guest.final_orders = mine if isinstance(mine, list) else []

    # ------------------------------------------------------------ the bar

    async def look_at_board(self) -> list[dict[str, Any]]:
        status, board, _ = await self.client.call("GET", "/admin/orders", "GET /admin/orders", token=self.admin)
        orders = board if status == 200 and isinstance(board, list) else []
        ids = [str(o["id"]) for o in orders]
        self.result.board_duplicates += [i for i, n in Counter(ids).items() if n > 1]
        self.result.board_seen.update(ids)
        return orders

    async def move(self, order_id: str, status: str) -> None:
        code, answer, _ = await self.client.call(
            "PUT", f"/admin/orders/{order_id}", "PUT /admin/orders/{id}", token=self.admin, body={"status": status}
        )
        self.result.moves["200" if code == 200 else f"{code} {answer}"] += 1

    async def bartender_pass(self, until: str) -> None:
        """Every order on the board moved step by step up to `until`."""
        for order in await self.look_at_board():
            status = order["status"]
            while STEPS.index(status) < STEPS.index(until):
                status = NEXT_STATUS[status]
                await self.move(str(order["id"]), status)

    async def bartender(self) -> None:
        """One admin works the board: every order one step at a time, oldest first."""
        while True:
            self.board_feed.changed.clear()
            orders = await self.look_at_board()
            if not orders:
                if self.guests_done.is_set():
                    return
                # Nothing to do: wait for the next order event (or look again in a second).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.board_feed.changed.wait(), 1.0)
                continue
            for order in orders:
                await self.move(str(order["id"]), NEXT_STATUS[order["status"]])

    async def display(self) -> None:
        """The bar's TV: the order board and the join QR, polled until the party ends."""
        c, polls = self.client, 0
        while not self.guests_done.is_set():
            await c.call("GET", "/admin/orders", "GET /admin/orders (display)", token=self.admin)
            if polls % 5 == 0:
                await c.call("GET", "/admin/registration-codes", "GET /admin/registration-codes (display)",
                             token=self.admin)  # fmt: skip
            polls += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.guests_done.wait(), self.config.display_interval_s)
        self.result.display_polls = polls


# ---------------------------------------------------------------- after the party


def replay_limits(database_url: str, max_queue: int, max_active_per_guest: int) -> tuple[int, list[str]]:
    """(orders in the database, limit violations) replayed from the order history: at
    every placement, in time order, the queue (pending + in_progress) and the guest's
    active orders (+ ready), each order counted from its placement until a move out of
    them. Times are transaction starts (now()); a move counts from MOVE_TOLERANCE_S
    before its start, because a placement's snapshot is taken a moment after its own
    start and may already see a move that began after it."""
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        orders = conn.execute("SELECT id, guest_id, number, created_at FROM orders").fetchall()
        history = conn.execute("SELECT order_id, status, changed_at FROM order_status_history").fetchall()
    return len(orders), limit_violations(orders, history, max_queue, max_active_per_guest)


def limit_violations(
    orders: list[dict[str, Any]], history: list[dict[str, Any]], max_queue: int, max_active_per_guest: int
) -> list[str]:
    """The replay of `replay_limits` over rows of orders (id, guest_id, number,
    created_at) and order_status_history (order_id, status, changed_at)."""
    orders = sorted(orders, key=lambda o: (o["created_at"], str(o["id"])))
    left_queue: dict[Any, dt.datetime] = {}
    left_active: dict[Any, dt.datetime] = {}
    for row in history:
        oid, at = row["order_id"], row["changed_at"]
        if row["status"] in ("ready", "completed", "cancelled"):
            left_queue[oid] = min(at, left_queue.get(oid, at))
        if row["status"] in ("completed", "cancelled"):
            left_active[oid] = min(at, left_active.get(oid, at))
    tolerance = dt.timedelta(seconds=MOVE_TOLERANCE_S)
    violations: list[str] = []
    for index, placed in enumerate(orders):
        at = placed["created_at"] + tolerance
        before = orders[: index + 1]
        queue = [o for o in before if o["id"] not in left_queue or left_queue[o["id"]] > at]
        mine = [
            o
            for o in before
            if o["guest_id"] == placed["guest_id"] and (o["id"] not in left_active or left_active[o["id"]] > at)
        ]
        when = placed["created_at"].strftime("%H:%M:%S.%f")[:-3]
        if len(queue) > max_queue:
            violations.append(f"order #{placed['number']} at {when}: {len(queue)} in the queue (limit {max_queue})")
        if len(mine) > max_active_per_guest:
            violations.append(
                f"order #{placed['number']} at {when}: its guest had {len(mine)} active (limit {max_active_per_guest})"
            )
    return violations


def check(stack: LocalStack, result: PartyResult) -> list[str]:
    """What went wrong, one line each (empty: the party held). Reads the stack's database."""
    config, failures = result.config, []
    result.idle_in_transaction = idle_in_transaction(stack.database_url)
    result.db_orders, result.limit_violations = replay_limits(
        stack.database_url, config.max_queue, config.max_active_per_guest
    )
    result.conflict_retries = stack.conflict_retries()

    if result.timed_out:
        failures.append(f"the party did not finish within {config.deadline_s} s")
    failures += [f"error: {e}" for e in result.errors]
    server_errors = Counter((c.route, c.status) for c in result.calls if c.status >= 500)
    if server_errors:
        failures.append(f"responses >= 500: {dict(server_errors)}")
    if result.transport_errors:
        failures.append(f"{len(result.transport_errors)} requests got no answer, e.g. {result.transport_errors[0]}")
    if result.idle_in_transaction:
        failures.append(f"sessions idle in transaction: {result.idle_in_transaction}")

    # The invite: exactly its uses, no more.
    if result.join_statuses != Counter({201: config.guests, 403: config.late_phones} if config.late_phones
                                       else {201: config.guests}):  # fmt: skip
        failures.append(
            f"registrations: {dict(result.join_statuses)}, expected {config.guests} x 201, {config.late_phones} x 403"
        )
    if result.invite_after.get("uses") != config.guests or result.invite_after.get("status") != "used_up":
        failures.append(f"invite uses {result.invite_after.get('uses')} ({result.invite_after.get('status')}), "
                        f"expected {config.guests} (used_up)")  # fmt: skip

    # Orders: every guest all of theirs, each on the board, nothing extra in the database.
    expected = len(result.guests) * config.orders_per_guest
    if len(result.placed) != expected:
        failures.append(f"{len(result.placed)} orders answered 201, expected {expected}")
    short = [g.name for g in result.guests if len(g.placed) != config.orders_per_guest]
    if short:
        failures.append(f"guests without all their orders: {short[:10]}")
    if result.db_orders != len(result.placed):
        failures.append(f"{result.db_orders} orders in the database, {len(result.placed)} answered 201")
    missing = set(result.placed) - result.board_seen
    if missing:
        failures.append(f"{len(missing)} orders answered 201 never showed on the board, e.g. {sorted(missing)[:3]}")
    if result.board_duplicates:
        failures.append(f"orders twice on one board listing: {sorted(set(result.board_duplicates))[:5]}")
    for guest in result.guests:
        finals = {o.get("id"): o.get("status") for o in guest.final_orders}
        if finals != {order_id: "completed" for order_id in guest.placed}:
            failures.append(f"{guest.name}'s GET /orders shows {finals}, expected all of {guest.placed} completed")
            break

    # Idempotency-Keys: one order per key; a retry answers that same order.
    for key, answers in result.keys.items():
        created = [a for a in answers if a[0] == 201]
        replays = [a for a in answers if a[0] == 200]
        bad = [a for a in answers if a[0] not in (200, 201, 409)]
        ids = {a[1] for a in created + replays}
        if len(created) > 1 or bad or len(ids) > 1 or (replays and not created):
            failures.append(f"Idempotency-Key {key}: answers {answers}")
        elif created and any(a[0] == 409 and a[3] > created[0][4] for a in answers):
            failures.append(f"Idempotency-Key {key}: a retry after the 201 was refused: {answers}")
        elif any(a[2] != "true" for a in replays):
            failures.append(f"Idempotency-Key {key}: a 200 without Idempotent-Replayed: {answers}")

    # Realtime: every status change of every order reached its guest, and only its guest.
    missed = [m for g in result.guests for m in g.missed_ws]
    if missed:
        failures.append(f"{len(missed)} status changes never reached their guest over the WebSocket: {missed[:5]}")
    foreign = sum(g.foreign_events for g in result.guests)
    if foreign:
        failures.append(f"{foreign} events reached a guest they do not belong to")

    # The bar's limits, replayed from the history.
    if result.limit_violations:
        failures.append(f"limits exceeded: {result.limit_violations[:5]}")
    if any(not k.startswith("200") for k in result.moves):
        failures.append(f"board moves: {dict(result.moves)}")
    return failures


# ---------------------------------------------------------------- the report


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))] if ordered else 0.0


def summary(result: PartyResult, failures: list[str]) -> dict[str, Any]:
    routes: dict[str, list[Call]] = defaultdict(list)
    for c in result.calls:
        routes[c.route].append(c)
    ws = [v for g in result.guests for v in g.feed.latencies_ms]
    return {
        "config": asdict(result.config),
        "seconds": round(result.seconds, 2),
        "join_seconds": round(result.join_seconds, 2),
        "requests": len(result.calls),
        "routes": {
            route: {
                "n": len(calls),
                "p50_ms": round(percentile([c.ms for c in calls], 50), 1),
                "p95_ms": round(percentile([c.ms for c in calls], 95), 1),
                "max_ms": round(max(c.ms for c in calls), 1),
                "statuses": dict(sorted(Counter(f"{c.status} {c.code}".strip() for c in calls).items())),
            }
            for route, calls in sorted(routes.items())
        },
        "errors_by_status": dict(
            sorted(Counter(str(c.status) for c in result.calls if c.status >= 400 or c.status == 0).items())
        ),  # fmt: skip
        "registrations": {str(k): v for k, v in sorted(result.join_statuses.items())},
        "first_round": dict(result.first_round),
        "next_order_at_once": dict(result.probe_round),
        "orders_placed": len(result.placed),
        "orders_in_database": result.db_orders,
        "board_moves": dict(result.moves),
        "display_polls": result.display_polls,
        "status_events_heard": sum(len(g.feed.events) for g in result.guests),
        "long_waits_polled": sum(len(g.late_ws) for g in result.guests),
        "ws_delivery_ms": {
            "n": len(ws),
            "p50": round(percentile(ws, 50), 1),
            "p95": round(percentile(ws, 95), 1),
            "mean": round(statistics.fmean(ws), 1) if ws else 0.0,
        },
        "db_conflict_retries": result.conflict_retries,
        "idle_in_transaction": len(result.idle_in_transaction),
        "failures": failures,
    }


def report(data: dict[str, Any]) -> str:
    lines = [
        f"party: {data['config']['guests']} guests x {data['config']['orders_per_guest']} orders, "
        f"{data['requests']} requests in {data['seconds']} s (joins took {data['join_seconds']} s)",
        f"  {'route':42} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses",
    ]
    for route, row in data["routes"].items():
        statuses = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        lines.append(
            f"  {route:42} {row['n']:>5} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['max_ms']:>8.1f}  {statuses}"
        )
    ws = data["ws_delivery_ms"]
    lines += [
        f"  errors by status: {data['errors_by_status'] or 'none'}",
        f"  registrations {data['registrations']}; first orders {data['first_round']}; "
        f"the next one at once {data['next_order_at_once']}",
        f"  orders placed {data['orders_placed']} (database {data['orders_in_database']}); board moves "
        f"{data['board_moves']}; display polls {data['display_polls']}",
        f"  status events heard by guests {data['status_events_heard']}; event -> guest {ws['p50']} ms p50 / "
        f"{ws['p95']} ms p95 (n {ws['n']}); waits for a completion over {WS_WAIT_S} s (then also polled) "
        f"{data['long_waits_polled']}",
        f"  db conflict retries {data['db_conflict_retries']}; "
        f"sessions idle in transaction {data['idle_in_transaction']}",
    ]
    lines += (
        ["checks: all hold"] if not data["failures"] else ["checks FAILED:"] + [f"  - {f}" for f in data["failures"]]
    )
    return "\n".join(lines)


@contextlib.contextmanager
def party_stack(log_path: Path) -> Iterator[LocalStack]:
    with LocalStack(log_path) as stack:
        yield stack
