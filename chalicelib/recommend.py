"""Drinks for a guest: deterministic, explainable recommendations over the live menu.

Pure Python with plain values in and out (no database, no model): the views load the
menu and the guest's profile and history, and pass them in. See docs/recommendations.md.

Hard rules are filters, applied before anything is scored, and never traded against a
score:

1. only drinks on the menu and available now;
2. never a drink containing anything the guest avoids: an ingredient by name or an
   allergen / dietary flag, optional ingredients included (a garnish or an "optional"
   egg white is still in the glass unless someone remembers to leave it out); a guest
   avoiding any flag never gets a drink with an ingredient whose contents are unknown;
3. alcohol-free when asked: no ingredient contains alcohol.

Then soft preferences rank what is left: spirits, liked and disliked flavours, strength,
thumbs up and down, past orders. A drink that is plainly of a disliked flavour, or that
the guest gave a thumbs down, is not suggested at all (it is never what they want).
When nothing is left, the result is empty: the caller says "ask the bartender". When
drinks are left but none matches the guest's taste, the closest ones come back marked
`fallback` with a reason saying so.

`recommend(menu, profile, limit, history=..., extra=...)` and `similar(menu, drink_id,
limit)` are the API; `MenuDrink.from_row` builds the menu from the drink JSON of
GET /drinks plus each ingredient's traits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# ---------------------------------------------------------------- vocabulary (the API's keys)

ALLERGENS: tuple[str, ...] = (
    "celery",
    "dairy",
    "egg",
    "fish",
    "gluten",
    "peanuts",
    "soy",
    "sulphites",
    "tree_nuts",
)
# Dietary flag usable in `avoid` / `exclude` next to the allergens (not an allergen, so
# never in a drink's `allergens` list).
NON_VEGAN = "non_vegan"
EXCLUDABLE_FLAGS: tuple[str, ...] = (*ALLERGENS, NON_VEGAN)

# What an ingredient is rated on, 0 (none) to 3 (dominant).
FLAVOURS: tuple[str, ...] = ("sweet", "sour", "bitter", "fruity", "herbal", "spicy", "smoky", "creamy", "fizzy")
# What a guest may like or dislike: the flavours plus words derived from ingredients and tags.
TASTE_WORDS: tuple[str, ...] = (
    "sweet",
    "sour",
    "bitter",
    "fruity",
    "herbal",
    "floral",
    "spicy",
    "smoky",
    "creamy",
    "fizzy",
    "savory",
    "coffee",
    "minty",
    "refreshing",
)
SPIRITS: tuple[str, ...] = ("gin", "vodka", "rum", "tequila", "mezcal", "whiskey", "brandy", "pisco", "cachaca")
STRENGTHS: tuple[str, ...] = ("light", "medium", "strong")

# A spirit ingredient's family, from its (lower-case) name.
_SPIRIT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mezcal", re.compile(r"\bmezcal\b")),
    ("tequila", re.compile(r"\btequila\b")),
    ("gin", re.compile(r"\bgin\b|\bgenever\b")),
    ("vodka", re.compile(r"\bvodka\b")),
    ("rum", re.compile(r"\brum\b|\brhum\b")),
    ("whiskey", re.compile(r"whisk|bourbon|\brye\b|scotch")),
    ("brandy", re.compile(r"brandy|cognac|armagnac|calvados")),
    ("pisco", re.compile(r"\bpisco\b")),
    ("cachaca", re.compile(r"cacha[cç]a")),
)
# Words a drink has when one of these ingredients (name contains) or tags is present.
_DERIVED_WORDS: dict[str, tuple[re.Pattern[str] | None, frozenset[str]]] = {
    # word: (ingredient names that carry it, tags that do)
    "floral": (re.compile(r"\b(?:elderflower|violette|rose|lavender|hibiscus)"), frozenset({"floral"})),
    "savory": (re.compile(r"\b(?:tomato|worcestershire|celery|olive|brine)"), frozenset({"savory", "savoury"})),
    "coffee": (re.compile(r"\b(?:coffee|espresso)"), frozenset({"coffee"})),
    "minty": (re.compile(r"\b(?:mint|menthe)"), frozenset({"mint", "minty"})),
    "refreshing": (None, frozenset({"refreshing"})),
}
# Volume (ml) a recipe unit stands for, to weigh ingredients; None amounts count as 10 ml.
_UNIT_ML: dict[str, float] = {
    "ml": 1.0,
    "cl": 10.0,
    "oz": 30.0,
    "dash": 0.8,
    "dashes": 0.8,
    "drop": 0.05,
    "drops": 0.05,
    "barspoon": 5.0,
    "tsp": 5.0,
    "tbsp": 15.0,
    "leaves": 1.5,
    "leaf": 1.5,
    "sprig": 5.0,
    "piece": 4.0,
    "pieces": 4.0,
    "wedge": 10.0,
    "wedges": 10.0,
    "top": 60.0,
    "splash": 15.0,
    "rim": 0.0,
    "pinch": 0.3,
}
_LIGHT_MAX_ABV = 12.0
_STRONG_MIN_ABV = 22.0
# Perceived intensity per flavour. Each ingredient counts by volume times the square of
# its level (a dash of a 3 carries further than a glassful of a 1), then the gain scales
# the root-mean-square back to 0..3. Sourness and bitterness mask sweetness.
_GAIN: dict[str, float] = {
    "sweet": 1.6,
    "sour": 1.7,
    "bitter": 1.7,
    "fruity": 1.4,
    "herbal": 1.4,
    "spicy": 1.4,
    "smoky": 1.6,
    "creamy": 1.5,
    "fizzy": 1.3,
}
_MASKS_SWEET = {"sour": 0.45, "bitter": 0.4}
# Tags the host wrote that second a flavour word.
_TAG_WORDS: dict[str, tuple[str, ...]] = {
    "bittersweet": ("bitter",),
    "citrus": ("sour",),
    "foamy": ("creamy",),
    "bubbly": ("fizzy",),
    "dessert": ("sweet",),
}


# ---------------------------------------------------------------- input values


@dataclass(frozen=True)
class IngredientTraits:
    """One ingredient of one drink, with what the catalog says about it."""

    name: str  # catalog spelling
    optional: bool = False
    category: str = "other"
    flavour: Mapping[str, int] = field(default_factory=dict)
    contains_alcohol: bool = False
    allergens: frozenset[str] = frozenset()
    vegan: bool = True
    known: bool = True  # False: the catalog has no traits for it (treated as alcoholic)


@dataclass(frozen=True)
class MenuDrink:
    """A drink as GET /drinks/{id} returns it, and its ingredients' traits."""

    drink: Mapping[str, Any]
    ingredients: tuple[IngredientTraits, ...]

    @property
    def id(self) -> str:
        return str(self.drink["id"])

    @property
    def name(self) -> str:
        return str(self.drink["name"])

    @cached_property
    def facts(self) -> DrinkFacts:
        """Derived once per menu item (a chat turn asks several times)."""
        return _derive(self)


