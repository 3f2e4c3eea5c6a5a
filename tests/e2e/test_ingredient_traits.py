"""The host edits an ingredient's taste and contents in the console (Chromium, the real
local stack), and a drink using it shows the new allergens on the guest menu API."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_admin_console import admin_login, signed_in_admin  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def public_get(stack: Stack, path: str) -> Any:
    with urllib.request.urlopen(f"{stack.base_url}/api{path}", timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


@pytest.fixture()
def syrup_and_drink(admin_api: Api) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """A fresh ingredient with no flags and a drink that uses it (archived afterwards)."""
    name = f"E2E Oat Syrup {uuid.uuid4().hex[:6]}"
    ingredient = admin_api.call("POST", "/admin/ingredients", admin_api.admin, {"name": name, "category": "syrup"})
    section = admin_api.call("GET", "/admin/sections", admin_api.admin)[0]
    drink = admin_api.call(
        "POST",
        "/admin/drinks",
        admin_api.admin,
        {
            "section_id": section["id"],
            "name": f"E2E Oat Fizz {uuid.uuid4().hex[:6]}",
            "ingredients": [{"name": name, "amount": 20, "unit": "ml"}, {"name": "Soda Water", "amount": 100}],
            "recipe_steps": ["Build over ice."],
            "tags": ["fizzy"],
        },
    )
    try:
        yield ingredient, drink
    finally:
        admin_api.call("DELETE", f"/admin/drinks/{drink['id']}", admin_api.admin)


def test_the_host_sets_allergens_and_flavour_and_the_drink_follows(
    stack: Stack,
    admin_api: Api,
    open_page: Callable[..., PageSession],
    admin_login: tuple[str, str],  # noqa: F811
    syrup_and_drink: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ingredient, drink = syrup_and_drink
    assert public_get(stack, f"/drinks/{drink['id']}")["allergens"] == []
    admin = signed_in_admin(open_page, admin_login)
    page = admin.page
    page.goto("/admin/menu/ingredients")
    page.get_by_label("Search").fill(ingredient["name"])
    row = page.get_by_test_id("ingredient-row").filter(has_text=ingredient["name"])
    expect(row).to_have_count(1)
    expect(row).to_contain_text("not described yet")
    row.get_by_test_id("edit-traits").click()

    form = page.get_by_role("form", name=f"Taste and contents of {ingredient['name']}")
    expect(form).to_be_visible()
    form.get_by_label(f"sweet of {ingredient['name']}").select_option("3")
    form.get_by_label("Gluten").check()
    form.get_by_label("Soy").check()
    admin.shot("ingredient-traits-form")
    with page.expect_response(lambda r: r.request.method == "PUT" and ingredient["id"] in r.url) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    expect(form).to_be_hidden()
    expect(row).to_contain_text("sweet 3")
    expect(row).to_contain_text("Gluten, Soy")
    admin.shot("ingredient-traits")

    saved = next(i for i in admin_api.call("GET", "/admin/ingredients", admin_api.admin) if i["id"] == ingredient["id"])
    assert saved["allergens"] == ["gluten", "soy"] and saved["flavour"]["sweet"] == 3
    assert saved["vegan"] is True and saved["contains_alcohol"] is False
    # The drink derives its allergens from the ingredient (the menu cache is a no-op locally).
    assert public_get(stack, f"/drinks/{drink['id']}")["allergens"] == ["gluten", "soy"]
    safe = {d["id"] for d in public_get(stack, "/drinks?exclude=soy")}
    assert drink["id"] not in safe

    # Alcohol and its strength: the ABV field appears only for an alcoholic ingredient.
    row.get_by_test_id("edit-traits").click()
    expect(form.get_by_label("ABV %")).to_have_count(0)
    form.get_by_label("Contains alcohol").check()
    form.get_by_label("ABV %").fill("17")
    with page.expect_response(lambda r: r.request.method == "PUT" and ingredient["id"] in r.url) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    expect(row).to_contain_text("17%")
    assert public_get(stack, f"/drinks/{drink['id']}")["alcohol_free"] is False
