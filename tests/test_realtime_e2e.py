"""Live order status end to end on the real local stack (`local/stack.py`: embedded
PostgreSQL, the emulator's bus -> rule -> queue, the event runner, chalice local, the
gateway's AppSync Events stand-in): a guest hears their own order move, and nobody
else's."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import pytest

from local.pg import drop_database, ensure_database
from local.realtime_client import Api, Subscriber, admin_token, in_thread, run
from tests.test_local_stack import run_stack, stop

pytestmark = pytest.mark.e2e


def test_a_guest_hears_their_order_move_and_cannot_listen_to_others(pg_cluster: str, tmp_path: Path) -> None:
    name = f"da_rt_{uuid.uuid4().hex[:8]}"
    url = ensure_database(pg_cluster, name)
    try:
        proc, port = run_stack(url, tmp_path / "stack.log")
        try:
            base = f"http://127.0.0.1:{port}"
            api = Api(base, admin_token(port))
            api.open_bar()
            guest_id, token = api.register_guest("Ana")
            other_id, _ = api.register_guest("Bo")
            drink = api.available_drink()

            async def scenario() -> None:
                async with aiohttp.ClientSession() as session:
                    ana = await Subscriber.connect(session, base, token)
                    assert (await ana.subscribe(f"/orders/guest/{guest_id}"))["type"] == "subscribe_success"
                    refused = await ana.subscribe(f"/orders/guest/{other_id}")
                    assert refused["type"] == "subscribe_error"
                    assert refused["errors"][0]["errorType"] == "UnauthorizedException"
                    assert (await ana.subscribe("/orders/admin"))["type"] == "subscribe_error"

                    board = await Subscriber.connect(session, base, api.admin)
                    assert (await board.subscribe("/orders/admin"))["type"] == "subscribe_success"

                    order = await in_thread(api.place_order, token, drink)
                    placed = await ana.event()
                    assert placed["type"] == "OrderPlaced" and placed["order_id"] == order["id"]
                    assert placed["status"] == "pending"
                    assert (await board.event())["order_id"] == order["id"]

                    await in_thread(api.move_order, order["id"], "in_progress")
                    changed = await ana.event()
                    assert changed["type"] == "OrderStatusChanged"
                    assert changed["order_id"] == order["id"] and changed["status"] == "in_progress"
                    assert changed["event_id"] != placed["event_id"]
                    await ana.close()
                    await board.close()

            run(scenario())
        finally:
            stop(proc)
    finally:
        drop_database(pg_cluster, name)
