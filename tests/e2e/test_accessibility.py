"""WCAG 2.2 AA in Chromium: axe-core on every guest and admin page at 360 px and desktop,
in the dark and the light theme (0 serious or critical violations), and the keyboard
paths: the skip link to the drinks, Esc closes the cart, focus follows navigation."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_admin_console import admin_login, sign_in  # noqa: F401 (admin_login is a fixture)
from tests.e2e.test_guest_menu import card, join

pytestmark = pytest.mark.e2e

THEMES = ("dark", "light")


def first_drink(stack: Stack) -> dict[str, Any]:
    with urllib.request.urlopen(f"{stack.base_url}/api/drinks", timeout=10) as response:  # noqa: S310 (loopback)
        return next(d for d in json.loads(response.read()) if d["available"])


def check(session: PageSession, where: str, ready: Callable[[Any], None], found: list[str]) -> None:
    """Wait until the page shows what it is for, then axe it in both themes (each page's
    findings are collected, so one run lists them all)."""
    page = session.page
    ready(page)
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)
        # Colours ease over 0.15 s: axe reads the settled ones.
        page.wait_for_function("!document.getAnimations().some((a) => a instanceof CSSTransition)")
        try:
            assert_accessible(page, f"{where} ({theme}, {page.viewport_size['width']} px)")
        except AssertionError as exc:
            found.append(str(exc))
        session.shot(f"{where.strip('/').replace('/', '_') or 'board'}-{theme}")


def heading(name: str, level: int = 1) -> Callable[[Any], None]:
    return lambda page: expect(page.get_by_role("heading", name=name, level=level).first).to_be_visible()


@pytest.mark.parametrize("variant", ["phone", "desktop"])
def test_every_guest_page_passes_axe(
    variant: str, stack: Stack, admin_api: Api, open_page: Callable[..., PageSession]
) -> None:
    guest = open_page(variant)
    page = guest.page
    invite = admin_api.call("POST", "/admin/registration-codes", admin_api.admin, {"max_uses": 1})
    page.goto(invite["join_url"])
    found: list[str] = []
    check(guest, "join", heading("Join to order"), found)
    page.get_by_label("Your name").fill(f"Axe {variant}")
    page.get_by_role("button", name="Join the bar").click()
    check(guest, "menu", lambda p: expect(p.locator("[data-testid=drink-card]").first).to_be_visible(), found)
    drink = first_drink(stack)
    page.goto(f"/drinks/{drink['id']}")
    check(guest, "drink", heading(drink["name"]), found)
    page.get_by_test_id("add-to-order").click()
    page.get_by_role("button", name="Your order").click()
    check(guest, "cart-open", lambda p: expect(p.get_by_role("region", name="Your order")).to_be_visible(), found)
    page.goto("/orders")
    check(guest, "orders", heading("My orders"), found)
    page.goto("/taste")
    check(guest, "taste", lambda p: expect(p.locator("h1").first).to_be_visible(), found)
    page.goto("/bartender")
    check(guest, "bartender", heading("Ask the bartender"), found)
    assert not found, "\n".join(found)


ADMIN_PAGES = [
    ("/admin", "Orders"),
    ("/admin/menu/drinks", "Drinks"),
    ("/admin/menu/drinks/new", "New drink"),
    ("/admin/menu/sections", "Sections"),
    ("/admin/menu/ingredients", "Ingredients"),
    ("/admin/invites", "Invites"),
    ("/admin/bar", "Bar settings"),
    ("/admin/numbers", "Tonight's numbers"),
]


@pytest.mark.parametrize("variant", ["phone", "desktop"])
def test_every_admin_page_passes_axe(
    variant: str, stack: Stack, open_page: Callable[..., PageSession], admin_login: tuple[str, str]  # noqa: F811
) -> None:
    admin = open_page(variant)
    page = admin.page
    sign_in(admin, admin_login)
    found: list[str] = []
    for path, title in ADMIN_PAGES:
        page.goto(path)
        shown = expect(page.get_by_role("heading", level=1).first)
        check(admin, path, lambda _p, shown=shown, title=title: shown.to_contain_text(title), found)
    drink = first_drink(stack)
    page.goto(f"/admin/menu/drinks/{drink['id']}")
    check(admin, "editor", heading(drink["name"]), found)
    page.goto("/display")
    check(admin, "display", lambda p: expect(p.get_by_role("heading", name="Order boards")).to_be_attached(), found)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("variant", ["phone", "desktop"])
def test_skip_link_then_one_tab_reaches_the_first_drink(variant: str, open_page: Callable[..., PageSession]) -> None:
    session = open_page(variant)
    page = session.page
    page.goto("/")
    first = page.locator("[data-testid=drink-card]").first
    expect(first).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the drinks")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown while focused
    session.shot("skip-link")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    session.shot("first-drink-focused")


def test_focus_moves_to_the_heading_and_esc_closes_the_cart(
    stack: Stack, admin_api: Api, phone: PageSession
) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Keyboard Kim")
    card(phone, "Margarita").click()
    expect(page.get_by_role("heading", name="Margarita", level=1)).to_be_focused()
    page.get_by_test_id("add-to-order").click()
    summary = page.get_by_role("button", name="Your order")
    summary.click()
    expect(page.get_by_role("region", name="Your order")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("region", name="Your order")).to_be_hidden()
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("aria-expanded", "false")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
    expect(page.get_by_role("heading", name="My orders", level=1)).to_be_focused()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Menu", exact=True).click()
    expect(page.get_by_role("heading", name="What are you drinking?", level=1)).to_be_focused()
