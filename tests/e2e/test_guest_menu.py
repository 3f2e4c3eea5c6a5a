"""The guest side in a real browser against the running local stack."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from chalicelib import bar
from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack

pytestmark = pytest.mark.e2e

UNAVAILABLE = {"Pisco Sour", "Aviation", "Bellini"}


def api_get(stack: Stack, path: str) -> Any:
    with urllib.request.urlopen(f"{stack.base_url}/api{path}", timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def card(session: PageSession, name: str) -> Any:
    """The menu card of the drink called exactly `name`."""
    heading = session.page.get_by_role("heading", name=name, exact=True, level=3)
    return session.page.locator("[data-testid=drink-card]").filter(has=heading)


def card_names(session: PageSession) -> list[str]:
    return session.page.locator("[data-testid=drink-card] h3").all_inner_texts()


def open_menu(session: PageSession, path: str = "/") -> None:
    session.page.goto(path)
    expect(session.page.locator("[data-testid=drink-card]").first).to_be_visible()


def assert_no_horizontal_scroll(session: PageSession) -> None:
    widths = session.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page is {widths[0]}px wide in a {widths[1]}px viewport"


@pytest.fixture()
def bar_settings(admin_api: Api) -> Iterator[Any]:
    """Change the bar's settings through the admin API; the defaults come back afterwards."""

    def change(**fields: Any) -> None:
        admin_api.call("PUT", "/admin/bar", admin_api.admin, fields)

    yield change
    change(**bar.DEFAULTS)


def test_menu_shows_sections_and_drinks_on_a_phone(stack: Stack, phone: PageSession) -> None:
    open_menu(phone)
    sections = api_get(stack, "/sections")
    drinks = api_get(stack, "/drinks")
    headings = phone.page.locator(".menu-section h2").all_inner_texts()
    assert headings == [s["name"] for s in sorted(sections, key=lambda s: s["position"])]
    assert sorted(card_names(phone)) == sorted(d["name"] for d in drinks)
    for name in UNAVAILABLE:
        expect(card(phone, name)).to_have_class(re.compile("unavailable"))
        expect(card(phone, name)).to_contain_text("Not available right now")
    assert_no_horizontal_scroll(phone)
    phone.shot("menu-top")
    # The section tabs jump to their section.
    last = sections[-1]
    phone.page.get_by_role("navigation", name="Menu sections").get_by_role("link", name=last["name"]).click()
    expect(phone.page.get_by_role("heading", name=last["name"], level=2)).to_be_in_viewport()
    assert_no_horizontal_scroll(phone)
    phone.shot("menu-last-section")


def test_menu_on_a_desktop(desktop: PageSession) -> None:
    open_menu(desktop)
    assert len(card_names(desktop)) == 60
    assert_no_horizontal_scroll(desktop)
    desktop.shot("menu")


def test_search_narrows_the_menu(stack: Stack, phone: PageSession) -> None:
    open_menu(phone)
    phone.page.get_by_role("searchbox", name="Search drinks").fill("negroni")
    expect(phone.page.locator("[data-testid=drink-card]", has_text="Negroni").first).to_be_visible()
    names = card_names(phone)
    expected = [d["name"] for d in api_get(stack, "/drinks?q=negroni")]
    assert sorted(names) == sorted(expected)
    assert 0 < len(names) < 60
    phone.shot("search")
    phone.page.get_by_role("searchbox", name="Search drinks").fill("no-such-drink-xyz")
    expect(phone.page.get_by_text("Nothing matches that")).to_be_visible()
    phone.page.get_by_role("button", name="Clear filters").click()
    expect(phone.page.locator("[data-testid=drink-card]")).to_have_count(60)


