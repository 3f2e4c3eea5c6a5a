"""The admin console and the bar display in a real browser against the running local stack.

The admin signs in through the stack's hosted login page (OAuth2 code + PKCE, as in
AWS) with a throwaway admin account made for this session (the developer's own admin
password is never read or reset); guests use a second browser context at phone size.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from chalicelib import bar
from local import hosted_login
from local.pg import LOCAL_DIR
from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import add_drink, card, join, open_menu

pytestmark = pytest.mark.e2e

AUTH_STATE = LOCAL_DIR / "auth"  # what local/stack.py gives the gateway's hosted login


@pytest.fixture(scope="session")
def admin_login(stack: Stack) -> Iterator[tuple[str, str]]:
    """(username, password) of an admin made for this test session, removed afterwards."""
    username = f"e2e-admin-{uuid.uuid4().hex[:8]}"
    password = hosted_login.new_password()
    path = AUTH_STATE / hosted_login.USERS_FILE

    def edit(change: Callable[[dict[str, Any]], None]) -> None:
        document = hosted_login._read_json(path, {"users": {}})
        change(document["users"])
        hosted_login._write_json(path, document)

    record = {**hosted_login._user_record(username, password), "groups": [hosted_login.ADMIN_GROUP]}
    edit(lambda users: users.__setitem__(username, record))
    yield username, password
    edit(lambda users: users.pop(username, None))


@pytest.fixture()
def roomy_bar(admin_api: Api) -> Iterator[None]:
    """Open, with room for the orders these tests leave in play; defaults come back after."""
    admin_api.call("PUT", "/admin/bar", admin_api.admin, {"is_open": True, "message": "", "max_queue": 200})
    yield
    admin_api.call("PUT", "/admin/bar", admin_api.admin, bar.DEFAULTS)


@pytest.fixture()
def archive_afterwards(admin_api: Api) -> Iterator[list[str]]:
    """Drink ids to archive after the test: other tests count the seeded menu."""
    ids: list[str] = []
    yield ids
    for drink_id in ids:
        admin_api.call("DELETE", f"/admin/drinks/{drink_id}", admin_api.admin)


def sign_in(session: PageSession, login: tuple[str, str], path: str = "/admin") -> None:
    """Through the hosted login form, as a host would."""
    page = session.page
    page.goto(path)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/oauth2/authorize\?"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(login[0])
    page.get_by_label("Password").fill(login[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"$"))


def signed_in_admin(open_page: Callable[..., PageSession], login: tuple[str, str]) -> PageSession:
    admin = open_page("desktop")
    sign_in(admin, login)
    expect(admin.page.get_by_role("heading", name="Orders", level=1)).to_be_visible()
    return admin


def png(width: int = 96, height: int = 72, rgb: tuple[int, int, int] = (232, 163, 74)) -> bytes:
    """A small solid-colour PNG, made here (no image library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def ticket(session: PageSession, column: str, number: int) -> Any:
    return session.page.get_by_test_id(f"column-{column}").locator(f"[data-testid=ticket][data-number='{number}']")


# ---------------------------------------------------------------- (a) the board, live


def test_order_moves_to_ready_on_the_board_and_the_guest_sees_it(
    stack: Stack, admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str], roomy_bar: None
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    expect(admin.page.get_by_test_id("board-live")).to_have_text("Live")
    admin.shot("board-empty")

    guest = open_page("phone")
    join(guest, stack, admin_api, "Robin")
    add_drink(guest, "Margarita", notes="no salt")
    guest.page.get_by_test_id("send-order").click()
    expect(guest.page).to_have_url(re.compile(r"/orders\?placed=\d+$"))
    number = int(guest.page.url.rsplit("=", 1)[1])
    expect(guest.page.get_by_text("Live updates on")).to_be_visible()

    # Live on the board (no reload), with a toast, a running age timer and the guest's note.
    pending = ticket(admin, "pending", number)
    expect(pending).to_be_visible()
    expect(pending).to_contain_text("Robin")
    expect(pending).to_contain_text("no salt")
    expect(admin.page.get_by_test_id("toast").filter(has_text=f"New order #{number}")).to_be_visible()
    expect(pending.get_by_test_id("age")).to_have_text(re.compile(r"^(< 1 min|\d+ min)$"))
    admin.shot("board-new-order")

    pending.get_by_role("button", name=f"Start: order {number}").click()
    in_progress = ticket(admin, "in_progress", number)
    expect(in_progress).to_be_visible()
    expect(pending).to_have_count(0)
    expect(guest.page.get_by_test_id("order").first.get_by_test_id("order-status")).to_have_text("Being made")

    in_progress.get_by_role("button", name=f"Ready: order {number}").click()
    expect(ticket(admin, "ready", number)).to_be_visible()
    admin.shot("board-ready")

    moment = guest.page.get_by_test_id("ready-moment")  # the guest's page, never reloaded
    expect(moment).to_be_visible()
    expect(moment).to_contain_text(f"#{number}")
    guest.shot("guest-ready")

    ticket(admin, "ready", number).get_by_role("button", name=f"Picked up: order {number}").click()
    expect(ticket(admin, "ready", number)).to_have_count(0)


# ---------------------------------------------------------------- (b) a new drink with a photo


def test_admin_creates_a_drink_with_a_photo_and_guests_see_it(
    open_page: Callable[..., PageSession], admin_login: tuple[str, str], admin_api: Api, archive_afterwards: list[str]
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Menu").click()
    expect(page.get_by_test_id("drink-row").first).to_be_visible()
    admin.shot("drinks-list")
    page.get_by_role("link", name="New drink").click()

    name = f"Amber Hour {uuid.uuid4().hex[:4]}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Description").fill("Gin, lemon and honey, shaken hard.")
    page.get_by_label("Ingredient 1", exact=True).fill("Gin")
    page.get_by_label("Amount").first.fill("50")
    page.get_by_role("button", name="Add ingredient").click()
    page.get_by_label("Ingredient 2", exact=True).fill("Lemon Juice")
    page.get_by_label("Amount").nth(1).fill("25")
    page.get_by_label("Recipe steps (one per line)").fill("Shake with ice.\nStrain into a coupe.")
    page.get_by_label("Glass").fill("coupe")
    page.get_by_test_id("photo-input").set_input_files(
        {"name": "amber-hour.png", "mimeType": "image/png", "buffer": png()}
    )
    expect(page.get_by_test_id("upload-progress")).to_be_visible()
    expect(page.get_by_text("Uploaded")).to_be_visible()
    expect(page.get_by_test_id("photo-preview")).to_be_visible()
    admin.shot("drink-new-with-photo")
    page.get_by_test_id("save-drink").click()

    expect(page).to_have_url(re.compile(r"/admin/menu/drinks/[0-9a-f-]{36}$"))
    archive_afterwards.append(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    # The AI photo prompt arrives shortly after (DrinkCreated -> queue -> prompt writer).
    prompt = page.get_by_test_id("photo-prompt")
    expect(prompt).to_be_visible(timeout=30_000)
    text = prompt.inner_text()
    assert name in text or "coupe" in text.lower(), text
    page.get_by_test_id("copy-prompt").click()
    expect(page.get_by_test_id("copy-prompt")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == text
    admin.shot("drink-prompt")

    drink_id = page.url.rsplit("/", 1)[1]
    saved = admin_api.call("GET", f"/admin/drinks/{drink_id}", admin_api.admin)
    assert saved["image_key"].startswith("drink-images/") and saved["image_key"].endswith("-amber-hour.png")
    assert [i["name"] for i in saved["ingredients"]] == ["Gin", "Lemon Juice"]

    guest = open_page("phone")
    open_menu(guest)
    drink_card = card(guest, name)
    drink_card.scroll_into_view_if_needed()
    image = drink_card.locator("img")
    expect(image).to_have_attribute("src", re.compile(re.escape(saved["image_key"]) + "$"))
    guest.page.wait_for_function("img => img.complete && img.naturalWidth === 96", arg=image.element_handle())
    guest.shot("menu-new-drink")


# ---------------------------------------------------------------- (c) a closed bar


def test_closing_the_bar_in_settings_shows_its_message_to_guests(
    open_page: Callable[..., PageSession], admin_login: tuple[str, str], roomy_bar: None
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Bar").click()
    switch = page.get_by_role("switch", name="Bar is open")
    expect(switch).to_be_checked()
    switch.uncheck()
    page.get_by_label("Message for guests").fill("Closed for the speeches, back at 10.")
    page.get_by_test_id("save-bar").click()
    expect(page.get_by_test_id("toast").filter(has_text="the bar is closed")).to_be_visible()
    admin.shot("bar-settings-closed")

    guest = open_page("phone")
    open_menu(guest)
    banner = guest.page.get_by_test_id("bar-closed")
    expect(banner).to_contain_text("The bar is closed.")
    expect(banner).to_contain_text("Closed for the speeches, back at 10.")
    guest.shot("menu-bar-closed")


# ---------------------------------------------------------------- (d) invites


def test_invite_code_create_show_qr_and_revoke(
    open_page: Callable[..., PageSession], admin_login: tuple[str, str]
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.on("dialog", lambda dialog: dialog.accept())  # the revoke confirmation
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Invites").click()
    page.get_by_label("Uses").fill("3")
    page.get_by_label("Note").fill("Table four")
    page.get_by_test_id("create-code").click()

    qr = page.get_by_test_id("qr-dialog")
    expect(qr).to_be_visible()
    expect(qr.get_by_role("heading", name="Scan to join the bar")).to_be_visible()
    expect(qr.locator(".qr svg")).to_be_visible()
    join_url = qr.locator(".join-url").inner_text()
    assert re.search(r"/join\?code=", join_url), join_url
    admin.shot("invite-qr")
    qr.get_by_role("button", name="Close").click()
    expect(qr).to_be_hidden()

    code = join_url.rsplit("=", 1)[1]
    row = page.locator(f"[data-testid=code-row][data-code='{code}']")
    expect(row).to_contain_text("0 / 3")
    expect(row).to_contain_text("Table four")
    expect(row.get_by_test_id("code-status")).to_have_text("Active")
    admin.shot("invites-list")
    row.get_by_role("button", name=f"Revoke {code}").click()
    expect(row.get_by_test_id("code-status")).to_have_text("Revoked")
    expect(row.get_by_role("button", name=f"Show QR for {code}")).to_have_count(0)

    # Sign out: back to the guest menu, and the console asks for a sign-in again.
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/admin")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


# ---------------------------------------------------------------- (e) the bar display


def test_display_shows_order_numbers_in_the_right_column(
    admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str], roomy_bar: None
) -> None:
    _, token = admin_api.register_guest("Display Guest")
    order = admin_api.place_order(token, admin_api.available_drink())
    invite = admin_api.call("POST", "/admin/registration-codes", admin_api.admin, {"max_uses": 20, "note": "display"})

    tv = open_page("desktop")
    tv.page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(tv, admin_login, f"/display?code={invite['code']}")  # the invite the host chose for the TV
    preparing = tv.page.get_by_test_id("display-preparing")
    ready = tv.page.get_by_test_id("display-ready")
    expect(preparing.get_by_role("listitem").filter(has_text=re.compile(rf"^{order['number']}$"))).to_be_visible()
    expect(tv.page.get_by_test_id("display-qr").locator("svg")).to_be_visible()
    expect(tv.page.get_by_text(re.compile(r"/join\?code="))).to_be_visible()
    tv.shot("display-preparing")

    admin_api.move_order(order["id"], "in_progress")
    admin_api.move_order(order["id"], "ready")
    expect(ready.get_by_role("listitem").filter(has_text=re.compile(rf"^{order['number']}$"))).to_be_visible()
    expect(preparing.get_by_role("listitem").filter(has_text=re.compile(rf"^{order['number']}$"))).to_have_count(0)
    tv.shot("display-ready")
    admin_api.move_order(order["id"], "completed")


# ---------------------------------------------------------------- stock and numbers


def test_stock_toggle_and_tonights_numbers(
    admin_api: Api, open_page: Callable[..., PageSession], admin_login: tuple[str, str]
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.goto("/admin/menu/ingredients")
    switch = page.get_by_role("switch", name="Angostura Bitters in stock")
    expect(switch).to_be_checked()
    switch.uncheck()
    expect(switch).not_to_be_checked()
    expect(switch).to_be_enabled()
    stock = {i["name"]: i["in_stock"] for i in admin_api.call("GET", "/admin/ingredients", admin_api.admin)}
    assert stock["Angostura Bitters"] is False
    admin.shot("ingredients")
    switch.check()
    expect(switch).to_be_enabled()
    stock = {i["name"]: i["in_stock"] for i in admin_api.call("GET", "/admin/ingredients", admin_api.admin)}
    assert stock["Angostura Bitters"] is True

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Numbers").click()
    expect(page.get_by_role("img", name="Orders per hour, last 12 hours")).to_be_visible()
    total = admin_api.call("GET", "/admin/stats", admin_api.admin)["total_orders"]
    expect(page.get_by_test_id("total-orders")).to_have_text(str(total))
    admin.shot("numbers")
