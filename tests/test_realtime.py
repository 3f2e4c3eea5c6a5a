"""Live order status: the channel rules, the AppSync Lambda authorizer, the SigV4-signed
publish, and the local gateway's AppSync Events protocol (a real aiohttp server on
loopback, real WebSocket clients, the app's real authorizer and tokens)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botocore.credentials import Credentials

from chalicelib import realtime
from chalicelib.auth import ADMIN, GUEST, USER, AuthError, Principal
from local import realtime as local_realtime
from local.realtime_client import run
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)
from tests.servers import ServerThread, free_port

GUEST_ID = str(uuid.uuid4())
OTHER_ID = str(uuid.uuid4())
GUEST_P = Principal(GUEST_ID, "Ana", GUEST, "guest")
ADMIN_P = Principal(str(uuid.uuid4()), "host", ADMIN, "cognito")
USER_P = Principal(str(uuid.uuid4()), "someone", USER, "cognito")


# ---------------------------------------------------------------- channel rules


@pytest.mark.parametrize(
    ("principal", "channel", "allowed"),
    [
        (GUEST_P, f"/orders/guest/{GUEST_ID}", True),
        (GUEST_P, f"/orders/guest/{OTHER_ID}", False),
        (GUEST_P, "/orders/guest/*", False),
        (GUEST_P, "/orders/*", False),
        (GUEST_P, "/orders/admin", False),
        (GUEST_P, "/menu/updates", True),
        (GUEST_P, "/menu/*", False),
        (USER_P, "/menu/updates", True),
        (USER_P, f"/orders/guest/{USER_P.user_id}", False),  # a signed-in non-guest has no order channel
        (None, "/menu/updates", True),
        (None, "/orders/admin", False),
        (None, f"/orders/guest/{GUEST_ID}", False),
        (ADMIN_P, "/orders/admin", True),
        (ADMIN_P, f"/orders/guest/{GUEST_ID}", True),
        (ADMIN_P, "/orders/*", True),
        (ADMIN_P, "/menu/updates", True),
        (ADMIN_P, "/orders/../admin", False),
        (ADMIN_P, "orders/admin", False),
        (ADMIN_P, "/orders/*/x", False),
    ],
)
def test_who_may_subscribe_where(principal: Principal | None, channel: str, allowed: bool) -> None:
    assert realtime.channel_allowed(principal, channel, realtime.SUBSCRIBE) is allowed


@pytest.mark.parametrize("principal", [None, GUEST_P, USER_P, ADMIN_P])
def test_clients_never_publish_but_anyone_may_connect(principal: Principal | None) -> None:
    for channel in ("/orders/admin", "/menu/updates", f"/orders/guest/{GUEST_ID}"):
        assert realtime.channel_allowed(principal, channel, realtime.PUBLISH) is False
    assert realtime.channel_allowed(principal, "", realtime.CONNECT) is True
    assert realtime.channel_allowed(principal, "/menu/updates", "bogus") is False


# ---------------------------------------------------------------- the Lambda authorizer


def authorizer_event(token: str, operation: str, channel: str | None) -> dict[str, Any]:
    """The request AppSync Events sends a Lambda authorizer."""
    return {
        "authorizationToken": token,
        "requestContext": {
            "apiId": "abcdefghijklmnopqrstuvwxyz",
            "accountId": "111122223333",
            "requestId": str(uuid.uuid4()),
            "operation": operation,
            "channelNamespaceName": channel.strip("/").split("/")[0] if channel else None,
            "channel": channel,
        },
        "requestHeaders": {"host": "example.appsync-api.us-east-1.amazonaws.com"},
    }


def stub_authenticate(header: str) -> Principal:
    return {"Bearer guest": GUEST_P, "Bearer admin": ADMIN_P}.get(header) or _raise(AuthError("forged"))


def _raise(exc: Exception) -> Any:
    raise exc


@pytest.mark.parametrize(
    ("token", "operation", "channel", "allowed"),
    [
        ("Bearer guest", "EVENT_SUBSCRIBE", f"/orders/guest/{GUEST_ID}", True),
        ("guest", "EVENT_SUBSCRIBE", f"/orders/guest/{GUEST_ID}", True),  # the raw token works too
        ("Bearer guest", "EVENT_SUBSCRIBE", f"/orders/guest/{OTHER_ID}", False),
        ("Bearer guest", "EVENT_SUBSCRIBE", "/orders/admin", False),
        ("Bearer admin", "EVENT_SUBSCRIBE", "/orders/admin", True),
        ("Bearer guest", "EVENT_CONNECT", None, True),
        ("anonymous", "EVENT_CONNECT", None, True),
        ("anonymous", "EVENT_SUBSCRIBE", "/menu/updates", True),
        ("anonymous", "EVENT_SUBSCRIBE", "/orders/admin", False),
        ("Bearer forged", "EVENT_CONNECT", None, False),  # a bad token is refused, not made anonymous
        ("Bearer forged", "EVENT_SUBSCRIBE", "/menu/updates", False),
        ("Bearer admin", "EVENT_PUBLISH", "/orders/admin", False),
        ("Bearer admin", "SOMETHING_ELSE", "/orders/admin", False),
    ],
)
def test_authorizer_request_and_response_shape(token: str, operation: str, channel: str | None, allowed: bool) -> None:
    answer = realtime.authorize_request(authorizer_event(token, operation, channel), stub_authenticate)
    assert answer == {"isAuthorized": allowed, "ttlOverride": 0}


def test_the_app_authorizer_uses_real_tokens(user_pool: Any, make_guest: Any) -> None:  # noqa: F811
    import app as app_module

    guest, token = make_guest("Ana")
    own, other = f"/orders/guest/{guest['id']}", f"/orders/guest/{uuid.uuid4()}"

    def ask(token: str, channel: str) -> bool:
        event = authorizer_event(token, "EVENT_SUBSCRIBE", channel)
        return app_module.realtime_authorizer(event, None)["isAuthorized"]

    assert ask(f"Bearer {token}", own) is True
    assert ask(f"Bearer {token}", other) is False
    assert ask(f"Bearer {token}", "/orders/admin") is False
    assert ask(f"Bearer {user_pool.admin_token()}", "/orders/admin") is True
    assert ask(f"Bearer {user_pool.token(groups=['staff'])}", "/orders/admin") is False
    assert ask(f"Bearer {user_pool.admin_token(exp=int(time.time()) - 3600)}", "/orders/admin") is False


# ---------------------------------------------------------------- order events -> messages


def order_event(guest_id: str, status: str = "in_progress", detail_type: str = "OrderStatusChanged") -> dict[str, Any]:
    """An EventBridge event as an SQS target receives it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "drink-assistant.api",
        "time": "2025-01-01T20:00:00Z",
        "detail": {
            "metadata": {"event_type": detail_type, "version": 1, "timestamp": "2025-01-01T20:00:00.123Z"},
            "data": {"order_id": str(uuid.uuid4()), "guest_id": guest_id, "number": 7, "status": status,
                     "previous_status": "pending"},
        },
    }


