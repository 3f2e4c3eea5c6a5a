"""The API Gateway stage cache in front of the public menu, and what flushes it.

Two tables, one place (docs/aws-notes.md argues each entry):

* `CACHED_ROUTES`: the public GET routes the stage caches, each with its TTL and its cache
  key parameters. `infra/api-merge.json` must say exactly this (tests/test_aws_correctness.py
  compares the merged template with it). A cached route keys on every path and query
  parameter it reads; `GET /drinks` takes query filters and is deliberately not cached
  (a repeated query parameter has no documented cache key, so one crafted request could
  poison an entry other guests share).
* `WRITE_AFFECTS`: for each kind of admin write, the public reads whose answers it can
  change. A write records its kind on its transaction (`tx.stale(kind)`); once it has
  committed, the unit of work (chalicelib/uow.py) flushes, once, when one of
  those reads is cached. Nobody remembers per view what to flush.

Locally (no API id) and on stages whose cache cluster is off (`API_CACHE_ENABLED=false`)
the flush is a logged no-op. A failed flush is logged and never fails the request (the
write already committed; the worst case is a stale answer until the route's TTL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib import aws
from chalicelib.config import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedRoute:
    """One cached GET route: how long an answer lives, and what it is keyed on."""

    ttl_s: int
    # `method.request.path.X` / `method.request.querystring.X` / `method.request.header.X`
    key_parameters: tuple[str, ...] = ()


CACHED_ROUTES: dict[str, CachedRoute] = {
    "/sections": CachedRoute(ttl_s=300),
    "/ingredients": CachedRoute(ttl_s=300),
    "/drinks/{drink_id}": CachedRoute(ttl_s=300, key_parameters=("method.request.path.drink_id",)),
    # Open/closed and the host's message: a shorter life bounds a failed flush.
    "/bar": CachedRoute(ttl_s=60),
}

# Public reads that are not cached, and why (the template test checks they stay off).
UNCACHED_PUBLIC_READS: dict[str, str] = {
    "/drinks": "query filters (ingredient, exclude, section_id, q, available, ...) have no safe cache key",
}

# Admin write kind -> the public GET routes whose answers it can change.
WRITE_AFFECTS: dict[str, frozenset[str]] = {
    # A drink's own page, and the drink list (name, photo, availability, section).
    "drink": frozenset({"/drinks", "/drinks/{drink_id}"}),
    # Sections list; archiving one hides its drinks from both drink routes.
    "section": frozenset({"/sections", "/drinks", "/drinks/{drink_id}"}),
    # The ingredient list; stock and names decide drinks' availability and filters.
    "ingredient": frozenset({"/ingredients", "/drinks", "/drinks/{drink_id}"}),
    # GET /bar shows is_open and the message.
    "bar": frozenset({"/bar"}),
    # No public read shows these.
    "image": frozenset(),
    "invite": frozenset(),
    "order": frozenset(),
    "guest": frozenset(),
    "bartender": frozenset(),
}

# Every admin write route -> its kind above. A new admin write gets a line here (the
# tests fail until it has one), and its domain function records `tx.stale(kind)` when the kind
# changes something cached.
ADMIN_WRITES: dict[str, str] = {
    "PUT /admin/bar": "bar",
    "POST /admin/drinks": "drink",
    "PUT /admin/drinks/{drink_id}": "drink",
    "DELETE /admin/drinks/{drink_id}": "drink",
    "POST /admin/drinks/{drink_id}/picture/photo": "drink",
    "POST /admin/drinks/{drink_id}/picture/regenerate": "drink",
    "POST /admin/sections": "section",
    "PUT /admin/sections/{section_id}": "section",
    "DELETE /admin/sections/{section_id}": "section",
    "POST /admin/ingredients": "ingredient",
    "PUT /admin/ingredients/{ingredient_id}": "ingredient",
    "POST /admin/images/upload-url": "image",
    "POST /admin/registration-codes": "invite",
    "DELETE /admin/registration-codes/{code}": "invite",
    "PUT /admin/orders/{order_id}": "order",
    "DELETE /admin/guests/{guest_id}": "guest",
    "PUT /admin/bartender": "bartender",
}


def routes_to_flush(kind: str) -> frozenset[str]:
    """The cached routes a write of `kind` makes stale. Unknown kinds are a bug (KeyError)."""
    return frozenset(route for route in WRITE_AFFECTS[kind] if route in CACHED_ROUTES)


# The API Gateway client's options (chalicelib/aws.py makes it on the first flush).
CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 2, "mode": "standard"},
}


def flush_menu_cache(routes: list[str] | None = None) -> bool:
    """Flush the stage cache. True when flushed; False when there is none or it failed.
    (FlushStageCache empties the whole stage; `routes` only says why, in the log.)"""
    config = settings()
    where = {"rest_api_id": config.api_id, "stage": config.api_stage, "routes": routes or []}
    if not config.api_id:
        log.info("menu cache flush skipped: no API id configured (no stage cache)", extra=where)
        return False
    if not config.api_cache_enabled:
        log.info("menu cache flush skipped: the stage cache is off (API_CACHE_ENABLED=false)", extra=where)
        return False
    try:
        apigateway = aws.client("apigateway", config=CLIENT_CONFIG)
        apigateway.flush_stage_cache(restApiId=config.api_id, stageName=config.api_stage)
    except Exception as exc:  # a stale menu for one TTL beats a failed admin write
        log.error("menu cache flush failed", extra={**where, "error": f"{type(exc).__name__}: {exc}"})
        return False
    log.info("menu cache flushed", extra=where)
    return True
