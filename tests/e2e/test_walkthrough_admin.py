"""The host's side of the walkthrough (issue 15), each bug as it showed in Chromium.

The admin signs in through the stack's hosted login as in test_admin_console.py (the
same throwaway admin account fixture); orders and invites are made through the API.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e import test_admin_console as console
from tests.e2e.conftest import ARTIFACTS, PageSession, Stack
from tests.e2e.test_admin_console import sign_in, signed_in_admin, ticket

pytestmark = pytest.mark.e2e

# The console tests' fixtures: a throwaway admin, an open roomy bar, drinks archived after.
admin_login = console.admin_login
roomy_bar = console.roomy_bar
archive_afterwards = console.archive_afterwards

VALIDATOR_WORDING = re.compile(r"String should|List should|Input should|Field required|must be a UUID")


def centre_hits(page: Any, locator: Any) -> bool:
    """Whether the element at the locator's centre is it (or inside it): nothing covers it."""
    return bool(
        locator.evaluate(
            """el => { const r = el.getBoundingClientRect();
                       const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                       return !!hit && (hit === el || el.contains(hit)); }"""
        )
    )


def boxes_overlap(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if not a or not b:
        return False
    return not (
        a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
    )


def new_drink(admin_api: Api, name: str) -> dict[str, Any]:
    section = next(s for s in admin_api.call("GET", "/admin/sections", admin_api.admin) if not s["archived"])
    return admin_api.call("POST", "/admin/drinks", admin_api.admin, {
        "section_id": section["id"], "name": name, "description": "Gin and lemon, shaken.",
        "ingredients": [{"name": "Gin", "amount": 50, "unit": "ml", "optional": False}],
        "recipe_steps": ["Shake with ice.", "Strain."], "glass": "coupe",
    })


# ---------------------------------------------------------------- 1. the drink editor


def test_save_changes_is_clickable_beside_the_photo_prompt_and_toasts_leave_it_alone(
    open_page: Callable[..., PageSession], admin_login: tuple[str, str], admin_api: Api,
    archive_afterwards: list[str],
) -> None:
    drink = new_drink(admin_api, f"Prompt Panel {uuid.uuid4().hex[:4]}")
    archive_afterwards.append(drink["id"])
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.goto(f"/admin/menu/drinks/{drink['id']}")
    expect(page.get_by_test_id("photo-prompt")).to_be_visible(timeout=30_000)
    save = page.get_by_role("button", name="Save changes")
    for width in (1024, 1280, 1440):
        page.set_viewport_size({"width": width, "height": 800})
        page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        expect(save).to_be_in_viewport()
        assert centre_hits(page, save), f"something covers Save changes at {width} px"
        save.click()  # no force: Playwright refuses when another element would get the click
        toast = page.get_by_test_id("toast").filter(has_text="saved").last
        expect(toast).to_be_visible()
        # The toast covers neither the prompt panel nor the button.
        assert not boxes_overlap(toast.bounding_box(), page.get_by_test_id("photo-prompt-panel").bounding_box()), width
        assert not boxes_overlap(toast.bounding_box(), save.bounding_box()), width
        admin.shot(f"editor-{width}")
        expect(page.get_by_test_id("toast")).to_have_count(0, timeout=8_000)  # toasts leave after 5 s
    page.set_viewport_size({"width": 360, "height": 740})
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), "the editor scrolls sideways"
    assert centre_hits(page, save)
    admin.shot("editor-360")


# ---------------------------------------------------------------- 2. the order board


def test_a_long_one_word_name_and_note_stay_in_their_ticket_and_ages_read_as_minutes(
    admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str], roomy_bar: None,
) -> None:
    long_name = "Maximiliana" + "x" * 29  # 40 characters: the longest name a guest may give
    long_note = "Extraordinarilylongnotewithoutanyspaces" + "z" * 21  # 60 characters, one word
    drink_id = admin_api.available_drink()
    _, token = admin_api.register_guest(long_name)
    wide = admin_api.call("POST", "/orders", token, {"items": [{"drink_id": drink_id, "notes": long_note}],
                                                     "notes": long_note})
    _, other_token = admin_api.register_guest("Sam")
    other = admin_api.place_order(other_token, drink_id)
    admin_api.move_order(other["id"], "in_progress")
    try:
        for variant in ("desktop", "phone"):
            admin = open_page(variant)
            sign_in(admin, admin_login)
            page = admin.page
            wide_ticket = ticket(admin, "pending", wide["number"])
            expect(wide_ticket).to_contain_text(long_note)
            assert wide_ticket.evaluate("el => el.scrollWidth <= el.clientWidth"), "the ticket's text overflows it"
            nxt = ticket(admin, "in_progress", other["number"]).get_by_role(
                "button", name=f"Ready: order {other['number']}")
            nxt.scroll_into_view_if_needed()
            expect(nxt).to_be_visible()
            assert centre_hits(page, nxt), f"the next ticket's button is covered ({variant})"
            assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), variant
            expect(wide_ticket.get_by_test_id("age")).to_have_text(re.compile(r"^(< 1 min|\d+ min|\d+ h( \d+ min)?)$"))
            admin.shot("board-long-words")
        nxt.click()  # the phone's board: the button takes a real click
        expect(ticket(admin, "ready", other["number"])).to_be_visible()
    finally:
        admin_api.call("PUT", f"/admin/orders/{wide['id']}", admin_api.admin,
                       {"status": "cancelled", "reason": "test over"})
        state = next((o["status"] for o in admin_api.call("GET", "/admin/orders", admin_api.admin)
                      if o["id"] == other["id"]), "completed")
        if state == "in_progress":
            admin_api.move_order(other["id"], "ready")
        if state != "completed":
            admin_api.move_order(other["id"], "completed")