def test_an_order_event_goes_to_the_guest_and_the_admins() -> None:
    event = order_event(GUEST_ID)
    sent: list[tuple[str, list[dict[str, Any]]]] = []
    channels = realtime.deliver_order_event(event, lambda c, e: sent.append((c, e)))
    assert channels == [f"/orders/guest/{GUEST_ID}", "/orders/admin"]
    assert [c for c, _ in sent] == channels
    message = sent[0][1][0]
    assert message == sent[1][1][0]
    assert message["event_id"] == event["id"] and message["type"] == "OrderStatusChanged"
    assert message["status"] == "in_progress" and message["number"] == 7 and message["previous_status"] == "pending"
    # The publisher's own id wins (chalicelib/events.py puts one in the envelope).
    event["detail"]["metadata"]["event_id"] = "publisher-id"
    assert realtime.order_message(event)[1]["event_id"] == "publisher-id"
    with pytest.raises(ValueError):
        realtime.deliver_order_event({"detail": {"data": {"status": "ready"}}}, lambda c, e: None)


def menu_event(detail_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """A menu event as the realtime queue receives it (envelope from chalicelib/events.py)."""
    from chalicelib import events

    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": events.SOURCE,
            "time": "2025-01-01T20:00:00Z", "detail": events.envelope(detail_type, data)}


