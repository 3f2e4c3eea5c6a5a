"""Two languages (English, Swedish: from the browser, switchable, remembered) and two
themes (dark and light, from the system setting), in Chromium against the local stack."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import VIEWPORTS, PageSession, Stack, _artifact_name
from tests.e2e.test_guest_menu import join

pytestmark = pytest.mark.e2e

BACKGROUND = {"dark": "rgb(21, 16, 12)", "light": "rgb(248, 243, 234)"}


@pytest.fixture()
def open_localized(
    stack: Stack, browser: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., PageSession]]:
    """A page in a browser context with its own language and colour scheme."""
    opened: list[tuple[Any, PageSession]] = []

    def make(variant: str, locale: str, scheme: str) -> PageSession:
        context = browser.new_context(
            viewport=VIEWPORTS[variant],
            base_url=stack.base_url,
            device_scale_factor=1,
            is_mobile=variant == "phone",
            has_touch=variant == "phone",
            locale=locale,
            color_scheme=scheme,
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        session = PageSession(page=page, name=_artifact_name(request, f"{variant}-{locale}-{scheme}"))
        page.on("console", lambda m: session.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: session.errors.append(f"pageerror: {exc}"))
        opened.append((context, session))
        return session

    try:
        yield make
    finally:
        problems = []
        for context, session in opened:
            problems += [f"{session.name}: {e}" for e in session.unexpected_errors()]
            context.close()
    assert not problems, "errors in the browser:\n" + "\n".join(problems)


def menu_ready(session: PageSession) -> None:
    expect(session.page.locator("[data-testid=drink-card]").first).to_be_visible()


def test_a_swedish_phone_gets_the_swedish_menu_and_can_switch(open_localized: Callable[..., PageSession]) -> None:
    session = open_localized("phone", "sv-SE", "dark")
    page = session.page
    page.goto("/")
    menu_ready(session)
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", name="Vad vill du dricka?", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Meny", exact=True)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Meny · "))
    expect(page.get_by_test_id("search")).to_have_attribute("placeholder", "Sök: gin, sour, mynta…")
    expect(page.locator(".drink-card.unavailable").first).to_contain_text("Finns inte just nu")
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"the Swedish menu is {width[0]} px wide at {width[1]} px"
    session.shot("sv-menu")
    page.emulate_media(color_scheme="light")
    session.shot("sv-menu-light")

    switch = page.get_by_test_id("language-switch")
    expect(switch).to_have_accessible_name("EN English")
    switch.click()
    expect(page.get_by_role("heading", name="What are you drinking?", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(re.compile(r"^Menu · "))
    page.reload()
    menu_ready(session)
    expect(page.get_by_role("heading", name="What are you drinking?", level=1)).to_be_visible()  # remembered
    assert page.evaluate("localStorage.getItem('da.locale')") == "en"


def test_an_english_browser_gets_english_and_swedish_is_remembered(
    stack: Stack, admin_api: Api, open_localized: Callable[..., PageSession]
) -> None:
    session = open_localized("phone", "en-US", "dark")
    page = session.page
    join(session, stack, admin_api, "Sven")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_test_id("language-switch").click()
    expect(page.get_by_text("Välkommen, Sven")).to_be_visible()
    page.locator("[data-testid=drink-card]").first.click()
    expect(page.get_by_test_id("add-to-order")).to_have_text("Lägg till")
    page.get_by_test_id("add-to-order").click()
    expect(page.get_by_test_id("send-order")).to_have_text("Beställ")
    session.shot("sv-drink-cart")
    page.goto("/orders")
    expect(page.get_by_role("heading", name="Mina beställningar", level=1)).to_be_visible()
    session.shot("sv-orders")


@pytest.mark.parametrize("variant", ["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_theme_follows_the_system_setting(
    variant: str, scheme: str, open_localized: Callable[..., PageSession]
) -> None:
    session = open_localized(variant, "en-GB", scheme)
    page = session.page
    page.goto("/")
    menu_ready(session)
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == BACKGROUND[scheme]
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == scheme
    session.shot(f"menu-{scheme}")
    page.locator("[data-testid=drink-card]").first.click()
    expect(page.get_by_test_id("add-to-order")).to_be_visible()
    session.shot(f"drink-{scheme}")