def test_ingredient_filter_matches_the_api(stack: Stack, phone: PageSession) -> None:
    open_menu(phone)
    chips = phone.page.get_by_role("group", name="Filter by ingredient")
    chips.get_by_role("button", name="Gin", exact=True).click()
    expect(chips.get_by_role("button", name="Gin", exact=True)).to_have_attribute("aria-pressed", "true")
    expected = sorted(d["name"] for d in api_get(stack, "/drinks?ingredient=Gin"))
    expect(phone.page.locator("[data-testid=drink-card]")).to_have_count(len(expected))
    assert sorted(card_names(phone)) == expected
    phone.shot("filter-gin")
    # Two ingredients: drinks with both (AND), like the API.
    chips.get_by_role("button", name="More ingredients…").click()
    chips.get_by_role("button", name="Lemon Juice", exact=True).click()
    query = urllib.parse.urlencode([("ingredient", "Gin"), ("ingredient", "Lemon Juice")])
    expected = sorted(d["name"] for d in api_get(stack, f"/drinks?{query}"))
    expect(phone.page.locator("[data-testid=drink-card]")).to_have_count(len(expected))
    assert sorted(card_names(phone)) == expected
    assert_no_horizontal_scroll(phone)
    phone.shot("filter-gin-lemon")


def test_available_now_hides_unavailable_drinks(phone: PageSession) -> None:
    open_menu(phone)
    assert set(card_names(phone)) >= UNAVAILABLE
    phone.page.get_by_role("switch", name="Available now").check()
    expect(phone.page.locator("[data-testid=drink-card]")).to_have_count(57)
    assert not UNAVAILABLE & set(card_names(phone))
    phone.shot("available-only")


def test_drink_detail_opens(phone: PageSession) -> None:
    open_menu(phone)
    card(phone, "Margarita").click()
    expect(phone.page).to_have_url(re.compile(r"/drinks/[0-9a-f-]{36}$"))
    expect(phone.page.get_by_role("heading", name="Margarita", level=1)).to_be_visible()
    phone.shot("detail-top")
    expect(phone.page.locator(".ingredient-list")).to_contain_text("Tequila")
    expect(phone.page.locator(".facts")).to_contain_text("coupe")
    expect(phone.page.get_by_role("img", name=re.compile("Margarita"))).to_be_visible()
    phone.page.get_by_role("button", name="One more").click()
    expect(phone.page.get_by_test_id("quantity")).to_have_text("2")
    assert_no_horizontal_scroll(phone)
    phone.shot("detail-order-form")
    # An unavailable drink says so and cannot be ordered.
    phone.page.get_by_role("link", name="← Menu").click()
    card(phone, "Aviation").click()
    expect(phone.page.get_by_test_id("unavailable")).to_be_visible()
    expect(phone.page.get_by_test_id("add-to-order")).to_have_count(0)
    phone.shot("detail-unavailable")


def test_closed_bar_shows_its_message(stack: Stack, phone: PageSession, bar_settings: Any) -> None:
    bar_settings(is_open=False, message="Back at 9pm, after the toast.")
    open_menu(phone)
    banner = phone.page.get_by_test_id("bar-closed")
    expect(banner).to_contain_text("The bar is closed.")
    expect(banner).to_contain_text("Back at 9pm, after the toast.")
    phone.shot("bar-closed")


# ---------------------------------------------------------------- join, order, ready


def move_order(admin_api: Api, number: int, status: str) -> None:
    """The bartender moves the order (PUT /admin/orders/{id}: publishes the realtime event)."""
    order = next(o for o in admin_api.call("GET", "/admin/orders", admin_api.admin) if o["number"] == number)
    admin_api.move_order(order["id"], status)


def join(session: PageSession, stack: Stack, admin_api: Api, name: str) -> None:
    invite = admin_api.call("POST", "/admin/registration-codes", admin_api.admin, {"max_uses": 1})
    assert invite["join_url"].startswith(f"{stack.base_url}/join?code=")
    session.page.goto(invite["join_url"])
    expect(session.page.get_by_role("heading", name="Join to order")).to_be_visible()
    session.shot("join")
    session.page.get_by_label("Your name").fill(name)
    session.page.get_by_role("button", name="Join the bar").click()
    expect(session.page.get_by_text(f"Welcome, {name}")).to_be_visible()