DRINK_ID, INGREDIENT_ID, SECTION_ID = (str(uuid.uuid4()) for _ in range(3))


@pytest.mark.parametrize(
    ("detail_type", "data", "ids"),
    [
        # Everything a drink event carries stays out of the public message but its id.
        ("DrinkCreated", {"drink_id": DRINK_ID, "name": "Gin Fizz", "image_key": "drink-images/x.png",
                          "photo_prompt": "secret-ish", "ingredients": [{"name": "Gin"}]}, {"drink_id": DRINK_ID}),
        ("DrinkUpdated", {"drink_id": DRINK_ID, "name": "Gin Fizz", "changed": ["garnish"]}, {"drink_id": DRINK_ID}),
        ("DrinkDeleted", {"drink_id": DRINK_ID, "name": "Gin Fizz"}, {"drink_id": DRINK_ID}),
        ("MenuChanged", {"kind": "ingredient", "id": INGREDIENT_ID, "change": "updated", "changed": ["in_stock"],
                         "in_stock": False}, {"ingredient_id": INGREDIENT_ID}),
        ("MenuChanged", {"kind": "section", "id": SECTION_ID, "change": "archived"}, {"section_id": SECTION_ID}),
        ("MenuChanged", {"kind": "something-new", "id": SECTION_ID}, {}),  # still "refetch", just no id
    ],
)
def test_a_menu_event_goes_to_the_menu_channel(detail_type: str, data: dict[str, Any], ids: dict[str, str]) -> None:
    event = menu_event(detail_type, data)
    sent: list[tuple[str, list[dict[str, Any]]]] = []
    assert realtime.deliver_event(event, lambda c, e: sent.append((c, e))) == ["/menu/updates"]
    ((channel, (message,)),) = sent
    assert channel == "/menu/updates"
    metadata = event["detail"]["metadata"]
    assert message == {"type": "menu_changed", "event_id": metadata["event_id"], "occurred_at": metadata["timestamp"],
                       "reason": detail_type, **ids}


def test_order_events_are_dispatched_as_before() -> None:
    event = order_event(GUEST_ID, detail_type="OrderPlaced")
    via_dispatch: list[tuple[str, list[dict[str, Any]]]] = []
    direct: list[tuple[str, list[dict[str, Any]]]] = []
    channels = realtime.deliver_event(event, lambda c, e: via_dispatch.append((c, e)))
    assert channels == realtime.deliver_order_event(event, lambda c, e: direct.append((c, e)))
    assert via_dispatch == direct and channels == [f"/orders/guest/{GUEST_ID}", "/orders/admin"]
    with pytest.raises(ValueError):  # a malformed order event still raises (retried, then the DLQ)
        realtime.deliver_event({"detail-type": "OrderPlaced", "detail": {"data": {}}}, lambda c, e: None)


def test_an_unknown_detail_type_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[Any] = []
    for detail_type in ("GuestRegistered", None):
        event = menu_event("DrinkCreated", {"drink_id": DRINK_ID})
        event["detail-type"] = detail_type
        with caplog.at_level("INFO", logger="chalicelib.realtime"):
            assert realtime.deliver_event(event, lambda c, e: sent.append((c, e))) == []
    assert sent == []
    skipped = [r for r in caplog.records if r.getMessage() == "realtime event skipped: unknown detail-type"]
    assert [r.detail_type for r in skipped] == ["GuestRegistered", None]
    assert all(r.levelname == "WARNING" for r in skipped)


