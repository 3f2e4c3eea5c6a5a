"""Local AppSync Events: the gateway speaks the Event API's protocol so the web app has
one realtime client (see docs/realtime.md for the protocol and its sources).

* `GET  /event/realtime`  WebSocket, subprotocols `aws-appsync-event-ws` and
                          `header-<base64url JSON of the headers>`; messages
                          connection_init -> connection_ack, "ka" keep-alives,
                          subscribe -> subscribe_success | subscribe_error,
                          data, unsubscribe -> unsubscribe_success | unsubscribe_error.
                          A client `publish` is refused (clients never publish).
* `POST /event`           HTTP publish {channel, events: [JSON strings]}, signed with
                          SigV4 (service "appsync"), fanned out to the subscribers
                          of the channel (exact, or a `/*` wildcard above it).

Who may subscribe where is decided by the app's own AppSync Lambda authorizer
(`app.realtime_authorizer`): the gateway builds the authorizer request AWS would
send and calls that function, as AppSync calls the Lambda. Importing the app here is
fine: it is the same repository, and local-only code never ships in the Lambda.

Publishes are checked like AWS_IAM checks them: a SigV4 signature made with the
stack's credentials (random per `make local` run, shared by the API and the gateway
only), so a browser or another machine on the network cannot publish.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import hmac
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from chalicelib.realtime import CHANNEL, MAX_EVENTS_PER_PUBLISH

log = logging.getLogger("drink_assistant.gateway.realtime")

PROTOCOL = "aws-appsync-event-ws"
HEADER_PROTOCOL_PREFIX = "header-"
WS_PATH = "/event/realtime"
HTTP_PATH = "/event"
NAMESPACES = ("orders", "menu")  # infra/realtime.yaml declares the same two
CONNECTION_TIMEOUT_MS = 300_000
KEEPALIVE_S = 60.0
MAX_SIGNATURE_SKEW_S = 300
SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)

Authorize = Callable[[dict[str, Any]], dict[str, Any]]


def default_authorizer(event: dict[str, Any]) -> dict[str, Any]:
    """The app's AppSync Events Lambda authorizer, called as AppSync would call it."""
    import app as chalice_app  # deferred: the gateway starts without the app's imports

    return chalice_app.realtime_authorizer(event, None)


# ---------------------------------------------------------------- SigV4 (the publish check)


