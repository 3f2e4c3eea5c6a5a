"""Admin menu management through the API: drinks, sections, ingredients (CRUD, validation,
conflicts, archiving, availability), against the real database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.admin_menu_helpers import (
    aws,  # noqa: F401 (fixture)
    call,
    drink_body,
    make_drink,
    make_ingredient,
    make_section,
    unique,
)

pytestmark = pytest.mark.usefixtures("aws")

MENU_TABLES = ("drinks", "drink_ingredients", "sections", "ingredients")
PUBLIC_KEYS = {
    "id", "section_id", "name", "description", "ingredients", "recipe_steps", "glass", "garnish", "tags", "abv",
    "image_url", "picture", "available", "allergens", "alcohol_free",
}  # fmt: skip
ADMIN_KEYS = PUBLIC_KEYS | {
    "image_key", "position", "archived", "photo_prompt", "photo_prompt_source", "generated_image", "created_at",
    "updated_at",
}  # fmt: skip


def menu_state(conn: Any) -> dict[str, str]:
    """A fingerprint of every menu table: equal before and after means nothing changed."""
    return {
        table: conn.execute(f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "
                            f"AS h FROM {table} t").fetchone()["h"]
        for table in MENU_TABLES
    }  # fmt: skip


@pytest.fixture()
def section(client: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    return make_section(client, admin_headers, description="For tests")


def public(client: Any, path: str) -> tuple[int, Any]:
    return call(client, "GET", path, {})


# ---------------------------------------------------------------- drinks: create, read


def test_create_drink(client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict[str, Any]) -> None:
    spirit = make_ingredient(client, admin_headers, name=unique("Agave Spirit"))
    body = drink_body(
        section["id"],
        image_key="drink-images/2f1c/photo.jpg",
        ingredients=[
            {"name": spirit["name"].upper(), "amount": 50, "unit": "ml"},  # catalog match ignores case
            {"name": "lime juice", "amount": 22.5, "unit": "ml"},
            {"name": "Salt", "amount": None, "unit": "rim", "optional": True},
        ],
        tags=["Sour", "sour", "  Party "],
    )
    body["name"] = f"  {body['name']}  "
    status, drink = call(client, "POST", "/admin/drinks", admin_headers, body)
    assert status == 201, drink
    assert set(drink) == ADMIN_KEYS
    assert drink["name"] == body["name"].strip()
    assert drink["section_id"] == section["id"]
    assert drink["ingredients"] == [
        {"name": spirit["name"], "amount": 50, "unit": "ml", "optional": False},
        {"name": "Lime Juice", "amount": 22.5, "unit": "ml", "optional": False},
        {"name": "Salt", "amount": None, "unit": "rim", "optional": True},
    ]
    assert drink["tags"] == ["sour", "party"]
    assert drink["abv"] == 20.5 and drink["available"] is True and drink["archived"] is False
    assert drink["image_key"] == "drink-images/2f1c/photo.jpg"
    assert drink["image_url"].endswith("/drink-images/2f1c/photo.jpg")
    assert drink["position"] == 0  # first in its new section

    # The normalized links (what filters and availability use) match the recipe.
    links = admin_conn.execute(
        """SELECT i.name, di.position, di.optional FROM drink_ingredients di
           JOIN ingredients i ON i.id = di.ingredient_id WHERE di.drink_id = %s ORDER BY di.position""",
        (drink["id"],),
    ).fetchall()
    assert [(r["name"], r["position"], r["optional"]) for r in links] == [
        (spirit["name"], 0, False),
        ("Lime Juice", 1, False),
        ("Salt", 2, True),
    ]
    assert admin_conn.execute("SELECT name_key FROM drinks WHERE id = %s", (drink["id"],)).fetchone()["name_key"] == (
        drink["name"].lower()
    )

    # The guest sees the same drink, public fields only.
    status, shown = public(client, f"/drinks/{drink['id']}")
    assert status == 200 and shown == {k: drink[k] for k in PUBLIC_KEYS}
    status, listed = call(client, "GET", "/admin/drinks", admin_headers)
    assert status == 200 and drink in listed
    status, one = call(client, "GET", f"/admin/drinks/{drink['id']}", admin_headers)
    assert status == 200 and one == drink
    second = make_drink(client, admin_headers, section["id"])
    assert second["position"] == 1  # appended after the section's last drink


def test_ingredient_filter_finds_a_new_drink(client: Any, admin_headers: dict[str, str], section: dict) -> None:
    rare = make_ingredient(client, admin_headers, name=unique("Rare Amaro"))
    drink = make_drink(client, admin_headers, section["id"], rare["name"], "Tequila")
    status, drinks = public(client, f"/drinks?ingredient={rare['name'].lower().replace(' ', '%20')}")
    assert status == 200 and [d["id"] for d in drinks] == [drink["id"]]
    status, drinks = public(client, f"/drinks?ingredient={rare['name'].replace(' ', '%20')}&ingredient=Tequila")
    assert [d["id"] for d in drinks] == [drink["id"]]


# ---------------------------------------------------------------- drinks: update


def test_update_is_partial(client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict) -> None:
    drink = make_drink(client, admin_headers, section["id"])
    status, updated = call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, {"description": "New."})
    assert status == 200, updated
    assert updated["description"] == "New."
    unchanged = {k for k in ADMIN_KEYS if k not in ("description", "updated_at")}
    assert {k: updated[k] for k in unchanged} == {k: drink[k] for k in unchanged}

    other = make_section(client, admin_headers)
    new_name = unique("Renamed")
    changes = {
        "name": new_name,
        "section_id": other["id"],
        "ingredients": [{"name": "Gin", "amount": 60, "unit": "ml"}, {"name": "Tonic Water", "unit": "top"}],
        "abv": None,
        "tags": ["Tall"],
        "position": 7,
    }
    status, updated = call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, changes)
    assert status == 200, updated
    assert updated["name"] == new_name and updated["section_id"] == other["id"] and updated["abv"] is None
    assert updated["tags"] == ["tall"] and updated["position"] == 7
    assert [i["name"] for i in updated["ingredients"]] == ["Gin", "Tonic Water"]
    links = admin_conn.execute(
        """SELECT i.name FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
           WHERE di.drink_id = %s ORDER BY di.position""",
        (drink["id"],),
    ).fetchall()
    assert [r["name"] for r in links] == ["Gin", "Tonic Water"]  # replaced, not appended
    row = admin_conn.execute("SELECT name_key FROM drinks WHERE id = %s", (drink["id"],)).fetchone()
    assert row["name_key"] == new_name.lower()
    status, found = public(client, "/drinks?ingredient=Gin")
    assert drink["id"] in {d["id"] for d in found}


# ---------------------------------------------------------------- conflicts (409)


def test_duplicate_names_are_409(client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict) -> None:
    drink = make_drink(client, admin_headers, section["id"])
    before = menu_state(admin_conn)
    for method, path, body in [
        ("POST", "/admin/drinks", drink_body(section["id"], name="  MARGARITA ")),  # a seeded drink
        ("POST", "/admin/drinks", drink_body(section["id"], name=drink["name"].lower())),
        ("PUT", f"/admin/drinks/{drink['id']}", {"name": "margarita"}),
        ("POST", "/admin/sections", {"name": section["name"].upper()}),
        ("POST", "/admin/ingredients", {"name": "tequila"}),
    ]:
        status, error = call(client, method, path, admin_headers, body)
        assert status == 409, (path, body, error)
        assert error["Code"] == "ConflictError" and "already" in error["Message"]
    other = make_section(client, admin_headers)
    before = menu_state(admin_conn)
    status, error = call(client, "PUT", f"/admin/sections/{other['id']}", admin_headers, {"name": section["name"]})
    assert status == 409, error
    ingredient = make_ingredient(client, admin_headers)
    before = menu_state(admin_conn)
    status, error = call(client, "PUT", f"/admin/ingredients/{ingredient['id']}", admin_headers, {"name": "Gin"})
    assert status == 409, error
    assert menu_state(admin_conn) == before


def test_a_unique_violation_race_is_a_409(client: Any, admin_headers: dict[str, str], section: dict) -> None:
    """Two creates of one name at once: the loser's insert hits the unique index, not a 500."""
    from chalicelib import catalog
    from chalicelib.errors import ConflictError
    from chalicelib.uow import UnitOfWork
    from chalicelib.validation import DrinkCreate

    body = DrinkCreate.model_validate(drink_body(section["id"]))
    UnitOfWork().write(catalog.create_drink, body, "")
    with pytest.raises(ConflictError):
        UnitOfWork().write(catalog.create_drink, body, "")


