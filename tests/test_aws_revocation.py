"""Revoked guests stop listening (issue 16, defect 5). AppSync Events authorizes connect and
subscribe, not the messages of a subscription already open, so revocation is announced:
GuestRevoked after the commit, {"type": "revoked"} on the guest's channel, and the
authorizer refuses the guest from then on. Real PostgreSQL, moto for the bus and queue,
the local AppSync Events gateway over real WebSockets."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp
import boto3
import pytest

import app as app_module
from chalicelib import events, guests, realtime
from chalicelib.config import settings
from local.realtime_client import run
from tests.admin_menu_helpers import call, configure
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)
from tests.test_realtime import connect, gateway  # noqa: F401 (fixture)

BUS = "drink-assistant-events-revocation"


@pytest.fixture()
def bus_queue(secrets_manager: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:  # noqa: F811
    """The bus (moto, inside the secrets_manager fixture's mock) and a queue of its GuestRevoked events."""
    from chalicelib import aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    configure(monkeypatch, EVENT_BUS_NAME=BUS)
    aws.reset()
    eventbridge = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    eventbridge.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName=f"revoked-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": [events.SOURCE], "detail-type": list(realtime.GUEST_EVENTS)}
    eventbridge.put_rule(Name="revoked", EventBusName=BUS, EventPattern=json.dumps(pattern))
    eventbridge.put_targets(Rule="revoked", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
    yield sqs, url
    aws.reset()
    settings.cache_clear()


def revocations(queue: tuple[Any, str], count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
    """The next `count` GuestRevoked events (polled until a deadline), then none more."""
    sqs, url = queue
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(found) == count, found
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    return found


def join(client: Any, admin_headers: dict[str, str], name: str = "Ana") -> dict[str, Any]:
    """A guest through the real flow: an invite, then POST /register."""
    status, code = call(client, "POST", "/admin/registration-codes", admin_headers, {"max_uses": 5})
    assert status == 201, code
    status, session = call(client, "POST", "/register", {}, {"code": code["code"], "name": name})
    assert status == 201, session
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def subscribe_allowed(token: str, channel: str) -> bool:
    """The AppSync Events authorizer (the app's Lambda), as AppSync calls it on subscribe."""
    event = {
        "authorizationToken": f"Bearer {token}",
        "requestContext": {"operation": "EVENT_SUBSCRIBE", "channel": channel, "channelNamespaceName": "orders",
                           "apiId": "x", "accountId": "1", "requestId": "r"},
        "requestHeaders": {},
    }  # fmt: skip
    return app_module.realtime_authorizer(event, None)["isAuthorized"]


def test_the_host_revokes_a_guest(client: Any, admin_headers: dict[str, str], bus_queue: Any, admin_conn: Any) -> None:
    ana = join(client, admin_headers)
    guest_id, token = ana["guest"]["id"], ana["access_token"]
    channel = realtime.guest_channel(guest_id)
    assert call(client, "GET", "/me", bearer(token))[0] == 200 and subscribe_allowed(token, channel)

    status, revoked = call(client, "DELETE", f"/admin/guests/{guest_id}", admin_headers)
    assert status == 200, revoked
    assert revoked["id"] == guest_id and revoked["name"] == "Ana" and revoked["revoked_at"]
    (event,) = revocations(bus_queue, 1)
    assert event["detail-type"] == "GuestRevoked"
    assert event["detail"]["data"] == {"guest_id": guest_id, "reason": "admin"}

    # Everything the guest holds stops: the access token, the refresh token, new subscriptions.
    assert call(client, "GET", "/me", bearer(token))[0] == 401
    assert call(client, "POST", "/auth/refresh", {}, {"refresh_token": ana["refresh_token"]})[0] == 401
    assert not subscribe_allowed(token, channel)
    live = admin_conn.execute(
        "SELECT count(*) AS n FROM refresh_tokens WHERE guest_id = %s AND revoked_at IS NULL", (guest_id,)
    ).fetchone()["n"]
    assert live == 0

    # Again: the same answer, nothing announced twice. Unknown and malformed ids are refused.
    again = call(client, "DELETE", f"/admin/guests/{guest_id}", admin_headers)
    assert again == (200, revoked)
    revocations(bus_queue, 0)
    assert call(client, "DELETE", f"/admin/guests/{uuid.uuid4()}", admin_headers)[0] == 404
    status, error = call(client, "DELETE", "/admin/guests/not-a-uuid", admin_headers)
    assert status == 400 and set(error) == {"Code", "Message"}


def test_only_an_admin_may_revoke_and_a_refusal_changes_nothing(
    client: Any, admin_headers: dict[str, str], bus_queue: Any, user_pool: Any
) -> None:
    ana, bo = join(client, admin_headers, "Ana"), join(client, admin_headers, "Bo")
    target = f"/admin/guests/{bo['guest']['id']}"
    now = int(time.time())
    forged = admin_headers["Authorization"][:-6] + "AAAAAA"
    for headers, expected in (
        ({}, 401),  # no token
        (bearer(user_pool.admin_token(exp=now - 60, iat=now - 3600)), 401),  # expired
        ({"Authorization": forged}, 401),  # forged signature
        (bearer(user_pool.token(groups=["staff"])), 403),  # signed in, not an admin
        (bearer(ana["access_token"]), 403),  # a guest, revoking someone else
        (bearer(bo["access_token"]), 403),  # a guest, revoking themselves through the admin route
    ):
        status, body = call(client, "DELETE", target, headers)
        # (the body of an authorizer refusal is API Gateway's GatewayResponses, not the app's)
        assert status == expected, (headers, status, body)
    assert call(client, "GET", "/me", bearer(bo["access_token"]))[0] == 200  # Bo is untouched
    revocations(bus_queue, 0)


def test_a_reused_refresh_token_ends_the_guest_and_says_so(
    client: Any, admin_headers: dict[str, str], bus_queue: Any
) -> None:
    ana = join(client, admin_headers)
    status, second = call(client, "POST", "/auth/refresh", {}, {"refresh_token": ana["refresh_token"]})
    assert status == 200, second
    # The first refresh token comes back (someone copied it): the session is over, for both holders.
    assert call(client, "POST", "/auth/refresh", {}, {"refresh_token": ana["refresh_token"]})[0] == 401
    (event,) = revocations(bus_queue, 1)
    assert event["detail"]["data"] == {"guest_id": ana["guest"]["id"], "reason": "refresh_reuse"}
    assert call(client, "GET", "/me", bearer(second["access_token"]))[0] == 401
    assert not subscribe_allowed(second["access_token"], realtime.guest_channel(ana["guest"]["id"]))
    # Replaying it again ends nothing new and announces nothing.
    assert call(client, "POST", "/auth/refresh", {}, {"refresh_token": ana["refresh_token"]})[0] == 401
    revocations(bus_queue, 0)


def test_the_relay_puts_revoked_on_the_guest_channel_only() -> None:
    published: list[tuple[str, list[dict[str, Any]]]] = []
    event = {
        "id": "eb-1",
        "detail-type": "GuestRevoked",
        "time": "2025-01-01T20:00:00Z",
        "detail": {"metadata": {"event_id": "ev-1", "timestamp": "2025-01-01T20:00:00.123Z"},
                   "data": {"guest_id": "g-1", "reason": "admin"}},
    }  # fmt: skip
    assert realtime.deliver_event(event, lambda c, e: published.append((c, e))) == ["/orders/guest/g-1"]
    assert published == [("/orders/guest/g-1", [{"type": "revoked", "event_id": "ev-1",
                                                  "occurred_at": "2025-01-01T20:00:00.123Z",
                                                  "guest_id": "g-1", "reason": "admin"}])]  # fmt: skip
    with pytest.raises(ValueError):
        realtime.deliver_event({"detail-type": "GuestRevoked", "detail": {"data": {}}}, lambda c, e: None)
    with pytest.raises(ValueError):
        guests.revoked_event("g-1", "because")


def test_an_open_subscription_is_told_and_new_ones_are_refused(
    gateway: Any,  # noqa: F811
    client: Any,
    admin_headers: dict[str, str],
    bus_queue: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """End to end on loopback: the guest listens; the host revokes; the real event goes from
    the bus's queue through the relay Lambda to the gateway; the guest's open subscription
    gets "revoked"; subscribing again is refused."""
    ana = join(client, admin_headers)
    token, channel = ana["access_token"], realtime.guest_channel(ana["guest"]["id"])
    configure(monkeypatch, REALTIME_HTTP_URL=f"{gateway.url}/event")

    async def scenario() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            listener = await connect(session, gateway, f"Bearer {token}")
            assert (await listener.subscribe(channel))["type"] == "subscribe_success"
            status, _ = await asyncio.to_thread(call, client, "DELETE", f"/admin/guests/{ana['guest']['id']}",
                                                admin_headers)  # fmt: skip
            assert status == 200
            (event,) = await asyncio.to_thread(revocations, bus_queue, 1)
            records = [json.dumps(event)]
            sqs_event = client.events.generate_sqs_event(records, queue_name="drink-assistant-local-realtime")
            await asyncio.to_thread(client.lambda_.invoke, "relay_to_realtime", sqs_event)
            data = await listener.next("data")
            refused = await listener.subscribe(channel)
            assert refused["type"] == "subscribe_error"
            assert refused["errors"][0]["errorType"] == "UnauthorizedException"
            await listener.ws.close()
            return json.loads(data["event"])

    message = run(scenario())
    assert message["type"] == "revoked" and message["guest_id"] == ana["guest"]["id"]
    assert message["reason"] == "admin"
