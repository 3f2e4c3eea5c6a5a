"""The API Gateway stage cache in front of the public menu, flushed on admin writes.

Caching the menu makes guest browsing cheap, and flushing it on every admin write
that changes the menu keeps guests from seeing a stale menu for the cache TTL.
Locally (no API id configured) there is no cache: the flush is a logged no-op. A
failed flush is logged and never fails the request (the write already committed;
the worst case is a stale menu until the TTL runs out).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from chalicelib.config import settings

log = logging.getLogger(__name__)


@functools.cache
def _apigateway() -> Any:
    """One API Gateway client per container, made on first flush (not at import: cold start)."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("apigateway", region_name=settings().region, config=config)


def reset_client() -> None:
    """Forget the cached client (tests stub a fresh one)."""
    _apigateway.cache_clear()


def flush_menu_cache() -> bool:
    """Flush the stage cache. True when flushed; False when there is none or it failed."""
    config = settings()
    where = {"rest_api_id": config.api_id, "stage": config.api_stage}
    if not config.api_id:
        log.info("menu cache flush skipped: no API id configured (no stage cache)", extra=where)
        return False
    try:
        _apigateway().flush_stage_cache(restApiId=config.api_id, stageName=config.api_stage)
    except Exception as exc:  # a stale menu for one TTL beats a failed admin write
        log.error("menu cache flush failed", extra={**where, "error": f"{type(exc).__name__}: {exc}"})
        return False
    log.info("menu cache flushed", extra=where)
    return True
