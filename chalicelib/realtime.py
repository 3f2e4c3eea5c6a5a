"""Live order status and menu updates over AppSync Events: who may listen where, and publishing.

Channels (docs/architecture.md section 6; details in docs/realtime.md):

* `/orders/guest/{guest_id}`  that guest only (and admins)
* `/orders/admin`             admins only
* `/menu/updates`             anyone, signed in or not ("the menu changed": refetch it)

One rule set, `channel_allowed`, decides every subscription: in AWS the AppSync
Events Lambda authorizer (`authorize_request`, wired in app.py) calls it; locally the
gateway builds the same authorizer request and calls the same Lambda function.
Clients never publish: only the API does, over the HTTP endpoint, signed with SigV4
(AWS_IAM in AWS; the local gateway checks the same signature).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from chalicelib.auth import ADMIN, GUEST, AuthError, Principal

log = logging.getLogger(__name__)

CONNECT = "connect"
SUBSCRIBE = "subscribe"
PUBLISH = "publish"
# AppSync Events' operation names in the Lambda authorizer's requestContext.
OPERATIONS = {"EVENT_CONNECT": CONNECT, "EVENT_SUBSCRIBE": SUBSCRIBE, "EVENT_PUBLISH": PUBLISH}

ORDERS_ADMIN = "/orders/admin"
MENU_UPDATES = "/menu/updates"
GUEST_CHANNEL_PREFIX = "/orders/guest/"

# What the web app sends as its Authorization header when nobody is signed in: AppSync
# needs some header to call the Lambda authorizer, and the menu channel is public.
ANONYMOUS = "anonymous"

# AppSync channel paths: 1-5 segments of letters, digits and dashes (at most 50 each),
# optionally ending in the `/*` wildcard (subscribe only).
_SEGMENT = r"[A-Za-z0-9-]{1,50}"
CHANNEL = re.compile(rf"^(/{_SEGMENT}){{1,5}}(/\*)?$")
MAX_EVENTS_PER_PUBLISH = 5  # AppSync Events' batch limit for one publish
# Authorizer results are not cached: a cache keyed on the token could let a "yes" for
# one channel answer another, and a revoked guest must be refused at the very next
# connect or subscribe. (Subscriptions already open are cut by the "revoked" message.)
AUTHORIZER_TTL_S = 0


class PublishError(Exception):
    """AppSync refused (part of) a publish; the event handler raises it so the
    platform retries the whole message."""


def guest_channel(guest_id: str) -> str:
    return f"{GUEST_CHANNEL_PREFIX}{guest_id}"


def valid_channel(channel: str, *, wildcard: bool = True) -> bool:
    if not isinstance(channel, str) or not CHANNEL.match(channel):
        return False
    if not wildcard and channel.endswith("/*"):
        return False
    return len(channel.strip("/").split("/")) <= 5


def channel_allowed(principal: Principal | None, channel: str, operation: str) -> bool:
    """May this caller (None: anonymous) do `operation` on `channel`?

    Connecting is open to anyone (each subscription is checked on its own); clients
    never publish; admins may subscribe anywhere, others to the menu and, for a
    guest, their own order channel (exactly: no wildcards).
    """
    if operation == CONNECT:
        return True
    if operation != SUBSCRIBE or not valid_channel(channel):
        return False
    if principal is not None and principal.role == ADMIN:
        return True
    if channel == MENU_UPDATES:
        return True
    return principal is not None and principal.role == GUEST and channel == guest_channel(principal.user_id)


def authorization_header(token: str | None) -> str | None:
    """The bearer header for `authenticate`, or None for an anonymous caller."""
    token = (token or "").strip()
    if not token or token.lower() == ANONYMOUS:
        return None
    return token if token.lower().startswith("bearer ") else f"Bearer {token}"


def authorize_request(event: dict[str, Any], authenticate: Callable[[str], Principal]) -> dict[str, Any]:
    """The AppSync Events Lambda authorizer: request in, {"isAuthorized", "ttlOverride"} out.

    `event` is {"authorizationToken", "requestContext": {"operation", "channel",
    "channelNamespaceName", "apiId", "accountId", "requestId"}, "requestHeaders"}.
    A forged or expired token is refused outright (never downgraded to anonymous).
    """
    context = event.get("requestContext") or {}
    operation = OPERATIONS.get(str(context.get("operation", "")), "")
    channel = str(context.get("channel") or "")
    header = authorization_header(event.get("authorizationToken"))
    principal: Principal | None = None
    if header is not None:
        try:
            principal = authenticate(header)
        except AuthError as exc:
            log.info("realtime token refused", extra={"reason": str(exc), "operation": operation})
            return {"isAuthorized": False, "ttlOverride": AUTHORIZER_TTL_S}
    allowed = channel_allowed(principal, channel, operation)
    if not allowed:
        log.info(
            "realtime request refused",
            extra={"operation": operation, "channel": channel, "role": principal.role if principal else "anonymous"},
        )
    return {"isAuthorized": allowed, "ttlOverride": AUTHORIZER_TTL_S}


# ---------------------------------------------------------------- order events -> channels


def order_message(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An EventBridge order event -> (guest id, the message both channels get).

    `event_id` is the publisher's id (the envelope's, else EventBridge's): a
    redelivered event carries the same one, so clients drop what they have seen.
    """
    detail = event.get("detail") or {}
    data = detail.get("data") or {}
    metadata = detail.get("metadata") or {}
    guest_id = str(data.get("guest_id") or "")
    if not guest_id or not data.get("order_id"):
        raise ValueError("order event without guest_id or order_id")
    message = {
        "type": event.get("detail-type") or metadata.get("event_type"),
        "event_id": metadata.get("event_id") or event.get("id"),
        "occurred_at": metadata.get("timestamp") or event.get("time"),
        "order_id": str(data["order_id"]),
        "guest_id": guest_id,
        "number": data.get("number"),
        "status": data.get("status"),
    }
    for optional in ("previous_status", "order"):
        if optional in data:
            message[optional] = data[optional]
    return guest_id, message