# ---------------------------------------------------------------- validation (400) changes nothing

_S = "SECTION"  # replaced by the fixture section's id


def _bad_drink_bodies() -> list[tuple[str, dict[str, Any], str]]:
    def body(**fields: Any) -> dict[str, Any]:
        return {**drink_body(_S), **fields}

    def without(field: str) -> dict[str, Any]:
        data = body()
        data.pop(field)
        return data

    return [
        ("no name", without("name"), "name"),
        ("no section", without("section_id"), "section_id"),
        ("no ingredients", without("ingredients"), "ingredients"),
        ("unknown field", body(abv_percent=5), "abv_percent"),
        ("blank name", body(name="   "), "name"),
        ("long name", body(name="x" * 81), "name"),
        ("control char", body(name="bad\nname"), "name"),
        ("long description", body(description="x" * 1001), "description"),
        ("empty recipe", body(ingredients=[]), "ingredients"),
        ("21 ingredients", body(ingredients=[{"name": "Gin"}] * 21), "ingredients"),
        ("unknown ingredient", body(ingredients=[{"name": "Unicorn Tears"}]), "Unicorn Tears"),
        ("twice", body(ingredients=[{"name": "Gin"}, {"name": "gin"}]), "twice"),
        ("negative amount", body(ingredients=[{"name": "Gin", "amount": -1}]), "amount"),
        ("text amount", body(ingredients=[{"name": "Gin", "amount": "50"}]), "amount"),
        ("long unit", body(ingredients=[{"name": "Gin", "unit": "x" * 21}]), "unit"),
        ("text optional", body(ingredients=[{"name": "Gin", "optional": "yes"}]), "optional"),
        ("ingredient extra", body(ingredients=[{"name": "Gin", "amout": 5}]), "amout"),
        ("long step", body(recipe_steps=["x" * 501]), "recipe_steps"),
        ("21 steps", body(recipe_steps=["Stir."] * 21), "recipe_steps"),
        ("11 tags", body(tags=[f"t{i}" for i in range(11)]), "tags"),
        ("abv too high", body(abv=80.5), "abv"),
        ("abv text", body(abv="5"), "abv"),
        ("abv bool", body(abv=True), "abv"),
        ("position negative", body(position=-1), "position"),
        ("image outside", body(image_key="prompts/x.txt"), "image_key"),
        ("image traversal", body(image_key="drink-images/../secrets"), "image_key"),
        ("image absolute", body(image_key="drink-images//etc/passwd"), "image_key"),
        ("section not uuid", body(section_id="nope"), "section_id"),
        ("unknown section", body(section_id=str(uuid.uuid4())), "no such section"),
        ("archived section", body(section_id="ARCHIVED"), "archived"),
    ]


