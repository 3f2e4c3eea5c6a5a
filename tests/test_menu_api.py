"""The public menu API through chalice.test.Client against the seeded database."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chalicelib.db import STATEMENTS

UNAVAILABLE = {"Pisco Sour", "Aviation", "Bellini"}  # their required ingredient is out of stock in the seed


def get(client: Any, path: str) -> tuple[int, Any]:
    response = client.http.get(path)
    return response.status_code, json.loads(response.body) if response.body else None


def names(drinks: list[dict[str, Any]]) -> set[str]:
    return {d["name"] for d in drinks}


def test_sections(client: Any) -> None:
    status, sections = get(client, "/sections")
    assert status == 200
    assert len(sections) >= 5
    assert [s["position"] for s in sections] == sorted(s["position"] for s in sections)
    assert all(uuid.UUID(s["id"]) and s["name"] for s in sections)


def test_drinks_have_the_contract_shape(client: Any) -> None:
    status, drinks = get(client, "/drinks")
    assert status == 200
    assert len(drinks) >= 40
    margarita = next(d for d in drinks if d["name"] == "Margarita")
    assert set(margarita) == {
        "id",
        "section_id",
        "name",
        "description",
        "ingredients",
        "recipe_steps",
        "glass",
        "garnish",
        "tags",
        "abv",
        "image_url",
        "picture",
        "available",
        "allergens",
        "alcohol_free",
    }
    # No photo: the offline illustration, labelled as one (docs/pictures.md).
    assert margarita["picture"]["kind"] == "illustration" and margarita["image_url"] is None
    assert margarita["picture"]["url"].endswith(".svg")
    tequila = next(i for i in margarita["ingredients"] if i["name"] == "Tequila")
    assert set(tequila) == {"name", "amount", "unit", "optional"}
    assert isinstance(margarita["recipe_steps"], list) and margarita["available"] is True


def test_filter_by_section(client: Any) -> None:
    _, sections = get(client, "/sections")
    zero = next(s for s in sections if "zero" in s["name"].lower())
    status, drinks = get(client, f"/drinks?section_id={zero['id']}")
    assert status == 200 and drinks
    assert {d["section_id"] for d in drinks} == {zero["id"]}
    assert all(d["abv"] == 0 for d in drinks)


def test_ingredient_filter_is_case_insensitive_and_anded(client: Any) -> None:
    _, tequila = get(client, "/drinks?ingredient=TEQUILA")
    assert "Margarita" in names(tequila) and "Negroni" not in names(tequila)
    assert all(any(i["name"] == "Tequila" for i in d["ingredients"]) for d in tequila)
    _, both = get(client, "/drinks?ingredient=tequila&ingredient=Grapefruit%20Soda")
    assert names(both) and names(both) < names(tequila)
    for drink in both:
        have = {i["name"].lower() for i in drink["ingredients"]}
        assert {"tequila", "grapefruit soda"} <= have
    _, none = get(client, "/drinks?ingredient=tequila&ingredient=espresso")
    assert none == []


def test_search_matches_name_description_and_ingredients(client: Any) -> None:
    _, by_name = get(client, "/drinks?q=negroni")
    assert "Negroni" in names(by_name)
    _, by_ingredient = get(client, "/drinks?q=espresso")
    assert "Espresso Martini" in names(by_ingredient)
    _, wildcard = get(client, "/drinks?q=%25")
    assert wildcard == [] or all("%" in json.dumps(d) for d in wildcard)


def test_available_filter(client: Any) -> None:
    _, everything = get(client, "/drinks")
    _, available = get(client, "/drinks?available=true")
    _, unavailable = get(client, "/drinks?available=false")
    assert names(unavailable) >= UNAVAILABLE
    assert not UNAVAILABLE & names(available)
    assert names(available) | names(unavailable) == names(everything)
    assert all(d["available"] for d in available)


def test_one_drink(client: Any) -> None:
    _, drinks = get(client, "/drinks")
    status, drink = get(client, f"/drinks/{drinks[0]['id']}")
    assert status == 200 and drink == drinks[0]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/drinks/{uuid.uuid4()}", 404),
        ("/drinks/not-a-uuid", 400),
        ("/drinks/1%27%20OR%201=1", 400),
        ("/drinks?section_id=nope", 400),
        ("/drinks?available=maybe", 400),
        ("/drinks?q=" + "x" * 101, 400),
        ("/drinks?" + "&".join(f"ingredient=i{n}" for n in range(11)), 400),
        ("/drinks?ingredient=", 400),
    ],
)
def test_bad_input_is_a_json_4xx(client: Any, path: str, status: int) -> None:
    got, body = get(client, path)
    assert got == status
    assert set(body) == {"Code", "Message"} and body["Message"]


def test_unknown_section_gives_an_empty_list(client: Any) -> None:
    assert get(client, f"/drinks?section_id={uuid.uuid4()}") == (200, [])


def test_ingredients_and_bar(client: Any) -> None:
    status, ingredients = get(client, "/ingredients")
    assert status == 200 and len(ingredients) >= 50
    pisco = next(i for i in ingredients if i["name"] == "Pisco")
    assert pisco["in_stock"] is False
    status, bar = get(client, "/bar")
    assert status == 200 and set(bar) == {"is_open", "message"}


@pytest.mark.parametrize(
    "path",
    [
        "/sections",
        "/drinks",
        "/drinks?ingredient=gin&ingredient=lime%20juice&q=a&available=true",
        "/ingredients",
        "/bar",
    ],
)
def test_one_database_round_trip_per_request(client: Any, path: str) -> None:
    get(client, path)  # warm: connection open
    STATEMENTS.reset()
    status, _ = get(client, path)
    assert status == 200
    assert STATEMENTS.reset() == 1


def test_responses_carry_a_correlation_id(client: Any) -> None:
    response = client.http.get("/bar", headers={"X-Correlation-Id": "party-42"})
    # The request's own id, never the client's (tests/test_logging.py checks the log lines).
    assert response.headers["X-Correlation-Id"] not in ("", "party-42")
