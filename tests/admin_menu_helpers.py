"""Helpers and fixtures for the admin menu tests: HTTP calls through the in-process
client, unique names, and the emulated AWS the drink writes publish to."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

BUS = "drink-assistant-events-test"


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response = client.http.request(method, path, headers={**headers, "Content-Type": "application/json"}, body=raw)
    return response.status_code, json.loads(response.body) if response.body else None


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """Set configuration for the app and read it now: the test client swaps in the
    stage's environment during each request, so settings are fixed before any call."""
    from chalicelib.config import settings

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    settings()


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Emulated AWS (moto, in-process) with no bus yet, no stage cache configured, and
    fresh cached clients before and after."""
    from chalicelib import aws as aws_clients
    from chalicelib.config import settings

    # A developer's AWS_ENDPOINT_URL (the local stack's emulator) would bypass moto.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    configure(monkeypatch, EVENT_BUS_NAME=BUS, API_ID="", API_STAGE="api")
    aws_clients.reset()
    with mock_aws():
        yield
    aws_clients.reset()
    settings.cache_clear()


def make_section(client: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    status, section = call(client, "POST", "/admin/sections", headers, {"name": unique("Section"), **fields})
    assert status == 201, section
    return section


def make_ingredient(client: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": unique("Ingredient"), "category": "spirit", **fields}
    status, ingredient = call(client, "POST", "/admin/ingredients", headers, body)
    assert status == 201, ingredient
    return ingredient


def drink_body(section_id: str, *ingredients: str, **fields: Any) -> dict[str, Any]:
    return {
        "section_id": section_id,
        "name": unique("Drink"),
        "description": "A test drink.",
        "ingredients": [{"name": name, "amount": 50, "unit": "ml"} for name in ingredients]
        or [{"name": "Tequila", "amount": 50, "unit": "ml"}],
        "recipe_steps": ["Shake with ice.", "Strain."],
        "glass": "coupe",
        "garnish": "lime wheel",
        "tags": ["Sour", "test"],
        "abv": 20.5,
        **fields,
    }


def make_drink(client: Any, headers: dict[str, str], section_id: str, *ingredients: str, **fields: Any) -> dict:
    status, drink = call(client, "POST", "/admin/drinks", headers, drink_body(section_id, *ingredients, **fields))
    assert status == 201, drink
    return drink