@dataclass(frozen=True)
class TasteProfile:
    """The guest's stated taste (GET /me/profile), or a wish for one request (`extra`)."""

    spirits: tuple[str, ...] = ()
    likes: tuple[str, ...] = ()
    dislikes: tuple[str, ...] = ()
    strength: str | None = None
    avoid: tuple[str, ...] = ()  # allergen / dietary keys or ingredient names
    alcohol_free: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TasteProfile:
        return cls(
            spirits=tuple(data.get("spirits") or ()),
            likes=tuple(data.get("likes") or ()),
            dislikes=tuple(data.get("dislikes") or ()),
            strength=data.get("strength"),
            avoid=tuple(data.get("avoid") or ()),
            alcohol_free=bool(data.get("alcohol_free")),
        )


@dataclass(frozen=True)
class History:
    """What the guest did: thumbs (drink id -> 1 or -1) and past orders (drink id -> count)."""

    ratings: Mapping[str, int] = field(default_factory=dict)
    orders: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Recommendation:
    drink: Mapping[str, Any]
    score: float
    reasons: tuple[str, ...]
    fallback: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "drink": dict(self.drink),
            "score": self.score,
            "reasons": list(self.reasons),
            "fallback": self.fallback,
        }


# ---------------------------------------------------------------- derived facts about a drink


