"""A party on the real local stack: measured, and checked (exit 1 when a check fails).

Starts `local/stack.py` on free loopback ports against a fresh database in the embedded
test cluster, holds the party of `benchmarks/party.py` (guests join through one invite
within the join window, browse and filter the menu, order, follow their orders over the
realtime WebSocket; one admin works the board to "completed"; the TV display polls),
prints per-route p50/p95 and errors by status, checks what must hold, then stops the
stack and drops the database.

    .venv/bin/python benchmarks/party_load.py                      # 60 guests x 2 orders (make party)
    .venv/bin/python benchmarks/party_load.py --guests 16 --orders-per-guest 3 --json out.json

Checks: no response >= 500 (and none missing); no session idle in transaction; every
order answered 201 on the board exactly once; every status change heard by its guest
over the WebSocket; the invite's uses exact; the bar's queue and per-guest limits never
exceeded (replayed from the order history); Idempotency-Key retries made one order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.party import LocalStack, PartyConfig, check, report, run_party, summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    defaults = PartyConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=defaults.guests)
    parser.add_argument("--orders-per-guest", type=int, default=defaults.orders_per_guest)
    parser.add_argument("--join-window", type=float, default=defaults.join_window_s, help="seconds (0: all at once)")
    parser.add_argument("--late-phones", type=int, default=defaults.late_phones, help="phones too many for the invite")
    parser.add_argument("--max-queue", type=int, help="the bar's queue limit (default: two thirds of the guests)")
    parser.add_argument("--max-active-per-guest", type=int, default=defaults.max_active_per_guest)
    parser.add_argument("--deadline", type=float, default=defaults.deadline_s, help="seconds for the whole party")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--log", type=Path, help="the stack's log (default: a temporary file)")
    args = parser.parse_args(argv)
    if not 1 <= args.guests <= 500 or args.orders_per_guest < 1:
        parser.error("--guests is 1..500 (an invite's max uses) and --orders-per-guest at least 1")
    config = PartyConfig(
        guests=args.guests,
        orders_per_guest=args.orders_per_guest,
        late_phones=args.late_phones,
        join_window_s=args.join_window,
        max_queue=args.max_queue or max(1, min(500, args.guests * 2 // 3)),
        max_active_per_guest=args.max_active_per_guest,
        deadline_s=args.deadline,
    )
    with tempfile.TemporaryDirectory(prefix="da-party-") as tmp:
        log_path = args.log or Path(tmp) / "stack.log"
        with LocalStack(log_path) as stack:
            print(f"stack up at {stack.base_url} (database {stack.db_name}, log {log_path})", flush=True)
            result = asyncio.run(run_party(stack, config))
            failures = check(stack, result)
            if failures and not args.log:
                print(f"the stack's log, last lines:\n{stack.log_tail(4000)}")
        data = summary(result, failures)
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