# ---------------------------------------------------------------- 6. human form messages


def test_drink_form_says_what_is_wrong_next_to_the_field_in_plain_words(
    open_page: Callable[..., PageSession], admin_login: tuple[str, str], archive_afterwards: list[str],
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.goto("/admin/menu/drinks/new")
    page.get_by_test_id("save-drink").click()  # nothing filled in
    expect(page.get_by_test_id("error-name")).to_have_text("Give the drink a name.")
    expect(page.get_by_test_id("error-ingredients")).to_have_text("Add at least one ingredient.")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    assert not VALIDATOR_WORDING.search(page.locator("main").inner_text())
    admin.shot("drink-empty-errors")

    # What only the API knows (a tag over 30 characters): its 400, mapped to the field.
    name = f"Plain Words {uuid.uuid4().hex[:4]}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Ingredient 1", exact=True).fill("Gin")
    page.get_by_label("Tags (comma separated)").fill("t" * 31)
    with page.expect_response(lambda r: r.url.endswith("/api/admin/drinks") and r.request.method == "POST") as sent:
        page.get_by_test_id("save-drink").click()
    assert sent.value.status == 400
    assert "String should have at most 30 characters" in sent.value.json()["Message"]  # the API stays precise
    admin.allow_console_error("400")
    expect(page.get_by_test_id("error-tags")).to_have_text("Keep it to 30 characters or fewer.")
    expect(page.get_by_label("Tags (comma separated)")).to_have_accessible_description(
        "Keep it to 30 characters or fewer.")
    expect(page.get_by_test_id("error-name")).to_have_count(0)
    assert not VALIDATOR_WORDING.search(page.locator("main").inner_text())
    admin.shot("drink-api-error")

    page.get_by_label("Tags (comma separated)").fill("citrus")
    page.get_by_test_id("save-drink").click()
    expect(page).to_have_url(re.compile(r"/admin/menu/drinks/[0-9a-f-]{36}$"))
    archive_afterwards.append(page.url.rsplit("/", 1)[1])


# ---------------------------------------------------------------- 7. sign out


def test_sign_out_finishes_its_revoke_and_the_refresh_token_stops_working(
    stack: Stack, open_page: Callable[..., PageSession], admin_login: tuple[str, str],
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    session = json.loads(page.evaluate("localStorage.getItem('da.admin-session')"))
    refresh = session["refreshToken"]
    with urllib.request.urlopen(f"{stack.base_url}/config.json", timeout=5) as answer:  # noqa: S310 (loopback)
        client_id = json.loads(answer.read())["auth"]["clientId"]
    statuses: list[int] = []
    finished: list[str] = []
    failed: list[str] = []
    revoke = "/oauth2/revoke"
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith(revoke) else None)
    page.on("requestfinished", lambda r: finished.append(r.method) if r.url.endswith(revoke) else None)
    page.on("requestfailed", lambda r: failed.append(str(r.failure)) if r.url.endswith(revoke) else None)
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    # The revoke (a POST: a simple CORS request, no preflight) completed before the page left.
    assert failed == [], failed
    assert "POST" in finished and 200 in statuses, (finished, statuses)

    form = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh})
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{stack.base_url}/oauth2/token", data=form.encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 (loopback)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"] == "invalid_grant"


# ---------------------------------------------------------------- 8. the TV shows the host's choice


