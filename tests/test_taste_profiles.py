"""Taste and safety through the API against the real database: drink allergens and
alcohol-free, GET /drinks exclusions, GET|PUT /me/profile, thumbs, recommendations,
similar drinks, the ingredient traits the host edits, and who may call what."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import guest_tokens
from chalicelib.db import STATEMENTS
from tests.admin_menu_helpers import aws, call, drink_body, make_section, unique  # noqa: F401 (fixture)
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
ZERO_PROOF = {"Virgin Mojito", "Shirley Temple", "Virgin Mary", "Ginger-Lime Fizz", "Virgin Piña Colada"}
EMPTY_PROFILE = {"spirits": [], "likes": [], "dislikes": [], "strength": None, "avoid": [], "alcohol_free": False}


@pytest.fixture(scope="module", autouse=True)
def seeded_menu_only(database_url: str) -> None:
    """These tests count on the seeded menu: archive drinks other test modules created in
    this session's database (a fault test's "Throttled Spritz", say) before they run."""
    import psycopg

    seeded = [d["name"] for d in json.loads((ROOT / "sql" / "seed" / "menu.json").read_text())["drinks"]]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE drinks SET archived_at = now() WHERE archived_at IS NULL AND NOT (name = ANY(%s))", (seeded,)
        )


def get(client: Any, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = client.http.get(path, headers=headers or {})
    return response.status_code, json.loads(response.body) if response.body else None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def by_name(drinks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in drinks}


def assert_bad_request(status: int, body: Any) -> None:
    assert status == 400, body
    assert body["Code"] == "BadRequestError" and body["Message"], body


# ---------------------------------------------------------------- the drink JSON and GET /drinks


def test_drinks_carry_allergens_and_alcohol_free_derived_from_ingredients(client: Any) -> None:
    status, drinks = get(client, "/drinks")
    assert status == 200
    menu = by_name(drinks)
    assert menu["Whiskey Sour"]["allergens"] == ["egg"]  # its egg white is optional: still listed
    assert menu["Bloody Mary"]["allergens"] == ["celery", "fish", "gluten"]
    assert menu["Mai Tai"]["allergens"] == ["tree_nuts"]
    assert menu["White Russian"]["allergens"] == ["dairy"]
    assert menu["Negroni"]["allergens"] == ["sulphites"]
    assert menu["Margarita"]["allergens"] == []
    assert {name for name, d in menu.items() if d["alcohol_free"]} == ZERO_PROOF
    for drink in drinks:
        assert drink["allergens"] == sorted(drink["allergens"])
    status, one = get(client, f"/drinks/{menu['Virgin Mary']['id']}")
    assert status == 200 and one["allergens"] == ["celery", "fish", "gluten"] and one["alcohol_free"] is True


def test_exclude_takes_allergens_and_ingredient_names(client: Any) -> None:
    _, everything = get(client, "/drinks")
    status, drinks = get(client, "/drinks?exclude=egg&exclude=Campari")
    assert status == 200
    left = set(by_name(drinks))
    for name in ("Whiskey Sour", "Pisco Sour", "Clover Club", "Negroni", "Americano", "Jungle Bird"):
        assert name not in left, name
    assert {"Margarita", "Daiquiri", "Mai Tai"} <= left
    assert all("egg" not in d["allergens"] for d in drinks)
    # Everything not containing them is still there.
    expected = {
        d["name"]
        for d in everything
        if "egg" not in d["allergens"] and all(i["name"] != "Campari" for i in d["ingredients"])
    }
    assert left == expected
    _, no_nuts = get(client, "/drinks?exclude=tree_nuts&exclude=non_vegan")
    names = set(by_name(no_nuts))
    assert "Mai Tai" not in names and "Bee's Knees" not in names and "White Russian" not in names
    assert "Daiquiri" in names
    _, unknown = get(client, "/drinks?exclude=unobtainium")
    assert len(unknown) == len(everything)  # like ingredient=: an unknown name filters nothing out


def test_alcohol_free_filter_both_ways_and_with_exclusions(client: Any) -> None:
    _, free = get(client, "/drinks?alcohol_free=true")
    assert set(by_name(free)) == ZERO_PROOF
    _, safe = get(client, "/drinks?alcohol_free=true&exclude=fish")
    assert set(by_name(safe)) == ZERO_PROOF - {"Virgin Mary"}
    _, boozy = get(client, "/drinks?alcohol_free=false")
    assert not set(by_name(boozy)) & ZERO_PROOF and len(boozy) >= 50


@pytest.mark.parametrize(
    "query",
    ["alcohol_free=maybe", f"exclude={'x' * 61}", "exclude=", "&".join(f"exclude=a{i}" for i in range(21))],
)
def test_bad_menu_filters_are_400(client: Any, query: str) -> None:
    assert_bad_request(*get(client, f"/drinks?{query}"))


def test_exclusions_cost_one_round_trip(client: Any) -> None:
    path = "/drinks?exclude=egg&exclude=campari&exclude=Lime%20Juice&alcohol_free=false&available=true"
    get(client, path)
    STATEMENTS.reset()
    status, _ = get(client, path)
    assert status == 200
    assert STATEMENTS.reset() == 1


# ---------------------------------------------------------------- GET|PUT /me/profile


def put(client: Any, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    return call(client, "PUT", path, headers, body)


def test_a_new_guest_has_an_empty_profile_and_fills_it_in(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    headers = bearer(token)
    assert get(client, "/me/profile", headers) == (200, EMPTY_PROFILE)
    full = {
        "spirits": ["gin", "mezcal"],
        "likes": ["sour", "bitter"],
        "dislikes": ["sweet"],
        "strength": "medium",
        "avoid": ["egg", "Campari"],
        "alcohol_free": False,
    }
    status, saved = put(client, "/me/profile", full, headers)
    assert status == 200, saved
    assert saved == {**full, "avoid": ["egg", "campari"]}
    assert get(client, "/me/profile", headers) == (200, saved)
    # Partial: only what is sent changes; strength null clears it.
    status, partial = put(client, "/me/profile", {"likes": ["herbal"], "strength": None}, headers)
    assert status == 200
    assert partial == {**saved, "likes": ["herbal"], "strength": None}
    status, same = put(client, "/me/profile", {}, headers)
    assert (status, same) == (200, partial)


@pytest.mark.parametrize(
    "body",
    [
        {"spirits": ["absinthe"]},
        {"likes": ["umami"]},
        {"dislikes": ["Sweet "]},
        {"strength": "extra"},
        {"avoid": ["unobtainium"]},
        {"avoid": ["egg", ""]},
        {"alcohol_free": "yes"},
        {"alcohol_free": 1},
        {"spirits": None},
        {"spirits": "gin"},
        {"likes": ["sour"], "dislikes": ["sour"]},
        {"favourite": "negroni"},
        {"avoid": ["x" * 61]},
    ],
)
def test_bad_profiles_are_400_and_change_nothing(client: Any, make_guest: Any, body: Any) -> None:  # noqa: F811
    _, token = make_guest()
    headers = bearer(token)
    assert put(client, "/me/profile", {"likes": ["sour"], "avoid": ["egg"]}, headers)[0] == 200
    before = get(client, "/me/profile", headers)[1]
    assert_bad_request(*put(client, "/me/profile", body, headers))
    assert get(client, "/me/profile", headers)[1] == before


def test_a_profile_body_must_be_a_json_object(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    for raw in (b"[1, 2]", b'"gin"', b"{not json"):
        status, body = call(client, "PUT", "/me/profile", bearer(token), raw)
        assert_bad_request(status, body)


def test_a_guest_sees_and_edits_only_their_own_profile(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, ann = make_guest("Ann")
    _, bob = make_guest("Bob")
    assert put(client, "/me/profile", {"spirits": ["rum"], "avoid": ["dairy"]}, bearer(ann))[0] == 200
    assert get(client, "/me/profile", bearer(bob)) == (200, EMPTY_PROFILE)
    assert put(client, "/me/profile", {"spirits": ["gin"]}, bearer(bob))[0] == 200
    assert get(client, "/me/profile", bearer(ann))[1]["spirits"] == ["rum"]


def test_an_admin_trying_the_bar_gets_their_own_profile(
    client: Any, make_guest: Any, user_pool: Any  # noqa: F811
) -> None:
    admin = {"Authorization": f"Bearer {user_pool.admin_token(sub=str(uuid.uuid4()))}"}
    assert get(client, "/me/profile", admin) == (200, EMPTY_PROFILE)
    assert put(client, "/me/profile", {"likes": ["smoky"]}, admin)[0] == 200
    assert get(client, "/me/profile", admin)[1]["likes"] == ["smoky"]
    _, guest = make_guest()
    assert get(client, "/me/profile", bearer(guest)) == (200, EMPTY_PROFILE)


def test_an_avoided_ingredient_stays_avoided_when_the_host_renames_it(
    client: Any, make_guest: Any, admin_headers: dict[str, str], aws: Any  # noqa: F811
) -> None:
    status, ingredient = call(client, "POST", "/admin/ingredients", admin_headers, {"name": unique("Yuzu")})
    assert status == 201, ingredient
    _, token = make_guest()
    assert put(client, "/me/profile", {"avoid": [ingredient["name"]]}, bearer(token))[0] == 200
    renamed = unique("Yuzu Juice")
    assert call(client, "PUT", f"/admin/ingredients/{ingredient['id']}", admin_headers, {"name": renamed})[0] == 200
    assert get(client, "/me/profile", bearer(token))[1]["avoid"] == [renamed.lower()]


def test_parallel_puts_of_one_profile_all_land_and_leave_one_row(
    client: Any, make_guest: Any, admin_conn: Any  # noqa: F811
) -> None:
    guest, token = make_guest()
    fields = [
        {"spirits": ["gin"]},
        {"likes": ["sour"]},
        {"dislikes": ["sweet"]},
        {"strength": "strong"},
        {"avoid": ["egg"]},
        {"alcohol_free": True},
    ] * 2
    statuses: list[int] = []
    start = threading.Barrier(len(fields))

    def send(body: dict[str, Any]) -> None:
        start.wait(timeout=10)
        statuses.append(put(client, "/me/profile", body, bearer(token))[0])

    threads = [threading.Thread(target=send, args=(body,)) for body in fields]
    try:
        for thread in threads:
            thread.start()
    finally:
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(statuses) == [200] * len(fields)
    rows = admin_conn.execute("SELECT count(*) AS n FROM guest_profiles WHERE guest_id = %s", (guest["id"],))
    assert rows.fetchone()["n"] == 1
    assert get(client, "/me/profile", bearer(token))[1] == {
        "spirits": ["gin"],
        "likes": ["sour"],
        "dislikes": ["sweet"],
        "strength": "strong",
        "avoid": ["egg"],
        "alcohol_free": True,
    }


# ---------------------------------------------------------------- thumbs


def drink_id(client: Any, name: str) -> str:
    return by_name(get(client, "/drinks")[1])[name]["id"]


def test_thumbs_up_down_and_clear(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    headers = bearer(token)
    negroni, colada = drink_id(client, "Negroni"), drink_id(client, "Piña Colada")
    assert put(client, f"/me/ratings/{negroni}", {"rating": 1}, headers) == (200, {"drink_id": negroni, "rating": 1})
    assert put(client, f"/me/ratings/{colada}", {"rating": -1}, headers)[0] == 200
    status, ratings = get(client, "/me/ratings", headers)
    assert status == 200
    assert sorted(ratings, key=lambda r: r["rating"]) == [
        {"drink_id": colada, "rating": -1},
        {"drink_id": negroni, "rating": 1},
    ]
    assert put(client, f"/me/ratings/{colada}", {"rating": 0}, headers) == (200, {"drink_id": colada, "rating": 0})
    assert get(client, "/me/ratings", headers)[1] == [{"drink_id": negroni, "rating": 1}]
    _, other = make_guest("Other")
    assert get(client, "/me/ratings", bearer(other)) == (200, [])


@pytest.mark.parametrize("body", [{"rating": 2}, {"rating": "1"}, {"rating": True}, {"rating": 0.5}, {}, {"r": 1}])
def test_bad_ratings_are_400(client: Any, make_guest: Any, body: Any) -> None:  # noqa: F811
    _, token = make_guest()
    negroni = drink_id(client, "Negroni")
    assert_bad_request(*put(client, f"/me/ratings/{negroni}", body, bearer(token)))
    assert get(client, "/me/ratings", bearer(token))[1] == []


def test_rating_an_unknown_drink_is_404_and_a_bad_id_400(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    status, body = put(client, f"/me/ratings/{uuid.uuid4()}", {"rating": 1}, bearer(token))
    assert status == 404 and body["Code"] == "NotFoundError"
    assert_bad_request(*put(client, "/me/ratings/not-a-uuid", {"rating": 1}, bearer(token)))


# ---------------------------------------------------------------- recommendations and similar drinks


def test_a_guest_who_avoids_egg_and_dislikes_sweet_never_gets_a_whiskey_sour_or_pina_colada(
    client: Any, make_guest: Any  # noqa: F811
) -> None:
    _, token = make_guest()
    headers = bearer(token)
    assert put(client, "/me/profile", {"avoid": ["egg"], "dislikes": ["sweet"]}, headers)[0] == 200
    # Even after liking drinks close to them.
    for name in ("Daiquiri", "Virgin Piña Colada"):
        assert put(client, f"/me/ratings/{drink_id(client, name)}", {"rating": 1}, headers)[0] == 200
    status, picks = get(client, "/recommendations?limit=20", headers)
    assert status == 200 and picks
    names = [p["drink"]["name"] for p in picks]
    assert "Whiskey Sour" not in names and "Piña Colada" not in names
    for pick in picks:
        assert set(pick) == {"drink", "score", "reasons", "fallback"}
        assert "egg" not in pick["drink"]["allergens"] and pick["drink"]["available"]
        assert pick["reasons"] and all(isinstance(r, str) and r for r in pick["reasons"])
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)


def test_recommendations_follow_the_profile_and_explain_themselves(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    headers = bearer(token)
    body = {"spirits": ["gin"], "likes": ["bitter"], "avoid": ["campari"]}
    assert put(client, "/me/profile", body, headers)[0] == 200
    assert put(client, f"/me/ratings/{drink_id(client, 'Negroni')}", {"rating": 1}, headers)[0] == 200
    status, picks = get(client, "/recommendations?limit=3", headers)
    assert status == 200 and len(picks) == 3
    for pick in picks:
        assert all(i["name"] != "Campari" for i in pick["drink"]["ingredients"])
    top = picks[0]
    assert any("gin" in i["name"].lower() for i in top["drink"]["ingredients"])
    assert any(r == "gin, one of your spirits" for r in top["reasons"]), top["reasons"]
    # The drink JSON is exactly GET /drinks/{id}.
    assert get(client, f"/drinks/{top['drink']['id']}")[1] == top["drink"]


def test_alcohol_free_guests_get_alcohol_free_drinks_only(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    headers = bearer(token)
    assert put(client, "/me/profile", {"alcohol_free": True, "avoid": ["fish"], "spirits": ["gin"]}, headers)[0] == 200
    _, picks = get(client, "/recommendations?limit=20", headers)
    names = {p["drink"]["name"] for p in picks}
    assert names and names <= ZERO_PROOF - {"Virgin Mary"}
    assert all(p["drink"]["alcohol_free"] for p in picks)


def test_when_nothing_fits_the_list_is_empty(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    headers = bearer(token)
    avoid = ["lime juice", "lemon juice", "sulphites", "soda water", "ginger ale", "tomato juice"]
    assert put(client, "/me/profile", {"alcohol_free": True, "avoid": avoid}, headers)[0] == 200
    assert get(client, "/recommendations", headers) == (200, [])


@pytest.mark.parametrize("query", ["limit=0", "limit=21", "limit=two", "limit=-1"])
def test_bad_limits_are_400(client: Any, make_guest: Any, query: str) -> None:  # noqa: F811
    _, token = make_guest()
    assert_bad_request(*get(client, f"/recommendations?{query}", bearer(token)))
    assert_bad_request(*get(client, f"/drinks/{drink_id(client, 'Negroni')}/similar?{query}"))


def test_similar_drinks_are_public_nearest_first_and_available(client: Any) -> None:
    status, picks = get(client, f"/drinks/{drink_id(client, 'Negroni')}/similar?limit=3")
    assert status == 200 and len(picks) == 3
    names = [p["drink"]["name"] for p in picks]
    assert "Boulevardier" in names and "Negroni" not in names
    assert all(p["drink"]["available"] and p["reasons"] for p in picks)
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)
    _, default = get(client, f"/drinks/{drink_id(client, 'Negroni')}/similar")
    assert len(default) == 5


def test_similar_of_an_unknown_drink_is_404_and_a_bad_id_400(client: Any) -> None:
    status, body = get(client, f"/drinks/{uuid.uuid4()}/similar")
    assert status == 404 and body["Code"] == "NotFoundError"
    assert_bad_request(*get(client, "/drinks/nope/similar"))


def test_similar_drinks_cost_one_round_trip(client: Any) -> None:
    path = f"/drinks/{drink_id(client, 'Negroni')}/similar"
    get(client, path)
    STATEMENTS.reset()
    assert get(client, path)[0] == 200
    assert STATEMENTS.reset() == 1


# ---------------------------------------------------------------- the host edits ingredient traits


def test_the_host_sets_an_ingredients_taste_and_contents_and_drinks_follow(
    client: Any, admin_headers: dict[str, str], aws: Any  # noqa: F811
) -> None:
    body = {
        "name": unique("Oat Liqueur"),
        "category": "liqueur",
        "flavour": {"sweet": 3, "creamy": 2},
        "allergens": ["gluten", "soy", "gluten"],
        "vegan": True,
        "contains_alcohol": True,
        "abv": 17,
    }
    status, ingredient = call(client, "POST", "/admin/ingredients", admin_headers, body)
    assert status == 201, ingredient
    assert ingredient["flavour"] == {
        "sweet": 3, "sour": 0, "bitter": 0, "fruity": 0, "herbal": 0, "spicy": 0, "smoky": 0, "creamy": 2, "fizzy": 0,
    }  # fmt: skip
    assert ingredient["allergens"] == ["gluten", "soy"]
    assert ingredient["contains_alcohol"] is True and ingredient["abv"] == 17.0 and ingredient["vegan"] is True
    section = make_section(client, admin_headers)
    status, drink = call(
        client, "POST", "/admin/drinks", admin_headers, drink_body(section["id"], ingredient["name"], "Lime Juice")
    )
    assert status == 201, drink
    assert drink["allergens"] == ["gluten", "soy"] and drink["alcohol_free"] is False
    # Partial flavour update; no longer alcoholic clears the strength.
    path = f"/admin/ingredients/{ingredient['id']}"
    status, updated = call(
        client, "PUT", path, admin_headers, {"flavour": {"sour": 1}, "contains_alcohol": False, "allergens": ["dairy"]}
    )
    assert status == 200, updated
    assert updated["flavour"]["sweet"] == 3 and updated["flavour"]["sour"] == 1
    assert updated["contains_alcohol"] is False and updated["abv"] is None and updated["allergens"] == ["dairy"]
    _, now = get(client, f"/drinks/{drink['id']}")
    assert now["allergens"] == ["dairy"] and now["alcohol_free"] is True
    listed = next(i for i in call(client, "GET", "/admin/ingredients", admin_headers)[1] if i["id"] == ingredient["id"])
    assert listed == {**updated, "active_drinks": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"flavour": {"sweet": 4}},
        {"flavour": {"umami": 1}},
        {"flavour": {"sweet": "3"}},
        {"allergens": ["nuts"]},
        {"abv": 40},
        {"contains_alcohol": True, "abv": 0},
        {"contains_alcohol": True, "abv": 101},
        {"vegan": "no"},
    ],
)
def test_bad_ingredient_traits_are_400_and_create_nothing(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, aws: Any, body: Any  # noqa: F811
) -> None:
    name = unique("Bad")
    assert_bad_request(*call(client, "POST", "/admin/ingredients", admin_headers, {"name": name, **body}))
    assert admin_conn.execute("SELECT 1 FROM ingredients WHERE name = %s", (name,)).fetchone() is None


def test_bad_ingredient_trait_updates_are_400_and_change_nothing(
    client: Any, admin_headers: dict[str, str], aws: Any  # noqa: F811
) -> None:
    status, ingredient = call(client, "POST", "/admin/ingredients", admin_headers, {"name": unique("Plain")})
    assert status == 201
    path = f"/admin/ingredients/{ingredient['id']}"
    for body in ({"abv": 12}, {"flavour": {"bitter": -1}}, {"allergens": ["egg", "shellfish"]}, {"flavour": None}):
        assert_bad_request(*call(client, "PUT", path, admin_headers, body))
    after = next(i for i in call(client, "GET", "/admin/ingredients", admin_headers)[1] if i["id"] == ingredient["id"])
    assert after == ingredient


# ---------------------------------------------------------------- authorization on every new route

GUEST_ROUTES = [
    ("GET", "/me/profile", None),
    ("PUT", "/me/profile", {"likes": ["sour"]}),
    ("GET", "/me/ratings", None),
    ("PUT", "/me/ratings/{drink}", {"rating": 1}),
    ("GET", "/recommendations", None),
]


@pytest.mark.parametrize(("method", "path", "body"), GUEST_ROUTES)
def test_taste_routes_refuse_bad_tokens(
    client: Any, make_guest: Any, user_pool: Any, admin_conn: Any, method: str, path: str, body: Any  # noqa: F811
) -> None:
    guest, valid = make_guest()
    concrete = path.replace("{drink}", drink_id(client, "Negroni"))
    key = guest_tokens.signing_key()
    claims = jwt.decode(valid, options={"verify_signature": False})
    now = int(time.time())
    bad = {
        "no token": (None, 401),
        "expired": (guest_tokens.issue_access_token(key, guest, now=now - 5 * 3600), 401),
        "forged": (jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), "ES256", {"kid": key.kid}), 401),
        "tampered": (valid[:-4] + "AAAA", 401),
        "expired admin": (user_pool.admin_token(exp=now - 3600, iat=now - 7200), 401),
        "wrong role (no admin group)": (user_pool.token(groups=["staff"]), 403),
    }
    for why, (token, expected) in bad.items():
        headers = bearer(token) if token else {}
        status, answer = call(client, method, concrete, headers, body)
        assert status == expected, f"{why}: {status} {answer}"
    # Nothing was written by any refused call.
    written = admin_conn.execute("SELECT count(*) AS n FROM guest_profiles WHERE guest_id = %s", (guest["id"],))
    assert written.fetchone()["n"] == 0
    assert call(client, method, concrete, bearer(valid), body)[0] == 200


def test_similar_is_public_and_the_rest_need_a_token(client: Any) -> None:
    assert get(client, f"/drinks/{drink_id(client, 'Negroni')}/similar")[0] == 200
    for method, path, body in GUEST_ROUTES:
        assert call(client, method, path.replace("{drink}", str(uuid.uuid4())), {}, body)[0] == 401


def test_the_guest_policy_opens_the_taste_routes_and_still_no_admin_route() -> None:
    from chalice.app import AuthRequest, AuthResponse
    from chalice.local import ARNMatcher

    import app as app_module

    request = AuthRequest("TOKEN", "t", "arn:aws:execute-api:us-east-1:1:api/api/GET/me")
    policy = AuthResponse(routes=app_module.routes_for("guest"), principal_id="g").to_dict(request)
    allowed = policy["policyDocument"]["Statement"][0]["Resource"]

    def can(method: str, path: str) -> bool:
        return ARNMatcher(f"arn:aws:execute-api:us-east-1:1:api/api/{method}{path}").does_any_resource_match(allowed)

    assert can("GET", "/me/profile") and can("PUT", "/me/profile") and can("GET", "/me/ratings")
    assert can("PUT", "/me/ratings/abc") and can("GET", "/recommendations")
    assert not can("GET", "/menu") and not can("GET", "/recommendationsX")
    for method in ("GET", "PUT", "POST", "DELETE"):
        for path in ("/admin/ingredients", "/admin/me/profile", "/admin/recommendations", "/admin/ingredients/abc"):
            assert not can(method, path), (method, path)


# ---------------------------------------------------------------- the seed


def test_every_seeded_ingredient_has_its_traits(admin_conn: Any) -> None:
    from sql.seed import SEED_FILE, seed_id

    seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    ids = [seed_id("ingredient", i["name"]) for i in seed["ingredients"]]
    rows = admin_conn.execute("SELECT * FROM ingredient_traits WHERE ingredient_id = ANY(%s)", (ids,)).fetchall()
    assert len(rows) == len(seed["ingredients"]) == 73
    by_name = {i["name"]: i for i in seed["ingredients"]}
    assert by_name["Orgeat"]["allergens"] == ["tree_nuts"]
    assert by_name["Egg White"]["allergens"] == ["egg"] and by_name["Egg White"]["vegan"] is False
    assert by_name["Heavy Cream"]["allergens"] == ["dairy"]
    assert by_name["Worcestershire Sauce"]["allergens"] == ["fish", "gluten"]
    assert by_name["Celery Salt"]["allergens"] == ["celery"]
    assert by_name["Honey Syrup"]["vegan"] is False
    for item in seed["ingredients"]:
        spirit_or_liqueur = item["category"] in ("spirit", "liqueur", "wine", "bitters")
        assert item["contains_alcohol"] is spirit_or_liqueur, item["name"]
        assert (item["abv"] is not None) is item["contains_alcohol"], item["name"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flavour": {"umami": 1}}, "flavour"),
        ({"flavour": {"sweet": 4}}, "flavour"),
        ({"allergens": ["nuts"]}, "unknown allergens"),
        ({"abv": 40, "contains_alcohol": False}, "abv without contains_alcohol"),
    ],
)
def test_the_seed_refuses_bad_traits(change: dict[str, Any], message: str) -> None:
    from sql.seed import SEED_FILE, build_rows

    seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    seed["ingredients"][0].update(change)
    with pytest.raises(ValueError, match=message):
        build_rows(seed)


def test_an_ingredient_without_recorded_traits_is_never_served_to_the_careful(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, aws: Any  # noqa: F811
) -> None:
    # As an ingredient the host added before migration 0006: no ingredient_traits row.
    name = unique("Mystery Cordial")
    admin_conn.execute(
        "INSERT INTO ingredients (name, name_key, category) VALUES (%s, %s, 'syrup')", (name, name.lower())
    )
    section = make_section(client, admin_headers)
    status, drink = call(client, "POST", "/admin/drinks", admin_headers, drink_body(section["id"], name))
    assert status == 201, drink
    assert drink["allergens"] == [] and drink["alcohol_free"] is False  # unknown: not alcohol-free
    ids = lambda query: {d["id"] for d in get(client, f"/drinks?{query}")[1]}  # noqa: E731
    assert drink["id"] not in ids("exclude=egg")  # may contain anything
    assert drink["id"] not in ids("alcohol_free=true")
    assert drink["id"] in ids("exclude=lime%20juice")  # a name it does not have is fine
