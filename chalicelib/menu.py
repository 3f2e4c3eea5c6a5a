"""The public menu: sections, drinks, ingredients. Read-only queries, one round trip each.

A drink keeps its ingredient list (amounts, units) as JSON text for display; the
normalized `drink_ingredients` table is what filters and availability use, through
B-tree indexes: "drinks with tequila" is an index lookup, not a scan of JSON.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from psycopg import Connection

from chalicelib.validation import DrinkQuery

# A drink is available when none of its required ingredients is out of stock.
AVAILABLE_SQL = """NOT EXISTS (
    SELECT 1 FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
    WHERE di.drink_id = d.id AND NOT di.optional AND NOT i.in_stock)"""

DRINK_COLUMNS = f"""d.id, d.section_id, d.name, d.description, d.ingredients_json,
    d.recipe_steps_json, d.glass, d.garnish, d.tags_json, d.abv, d.image_key,
    {AVAILABLE_SQL} AS available"""


def image_url(image_key: str | None, image_base_url: str) -> str | None:
    if not image_key:
        return None
    return f"{image_base_url}/{image_key}"


def drink_from_row(row: dict[str, Any], image_base_url: str) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "section_id": str(row["section_id"]),
        "name": row["name"],
        "description": row["description"],
        "ingredients": json.loads(row["ingredients_json"]),
        "recipe_steps": json.loads(row["recipe_steps_json"]),
        "glass": row["glass"],
        "garnish": row["garnish"],
        "tags": json.loads(row["tags_json"]),
        "abv": float(row["abv"]) if row["abv"] is not None else None,
        "image_url": image_url(row["image_key"], image_base_url),
        "available": row["available"],
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_sections(conn: Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute(
        """SELECT id, name, description, position FROM sections
           WHERE archived_at IS NULL ORDER BY position, name"""
    ).fetchall()
    return [{**row, "id": str(row["id"])} for row in rows]


def list_drinks(conn: Connection[Any], query: DrinkQuery, image_base_url: str) -> list[dict[str, Any]]:
    where = ["d.archived_at IS NULL", "s.archived_at IS NULL"]
    params: dict[str, Any] = {}
    if query.section_id is not None:
        where.append("d.section_id = %(section_id)s")
        params["section_id"] = query.section_id
    if query.ingredient:
        # AND across ingredients: the drink must link to every one of them.
        names = sorted({name.lower() for name in query.ingredient})
        where.append(
            """d.id IN (SELECT di.drink_id FROM ingredients i
                        JOIN drink_ingredients di ON di.ingredient_id = i.id
                        WHERE i.name_key = ANY(%(ingredients)s)
                        GROUP BY di.drink_id HAVING count(DISTINCT i.id) = %(ingredient_count)s)"""
        )
        params["ingredients"] = names
        params["ingredient_count"] = len(names)
    if query.q is not None:
        where.append(
            """(d.name ILIKE %(q)s OR d.description ILIKE %(q)s OR EXISTS (
                  SELECT 1 FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
                  WHERE di.drink_id = d.id AND i.name ILIKE %(q)s))"""
        )
        params["q"] = f"%{_escape_like(query.q)}%"
    if query.available is not None:
        where.append(AVAILABLE_SQL if query.available else f"NOT {AVAILABLE_SQL}")
    rows = conn.execute(
        f"""SELECT {DRINK_COLUMNS} FROM drinks d JOIN sections s ON s.id = d.section_id
            WHERE {" AND ".join(where)}
            ORDER BY s.position, s.name, d.position, d.name""",
        params,
    ).fetchall()
    return [drink_from_row(row, image_base_url) for row in rows]


def get_drink(conn: Connection[Any], drink_id: uuid.UUID, image_base_url: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"""SELECT {DRINK_COLUMNS} FROM drinks d JOIN sections s ON s.id = d.section_id
            WHERE d.id = %s AND d.archived_at IS NULL AND s.archived_at IS NULL""",
        (drink_id,),
    ).fetchone()
    return drink_from_row(row, image_base_url) if row else None


def list_ingredients(conn: Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, name, category, in_stock FROM ingredients ORDER BY name").fetchall()
    return [{**row, "id": str(row["id"])} for row in rows]
