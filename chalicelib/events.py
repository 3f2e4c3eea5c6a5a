"""Domain events onto the EventBridge custom bus (docs/architecture.md section 6, docs/events.md).

`publish` is called after the database transaction has committed, never inside it:
a retried transaction must not publish twice, and an event must never announce a
write that was rolled back. A failed publish is logged and reported as False; it
never fails the request (the write already happened, and consumers are idempotent).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib import aws
from chalicelib.config import settings

log = logging.getLogger(__name__)

SOURCE = "drink-assistant.api"
VERSION = "1"


# The EventBridge client's options (chalicelib/aws.py makes it on first publish): short
# timeouts and one retry, so a slow bus does not hold the request for long.
CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2, "read_timeout": 3, "retries": {"max_attempts": 2, "mode": "standard"},
}


def envelope(detail_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {
            "event_type": detail_type,
            "version": VERSION,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event_id": str(uuid.uuid4()),
        },
        "data": data,
    }


def publish(detail_type: str, data: dict[str, Any]) -> bool:
    """Put one event on the bus. True when EventBridge accepted it; never raises."""
    bus = settings().event_bus_name
    detail = envelope(detail_type, data)
    event_id = detail["metadata"]["event_id"]
    where = {"detail_type": detail_type, "event_id": event_id, "event_bus": bus}
    if not bus:
        log.info("event not published: no event bus configured", extra=where)
        return False
    try:
        answer = aws.client("events", config=CLIENT_CONFIG).put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                }
            ]
        )
    except Exception as exc:  # any failure: log it, the request still succeeds
        # The exception's class and message only: never the request (credentials live in the client).
        log.error("event publish failed", extra={**where, "error": f"{type(exc).__name__}: {exc}"})
        return False
    if answer.get("FailedEntryCount"):
        entry = (answer.get("Entries") or [{}])[0]
        log.error(
            "event publish rejected",
            extra={**where, "error_code": entry.get("ErrorCode"), "error": entry.get("ErrorMessage")},
        )
        return False
    log.info("event published", extra={**where, "eventbridge_id": (answer.get("Entries") or [{}])[0].get("EventId")})
    return True


def dispatch(event: dict[str, Any], handlers: Mapping[str, Callable[[dict[str, Any]], str]], consumer: str) -> str:
    """Run `consumer`'s handler for one EventBridge event (a queue message body, parsed):
    every log line of it carries the event's id (the publisher's, else EventBridge's).
    Returns the handler's outcome, or "ignored" for a type this consumer does not handle."""
    from chalicelib import logs

    detail = event.get("detail")
    if isinstance(detail, str):  # defensive: some publishers double-encode
        detail = json.loads(detail)
    metadata = (detail or {}).get("metadata") or {}
    token = logs.correlation_id.set(str(metadata.get("event_id") or event.get("id") or uuid.uuid4()))
    try:
        detail_type = str(event.get("detail-type", ""))
        handler = handlers.get(detail_type)
        if handler is None:
            log.warning("event ignored: no handler", extra={"consumer": consumer, "detail_type": detail_type})
            return "ignored"
        outcome = handler(detail or {})
        log.info("event handled", extra={"consumer": consumer, "detail_type": detail_type, "outcome": outcome})
        return outcome
    finally:
        logs.correlation_id.reset(token)
