"""Photo prompts for new drinks: Bedrock (Converse API) in AWS, a deterministic offline
writer when no model is configured.

Both writers take the same plain facts about a drink and return 2-3 sentences a
photographer (or an image model) can work from, in one house style: Nordic
minimalism, soft light, a neutral background, minimal garnish. Each writer names its
`source` ("bedrock:<model id>" or "offline") so the admin console can label the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib import aws
from chalicelib.config import settings

SYSTEM_PROMPT = (
    "You are a beverage photographer with a Nordic-minimalist style: soft natural light, "
    "a neutral background, clean lines, and minimal garnish. Given the facts about a drink, "
    "write a photo prompt of 2-3 sentences describing the shot: the glass, the drink's colour, "
    "the garnish, the light, the background and the mood. Answer with the prompt only, "
    "no title, no list, no quotes."
)
MAX_TOKENS = 300
TEMPERATURE = 0.7
OFFLINE_SOURCE = "offline"


@dataclass(frozen=True)
class Ingredient:
    name: str
    category: str = "other"
    optional: bool = False


@dataclass(frozen=True)
class DrinkFacts:
    """What a prompt writer may know about a drink: plain values, no database rows."""

    name: str
    glass: str = ""
    garnish: str = ""
    description: str = ""
    section: str = ""
    ingredients: tuple[Ingredient, ...] = field(default_factory=tuple)
    tags: tuple[str, ...] = field(default_factory=tuple)


class PromptWriterError(Exception):
    """The model answered, but with nothing usable (the event is retried)."""


class PhotoPromptWriter(Protocol):
    @property
    def source(self) -> str: ...

    def write(self, drink: DrinkFacts) -> str: ...


# ------------------------------------------------------------------ text helpers

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [part for part in _SENTENCE_END.split(text) if part]


def at_most_three_sentences(text: str) -> str:
    """A model's answer cleaned up: one paragraph, no wrapping quotes, <= 3 sentences."""
    text = text.strip().strip('"“”').strip()
    return " ".join(sentences(text)[:3])


def drink_facts_text(drink: DrinkFacts) -> str:
    """The user message: the facts, one per line, only those we know."""
    lines = [f"Drink: {drink.name}"]
    if drink.section:
        lines.append(f"Menu section: {drink.section}")
    if drink.description:
        lines.append(f"Description: {drink.description}")
    if drink.ingredients:
        names = [f"{i.name} (optional)" if i.optional else i.name for i in drink.ingredients]
        lines.append("Ingredients: " + ", ".join(names))
    lines.append(f"Glass: {drink.glass or 'not specified'}")
    lines.append(f"Garnish: {drink.garnish or 'none'}")
    if drink.tags:
        lines.append("Tags: " + ", ".join(drink.tags))
    lines.append("Write the 2-3 sentence photo prompt.")
    return "\n".join(lines)


# ------------------------------------------------------------------ Bedrock


class BedrockPromptWriter:
    """Bedrock's Converse API: one request, the first text block of the answer."""

    def __init__(self, model_id: str, client: Any) -> None:
        self.model_id = model_id
        self.client = client

    @property
    def source(self) -> str:
        return f"bedrock:{self.model_id}"

    def request(self, drink: DrinkFacts) -> dict[str, Any]:
        return {
            "modelId": self.model_id,
            "system": [{"text": SYSTEM_PROMPT}],
            "messages": [{"role": "user", "content": [{"text": drink_facts_text(drink)}]}],
            "inferenceConfig": {"maxTokens": MAX_TOKENS, "temperature": TEMPERATURE},
        }

    def write(self, drink: DrinkFacts) -> str:
        # Errors (throttling, access denied, timeouts) propagate: the event is retried.
        response = self.client.converse(**self.request(drink))
        content = response.get("output", {}).get("message", {}).get("content", [])
        # Reasoning models may put other blocks first; the prompt is the first text.
        text = next((block["text"] for block in content if "text" in block), "")
        prompt = at_most_three_sentences(text)
        if not prompt:
            raise PromptWriterError(f"{self.model_id} returned no text (stopReason {response.get('stopReason')})")
        return prompt


# The text model's client options (chalicelib/aws.py makes one client per region, on first use).
BEDROCK_CONFIG: dict[str, Any] = {
    "connect_timeout": 5, "read_timeout": 25, "retries": {"max_attempts": 3, "mode": "standard"},
}


