"""The bartender guests chat with, in a real browser against the running local stack
(the offline engine): ask in your own words, get only drinks you may have, order from
the chat with one tap; the off switch, the rate limit and a lost network are said
plainly (issue 12's web app half)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import api_get, assert_no_horizontal_scroll, join
from tests.e2e.test_recommendations import guest_get, guest_token

pytestmark = pytest.mark.e2e

# Each answer waits on the API (the offline engine scores the menu): room on a busy 2-core
# machine. Still a wait on a condition, never a sleep.
EXPECT_TIMEOUT_MS = 20_000
GIN = re.compile(r"\bgin\b", re.IGNORECASE)
# The browser logs every refused request; these tests provoke them on purpose.
REFUSED = r"status of (409|429)|ERR_INTERNET_DISCONNECTED|Failed to fetch"


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    try:
        yield
    finally:
        expect.set_options(timeout=5_000)


@pytest.fixture()
def bartender_switch(admin_api: Api) -> Iterator[Any]:
    """Turn the bartender on or off (PUT /admin/bartender); it is on again afterwards."""

    def switch(enabled: bool) -> None:
        admin_api.call("PUT", "/admin/bartender", admin_api.admin, {"enabled": enabled})

    try:
        yield switch
    finally:
        switch(True)


def open_chat(session: PageSession) -> None:
    """From the menu's "Ask the bartender" to the chat, ready to type."""
    page = session.page
    page.get_by_test_id("ask-bartender").click()
    expect(page.get_by_role("heading", name="Ask the bartender")).to_be_visible()
    expect(page.get_by_label("Message to the bartender")).to_be_visible()


def ask(session: PageSession, text: str) -> Any:
    """Type, press Enter, wait for the answer; the newest bartender bubble."""
    page = session.page
    bubbles = page.get_by_test_id("bartender-bubble")
    before = bubbles.count()
    field = page.get_by_label("Message to the bartender")
    field.fill(text)
    field.press("Enter")
    expect(page.get_by_test_id("guest-bubble").last).to_have_text(re.compile(re.escape(text)))
    expect(bubbles).to_have_count(before + 1)
    expect(field).to_be_focused()  # the guest keeps typing: focus stays in the input
    expect(field).to_have_value("")
    return bubbles.last


def card_ids(bubble: Any) -> list[str]:
    cards = bubble.get_by_test_id("chat-drink-card")
    return [str(cards.nth(i).get_attribute("data-drink-id")) for i in range(cards.count())]


def remembered_conversation(session: PageSession) -> str:
    return str(json.loads(session.page.evaluate("sessionStorage.getItem('da.bartender')"))["id"])


