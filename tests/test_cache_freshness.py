"""Every admin write, driven through the app in-process, against a stand-in of the API
Gateway stage cache that keys exactly as infra/api-merge.json does (chalicelib/cache.py's
CACHED_ROUTES, which tests/test_aws_correctness.py holds the merged template to). The
flush is botocore's Stubber on apigateway.flush_stage_cache; a flush empties the stand-in,
as FlushStageCache empties the stage. Reads of what a write changed are fresh after it."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

import app as app_module
from chalicelib import aws as aws_clients
from chalicelib import cache
from tests.admin_menu_helpers import (
    aws,  # noqa: F401 (fixture)
    call,
    configure,
    drink_body,
)
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("aws")
API_ID, STAGE = "a1b2c3d4e5", "api"


class StageCache:
    """GETs of cached routes answered from memory, keyed on (resource, key parameter
    values) as API Gateway keys them; everything else passes straight to the app."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.entries: dict[tuple[str, tuple[str, ...]], tuple[float, int, Any]] = {}
        self.hits = 0
        self.patterns = [
            (route, re.compile("^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(route)) + "$"))
            for route in cache.CACHED_ROUTES
        ]

    def key(self, path: str) -> tuple[str, tuple[str, ...]] | None:
        bare, _, query = path.partition("?")
        values = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
        for route, pattern in self.patterns:
            match = pattern.match(bare)
            if match:
                parts = []
                for parameter in cache.CACHED_ROUTES[route].key_parameters:
                    kind, name = parameter.split(".")[2:]
                    parts.append(match.group(name) if kind == "path" else values.get(name, ""))
                return route, tuple(parts)
        return None

    def get(self, path: str) -> tuple[int, Any]:
        key = self.key(path)
        if key is not None and key in self.entries:
            stored_at, status, body = self.entries[key]
            if time.monotonic() - stored_at < cache.CACHED_ROUTES[key[0]].ttl_s:
                self.hits += 1
                return status, body
        status, body = call(self.client, "GET", path, {"x-api-key": "web"})
        if key is not None:
            self.entries[key] = (time.monotonic(), status, body)
        return status, body

    def flush(self, **_: Any) -> None:
        self.entries.clear()


@pytest.fixture()
def stage(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StageCache, Stubber]]:
    configure(monkeypatch, API_ID=API_ID, API_STAGE=STAGE, API_CACHE_ENABLED="true", MEDIA_BUCKET="da-test-media")
    stand_in = StageCache(client)
    apigateway = aws_clients.client("apigateway", config=cache.CLIENT_CONFIG)
    event = f"after-call.{apigateway.meta.service_model.service_id.hyphenize()}.FlushStageCache"
    apigateway.meta.events.register(event, stand_in.flush)
    with Stubber(apigateway) as stub:
        yield stand_in, stub
    apigateway.meta.events.unregister(event, stand_in.flush)


def fresh(client: Any, path: str) -> tuple[int, Any]:
    return call(client, "GET", path, {"x-api-key": "web"})


def admin_writes_in_the_app() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, methods in app_module.app.routes.items()
        if path.startswith("/admin")
        for method in methods
        if method != "GET"
    }


ADMIN_WRITES = {tuple(reversed(route.split(" ", 1))): kind for route, kind in cache.ADMIN_WRITES.items()}
DRIVEN_ELSEWHERE = ("/admin/drinks/{drink_id}/picture/", "/admin/bartender")


def test_every_admin_write_has_a_kind_in_the_table() -> None:
    unclassified = admin_writes_in_the_app() - set(ADMIN_WRITES)
    assert not unclassified, f"add these to chalicelib/cache.py ADMIN_WRITES: {sorted(unclassified)}"
    assert set(ADMIN_WRITES.values()) <= set(cache.WRITE_AFFECTS)