def bedrock_client(region: str) -> Any:
    return aws.client("bedrock-runtime", region=region, config=BEDROCK_CONFIG)


# ------------------------------------------------------------------ offline


# The drink's colour: the first rule whose keyword appears in an ingredient name wins,
# so strongly coloured ingredients come first (a dash of Campari colours a whole Negroni).
COLOUR_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("blue curaçao", "blue curacao"), "electric blue"),
    (("campari",), "ruby red"),
    (("aperol",), "sunset orange"),
    (("crème de violette", "creme de violette", "violet"), "pale violet"),
    (("crème de menthe", "creme de menthe"), "mint green"),
    (("crème de cassis", "creme de cassis", "cassis"), "deep berry purple"),
    (("tomato",), "brick red"),
    (("cranberry",), "cranberry red"),
    (("grenadine", "raspberry"), "rosy pink"),
    (("espresso", "coffee", "cola"), "dark espresso brown"),
    (("crème de cacao", "creme de cacao", "chocolate"), "cocoa brown"),
    (("green chartreuse", "matcha"), "pale chartreuse green"),
    (("sweet vermouth", "amaro"), "deep amber-red"),
    (("orange juice",), "bright orange"),
    (("pineapple", "passion fruit", "mango"), "golden yellow"),
    (("peach",), "pale peach"),
    (("dark rum", "aged rum", "bourbon", "rye", "whisky", "whiskey", "cognac", "brandy", "demerara"), "warm amber"),
    (("prosecco", "champagne", "lillet", "sparkling"), "pale gold"),
    (("lime juice", "lemon juice", "grapefruit", "yuzu"), "pale, cloudy citrus"),
)
CREAMY = ("cream", "milk", "coconut")
# When no rule matches: by the category of the first required ingredient.
CATEGORY_COLOURS = {
    "spirit": "crystal-clear",
    "liqueur": "soft amber",
    "wine": "pale gold",
    "juice": "cloudy pale yellow",
    "dairy": "creamy white",
    "syrup": "pale golden",
    "mixer": "sparkling clear",
}
DEFAULT_COLOUR = "crystal-clear"


def drink_colour(ingredients: tuple[Ingredient, ...]) -> str:
    names = [i.name.lower() for i in ingredients if not i.optional]
    colour = next((c for keywords, c in COLOUR_RULES if any(k in n for n in names for k in keywords)), None)
    creamy = any(k in n for n in names for k in CREAMY)
    if colour is None:
        if creamy:
            return "creamy white"
        first = next((i for i in ingredients if not i.optional), None)
        return CATEGORY_COLOURS.get(first.category, DEFAULT_COLOUR) if first else DEFAULT_COLOUR
    if not creamy:
        return colour
    # Cream softens the colour: "creamy espresso brown", not "creamy dark espresso brown".
    for intensity in ("bright ", "dark ", "deep ", "electric "):
        colour = colour.removeprefix(intensity)
    return f"creamy {colour}"


VESSELS = ("glass", "mug", "cup", "tumbler", "jar")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class OfflinePromptWriter:
    """No model, no network: the same facts always give the same prompt. Labelled
    "offline" so nobody mistakes it for a model's work."""

    source = OFFLINE_SOURCE

    def write(self, drink: DrinkFacts) -> str:
        colour = drink_colour(drink.ingredients)
        glass = drink.glass.strip() or "simple clear glass"
        if not glass.endswith(VESSELS):  # "coupe" -> "coupe glass", "copper mug" stays
            glass = f"{glass} glass"
        if drink.garnish.strip():
            garnish = f"finished with a restrained garnish of {drink.garnish.strip()}"
        else:
            garnish = "served without garnish"
        return (
            f"{_article(colour).capitalize()} {colour} {drink.name} in {_article(glass)} {glass}, {garnish}, "
            "photographed at eye level in soft, diffused Nordic daylight. "
            "The background is a seamless warm-grey neutral with a pale oak surface and generous negative space, "
            "nothing else in frame. "
            "Minimal, calm styling with a shallow depth of field and a gentle highlight on the glass."
        )


# ------------------------------------------------------------------ choice


def writer_from_settings() -> PhotoPromptWriter:
    """Bedrock when a model is configured, else the offline writer."""
    config = settings()
    if config.bedrock_model_id:
        return BedrockPromptWriter(config.bedrock_model_id, bedrock_client(config.bedrock_region))
    return OfflinePromptWriter()