def test_a_guest_asks_for_gin_not_sweet_no_egg_and_orders_from_the_chat(
    stack: Stack, admin_api: Api, phone: PageSession
) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Alex")
    expect(page.get_by_test_id("ask-bartender")).to_be_visible()
    assert_no_horizontal_scroll(phone)
    phone.shot("menu-entry")
    open_chat(phone)
    expect(page.get_by_test_id("chat-suggestion")).to_have_count(4)
    expect(page.get_by_role("group", name="Suggestions")).to_contain_text("Something with gin, not sweet")
    log = page.get_by_test_id("chat-log")
    expect(log).to_have_attribute("aria-live", "polite")
    assert_no_horizontal_scroll(phone)
    phone.shot("chat-empty")

    answer = ask(phone, "something with gin, not sweet, no egg")
    expect(answer.get_by_test_id("chat-drink-card").first).to_be_visible()
    expect(page.get_by_test_id("chat-suggestion")).to_have_count(0)  # the chips start a chat only
    ids = card_ids(answer)
    assert ids, "the seeded menu has gin drinks without egg"
    for drink_id in ids:
        drink = api_get(stack, f"/drinks/{drink_id}")
        assert "egg" not in drink["allergens"], f"{drink['name']} has egg"
        assert any(GIN.search(i["name"]) for i in drink["ingredients"]), f"{drink['name']} has no gin"
        assert drink["available"], f"{drink['name']} is not available"
        card = answer.locator(f"[data-drink-id='{drink_id}']")
        expect(card.get_by_role("heading")).to_have_text(drink["name"])
        badges = card.get_by_test_id("allergens")
        if drink["allergens"]:
            expect(badges).to_be_visible()
        expect(card.get_by_test_id("chat-add")).to_be_visible()
    # The offline engine's label is a badge, not part of the reply.
    expect(answer.get_by_test_id("offline-badge")).to_be_visible()
    expect(answer.locator("p").first).not_to_contain_text("(offline bartender)")

    # What the page shows is what the API stored for this guest's conversation.
    token = guest_token(phone)
    conversation_id = remembered_conversation(phone)
    stored = guest_get(stack, token, f"/bartender/conversations/{conversation_id}")
    assert [m["role"] for m in stored["messages"]] == ["guest", "bartender"]
    assert [d["id"] for d in stored["messages"][1]["drinks"]] == ids
    assert_no_horizontal_scroll(phone)
    phone.shot("gin-answer")

    # "Add to order" goes to the cart, and the composer stays above the cart bar.
    first = api_get(stack, f"/drinks/{ids[0]}")
    answer.locator(f"[data-drink-id='{ids[0]}']").get_by_test_id("chat-add").click()
    expect(page.get_by_test_id("cart")).to_contain_text("1")
    compose = page.get_by_test_id("chat-compose").bounding_box()
    cart = page.locator(".cart-bar").bounding_box()
    assert compose and cart and compose["y"] + compose["height"] <= cart["y"] + 1, (compose, cart)
    page.get_by_test_id("cart").get_by_role("button", name=re.compile("Your order")).click()
    expect(page.get_by_role("region", name="Your order")).to_contain_text(f"1× {first['name']}")
    page.get_by_role("button", name=f"Remove {first['name']}").click()
    expect(page.get_by_test_id("cart")).to_have_count(0)

    # Or in words: a proposal, confirmed with one tap, is an order.
    proposal_bubble = ask(phone, f"I'll have a {first['name']}")
    confirm = proposal_bubble.get_by_test_id("proposal-confirm")
    expect(confirm).to_have_text(f"Order 1 × {first['name']}")
    expect(proposal_bubble.get_by_test_id("chat-add")).to_have_count(0)  # the confirm button is the way
    # Scrolled into view above the sticky composer, not behind it.
    page.wait_for_function(
        """() => {
            const button = document.querySelector("[data-testid=proposal-confirm]").getBoundingClientRect();
            const compose = document.querySelector("[data-testid=chat-compose]").getBoundingClientRect();
            return button.bottom <= compose.top && button.top >= 64;
        }"""
    )
    phone.shot("proposal")
    confirm.click()
    placed = proposal_bubble.get_by_test_id("proposal-placed")
    expect(placed).to_contain_text(re.compile(r"Order #\d+"))
    number = int(re.search(r"#(\d+)", placed.inner_text()).group(1))  # type: ignore[union-attr]
    orders = guest_get(stack, token, "/orders")
    mine = next(o for o in orders if o["number"] == number)
    assert [(i["drink_id"], i["quantity"]) for i in mine["items"]] == [(first["id"], 1)]
    assert len(orders) == 1, "one tap, one order"
    expect(placed).to_contain_text("Received")  # its live status, from the order tracker
    phone.shot("ordered")

    # A reload continues the conversation; the proposal stays ordered (no second button).
    page.reload()
    expect(page.get_by_test_id("guest-bubble")).to_have_count(2)
    expect(page.get_by_test_id("bartender-bubble")).to_have_count(2)
    expect(page.get_by_test_id("proposal-placed")).to_contain_text(f"#{number}")
    expect(page.get_by_test_id("proposal-confirm")).to_have_count(0)
    placed.get_by_role("link", name="Track it").click()
    expect(page).to_have_url(re.compile(rf"/orders\?placed={number}$"))
    expect(page.get_by_test_id("order").first).to_contain_text(f"#{number}")