@pytest.mark.parametrize(("case", "body", "mentions"), _bad_drink_bodies(), ids=[c[0] for c in _bad_drink_bodies()])
def test_bad_drink_create_is_400_and_changes_nothing(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict, case: str, body: dict, mentions: str
) -> None:
    if body.get("section_id") == _S:
        body["section_id"] = section["id"]
    elif body.get("section_id") == "ARCHIVED":
        archived = make_section(client, admin_headers)
        assert call(client, "DELETE", f"/admin/sections/{archived['id']}", admin_headers)[0] == 200
        body["section_id"] = archived["id"]
    before = menu_state(admin_conn)
    status, error = call(client, "POST", "/admin/drinks", admin_headers, body)
    assert status == 400, error
    assert error["Code"] == "BadRequestError" and mentions in error["Message"], error
    assert menu_state(admin_conn) == before


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({}, "nothing to change"),
        ({"name": None}, "name cannot be null"),
        ({"ingredients": None}, "ingredients cannot be null"),
        ({"archived": "no"}, "archived"),
        ({"nmae": "x"}, "nmae"),
        ({"ingredients": [{"name": "Unicorn Tears"}]}, "Unicorn Tears"),
        ({"section_id": str(uuid.uuid4())}, "no such section"),
        ({"description": "ok", "abv": 99}, "abv"),
    ],
)
def test_bad_drink_update_is_400_and_changes_nothing(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict, body: dict, mentions: str
) -> None:
    drink = make_drink(client, admin_headers, section["id"])
    before = menu_state(admin_conn)
    status, error = call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, body)
    assert status == 400 and mentions in error["Message"], error
    assert menu_state(admin_conn) == before


