"""Errors below the edge reach clients as the contract's JSON, for every route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import app as app_module
from chalicelib import db as db_module


@pytest.fixture()
def unreachable_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib.config import settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    settings.cache_clear()
    db_module.reset_database()
    yield
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.cache_clear()
    db_module.reset_database()


def test_every_route_is_registered_through_the_edge() -> None:
    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            assert getattr(entry.view_function, "__wrapped__", None) is not None, f"{method} {path}"


def test_an_unreachable_database_is_a_json_503(client: Any, unreachable_database: None) -> None:
    response = client.http.get("/drinks")
    assert response.status_code == 503
    body = json.loads(response.body)
    assert body["Code"] == "DatabaseUnavailable"
    assert "127.0.0.1" not in body["Message"]  # no connection details leak
    assert response.headers["Retry-After"] == "2"


def test_a_write_that_keeps_conflicting_is_a_json_503(
    client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*_args: Any, **_kwargs: Any) -> Any:
        raise db_module.DatabaseBusy("gave up after 8 conflicting attempts")

    monkeypatch.setattr(db_module.Database, "write", busy)
    response = client.http.put(
        "/admin/bar", headers={**admin_headers, "Content-Type": "application/json"}, body=json.dumps({"message": "x"})
    )
    assert response.status_code == 503
    assert json.loads(response.body)["Code"] == "DatabaseBusy"