def test_every_admin_write_flushes_what_it_changes_and_reads_are_fresh(
    client: Any,
    admin_headers: dict[str, str],
    stage: tuple[StageCache, Stubber],
    make_guest: Any,  # noqa: F811
) -> None:
    stand_in, stub = stage
    driven: set[tuple[str, str]] = set()

    def write(route: tuple[str, str], path: str, body: Any = None) -> Any:
        """One admin write; a flush is expected exactly when its kind changes a cached route."""
        flushes = bool(cache.routes_to_flush(ADMIN_WRITES[route]))
        if flushes:
            stub.add_response("flush_stage_cache", {}, {"restApiId": API_ID, "stageName": STAGE})
        before = len(stand_in.entries)
        status, answer = call(client, route[1], path, admin_headers, body)
        assert status in (200, 201), (route, answer)
        stub.assert_no_pending_responses()  # the flush happened (or none was due)
        if not flushes:
            assert len(stand_in.entries) == before, route  # nothing flushed it
        driven.add(route)
        return answer

    def agree(*paths: str) -> None:
        """What guests get through the cache is what the database says now."""
        for path in paths:
            assert stand_in.get(path) == fresh(client, path), path

    bar_route = ("/admin/bar", "PUT")
    try:
        write(bar_route, "/admin/bar", {"is_open": True, "message": ""})
        section = write(("/admin/sections", "POST"), "/admin/sections", {"name": f"Fresh {uuid.uuid4().hex[:8]}"})
        ingredient = write(
            ("/admin/ingredients", "POST"), "/admin/ingredients", {"name": f"Fresh Gin {uuid.uuid4().hex[:8]}"}
        )
        drink = write(("/admin/drinks", "POST"), "/admin/drinks", drink_body(section["id"], ingredient["name"]))
        drink_path = f"/drinks/{drink['id']}"
        watched = ("/bar", "/sections", "/ingredients", drink_path)
        for path in watched:  # prime the cache
            stand_in.get(path)
        assert stand_in.get("/bar")[1]["is_open"] is True and stand_in.hits == 1

        # The bar closes: guests see it at once (issue 16: PUT /admin/bar did not flush).
        write(bar_route, "/admin/bar", {"is_open": False, "message": "Back at ten"})
        assert stand_in.get("/bar") == (200, {"is_open": False, "message": "Back at ten"})
        agree(*watched)

        # Out of stock: the drink's page and the ingredient list both change.
        write(("/admin/ingredients/{ingredient_id}", "PUT"), f"/admin/ingredients/{ingredient['id']}",
              {"in_stock": False})  # fmt: skip
        assert stand_in.get(drink_path)[1]["available"] is False
        agree(*watched)

        write(("/admin/sections/{section_id}", "PUT"), f"/admin/sections/{section['id']}", {"description": "New"})
        assert any(s["description"] == "New" for s in stand_in.get("/sections")[1])
        write(("/admin/drinks/{drink_id}", "PUT"), f"/admin/drinks/{drink['id']}", {"garnish": "olive"})
        assert stand_in.get(drink_path)[1]["garnish"] == "olive"
        agree(*watched)

        # Writes no public read shows: no flush (the stand-in keeps its entries).
        write(("/admin/images/upload-url", "POST"), "/admin/images/upload-url",
              {"filename": "negroni.png", "content_type": "image/png"})  # fmt: skip
        code = write(("/admin/registration-codes", "POST"), "/admin/registration-codes", {"max_uses": 2})
        write(("/admin/registration-codes/{code}", "DELETE"), f"/admin/registration-codes/{code['code']}")
        write(("/admin/ingredients/{ingredient_id}", "PUT"), f"/admin/ingredients/{ingredient['id']}",
              {"in_stock": True})  # fmt: skip
        write(bar_route, "/admin/bar", {"is_open": True})
        guest, token = make_guest("Cache Guest")
        status, order = call(client, "POST", "/orders", {"Authorization": f"Bearer {token}"},
                             {"items": [{"drink_id": drink["id"]}]})  # fmt: skip
        assert status == 201, order
        write(("/admin/orders/{order_id}", "PUT"), f"/admin/orders/{order['id']}", {"status": "in_progress"})
        write(("/admin/guests/{guest_id}", "DELETE"), f"/admin/guests/{guest['id']}")
        agree(*watched)

        # Archiving: the drink leaves the menu, then the section does.
        write(("/admin/drinks/{drink_id}", "DELETE"), f"/admin/drinks/{drink['id']}")
        assert stand_in.get(drink_path)[0] == 404
        write(("/admin/sections/{section_id}", "DELETE"), f"/admin/sections/{section['id']}")
        assert all(s["id"] != section["id"] for s in stand_in.get("/sections")[1])
        agree(*watched)
    finally:
        call(client, "PUT", "/admin/bar", admin_headers, {"is_open": True, "message": ""})
    # The menu, bar, invite, order and guest writes, each driven (the picture and bartender
    # routes have their own tests; their kinds are the table's like every other write's).
    assert driven == {route for route in ADMIN_WRITES if not route[0].startswith(DRIVEN_ELSEWHERE)}


def test_a_write_that_changes_nothing_public_never_touches_the_cache(
    client: Any, admin_headers: dict[str, str], stage: tuple[StageCache, Stubber]
) -> None:
    """A refused write or a repeated delete changes nothing: no flush (no stub is queued,
    so a flush would fail, and its failure is logged, not raised: the stand-in says)."""
    stand_in, _ = stage
    stand_in.get("/bar")
    assert call(client, "PUT", "/admin/bar", admin_headers, {"is_open": "yes"})[0] == 400
    assert call(client, "PUT", f"/admin/ingredients/{uuid.uuid4()}", admin_headers, {"in_stock": True})[0] == 404
    assert len(stand_in.entries) == 1 and stand_in.get("/bar")[0] == 200 and stand_in.hits == 1


def test_the_stand_in_keys_like_the_template(client: Any, stage: tuple[StageCache, Stubber]) -> None:
    stand_in, _ = stage
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    assert stand_in.key(f"/drinks/{one}") != stand_in.key(f"/drinks/{two}")  # defect 1: keyed on the id
    assert stand_in.key(f"/drinks/{one}?x=1") == stand_in.key(f"/drinks/{one}")
    assert stand_in.key("/drinks?ingredient=gin") is None  # not cached at all
    assert stand_in.key("/bar") == ("/bar", ())
    assert json.dumps(cache.CACHED_ROUTES["/drinks/{drink_id}"].key_parameters) == '["method.request.path.drink_id"]'
