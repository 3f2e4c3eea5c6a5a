"""The bartender's tools: what the chat agent may look up or do, over one guest's context.

A `Context` is loaded once per message through the reader role (the live menu with each
ingredient's traits, the guest's profile, ratings and orders) and the tools read only
from it. No tool writes: `update_profile` records the change, applied to the caller's
own profile in the same transaction that stores the turn, and `propose_order` records a
proposal the guest confirms with the normal `POST /orders`. The guest's identity is the
token's, never anything said in the conversation.

Every drink a tool returns is remembered in `Context.seen`: the reply's drink cards may
only come from there (chalicelib/bartender.py grounds the reply), and a drink the guest
may not have (unavailable, something they avoid, alcohol when they asked for none) is
never returned as a suggestion.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.recommend import (
    EXCLUDABLE_FLAGS,
    SPIRITS,
    STRENGTHS,
    TASTE_WORDS,
    DrinkFacts,
    History,
    MenuDrink,
    TasteProfile,
    facts,
    merge,
    recommend,
    similar,
    violation,
)

MAX_RESULTS = 5
MAX_QUANTITY = 5


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case without accents: "Piña Colada" and "pina colada" match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class Context:
    guest_id: str
    menu: list[MenuDrink]
    profile: TasteProfile
    history: History = field(default_factory=History)
    orders: list[dict[str, Any]] = field(default_factory=list)
    max_quantity: int = MAX_QUANTITY
    # Filled in while a turn runs:
    seen: dict[str, MenuDrink] = field(default_factory=dict)
    profile_changes: dict[str, Any] = field(default_factory=dict)
    proposal: list[dict[str, Any]] | None = None
    wish: TasteProfile | None = None  # what this message asked for (recommend's `extra`)
    _facts: dict[str, DrinkFacts] = field(default_factory=dict, repr=False)
    _index: tuple[dict[str, MenuDrink], dict[str, MenuDrink]] | None = field(default=None, repr=False)

    @property
    def effective_profile(self) -> TasteProfile:
        """The stored profile with what the guest told us in this turn."""
        return apply_changes(self.profile, self.profile_changes)

    def rules(self) -> TasteProfile:
        """The hard rules in force: the profile's, plus this turn's avoid / alcohol-free wish."""
        return merge(self.effective_profile, self.wish)

    def drink(self, ref: str) -> MenuDrink | None:
        """A menu drink by id or by name (accents and case ignored)."""
        if self._index is None or len(self._index[0]) != len(self.menu):
            self._index = ({item.id: item for item in self.menu}, {fold(item.name): item for item in self.menu})
        by_id, by_name = self._index
        ref = ref.strip()
        return by_id.get(ref) or by_name.get(fold(ref))

    def facts(self, item: MenuDrink) -> DrinkFacts:
        """The recommender's derived facts of a drink, worked out once per turn."""
        known = self._facts.get(item.id)
        if known is None:
            known = self._facts[item.id] = facts(item)
        return known

    def why_not(self, item: MenuDrink) -> str | None:
        """Why the guest may not have this drink now, or None."""
        return violation(item, self.facts(item), self.rules())

    def remember(self, item: MenuDrink) -> None:
        self.seen[item.id] = item


def apply_changes(profile: TasteProfile, changes: Mapping[str, Any]) -> TasteProfile:
    def added(current: tuple[str, ...], key: str, removed: tuple[str, ...] = ()) -> tuple[str, ...]:
        values = [v for v in current if v not in removed]
        return tuple(dict.fromkeys([*values, *changes.get(key, ())]))

    dislikes = added(profile.dislikes, "dislikes", tuple(changes.get("likes", ())))
    likes = added(profile.likes, "likes", tuple(changes.get("dislikes", ())))
    return TasteProfile(
        spirits=added(profile.spirits, "spirits", tuple(changes.get("avoid", ()))),
        likes=likes,
        dislikes=dislikes,
        strength=changes.get("strength", profile.strength),
        avoid=added(profile.avoid, "avoid"),
        alcohol_free=bool(changes.get("alcohol_free", profile.alcohol_free)),
    )


def card(item: MenuDrink) -> dict[str, Any]:
    """What the model sees of a drink: facts, no instructions (menu text is data)."""
    drink = item.drink
    return {
        "drink_id": item.id,
        "name": item.name,
        "description": drink.get("description", ""),
        "ingredients": [i.get("name") for i in drink.get("ingredients") or ()],
        "allergens": list(drink.get("allergens") or ()),
        "alcohol_free": bool(drink.get("alcohol_free")),
        "available": bool(drink.get("available")),
        "glass": drink.get("glass", ""),
    }


# ---------------------------------------------------------------- the tools