def test_malformed_bodies_and_ids(client: Any, admin_headers: dict[str, str], admin_conn: Any) -> None:
    before = menu_state(admin_conn)
    for method, path, body, expected in [
        ("POST", "/admin/drinks", b"{not json", 400),
        ("POST", "/admin/drinks", [1, 2], 400),
        ("POST", "/admin/sections", {"name": ""}, 400),
        ("POST", "/admin/sections", {"name": "x", "position": "1"}, 400),
        ("POST", "/admin/ingredients", {"name": "Thing", "category": "potion"}, 400),
        ("POST", "/admin/ingredients", {"name": "Thing", "in_stock": "false"}, 400),
        ("PUT", "/admin/drinks/not-a-uuid", {"description": "x"}, 400),
        ("PUT", f"/admin/drinks/{uuid.uuid4()}", {"description": "x"}, 404),
        ("DELETE", "/admin/drinks/not-a-uuid", None, 400),
        ("DELETE", f"/admin/drinks/{uuid.uuid4()}", None, 404),
        ("GET", f"/admin/drinks/{uuid.uuid4()}", None, 404),
        ("PUT", f"/admin/sections/{uuid.uuid4()}", {"description": "x"}, 404),
        ("DELETE", f"/admin/sections/{uuid.uuid4()}", None, 404),
        ("DELETE", "/admin/sections/1", None, 400),
        ("PUT", f"/admin/ingredients/{uuid.uuid4()}", {"in_stock": False}, 404),
        ("PUT", "/admin/ingredients/x", {"in_stock": False}, 400),
        ("PUT", f"/admin/ingredients/{uuid.uuid4()}", {}, 400),
    ]:
        status, error = call(client, method, path, admin_headers, body)
        assert status == expected, (method, path, body, error)
        assert set(error) == {"Code", "Message"}
    assert menu_state(admin_conn) == before


# ---------------------------------------------------------------- archiving


def test_delete_archives_a_drink(client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict) -> None:
    drink = make_drink(client, admin_headers, section["id"])
    status, archived = call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)
    assert status == 200 and archived["archived"] is True
    assert public(client, f"/drinks/{drink['id']}")[0] == 404
    assert drink["id"] not in {d["id"] for d in public(client, "/drinks")[1]}
    assert drink["id"] not in {d["id"] for d in public(client, f"/drinks?section_id={section['id']}")[1]}
    listed = {d["id"]: d for d in call(client, "GET", "/admin/drinks", admin_headers)[1]}
    assert listed[drink["id"]]["archived"] is True
    # The row (and so every order pointing at it) stays.
    assert admin_conn.execute("SELECT count(*) AS n FROM drinks WHERE id = %s", (drink["id"],)).fetchone()["n"] == 1
    first = admin_conn.execute("SELECT archived_at FROM drinks WHERE id = %s", (drink["id"],)).fetchone()
    assert call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)[0] == 200  # idempotent
    assert admin_conn.execute("SELECT archived_at FROM drinks WHERE id = %s", (drink["id"],)).fetchone() == first

    status, back = call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, {"archived": False})
    assert status == 200 and back["archived"] is False
    assert public(client, f"/drinks/{drink['id']}")[0] == 200


def test_section_delete(client: Any, admin_headers: dict[str, str], admin_conn: Any, section: dict) -> None:
    drinks = [make_drink(client, admin_headers, section["id"]) for _ in range(2)]
    before = menu_state(admin_conn)
    status, error = call(client, "DELETE", f"/admin/sections/{section['id']}", admin_headers)
    assert status == 409 and error["Code"] == "ConflictError" and "2 active drinks" in error["Message"], error
    status, error = call(client, "PUT", f"/admin/sections/{section['id']}", admin_headers, {"archived": True})
    assert status == 409, error
    assert menu_state(admin_conn) == before

    for drink in drinks:
        assert call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)[0] == 200
    status, archived = call(client, "DELETE", f"/admin/sections/{section['id']}", admin_headers)
    assert status == 200 and archived["archived"] is True and archived["active_drinks"] == 0
    assert section["id"] not in {s["id"] for s in public(client, "/sections")[1]}
    admin_sections = {s["id"]: s for s in call(client, "GET", "/admin/sections", admin_headers)[1]}
    assert admin_sections[section["id"]]["archived"] is True
    # Archived drinks keep a valid section; unarchiving one into an archived section is refused.
    status, error = call(client, "PUT", f"/admin/drinks/{drinks[0]['id']}", admin_headers, {"archived": False})
    assert status == 400 and "archived" in error["Message"], error
    # Moving it to a live section while unarchiving works.
    other = make_section(client, admin_headers)
    status, moved = call(
        client, "PUT", f"/admin/drinks/{drinks[0]['id']}", admin_headers, {"archived": False, "section_id": other["id"]}
    )
    assert status == 200 and moved["archived"] is False and moved["section_id"] == other["id"]
    # And the section itself can come back.
    status, restored = call(client, "PUT", f"/admin/sections/{section['id']}", admin_headers, {"archived": False})
    assert status == 200 and restored["archived"] is False and restored["active_drinks"] == 0


