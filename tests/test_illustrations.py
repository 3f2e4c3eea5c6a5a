"""Offline illustrations (chalicelib/illustrations.py): every glass type draws a valid,
deterministic, self-contained SVG; the colour comes from the ingredients; the key hashes
exactly what the drawing depends on."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chalicelib import illustrations
from chalicelib.illustrations import Facts, garnishes, glass_family, liquid_colour, render

SVG = "{http://www.w3.org/2000/svg}"
SEED = json.loads((Path(__file__).resolve().parent.parent / "sql" / "seed" / "menu.json").read_text())
SEED_CATEGORIES = {i["name"].lower(): i["category"] for i in SEED["ingredients"]}


def facts(glass: str = "rocks", garnish: str = "", *ingredients: tuple[str, float | None, str | None]) -> Facts:
    return Facts.from_drink(
        {
            "glass": glass,
            "garnish": garnish,
            "ingredients": [{"name": n, "amount": a, "unit": u, "optional": False} for n, a, u in ingredients]
            or [{"name": "Gin", "amount": 50, "unit": "ml", "optional": False}],
        },
        SEED_CATEGORIES,
    )


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag == f"{SVG}svg"
    return root


def assert_self_contained(root: ET.Element) -> None:
    """Shown with <img>: no scripts, no text, no references outside the document."""
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        assert tag not in ("script", "text", "foreignObject", "image", "a", "style"), tag
        for name, value in element.attrib.items():
            assert not name.startswith("on"), name
            assert "href" not in name, name
            assert "http" not in value or name == "xmlns", (name, value)


SEED_GLASSES = sorted({drink["glass"] for drink in SEED["drinks"]})


@pytest.mark.parametrize("glass", [*illustrations.GLASSES, *SEED_GLASSES, "Coupe glass", "a jam jar"])
def test_every_glass_type_draws_a_valid_self_contained_svg(glass: str) -> None:
    svg = render(facts(glass, "lime wheel", ("Tequila", 50, "ml"), ("Lime Juice", 20, "ml")))
    root = parse(svg)
    assert root.attrib["viewBox"] == "0 0 400 300"
    assert_self_contained(root)
    assert len(list(root.iter(f"{SVG}path"))) >= 3  # backdrop line, glass, its stem or base at least
    assert svg == render(facts(glass, "lime wheel", ("Tequila", 50, "ml"), ("Lime Juice", 20, "ml")))


def test_each_family_has_its_own_shape() -> None:
    outlines = {family: glass.outline for family, glass in illustrations.GLASSES.items()}
    assert len(set(outlines.values())) == len(outlines)
    for family in outlines:
        assert f'd="{outlines[family]}"' in render(facts(family))


@pytest.mark.parametrize(
    ("glass", "family"),
    [
        ("coupe", "coupe"),
        ("Nick and Nora", "nick and nora"),
        ("Copper Mug", "copper mug"),
        ("tiki mug", "tiki mug"),
        ("mug", "mug"),
        ("julep cup", "julep cup"),
        ("Collins", "collins"),
        ("champagne flute", "flute"),
        ("martini", "martini"),
        ("double old fashioned", "rocks"),
        ("", "rocks"),
        ("a jam jar", "rocks"),
    ],
)
def test_glass_names_map_to_families(glass: str, family: str) -> None:
    assert glass_family(glass) == family


def test_every_seeded_drink_draws_and_its_key_is_stable() -> None:
    keys = set()
    for drink in SEED["drinks"]:
        svg = illustrations.render_drink(drink, SEED_CATEGORIES)
        assert_self_contained(parse(svg))
        assert svg == illustrations.render_drink(json.loads(json.dumps(drink)), SEED_CATEGORIES)
        recipe = json.dumps(drink["ingredients"])
        keys.add(illustrations.illustration_key("d", drink["glass"], drink["garnish"], recipe))
    assert len(keys) == len(SEED["drinks"])  # every drink looks like itself


def test_the_key_hashes_what_the_drawing_reads() -> None:
    recipe = json.dumps([{"name": "Gin", "amount": 50, "unit": "ml", "optional": False}])
    key = illustrations.illustration_key("abc", "rocks", "lime wheel", recipe)
    assert key.startswith("drink-images/illustrations/abc-") and key.endswith(".svg")
    assert key == illustrations.illustration_key("abc", "rocks", "lime wheel", recipe)
    assert key != illustrations.illustration_key("abc", "coupe", "lime wheel", recipe)
    assert key != illustrations.illustration_key("abc", "rocks", "orange twist", recipe)
    assert key != illustrations.illustration_key("abc", "rocks", "lime wheel", recipe.replace("50", "60"))
    assert key != illustrations.illustration_key("xyz", "rocks", "lime wheel", recipe)


def test_the_colour_is_mixed_from_the_ingredients_by_amount() -> None:
    negroni, negroni_alpha = liquid_colour(facts("rocks", "", ("Gin", 30, "ml"), ("Campari", 30, "ml"),
                                                 ("Sweet Vermouth", 30, "ml")))
    assert negroni[0] > 2 * negroni[1]  # red
    mimosa, _ = liquid_colour(facts("flute", "", ("Orange Juice", 75, "ml"), ("Champagne", 75, "ml")))
    assert mimosa[0] > mimosa[1] > mimosa[2]  # orange
    grasshopper, _ = liquid_colour(facts("coupe", "", ("Crème de Menthe", 30, "ml"), ("Heavy Cream", 10, "ml")))
    assert grasshopper[1] > grasshopper[0]  # green
    soda, soda_alpha = liquid_colour(facts("highball", "", ("Soda Water", 150, "ml")))
    assert soda_alpha < negroni_alpha  # a clear drink stays see-through
    # A dash tints a whole glass only when it is a strong colour; amounts weigh.
    more_oj, _ = liquid_colour(facts("highball", "", ("Orange Juice", 120, "ml"), ("Cola", 10, "ml")))
    more_cola, _ = liquid_colour(facts("highball", "", ("Orange Juice", 10, "ml"), ("Cola", 120, "ml")))
    assert sum(more_oj) > sum(more_cola)


def test_an_unknown_ingredient_takes_its_category_colour() -> None:
    plain = Facts.from_drink({"glass": "rocks", "ingredients": [{"name": "House Beet Shrub", "amount": 40}]}, {})
    juice = Facts.from_drink(
        {"glass": "rocks", "ingredients": [{"name": "House Beet Shrub", "amount": 40}]}, {"house beet shrub": "juice"}
    )
    assert liquid_colour(plain) != liquid_colour(juice)
    assert liquid_colour(juice)[0] == illustrations.CATEGORY_TINTS["juice"].colour


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lime wheel", [("lime", "wheel")]),
        ("mint sprig and lime wheel", [("mint", "sprig"), ("lime", "wheel")]),
        ("lemon twist or green olive", [("lemon", "twist")]),
        ("orange slice and cocktail cherry", [("orange", "slice"), ("cherry", "")]),
        ("celery stalk and lemon wedge", [("celery", ""), ("lemon", "wedge")]),
        ("three coffee beans", [("beans", "")]),
        ("Angostura drops on the foam", [("drops", "")]),
        ("clove-studded lemon wheel and cinnamon stick", [("lemon", "wheel"), ("cinnamon", "")]),
        ("none", []),
        ("", []),
    ],
)
def test_garnishes_are_read_from_the_text(text: str, expected: list[tuple[str, str]]) -> None:
    assert garnishes(text) == expected


def test_every_seeded_garnish_is_drawn() -> None:
    for drink in SEED["drinks"]:
        if drink["garnish"] in ("none", ""):
            continue
        assert garnishes(drink["garnish"]), drink["garnish"]


def test_ice_bubbles_foam_and_steam_follow_the_recipe() -> None:
    on_ice = render(facts("rocks", "", ("Bourbon", 60, "ml")))
    straight_up = render(facts("coupe", "", ("Bourbon", 60, "ml")))
    assert on_ice.count('fill-opacity=".2"') >= 1 and straight_up.count('fill-opacity=".2"') == 0
    fizzy = render(facts("highball", "", ("Gin", 50, "ml"), ("Tonic Water", 150, "ml")))
    still = render(facts("highball", "", ("Gin", 50, "ml"), ("Orange Juice", 150, "ml")))
    assert fizzy.count('stroke-opacity=".55"') > still.count('stroke-opacity=".55"')
    hot = render(facts("mug", "", ("Coffee", 120, "ml"), ("Heavy Cream", 30, "ml")))
    cold = render(facts("mug", "", ("Coffee", 120, "ml")))
    assert 'stroke-opacity=".28"' in hot and "#f7efe0" in hot  # steam and the cream float
    assert "#f7efe0" not in cold


def test_the_backdrop_uses_the_web_app_palette() -> None:
    css = (Path(__file__).resolve().parent.parent / "frontend" / "src" / "styles.css").read_text()
    svg = render(facts())
    for variable, colour in (("--surface-2", illustrations.BG_TOP), ("--bg-2", illustrations.BG_BOTTOM),
                             ("--surface", illustrations.TABLE)):
        assert f"{variable}: {colour};" in css
        assert colour in svg
