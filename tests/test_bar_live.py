"""The bar's open/closed state, live: PUT /admin/bar publishes BarChanged after the
commit (moto's EventBridge, driven by the real API in-process), and the realtime relay
puts {"type": "bar_changed", "is_open", "message"} on the public /menu/updates channel
(the real relay handler, the local AppSync Events gateway, an anonymous WebSocket)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from chalicelib import bar
from local.realtime_client import run
from tests.admin_menu_helpers import aws, call  # noqa: F401 (fixture)
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)
from tests.servers import ServerThread
from tests.test_menu_events_cache import bus_queue, check_envelope, receive  # noqa: F401 (fixture)
from tests.test_realtime import connect, gateway, menu_event  # noqa: F401 (fixture)


@pytest.fixture()
def restore_bar(admin_conn: Any) -> Iterator[None]:
    yield
    admin_conn.execute(
        """UPDATE bar_settings SET is_open = %(is_open)s, message = %(message)s, max_queue = %(max_queue)s,
           max_active_per_guest = %(max_active_per_guest)s WHERE id = 'bar'""",
        bar.DEFAULTS,
    )


@pytest.mark.usefixtures("aws", "restore_bar")
def test_opening_and_closing_publish_bar_changed(
    client: Any, admin_headers: dict[str, str], user_pool: Any, bus_queue: Any  # noqa: F811
) -> None:
    status, body = call(client, "PUT", "/admin/bar", admin_headers, {"is_open": False, "message": "Back at 22:00"})
    assert status == 200 and body["is_open"] is False
    (closed,) = receive(bus_queue, 1)
    assert check_envelope(closed, "BarChanged") == {"is_open": False, "message": "Back at 22:00"}

    # Only the limits: nothing guests see changed, so nothing is announced.
    status, _ = call(client, "PUT", "/admin/bar", admin_headers, {"max_queue": 25})
    assert status == 200
    # Bad input, a guest's or no token: refused, nothing written, nothing announced.
    for headers, body, expected in (
        (admin_headers, {"is_open": "no"}, 400),
        ({"Authorization": f"Bearer {user_pool.token(groups=[])}"}, {"is_open": True}, 403),
        ({}, {"is_open": True}, 401),
    ):
        status, answer = call(client, "PUT", "/admin/bar", headers, body)
        assert status == expected and answer, answer  # the authorizer's refusals are Chalice's own bodies
    status, opened = call(client, "PUT", "/admin/bar", admin_headers, {"is_open": True, "message": ""})
    assert status == 200
    (reopened,) = receive(bus_queue, 1)  # exactly one more: the reopening, none from the refusals
    assert check_envelope(reopened, "BarChanged") == {"is_open": True, "message": ""}
    status, public = call(client, "GET", "/bar", {})
    assert status == 200 and public == {"is_open": True, "message": ""}


def test_the_relay_puts_the_bar_state_on_the_public_menu_channel(
    gateway: ServerThread, client: Any, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from chalicelib.config import settings

    closed = {**bar.DEFAULTS, "is_open": False, "message": "Closed for a toast"}
    event = menu_event("BarChanged", bar.changed_event(closed))

    async def scenario() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            anon = await connect(session, gateway, "anonymous")
            await anon.subscribe("/menu/updates")
            sqs = client.events.generate_sqs_event([json.dumps(event)], queue_name="drink-assistant-local-realtime")
            await asyncio_to_thread(client.lambda_.invoke, "relay_to_realtime", sqs)
            received = json.loads((await anon.next("data"))["event"])
            await anon.ws.close()
            return received

    monkeypatch.setenv("REALTIME_HTTP_URL", f"{gateway.url}/event")
    settings.cache_clear()
    try:
        message = run(scenario())
        assert message == {
            "type": "bar_changed",
            "event_id": event["detail"]["metadata"]["event_id"],
            "occurred_at": event["detail"]["metadata"]["timestamp"],
            "reason": "BarChanged",
            "is_open": False,
            "message": "Closed for a toast",
        }
    finally:
        monkeypatch.undo()
        settings.cache_clear()


async def asyncio_to_thread(fn: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(fn, *args)