def test_the_local_runner_routes_what_infra_declares(tmp_path: Any) -> None:
    """One source of truth: the emulator's rules are read from infra/events.yaml."""
    import app as app_module
    from chalicelib.config import settings
    from local import event_runner

    realtime_sub = next(s for s in event_runner.subscriptions(settings()) if s.name == "realtime")
    # Exactly the types the handler knows: none is routed only to be skipped.
    assert set(realtime_sub.detail_types) == set(realtime.ORDER_EVENTS + realtime.MENU_EVENTS + realtime.GUEST_EVENTS)
    assert realtime_sub.handler == "relay_to_realtime" and callable(getattr(app_module, realtime_sub.handler))
    # It is the file that decides (CloudFormation tags and all), and a pattern it cannot mirror is refused.
    template = tmp_path / "events.yaml"
    template.write_text(
        "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties:\n      Name: !Sub x-${Stage}\n"
        "      EventPattern:\n        source: [drink-assistant.api]\n        detail-type: [A, B]\n"
    )
    assert event_runner.declared_detail_types("R", template) == ("A", "B")
    template.write_text(template.read_text().replace("detail-type: [A, B]", "detail: {x: [1]}"))
    with pytest.raises(ValueError):
        event_runner.declared_detail_types.__wrapped__("R", template)


# ---------------------------------------------------------------- the signed publish

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
URL = "https://abc123.appsync-api.eu-west-1.amazonaws.com/event"


def test_publish_is_a_sigv4_signed_post_for_appsync() -> None:
    sent: list[Any] = []

    def send(request: Any) -> tuple[int, bytes]:
        sent.append(request)
        return 200, b'{"successful": [{"identifier": "x", "index": 0}], "failed": []}'

    events = [{"n": i, "status": "ready"} for i in range(7)]
    realtime.publish("/orders/admin", events, url=URL, region="eu-west-1", credentials=CREDS, send=send)
    assert len(sent) == 2  # batches of at most 5
    request = sent[0]
    assert request.method == "POST" and request.url == URL
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["host"] == "abc123.appsync-api.eu-west-1.amazonaws.com"
    assert headers["content-type"] == "application/json"
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    assert headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{today}/eu-west-1/appsync/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, Signature="
    )
    body = json.loads(request.body)
    assert body["channel"] == "/orders/admin"
    assert [json.loads(e) for e in body["events"]] == events[:5]
    assert all(isinstance(e, str) for e in body["events"])
    # The gateway's check accepts exactly this request, and nothing altered.
    check = dict(method="POST", url=URL, credentials=CREDS, region="eu-west-1")
    assert local_realtime.verify_sigv4(headers=request.headers, body=request.body, **check) is True
    assert local_realtime.verify_sigv4(headers=request.headers, body=request.body + b" ", **check) is False
    wrong = Credentials("AKIDEXAMPLE", "another-secret")
    assert local_realtime.verify_sigv4(**{**check, "credentials": wrong}, headers=request.headers,
                                       body=request.body) is False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    assert local_realtime.verify_sigv4(headers=request.headers, body=request.body, now=later, **check) is False


@pytest.mark.parametrize(
    ("status", "payload"),
    [(401, b'{"errors": [{"errorType": "UnauthorizedException"}]}'),
     (200, b'{"successful": [], "failed": [{"identifier": "x", "index": 0, "code": 400}]}')],
)
def test_a_refused_publish_raises(status: int, payload: bytes) -> None:
    with pytest.raises(realtime.PublishError):
        realtime.publish("/orders/admin", [{"a": 1}], url=URL, region="eu-west-1", credentials=CREDS,
                         send=lambda r: (status, payload))


def test_publish_needs_a_url_and_a_plain_channel() -> None:
    with pytest.raises(realtime.PublishError):
        realtime.publish("/orders/*", [{"a": 1}], url=URL, credentials=CREDS, send=lambda r: (200, b"{}"))
    with pytest.raises(realtime.PublishError):
        realtime.publish("/orders/admin", [{"a": 1}], url="", credentials=CREDS, send=lambda r: (200, b"{}"))


# ---------------------------------------------------------------- the local gateway (AppSync Events protocol)


def env_credentials() -> Any:
    import boto3

    return boto3.Session().get_credentials().get_frozen_credentials()


