"""Drinks for me in a real browser: the taste quiz, "For you" with its reasons, the
avoid filter and allergen badges, thumbs up / down and similar drinks, against the
running local stack (issue 11's web app half)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import api_get, assert_no_horizontal_scroll, card, card_names, join, open_menu

pytestmark = pytest.mark.e2e

NEVER_FOR_THEM = {"Whiskey Sour", "Piña Colada"}  # egg white; sweet and creamy
# Each page waits on the API (profile, picks, similar): give it room on a busy 2-core machine.
# Still a wait on a condition, never a sleep.
EXPECT_TIMEOUT_MS = 20_000


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    try:
        yield
    finally:
        expect.set_options(timeout=5_000)  # Playwright's default, for the other modules


def guest_token(session: PageSession) -> str:
    """The signed-in guest's access token, as the web app keeps it."""
    return str(session.page.evaluate("JSON.parse(localStorage.getItem('da.guest-session')).accessToken"))


def guest_get(stack: Stack, token: str, path: str) -> Any:
    answer = requests.get(f"{stack.base_url}/api{path}", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert answer.status_code == 200, f"GET {path} -> {answer.status_code} {answer.text[:300]}"
    return answer.json()


def for_you_names(session: PageSession) -> list[str]:
    return session.page.locator("[data-testid=for-you-card] h3").all_inner_texts()


def drinks_with(drinks: list[dict[str, Any]], allergen: str) -> set[str]:
    return {d["name"] for d in drinks if allergen in d["allergens"]}


def take_quiz(session: PageSession, *, likes: list[str], dislikes: list[str], avoid: list[str]) -> None:
    """Answer the quiz from the menu's invitation; the last tap saves and goes back to the menu."""
    page = session.page
    page.get_by_test_id("start-quiz").click()
    expect(page.get_by_role("heading", name="Which spirits do you enjoy?")).to_be_visible()
    page.get_by_test_id("quiz-next").click()  # no spirit chosen: fine
    expect(page.get_by_role("heading", name="Flavours you love")).to_be_visible()
    for word in likes:
        page.get_by_role("group", name="Flavours you love").get_by_role("button", name=word, exact=True).click()
    page.get_by_test_id("quiz-next").click()
    group = page.get_by_role("group", name="Flavours not for you")
    for word in dislikes:
        group.get_by_role("button", name=word, exact=True).click()
        expect(group.get_by_role("button", name=word, exact=True)).to_have_attribute("aria-pressed", "true")
    session.shot("quiz-dislikes")
    page.get_by_test_id("quiz-next").click()
    expect(page.get_by_role("heading", name="How strong?")).to_be_visible()
    page.get_by_test_id("quiz-next").click()
    allergens = page.get_by_role("group", name="Allergens to avoid")
    for label in avoid:
        allergens.get_by_role("button", name=label, exact=True).click()
    assert_no_horizontal_scroll(session)
    session.shot("quiz-avoid")
    page.get_by_test_id("quiz-next").click()  # "Show my drinks": PUT /me/profile
    expect(page.get_by_role("heading", name="What are you drinking?")).to_be_visible()


def test_a_guest_who_avoids_egg_and_dislikes_sweet_never_sees_a_whiskey_sour_or_pina_colada(
    stack: Stack, admin_api: Api, phone: PageSession
) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Robin")
    invite = page.get_by_test_id("quiz-invite")
    expect(invite).to_be_visible()
    assert_no_horizontal_scroll(phone)
    phone.shot("quiz-invite")

    take_quiz(phone, likes=["Sour", "Bitter"], dislikes=["Sweet"], avoid=["Egg"])
    token = guest_token(phone)
    profile = guest_get(stack, token, "/me/profile")
    assert profile["dislikes"] == ["sweet"]
    assert sorted(profile["likes"]) == ["bitter", "sour"]
    assert profile["avoid"] == ["egg"]

    # "For you": the API's picks, in its order, each with its reasons.
    expected = guest_get(stack, token, "/recommendations?limit=6")
    assert expected, "the seeded menu has drinks for a sour-and-bitter guest"
    cards = page.locator("[data-testid=for-you-card]")
    expect(cards).to_have_count(len(expected))
    assert for_you_names(phone) == [r["drink"]["name"] for r in expected]
    assert not NEVER_FOR_THEM & set(for_you_names(phone))
    for item in expected:
        assert "egg" not in item["drink"]["allergens"]
        assert item["reasons"], f"{item['drink']['name']} has no reason"
    expect(cards.first.locator(".reasons")).to_contain_text(expected[0]["reasons"][0])
    expect(page.get_by_test_id("quiz-invite")).to_have_count(0)  # they answered
    assert_no_horizontal_scroll(phone)
    phone.shot("for-you")

    # A bigger list from the API holds neither either.
    many = guest_get(stack, token, "/recommendations?limit=20")
    assert not NEVER_FOR_THEM & {r["drink"]["name"] for r in many}

    # Their saved "avoid" starts the menu's filter: no egg drink on the menu either.
    expect(page.get_by_test_id("avoid-toggle")).to_contain_text("Avoid: Egg")
    safe = api_get(stack, "/drinks?exclude=egg")
    expect(page.locator("[data-testid=drink-card]")).to_have_count(len(safe))
    assert "Whiskey Sour" not in card_names(phone)

    # The quiz again from the menu shows what they said; the answers survive a reload.
    page.reload()
    expect(page.locator("[data-testid=for-you-card]")).to_have_count(len(expected))
    page.get_by_test_id("edit-taste").click()
    page.get_by_test_id("quiz-next").click()
    expect(
        page.get_by_role("group", name="Flavours you love").get_by_role("button", name="Sour", exact=True)
    ).to_have_attribute("aria-pressed", "true")


def test_skipping_the_quiz_keeps_the_menu_and_remembers(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Kim")
    expect(page.get_by_test_id("quiz-invite")).to_be_visible()
    page.get_by_test_id("skip-quiz").click()
    expect(page.get_by_test_id("quiz-invite")).to_have_count(0)
    page.reload()
    expect(page.locator("[data-testid=drink-card]").first).to_be_visible()
    expect(page.get_by_test_id("for-you")).to_be_visible()
    expect(page.get_by_test_id("quiz-invite")).to_have_count(0)
    # "Skip" inside the quiz goes back to the menu, saving nothing.
    page.get_by_test_id("edit-taste").click()
    page.get_by_test_id("quiz-skip").click()
    expect(page.get_by_role("heading", name="What are you drinking?")).to_be_visible()
    profile = guest_get(stack, guest_token(phone), "/me/profile")
    assert profile["likes"] == [] and profile["avoid"] == []


def test_avoid_filter_hides_egg_drinks_and_badges_show_allergens(stack: Stack, phone: PageSession) -> None:
    page = phone.page
    open_menu(phone)
    drinks = api_get(stack, "/drinks")
    with_egg = drinks_with(drinks, "egg")
    assert {"Whiskey Sour", "Clover Club"} <= with_egg
    # Badges in people's words on each card that has an allergen.
    expect(card(phone, "Clover Club").get_by_test_id("allergens")).to_contain_text("Egg")
    with_nuts = sorted(drinks_with(drinks, "tree_nuts"))
    assert with_nuts, "orgeat is tree nuts"
    expect(card(phone, with_nuts[0]).get_by_test_id("allergens")).to_contain_text("Tree nuts")

    page.get_by_test_id("avoid-toggle").click()
    page.get_by_role("group", name="Avoid allergens").get_by_role("button", name="Egg", exact=True).click()
    safe = sorted(d["name"] for d in api_get(stack, "/drinks?exclude=egg"))
    assert safe == sorted(d["name"] for d in drinks if d["name"] not in with_egg)
    expect(page.locator("[data-testid=drink-card]")).to_have_count(len(safe))
    assert sorted(card_names(phone)) == safe
    expect(page.get_by_test_id("avoid-toggle")).to_contain_text("Avoid: Egg")
    assert_no_horizontal_scroll(phone)
    phone.shot("avoid-egg")

    # An ingredient by name too: repeated `exclude`, as the API takes it.
    page.get_by_test_id("avoid-ingredient").fill("campari")
    page.get_by_role("button", name="Avoid it").click()
    query = urllib.parse.urlencode([("exclude", "egg"), ("exclude", "Campari")])
    safe = sorted(d["name"] for d in api_get(stack, f"/drinks?{query}"))
    expect(page.locator("[data-testid=drink-card]")).to_have_count(len(safe))
    assert "Negroni" not in card_names(phone)
    assert sorted(card_names(phone)) == safe

    # Alcohol-free: only drinks without alcohol, each badged so.
    page.get_by_role("switch", name="Alcohol-free").check()
    free = sorted(d["name"] for d in api_get(stack, f"/drinks?{query}&alcohol_free=true"))
    assert free, "the seeded menu has alcohol-free drinks"
    expect(page.locator("[data-testid=drink-card]")).to_have_count(len(free))
    assert sorted(card_names(phone)) == free
    expect(page.locator("[data-testid=drink-card]").first.get_by_test_id("allergens")).to_contain_text("Alcohol-free")
    phone.shot("avoid-alcohol-free")

    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator("[data-testid=drink-card]")).to_have_count(len(drinks))


def test_rating_a_drink_and_similar_drinks(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Jo")
    page.get_by_test_id("skip-quiz").click()
    card(phone, "Negroni").click()
    expect(page.get_by_role("heading", name="Negroni", level=1)).to_be_visible()
    negroni = next(d for d in api_get(stack, "/drinks") if d["name"] == "Negroni")

    # Similar drinks: the API's list, in its order.
    similar = api_get(stack, f"/drinks/{negroni['id']}/similar?limit=4")
    assert similar and all(s["drink"]["id"] != negroni["id"] for s in similar)
    cards = page.get_by_test_id("similar-card")
    expect(cards).to_have_count(len(similar))
    assert cards.locator("h3").all_inner_texts() == [s["drink"]["name"] for s in similar]

    # Thumbs up: PUT /me/ratings/{id} {"rating": 1}; the choice shows and survives a reload.
    up = page.get_by_test_id("thumb-up")
    up.scroll_into_view_if_needed()
    with page.expect_response(lambda r: r.request.method == "PUT" and "/me/ratings/" in r.url) as answer:
        up.click()
    assert answer.value.ok
    assert answer.value.request.url.endswith(f"/me/ratings/{negroni['id']}")
    assert json.loads(answer.value.request.post_data or "{}") == {"rating": 1}
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Noted: more like this.")).to_be_visible()
    token = guest_token(phone)
    assert {"drink_id": negroni["id"], "rating": 1} in guest_get(stack, token, "/me/ratings")
    assert_no_horizontal_scroll(phone)
    phone.shot("rated-up")
    page.reload()
    expect(page.get_by_test_id("thumb-up")).to_have_attribute("aria-pressed", "true")

    down = page.get_by_test_id("thumb-down")
    with page.expect_response(lambda r: r.request.method == "PUT" and "/me/ratings/" in r.url) as answer:
        down.click()
    assert answer.value.ok and json.loads(answer.value.request.post_data or "{}") == {"rating": -1}
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("thumb-up")).to_have_attribute("aria-pressed", "false")
    assert {"drink_id": negroni["id"], "rating": -1} in guest_get(stack, token, "/me/ratings")
    # A thumbs down is never recommended back.
    assert negroni["id"] not in {r["drink"]["id"] for r in guest_get(stack, token, "/recommendations?limit=20")}

    # Tapping the pressed thumb again takes the rating back (rating 0).
    with page.expect_response(lambda r: r.request.method == "PUT" and "/me/ratings/" in r.url) as answer:
        down.click()
    assert answer.value.ok and json.loads(answer.value.request.post_data or "{}") == {"rating": 0}
    expect(down).to_have_attribute("aria-pressed", "false")
    assert all(r["drink_id"] != negroni["id"] for r in guest_get(stack, token, "/me/ratings"))

    # A similar drink opens its own page, with its own neighbours.
    first = similar[0]["drink"]
    page.get_by_test_id("similar-card").first.click()
    expect(page).to_have_url(re.compile(f"/drinks/{first['id']}$"))
    expect(page.get_by_role("heading", name=first["name"], level=1)).to_be_visible()
    theirs = api_get(stack, f"/drinks/{first['id']}/similar?limit=4")
    expect(page.get_by_test_id("similar-card")).to_have_count(len(theirs))
    phone.shot("similar-next")


def test_signed_out_guests_rate_nothing_and_see_no_for_you(stack: Stack, phone: PageSession) -> None:
    page = phone.page
    open_menu(phone)
    expect(page.get_by_test_id("for-you")).to_have_count(0)
    card(phone, "Negroni").click()
    expect(page.get_by_test_id("similar-card").first).to_be_visible()
    expect(page.get_by_test_id("rate")).to_have_count(0)
    page.goto("/taste")
    expect(page.get_by_text("Join the bar first")).to_be_visible()


def test_nothing_fits_is_said_honestly(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    """Alcohol-free, and avoiding every ingredient of every alcohol-free drink: no hard rule bends."""
    page = phone.page
    join(phone, stack, admin_api, "Lee")
    token = guest_token(phone)
    free = api_get(stack, "/drinks?alcohol_free=true")
    avoid = sorted({i["name"] for d in free for i in d["ingredients"]})
    answer = requests.put(
        f"{stack.base_url}/api/me/profile",
        json={"alcohol_free": True, "avoid": avoid},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    assert guest_get(stack, token, "/recommendations") == []
    page.reload()
    expect(page.get_by_test_id("nothing-fits")).to_contain_text("Nothing on tonight's menu fits")
    expect(page.get_by_test_id("nothing-fits")).to_contain_text("Ask the bartender")
    expect(page.locator("[data-testid=for-you-card]")).to_have_count(0)
    assert_no_horizontal_scroll(phone)
    phone.shot("nothing-fits")


def test_for_you_and_a_drink_page_on_a_desktop(stack: Stack, admin_api: Api, desktop: PageSession) -> None:
    page = desktop.page
    join(desktop, stack, admin_api, "Ari")
    take_quiz(desktop, likes=["Bitter"], dislikes=["Sweet"], avoid=["Egg", "Tree nuts"])
    expect(page.locator("[data-testid=for-you-card]").first).to_be_visible()
    assert_no_horizontal_scroll(desktop)
    desktop.shot("for-you")
    page.locator("[data-testid=for-you-card]").first.click()
    expect(page.get_by_test_id("similar")).to_be_visible()
    expect(page.get_by_test_id("rate")).to_be_visible()
    desktop.shot("drink-page", full_page=True)