def search_menu(ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
    text = fold(str(args.get("text") or ""))
    wanted = [fold(str(i)) for i in args.get("ingredients") or ()]
    exclude = [fold(str(e)) for e in args.get("exclude") or ()]
    only_available = args.get("available", True) is not False
    found = []
    for item in ctx.menu:
        known = ctx.facts(item)
        haystack = " ".join([fold(item.name), fold(str(item.drink.get("description", ""))), *known.names])
        if text and not all(word in haystack for word in text.split()):
            continue
        if wanted and not all(any(w in name for name in known.names) for w in wanted):
            continue
        if exclude and any(e in known.flags or any(e in name for name in known.names) for e in exclude):
            continue
        if only_available and not item.drink.get("available"):
            continue
        if ctx.why_not(item) is not None:
            continue  # never offered: unavailable, avoided, or alcohol when none was asked for
        found.append(item)
    for item in found[:MAX_RESULTS]:
        ctx.remember(item)
    return {"drinks": [card(item) for item in found[:MAX_RESULTS]], "total": len(found)}


def get_drink(ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
    item = ctx.drink(str(args.get("drink") or args.get("drink_id") or args.get("name") or ""))
    if item is None:
        return {"error": "not on the menu tonight"}
    reason = ctx.why_not(item)
    if reason is None:
        ctx.remember(item)
    return {**card(item), "orderable_for_guest": reason is None, "why_not": reason}


def recommend_tool(ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
    wish = TasteProfile(
        spirits=_known(args.get("spirits"), SPIRITS),
        likes=_known(args.get("likes"), TASTE_WORDS),
        dislikes=_known(args.get("dislikes"), TASTE_WORDS),
        strength=args.get("strength") if args.get("strength") in STRENGTHS else None,
        avoid=tuple(str(a).lower() for a in args.get("avoid") or ()),
        alcohol_free=bool(args.get("alcohol_free")),
    )
    ctx.wish = merge(ctx.wish or TasteProfile(), wish)
    limit = max(1, min(MAX_RESULTS, int(args.get("limit") or 3)))
    like = ctx.drink(str(args.get("like_drink") or "")) if args.get("like_drink") else None
    if like is not None:
        picks = [r for r in similar(ctx.menu, like.id, limit=MAX_RESULTS * 2) or () if _allowed(ctx, r.drink)]
        results = picks[:limit]
    else:
        results = recommend(ctx.menu, ctx.effective_profile, len(ctx.menu), history=ctx.history, extra=ctx.wish)
        if wish.spirits:  # "something with gin": drinks with that spirit first, others only if none has it
            named = [r for r in results if ctx.facts(ctx.drink(str(r.drink["id"]))).spirits & set(wish.spirits)]
            results = named or results
        results = results[:limit]
    out = []
    for rec in results:
        item = ctx.drink(str(rec.drink["id"]))
        if item is None or ctx.why_not(item) is not None:
            continue  # belt and braces: the recommender already applied the hard rules
        ctx.remember(item)
        out.append({**card(item), "reasons": list(rec.reasons), "closest_only": rec.fallback})
    return {"drinks": out} if out else {"drinks": [], "note": "nothing on the menu fits: ask the bartender"}


def my_orders(ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "orders": [
            {
                "number": order.get("number"),
                "status": order.get("status"),
                "items": [f"{i.get('quantity', 1)} x {i.get('drink_name') or i.get('name')}" for i in order["items"]]
                if order.get("items")
                else [],
                "reason": order.get("reason") or order.get("status_reason"),
            }
            for order in ctx.orders[:5]
        ]
    }


def update_profile(ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    avoid = [str(a).lower().strip() for a in args.get("avoid") or () if str(a).strip()]
    known_names = {n for item in ctx.menu for n in ctx.facts(item).names}
    avoid = [a for a in avoid if a in EXCLUDABLE_FLAGS or a in SPIRITS or a in known_names]
    if avoid:
        changes["avoid"] = avoid
    for key in ("likes", "dislikes"):
        values = _known(args.get(key), TASTE_WORDS)
        if values:
            changes[key] = list(values)
    spirits = _known(args.get("spirits"), SPIRITS)
    if spirits:
        changes["spirits"] = list(spirits)
    if args.get("strength") in STRENGTHS:
        changes["strength"] = args["strength"]
    if isinstance(args.get("alcohol_free"), bool):
        changes["alcohol_free"] = args["alcohol_free"]
    for key, value in changes.items():
        if isinstance(value, list):
            ctx.profile_changes[key] = list(dict.fromkeys([*ctx.profile_changes.get(key, []), *value]))
        else:
            ctx.profile_changes[key] = value
    profile = ctx.effective_profile
    return {"saved": bool(changes), "profile": {"avoid": list(profile.avoid), "dislikes": list(profile.dislikes)}}


def propose_order(ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
    items, problems = [], []
    for raw in args.get("items") or ():
        item = ctx.drink(str(raw.get("drink_id") or raw.get("drink") or raw.get("name") or ""))
        if item is None:
            problems.append(f"{raw.get('drink_id') or raw.get('name')}: not on the menu tonight")
            continue
        reason = ctx.why_not(item)
        if reason is not None:
            problems.append(f"{item.name}: {reason}")
            continue
        try:
            quantity = int(raw.get("quantity") or 1)
        except (TypeError, ValueError):
            quantity = 1
        quantity = max(1, min(ctx.max_quantity, quantity))
        notes = str(raw.get("notes") or "")[:200]
        ctx.remember(item)
        items.append({"drink_id": item.id, "quantity": quantity, "notes": notes})
    if items and not problems:
        ctx.proposal = items
        return {"proposed": [{"name": ctx.seen[i["drink_id"]].name, "quantity": i["quantity"]} for i in items]}
    return {"proposed": [], "problems": problems or ["no drink named"]}


def _known(values: Any, vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in (str(x).lower() for x in values or ()) if v in vocabulary)


def _allowed(ctx: Context, drink: Mapping[str, Any]) -> bool:
    item = ctx.drink(str(drink["id"]))
    return item is not None and ctx.why_not(item) is None


_STRINGS = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]
    run: Callable[[Context, Mapping[str, Any]], dict[str, Any]]

    def spec(self) -> dict[str, Any]:
        """Bedrock Converse `toolConfig.tools[]` entry."""
        return {"toolSpec": {"name": self.name, "description": self.description, "inputSchema": {"json": self.schema}}}


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "search_menu",
            "Search tonight's menu. Only drinks this guest may have are returned.",
            {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "description": "words to find in name, description, ingredients"},
                    "ingredients": {**_STRINGS, "description": "every one must be in the drink"},
                    "exclude": {**_STRINGS, "description": "ingredient names or allergen keys to leave out"},
                    "available": {"type": "boolean"},
                },
            },
            search_menu,
        ),
        Tool(
            "get_drink",
            "One drink of the menu by name or id: ingredients, allergens, and whether this guest may order it.",
            {"type": "object", "properties": {"drink": {"type": "string"}}, "required": ["drink"]},
            get_drink,
        ),
        Tool(
            "recommend",
            "The best drinks for this guest from the menu, with reasons. Adds what the guest just asked for.",
            {
                "type": "object",
                "properties": {
                    "spirits": {**_STRINGS, "description": ", ".join(SPIRITS)},
                    "likes": {**_STRINGS, "description": ", ".join(TASTE_WORDS)},
                    "dislikes": {**_STRINGS, "description": ", ".join(TASTE_WORDS)},
                    "strength": {"type": "string", "enum": list(STRENGTHS)},
                    "avoid": {**_STRINGS, "description": "ingredient names or allergen keys"},
                    "alcohol_free": {"type": "boolean"},
                    "like_drink": {"type": "string", "description": "a drink on the menu the guest compares with"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
                },
            },
            recommend_tool,
        ),
        Tool(
            "my_orders", "This guest's latest orders and their status.", {"type": "object", "properties": {}}, my_orders
        ),
        Tool(
            "update_profile",
            "Remember what the guest just said about their taste or what they avoid (their own profile only).",
            {
                "type": "object",
                "properties": {
                    "avoid": {
                        **_STRINGS,
                        "description": "allergen keys (" + ", ".join(EXCLUDABLE_FLAGS) + ") or names",
                    },
                    "likes": _STRINGS,
                    "dislikes": _STRINGS,
                    "spirits": _STRINGS,
                    "strength": {"type": "string", "enum": list(STRENGTHS)},
                    "alcohol_free": {"type": "boolean"},
                },
            },
            update_profile,
        ),
        Tool(
            "propose_order",
            "Propose drinks for the guest to confirm with one tap. Never places the order itself.",
            {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "drink_id": {"type": "string"},
                                "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
                                "notes": {"type": "string"},
                            },
                            "required": ["drink_id"],
                        },
                    }
                },
                "required": ["items"],
            },
            propose_order,
        ),
    )
}


def run_tool(ctx: Context, name: str, args: Any) -> tuple[dict[str, Any], bool]:
    """(result, ok). An unknown tool or bad input is an error result for the model, never a crash."""
    tool = TOOLS.get(name)
    if tool is None:
        return {"error": f"no tool called {name}"}, False
    if not isinstance(args, Mapping):
        return {"error": "the input must be an object"}, False
    try:
        return tool.run(ctx, args), True
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return {"error": f"bad input: {exc}"}, False