def test_the_host_chooses_the_tvs_invite_and_new_tabs_stay_signed_in(
    admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str],
) -> None:
    party = admin_api.call("POST", "/admin/registration-codes", admin_api.admin, {"max_uses": 40, "note": "TV"})
    single = admin_api.call("POST", "/admin/registration-codes", admin_api.admin, {"max_uses": 1, "note": "Mum"})
    try:
        admin = signed_in_admin(open_page, admin_login)
        page = admin.page
        page.goto("/admin/invites")
        row = page.locator(f"[data-testid=code-row][data-code='{party['code']}']")
        with page.expect_popup() as popup:
            row.get_by_role("button", name=f"Show {party['code']} on TV").click()
        tv = popup.value
        # The new tab is signed in from the shared session: no password asked.
        expect(tv).to_have_url(re.compile(r"/display\?code=" + re.escape(party["code"]) + "$"))
        expect(tv.get_by_test_id("display-qr").locator("svg")).to_be_visible()
        expect(tv.get_by_text(re.compile(r"/join\?code=" + re.escape(party["code"]) + "$"))).to_be_visible()
        expect(tv.get_by_text(re.compile(re.escape(single["code"])))).to_have_count(0)  # never the newest one-use
        expect(row.get_by_test_id("on-tv")).to_be_visible()
        tv.reload()  # the TV keeps the host's choice
        expect(tv.get_by_text(re.compile(r"/join\?code=" + re.escape(party["code"]) + "$"))).to_be_visible()
        admin.shot("invites-on-tv")
        tv.screenshot(path=str(ARTIFACTS / f"{admin.name}-tv-display.png"), animations="disabled")

        console = page.context.new_page()
        console.goto("/admin/numbers")
        expect(console.get_by_role("heading", name="Tonight's numbers")).to_be_visible()
        expect(console.get_by_role("button", name="Sign in")).to_have_count(0)

        # Sign out in one tab ends it in the others.
        page.goto("/admin")
        page.get_by_test_id("sign-out").click()
        expect(console.get_by_role("button", name="Sign in")).to_be_visible()
        expect(tv.get_by_role("button", name="Sign in")).to_be_visible()
        console.close()
        tv.close()
    finally:
        for code in (party, single):
            admin_api.call("DELETE", f"/admin/registration-codes/{code['code']}", admin_api.admin)


# ---------------------------------------------------------------- 9. the console on a phone


def test_console_on_a_phone_has_a_compact_nav_no_sideways_scroll_and_a_dark_login(
    stack: Stack, admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str],
) -> None:
    admin_api.call("POST", "/admin/registration-codes", admin_api.admin,
                   {"max_uses": 5, "note": "A rather long note for the front door table"})
    admin = open_page("phone")
    page = admin.page
    page.emulate_media(color_scheme="dark")
    page.goto("/admin")
    app_background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    login_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert login_background == app_background == "rgb(21, 16, 12)", (login_background, app_background)
    admin.shot("hosted-login-dark")
    page.get_by_label("Username").fill(admin_login[0])
    page.get_by_label("Password").fill(admin_login[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Orders", level=1)).to_be_visible()

    nav = page.get_by_role("navigation", name="Admin")
    assert nav.bounding_box()["height"] <= 60, nav.bounding_box()
    assert page.locator(".admin-top").bounding_box()["height"] <= 120
    admin.shot("phone-nav")
    nav.get_by_role("link", name="Invites").click()
    expect(page.get_by_test_id("code-row").first).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), page.evaluate(
        "[document.scrollingElement.scrollWidth, innerWidth]")
    admin.shot("phone-invites", full_page=True)
    nav.get_by_role("link", name="Numbers").click()  # the last tab, scrolled to
    expect(page.get_by_role("heading", name="Tonight's numbers")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")


# ---------------------------------------------------------------- 10. numbers


def chart_ticks_and_font(page: Any) -> tuple[list[int], float]:
    chart = page.get_by_role("img", name="Orders per hour, last 12 hours")
    expect(chart).to_be_visible()
    ticks = [int(t) for t in chart.locator(".grid text").all_text_contents()]
    smallest = chart.evaluate(
        """svg => { const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                    return Math.min(...[...svg.querySelectorAll('text')].map(
                        t => parseFloat(getComputedStyle(t).fontSize) * scale)); }"""
    )
    return ticks, float(smallest)


def test_numbers_have_nice_ticks_readable_labels_and_the_average_prep_time(
    admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str], roomy_bar: None,
) -> None:
    drink_id = admin_api.available_drink()
    for n in range(3):
        _, token = admin_api.register_guest(f"Stats {n}")
        order = admin_api.place_order(token, drink_id)
        admin_api.move_order(order["id"], "in_progress")
        admin_api.move_order(order["id"], "ready")
        admin_api.move_order(order["id"], "completed")
    numbers = admin_api.call("GET", "/admin/stats", admin_api.admin)
    assert numbers["prep_orders"] >= 3 and numbers["avg_prep_seconds"] is not None

    for variant in ("desktop", "phone"):
        admin = open_page(variant)
        sign_in(admin, admin_login)
        page = admin.page
        page.goto("/admin/numbers")
        ticks, smallest = chart_ticks_and_font(page)
        step = ticks[1] - ticks[0]
        assert ticks[0] == 0 and all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False)), ticks
        assert step / 10 ** (len(str(step)) - 1) in (1, 2, 5), ticks
        assert smallest >= 12, f"{variant}: chart text renders at {smallest:.1f} px"
        prep = page.get_by_test_id("avg-prep")
        expect(prep).to_have_text(re.compile(r"^\d+ (s|min)( \d+ s)?$|^\d+ h( \d+ min)?$"))
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), variant
        admin.shot("numbers", full_page=True)
