"""The public menu's JSON built by PostgreSQL (menu.list_drinks_json / get_drink_json)
equals the shape drink_from_row builds in Python, picture rules included (images.picture):
the seeded menu, and drinks arranged to hit each picture branch and its edge cases."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import menu
from chalicelib.db import STATEMENTS
from chalicelib.validation import DrinkQuery

BASE = "https://cdn.example/x"
NEW, OLD = "drink-images/new.jpg", "drink-images/old.jpg"
VARIANTS = [{"width": 400, "key": "drink-images/v/400.webp"}, {"width": 800.0, "key": "drink-images/v/800.webp"}]
ODD_VARIANTS = [*VARIANTS, "junk", {"width": 0, "key": "k"}, {"width": 1200}, {"key": ""}, {"width": 600, "key": None}]

# (image_key, image_variants_json, generated_image_json, glass, garnish, ingredients_json, abv)
CASES: list[tuple[Any, ...]] = [
    (NEW, json.dumps({"source_key": NEW, "width": 1600, "height": 1200, "variants": ODD_VARIANTS}), None,
     "coupe", "lime", "[]", 12.5),
    (NEW, json.dumps({"source_key": OLD, "width": 1600, "height": 1200, "variants": VARIANTS}), None,
     "coupe", "", "[]", None),  # variants of an older photo: not shown
    (NEW, "not json", "{also not", "", "", "[]", 0),
    (NEW, json.dumps(["a list"]), None, "", "", "[]", 40),
    (None, None, json.dumps({"key": "drink-images/generated/g.png", "width": 1280, "height": 960,
                             "variants": VARIANTS, "seed": 7}), "highball", "orange", "[]", 5),
    (None, None, json.dumps({"key": "drink-images/generated/h.png", "variants": {"not": "a list"}}),
     "", "", "[]", None),
    (None, None, json.dumps({"key": ""}), "rocks", "", "[]", None),  # no key: the illustration
    ("", "", "", "", "", "[]", None),  # empty strings: the illustration
    (None, None, None, "martini", "olive \u00e9\u2603 \"quoted\" \\ back",
     json.dumps([{"name": "Gin \u00e5", "amount": 6, "unit": "cl", "optional": False}]), 33.3),
]


@pytest.fixture()
def arranged(admin_conn: Any) -> Iterator[uuid.UUID]:
    """A section holding one drink per case, removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    section = admin_conn.execute(
        "INSERT INTO sections (name, name_key, position) VALUES (%s, %s, 9999) RETURNING id",
        (f"JSON parity {tag}", f"json parity {tag}"),
    ).fetchone()["id"]
    try:
        for n, (key, variants, generated, glass, garnish, ingredients, abv) in enumerate(CASES):
            admin_conn.execute(
                """INSERT INTO drinks (section_id, name, name_key, description, ingredients_json, glass, garnish,
                       tags_json, abv, image_key, image_variants_json, generated_image_json, position)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (section, f"Case {n} {tag}", f"case {n} {tag}", "Line\nbreak \t\u00fc", ingredients, glass, garnish,
                 json.dumps(["tag", "\u00fc"]), abv, key, variants, generated, n),
            )
        yield section
    finally:
        admin_conn.execute("DELETE FROM drinks WHERE section_id = %s", (section,))
        admin_conn.execute("DELETE FROM sections WHERE id = %s", (section,))


def test_the_json_listing_equals_the_python_shape(db: Any, arranged: uuid.UUID) -> None:
    for query in (DrinkQuery(), DrinkQuery(section_id=arranged), DrinkQuery(ingredient=["tequila"], available=True),
                  DrinkQuery(q="case", exclude=["gluten"])):
        expected = db.read(menu.list_drinks, query, BASE)
        got = json.loads(db.read(menu.list_drinks_json, query, BASE))
        assert got == expected
    mine = json.loads(db.read(menu.list_drinks_json, DrinkQuery(section_id=arranged), BASE))
    assert [d["picture"]["kind"] for d in mine] == [
        "photo", "photo", "photo", "photo", "generated", "generated", "illustration", "illustration", "illustration"
    ]
    assert [v["width"] for v in mine[0]["picture"]["variants"]] == [400, 800]
    assert mine[1]["picture"]["variants"] == [] and mine[1]["picture"]["width"] is None


def test_one_drink_json_equals_the_python_shape(db: Any, arranged: uuid.UUID) -> None:
    for drink in db.read(menu.list_drinks, DrinkQuery(section_id=arranged), BASE):
        drink_id = uuid.UUID(drink["id"])
        assert json.loads(db.read(menu.get_drink_json, drink_id, BASE)) == db.read(menu.get_drink, drink_id, BASE)
    assert db.read(menu.get_drink_json, uuid.uuid4(), BASE) is None


def test_an_empty_listing_is_an_empty_array(db: Any) -> None:
    assert db.read(menu.list_drinks_json, DrinkQuery(section_id=uuid.uuid4()), BASE) == "[]"


def test_the_routes_send_the_database_text_in_one_round_trip(client: Any, arranged: uuid.UUID) -> None:
    client.http.get("/drinks")  # warm: connection open
    STATEMENTS.reset()
    response = client.http.get(f"/drinks?section_id={arranged}")
    assert STATEMENTS.reset() == 1
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    drinks = json.loads(response.body)
    assert len(drinks) == len(CASES)
    one = client.http.get(f"/drinks/{drinks[-1]['id']}")
    assert one.status_code == 200 and one.headers["Content-Type"] == "application/json"
    assert json.loads(one.body) == drinks[-1]
