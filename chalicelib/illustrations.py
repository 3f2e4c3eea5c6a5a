"""Offline drink illustrations: a deterministic SVG per drink, drawn from its data.

Every drink has a picture even without a photo: the glass it is served in, the colour
its ingredients mix to (a colour per ingredient, else per category, weighted by amount
and by how strongly each one tints), ice when the glass takes it, bubbles for sparkling
drinks, a foam or cream layer, steam for hot drinks, and the garnish, on a calm
Nordic-minimal backdrop in the web app's palette (frontend/src/styles.css: the warm
dark surfaces and the amber light).

Pure Python, no I/O: `render(facts)` is a function of the drink's data, so the same
drink always gives the same bytes, and `illustration_key` names the object by a hash
of exactly what the drawing depends on (a changed recipe gets a new, immutable key).
The SVG has no scripts, no external references and no text: it is shown with <img>.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import images

CONTENT_TYPE = "image/svg+xml"
WIDTH, HEIGHT = 400, 300  # 4:3 like the drink page; the glass stays inside the middle square

# The web app's palette (styles.css :root).
BG_TOP = "#2e231b"  # --surface-2
BG_BOTTOM = "#1d1611"  # --bg-2
TABLE = "#241b15"  # --surface
LINE = "#3d2f24"  # --line
GLASS_LINE = "#f3ead9"  # --text
ACCENT = "#e8a34a"  # --accent

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Tint:
    """How an ingredient colours a drink: its colour and how strongly it tints (0: not at
    all, like soda water; 1: fully, like orange juice; above 1 for a dash that colours a
    whole glass, like grenadine or crème de cassis)."""

    colour: RGB
    strength: float


def _hex(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


# Ingredients by name (lowercase); the seed menu's, and the common ones an admin adds.
INGREDIENT_TINTS: dict[str, Tint] = {
    name: Tint(_hex(colour), strength)
    for name, (colour, strength) in {
        "tequila": ("#f4ead0", 0.05),
        "mezcal": ("#efe3c4", 0.08),
        "gin": ("#eef3ee", 0.03),
        "vodka": ("#f1f3f2", 0.02),
        "citrus vodka": ("#f3f0dc", 0.04),
        "bourbon": ("#b8661f", 0.75),
        "rye whiskey": ("#b0601e", 0.75),
        "scotch whisky": ("#c98a35", 0.6),
        "islay scotch whisky": ("#b9802f", 0.6),
        "irish whiskey": ("#c68a3a", 0.55),
        "white rum": ("#f3efe4", 0.03),
        "dark rum": ("#5a2a10", 0.85),
        "aged rum": ("#9a5521", 0.7),
        "cognac": ("#a9581c", 0.75),
        "pisco": ("#f3efe2", 0.04),
        "cachaça": ("#f1ecdc", 0.04),
        "absinthe": ("#9fc27a", 0.5),
        "orange liqueur": ("#f2dfae", 0.15),
        "coffee liqueur": ("#2a140a", 0.95),
        "campari": ("#c4112b", 1.6),
        "aperol": ("#f26a1b", 0.95),
        "green chartreuse": ("#9bc43a", 0.85),
        "maraschino liqueur": ("#f1ece0", 0.05),
        "crème de violette": ("#9a86d6", 3.0),
        "amaro": ("#6a2f16", 0.8),
        "crème de cacao": ("#e6d6b8", 0.2),
        "crème de menthe": ("#5fc27d", 1.6),
        "crème de cassis": ("#6a1035", 3.0),
        "sweet vermouth": ("#7a1f14", 0.9),
        "dry vermouth": ("#eee8c8", 0.08),
        "lillet blanc": ("#f1d98a", 0.35),
        "prosecco": ("#f2e3a4", 0.25),
        "champagne": ("#f0dd9a", 0.3),
        "angostura bitters": ("#6b1b10", 1.0),
        "creole bitters": ("#9c2219", 1.0),
        "lime juice": ("#d4e58a", 0.55),
        "lemon juice": ("#f4e27a", 0.55),
        "orange juice": ("#f6a623", 0.95),
        "pineapple juice": ("#f5d44a", 0.85),
        "cranberry juice": ("#c0193a", 0.95),
        "tomato juice": ("#b3261e", 1.0),
        "passion fruit juice": ("#f2a20e", 0.9),
        "grapefruit juice": ("#f4a592", 0.7),
        "simple syrup": ("#f5f1e6", 0.02),
        "agave syrup": ("#e9c56a", 0.25),
        "honey syrup": ("#e4a634", 0.5),
        "honey ginger syrup": ("#dc9d36", 0.5),
        "raspberry syrup": ("#d81b4a", 2.0),
        "orgeat": ("#efe6d2", 0.5),
        "grenadine": ("#c5102f", 2.0),
        "demerara syrup": ("#b36a28", 0.5),
        "elderflower syrup": ("#f1efc4", 0.15),
        "soda water": ("#f4f7f7", 0.0),
        "tonic water": ("#eef4f4", 0.02),
        "ginger beer": ("#e9cf86", 0.35),
        "ginger ale": ("#e6b763", 0.45),
        "cola": ("#3b1a0b", 1.0),
        "grapefruit soda": ("#f7dbc4", 0.3),
        "hot water": ("#f4f1e8", 0.0),
        "heavy cream": ("#f7efe0", 0.9),
        "egg white": ("#f6f1e6", 0.1),
        "cream of coconut": ("#f8f4ea", 0.85),
        "white peach purée": ("#f7c9a2", 0.9),
        "espresso": ("#2b150a", 1.0),
        "coffee": ("#3a1c0c", 1.0),
        "worcestershire sauce": ("#3d1a0c", 0.6),
        "hot sauce": ("#c42a12", 0.6),
        "lime": ("#cfe08a", 0.15),
        "mint": ("#7fb069", 0.05),
    }.items()
}
# Anything else by its catalog category.
CATEGORY_TINTS: dict[str, Tint] = {
    "spirit": Tint(_hex("#efe6cf"), 0.1),
    "liqueur": Tint(_hex("#d98b3a"), 0.5),
    "wine": Tint(_hex("#9b2335"), 0.7),
    "bitters": Tint(_hex("#7a1f14"), 1.0),
    "juice": Tint(_hex("#f2c14e"), 0.7),
    "syrup": Tint(_hex("#e8b86b"), 0.3),
    "mixer": Tint(_hex("#f2f2ee"), 0.05),
    "dairy": Tint(_hex("#f6eedf"), 0.9),
    "fruit": Tint(_hex("#f0b37a"), 0.4),
    "herb": Tint(_hex("#7fb069"), 0.05),
    "spice": Tint(_hex("#8a5a2b"), 0.1),
    "other": Tint(_hex("#e9e1cf"), 0.05),
}
CLEAR = _hex("#f3efe4")
SPARKLING = {
    "soda water", "tonic water", "ginger beer", "ginger ale", "cola", "grapefruit soda", "prosecco", "champagne",
}
FOAMING = {"egg white", "aquafaba"}
CREAMY = {"heavy cream", "cream"}
HOT = {"hot water", "coffee", "tea"}
TOP_UP_ML = 90.0  # "top with soda": about a highball's worth
UNIT_ML = {"ml": 1.0, "cl": 10.0, "oz": 30.0, "dash": 1.0, "dashes": 1.0, "barspoon": 5.0, "tsp": 5.0, "tbsp": 15.0}


@dataclass(frozen=True)
class Facts:
    """What the drawing depends on (and nothing else)."""

    glass: str
    garnish: str
    ingredients: tuple[tuple[str, float | None, str | None, bool], ...]  # name, amount, unit, optional
    categories: tuple[tuple[str, str], ...] = field(default=())  # (name_key, category)

    @classmethod
    def from_drink(cls, drink: dict[str, Any], categories: dict[str, str] | None = None) -> Facts:
        raw = drink.get("ingredients")
        if raw is None:
            raw = json.loads(drink.get("ingredients_json") or "[]")
        items = tuple(
            (
                str(item.get("name", "")),
                float(item["amount"]) if isinstance(item.get("amount"), int | float) else None,
                item.get("unit"),
                bool(item.get("optional", False)),
            )
            for item in raw
        )
        names = {name.lower() for name, *_ in items}
        known = tuple(sorted((k, v) for k, v in (categories or {}).items() if k in names))
        return cls(glass=str(drink.get("glass") or ""), garnish=str(drink.get("garnish") or ""), ingredients=items,
                   categories=known)


# The key (version, prefix, hash of the inputs) lives in chalicelib/images.py, so the
# menu routes can name an illustration without importing the drawing code.
inputs_hash = images.illustration_inputs_hash
illustration_key = images.illustration_key
ILLUSTRATION_VERSION = images.ILLUSTRATION_VERSION
ILLUSTRATION_PREFIX = images.ILLUSTRATION_PREFIX


# ------------------------------------------------------------------ colour


def _volume(amount: float | None, unit: str | None, name: str) -> float:
    unit = (unit or "").strip().lower()
    if unit in ("rim", "garnish"):
        return 0.0
    if unit == "top" or (amount is None and name in SPARKLING):
        return TOP_UP_ML
    if amount is None:
        return 0.0
    if unit in ("leaves", "leaf", "sprig", "sprigs", "piece", "pieces", "wedges", "wedge", "slice", "slices"):
        return amount * 0.5  # muddled solids colour a drink a little
    return amount * UNIT_ML.get(unit, 1.0)


def _tint(name: str, categories: dict[str, str]) -> Tint:
    key = name.strip().lower()
    if key in INGREDIENT_TINTS:
        return INGREDIENT_TINTS[key]
    return CATEGORY_TINTS.get(categories.get(key, "other"), CATEGORY_TINTS["other"])


def _floats_cream(facts: Facts) -> bool:
    """Cream on a hot drink (Irish coffee) floats on top instead of mixing in."""
    names = _ingredient_names(facts)
    return bool(names & HOT) and bool(names & CREAMY)


def liquid_colour(facts: Facts) -> tuple[RGB, float]:
    """The mixed colour and its opacity (clear drinks stay pale and see-through)."""
    categories = dict(facts.categories)
    floating = _floats_cream(facts)
    total = weight = 0.0
    mixed = [0.0, 0.0, 0.0]
    for name, amount, unit, _optional in facts.ingredients:
        volume = _volume(amount, unit, name.lower())
        if volume <= 0 or (floating and name.strip().lower() in CREAMY):
            continue
        tint = _tint(name, categories)
        total += volume
        w = volume * tint.strength
        weight += w
        for i in range(3):
            mixed[i] += tint.colour[i] * w
    if weight <= 0:
        return CLEAR, 0.45
    colour = tuple(round(c / weight) for c in mixed)
    tintiness = min(1.0, weight / total) if total else 0.0
    # Strongly coloured ingredients dominate a mix (a dash of grenadine shows), clear ones dilute.
    opacity = 0.6 + 0.36 * (tintiness**0.5)
    return (int(colour[0]), int(colour[1]), int(colour[2])), round(opacity, 3)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _css(c: RGB) -> str:
    return f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}"


# ------------------------------------------------------------------ glasses


@dataclass(frozen=True)
class Glass:
    """A glass in the 400x300 scene: its outline, the inside the liquid fills, the liquid's
    surface height, where the rim is (for garnishes) and whether it takes ice."""

    family: str
    outline: str  # the glass itself (stroked, faintly filled)
    bowl: str  # the inside (the liquid is this, clipped below `level`)
    level: float  # the liquid's surface (y)
    rim: tuple[float, float, float]  # left x, right x, y
    extra: str = ""  # stem, foot, handle ... (stroked only)
    ice: tuple[tuple[float, float, float, float], ...] = ()  # cubes: x, y, size, rotation
    opaque: str = ""  # metal or ceramic: the body's fill (the liquid is hidden)


def _foot(y: float = 246.0, rx: float = 38.0) -> str:
    return f"M{200 - rx},{y} Q200,{y - 7} {200 + rx},{y} Q200,{y + 5} {200 - rx},{y} Z"


GLASSES: dict[str, Glass] = {
    "coupe": Glass(
        "coupe",
        outline="M112,104 C114,150 150,172 200,172 C250,172 286,150 288,104 Z",
        bowl="M116,106 C118,148 152,168 200,168 C248,168 282,148 284,106 Z",
        level=116,
        rim=(112, 288, 104),
        extra=f"M200,172 L200,244 {_foot()}",
    ),
    "nick and nora": Glass(
        "nick and nora",
        outline="M148,88 C148,142 170,168 200,168 C230,168 252,142 252,88 Z",
        bowl="M152,90 C152,140 172,164 200,164 C228,164 248,140 248,90 Z",
        level=104,
        rim=(148, 252, 88),
        extra=f"M200,168 L200,244 {_foot(246, 32)}",
    ),
    "martini": Glass(
        "martini",
        outline="M108,92 L292,92 L200,174 Z",
        bowl="M114,95 L286,95 L200,170 Z",
        level=104,
        rim=(108, 292, 92),
        extra=f"M200,174 L200,244 {_foot(246, 36)}",
    ),
    "flute": Glass(
        "flute",
        outline="M176,46 C174,110 180,160 200,168 C220,160 226,110 224,46 Z",
        bowl="M179,50 C177,110 183,156 200,164 C217,156 223,110 221,50 Z",
        level=62,
        rim=(176, 224, 46),
        extra=f"M200,168 L200,244 {_foot(246, 30)}",
    ),
    "wine": Glass(
        "wine",
        outline="M154,62 C144,128 160,176 200,178 C240,176 256,128 246,62 Z",
        bowl="M158,66 C149,128 164,172 200,174 C236,172 251,128 242,66 Z",
        level=98,
        rim=(154, 246, 62),
        extra=f"M200,178 L200,244 {_foot(246, 34)}",
        ice=((176, 104, 24, -8), (204, 110, 22, 10)),
    ),
    "rocks": Glass(
        "rocks",
        outline="M134,136 L142,246 L258,246 L266,136",
        bowl="M138,140 L145,230 L255,230 L262,140 Z",
        level=160,
        rim=(134, 266, 136),
        extra="M143,230 L257,230",
        ice=((168, 158, 40, -7), (206, 166, 38, 9)),
    ),
    "highball": Glass(
        "highball",
        outline="M160,66 L165,246 L235,246 L240,66",
        bowl="M163,70 L167,234 L233,234 L237,70 Z",
        level=88,
        rim=(160, 240, 66),
        extra="M166,234 L234,234",
        ice=((174, 92, 28, -8), (200, 124, 28, 7), (176, 156, 27, 12), (202, 188, 26, -6)),
    ),
    "collins": Glass(
        "collins",
        outline="M166,44 L169,246 L231,246 L234,44",
        bowl="M169,48 L171,234 L229,234 L231,48 Z",
        level=66,
        rim=(166, 234, 44),
        extra="M170,234 L230,234",
        ice=((176, 72, 26, -8), (200, 104, 25, 7), (177, 136, 25, 12), (200, 168, 24, -6)),
    ),
    "hurricane": Glass(
        "hurricane",
        outline="M170,48 C164,92 148,118 158,156 C166,184 188,192 192,206 L208,206 C212,192 234,184 242,156 "
        "C252,118 236,92 230,48 Z",
        bowl="M173,52 C167,94 152,120 162,155 C170,181 189,189 194,202 L206,202 C211,189 230,181 238,155 "
        "C248,120 233,94 227,52 Z",
        level=70,
        rim=(170, 230, 48),
        extra=f"M194,206 L194,240 M206,206 L206,240 {_foot(246, 34)}",
        ice=((178, 76, 24, -10), (200, 100, 24, 8)),
    ),
    "mug": Glass(
        "mug",
        outline="M148,104 L152,246 L248,246 L252,104",
        bowl="M151,108 L155,236 L245,236 L249,108 Z",
        level=122,
        rim=(148, 252, 104),
        extra="M154,236 L246,236 M251,132 C290,132 292,208 249,208",
    ),
    "julep cup": Glass(
        "julep cup",
        outline="M146,120 L156,246 L244,246 L254,120 Z",
        bowl="M150,124 L159,242 L241,242 L250,124 Z",
        level=124,
        rim=(146, 254, 120),
        extra="M150,132 L250,132",
        opaque="metal",
    ),
    "copper mug": Glass(
        "copper mug",
        outline="M144,118 L150,246 L250,246 L256,118 Z",
        bowl="M148,122 L153,242 L247,242 L252,122 Z",
        level=122,
        rim=(144, 256, 118),
        extra="M255,140 C292,140 292,214 251,214 M256,150 C280,152 280,204 252,204",
        opaque="copper",
        ice=((164, 104, 30, -10), (198, 100, 30, 8), (226, 108, 26, -4)),
    ),
    "tiki mug": Glass(
        "tiki mug",
        outline="M154,84 C144,140 146,206 156,246 L244,246 C254,206 256,140 246,84 Z",
        bowl="M157,88 C148,140 150,204 159,242 L241,242 C250,204 252,140 243,88 Z",
        level=88,
        rim=(154, 246, 84),
        extra="M172,132 L190,132 M210,132 L228,132 M184,166 Q200,178 216,166 M180,204 L220,204 "
        "M182,204 L182,214 M196,204 L196,214 M208,204 L208,214 M218,204 L218,214",
        opaque="ceramic",
    ),
}
# How much larger than drawn each glass is shown (short glasses grow, tall ones fit).
SCALE: dict[str, float] = {
    "coupe": 1.3,
    "nick and nora": 1.25,
    "martini": 1.28,
    "flute": 1.08,
    "wine": 1.15,
    "rocks": 1.42,
    "highball": 1.1,
    "collins": 1.0,
    "hurricane": 1.05,
    "mug": 1.3,
    "julep cup": 1.3,
    "copper mug": 1.3,
    "tiki mug": 1.05,
}
# Glass names as hosts write them -> a family above.
ALIASES = (
    ("nick", "nick and nora"),
    ("coupe", "coupe"),
    ("martini", "martini"),
    ("cocktail", "martini"),
    ("flute", "flute"),
    ("champagne", "flute"),
    ("wine", "wine"),
    ("spritz", "wine"),
    ("copper", "copper mug"),
    ("tiki", "tiki mug"),
    ("julep", "julep cup"),
    ("hurricane", "hurricane"),
    ("poco", "hurricane"),
    ("mug", "mug"),
    ("toddy", "mug"),
    ("collins", "collins"),
    ("zombie", "collins"),
    ("highball", "highball"),
    ("tall", "highball"),
    ("rocks", "rocks"),
    ("old fashioned", "rocks"),
    ("lowball", "rocks"),
    ("tumbler", "rocks"),
)


def glass_family(glass: str) -> str:
    name = glass.strip().lower()
    for needle, family in ALIASES:
        if needle in name:
            return family
    return "rocks"


# ------------------------------------------------------------------ garnishes

GARNISH_WORDS = (
    ("paper plane", "plane"),
    ("coffee bean", "beans"),
    ("nutmeg", "nutmeg"),
    ("angostura", "drops"),
    ("raspberr", "raspberries"),
    ("cherry", "cherry"),
    ("olive", "olive"),
    ("celery", "celery"),
    ("pineapple", "pineapple"),
    ("cinnamon", "cinnamon"),
    ("ginger", "ginger"),
    ("mint", "mint"),
    ("grapefruit", "grapefruit"),
    ("lime", "lime"),
    ("lemon", "lemon"),
    ("orange", "orange"),
)
CITRUS = {
    "lime": ("#9cc94a", "#d9ecaa"),
    "lemon": ("#f1cf3b", "#fbefb0"),
    "orange": ("#f08a24", "#f9c98d"),
    "grapefruit": ("#ef7c5e", "#f8c2b0"),
}


def garnishes(text: str) -> list[tuple[str, str]]:
    """The garnishes named in `text`, in order: (kind, form) with form wheel/wedge/twist/slice.
    "lemon twist or green olive" is one choice: the first is drawn."""
    text = text.lower().split(" or ")[0]
    found: list[tuple[str, str]] = []
    for part in re.split(r",| and |&", text):
        for needle, kind in GARNISH_WORDS:
            if needle in part:
                form = next((f for f in ("wheel", "wedge", "twist", "peel", "slice", "shell") if f in part), "")
                if kind == "mint" and ("sprig" in part or "generous" in part):
                    form = "sprig"
                found.append((kind, form))
                break
    return found[:2]


def _citrus(kind: str, form: str, x: float, y: float) -> str:
    rind, flesh = CITRUS[kind]
    if form in ("twist", "peel"):
        return (
            f'<path d="M{x - 18},{y - 2} C{x - 8},{y - 22} {x + 8},{y + 14} {x + 22},{y - 10}" fill="none" '
            f'stroke="{rind}" stroke-width="6" stroke-linecap="round"/>'
            f'<path d="M{x - 18},{y - 2} C{x - 8},{y - 22} {x + 8},{y + 14} {x + 22},{y - 10}" fill="none" '
            f'stroke="{flesh}" stroke-width="1.6" stroke-linecap="round" opacity=".8"/>'
        )
    if form in ("wedge", "shell"):
        return (
            f'<path d="M{x - 20},{y} A20,20 0 0 0 {x + 20},{y} Z" fill="{flesh}" stroke="{rind}" stroke-width="4" '
            f'stroke-linejoin="round" transform="rotate(-18 {x} {y})"/>'
            f'<path d="M{x},{y} L{x - 11},{y + 13} M{x},{y} L{x},{y + 16} M{x},{y} L{x + 11},{y + 13}" '
            f'stroke="{rind}" stroke-width="1.2" opacity=".55" transform="rotate(-18 {x} {y})"/>'
        )
    # wheel or slice: a round sitting on the rim
    spokes = " ".join(
        f"M{x},{y} L{x + 13 * c:.1f},{y + 13 * s:.1f}"
        for c, s in ((1, 0), (0.5, 0.866), (-0.5, 0.866), (-1, 0), (-0.5, -0.866), (0.5, -0.866))
    )
    return (
        f'<circle cx="{x}" cy="{y}" r="18" fill="{flesh}" stroke="{rind}" stroke-width="4"/>'
        f'<path d="{spokes}" stroke="{rind}" stroke-width="1.2" opacity=".55"/>'
    )


def _mint(x: float, y: float, sprig: bool) -> str:
    leaves = [(-12, -6, -35), (10, -10, 30), (-2, -22, -5)] + ([(-16, -24, -50), (14, -28, 40)] if sprig else [])
    parts = [f'<path d="M{x},{y + 6} L{x},{y - 24}" stroke="#5c8a45" stroke-width="2"/>'] if sprig else []
    for dx, dy, rot in leaves:
        parts.append(
            f'<ellipse cx="{x + dx}" cy="{y + dy}" rx="7" ry="12" fill="#6fae5a" stroke="#4f8a3e" stroke-width="1.2" '
            f'transform="rotate({rot} {x + dx} {y + dy})"/>'
        )
    return "".join(parts)


def _garnish(kind: str, form: str, glass: Glass, slot: int, surface: float) -> str:
    left, right, rim_y = glass.rim
    # First garnish on the right of the rim, the second on the left.
    x = right - 10 if slot == 0 else left + 16
    y = rim_y
    if kind in CITRUS:
        return _citrus(kind, form or "wheel", x, y)
    if kind == "cherry":
        cx, cy = (x - 6, y - 12) if glass.opaque else (x - 4, y - 8)
        return (
            f'<path d="M{cx},{cy - 8} C{cx + 2},{cy - 26} {cx + 12},{cy - 30} {cx + 18},{cy - 34}" fill="none" '
            f'stroke="#6b4a2a" stroke-width="2" stroke-linecap="round"/>'
            f'<circle cx="{cx}" cy="{cy}" r="10" fill="#b3122e"/>'
            f'<circle cx="{cx - 3}" cy="{cy - 3}" r="2.6" fill="#f5b7c0" opacity=".8"/>'
        )
    if kind == "mint":
        return _mint(x - 6, y - 6, form == "sprig")
    if kind == "olive":
        return (
            f'<path d="M{x + 14},{y - 36} L{x - 30},{y + 30}" stroke="#c9b48a" stroke-width="2.2"/>'
            f'<ellipse cx="{x - 14}" cy="{y + 6}" rx="9" ry="7" fill="#7d8f3a" '
            f'transform="rotate(-40 {x - 14} {y + 6})"/>'
            f'<circle cx="{x - 12}" cy="{y + 4}" r="2.4" fill="#c2452d"/>'
        )
    if kind == "celery":
        return (
            f'<path d="M{x - 16},{y + 40} L{x + 6},{y - 44}" stroke="#9cc25b" stroke-width="9" stroke-linecap="round"/>'
            + "".join(
                f'<ellipse cx="{x + 6 + dx}" cy="{y - 48 + dy}" rx="6" ry="11" fill="#7fb04a" '
                f'transform="rotate({rot} {x + 6 + dx} {y - 48 + dy})"/>'
                for dx, dy, rot in ((-8, 2, -30), (7, -2, 30), (0, -8, 0))
            )
        )
    if kind == "pineapple":
        return (
            f'<path d="M{x - 18},{y + 4} L{x + 20},{y + 4} L{x + 2},{y - 26} Z" fill="#f6d35b" stroke="#d9a92c" '
            f'stroke-width="3" stroke-linejoin="round"/>'
            f'<path d="M{x + 2},{y - 26} L{x - 8},{y - 46} M{x + 2},{y - 26} L{x + 4},{y - 50} M{x + 2},{y - 26} '
            f'L{x + 16},{y - 44}" stroke="#6f9e4a" stroke-width="4" stroke-linecap="round"/>'
        )
    if kind == "cinnamon":
        return (
            f'<path d="M{x - 34},{y + 26} L{x + 4},{y - 40}" stroke="#8a4b22" stroke-width="8" stroke-linecap="round"/>'
            f'<path d="M{x - 34},{y + 26} L{x + 4},{y - 40}" stroke="#b3703a" stroke-width="2.5" '
            f'stroke-linecap="round"/>'
        )
    if kind == "ginger":
        return (
            f'<path d="M{x + 10},{y - 40} L{x - 20},{y + 20}" stroke="#c9b48a" stroke-width="2"/>'
            f'<rect x="{x - 16}" y="{y - 18}" width="16" height="14" rx="3" fill="#e7c26a" stroke="#c99a3c" '
            f'stroke-width="1.5" transform="rotate(-20 {x - 8} {y - 11})"/>'
        )
    if kind == "raspberries":
        return "".join(
            f'<circle cx="{x + dx}" cy="{y - 10 + dy}" r="7" fill="#d0284f"/>'
            f'<circle cx="{x + dx - 2}" cy="{y - 12 + dy}" r="2" fill="#f28aa3" opacity=".8"/>'
            for dx, dy in ((-12, 0), (2, -4), (14, 2))
        )
    if kind == "plane":
        return (
            f'<path d="M{x - 26},{y - 30} L{x + 14},{y - 44} L{x - 6},{y - 18} Z" fill="#f3ead9"/>'
            f'<path d="M{x - 26},{y - 30} L{x - 6},{y - 18} L{x - 8},{y - 30} Z" fill="#cbbfa9"/>'
        )
    cx = (left + right) / 2
    if kind == "beans":
        return "".join(
            f'<ellipse cx="{cx + dx}" cy="{surface + 1}" rx="6" ry="4" fill="#3b2010"/>'
            f'<path d="M{cx + dx - 4},{surface + 1} L{cx + dx + 4},{surface + 1}" stroke="#6b4026" stroke-width="1"/>'
            for dx in (-16, 0, 16)
        )
    if kind == "nutmeg":
        return "".join(
            f'<circle cx="{cx + dx}" cy="{surface + dy}" r="1.6" fill="#8a5a2b"/>'
            for dx, dy in ((-18, 1), (-9, 3), (-2, 0), (6, 2), (14, 1), (21, 3), (-13, 5), (10, 5))
        )
    if kind == "drops":
        return "".join(
            f'<ellipse cx="{cx + dx}" cy="{surface + 2}" rx="4" ry="2.2" fill="#8b1e16"/>' for dx in (-22, -8, 6, 20)
        )
    return ""


# ------------------------------------------------------------------ the scene


def _ingredient_names(facts: Facts) -> set[str]:
    return {name.strip().lower() for name, amount, unit, optional in facts.ingredients if not optional or unit != "rim"}


def _rim_salt(facts: Facts) -> str | None:
    for name, _amount, unit, _optional in facts.ingredients:
        if (unit or "").lower() == "rim":
            return "#fbf7ef" if name.lower() in ("salt", "sugar") else "#e8c98a"
    return None


def _ice(glass: Glass, level: float) -> str:
    parts = []
    for x, y, size, rotation in glass.ice:
        if y + size < level + 6 and not glass.opaque:
            continue
        cx, cy = x + size / 2, y + size / 2
        parts.append(
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="{size * 0.22:.1f}" fill="#ffffff" '
            f'fill-opacity=".2" stroke="#ffffff" stroke-opacity=".5" stroke-width="1.5" '
            f'transform="rotate({rotation} {cx} {cy})"/>'
            f'<path d="M{x + size * 0.25},{y + size * 0.3} L{x + size * 0.45},{y + size * 0.22}" stroke="#ffffff" '
            f'stroke-opacity=".7" stroke-width="2" stroke-linecap="round" transform="rotate({rotation} {cx} {cy})"/>'
        )
    return "".join(parts)


def _bubbles(glass: Glass, level: float, seed: int) -> str:
    left, right, _ = glass.rim
    bottom = 232
    parts = []
    for i in range(9):
        h = (seed >> (i * 3)) & 0xFF
        x = left + 14 + ((h * 37 + i * 53) % max(1, int(right - left - 28)))
        y = level + 10 + ((h * 11 + i * 29) % max(1, int(bottom - level - 30)))
        r = 1.4 + (h % 3) * 0.6
        parts.append(f'<circle cx="{x}" cy="{y}" r="{r:.1f}" fill="none" stroke="#ffffff" stroke-opacity=".55"/>')
    return "".join(parts)


def _steam(glass: Glass) -> str:
    left, right, rim_y = glass.rim
    cx = (left + right) / 2
    return "".join(
        f'<path d="M{cx + dx},{rim_y - 10} C{cx + dx - 10},{rim_y - 26} {cx + dx + 10},{rim_y - 38} '
        f'{cx + dx},{rim_y - 56}" fill="none" stroke="{GLASS_LINE}" stroke-opacity=".28" stroke-width="3" '
        f'stroke-linecap="round"/>'
        for dx in (-22, 0, 22)
    )


def _surface_ellipse(glass: Glass, level: float) -> tuple[float, float]:
    """The liquid's surface: centre x and half width at `level` (from the rim's width)."""
    left, right, rim_y = glass.rim
    cx = (left + right) / 2
    half = (right - left) / 2
    if glass.family in ("coupe", "nick and nora", "wine", "hurricane"):
        depth = 62 if glass.family != "hurricane" else 120
        half *= max(0.35, 1 - ((level - rim_y) / depth) ** 2 * 0.9)
    elif glass.family == "martini":
        half *= max(0.1, 1 - (level - rim_y) / 80)
    elif glass.family == "flute":
        half *= 0.95
    return cx, half - 4


def render(facts: Facts) -> str:
    """The drink's illustration as a standalone SVG document (400x300, no text)."""
    glass = GLASSES[glass_family(facts.glass)]
    colour, opacity = liquid_colour(facts)
    names = _ingredient_names(facts)
    hot = bool(names & HOT)
    sparkling = bool(names & SPARKLING)
    foam = bool(names & FOAMING)
    cream = bool(names & CREAMY)
    seed = int(hashlib.sha256(repr(facts).encode()).hexdigest()[:8], 16)
    level = glass.level
    cx, half = _surface_ellipse(glass, level)
    deep = _mix(colour, (20, 12, 8), 0.22)
    light = _mix(colour, (255, 250, 240), 0.3)
    glow = _mix(_hex(ACCENT), colour, 0.35)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-hidden="true">',
        "<defs>",
        f'<linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{BG_TOP}"/>'
        f'<stop offset="1" stop-color="{BG_BOTTOM}"/></linearGradient>',
        f'<radialGradient id="glow" cx="0.5" cy="0.45" r="0.5"><stop offset="0" stop-color="{_css(glow)}" '
        f'stop-opacity=".34"/><stop offset="1" stop-color="{_css(glow)}" stop-opacity="0"/></radialGradient>',
        f'<linearGradient id="liquid" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{_css(light)}"/>'
        f'<stop offset=".45" stop-color="{_css(colour)}"/><stop offset="1" stop-color="{_css(deep)}"/>'
        "</linearGradient>",
        f'<clipPath id="inside"><path d="{glass.bowl}"/></clipPath>',
        '<linearGradient id="sheen" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#ffffff" '
        'stop-opacity="0"/><stop offset=".5" stop-color="#ffffff" stop-opacity=".16"/><stop offset="1" '
        'stop-color="#ffffff" stop-opacity="0"/></linearGradient>',
    ]
    if glass.opaque:
        body = {"metal": ("#d9d3c9", "#8f877c"), "copper": ("#d98a55", "#8a4526"), "ceramic": ("#5f8f7a", "#2f5a4a")}
        top, bottom = body[glass.opaque]
        out.append(
            f'<linearGradient id="body" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="{bottom}"/>'
            f'<stop offset=".35" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/></linearGradient>'
        )
    out.append("</defs>")
    # Backdrop: a calm wall, a soft pool of amber light, a table edge.
    out.append(f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#bg)"/>')
    out.append('<ellipse cx="200" cy="150" rx="190" ry="150" fill="url(#glow)"/>')
    out.append(f'<rect y="246" width="{WIDTH}" height="54" fill="{TABLE}"/>')
    out.append(f'<path d="M0,246 H{WIDTH}" stroke="{LINE}" stroke-width="2"/>')
    scale = SCALE.get(glass.family, 1.0)
    out.append(f'<ellipse cx="200" cy="250" rx="{74 * scale:.0f}" ry="6" fill="#000000" opacity=".28"/>')
    # The glass stands on the table edge; small glasses are drawn larger so every card reads.
    out.append(f'<g transform="translate(200 246) scale({scale}) translate(-200 -246)">')

    if glass.opaque:
        # Metal, copper or ceramic: the body hides the drink; crushed ice or the liquid shows at the top.
        out.append(f'<path d="{glass.outline}" fill="url(#body)"/>')
        if glass.opaque == "metal":  # frost on a julep cup
            out.append(
                "".join(
                    f'<circle cx="{156 + (i * 37) % 88}" cy="{140 + (i * 53) % 96}" r="1.4" fill="#ffffff" '
                    f'opacity=".55"/>'
                    for i in range(26)
                )
            )
        left, right, rim_y = glass.rim
        out.append(
            f'<ellipse cx="{(left + right) / 2}" cy="{rim_y}" rx="{(right - left) / 2 - 3}" ry="7" '
            f'fill="{_css(colour)}" fill-opacity="{max(opacity, 0.7)}"/>'
        )
        if glass.opaque == "metal":  # a dome of crushed ice
            out.append(
                "".join(
                    f'<circle cx="{left + 16 + (i * 29) % int(right - left - 30)}" cy="{rim_y - 4 - (i * 7) % 14}" '
                    f'r="{6 + i % 3}" fill="#f4f7f7" fill-opacity=".75"/>'
                    for i in range(12)
                )
            )
        out.append(_ice(glass, rim_y))
        out.append(
            f'<path d="{glass.outline}" fill="none" stroke="{GLASS_LINE}" stroke-opacity=".35" stroke-width="2" '
            f'stroke-linejoin="round"/>'
        )
        out.append(
            f'<path d="{glass.extra}" fill="none" stroke="{GLASS_LINE}" stroke-opacity=".45" stroke-width="3" '
            f'stroke-linecap="round" stroke-linejoin="round"/>'
        )
    else:
        # Glass: the faint body, the liquid inside it, ice and bubbles, then the outline on top.
        out.append(f'<path d="{glass.bowl}" fill="#ffffff" fill-opacity=".05"/>')
        out.append(
            f'<g clip-path="url(#inside)"><rect x="0" y="{level}" width="{WIDTH}" height="{HEIGHT - level}" '
            f'fill="url(#liquid)" fill-opacity="{opacity}"/>'
        )
        top_layer = 0.0
        if cream or foam:
            top_layer = 12 if foam else 16
            out.append(
                f'<rect x="0" y="{level}" width="{WIDTH}" height="{top_layer}" fill="#f7efe0" '
                f'fill-opacity="{0.92 if cream else 0.85}"/>'
            )
        if sparkling:
            out.append(_bubbles(glass, level, seed))
        out.append(_ice(glass, level))
        # A vertical sheen: the glass catching the light.
        left, right, rim_y = glass.rim
        out.append(
            f'<path d="M{left + (right - left) * 0.2},{rim_y + 6} L{left + (right - left) * 0.2 + 3},{rim_y + 140}" '
            f'stroke="#ffffff" stroke-opacity=".2" stroke-width="6" stroke-linecap="round"/>'
        )
        out.append("</g>")
        surface_fill = "#f7efe0" if (cream or foam) else _css(light)
        out.append(
            f'<ellipse cx="{cx}" cy="{level}" rx="{half:.1f}" ry="4" fill="{surface_fill}" '
            f'fill-opacity="{0.95 if (cream or foam) else min(1.0, opacity + 0.1)}"/>'
        )
        out.append(
            f'<path d="{glass.outline}" fill="none" stroke="{GLASS_LINE}" stroke-opacity=".62" stroke-width="2.4" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
        out.append(
            f'<ellipse cx="{(left + right) / 2}" cy="{rim_y}" rx="{(right - left) / 2}" ry="5" fill="none" '
            f'stroke="{GLASS_LINE}" stroke-opacity=".5" stroke-width="1.6"/>'
        )
        out.append(
            f'<path d="{glass.extra}" fill="none" stroke="{GLASS_LINE}" stroke-opacity=".62" stroke-width="2.4" '
            f'stroke-linecap="round" stroke-linejoin="round"/>'
        )
        salt = _rim_salt(facts)
        if salt:
            out.append(
                f'<path d="M{left + 6},{rim_y + 1} A{(right - left) / 2 - 6},5 0 0 0 {right - 6},{rim_y + 1}" '
                f'fill="none" stroke="{salt}" stroke-width="4" stroke-dasharray="2 2" stroke-linecap="round"/>'
            )
    if hot:
        out.append(_steam(glass))
    surface = glass.rim[2] if glass.opaque else level
    for slot, (kind, form) in enumerate(garnishes(facts.garnish)):
        out.append(_garnish(kind, form, glass, slot, surface))
    out.append("</g></svg>")
    return "".join(out)


def render_drink(drink: dict[str, Any], categories: dict[str, str] | None = None) -> str:
    return render(Facts.from_drink(drink, categories))


def families() -> Iterable[str]:
    return GLASSES.keys()
