"""A small client for the running local stack: an admin token, a registered guest, and
an AppSync Events WebSocket subscriber. Used by the end-to-end test and the realtime
latency benchmark (local-only; the web app has its own JavaScript client).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import requests

from local import hosted_login
from local.pg import LOCAL_DIR
from local.realtime import PROTOCOL, encode_header_protocol


def admin_token(port: int, state_dir: Path = LOCAL_DIR / "auth") -> str:
    """An access token from the stack's own hosted login (its key and admin account under
    .local/auth), as the OAuth code flow would issue it, without knowing the password."""
    login = hosted_login.HostedLogin(
        issuer=f"http://127.0.0.1:{port}", client_id=hosted_login.DEFAULT_CLIENT_ID, state_dir=state_dir
    )
    user = hosted_login.load_users(state_dir)[hosted_login.ADMIN_USERNAME]
    return login._issue(hosted_login.ADMIN_USERNAME, user, "openid", int(time.time()), "")["access_token"]


@dataclass
class Api:
    base: str  # http://127.0.0.1:<port>
    admin: str  # admin access token

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = requests.request(method, f"{self.base}/api{path}", json=body, headers=headers, timeout=15)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def register_guest(self, name: str) -> tuple[str, str]:
        """(guest id, access token) of a new guest, via an invite code the admin creates."""
        code = self.call("POST", "/admin/registration-codes", self.admin, {"max_uses": 1})["code"]
        session = self.call("POST", "/register", None, {"code": code, "name": name})
        return str(session["guest"]["id"]), session["access_token"]

    def open_bar(self, **limits: int) -> None:
        self.call("PUT", "/admin/bar", self.admin, {"is_open": True, **limits})

    def available_drink(self) -> str:
        return str(self.call("GET", "/drinks?available=true")[0]["id"])

    def place_order(self, token: str, drink_id: str) -> dict[str, Any]:
        return self.call("POST", "/orders", token, {"items": [{"drink_id": drink_id, "quantity": 1}]})

    def move_order(self, order_id: str, status: str) -> dict[str, Any]:
        return self.call("PUT", f"/admin/orders/{order_id}", self.admin, {"status": status})


class Subscriber:
    """One AppSync Events WebSocket connection."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, authorization: str) -> None:
        self.ws = ws
        self.authorization = authorization

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, base: str, token: str | None) -> Subscriber:
        authorization = f"Bearer {token}" if token else "anonymous"
        host = base.split("://", 1)[1]
        header = encode_header_protocol({"host": host, "Authorization": authorization})
        ws = await session.ws_connect(f"{base.replace('http', 'ws', 1)}/event/realtime", protocols=(PROTOCOL, header))
        subscriber = cls(ws, authorization)
        await ws.send_json({"type": "connection_init"})
        ack = await subscriber.next("connection_ack", "connection_error")
        if ack["type"] != "connection_ack":
            raise AssertionError(f"connection refused: {ack}")
        return subscriber

    async def next(self, *types: str, timeout_s: float = 30.0) -> dict[str, Any]:
        """The next message of one of `types` (others skipped), within a deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {types} message within {timeout_s} s")
            try:
                message = await self.ws.receive_json(timeout=remaining)
            except TimeoutError:
                continue
            if message.get("type") in types:
                return message

    async def subscribe(self, channel: str) -> dict[str, Any]:
        sub_id = str(uuid.uuid4())
        auth = {"Authorization": self.authorization}
        await self.ws.send_json({"type": "subscribe", "id": sub_id, "channel": channel, "authorization": auth})
        return await self.next("subscribe_success", "subscribe_error")

    async def event(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """The next data message's event, decoded."""
        message = await self.next("data", timeout_s=timeout_s)
        return json.loads(message["event"])

    async def close(self) -> None:
        await self.ws.close()


async def in_thread(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


def run(coroutine: Any) -> Any:
    """asyncio.run on a thread of its own: callers may already be inside an event loop
    (Playwright's sync API keeps one running on the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
