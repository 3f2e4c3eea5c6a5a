"""Recommendation quality and speed: `python benchmarks/recommend_eval.py`.

Measured, never asserted. Over the committed profile set (benchmarks/data/recommend_profiles.json:
each profile has its hard constraints, its stock changes and the drink family a bartender
would expect), against the seeded 60-drink menu (sql/seed/menu.json):

* hard-constraint compliance over the top 20 of every profile, checked by this file's own
  checker from the seed data (not by the recommender's): available with the profile's
  stock, nothing avoided (names and allergen / dietary flags, optional ingredients too),
  alcohol-free when asked; a "none" profile must get an empty list. Must be 100%.
* family precision@3: the share of the top 3 that belong to the expected family.
* latency per `recommend()` call (p50 / p95 / max, in-process, the menu already loaded).

With --api it also measures the two routes' work against a fresh migrated and seeded
database (benchmarks/common.py): `profiles.recommendations` (what GET /recommendations
runs: profile, history, the taste menu, the ranking) and `profiles.similar_drinks`
(GET /drinks/{id}/similar), in-process, p50 / p95 and database round trips per call.

Options: --repeat N (latency rounds, default 30), --api, --json (the numbers as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.recommend import (  # noqa: E402
    History,
    IngredientTraits,
    MenuDrink,
    Recommendation,
    TasteProfile,
    recommend,
)

SEED = ROOT / "sql" / "seed" / "menu.json"
PROFILES = Path(__file__).parent / "data" / "recommend_profiles.json"

# What a bartender means by each family, over the seed menu.
FAMILIES: dict[str, set[str]] = {
    "sours": {
        "Margarita", "Tommy's Margarita", "Daiquiri", "Whiskey Sour", "Pisco Sour", "Sidecar", "Gimlet",
        "Bee's Knees", "Clover Club", "Last Word", "Aviation", "Corpse Reviver #2", "Paper Plane", "Penicillin",
        "Southside", "Cosmopolitan", "Caipirinha",
    },
    "bitter_stirred": {"Negroni", "Boulevardier", "Americano", "Negroni Sbagliato", "Paper Plane", "Jungle Bird"},
    "highballs": {
        "Moscow Mule", "Paloma", "Gin & Tonic", "Cuba Libre", "Tom Collins", "Dark 'n' Stormy", "Mojito",
        "Bloody Mary", "Americano", "Tequila Sunrise",
    },
    "tiki": {"Mai Tai", "Piña Colada", "Jungle Bird", "Hurricane", "Painkiller"},
    "martini": {"Martini", "Gimlet", "Last Word", "Aviation", "Corpse Reviver #2", "Bee's Knees"},
    "old_fashioned": {
        "Old Fashioned", "Manhattan", "Sazerac", "Rob Roy", "Oaxaca Old Fashioned", "Boulevardier", "Mint Julep",
    },
    "alcohol_free": {"Virgin Mojito", "Shirley Temple", "Virgin Mary", "Ginger-Lime Fizz", "Virgin Piña Colada"},
    "dessert": {
        "Espresso Martini", "White Russian", "Black Russian", "Irish Coffee", "Brandy Alexander", "Grasshopper",
    },
    "spritz": {
        "Aperol Spritz", "Hugo Spritz", "French 75", "Bellini", "Mimosa", "Kir Royale", "Negroni Sbagliato",
    },
}  # fmt: skip
FLAGS = ("celery", "dairy", "egg", "fish", "gluten", "peanuts", "soy", "sulphites", "tree_nuts", "non_vegan")


def load_seed() -> dict[str, Any]:
    return json.loads(SEED.read_text(encoding="utf-8"))


def seed_menu(seed: Mapping[str, Any] | None = None, out_of_stock: Iterable[str] = ()) -> list[MenuDrink]:
    """The seed menu as the recommender receives it from the database (GET /drinks JSON
    with allergens and alcohol_free, plus each ingredient's traits); drink ids are the
    drinks' names, so results read well."""
    seed = seed or load_seed()
    catalog = {i["name"].lower(): i for i in seed["ingredients"]}
    out = {name.lower() for name in out_of_stock}
    menu = []
    for drink in seed["drinks"]:
        parts = [(item, catalog[item["name"].lower()]) for item in drink["ingredients"]]
        traits = tuple(
            IngredientTraits(
                name=known["name"],
                optional=bool(item.get("optional")),
                category=known.get("category", "other"),
                flavour=known.get("flavour", {}),
                contains_alcohol=bool(known.get("contains_alcohol")),
                allergens=frozenset(known.get("allergens", ())),
                vegan=bool(known.get("vegan", True)),
            )
            for item, known in parts
        )
        in_stock = all(
            item.get("optional") or (known.get("in_stock", True) and known["name"].lower() not in out)
            for item, known in parts
        )
        menu.append(
            MenuDrink(
                {
                    "id": drink["name"],
                    "section_id": drink["section"],
                    "name": drink["name"],
                    "description": drink.get("description", ""),
                    "ingredients": drink["ingredients"],
                    "recipe_steps": drink.get("recipe_steps", []),
                    "glass": drink.get("glass", ""),
                    "garnish": drink.get("garnish", ""),
                    "tags": drink.get("tags", []),
                    "abv": drink.get("abv"),
                    "image_url": None,
                    "available": in_stock,
                    "allergens": sorted({a for _, known in parts for a in known.get("allergens", ())}),
                    "alcohol_free": not any(known.get("contains_alcohol") for _, known in parts),
                },
                traits,
            )
        )
    return menu


def broken_rules(seed: Mapping[str, Any], case: Mapping[str, Any], drink_name: str) -> list[str]:
    """This file's own check of the hard rules, straight from the seed data."""
    catalog = {i["name"].lower(): i for i in seed["ingredients"]}
    drink = next(d for d in seed["drinks"] if d["name"] == drink_name)
    parts = [(item, catalog[item["name"].lower()]) for item in drink["ingredients"]]
    out = {name.lower() for name in case.get("out_of_stock", ())}
    profile = case["profile"]
    avoid = {a.lower() for a in profile.get("avoid", ())}
    problems = []
    for item, known in parts:
        if not item.get("optional") and (not known.get("in_stock", True) or known["name"].lower() in out):
            problems.append(f"{known['name']} is out of stock")
        if known["name"].lower() in avoid:
            problems.append(f"contains {known['name']}")
        flags = set(known.get("allergens", ())) | ({"non_vegan"} if not known.get("vegan", True) else set())
        for flag in sorted(flags & avoid):
            problems.append(f"contains {flag} ({known['name']})")
        if profile.get("alcohol_free") and known.get("contains_alcohol"):
            problems.append(f"contains alcohol ({known['name']})")
    return problems


def run_case(menu: list[MenuDrink], case: Mapping[str, Any], limit: int) -> list[Recommendation]:
    history = History(
        ratings={name: int(r) for name, r in case.get("ratings", {}).items()},
        orders={name: int(n) for name, n in case.get("orders", {}).items()},
    )
    return recommend(menu, TasteProfile.from_dict(case["profile"]), limit, history=history)


def evaluate(repeat: int = 30) -> dict[str, Any]:
    seed = load_seed()
    cases = json.loads(PROFILES.read_text(encoding="utf-8"))["profiles"]
    rows = []
    checked = violations = 0
    precisions: list[float] = []
    per_family: dict[str, list[float]] = {}
    for case in cases:
        menu = seed_menu(seed, case.get("out_of_stock", ()))
        top = run_case(menu, case, 20)
        names = [pick.drink["name"] for pick in top]
        problems = []
        for name in names:
            checked += 1
            broken = broken_rules(seed, case, name)
            if broken:
                violations += 1
                problems.append(f"{name}: {', '.join(broken)}")
        if case["name"] == "avoids egg, dislikes sweet" and {"Whiskey Sour", "Piña Colada"} & set(names):
            violations += 1
            problems.append("recommended a Whiskey Sour or Piña Colada")
        family = case["family"]
        precision = None
        if family == "none":
            checked += 1
            if names:
                violations += 1
                problems.append("nothing should fit, got " + ", ".join(names[:3]))
        elif family in FAMILIES:
            precision = sum(1 for name in names[:3] if name in FAMILIES[family]) / 3
            precisions.append(precision)
            per_family.setdefault(family, []).append(precision)
        rows.append(
            {
                "profile": case["name"],
                "family": family,
                "top3": names[:3],
                "reasons": list(top[0].reasons) if top else [],
                "precision_at_3": precision,
                "violations": problems,
            }
        )
    # Latency: every profile, `repeat` rounds, the menu already loaded (as in a request).
    menus = [(seed_menu(seed, case.get("out_of_stock", ())), case) for case in cases]
    timings, cpu = [], []
    for _ in range(repeat):
        for menu, case in menus:
            fresh = [MenuDrink(item.drink, item.ingredients) for item in menu]  # as a request has: nothing derived yet
            started, started_cpu = time.perf_counter(), time.process_time()
            run_case(fresh, case, 5)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    timings.sort()
    cpu.sort()
    return {
        "profiles": len(cases),
        "recommendations_checked": checked,
        "violations": violations,
        "compliance": 1.0 - violations / checked if checked else 1.0,
        "precision_at_3": statistics.fmean(precisions) if precisions else None,
        "precision_by_family": {family: statistics.fmean(values) for family, values in sorted(per_family.items())},
        "latency_ms": {
            "calls": len(timings),
            "p50": timings[len(timings) // 2],
            "p95": timings[int(len(timings) * 0.95) - 1],
            "max": timings[-1],
            "menu_drinks": len(menus[0][0]),
            # CPU time of this process: what a call costs when the machine is shared.
            "cpu_p50": cpu[len(cpu) // 2],
            "cpu_p95": cpu[int(len(cpu) * 0.95) - 1],
            "load_average_1m": os.getloadavg()[0],
        },
        "rows": rows,
    }


def measure_api(rounds: int = 50) -> dict[str, Any]:
    """The database path of both routes, over the seeded menu."""
    import uuid

    from benchmarks.common import bench_database, percentile
    from chalicelib import profiles
    from chalicelib.db import STATEMENTS, database
    from chalicelib.validation import ProfileUpdate

    with bench_database("da_bench_recommend"):
        db = database()
        guest = uuid.uuid4()
        body = {"spirits": ["gin"], "likes": ["bitter"], "dislikes": ["sweet"], "avoid": ["egg", "campari"]}
        db.write(profiles.update_profile, guest, ProfileUpdate.model_validate(body))
        negroni = next(item for item in db.read(profiles.taste_menu, "/images") if item.name == "Negroni")
        db.write(profiles.rate_drink, guest, uuid.UUID(negroni.id), 1)
        out: dict[str, Any] = {}
        calls = {
            "GET /recommendations": lambda: db.read(profiles.recommendations, guest, 5, "/images"),
            "GET /drinks/{id}/similar": lambda: db.read(profiles.similar_drinks, uuid.UUID(negroni.id), 5, "/images"),
        }
        for name, call in calls.items():
            call()  # warm: connection open
            timings = []
            STATEMENTS.reset()
            for _ in range(rounds):
                started = time.perf_counter()
                call()
                timings.append((time.perf_counter() - started) * 1000)
            out[name] = {
                "p50_ms": percentile(timings, 50),
                "p95_ms": percentile(timings, 95),
                "round_trips": STATEMENTS.reset() / rounds,
            }
        return out


def print_table(result: Mapping[str, Any]) -> None:
    print(f"{'profile':44s} {'family':15s} {'p@3':>5s}  top 3")
    for row in result["rows"]:
        p3 = "" if row["precision_at_3"] is None else f"{row['precision_at_3']:.2f}"
        print(f"{row['profile'][:44]:44s} {row['family']:15s} {p3:>5s}  {', '.join(row['top3']) or '(empty)'}")
        for problem in row["violations"]:
            print(f"{'':66s}VIOLATION {problem}")
    print()
    print(f"{'family':15s} precision@3")
    for family, value in result["precision_by_family"].items():
        print(f"{family:15s} {value:.2f}")
    latency = result["latency_ms"]
    print()
    print(f"profiles                 {result['profiles']}")
    print(
        f"hard-rule compliance     {result['compliance'] * 100:.1f}% "
        f"({result['violations']} violations in {result['recommendations_checked']} checks)"
    )
    print(f"family precision@3       {result['precision_at_3']:.2f}")
    print(
        f"latency per call         p50 {latency['p50']:.2f} ms, p95 {latency['p95']:.2f} ms,"
        f" max {latency['max']:.2f} ms ({latency['calls']} calls, {latency['menu_drinks']}-drink menu)"
    )
    print(
        f"CPU time per call        p50 {latency['cpu_p50']:.2f} ms, p95 {latency['cpu_p95']:.2f} ms"
        f" (load average {latency['load_average_1m']:.1f} on {os.cpu_count()} cores)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--api", action="store_true")
    args = parser.parse_args()
    result = evaluate(args.repeat)
    if args.api:
        result["api"] = measure_api()
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
    else:
        print_table(result)
        for route, numbers in result.get("api", {}).items():
            print(
                f"{route:25s}  p50 {numbers['p50_ms']:.2f} ms, p95 {numbers['p95_ms']:.2f} ms,"
                f" {numbers['round_trips']:.0f} database round trips"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
