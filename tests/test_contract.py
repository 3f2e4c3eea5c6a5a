"""The typed contract (chalicelib/contract.py) against the app as it is.

- Every route of `app.app.routes` has an entry in `contract.ROUTES` (a new route cannot
  skip the contract), and no entry names a route that is gone.
- A real evening through the in-process client (the `client` fixture, the real database):
  each answer is validated against its route's model in strict JSON mode, and its status
  is the route's success status. The models forbid extra keys, so a field a view adds
  without the contract fails here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from chalicelib import contract
from tests.admin_menu_helpers import (  # noqa: F401 (fixture)
    aws,
    configure,
    drink_body,
    make_ingredient,
    make_section,
    unique,
)
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)


def _app_routes() -> set[tuple[str, str]]:
    import app as app_module

    return {(method, path) for path, methods in app_module.app.routes.items() for method in methods}


def test_every_route_has_a_contract_entry() -> None:
    missing = sorted(_app_routes() - set(contract.ROUTES))
    assert not missing, f"routes without an entry in chalicelib/contract.py ROUTES: {missing}"


def test_every_contract_entry_is_a_route() -> None:
    stale = sorted(set(contract.ROUTES) - _app_routes())
    assert not stale, f"chalicelib/contract.py ROUTES names routes app.py does not have: {stale}"


def test_request_models_are_the_ones_the_views_parse_with() -> None:
    """Bodies and queries come from chalicelib.validation (StatsQuery documents a
    hand-read ?since=), so the document cannot describe a model the view does not use."""
    from chalicelib import validation

    for key, route in contract.ROUTES.items():
        for model in (route.body, route.query):
            if model is not None and model is not contract.StatsQuery:
                assert getattr(validation, model.__name__) is model, key


def test_the_models_refuse_what_the_contract_does_not_say() -> None:
    """Checked with a drink: an extra key, a missing one, a wrong type each fail."""
    section = {"id": str(uuid.uuid4()), "name": "Sours", "description": "", "position": 1}
    contract.Section.model_validate_json(json.dumps(section), strict=True)
    missing_name = {k: v for k, v in section.items() if k != "name"}
    for broken in ({**section, "extra": 1}, missing_name, {**section, "position": "1"}):
        with pytest.raises(ValidationError):
            contract.Section.model_validate_json(json.dumps(broken), strict=True)


# ---------------------------------------------------------------- real answers


class Recorder:
    """Calls through the in-process client and checks each answer against the contract."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.checked: set[tuple[str, str]] = set()

    def __call__(
        self, method: str, template: str, headers: dict[str, str], body: Any = None, **params: str
    ) -> Any:
        path = template.format(**params)
        raw = b"" if body is None else json.dumps(body).encode()
        response = self.client.http.request(
            method, path, headers={**headers, "Content-Type": "application/json"}, body=raw
        )
        route_path = template.split("?")[0]
        route = contract.ROUTES[(method, route_path)]
        expected = {route.status, *route.also}
        assert response.status_code in expected, (method, path, response.status_code, response.body[:500])
        shape: Any = list[route.response] if route.many else route.response
        try:
            value = TypeAdapter(shape).validate_json(response.body, strict=True)
        except ValidationError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{method} {route_path} answered outside the contract:\n{exc}")
        self.checked.add((method, route_path))
        return json.loads(response.body), value


def _error_checked(client: Any, method: str, path: str, headers: dict[str, str], status: int) -> None:
    response = client.http.request(method, path, headers={**headers, "Content-Type": "application/json"}, body=b"{}")
    assert response.status_code == status, (path, response.status_code, response.body)
    contract.ErrorBody.model_validate_json(response.body, strict=True)


@pytest.fixture()
def open_bar(admin_conn: Any) -> Iterator[None]:
    saved = admin_conn.execute("SELECT * FROM bar_settings WHERE id = 'bar'").fetchone()
    admin_conn.execute(
        "UPDATE orders SET status = 'completed' WHERE status IN ('pending', 'in_progress', 'ready')"
    )
    admin_conn.execute(
        "UPDATE bar_settings SET is_open = TRUE, max_queue = 500, max_active_per_guest = 20 WHERE id = 'bar'"
    )
    yield
    if saved:
        admin_conn.execute(
            """UPDATE bar_settings SET is_open = %(is_open)s, message = %(message)s, max_queue = %(max_queue)s,
               max_active_per_guest = %(max_active_per_guest)s WHERE id = 'bar'""",
            saved,
        )


