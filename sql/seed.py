"""Seed the menu from sql/seed/menu.json: `python -m sql.seed` (run by `make local`).

Idempotent: every row has an id derived from its name (uuid5) and is inserted with
ON CONFLICT DO NOTHING, so a re-run changes nothing and duplicates nothing, and a
host's later edits are never overwritten. Rows go in batches well under DSQL's
3,000-rows-per-transaction limit. It writes as the writer role, like the API.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from psycopg import Connection

SEED_FILE = Path(__file__).parent / "seed" / "menu.json"
NAMESPACE = uuid.UUID("5d0c2f8e-7a43-4a51-9a0e-3f6d4b1c2e77")
BATCH_ROWS = 500  # well under DSQL's 3,000 rows per transaction


def seed_id(kind: str, name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{name.strip().lower()}")


def batches(rows: Sequence[Any], size: int = BATCH_ROWS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


FLAVOURS = ("sweet", "sour", "bitter", "fruity", "herbal", "spicy", "smoky", "creamy", "fizzy")
ALLERGENS = ("celery", "dairy", "egg", "fish", "gluten", "peanuts", "soy", "sulphites", "tree_nuts")
TRAIT_COLUMNS = ("ingredient_id", *FLAVOURS, "contains_alcohol", "abv", "non_vegan", *ALLERGENS)


def traits_row(ingredient_id: uuid.UUID, item: dict[str, Any]) -> tuple[Any, ...]:
    """An ingredient's taste and contents (flavour 0-3, alcohol and its strength, vegan,
    allergen keys) as an ingredient_traits row, checked."""
    flavour = item.get("flavour", {})
    allergens = set(item.get("allergens", []))
    if set(flavour) - set(FLAVOURS) or any(not 0 <= v <= 3 for v in flavour.values()):
        raise ValueError(f"ingredient {item['name']!r}: flavour must map {FLAVOURS} to 0-3")
    if allergens - set(ALLERGENS):
        raise ValueError(f"ingredient {item['name']!r}: unknown allergens {sorted(allergens - set(ALLERGENS))}")
    alcoholic = bool(item.get("contains_alcohol", False))
    if item.get("abv") is not None and not alcoholic:
        raise ValueError(f"ingredient {item['name']!r}: abv without contains_alcohol")
    return (
        ingredient_id,
        *(int(flavour.get(f, 0)) for f in FLAVOURS),
        alcoholic,
        item.get("abv"),
        not item.get("vegan", True),
        *(a in allergens for a in ALLERGENS),
    )


def build_rows(menu: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """The seed file as table rows, checked for internal consistency."""
    sections = {s["name"]: s for s in menu["sections"]}
    catalog = {i["name"].lower(): i for i in menu["ingredients"]}
    rows: dict[str, list[tuple[Any, ...]]] = {
        "sections": [],
        "ingredients": [],
        "ingredient_traits": [],
        "drinks": [],
        "drink_ingredients": [],
    }
    for s in menu["sections"]:
        rows["sections"].append(
            (
                seed_id("section", s["name"]),
                s["name"],
                s["name"].lower(),
                s.get("description", ""),
                s.get("position", 0),
            )
        )
    for i in menu["ingredients"]:
        rows["ingredients"].append(
            (
                seed_id("ingredient", i["name"]),
                i["name"],
                i["name"].lower(),
                i.get("category", "other"),
                i.get("in_stock", True),
            )
        )
        rows["ingredient_traits"].append(traits_row(seed_id("ingredient", i["name"]), i))
    for position, d in enumerate(menu["drinks"]):
        if d["section"] not in sections:
            raise ValueError(f"drink {d['name']!r}: unknown section {d['section']!r}")
        drink_id = seed_id("drink", d["name"])
        rows["drinks"].append(
            (
                drink_id,
                seed_id("section", d["section"]),
                d["name"],
                d["name"].lower(),
                d.get("description", ""),
                json.dumps(d["ingredients"]),
                json.dumps(d.get("recipe_steps", [])),
                d.get("glass", ""),
                d.get("garnish", ""),
                json.dumps(d.get("tags", [])),
                d.get("abv"),
                position,
            )
        )
        for order, item in enumerate(d["ingredients"]):
            if item["name"].lower() not in catalog:
                raise ValueError(f"drink {d['name']!r}: ingredient {item['name']!r} is not in the catalog")
            rows["drink_ingredients"].append(
                (drink_id, seed_id("ingredient", item["name"]), order, bool(item.get("optional", False)))
            )
    return rows


INSERTS = {
    "sections": """INSERT INTO sections (id, name, name_key, description, position)
                   VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
    "ingredients": """INSERT INTO ingredients (id, name, name_key, category, in_stock)
                      VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
    "ingredient_traits": f"""INSERT INTO ingredient_traits ({", ".join(TRAIT_COLUMNS)})
                            VALUES ({", ".join(["%s"] * len(TRAIT_COLUMNS))}) ON CONFLICT DO NOTHING""",
    "drinks": """INSERT INTO drinks (id, section_id, name, name_key, description, ingredients_json, recipe_steps_json,
                 glass, garnish, tags_json, abv, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                 ON CONFLICT DO NOTHING""",
    "drink_ingredients": """INSERT INTO drink_ingredients (drink_id, ingredient_id, position, optional)
                            VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING""",
}


def _insert_batch(conn: Connection[Any], table: str, batch: Sequence[tuple[Any, ...]]) -> int:
    with conn.cursor() as cur:
        cur.executemany(INSERTS[table], batch)
        return max(cur.rowcount, 0)


def seed(write: Any, menu: dict[str, Any] | None = None) -> dict[str, int]:
    """Insert what is missing. `write` runs a function in one writer transaction.

    Returns the number of rows inserted per table (all zero on a re-run).
    """
    menu = menu if menu is not None else json.loads(SEED_FILE.read_text(encoding="utf-8"))
    inserted: dict[str, int] = {}
    for table, table_rows in build_rows(menu).items():  # parents before links
        inserted[table] = 0
        for batch in batches(table_rows):
            inserted[table] += write(_insert_batch, table, batch)
    return inserted


def main() -> int:
    from chalicelib.db import database

    inserted = seed(database().write)
    print("seed: " + ", ".join(f"{table} +{count}" for table, count in inserted.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