def verify_sigv4(
    *,
    method: str,
    url: str,
    headers: Any,
    body: bytes,
    credentials: Any,
    region: str,
    service: str = "appsync",
    now: dt.datetime | None = None,
) -> bool:
    """Recompute the request's SigV4 signature with our credentials and compare.
    `url` is the URL the client signed (scheme://host/path?query); `headers` is a
    case-insensitive mapping of the request's headers."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    if credentials is None:
        return False
    match = SIGV4.match(headers.get("Authorization", "").strip())
    amz_date = headers.get("X-Amz-Date", "")
    if not match or not amz_date:
        return False
    if not hmac.compare_digest(match["key"], credentials.access_key):
        return False
    if match["region"] != region or match["service"] != service or not amz_date.startswith(match["date"]):
        return False
    try:
        signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return False
    if abs(((now or dt.datetime.now(dt.UTC)) - signed_at).total_seconds()) > MAX_SIGNATURE_SKEW_S:
        return False
    signed = match["signed"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return False
    copied = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            return False
        copied[name] = value
    request = AWSRequest(method=method, url=url, data=body, headers=copied)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(credentials, service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return hmac.compare_digest(expected, match["signature"])


# ---------------------------------------------------------------- subscriptions


@dataclass(eq=False)  # identity: connections live in a set
class Connection:
    ws: web.WebSocketResponse
    authorization: str | None
    headers: dict[str, str]
    subscriptions: dict[str, str] = field(default_factory=dict)  # id -> channel
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:  # keep-alives and fan-out write from different tasks
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(message))


def channel_matches(subscribed: str, published: str) -> bool:
    if subscribed.endswith("/*"):
        return published.startswith(subscribed[:-1])
    return subscribed == published


def namespace_of(channel: str) -> str:
    return channel.strip("/").split("/", 1)[0]


def _error(error_type: str, message: str) -> list[dict[str, str]]:
    return [{"errorType": error_type, "message": message}]


UNAUTHORIZED = "UnauthorizedException"
BAD_REQUEST = "BadRequestException"


class Hub:
    def __init__(
        self,
        *,
        authorize: Authorize,
        credentials: Any,
        region: str,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        self.authorize = authorize
        self.credentials = credentials
        self.region = region
        self.keepalive_s = keepalive_s
        self.connections: set[Connection] = set()

    # -- authorization: the AppSync Lambda authorizer request, built here

    async def allowed(self, operation: str, channel: str, authorization: str | None, headers: dict[str, str]) -> bool:
        if not authorization:
            return False  # AppSync needs an authorization header to call the authorizer at all
        event = {
            "authorizationToken": authorization,
            "requestContext": {
                "apiId": "local",
                "accountId": "000000000000",
                "requestId": str(uuid.uuid4()),
                "operation": operation,
                "channelNamespaceName": namespace_of(channel) if channel else None,
                "channel": channel or None,
            },
            "requestHeaders": headers,
        }
        try:
            # The authorizer may read the database or fetch keys: off the event loop.
            answer = await asyncio.to_thread(self.authorize, event)
        except Exception:
            log.exception("realtime authorizer failed")
            return False
        return bool(answer.get("isAuthorized"))

    # -- the WebSocket endpoint

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        if PROTOCOL not in offered:
            raise web.HTTPBadRequest(text=f"expected the {PROTOCOL} subprotocol")
        headers = decode_header_protocol(offered)
        if headers is None:
            raise web.HTTPUnauthorized(text="expected a header-<base64url JSON> subprotocol")
        authorization = _get(headers, "Authorization")
        ws = web.WebSocketResponse(protocols=(PROTOCOL,), max_msg_size=256 * 1024)
        await ws.prepare(request)
        connection = Connection(ws, authorization, headers)
        if not await self.allowed("EVENT_CONNECT", "", authorization, headers):
            await connection.send({"type": "connection_error", "errors": _error(UNAUTHORIZED, "not authorized")})
            await ws.close()
            return ws
        self.connections.add(connection)
        keepalive: asyncio.Task[None] | None = None
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(frame.data)
                    if not isinstance(message, dict):
                        raise ValueError("not an object")
                except ValueError:
                    await connection.send({"type": "error", "errors": _error(BAD_REQUEST, "messages are JSON objects")})
                    continue
                kind = message.get("type")
                if kind == "connection_init":
                    await connection.send({"type": "connection_ack", "connectionTimeoutMs": CONNECTION_TIMEOUT_MS})
                    if keepalive is None:
                        keepalive = asyncio.create_task(self._keepalive(connection))
                elif kind == "subscribe":
                    await self._subscribe(connection, message)
                elif kind == "unsubscribe":
                    await self._unsubscribe(connection, message)
                elif kind == "publish":
                    await connection.send(
                        {
                            "type": "publish_error",
                            "id": message.get("id"),
                            "errors": _error(UNAUTHORIZED, "clients do not publish on this API"),
                        }
                    )
                else:
                    await connection.send({"type": "error", "errors": _error(BAD_REQUEST, f"unknown type {kind!r}")})
        finally:
            self.connections.discard(connection)
            if keepalive is not None:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keepalive
        return ws

    async def _keepalive(self, connection: Connection) -> None:
        while not connection.ws.closed:
            await connection.send({"type": "ka"})
            await asyncio.sleep(self.keepalive_s)

    async def _subscribe(self, connection: Connection, message: dict[str, Any]) -> None:
        sub_id, channel = message.get("id"), message.get("channel")
        if not isinstance(sub_id, str) or not sub_id or not isinstance(channel, str):
            await connection.send(
                {"type": "subscribe_error", "id": sub_id, "errors": _error(BAD_REQUEST, "id and channel required")}
            )
            return
        if not CHANNEL.match(channel) or namespace_of(channel) not in NAMESPACES:
            await connection.send(
                {"type": "subscribe_error", "id": sub_id, "errors": _error(BAD_REQUEST, "no such channel")}
            )
            return
        if sub_id in connection.subscriptions:
            await connection.send(
                {"type": "subscribe_error", "id": sub_id, "errors": _error(BAD_REQUEST, "subscription id in use")}
            )
            return
        auth = message.get("authorization") if isinstance(message.get("authorization"), dict) else {}
        authorization = _get(auth, "Authorization")
        if not await self.allowed("EVENT_SUBSCRIBE", channel, authorization, connection.headers):
            await connection.send(
                {"type": "subscribe_error", "id": sub_id, "errors": _error(UNAUTHORIZED, "not authorized")}
            )
            return
        connection.subscriptions[sub_id] = channel
        await connection.send({"type": "subscribe_success", "id": sub_id})

    async def _unsubscribe(self, connection: Connection, message: dict[str, Any]) -> None:
        sub_id = message.get("id")
        if connection.subscriptions.pop(sub_id, None) is None:  # type: ignore[arg-type]
            await connection.send(
                {"type": "unsubscribe_error", "id": sub_id, "errors": _error(BAD_REQUEST, "no such subscription")}
            )
            return
        await connection.send({"type": "unsubscribe_success", "id": sub_id})

    # -- the HTTP publish endpoint

    async def publish(self, request: web.Request) -> web.Response:
        body = await request.read()
        url = f"{request.scheme}://{request.host}{request.path_qs}"
        if not verify_sigv4(
            method=request.method,
            url=url,
            headers=request.headers,
            body=body,
            credentials=self.credentials,
            region=self.region,
        ):
            return web.json_response(
                {"errors": _error(UNAUTHORIZED, "You are not authorized to make this call.")}, status=401
            )
        try:
            document = json.loads(body)
            channel, events = document["channel"], document["events"]
            if not isinstance(channel, str) or not CHANNEL.match(channel) or channel.endswith("/*"):
                raise ValueError("not a channel one can publish to")
            if namespace_of(channel) not in NAMESPACES:
                raise ValueError("no such channel namespace")
            if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_PUBLISH:
                raise ValueError(f"1 to {MAX_EVENTS_PER_PUBLISH} events")
            for event in events:
                if not isinstance(event, str):
                    raise ValueError("each event is a JSON string")
                json.loads(event)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"errors": _error(BAD_REQUEST, str(exc))}, status=400)
        await self.fan_out(channel, events)
        return web.json_response(
            {"successful": [{"identifier": str(uuid.uuid4()), "index": i} for i in range(len(events))], "failed": []}
        )

    async def fan_out(self, channel: str, events: list[str]) -> int:
        sends: list[Awaitable[None]] = []
        for connection in list(self.connections):
            for sub_id, subscribed in list(connection.subscriptions.items()):
                if channel_matches(subscribed, channel):
                    sends.extend(connection.send({"type": "data", "id": sub_id, "event": e}) for e in events)
        results = await asyncio.gather(*sends, return_exceptions=True)
        return sum(1 for r in results if not isinstance(r, BaseException))


def _get(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name.lower() and isinstance(value, str):
            return value
    return None


def decode_header_protocol(protocols: list[str]) -> dict[str, str] | None:
    """The `header-<base64url(JSON)>` subprotocol: the headers a browser cannot set."""
    for protocol in protocols:
        if protocol.startswith(HEADER_PROTOCOL_PREFIX):
            encoded = protocol[len(HEADER_PROTOCOL_PREFIX) :]
            try:
                headers = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            except (ValueError, binascii.Error):
                return None
            if isinstance(headers, dict):
                return {str(k): str(v) for k, v in headers.items()}
            return None
    return None


def encode_header_protocol(headers: dict[str, str]) -> str:
    raw = json.dumps(headers, separators=(",", ":")).encode()
    return HEADER_PROTOCOL_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


HUB: web.AppKey[Hub] = web.AppKey("realtime_hub", Hub)


def register(
    app: web.Application,
    *,
    authorize: Authorize | None = None,
    credentials: Any = None,
    region: str | None = None,
    keepalive_s: float = KEEPALIVE_S,
) -> dict[str, str]:
    """Add the Event API routes to the gateway; returns the runtime config's `realtime`.
    Credentials default to this process's AWS credentials (the stack's, shared with
    the API); with none, every publish is refused."""
    import os

    if credentials is None:
        import botocore.session

        found = botocore.session.get_session().get_credentials()
        credentials = found.get_frozen_credentials() if found is not None else None
    hub = Hub(
        authorize=authorize or default_authorizer,
        credentials=credentials,
        region=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        keepalive_s=keepalive_s,
    )
    app[HUB] = hub
    app.router.add_get(WS_PATH, hub.websocket)
    app.router.add_post(HTTP_PATH, hub.publish)
    # Relative: the web app resolves them against its own origin (phones use the LAN address).
    return {"httpUrl": HTTP_PATH, "wsUrl": WS_PATH}