def test_sections_crud(client: Any, admin_headers: dict[str, str]) -> None:
    section = make_section(client, admin_headers, description="Tall drinks")
    assert section["archived"] is False and section["description"] == "Tall drinks" and section["active_drinks"] == 0
    status, updated = call(client, "PUT", f"/admin/sections/{section['id']}", admin_headers, {"position": 3})
    assert status == 200 and updated["position"] == 3 and updated["name"] == section["name"]
    shown = {s["id"]: s for s in public(client, "/sections")[1]}
    assert shown[section["id"]] == {"id": section["id"], "name": section["name"], "description": "Tall drinks",
                                    "position": 3}  # fmt: skip


# ---------------------------------------------------------------- ingredients and availability


def test_ingredients_crud(client: Any, admin_headers: dict[str, str], admin_conn: Any) -> None:
    ingredient = make_ingredient(client, admin_headers, name="  " + unique("Yuzu Juice") + " ", category="juice")
    assert ingredient["name"] == ingredient["name"].strip() and ingredient["category"] == "juice"
    assert ingredient["in_stock"] is True and ingredient["active_drinks"] == 0
    status, defaults = call(client, "POST", "/admin/ingredients", admin_headers, {"name": unique("Thing")})
    assert status == 201 and defaults["category"] == "other"
    status, updated = call(
        client, "PUT", f"/admin/ingredients/{ingredient['id']}", admin_headers, {"category": "fruit", "in_stock": False}
    )
    assert status == 200 and updated["category"] == "fruit" and updated["in_stock"] is False
    listed = {i["id"]: i for i in call(client, "GET", "/admin/ingredients", admin_headers)[1]}
    assert listed[ingredient["id"]]["in_stock"] is False
    assert {i["name"] for i in public(client, "/ingredients")[1]} >= {ingredient["name"]}


def test_available_follows_stock(client: Any, admin_headers: dict[str, str], section: dict) -> None:
    needed = make_ingredient(client, admin_headers)
    garnish = make_ingredient(client, admin_headers, category="fruit")
    body = drink_body(
        section["id"],
        ingredients=[{"name": needed["name"], "amount": 50, "unit": "ml"}, {"name": garnish["name"], "optional": True}],
    )
    status, drink = call(client, "POST", "/admin/drinks", admin_headers, body)
    assert status == 201 and drink["available"] is True

    def shown() -> bool:
        return public(client, f"/drinks/{drink['id']}")[1]["available"]

    def in_available_list() -> bool:
        return drink["id"] in {d["id"] for d in public(client, f"/drinks?available=true&section_id={section['id']}")[1]}

    # An optional ingredient out of stock does not matter.
    assert call(client, "PUT", f"/admin/ingredients/{garnish['id']}", admin_headers, {"in_stock": False})[0] == 200
    assert shown() is True and in_available_list()
    status, ingredient = call(client, "PUT", f"/admin/ingredients/{needed['id']}", admin_headers, {"in_stock": False})
    assert status == 200 and ingredient["in_stock"] is False and ingredient["active_drinks"] == 1
    assert shown() is False and not in_available_list()
    assert call(client, "GET", f"/admin/drinks/{drink['id']}", admin_headers)[1]["available"] is False
    assert call(client, "PUT", f"/admin/ingredients/{needed['id']}", admin_headers, {"in_stock": True})[0] == 200
    assert shown() is True and in_available_list()


def test_renaming_an_ingredient_renames_it_in_recipes(
    client: Any, admin_headers: dict[str, str], section: dict
) -> None:
    ingredient = make_ingredient(client, admin_headers)
    drink = make_drink(client, admin_headers, section["id"], ingredient["name"], "Lime Juice")
    new_name = unique("Better Name")
    status, renamed = call(client, "PUT", f"/admin/ingredients/{ingredient['id']}", admin_headers, {"name": new_name})
    assert status == 200 and renamed["name"] == new_name
    shown = public(client, f"/drinks/{drink['id']}")[1]
    assert [i["name"] for i in shown["ingredients"]] == [new_name, "Lime Juice"]
    assert drink["id"] in {d["id"] for d in public(client, f"/drinks?ingredient={new_name.replace(' ', '%20')}")[1]}


def test_keys_from_the_upload_endpoint_are_accepted() -> None:
    """The image_key rule and chalicelib.media's key format must agree."""
    from chalicelib import media
    from chalicelib.validation import DrinkUpdate, parse

    for filename, content_type in [
        ("My Photo (1).JPG", "image/jpeg"),
        ("ÆØÅ.png", "image/png"),
        ("x" * 300, "image/webp"),
    ]:
        key = media.image_key(filename, content_type)
        assert parse(DrinkUpdate, {"image_key": key}).image_key == key
