"""chalicelib/recommend.py: derived drink facts, the hard rules, ranking and reasons,
similar drinks; property tests (hypothesis) over random menus, stock and profiles; the
committed evaluation set; and the database's taste menu agreeing with the seed's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.recommend_eval import FAMILIES, PROFILES, evaluate, load_seed, seed_menu
from chalicelib.recommend import (
    ALLERGENS,
    EXCLUDABLE_FLAGS,
    FLAVOURS,
    NON_VEGAN,
    SPIRITS,
    TASTE_WORDS,
    History,
    IngredientTraits,
    MenuDrink,
    TasteProfile,
    facts,
    nothing_fits_message,
    recommend,
    similar,
    violation,
)
from chalicelib.validation import ProfileUpdate

MENU = seed_menu()
BY_NAME = {item.name: item for item in MENU}


def names(picks: list[Any]) -> list[str]:
    return [pick.drink["name"] for pick in picks]


# ---------------------------------------------------------------- derived facts


def test_facts_come_from_the_ingredients_optional_ones_included() -> None:
    sour = facts(BY_NAME["Whiskey Sour"])
    assert {"egg", NON_VEGAN} <= sour.flags  # the optional egg white
    assert sour.spirits == {"whiskey"} and not sour.alcohol_free and sour.method == "shaken"
    assert facts(BY_NAME["Bloody Mary"]).flags == {"celery", "fish", "gluten", NON_VEGAN}
    assert facts(BY_NAME["Mai Tai"]).flags == {"tree_nuts"}
    assert facts(BY_NAME["Virgin Mojito"]).alcohol_free
    negroni = facts(BY_NAME["Negroni"])
    assert negroni.flavour["bitter"] >= 2.5 and negroni.method == "stirred" and negroni.spirits == {"gin"}
    colada = facts(BY_NAME["Piña Colada"])
    assert colada.levels["sweet"] >= 2 and colada.levels["creamy"] >= 2
    assert facts(BY_NAME["Espresso Martini"]).levels["coffee"] == 3.0
    assert facts(BY_NAME["Aperol Spritz"]).levels["floral"] == 0.0  # "prosecco" holds "rose": not floral


def test_an_ingredient_without_traits_makes_its_drink_not_alcohol_free() -> None:
    drink = {"id": "x", "name": "Mystery", "ingredients": [{"name": "Cordial", "amount": 30, "unit": "ml"}]}
    unknown = MenuDrink({**drink, "available": True}, (IngredientTraits("Cordial", known=False),))
    assert not facts(unknown).alcohol_free
    assert violation(unknown, facts(unknown), TasteProfile(alcohol_free=True)) == "contains alcohol"
    # Nor is it safe for anyone avoiding an allergen: its contents are unknown.
    assert violation(unknown, facts(unknown), TasteProfile(avoid=("peanuts",))) is not None
    assert violation(unknown, facts(unknown), TasteProfile(avoid=("lime juice",))) is None


def test_violations_name_the_rule() -> None:
    sour = BY_NAME["Whiskey Sour"]
    assert violation(sour, facts(sour), TasteProfile(avoid=("egg",))) == "contains egg"
    assert violation(sour, facts(sour), TasteProfile(avoid=("Bourbon",))) == "contains bourbon"
    assert violation(sour, facts(sour), TasteProfile(alcohol_free=True)) == "contains alcohol"
    assert violation(sour, facts(sour), TasteProfile(avoid=("dairy",))) is None
    pisco = BY_NAME["Pisco Sour"]  # pisco is out of stock in the seed
    assert violation(pisco, facts(pisco), TasteProfile()) == "not available now"


# ---------------------------------------------------------------- ranking and reasons


def test_the_done_condition_egg_avoider_who_dislikes_sweet() -> None:
    profile = TasteProfile(avoid=("egg",), dislikes=("sweet",))
    history = History(ratings={"Daiquiri": 1, "Virgin Piña Colada": 1})
    picks = names(recommend(MENU, profile, 60, history=history))
    assert picks and "Whiskey Sour" not in picks and "Piña Colada" not in picks


def test_a_liked_drink_explains_its_neighbours() -> None:
    picks = recommend(MENU, TasteProfile(likes=("bitter",)), 5, history=History(ratings={"Negroni": 1}))
    boulevardier = next(p for p in picks if p.drink["name"] == "Boulevardier")
    assert "bitter and stirred, like the Negroni you liked" in boulevardier.reasons
    assert picks[0].score >= picks[-1].score and not any(p.fallback for p in picks)


def test_spirits_from_the_profile_and_from_a_wish_read_differently() -> None:
    mine = recommend(MENU, TasteProfile(spirits=("gin",)), 3)
    assert all("gin, one of your spirits" in p.reasons for p in mine)
    asked = recommend(MENU, TasteProfile(), 3, extra=TasteProfile(spirits=("gin",), likes=("sour",)))
    assert "gin, as you asked" in asked[0].reasons and "sour, as you asked" in asked[0].reasons


def test_a_wish_adds_hard_rules_it_never_removes_them() -> None:
    profile = TasteProfile(avoid=("egg",), alcohol_free=True)
    picks = recommend(MENU, profile, 20, extra=TasteProfile(avoid=("mint",), alcohol_free=False, spirits=("gin",)))
    assert picks
    for pick in picks:
        item = BY_NAME[pick.drink["name"]]
        assert facts(item).alcohol_free and "egg" not in facts(item).flags
        assert "mint" not in facts(item).names


def test_thumbs_down_and_plainly_disliked_drinks_are_never_suggested() -> None:
    picks = names(recommend(MENU, TasteProfile(likes=("bitter",)), 60, history=History(ratings={"Negroni": -1})))
    assert "Negroni" not in picks
    creamy = names(recommend(MENU, TasteProfile(dislikes=("creamy",)), 60))
    assert not set(creamy) & {"White Russian", "Brandy Alexander", "Grasshopper", "Piña Colada"}


def test_past_orders_pull_their_neighbours_up() -> None:
    plain = names(recommend(MENU, TasteProfile(), 5))
    regular = recommend(MENU, TasteProfile(), 5, history=History(orders={"Old Fashioned": 3}))
    assert names(regular) != plain
    assert {"Manhattan", "Sazerac"} & set(names(regular)[:3])
    assert any("like the Old Fashioned you ordered" in r for p in regular for r in p.reasons)


def test_nothing_matching_the_taste_gives_the_closest_marked_fallback() -> None:
    menu = seed_menu(out_of_stock=("Mezcal",))
    picks = recommend(menu, TasteProfile(spirits=("mezcal",)), 3)
    assert picks and all(p.fallback for p in picks)
    assert picks[0].reasons[0].startswith("nothing on the menu matches your taste right now")


def test_nothing_passing_the_hard_rules_is_an_empty_list() -> None:
    avoid = ("lime juice", "lemon juice", "sulphites", "soda water", "ginger ale", "tomato juice")
    profile = TasteProfile(alcohol_free=True, avoid=avoid)
    assert recommend(MENU, profile, 5) == []
    assert "ask the bartender" in nothing_fits_message(profile)


def test_a_new_guest_sees_the_menus_range() -> None:
    picks = recommend(MENU, TasteProfile(), 7)
    assert len({p.drink["section_id"] for p in picks}) == 7
    assert all(p.reasons for p in picks)


def test_limits() -> None:
    assert recommend(MENU, TasteProfile(), 0) == []
    assert len(recommend(MENU, TasteProfile(), 3)) == 3
    assert len(similar(MENU, "Negroni", 2) or []) == 2


def test_similar_drinks() -> None:
    picks = similar(MENU, "Negroni", 3)
    assert picks is not None and names(picks)[0] == "Boulevardier"
    assert all(p.drink["available"] and p.drink["name"] != "Negroni" for p in picks)
    assert similar(MENU, "no such drink", 3) is None
    assert names(similar(MENU, "Old Fashioned", 2) or []) == ["Manhattan", "Sazerac"]


# ---------------------------------------------------------------- properties: a hard rule is never broken

INGREDIENT_NAMES = [f"ingredient {i}" for i in range(12)]
FLAGS = list(EXCLUDABLE_FLAGS)

ingredient_traits = st.builds(
    IngredientTraits,
    name=st.sampled_from(INGREDIENT_NAMES),
    optional=st.booleans(),
    category=st.sampled_from(["spirit", "liqueur", "juice", "syrup", "other"]),
    flavour=st.dictionaries(st.sampled_from(FLAVOURS), st.integers(0, 3), max_size=4),
    contains_alcohol=st.booleans(),
    allergens=st.frozensets(st.sampled_from(ALLERGENS), max_size=3),
    vegan=st.booleans(),
    known=st.booleans() | st.just(True),
)


@st.composite
def menus(draw: Any) -> list[MenuDrink]:
    count = draw(st.integers(0, 10))
    menu = []
    for index in range(count):
        parts = draw(st.lists(ingredient_traits, min_size=1, max_size=5, unique_by=lambda t: t.name))
        recipe = [
            {
                "name": t.name,
                "amount": draw(st.none() | st.floats(0, 200, allow_nan=False)),
                "unit": draw(st.sampled_from(["ml", "dash", "top", "", "leaves", "rim", "cups"])),
                "optional": t.optional,
            }
            for t in parts
        ]
        drink = {
            "id": f"drink-{index}",
            "section_id": f"section-{draw(st.integers(0, 3))}",
            "name": f"Drink {index}",
            "ingredients": recipe,
            "recipe_steps": draw(st.lists(st.sampled_from(["Shake.", "Stir.", "Top with soda."]), max_size=2)),
            "tags": draw(st.lists(st.sampled_from([*TASTE_WORDS, "stirred", "highball", "bittersweet"]), max_size=3)),
            "abv": draw(st.none() | st.floats(0, 45, allow_nan=False)),
            "available": draw(st.booleans()),
            "allergens": sorted({a for t in parts for a in t.allergens}),
            "alcohol_free": not any(t.contains_alcohol or not t.known for t in parts),
        }
        menu.append(MenuDrink(drink, tuple(parts)))
    return menu


profiles = st.builds(
    TasteProfile,
    spirits=st.lists(st.sampled_from(SPIRITS), max_size=3).map(tuple),
    likes=st.lists(st.sampled_from(TASTE_WORDS), max_size=3).map(tuple),
    dislikes=st.lists(st.sampled_from(TASTE_WORDS), max_size=3).map(tuple),
    strength=st.none() | st.sampled_from(["light", "medium", "strong"]),
    avoid=st.lists(st.sampled_from(FLAGS + INGREDIENT_NAMES + [n.upper() for n in INGREDIENT_NAMES]), max_size=4).map(
        tuple
    ),
    alcohol_free=st.booleans(),
)


def broken(item: MenuDrink, profile: TasteProfile) -> list[str]:
    """The hard rules, checked independently of the recommender."""
    avoid = {a.lower() for a in profile.avoid}
    problems = []
    if not item.drink["available"]:
        problems.append("unavailable")
    for t in item.ingredients:  # optional ones included
        if t.name.lower() in avoid:
            problems.append(f"contains {t.name}")
        if set(t.allergens) & avoid or (not t.vegan and NON_VEGAN in avoid):
            problems.append(f"flag in {t.name}")
        if not t.known and avoid & set(EXCLUDABLE_FLAGS):
            problems.append(f"unknown contents of {t.name}")
        if profile.alcohol_free and (t.contains_alcohol or not t.known):
            problems.append(f"alcohol in {t.name}")
    return problems


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    menu=menus(),
    profile=profiles,
    extra=st.none() | profiles,
    limit=st.integers(0, 20),
    thumbs=st.dictionaries(st.sampled_from([f"drink-{i}" for i in range(14)]), st.sampled_from([1, -1]), max_size=4),
    orders=st.dictionaries(st.sampled_from([f"drink-{i}" for i in range(14)]), st.integers(1, 3), max_size=3),
)
def test_no_hard_rule_is_ever_broken(
    menu: list[MenuDrink],
    profile: TasteProfile,
    extra: TasteProfile | None,
    limit: int,
    thumbs: dict[str, int],
    orders: dict[str, int],
) -> None:
    history = History(ratings=thumbs, orders=orders)
    picks = recommend(menu, profile, limit, history=history, extra=extra)
    by_id = {item.id: item for item in menu}
    assert len(picks) <= limit
    assert len({p.drink["id"] for p in picks}) == len(picks)
    for pick in picks:
        item = by_id[pick.drink["id"]]
        assert broken(item, profile) == [], (pick.drink["name"], broken(item, profile))
        if extra is not None:  # a wish's avoid list and alcohol-free hold too
            assert [p for p in broken(item, extra) if p != "unavailable"] == []
        assert thumbs.get(item.id, 0) >= 0
        assert pick.reasons and all(isinstance(r, str) and r for r in pick.reasons)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    # Deterministic: the same input, the same answer.
    again = recommend(menu, profile, limit, history=history, extra=extra)
    assert [(p.drink["id"], p.score, p.reasons) for p in again] == [(p.drink["id"], p.score, p.reasons) for p in picks]
    # Nothing eligible is left out when there is room for it.
    eligible = [
        item
        for item in menu
        if not broken(item, profile) and not (extra and [p for p in broken(item, extra) if p != "unavailable"])
        and thumbs.get(item.id, 0) >= 0
    ]
    if not eligible:
        assert picks == []


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(menu=menus(), limit=st.integers(0, 10), pick=st.integers(0, 13))
def test_similar_only_suggests_available_other_drinks(menu: list[MenuDrink], limit: int, pick: int) -> None:
    target = f"drink-{pick}"
    result = similar(menu, target, limit)
    if all(item.id != target for item in menu):
        assert result is None
        return
    assert result is not None and len(result) <= limit
    for rec in result:
        assert rec.drink["id"] != target and rec.drink["available"]
        assert 0.0 <= rec.score <= 1.0


# ---------------------------------------------------------------- the committed evaluation set


def test_the_evaluation_set_is_well_formed() -> None:
    cases = json.loads(PROFILES.read_text(encoding="utf-8"))["profiles"]
    assert len(cases) >= 40
    seed = load_seed()
    drinks = {d["name"] for d in seed["drinks"]}
    ingredients = {i["name"] for i in seed["ingredients"]}
    families = {case["family"] for case in cases}
    assert set(FAMILIES) <= families
    for case in cases:
        ProfileUpdate.model_validate(case["profile"])  # a profile the API accepts
        assert set(case["ratings"]) <= drinks and set(case["orders"]) <= drinks, case["name"]
        assert set(case["out_of_stock"]) <= ingredients, case["name"]
        assert case["family"] in FAMILIES or case["family"] in ("any", "none"), case["name"]
    for members in FAMILIES.values():
        assert members <= drinks


def test_the_evaluation_has_full_hard_rule_compliance() -> None:
    result = evaluate(repeat=1)
    assert result["violations"] == 0, [row for row in result["rows"] if row["violations"]]
    assert result["compliance"] == 1.0 and result["recommendations_checked"] > 500


# ---------------------------------------------------------------- the database's taste menu is the seed's


def test_the_database_taste_menu_matches_the_seed(db: Any) -> None:
    from chalicelib.menu import taste_menu

    stored = {item.name: item for item in db.read(taste_menu, "/images")}
    for name, seeded in BY_NAME.items():
        if name not in stored:
            continue  # another test may have archived or renamed it
        live = stored[name]
        assert live.drink["allergens"] == seeded.drink["allergens"], name
        assert live.drink["alcohol_free"] == seeded.drink["alcohol_free"], name
        assert facts(live).flags == facts(seeded).flags, name
        assert facts(live).levels == pytest.approx(facts(seeded).levels), name