def test_alcohol_free_from_a_suggestion_on_a_desktop(stack: Stack, admin_api: Api, desktop: PageSession) -> None:
    page = desktop.page
    join(desktop, stack, admin_api, "Jo")
    open_chat(desktop)
    desktop.shot("chat-empty")
    # Hold the request at the browser until the typing indicator has been seen, then let it go.
    held: list[Any] = []
    page.route("**/api/bartender/messages", lambda route: held.append(route))
    try:
        with page.expect_request("**/api/bartender/messages"):
            page.get_by_test_id("chat-suggestion").filter(has_text="Alcohol-free please").click()
        expect(page.get_by_test_id("typing")).to_be_visible()
        expect(page.get_by_test_id("guest-bubble")).to_have_text(re.compile("Alcohol-free please"))
        expect(page.get_by_test_id("chat-send")).to_be_disabled()
        assert len(held) == 1  # the route came with the request, before these answers
        desktop.shot("typing")
        held[0].continue_()
    finally:
        page.unroute("**/api/bartender/messages")
    expect(page.get_by_test_id("typing")).to_have_count(0)
    answer = page.get_by_test_id("bartender-bubble").last
    expect(answer.get_by_test_id("chat-drink-card").first).to_be_visible()
    expect(page.get_by_label("Message to the bartender")).to_be_focused()
    ids = card_ids(answer)
    for drink_id in ids:
        drink = api_get(stack, f"/drinks/{drink_id}")
        assert drink["alcohol_free"], f"{drink['name']} has alcohol"
        expect(answer.locator(f"[data-drink-id='{drink_id}']").get_by_test_id("allergens")).to_contain_text(
            "Alcohol-free"
        )
    desktop.shot("alcohol-free")

    # "Start over" forgets the conversation: the suggestions are back.
    page.get_by_test_id("chat-start-over").click()
    expect(page.get_by_test_id("chat-suggestion")).to_have_count(4)
    assert page.evaluate("sessionStorage.getItem('da.bartender')") is None


def test_the_off_switch_hides_the_entry_and_the_chat_says_so(
    stack: Stack, admin_api: Api, phone: PageSession, bartender_switch: Any
) -> None:
    page = phone.page
    phone.allow_console_error(REFUSED)
    join(phone, stack, admin_api, "Noor")
    open_chat(phone)
    bartender_switch(False)  # the host turns it off mid-evening
    field = page.get_by_label("Message to the bartender")
    field.fill("something with rum")
    field.press("Enter")
    expect(page.get_by_test_id("bartender-off")).to_contain_text("The bartender is off tonight")
    expect(page.get_by_test_id("guest-bubble")).to_have_count(0)  # nothing was said
    expect(page.get_by_label("Message to the bartender")).to_have_count(0)
    phone.shot("off-mid-chat")

    # Opening the chat while it is off says so at once; the menu has no entry.
    page.reload()
    expect(page.get_by_test_id("bartender-off")).to_be_visible()
    with page.expect_response(re.compile(r"/api/bartender$")) as status:
        page.goto("/")
    assert status.value.json() == {"enabled": False, "engine": "offline"}
    expect(page.locator("[data-testid=drink-card]").first).to_be_visible()
    expect(page.get_by_test_id("ask-bartender")).to_have_count(0)

    bartender_switch(True)
    page.reload()
    expect(page.get_by_test_id("ask-bartender")).to_be_visible()


def test_rate_limit_and_a_lost_network_are_said_plainly(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    page = phone.page
    phone.allow_console_error(REFUSED)
    join(phone, stack, admin_api, "Kai")
    open_chat(phone)
    field = page.get_by_label("Message to the bartender")

    # Offline: the message is not lost, it is back in the field to send again.
    page.context.set_offline(True)
    try:
        field.fill("where is my order?")
        field.press("Enter")
        expect(page.get_by_test_id("chat-notice")).to_contain_text("You're offline")
        expect(field).to_have_value("where is my order?")
        expect(page.get_by_test_id("guest-bubble")).to_have_count(0)
        phone.shot("offline")
    finally:
        page.context.set_offline(False)
    field.press("Enter")
    expect(page.get_by_test_id("bartender-bubble")).to_have_count(1)
    expect(page.get_by_test_id("chat-notice")).to_have_count(0)

    # Ten messages a minute per guest: the eleventh gets "slow down" with the wait.
    token = guest_token(phone)
    conversation_id = remembered_conversation(phone)
    for n in range(9):  # the page sent one already
        answer = requests.post(
            f"{stack.base_url}/api/bartender/messages",
            json={"message": f"gin {n}", "conversation_id": conversation_id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=15,
        )
        assert answer.status_code == 200, answer.text
    field.fill("one more gin please")
    field.press("Enter")
    expect(page.get_by_test_id("chat-notice")).to_have_text("Slow down a moment, try again in 30 s.")
    expect(field).to_have_value("one more gin please")
    assert_no_horizontal_scroll(phone)
    phone.shot("rate-limited")