def deliver_order_event(event: dict[str, Any], publish_fn: Callable[[str, list[dict[str, Any]]], None]) -> list[str]:
    """Publish one order event to its guest's channel and the admin channel."""
    guest_id, message = order_message(event)
    channels = [guest_channel(guest_id), ORDERS_ADMIN]
    for channel in channels:
        publish_fn(channel, [message])
    return channels


# ---------------------------------------------------------------- menu events -> /menu/updates

ORDER_EVENTS = ("OrderPlaced", "OrderStatusChanged")
MENU_EVENTS = ("DrinkCreated", "DrinkUpdated", "DrinkDeleted", "MenuChanged", "BarChanged")
MENU_CHANGED = "menu_changed"
# BarChanged (the host opened or closed the bar) -> this type, with the state itself:
# it is what GET /bar shows anyone, so it may travel on the public channel.
BAR_CHANGED = "bar_changed"
# MenuChanged's data.kind -> the id field of the message.
_MENU_KIND_IDS = {"ingredient": "ingredient_id", "section": "section_id"}


def menu_message(event: dict[str, Any]) -> dict[str, Any]:
    """A menu event -> the `/menu/updates` message: "the menu changed, refetch it".

    Only ids and the reason: the channel is public, so nothing from the event's data
    is copied wholesale (no photo prompts, no admin-only fields); clients refetch the
    public menu, which is the truth anyway. BarChanged is the exception: its message
    carries `is_open` and `message`, the public GET /bar answer, and nothing else.
    """
    detail = event.get("detail") or {}
    data = detail.get("data") or {}
    metadata = detail.get("metadata") or {}
    reason = event.get("detail-type") or metadata.get("event_type")
    message: dict[str, Any] = {
        "type": MENU_CHANGED,
        "event_id": metadata.get("event_id") or event.get("id"),
        "occurred_at": metadata.get("timestamp") or event.get("time"),
        "reason": reason,
    }
    if reason == "BarChanged":
        return {**message, "type": BAR_CHANGED, "is_open": bool(data.get("is_open", True)),
                "message": str(data.get("message") or "")}
    if reason == "MenuChanged":
        field = _MENU_KIND_IDS.get(str(data.get("kind")))
        if field and data.get("id"):
            message[field] = str(data["id"])
    elif data.get("drink_id"):
        message["drink_id"] = str(data["drink_id"])
    return message


def deliver_menu_event(event: dict[str, Any], publish_fn: Callable[[str, list[dict[str, Any]]], None]) -> list[str]:
    publish_fn(MENU_UPDATES, [menu_message(event)])
    return [MENU_UPDATES]


# ---------------------------------------------------------------- revocation -> the guest's channel
# AppSync Events asks the Lambda authorizer at connect and at each subscribe, not again
# for the messages of a subscription already open (docs/aws-notes.md). So a guest who is
# revoked (by the host, or because a reused refresh token ended their session) would
# keep receiving their channel. The API announces it (GuestRevoked, after the commit);
# this relay puts {"type": "revoked"} on the guest's channel; the web app closes the
# socket and drops its tokens; the authorizer refuses any new connect or subscribe.

GUEST_EVENTS = ("GuestRevoked",)
REVOKED = "revoked"
# The event's data is chalicelib/guests.py's `revoked_event` (recorded where a session ends).


