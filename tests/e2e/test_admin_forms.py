"""The console's forms say which field is wrong, in plain words (issue 15), in English and
Swedish; invite statuses in words; and every admin page at 360 px and 1280 px.

Real Chromium against the running local stack; the API keeps its precise 400/409
messages, the page shows a human sentence next to the field (aria-invalid, and the
message as the field's accessible description).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession
from tests.e2e.test_admin_console import admin_login, signed_in_admin  # noqa: F401 (admin_login is a fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture()
def sections_afterwards(admin_api: Api) -> Iterator[list[str]]:
    """Names of sections the test adds: archived after it (guest tests count the menu)."""
    names: list[str] = []
    yield names
    for section in admin_api.call("GET", "/admin/sections", admin_api.admin):
        if section["name"] in names and not section["archived"]:
            admin_api.call("DELETE", f"/admin/sections/{section['id']}", admin_api.admin)


def admin_page(open_page: Callable[..., PageSession], login: tuple[str, str], path: str) -> PageSession:
    admin = signed_in_admin(open_page, login)
    # The refusals these tests provoke (400, 409) are logged by the browser as failed loads.
    admin.allow_console_error("400")
    admin.allow_console_error("409")
    admin.page.goto(path)
    return admin


def test_section_form_says_which_field_is_wrong_in_plain_words(
    open_page: Callable[..., PageSession],
    admin_login: tuple[str, str],  # noqa: F811
    admin_api: Api,
    sections_afterwards: list[str],
) -> None:
    admin = admin_page(open_page, admin_login, "/admin/menu/sections")
    page = admin.page
    form = page.get_by_test_id("section-form")
    name = form.get_by_label("New section name")

    form.get_by_role("button", name="Add section").click()  # nothing typed: said before sending
    expect(form.get_by_test_id("error-name")).to_have_text("Give the section a name.")
    expect(name).to_have_attribute("aria-invalid", "true")

    existing = next(s for s in admin_api.call("GET", "/admin/sections", admin_api.admin) if not s["archived"])
    name.fill(existing["name"].upper())  # names are unique case-insensitively: the API answers 409
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/admin/sections")) as answer:
        form.get_by_role("button", name="Add section").click()
    assert answer.value.status == 409, answer.value.text()
    assert "already exists" in answer.value.json()["Message"]  # the API keeps its precise words
    message = "There is a section with this name already (archived ones count: restore it instead)."
    expect(form.get_by_test_id("error-name")).to_have_text(message)
    expect(name).to_have_accessible_description(message)
    admin.shot("sections-duplicate")

    fresh = f"E2E section {uuid.uuid4().hex[:6]}"
    sections_afterwards.append(fresh)
    name.fill(fresh)
    form.get_by_role("button", name="Add section").click()
    expect(page.get_by_test_id("toast").filter(has_text=f"Section {fresh} added")).to_be_visible()
    expect(form.get_by_test_id("error-name")).to_have_count(0)
    expect(name).to_have_attribute("aria-invalid", "false")

    page.get_by_test_id("section-row").filter(has_text=fresh).get_by_role("button", name=f"Edit {fresh}").click()
    row = page.get_by_test_id("section-row").filter(has=page.get_by_label("Position"))  # the one being edited
    position = row.get_by_label("Position")
    position.fill("-1")
    with page.expect_response(lambda r: r.request.method == "PUT" and "/admin/sections/" in r.url) as answer:
        row.get_by_role("button", name="Save").click()
    assert answer.value.status == 400
    assert answer.value.json()["Message"].startswith("position: ")
    expect(row.get_by_test_id("error-position")).to_have_text("Use 0 or more.")
    expect(position).to_have_accessible_description("Use 0 or more.")
    expect(page.get_by_text("greater than or equal")).to_have_count(0)  # never validator wording
    row.scroll_into_view_if_needed()
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=8_000)  # the "added" toast leaves after 5 s
    admin.shot("sections-position-error")


def test_ingredient_forms_say_which_field_is_wrong_in_plain_words(
    open_page: Callable[..., PageSession],
    admin_login: tuple[str, str],  # noqa: F811
    admin_api: Api,
) -> None:
    admin = admin_page(open_page, admin_login, "/admin/menu/ingredients")
    page = admin.page
    form = page.get_by_test_id("ingredient-form")
    name = form.get_by_label("New ingredient")

    form.get_by_role("button", name="Add ingredient").click()
    expect(form.get_by_test_id("error-name")).to_have_text("Give the ingredient a name.")

    gin = next(i for i in admin_api.call("GET", "/admin/ingredients", admin_api.admin) if i["name"] == "Gin")
    name.fill("gin")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/admin/ingredients")) as answer:
        form.get_by_role("button", name="Add ingredient").click()
    assert answer.value.status == 409
    expect(form.get_by_test_id("error-name")).to_have_text("There is an ingredient with this name already.")
    expect(name).to_have_attribute("aria-invalid", "true")
    admin.shot("ingredients-duplicate")

    # The taste and contents form: an ABV of 0 is refused by the API (it has a lower limit).
    page.get_by_label("Search").fill("Gin")
    row = page.get_by_test_id("ingredient-row").filter(has=page.get_by_role("rowheader", name="Gin", exact=True))
    row.get_by_test_id("edit-traits").click()
    traits = page.get_by_role("form", name="Taste and contents of Gin")
    if not traits.get_by_label("Contains alcohol").is_checked():
        traits.get_by_label("Contains alcohol").check()
    abv = traits.get_by_label("ABV %")
    abv.fill("0")
    with page.expect_response(lambda r: r.request.method == "PUT" and gin["id"] in r.url) as answer:
        traits.get_by_role("button", name="Save").click()
    assert answer.value.status == 400
    limit = re.search(r"abv: Input should be greater than (or equal to )?([\d.]+)", answer.value.json()["Message"])
    assert limit, answer.value.text()  # the API's precise words stay in the API
    plain = f"Use {limit[2]} or more." if limit[1] else f"Use more than {limit[2]}."
    expect(traits.get_by_test_id("error-abv")).to_have_text(plain)
    expect(abv).to_have_accessible_description(plain)
    expect(page.get_by_text("Input should be")).to_have_count(0)
    expect(traits).to_be_visible()  # stays open for the fix
    admin.shot("ingredients-abv-error")
    after = next(i for i in admin_api.call("GET", "/admin/ingredients", admin_api.admin) if i["id"] == gin["id"])
    assert after["abv"] == gin["abv"]  # nothing saved


def test_invite_and_bar_forms_and_invite_statuses_in_words_in_both_languages(
    open_page: Callable[..., PageSession],
    admin_login: tuple[str, str],  # noqa: F811
    admin_api: Api,
) -> None:
    used = admin_api.call("POST", "/admin/registration-codes", admin_api.admin, {"max_uses": 1, "note": "e2e used up"})
    admin_api.call("POST", "/register", None, {"code": used["code"], "name": "Used"})
    admin = admin_page(open_page, admin_login, "/admin/invites")
    page = admin.page
    row = page.locator(f"[data-testid=code-row][data-code='{used['code']}']")
    expect(row.get_by_test_id("code-status")).to_have_text("Used up")  # never the raw used_up
    expect(page.get_by_text("used_up")).to_have_count(0)

    form = page.get_by_test_id("invite-form")
    form.get_by_label("Uses").fill("0")
    with page.expect_response(lambda r: r.request.method == "POST" and "/admin/registration-codes" in r.url) as answer:
        form.get_by_role("button", name="Create invite").click()
    assert answer.value.status == 400
    expect(form.get_by_test_id("error-uses")).to_have_text("Use 1 or more.")
    expect(form.get_by_label("Uses")).to_have_accessible_description("Use 1 or more.")
    admin.shot("invites-uses-error")

    page.get_by_test_id("language-switch").click()  # Svenska
    expect(page.get_by_role("heading", name="Inbjudningar", level=1)).to_be_visible()
    expect(page).to_have_title("Inbjudningar · drink-assistant")  # the tab says it too
    expect(row.get_by_test_id("code-status")).to_have_text("Förbrukad")
    expect(page.get_by_role("navigation", name="Admin").get_by_role("link", name="Beställningar")).to_be_visible()
    form.get_by_label("Användningar").fill("0")
    form.get_by_role("button", name="Skapa inbjudan").click()
    expect(form.get_by_test_id("error-uses")).to_have_text("Ange 1 eller mer.")
    admin.shot("invites-swedish")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Baren").click()
    expect(page.get_by_role("heading", name="Barens inställningar")).to_be_visible()
    queue = page.get_by_label("Flest beställningar i kön")
    queue.fill("0")
    page.get_by_test_id("save-bar").click()
    expect(page.get_by_test_id("error-queue")).to_have_text("Ange 1 eller mer.")
    page.get_by_test_id("language-switch").click()  # back to English
    page.get_by_test_id("save-bar").click()
    expect(page.get_by_test_id("error-queue")).to_have_text("Use 1 or more.")
    expect(page.get_by_label("Most orders in the queue")).to_have_attribute("aria-invalid", "true")
    admin.shot("bar-queue-error")


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


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"))


def test_every_admin_page_at_360_and_1280_px(
    open_page: Callable[..., PageSession],
    admin_login: tuple[str, str],  # noqa: F811
    admin_api: Api,
) -> None:
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    drink = next(d for d in admin_api.call("GET", "/admin/drinks", admin_api.admin) if not d["archived"])
    pages = [*ADMIN_PAGES, (f"/admin/menu/drinks/{drink['id']}", drink["name"])]
    for width, height in ((360, 740), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        for path, heading in pages:
            page.goto(path)
            expect(page.get_by_role("heading", name=re.compile("^" + re.escape(heading)), level=1)).to_be_visible()
            expect(page.locator(".loading")).to_have_count(0)
            assert no_sideways_scroll(page), f"{path} scrolls sideways at {width} px"
            label = path.strip("/").replace("/", "-") or "admin"
            admin.shot(f"{width}-{label}"[:60], full_page=True)
    page.goto("/display")
    expect(page.get_by_role("heading", name="Preparing")).to_be_visible()
    admin.shot("1280-display")