@dataclass(frozen=True)
class DrinkFacts:
    """What the recommender knows about a drink, all derived from its ingredients (and tags)."""

    flavour: Mapping[str, float]  # 0..3 per FLAVOURS word, perceived
    words: frozenset[str]  # taste words that clearly describe it
    levels: Mapping[str, float]  # 0..3 per TASTE_WORDS
    spirits: frozenset[str]
    names: frozenset[str]  # lower-case ingredient names, optional ones included
    flags: frozenset[str]  # allergens and non_vegan, optional ingredients included
    alcohol_free: bool
    described: bool  # every ingredient has its traits recorded
    strength: str
    abv: float  # the drink's, 0 when alcohol-free
    method: str  # stirred, shaken, built, blended, muddled or ""


def _ml(item: Mapping[str, Any]) -> float:
    amount = item.get("amount")
    unit = str(item.get("unit") or "").strip().lower()
    per_unit = _UNIT_ML.get(unit, 1.0 if unit == "" else 5.0)
    if amount is None:
        return 10.0 if unit not in ("rim",) else 0.0
    return float(amount) * per_unit


def _method(drink: Mapping[str, Any]) -> str:
    tags = {str(t).lower() for t in drink.get("tags") or ()}
    for tag, method in (("stirred", "stirred"), ("muddled", "muddled"), ("highball", "built"), ("spritz", "built")):
        if tag in tags:
            return method
    steps = " ".join(str(s).lower() for s in drink.get("recipe_steps") or ())
    for word, method in (
        ("blend", "blended"),
        ("shake", "shaken"),
        ("top with", "built"),
        ("build", "built"),
        ("stir", "stirred"),
        ("muddle", "muddled"),
    ):
        if word in steps:
            return method
    return "built" if steps else ""


def _strength(drink: Mapping[str, Any], alcohol_free: bool) -> str:
    if alcohol_free:
        return "none"
    abv = drink.get("abv")
    if abv is None:
        return "medium"
    if abv < _LIGHT_MAX_ABV:
        return "light"
    return "strong" if abv >= _STRONG_MIN_ABV else "medium"


def spirit_of(name: str) -> str | None:
    """The spirit family of an ingredient name ("Rye Whiskey" -> "whiskey"), if any."""
    lowered = name.lower()
    for family, pattern in _SPIRIT_PATTERNS:
        if pattern.search(lowered):
            return family
    return None


def facts(item: MenuDrink) -> DrinkFacts:
    """What the recommender knows about a drink: flavour, words, spirits, flags, strength."""
    return item.facts


def _derive(item: MenuDrink) -> DrinkFacts:
    drink = item.drink
    amounts = {str(i.get("name", "")).lower(): _ml(i) for i in drink.get("ingredients") or ()}
    weights: list[tuple[IngredientTraits, float]] = [
        (traits, amounts.get(traits.name.lower(), 10.0)) for traits in item.ingredients
    ]
    total = sum(w for _, w in weights) or 1.0
    squares = dict.fromkeys(FLAVOURS, 0.0)
    for traits, weight in weights:
        for word, level in traits.flavour.items():
            if word in squares:
                squares[word] += level * level * weight
    raw = {word: min(3.0, math.sqrt(squares[word] / total) * _GAIN[word]) for word in FLAVOURS}
    flavour = dict(raw)
    flavour["sweet"] = max(0.0, raw["sweet"] - sum(raw[w] * k for w, k in _MASKS_SWEET.items()))
    names = frozenset(t.name.lower() for t in item.ingredients) | frozenset(amounts)
    tags = {str(t).lower() for t in drink.get("tags") or ()}
    # Tags the host wrote are a second opinion on the flavour words.
    seconded = tags.union(*(_TAG_WORDS.get(tag, ()) for tag in tags))
    for word in FLAVOURS:
        if word in seconded:
            flavour[word] = max(flavour[word], 2.0)
    flavour = {word: round(level, 3) for word, level in flavour.items()}
    levels: dict[str, float] = dict(flavour)
    joined = " | ".join(sorted(names))
    for word, (pattern, word_tags) in _DERIVED_WORDS.items():
        hit = bool(tags & word_tags) or (pattern is not None and pattern.search(joined) is not None)
        levels[word] = 3.0 if hit else 0.0
    alcohol_free = not any(t.contains_alcohol or not t.known for t in item.ingredients)
    if not levels["refreshing"] and (flavour["fizzy"] >= 1.5 or flavour["sour"] >= 1.5) and not alcohol_free:
        abv = drink.get("abv")
        if abv is not None and abv < 15 and flavour["creamy"] < 1:
            levels["refreshing"] = 2.0
    elif not levels["refreshing"] and alcohol_free and (flavour["fizzy"] >= 1.5 or flavour["sour"] >= 1.5):
        levels["refreshing"] = 2.0
    flags: set[str] = set(drink.get("allergens") or ())
    for t in item.ingredients:
        flags |= set(t.allergens)
        if not t.vegan:
            flags.add(NON_VEGAN)
    spirits = frozenset(
        family
        for t in item.ingredients
        if t.category == "spirit" and not t.optional and (family := spirit_of(t.name)) is not None
    )
    return DrinkFacts(
        flavour=flavour,
        words=frozenset(w for w, level in levels.items() if level >= 2.0),
        levels=levels,
        spirits=spirits,
        names=names,
        flags=frozenset(flags),
        alcohol_free=alcohol_free and bool(drink.get("alcohol_free", True)),
        described=all(t.known for t in item.ingredients),
        strength=_strength(drink, alcohol_free),
        abv=0.0 if alcohol_free else float(drink.get("abv") or 15.0),
        method=_method(drink),
    )