def add_drink(session: PageSession, name: str, *, more: int = 0, notes: str = "") -> None:
    session.page.goto("/")
    card(session, name).click()
    for _ in range(more):
        session.page.get_by_role("button", name="One more").click()
    if notes:
        session.page.get_by_label("Notes").fill(notes)
    session.page.get_by_test_id("add-to-order").click()
    expect(session.page.get_by_test_id("cart")).to_be_visible()


def test_guest_joins_orders_and_sees_it_ready(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Sam")
    add_drink(phone, "Margarita", more=1, notes="extra salt")
    page.get_by_role("button", name=re.compile("Your order")).click()
    expect(page.get_by_role("region", name="Your order")).to_contain_text("2× Margarita")
    assert_no_horizontal_scroll(phone)
    phone.shot("cart")
    page.get_by_test_id("send-order").click()
    expect(page).to_have_url(re.compile(r"/orders\?placed=\d+$"))
    number = int(page.url.rsplit("=", 1)[1])
    order = page.get_by_test_id("order").first
    expect(order).to_contain_text(f"#{number}")
    expect(order.get_by_test_id("order-status")).to_have_text("Received")
    phone.shot("order-placed")

    # Still signed in, and the order still there, after a reload.
    page.reload()
    expect(page.get_by_test_id("order").first.get_by_test_id("order-status")).to_have_text("Received")

    expect(page.get_by_text("Live updates on")).to_be_visible()
    move_order(admin_api, number, "in_progress")
    expect(order.get_by_test_id("order-status")).to_have_text("Being made")  # live, no reload
    move_order(admin_api, number, "ready")
    moment = page.get_by_test_id("ready-moment")
    expect(moment).to_be_visible()
    expect(moment).to_contain_text(f"#{number}")
    phone.shot("ready")
    page.get_by_role("button", name="On my way").click()
    expect(moment).to_have_count(0)
    page.reload()  # seen once: it does not come back after a reload
    expect(page.get_by_test_id("order").first.get_by_test_id("order-status")).to_have_text("Ready!")
    expect(moment).to_have_count(0)

    move_order(admin_api, number, "completed")
    page.reload()
    expect(page.get_by_test_id("past-order").first).to_contain_text("Picked up")
    phone.shot("history")
    stored = json.loads(page.evaluate("localStorage.getItem('da.guest-session')"))
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_role("link", name="My orders")).to_have_count(0)
    expect(page.get_by_text("To order, scan the QR code")).to_be_visible()
    # Signing out ended the session on the server: the tokens the phone held are refused.
    refresh = requests.post(
        f"{stack.base_url}/api/auth/refresh", json={"refresh_token": stored["refreshToken"]}, timeout=15
    )
    assert refresh.status_code == 401, refresh.text
    me = requests.get(
        f"{stack.base_url}/api/me", headers={"Authorization": f"Bearer {stored['accessToken']}"}, timeout=15
    )
    assert me.status_code == 401, me.text


def test_refused_order_gets_a_friendly_message(
    stack: Stack, admin_api: Api, phone: PageSession, bar_settings: Any
) -> None:
    join(phone, stack, admin_api, "Alex")
    add_drink(phone, "Mojito")
    bar_settings(is_open=False, message="Last call was at 1am.")
    phone.allow_console_error(r"status of 409")  # the browser logs the refused POST
    phone.page.get_by_test_id("send-order").click()
    alert = phone.page.get_by_test_id("order-error")
    expect(alert).to_contain_text("The bar is closed right now")
    expect(alert).to_contain_text("Last call was at 1am.")
    expect(phone.page.get_by_test_id("bar-closed")).to_be_visible()  # the banner caught up
    phone.shot("bar-closed-refusal")