@pytest.fixture()
def gateway(user_pool: Any, make_guest: Any) -> Iterator[ServerThread]:  # noqa: F811
    app = web.Application()
    local_realtime.register(app, credentials=env_credentials(), region="us-east-1", keepalive_s=0.2)
    server = ServerThread(app)
    yield server
    server.stop()


class Client:
    """A WebSocket client speaking the AppSync Events protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, authorization: str) -> None:
        self.ws = ws
        self.authorization = authorization

    async def next(self, *types: str, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next message of one of `types` (keep-alives skipped), within a deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {types} message in time")
            message = await self.ws.receive_json(timeout=remaining)
            if message.get("type") in types:
                return message
            assert message.get("type") == "ka", f"unexpected message {message}"

    async def subscribe(self, channel: str, authorization: str | None = None) -> dict[str, Any]:
        sub_id = str(uuid.uuid4())
        await self.ws.send_json({"type": "subscribe", "id": sub_id, "channel": channel,
                                 "authorization": {"Authorization": authorization or self.authorization}})
        answer = await self.next("subscribe_success", "subscribe_error")
        assert answer["id"] == sub_id
        return answer


async def connect(session: aiohttp.ClientSession, server: ServerThread, authorization: str) -> Client:
    header = local_realtime.encode_header_protocol({"host": f"127.0.0.1:{server.port}", "Authorization": authorization})
    ws = await session.ws_connect(f"{server.url}/event/realtime", protocols=("aws-appsync-event-ws", header))
    assert ws.protocol == "aws-appsync-event-ws"
    client = Client(ws, authorization)
    await ws.send_json({"type": "connection_init"})
    ack = await client.next("connection_ack", "connection_error")
    assert ack == {"type": "connection_ack", "connectionTimeoutMs": 300000}
    return client


async def publish(server: ServerThread, channel: str, events: list[dict[str, Any]]) -> None:
    await asyncio.to_thread(realtime.publish, channel, events, url=f"{server.url}/event",
                            region="us-east-1", credentials=env_credentials())


def test_guest_subscribes_only_to_their_own_channel_and_receives_its_events(
    gateway: ServerThread, make_guest: Any, user_pool: Any  # noqa: F811
) -> None:
    guest, token = make_guest("Ana")
    other, _ = make_guest("Bo")
    own = f"/orders/guest/{guest['id']}"

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ana = await connect(session, gateway, f"Bearer {token}")
            assert (await ana.next("ka"))["type"] == "ka"  # keep-alives flow after the ack
            assert (await ana.subscribe(own))["type"] == "subscribe_success"
            for forbidden in (f"/orders/guest/{other['id']}", "/orders/admin", "/orders/guest/*", "/orders/*"):
                refused = await ana.subscribe(forbidden)
                assert refused["type"] == "subscribe_error"
                assert refused["errors"][0]["errorType"] == "UnauthorizedException"
            # No authorization on the subscribe message: refused (AppSync wants it on each one).
            await ana.ws.send_json({"type": "subscribe", "id": "no-auth", "channel": own})
            assert (await ana.next("subscribe_error"))["id"] == "no-auth"

            admin = await connect(session, gateway, f"Bearer {user_pool.admin_token()}")
            admin_sub = await admin.subscribe("/orders/admin")
            assert admin_sub["type"] == "subscribe_success"
            everything = await admin.subscribe("/orders/*")
            assert everything["type"] == "subscribe_success"
            guest_token_admin_channel = await admin.subscribe("/orders/admin", authorization=f"Bearer {token}")
            assert guest_token_admin_channel["type"] == "subscribe_error"

            await publish(gateway, f"/orders/guest/{other['id']}", [{"status": "ready", "for": "Bo"}])
            await publish(gateway, own, [{"status": "in_progress", "for": "Ana"}])
            data = await ana.next("data")  # Bo's event never reached Ana: hers is the first she gets
            assert json.loads(data["event"]) == {"status": "in_progress", "for": "Ana"}
            # The admin's wildcard saw both, in order.
            first, second = await admin.next("data"), await admin.next("data")
            assert first["id"] == second["id"] == everything["id"]
            assert [json.loads(m["event"])["for"] for m in (first, second)] == ["Bo", "Ana"]
            await ana.ws.close()
            await admin.ws.close()

    run(scenario())


def test_unsubscribe_stops_delivery_and_clients_cannot_publish(gateway: ServerThread, make_guest: Any) -> None:  # noqa: F811
    guest, token = make_guest("Ana")
    own = f"/orders/guest/{guest['id']}"

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ana = await connect(session, gateway, f"Bearer {token}")
            sub = await ana.subscribe(own)
            menu = await ana.subscribe("/menu/updates")
            await ana.ws.send_json({"type": "unsubscribe", "id": sub["id"]})
            assert (await ana.next("unsubscribe_success"))["id"] == sub["id"]
            await ana.ws.send_json({"type": "unsubscribe", "id": sub["id"]})
            assert (await ana.next("unsubscribe_error"))["id"] == sub["id"]
            await publish(gateway, own, [{"status": "ready"}])
            await publish(gateway, "/menu/updates", [{"menu": "changed"}])
            assert (await ana.next("data"))["id"] == menu["id"]  # the order event did not arrive first
            await ana.ws.send_json({"type": "publish", "id": "p1", "channel": own,
                                    "events": [json.dumps({"status": "ready"})],
                                    "authorization": {"Authorization": f"Bearer {token}"}})
            refused = await ana.next("publish_error")
            assert refused["id"] == "p1" and refused["errors"][0]["errorType"] == "UnauthorizedException"
            await ana.ws.close()

    run(scenario())


def test_anonymous_may_listen_to_the_menu_only_and_forged_tokens_are_refused(gateway: ServerThread) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            anon = await connect(session, gateway, "anonymous")
            assert (await anon.subscribe("/menu/updates"))["type"] == "subscribe_success"
            assert (await anon.subscribe("/orders/admin"))["type"] == "subscribe_error"
            assert (await anon.subscribe("/nosuch/channel"))["type"] == "subscribe_error"
            # A forged token is refused even for the public channel: never treated as anonymous.
            forged_sub = await anon.subscribe("/menu/updates", authorization="Bearer not.a.token")
            assert forged_sub["type"] == "subscribe_error"
            assert forged_sub["errors"][0]["errorType"] == "UnauthorizedException"
            await anon.ws.close()

            # No Authorization header at all (an API key only): AppSync cannot call the
            # Lambda authorizer without one, so the gateway refuses it too.
            header = local_realtime.encode_header_protocol({"host": "x", "x-api-key": "da2-key"})
            ws = await session.ws_connect(f"{gateway.url}/event/realtime", protocols=("aws-appsync-event-ws", header))
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_error"
            await ws.close()

            header = local_realtime.encode_header_protocol({"Authorization": "Bearer not.a.token"})
            ws = await session.ws_connect(f"{gateway.url}/event/realtime", protocols=("aws-appsync-event-ws", header))
            await ws.send_json({"type": "connection_init"})
            refused = await ws.receive_json(timeout=5)
            assert refused["type"] == "connection_error"
            assert refused["errors"][0]["errorType"] == "UnauthorizedException"
            await ws.close()

            with pytest.raises(aiohttp.WSServerHandshakeError):  # not the AppSync subprotocol
                await session.ws_connect(f"{gateway.url}/event/realtime", protocols=("graphql-ws",))

    run(scenario())


def test_publish_needs_a_valid_signature(gateway: ServerThread) -> None:
    import requests

    body = realtime.publish_body("/menu/updates", [{"x": 1}])
    url = f"{gateway.url}/event"
    unsigned = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert unsigned.status_code == 401 and unsigned.json()["errors"][0]["errorType"] == "UnauthorizedException"

    forged = realtime.signed_request(url, body, Credentials(env_credentials().access_key, "guessed"), "us-east-1")
    assert requests.post(url, data=forged.body, headers=dict(forged.headers), timeout=5).status_code == 401

    good = realtime.signed_request(url, body, env_credentials(), "us-east-1")
    tampered = body.replace(b'"x\\":1', b'"x\\":2')
    assert tampered != body
    assert requests.post(url, data=tampered, headers=dict(good.headers), timeout=5).status_code == 401

    bad_channel = realtime.signed_request(url, realtime.publish_body("/nosuch/x", [{}]), env_credentials(),
                                          "us-east-1")
    answer = requests.post(url, data=bad_channel.body, headers=dict(bad_channel.headers), timeout=5)
    assert answer.status_code == 400 and answer.json()["errors"][0]["errorType"] == "BadRequestException"

    ok = requests.post(url, data=good.body, headers=dict(good.headers), timeout=5)
    assert ok.status_code == 200 and ok.json()["failed"] == [] and len(ok.json()["successful"]) == 1


def test_the_sqs_handler_publishes_to_the_guest_and_raises_when_it_cannot(
    gateway: ServerThread, client: Any, make_guest: Any, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from chalicelib.config import settings

    guest, token = make_guest("Ana")
    event = order_event(str(guest["id"]), status="ready")

    async def scenario() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            ana = await connect(session, gateway, f"Bearer {token}")
            await ana.subscribe(f"/orders/guest/{guest['id']}")
            sqs = client.events.generate_sqs_event([json.dumps(event)], queue_name="drink-assistant-local-realtime")
            await asyncio.to_thread(client.lambda_.invoke, "relay_to_realtime", sqs)
            data = await ana.next("data")
            await ana.ws.close()
            return json.loads(data["event"])

    monkeypatch.setenv("REALTIME_HTTP_URL", f"{gateway.url}/event")
    settings.cache_clear()
    try:
        received = run(scenario())
        assert received["event_id"] == event["id"] and received["status"] == "ready"

        monkeypatch.setenv("REALTIME_HTTP_URL", f"http://127.0.0.1:{free_port()}/event")  # nobody listening
        settings.cache_clear()
        sqs = client.events.generate_sqs_event([json.dumps(event)], queue_name="drink-assistant-local-realtime")
        with pytest.raises(realtime.PublishError):
            client.lambda_.invoke("relay_to_realtime", sqs)
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_the_sqs_handler_relays_menu_events_to_anonymous_listeners(
    gateway: ServerThread, client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from chalicelib.config import settings

    change = menu_event("MenuChanged", {"kind": "ingredient", "id": INGREDIENT_ID, "change": "updated",
                                        "changed": ["in_stock"], "in_stock": False})
    unknown = menu_event("MenuChanged", {})
    unknown["detail-type"] = "SomethingNew"

    async def scenario() -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            anon = await connect(session, gateway, "anonymous")
            await anon.subscribe("/menu/updates")
            # One batch: the unknown event is skipped, the menu event arrives, nothing raises.
            sqs = client.events.generate_sqs_event([json.dumps(unknown), json.dumps(change)],
                                                   queue_name="drink-assistant-local-realtime")
            await asyncio.to_thread(client.lambda_.invoke, "relay_to_realtime", sqs)
            received = [json.loads((await anon.next("data"))["event"])]
            await anon.ws.close()
            return received

    monkeypatch.setenv("REALTIME_HTTP_URL", f"{gateway.url}/event")
    settings.cache_clear()
    try:
        (message,) = run(scenario())
        assert message == {"type": "menu_changed", "event_id": change["detail"]["metadata"]["event_id"],
                           "occurred_at": change["detail"]["metadata"]["timestamp"], "reason": "MenuChanged",
                           "ingredient_id": INGREDIENT_ID}
        assert "realtime event skipped: unknown detail-type" in caplog.text
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_the_gateway_serves_the_realtime_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from local.gateway import build_app

    server = ServerThread(build_app(api_upstream="http://127.0.0.1:9"))
    try:
        import requests

        config = requests.get(f"{server.url}/config.json", timeout=5).json()
        assert config["realtime"] == {"httpUrl": "/event", "wsUrl": "/event/realtime"}
    finally:
        server.stop()