def test_an_evening_answers_as_the_contract_says(
    client: Any,
    admin_headers: dict[str, str],
    make_guest: Any,  # noqa: F811
    aws: None,  # noqa: F811
    open_bar: None,
    admin_conn: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, MEDIA_BUCKET="drink-assistant-test-media")  # presigning needs no bucket to exist
    call = Recorder(client)
    admin = admin_headers
    anyone: dict[str, str] = {}

    # the public menu
    call("GET", "/sections", anyone)
    drinks, _ = call("GET", "/drinks", anyone)
    call("GET", "/drinks?available=true&ingredient=gin", anyone)
    drink_id = drinks[0]["id"]
    call("GET", "/drinks/{drink_id}", anyone, drink_id=drink_id)
    call("GET", "/drinks/{drink_id}/similar?limit=3", anyone, drink_id=drink_id)
    call("GET", "/ingredients", anyone)
    call("GET", "/bar", anyone)

    # an invite, a guest who joins and refreshes
    code, _ = call("POST", "/admin/registration-codes", admin, {"expires_in_hours": 2, "max_uses": 3, "note": "x"})
    call("GET", "/admin/registration-codes", admin)
    session, _ = call("POST", "/register", anyone, {"code": code["code"], "name": "Contract Guest"})
    session, _ = call("POST", "/auth/refresh", anyone, {"refresh_token": session["refresh_token"]})
    guest = {"Authorization": f"Bearer {session['access_token']}"}
    call("GET", "/me", guest)
    call("GET", "/me", admin)

    # taste
    call("GET", "/me/profile", guest)
    call("PUT", "/me/profile", guest, {"likes": ["sour"], "strength": "medium", "avoid": ["egg"]})
    call("PUT", "/me/ratings/{drink_id}", guest, {"rating": 1}, drink_id=drink_id)
    call("GET", "/me/ratings", guest)
    call("GET", "/recommendations?limit=2", guest)

    # orders
    available = next(d for d in drinks if d["available"])
    placed, _ = call("POST", "/orders", guest, {"items": [{"drink_id": available["id"], "quantity": 2}]})
    again, _ = call(
        "POST", "/orders", {**guest, "Idempotency-Key": "contract-1"}, {"items": [{"drink_id": available["id"]}]}
    )
    call("POST", "/orders", {**guest, "Idempotency-Key": "contract-1"}, {"items": [{"drink_id": available["id"]}]})
    call("GET", "/orders", guest)
    call("GET", "/orders/{order_id}", guest, order_id=placed["id"])
    call("POST", "/orders/{order_id}/cancel", guest, order_id=again["id"])
    call("GET", "/admin/orders", admin)
    call("GET", "/admin/orders?status=cancelled", admin)
    call("GET", "/admin/orders/{order_id}", admin, order_id=placed["id"])
    call("PUT", "/admin/orders/{order_id}", admin, {"status": "in_progress"}, order_id=placed["id"])
    call("PUT", "/admin/orders/{order_id}", admin, {"status": "ready"}, order_id=placed["id"])

    # the bartender (offline engine)
    saved = admin_conn.execute(
        "SELECT enabled, nightly_token_budget FROM bartender_settings WHERE id = 'bar'"
    ).fetchone()
    try:
        call("GET", "/admin/bartender", admin)
        call("PUT", "/admin/bartender", admin, {"enabled": True})
        call("GET", "/bartender", guest)
        reply, _ = call("POST", "/bartender/messages", guest, {"message": "something sour with gin"})
        follow_up = {"message": "one of those please", "conversation_id": reply["conversation_id"]}
        call("POST", "/bartender/messages", guest, follow_up)
        call("GET", "/bartender/conversations/{conversation_id}", guest, conversation_id=reply["conversation_id"])
    finally:
        if saved:
            admin_conn.execute(
                "UPDATE bartender_settings SET enabled = %(enabled)s, nightly_token_budget = %(nightly_token_budget)s",
                saved,
            )

    # admin: bar, numbers
    bar, _ = call("GET", "/admin/bar", admin)
    call("PUT", "/admin/bar", admin, {"message": bar["message"]})
    call("GET", "/admin/stats", admin)

    # admin: menu
    call("GET", "/admin/sections", admin)
    call("GET", "/admin/ingredients", admin)
    call("GET", "/admin/drinks", admin)
    section = make_section(client, admin)
    call("PUT", "/admin/sections/{section_id}", admin, {"description": "for the contract"}, section_id=section["id"])
    ingredient = make_ingredient(client, admin)
    call(
        "PUT", "/admin/ingredients/{ingredient_id}", admin, {"in_stock": False, "flavour": {"sour": 2}},
        ingredient_id=ingredient["id"],
    )  # fmt: skip
    call("POST", "/admin/ingredients", admin, {"name": unique("Ingredient"), "category": "juice"})
    created, _ = call("POST", "/admin/drinks", admin, drink_body(section["id"], ingredient["name"]))
    call("GET", "/admin/drinks/{drink_id}", admin, drink_id=created["id"])
    call("PUT", "/admin/drinks/{drink_id}", admin, {"description": "changed"}, drink_id=created["id"])
    upload, _ = call("POST", "/admin/images/upload-url", admin, {"filename": "a.jpg", "content_type": "image/jpeg"})
    call("POST", "/admin/drinks/{drink_id}/picture/photo", admin, {"image_key": upload["key"]}, drink_id=created["id"])
    call("DELETE", "/admin/drinks/{drink_id}", admin, drink_id=created["id"])
    call("POST", "/admin/sections", admin, {"name": unique("Section")})
    call("DELETE", "/admin/sections/{section_id}", admin, section_id=section["id"])

    # endings
    call("DELETE", "/admin/registration-codes/{code}", admin, code=code["code"])
    call("DELETE", "/admin/guests/{guest_id}", admin, guest_id=session["guest"]["id"])
    call("POST", "/auth/sign-out", anyone, {"refresh_token": session["refresh_token"]})

    # refusals are {"Code","Message"}
    _error_checked(client, "GET", f"/drinks/{uuid.uuid4()}", anyone, 404)
    _error_checked(client, "GET", "/drinks/not-a-uuid", anyone, 400)
    _error_checked(client, "POST", "/orders", guest, 401)  # the guest was just revoked

    not_walked = sorted(set(contract.ROUTES) - call.checked)
    # regenerate needs IMAGE_GENERATION (off locally): its 202 is covered by the schemathesis run's 409s
    assert not_walked == [("POST", "/admin/drinks/{drink_id}/picture/regenerate")], not_walked
