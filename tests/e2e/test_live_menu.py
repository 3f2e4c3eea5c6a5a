"""The live menu in a real browser: the host changes stock through the admin API and a
guest's open page follows, without a reload (MenuChanged -> bus -> realtime queue ->
relay_to_realtime -> /menu/updates -> refetch)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import api_get, assert_no_horizontal_scroll, card, open_menu

pytestmark = pytest.mark.e2e

LIVE_TIMEOUT_MS = 20_000  # bus, queue (the runner long-polls), relay, WebSocket, 300 ms debounce


@pytest.fixture()
def stock(admin_api: Api) -> Iterator[Any]:
    """Set an ingredient's stock through the admin API; whatever was changed is restocked
    afterwards (other tests count the seeded menu's unavailable drinks)."""
    changed: list[str] = []

    def set_stock(ingredient_id: str, in_stock: bool) -> None:
        changed.append(ingredient_id)
        admin_api.call("PUT", f"/admin/ingredients/{ingredient_id}", admin_api.admin, {"in_stock": in_stock})

    yield set_stock
    for ingredient_id in changed:
        admin_api.call("PUT", f"/admin/ingredients/{ingredient_id}", admin_api.admin, {"in_stock": True})


def drink_and_rare_ingredient(stack: Stack, admin_api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """An available drink and one of its required ingredients that as few other drinks as
    possible need (the test makes it unavailable for a moment)."""
    catalog = {i["name"].lower(): i for i in admin_api.call("GET", "/admin/ingredients", admin_api.admin)}
    choices = [
        (catalog[item["name"].lower()], drink)
        for drink in api_get(stack, "/drinks")
        if drink["available"]
        for item in drink["ingredients"]
        if not item["optional"] and item["name"].lower() in catalog
    ]
    ingredient, drink = min(choices, key=lambda c: (c[0]["active_drinks"], c[1]["name"]))
    assert ingredient["in_stock"] is True
    return drink, ingredient


def test_a_guest_sees_stock_changes_live(stack: Stack, admin_api: Api, phone: PageSession, stock: Any) -> None:
    drink, ingredient = drink_and_rare_ingredient(stack, admin_api)
    page = phone.page
    open_menu(phone)
    page.evaluate("window.__sameDocument = true")  # gone after any reload or navigation
    target = card(phone, drink["name"])
    target.scroll_into_view_if_needed()
    expect(target).not_to_have_class(re.compile("unavailable"))
    phone.shot("live-before")

    stock(ingredient["id"], False)  # the host runs out
    expect(target).to_have_class(re.compile("unavailable"), timeout=LIVE_TIMEOUT_MS)
    expect(target).to_contain_text("Not available right now")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert_no_horizontal_scroll(phone)
    phone.shot("live-out-of-stock")

    # The drink's own page follows too: restocking brings its order button back.
    target.click()
    expect(page.get_by_role("heading", name=drink["name"], level=1)).to_be_visible()
    expect(page.get_by_test_id("unavailable")).to_be_visible()
    expect(page.get_by_test_id("add-to-order")).to_have_count(0)
    stock(ingredient["id"], True)
    expect(page.get_by_test_id("add-to-order")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(page.get_by_test_id("unavailable")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    page.get_by_test_id("add-to-order").scroll_into_view_if_needed()
    phone.shot("live-detail-restocked")