# ---------------------------------------------------------------- hard rules


def violation(item: MenuDrink, known: DrinkFacts, profile: TasteProfile) -> str | None:
    """Why this drink may not be suggested to this guest, or None. Checked before scoring."""
    if not item.drink.get("available"):
        return "not available now"
    avoid = {a.strip().lower() for a in profile.avoid}
    flags = avoid & set(EXCLUDABLE_FLAGS)
    if flags & known.flags:
        return "contains " + ", ".join(sorted(flags & known.flags))
    if flags and not known.described:
        return "contains an ingredient whose allergens are not recorded"
    if (avoid - flags) & known.names:
        return "contains " + ", ".join(sorted((avoid - flags) & known.names))
    if profile.alcohol_free and not known.alcohol_free:
        return "contains alcohol"
    return None


def merge(profile: TasteProfile, extra: TasteProfile | None) -> TasteProfile:
    """The guest's profile with a one-off wish on top: avoid lists add up (both are hard
    rules), alcohol-free if either asks, the wish's tastes and strength come first."""
    if extra is None:
        return profile
    return TasteProfile(
        spirits=tuple(dict.fromkeys((*extra.spirits, *profile.spirits))),
        likes=tuple(dict.fromkeys((*extra.likes, *profile.likes))),
        dislikes=tuple(dict.fromkeys((*extra.dislikes, *profile.dislikes))),
        strength=extra.strength or profile.strength,
        avoid=tuple(dict.fromkeys((*profile.avoid, *extra.avoid))),
        alcohol_free=profile.alcohol_free or extra.alcohol_free,
    )


# ---------------------------------------------------------------- similarity


Weights = Mapping[str, float]


def word_weights(all_facts: Iterable[DrinkFacts]) -> dict[str, float]:
    """How telling each taste word is on this menu (inverse document frequency): "bitter"
    or "smoky" says more about a drink than "sweet", which most drinks are a bit."""
    known = list(all_facts)
    count = len(known)
    return {
        word: round(math.log((count + 1) / (sum(1 for f in known if f.levels[word] >= 1.5) + 1)) + 0.3, 4)
        for word in TASTE_WORDS
    }


def similarity(a: DrinkFacts, b: DrinkFacts, weights: Weights | None = None) -> float:
    """0..1: flavour (weighted cosine over the taste words), base spirit, method, strength."""
    w = weights or {}
    va = [a.levels[word] * w.get(word, 1.0) for word in TASTE_WORDS]
    vb = [b.levels[word] * w.get(word, 1.0) for word in TASTE_WORDS]
    dot = sum(x * y for x, y in zip(va, vb, strict=True))
    norm = math.sqrt(sum(x * x for x in va)) * math.sqrt(sum(y * y for y in vb))
    taste = dot / norm if norm else 0.0
    spirit = 1.0 if a.spirits & b.spirits else (0.5 if not a.spirits and not b.spirits else 0.0)
    method = 1.0 if a.method and a.method == b.method else 0.0
    strength = max(0.0, 1.0 - abs(a.abv - b.abv) / 20.0)
    return round(0.6 * taste + 0.15 * spirit + 0.1 * method + 0.15 * strength, 4)


