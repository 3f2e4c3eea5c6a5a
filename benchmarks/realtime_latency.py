"""Live status latency on the local stack: measured, never asserted.

For N status changes (PUT /admin/orders/{id}: pending -> in_progress -> ready ->
completed, over N/3 orders) it measures the time from the status change to the
guest's WebSocket subscriber receiving the matching data message on
`/orders/guest/{id}`: from the API publishing the event (its `occurred_at`, right after
the commit), from the PUT being sent and from the PUT returning (negative when the
message beats the HTTP answer). The path is API -> EventBridge (emulator) -> rule ->
SQS -> event runner -> the app's handler -> SigV4 publish -> gateway -> WebSocket.
Also shown: POST /orders returning -> OrderPlaced received.

    python benchmarks/realtime_latency.py                 # starts a fresh stack (temporary database)
    python benchmarks/realtime_latency.py --port 8000     # against a running `make local`
    python benchmarks/realtime_latency.py -n 60
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from local.realtime_client import Api, Subscriber, admin_token  # noqa: E402

STEPS = ("in_progress", "ready", "completed")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def timed(fn: Any, *args: Any) -> tuple[float, float, Any]:
    """(sent, returned, result) of a blocking call, perf_counter times."""
    sent = time.perf_counter()
    result = await asyncio.to_thread(fn, *args)
    return sent, time.perf_counter(), result


async def received_when(subscriber: Subscriber, want: dict[str, str]) -> tuple[float, float]:
    """(perf_counter at receipt, seconds since the API published the event: wall clocks of
    one machine, the event's `occurred_at` set right after the commit)."""
    while True:
        event = await subscriber.event(timeout_s=60)
        if all(event.get(k) == v for k, v in want.items()):
            now, wall = time.perf_counter(), time.time()
            occurred = dt.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
            return now, wall - occurred


async def measure(base: str, port: int, samples: int) -> dict[str, list[float]]:
    api = Api(base, admin_token(port))
    api.open_bar()
    guest_id, token = api.register_guest(f"bench-{uuid.uuid4().hex[:6]}")
    drink = api.available_drink()
    results: dict[str, list[float]] = {
        "status: published -> received": [],
        "status: PUT sent -> received": [],
        "status: PUT returned -> received": [],
        "placed: POST returned -> received": [],
    }
    async with aiohttp.ClientSession() as session:
        guest = await Subscriber.connect(session, base, token)
        answer = await guest.subscribe(f"/orders/guest/{guest_id}")
        if answer["type"] != "subscribe_success":
            raise SystemExit(f"subscribe refused: {answer}")
        done = 0
        while done < samples:
            waiter = asyncio.create_task(received_when(guest, {"type": "OrderPlaced"}))
            _, returned, order = await timed(api.place_order, token, drink)
            results["placed: POST returned -> received"].append((await waiter)[0] - returned)
            for status in STEPS:
                if done >= samples:
                    break
                waiter = asyncio.create_task(received_when(guest, {"order_id": order["id"], "status": status}))
                sent, returned, _ = await timed(api.move_order, order["id"], status)
                got, since_published = await waiter
                results["status: published -> received"].append(since_published)
                results["status: PUT returned -> received"].append(got - returned)
                results["status: PUT sent -> received"].append(got - sent)
                done += 1
            if done >= samples and order and status != "completed":
                api.move_order(order["id"], "cancelled" if status == "in_progress" else "completed")
        await guest.close()
    return results


def report(results: dict[str, list[float]]) -> None:
    print(f"{'live status latency (ms)':40} {'n':>4} {'p50':>8} {'p95':>8} {'mean':>8} {'max':>8}")
    for name, values in results.items():
        ms = [v * 1000 for v in values]
        print(f"{name:40} {len(ms):>4} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} "
              f"{statistics.fmean(ms):>8.1f} {max(ms):>8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--samples", type=int, default=30)
    parser.add_argument("--port", type=int, help="a running stack's gateway port (else start a fresh stack)")
    args = parser.parse_args()
    if args.port:
        report(asyncio.run(measure(f"http://127.0.0.1:{args.port}", args.port, args.samples)))
        return 0

    from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded
    from tests.test_local_stack import run_stack, stop

    cluster = start_embedded(LOCAL_DIR / "test-pg")
    name = f"da_bench_rt_{uuid.uuid4().hex[:8]}"
    url = ensure_database(cluster, name)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            proc, port = run_stack(url, Path(tmp) / "stack.log")
            try:
                results = asyncio.run(measure(f"http://127.0.0.1:{port}", port, args.samples))
            finally:
                stop(proc)
        report(results)
    finally:
        drop_database(cluster, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
