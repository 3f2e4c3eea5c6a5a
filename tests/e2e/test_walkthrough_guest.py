"""Issue 15, the guest's side, in Chromium against the running local stack: the bar's
state live on every page, the host's cancel reason, filters and drafts that survive
back and reload, the place in the queue, order again, favourites, and the ready moment
in the tab's title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from chalicelib import bar
from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import assert_no_horizontal_scroll, card, join, move_order, open_menu

pytestmark = pytest.mark.e2e

LIVE_TIMEOUT_MS = 20_000  # bus, queue (the runner long-polls), relay, WebSocket


@pytest.fixture()
def bar_settings(admin_api: Api) -> Iterator[Any]:
    def change(**fields: Any) -> None:
        admin_api.call("PUT", "/admin/bar", admin_api.admin, fields)

    yield change
    change(**bar.DEFAULTS)


@pytest.fixture()
def empty_queue(admin_api: Api) -> None:
    """No order of earlier tests still waits: places in the queue start at 1."""
    for order in admin_api.call("GET", "/admin/orders", admin_api.admin):
        if order["status"] in ("pending", "in_progress"):
            admin_api.call("PUT", f"/admin/orders/{order['id']}", admin_api.admin,
                           {"status": "cancelled", "reason": "tidying up before a test"})


def order_drink(session: PageSession, name: str) -> int:
    """Add one `name` from its drink page, send the cart; the pickup number."""
    page = session.page
    page.goto("/")
    card(session, name).click()
    page.get_by_test_id("add-to-order").click()
    page.get_by_test_id("send-order").click()
    expect(page).to_have_url(re.compile(r"/orders\?placed=\d+$"))
    return int(page.url.rsplit("=", 1)[1])


def admin_order(admin_api: Api, number: int) -> dict[str, Any]:
    return next(o for o in admin_api.call("GET", "/admin/orders?status=pending", admin_api.admin)
                if o["number"] == number)


# ---------------------------------------------------------------- bug 3: the bar's state, live


def test_closing_and_opening_the_bar_reach_open_pages_live(
    stack: Stack, admin_api: Api, open_page: Any, bar_settings: Any
) -> None:
    phone, desktop = open_page("phone"), open_page("desktop")
    join(phone, stack, admin_api, "Noor")
    open_menu(desktop)
    phone.page.goto("/")
    card(phone, "Margarita").click()
    add = phone.page.get_by_test_id("add-to-order")
    expect(add).to_be_visible()

    bar_settings(is_open=False, message="Back at 22:30 after the toast.")
    for session in (phone, desktop):  # no reload: the bar's event arrives on /menu/updates
        banner = session.page.get_by_test_id("bar-closed")
        expect(banner).to_contain_text("The bar is closed.", timeout=LIVE_TIMEOUT_MS)
        expect(banner).to_contain_text("Back at 22:30 after the toast.")
    expect(add).to_have_count(0)
    expect(phone.page.get_by_test_id("bar-closed-note")).to_contain_text("ordering is paused")
    assert_no_horizontal_scroll(phone)
    phone.shot("drink-bar-closed")
    desktop.shot("menu-bar-closed")
    phone.page.goto("/orders")  # every guest page carries the banner
    expect(phone.page.get_by_test_id("bar-closed")).to_contain_text("Back at 22:30")
    phone.page.go_back()

    bar_settings(is_open=True, message="")
    expect(phone.page.get_by_test_id("add-to-order")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(phone.page.get_by_test_id("bar-closed")).to_have_count(0)
    expect(desktop.page.get_by_test_id("bar-closed")).to_have_count(0, timeout=LIVE_TIMEOUT_MS)


# ---------------------------------------------------------------- bug 4: the host's reason


def test_a_cancelled_order_shows_the_hosts_reason(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    join(phone, stack, admin_api, "Ivo")
    number = order_drink(phone, "Mojito")
    expect(phone.page.get_by_text("Live updates on")).to_be_visible()
    order = admin_order(admin_api, number)
    admin_api.call("PUT", f"/admin/orders/{order['id']}", admin_api.admin,
                   {"status": "cancelled", "reason": "We ran out of mint, sorry! Ask for a Southside."})
    past = phone.page.get_by_test_id("past-order").filter(has_text=f"#{number}")
    expect(past).to_contain_text("Cancelled", timeout=LIVE_TIMEOUT_MS)  # live
    expect(past.get_by_test_id("cancel-reason")).to_contain_text("We ran out of mint, sorry! Ask for a Southside.")
    assert_no_horizontal_scroll(phone)
    phone.shot("cancelled-with-reason")
    phone.page.reload()
    expect(past.get_by_test_id("cancel-reason")).to_contain_text("We ran out of mint")


# ---------------------------------------------------------------- bug 5: back and reload keep what was typed


def test_back_keeps_the_filters_and_a_reload_keeps_the_draft(phone: PageSession) -> None:
    page = phone.page
    open_menu(phone)
    search = page.get_by_role("searchbox", name="Search drinks")
    search.fill("sour")
    chips = page.get_by_role("group", name="Filter by ingredient")
    chips.get_by_role("button", name="Gin", exact=True).click()
    first = page.locator("[data-testid=drink-card] h3").first
    expect(page).to_have_url(re.compile(r"q=sour"))
    names = page.locator("[data-testid=drink-card] h3").all_inner_texts()
    assert names, "sour + gin should match something on the seeded menu"
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(names[0])
    page.go_back()  # the browser's back
    expect(search).to_have_value("sour")
    expect(chips.get_by_role("button", name="Gin", exact=True)).to_have_attribute("aria-pressed", "true")
    assert page.locator("[data-testid=drink-card] h3").all_inner_texts() == names
    first.click()
    page.get_by_role("link", name="← Menu").click()  # the page's own back link
    expect(search).to_have_value("sour")

    first.click()
    page.get_by_role("button", name="One more").click()
    page.get_by_role("button", name="One more").click()
    page.get_by_label("Notes").fill("no ice, please")
    phone.shot("drink-draft")
    page.reload()
    expect(page.get_by_test_id("quantity")).to_have_text("3")
    expect(page.get_by_label("Notes")).to_have_value("no ice, please")
    page.get_by_test_id("add-to-order").click()  # in the cart: the draft is done with
    expect(search).to_have_value("sour")  # and the menu comes back as it was left
    page.get_by_role("link", name=names[0]).first.click()
    expect(page.get_by_test_id("quantity")).to_have_text("1")


# ---------------------------------------------------------------- feature 1: place in the queue


@pytest.mark.usefixtures("empty_queue")
def test_the_order_shows_its_place_in_the_queue(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    _, other_token = admin_api.register_guest("Someone before")
    ahead = admin_api.place_order(other_token, admin_api.available_drink())
    join(phone, stack, admin_api, "Lea")
    number = order_drink(phone, "Margarita")
    mine = phone.page.get_by_test_id("order").filter(has_text=f"#{number}")
    place = mine.get_by_test_id("queue-place")
    expect(place).to_contain_text("2nd in the queue · about", timeout=LIVE_TIMEOUT_MS)
    phone.shot("queue-second")
    admin_api.move_order(ahead["id"], "in_progress")
    admin_api.move_order(ahead["id"], "ready")  # the one ahead is made: not on my channel
    phone.page.evaluate("window.dispatchEvent(new Event('focus'))")  # back to the tab: fetched
    expect(place).to_contain_text("Next up · about")
    move_order(admin_api, number, "in_progress")  # my own event: still next, now being made
    expect(mine.get_by_test_id("order-status")).to_have_text("Being made", timeout=LIVE_TIMEOUT_MS)
    expect(place).to_contain_text("Next up")
    phone.shot("queue-next")


# ---------------------------------------------------------------- feature 2: order again, favourites


@pytest.mark.usefixtures("empty_queue")
def test_order_again_and_favourites(stack: Stack, admin_api: Api, open_page: Any) -> None:
    phone = open_page("phone")
    page = phone.page
    join(phone, stack, admin_api, "Kai")
    number = order_drink(phone, "Mojito")
    for status in ("in_progress", "ready", "completed"):
        move_order(admin_api, number, status)
    page.reload()
    moment = page.get_by_test_id("ready-moment")
    if moment.count():  # the ready moment may still be up; it was seen
        page.get_by_role("button", name="On my way").click()
    past = page.get_by_test_id("past-order").filter(has_text=f"#{number}")
    expect(past).to_contain_text("Picked up")
    phone.shot("order-again")
    past.get_by_test_id("order-again").click()  # one tap
    expect(page).to_have_url(re.compile(r"/orders\?placed=\d+$"))
    active = page.get_by_test_id("order").first
    expect(active).to_contain_text("Mojito")
    expect(active.get_by_test_id("order-status")).to_have_text("Received")
    mine = admin_api.call("GET", "/admin/orders?status=pending", admin_api.admin)
    assert [o["items"][0]["name"] for o in mine if o["guest_name"] == "Kai"] == ["Mojito"]

    # Favourites: a heart on the card, a filter, kept on this phone across reloads.
    open_menu(phone)
    expect(page.get_by_test_id("favourites-only")).to_have_count(0)  # nothing hearted yet
    heart = page.get_by_role("button", name="Favourite: Negroni", exact=True)
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Favourite: Margarita", exact=True).click()
    page.get_by_role("switch", name="Favourites ♥").check()
    expect(page.locator("[data-testid=drink-card]")).to_have_count(2)
    assert sorted(page.locator("[data-testid=drink-card] h3").all_inner_texts()) == ["Margarita", "Negroni"]
    assert_no_horizontal_scroll(phone)
    phone.shot("favourites")
    page.reload()
    expect(page.locator("[data-testid=drink-card]")).to_have_count(2)  # ?fav=1 and the hearts survive
    card(phone, "Negroni").click()
    expect(page.get_by_role("button", name="Favourite: Negroni", exact=True)).to_have_attribute("aria-pressed", "true")

    desktop = open_page("desktop")
    open_menu(desktop)
    desktop.shot("menu-hearts")


# ---------------------------------------------------------------- feature 3: the ready moment in the tab


@pytest.mark.usefixtures("empty_queue")
def test_the_ready_moment_changes_the_tab_title_and_icon(stack: Stack, admin_api: Api, desktop: PageSession) -> None:
    page = desktop.page
    join(desktop, stack, admin_api, "Rae")
    number = order_drink(desktop, "Margarita")
    expect(page.get_by_text("Live updates on")).to_be_visible()
    original = page.title()
    sound = page.get_by_test_id("orders-sound")
    expect(sound).to_be_checked()
    sound.click()  # mute, remembered
    expect(sound).not_to_be_checked()
    move_order(admin_api, number, "in_progress")
    move_order(admin_api, number, "ready")
    expect(page.get_by_test_id("ready-moment")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(page).to_have_title(f"Ready! #{number}")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon and icon.startswith("data:image/svg+xml,")
    expect(page.get_by_test_id("ready-sound")).not_to_be_checked()  # the same switch, remembered
    desktop.shot("ready-title")
    page.get_by_role("button", name="On my way").click()
    expect(page).to_have_title(original)
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.svg"
    page.reload()
    expect(page.get_by_test_id("orders-sound")).not_to_be_checked()
    page.get_by_test_id("orders-sound").click()
    expect(page.get_by_test_id("orders-sound")).to_be_checked()