def _shared_words(a: DrinkFacts, b: DrinkFacts) -> list[str]:
    words = [w for w in TASTE_WORDS if w in a.words and w in b.words]
    words.sort(key=lambda w: -min(a.levels[w], b.levels[w]))
    return words[:2]


def _like_reason(known: DrinkFacts, other: DrinkFacts, other_name: str, verb: str) -> str:
    parts = _shared_words(known, other)
    if known.method in ("stirred", "shaken", "blended") and known.method == other.method:
        parts = [*parts[:1], known.method]
    if not parts and known.spirits & other.spirits:
        parts = [f"{sorted(known.spirits & other.spirits)[0]}-based"]
    described = " and ".join(parts[:2]) if parts else "close in style"
    return f"{described}, like the {other_name} you {verb}"


# ---------------------------------------------------------------- recommend


_STRENGTH_RANK = {"none": 0, "light": 1, "medium": 2, "strong": 3}


def _score(
    known: DrinkFacts, item: MenuDrink, profile: TasteProfile, extra: TasteProfile | None,
    references: Sequence[tuple[MenuDrink, DrinkFacts, float, str]], weights: Weights,
) -> tuple[float, list[tuple[float, str]], bool]:
    """(score, weighted reasons, vetoed). Soft preferences only: hard rules ran before."""
    reasons: list[tuple[float, str]] = []
    score = 0.0
    asked = set(extra.spirits) if extra else set()
    wanted = set(profile.spirits)
    if wanted:
        matched = sorted(known.spirits & wanted)
        if matched:
            score += 3.0
            phrase = "as you asked" if set(matched) & asked else "one of your spirits"
            reasons.append((3.0, f"{' and '.join(matched)}, {phrase}"))
        elif known.spirits:
            score -= 1.5
        else:  # no spirit at all: wine or liqueur based, or alcohol-free
            score -= 1.0 if not known.alcohol_free or profile.alcohol_free else 2.0
    for word in dict.fromkeys(profile.dislikes):
        level = known.levels.get(word, 0.0)
        if level >= 2.0:
            return score, reasons, True
        if level >= 1.0:
            score -= 1.2 * level
    liked_hits: list[tuple[float, str]] = []
    for word in dict.fromkeys(profile.likes):
        level = known.levels.get(word, 0.0)
        if level >= 1.0:
            gain = 2.0 * level / 3.0
            score += gain
            liked_hits.append((level, word))
    if liked_hits:
        liked_hits.sort(key=lambda hit: (-hit[0], TASTE_WORDS.index(hit[1])))
        words = [w for _, w in liked_hits[:2]]
        asked_likes = set(extra.likes) if extra else set()
        phrase = "as you asked" if set(words) & asked_likes else "as you like it"
        reasons.append((2.0 + len(words) * 0.1, f"{' and '.join(words)}, {phrase}"))
    if profile.strength in _STRENGTH_RANK:
        gap = abs(_STRENGTH_RANK[known.strength] - _STRENGTH_RANK[profile.strength])
        if gap == 0:
            score += 1.5
            reasons.append((1.0, f"{profile.strength}, the strength you like"))
        elif gap == 1:
            score -= 0.5
        else:
            score -= 2.0
    if profile.alcohol_free:
        reasons.append((0.5, "alcohol-free"))
    best_like: tuple[float, str] | None = None
    for ref_item, ref, weight, verb in references:
        if ref_item.id == item.id:
            if weight > 0 and verb == "liked":
                score += 1.0
                reasons.append((1.2, "you liked it"))
            elif weight > 0:
                score += 0.3
                reasons.append((0.4, "you ordered it before"))
            continue
        sim = similarity(known, ref, weights)
        if weight > 0 and sim >= 0.55:
            gain = weight * 4.0 * (sim - 0.4)
            score += gain
            if best_like is None or gain > best_like[0]:
                best_like = (gain, _like_reason(known, ref, ref_item.name, verb))
        elif weight < 0 and sim >= 0.7:
            score -= 2.0 * (sim - 0.5)
    if best_like is not None:
        reasons.append((2.5 + best_like[0], best_like[1]))
    return round(score, 3), reasons, False


