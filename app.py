"""drink-assistant API: the table of contents. Each view parses, calls one chalicelib
function, and shapes the response; the logic lives in chalicelib/."""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from chalice import Chalice, CORSConfig

from chalicelib import bar, logs, menu
from chalicelib.config import settings
from chalicelib.db import database
from chalicelib.errors import NotFoundError
from chalicelib.validation import DrinkQuery, parse, parse_uuid, query_dict

logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
log = logging.getLogger("drink_assistant.api")

app = Chalice(app_name="drink-assistant")
app.log.propagate = True
app.api.cors = CORSConfig(
    allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Api-Key"],
    max_age=600,
)


@app.middleware("http")
def correlate(event: Any, get_response: Any) -> Any:
    """Tag every log line of the request with one id, and log the request once."""
    headers = event.headers or {}
    context = event.context or {}
    cid = headers.get("x-correlation-id") or context.get("requestId") or str(uuid.uuid4())
    token = logs.correlation_id.set(cid)
    started = time.perf_counter()
    try:
        response = get_response(event)
        response.headers["X-Correlation-Id"] = cid
        log.info(
            "request",
            extra={
                "method": event.method,
                "path": event.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
    finally:
        logs.correlation_id.reset(token)


# ---------------------------------------------------------------- public menu (reader)


@app.route("/sections", methods=["GET"])
def list_sections() -> list[dict[str, Any]]:
    return database().read(menu.list_sections)


@app.route("/drinks", methods=["GET"])
def list_drinks() -> list[dict[str, Any]]:
    query = parse(DrinkQuery, query_dict(app.current_request.query_params, list_fields=("ingredient",)))
    return database().read(menu.list_drinks, query, settings().image_base_url)


@app.route("/drinks/{drink_id}", methods=["GET"])
def get_drink(drink_id: str) -> dict[str, Any]:
    drink = database().read(menu.get_drink, parse_uuid(drink_id, "drink"), settings().image_base_url)
    if drink is None:
        raise NotFoundError("no such drink on the menu")
    return drink


@app.route("/ingredients", methods=["GET"])
def list_ingredients() -> list[dict[str, Any]]:
    return database().read(menu.list_ingredients)


@app.route("/bar", methods=["GET"])
def bar_status() -> dict[str, Any]:
    return bar.public_status(database().read(bar.get_settings))