def revoked_message(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A GuestRevoked event -> (guest id, the message for that guest's channel)."""
    detail = event.get("detail") or {}
    data = detail.get("data") or {}
    metadata = detail.get("metadata") or {}
    guest_id = str(data.get("guest_id") or "")
    if not guest_id:
        raise ValueError("GuestRevoked without guest_id")
    return guest_id, {
        "type": REVOKED,
        "event_id": metadata.get("event_id") or event.get("id"),
        "occurred_at": metadata.get("timestamp") or event.get("time"),
        "guest_id": guest_id,
        "reason": data.get("reason"),
    }


def deliver_guest_event(event: dict[str, Any], publish_fn: Callable[[str, list[dict[str, Any]]], None]) -> list[str]:
    """Only the guest's own channel: admins learn nothing new from it."""
    guest_id, message = revoked_message(event)
    channel = guest_channel(guest_id)
    publish_fn(channel, [message])
    return [channel]


def deliver_event(event: dict[str, Any], publish_fn: Callable[[str, list[dict[str, Any]]], None]) -> list[str]:
    """One EventBridge event from the realtime queue -> its channels; returns them.

    A detail-type this code does not know is logged and skipped (returns []), not
    raised: the rule in infra/events.yaml decides what arrives, so an unknown type means
    the rule was widened before this code was deployed. Retrying cannot help (the same
    code would see it again), and a live notification is worthless by the time it
    leaves the dead-letter queue. A known type that is malformed, or a publish that
    fails, raises: that is worth retrying and, failing that, inspecting in the DLQ.
    """
    detail_type = event.get("detail-type")
    if detail_type in ORDER_EVENTS:
        return deliver_order_event(event, publish_fn)
    if detail_type in MENU_EVENTS:
        return deliver_menu_event(event, publish_fn)
    if detail_type in GUEST_EVENTS:
        return deliver_guest_event(event, publish_fn)
    log.warning(
        "realtime event skipped: unknown detail-type",
        extra={"detail_type": detail_type, "event_id": event.get("id")},
    )
    return []


# ---------------------------------------------------------------- publishing (HTTP, SigV4)


def publish_body(channel: str, events: Iterable[dict[str, Any]]) -> bytes:
    # Each event is a JSON *string* inside the JSON body (AppSync's publish format).
    return json.dumps(
        {"channel": channel, "events": [json.dumps(e, separators=(",", ":"), default=str) for e in events]},
        separators=(",", ":"),
    ).encode()


def signed_request(url: str, body: bytes, credentials: Any, region: str) -> Any:
    """A POST to the Events HTTP endpoint, signed with SigV4 for service "appsync"."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/json", "Host": urlsplit(url).netloc},
    )
    SigV4Auth(credentials, "appsync", region).add_auth(request)
    return request.prepare()


@functools.lru_cache(maxsize=4)
def _session_credentials(_env: tuple[str, ...]) -> Any:
    """The credentials boto3 finds, resolved once per set of AWS_* variables (in Lambda,
    once per container): a boto3 Session per publish cost about 100 ms of CPU, twice per
    order event (benchmarks/party_load.py). Temporary ones renew themselves; each
    publish signs with a frozen copy."""
    import boto3

    return boto3.Session().get_credentials()


def _credentials() -> Any:
    env = tuple(os.environ.get(k, "") for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                                  "AWS_PROFILE"))  # fmt: skip
    credentials = _session_credentials(env)
    if credentials is None:
        _session_credentials.cache_clear()  # none yet: look again next time
        raise PublishError("no AWS credentials to sign the publish with")
    return credentials.get_frozen_credentials()


def publish(
    channel: str,
    events: list[dict[str, Any]],
    *,
    url: str | None = None,
    region: str | None = None,
    credentials: Any = None,
    send: Callable[[Any], tuple[int, bytes]] | None = None,
) -> None:
    """Publish events to one channel (batches of 5). Raises PublishError on any refusal."""
    from chalicelib.config import settings

    config = settings()
    url = url or config.realtime_http_url
    if not url:
        raise PublishError("REALTIME_HTTP_URL is not configured")
    if not valid_channel(channel, wildcard=False):
        raise PublishError(f"not a channel one can publish to: {channel!r}")
    credentials = credentials or _credentials()
    send = send or _send
    for start in range(0, len(events), MAX_EVENTS_PER_PUBLISH):
        batch = events[start : start + MAX_EVENTS_PER_PUBLISH]
        request = signed_request(url, publish_body(channel, batch), credentials, region or config.region)
        status, payload = send(request)
        if status != 200:
            raise PublishError(f"publish to {channel} answered HTTP {status}: {payload[:200]!r}")
        failed = (json.loads(payload or b"{}") or {}).get("failed") or []
        if failed:
            raise PublishError(f"publish to {channel}: {len(failed)} of {len(batch)} events failed")


def _send(request: Any) -> tuple[int, bytes]:
    import requests

    try:
        response = requests.post(request.url, data=request.body, headers=dict(request.headers.items()), timeout=5)
    except requests.RequestException as exc:
        raise PublishError(f"publish failed: {exc}") from None
    return response.status_code, response.content