def recommend(
    menu: Iterable[MenuDrink],
    profile: TasteProfile,
    limit: int = 5,
    *,
    history: History | None = None,
    extra: TasteProfile | None = None,
) -> list[Recommendation]:
    """The best `limit` drinks for the guest, best first; [] when no drink passes the hard
    rules (then: ask the bartender). `extra` is a one-off wish (the chat bartender's "something
    with gin"): its avoid list is a hard rule too, its tastes rank first."""
    history = history or History()
    wish = merge(profile, extra)
    items = list(menu)
    known = {item.id: facts(item) for item in items}
    by_id = {item.id: item for item in items}
    references: list[tuple[MenuDrink, DrinkFacts, float, str]] = []
    for drink_id, rating in sorted(history.ratings.items()):
        if drink_id in by_id and rating:
            references.append((by_id[drink_id], known[drink_id], 1.0 if rating > 0 else -1.0, "liked"))
    for drink_id, count in sorted(history.orders.items()):
        if drink_id in by_id and count > 0 and history.ratings.get(drink_id, 0) == 0:
            references.append((by_id[drink_id], known[drink_id], 0.5, "ordered"))
    signals = bool(wish.spirits or wish.likes or wish.strength or references)
    weights = word_weights(known.values())

    scored: list[tuple[float, int, MenuDrink, list[tuple[float, str]]]] = []
    for position, item in enumerate(items):
        facts_ = known[item.id]
        if violation(item, facts_, wish) is not None:
            continue
        if history.ratings.get(item.id, 0) < 0:
            continue  # a thumbs down is never suggested back
        score, reasons, vetoed = _score(facts_, item, wish, extra, references, weights)
        if vetoed:
            continue
        scored.append((score, position, item, reasons))
    # Best first; ties in the host's menu order (classics first in each section).
    scored.sort(key=lambda row: (-row[0], row[1]))
    if not signals:
        scored = _across_sections(scored)  # within each score, so best-first still holds
    top = scored[: max(0, limit)]
    fallback = signals and bool(top) and top[0][0] <= 0.0
    results = []
    for score, _, item, reasons in top:
        ordered = [text for _, text in sorted(reasons, key=lambda r: -r[0])]
        if fallback:
            ordered.insert(0, "nothing on the menu matches your taste right now: this is the closest")
        elif not ordered:
            ordered.append(
                "a house classic to start with: tell us your taste for better picks" if not signals else "a good match"
            )
        results.append(Recommendation(item.drink, round(score, 2), tuple(dict.fromkeys(ordered))[:3], fallback))
    return results


def _across_sections(rows: list[Any]) -> list[Any]:
    """Nothing known about the guest: one drink per section in turn, so the first picks
    show the menu's range instead of its first section."""
    out: list[Any] = []
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end][0] == rows[start][0]:
            end += 1
        queues: dict[str, list[Any]] = {}
        for row in rows[start:end]:
            queues.setdefault(str(row[2].drink.get("section_id")), []).append(row)
        while any(queues.values()):
            for queue in queues.values():
                if queue:
                    out.append(queue.pop(0))
        start = end
    return out


def similar(menu: Iterable[MenuDrink], drink_id: str, limit: int = 5) -> list[Recommendation] | None:
    """The drinks nearest to `drink_id` that are available now, best first; None when the
    drink is not on the menu."""
    items = list(menu)
    target = next((item for item in items if item.id == drink_id), None)
    if target is None:
        return None
    known_all = {item.id: facts(item) for item in items}
    weights = word_weights(known_all.values())
    base = known_all[drink_id]
    scored = []
    for item in items:
        if item.id == drink_id or not item.drink.get("available"):
            continue
        known = known_all[item.id]
        sim = similarity(base, known, weights)
        scored.append((sim, item.name.lower(), item, known))
    scored.sort(key=lambda row: (-row[0], row[1], row[2].id))
    results = []
    for sim, _, item, known in scored[: max(0, limit)]:
        reasons = [_like_reason(known, base, target.name, "looked at").replace(" you looked at", "")]
        if known.spirits & base.spirits:
            reasons.append(f"also {' and '.join(sorted(known.spirits & base.spirits))}")
        results.append(Recommendation(item.drink, round(sim, 2), tuple(dict.fromkeys(reasons)), False))
    return results


def nothing_fits_message(profile: TasteProfile) -> str:
    """What to tell a guest when no drink passes their hard rules."""
    if profile.avoid or profile.alcohol_free:
        return "Nothing on the menu fits what you avoid right now: ask the bartender, they can make something for you."
    return "Nothing on the menu is available right now: ask the bartender."
