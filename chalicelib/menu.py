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
from psycopg.rows import tuple_row

from chalicelib import images
from chalicelib.recommend import ALLERGENS, FLAVOURS, NON_VEGAN, IngredientTraits, MenuDrink
from chalicelib.validation import DrinkQuery

# A drink is available when none of its required ingredients is out of stock.
AVAILABLE_SQL = """NOT EXISTS (
    SELECT 1 FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
    WHERE di.drink_id = d.id AND NOT di.optional AND NOT i.in_stock)"""

# Allergens and "alcohol-free" are derived from the ingredients' traits at query time
# (optional ingredients count: they may be in the glass). An ingredient with no traits
# row is unknown, so it makes its drink not alcohol-free.
_ALLERGEN_PAIRS = ", ".join(f"('{key}', t.{key})" for key in ALLERGENS)
ALLERGENS_SQL = f"""ARRAY(
    SELECT DISTINCT a.allergen FROM drink_ingredients di
    JOIN ingredient_traits t ON t.ingredient_id = di.ingredient_id
    CROSS JOIN LATERAL (VALUES {_ALLERGEN_PAIRS}) AS a(allergen, present)
    WHERE di.drink_id = d.id AND a.present ORDER BY a.allergen)"""
ALCOHOL_FREE_SQL = """NOT EXISTS (
    SELECT 1 FROM drink_ingredients di LEFT JOIN ingredient_traits t ON t.ingredient_id = di.ingredient_id
    WHERE di.drink_id = d.id AND (t.ingredient_id IS NULL OR t.contains_alcohol))"""

DRINK_COLUMNS = f"""d.id, d.section_id, d.name, d.description, d.ingredients_json,
    d.recipe_steps_json, d.glass, d.garnish, d.tags_json, d.abv, d.image_key,
    d.image_variants_json, d.generated_image_json,
    {AVAILABLE_SQL} AS available, {ALLERGENS_SQL} AS allergens, {ALCOHOL_FREE_SQL} AS alcohol_free"""


# ---------------------------------------------------------------- the drink JSON, built by PostgreSQL
#
# The public menu's GETs return the JSON text PostgreSQL builds (json_build_object:
# query-time JSON, which DSQL has; the columns stay TEXT). Python parses nothing and
# does not re-serialise: the view sends the text as the body. drink_from_row() below is
# the same shape built in Python, for the callers that need dicts (the recommender, the
# admin catalog); tests/test_menu_json.py holds the two equal, picture rules included
# (chalicelib/images.py `picture`).

_BASE = "%(image_base_url)s::text"


def _stored_json_object(column: str) -> str:
    """`column` (TEXT) as json when it holds a JSON object, else NULL: images._load."""
    return f"CASE WHEN d.{column} IS JSON OBJECT THEN d.{column}::json END"


def _variants_json(stored: str) -> str:
    """images._variants: the entries that are objects with a key and a non-zero width."""
    return f"""COALESCE((SELECT json_agg(json_build_object(
            'width', trunc((e.v->>'width')::numeric)::int, 'url', concat({_BASE}, '/', e.v->>'key')) ORDER BY e.n)
        FROM json_array_elements(CASE WHEN json_typeof({stored}->'variants') = 'array'
                                      THEN {stored}->'variants' END) WITH ORDINALITY AS e(v, n)
        WHERE json_typeof(e.v) = 'object' AND COALESCE(e.v->>'key', '') NOT IN ('', 'false')
          AND COALESCE(e.v->>'width', '') NOT IN ('', '0', 'false')), '[]'::json)"""


def _illustration_key_sql() -> str:
    """images.illustration_key: the same SHA-256 over the same UTF-8 text, so a drink
    names its illustration without Python."""
    sep = "chr(31)"
    canonical = (
        f"concat('{images.ILLUSTRATION_VERSION}', {sep}, COALESCE(d.glass, ''), {sep}, COALESCE(d.garnish, ''), "
        f"{sep}, COALESCE(NULLIF(d.ingredients_json, ''), '[]'))"
    )
    digest = f"substr(encode(sha256(convert_to({canonical}, 'UTF8')), 'hex'), 1, 16)"
    return f"concat('{images.ILLUSTRATION_PREFIX}', d.id::text, '-', {digest}, '.svg')"


_CURRENT = "(p.variants->>'source_key' = d.image_key)"  # variants of an older photo do not count
PICTURE_JSON_SQL = f"""CASE
    WHEN COALESCE(d.image_key, '') <> '' THEN json_build_object(
        'kind', 'photo', 'url', concat({_BASE}, '/', d.image_key),
        'width', CASE WHEN {_CURRENT} THEN p.variants->'width' END,
        'height', CASE WHEN {_CURRENT} THEN p.variants->'height' END,
        'variants', CASE WHEN {_CURRENT} THEN {_variants_json("p.variants")} ELSE '[]'::json END)
    WHEN COALESCE(p.generated->>'key', '') NOT IN ('', 'false') THEN json_build_object(
        'kind', 'generated', 'url', concat({_BASE}, '/', p.generated->>'key'),
        'width', p.generated->'width', 'height', p.generated->'height',
        'variants', {_variants_json("p.generated")})
    ELSE json_build_object(
        'kind', 'illustration', 'url', concat({_BASE}, '/', {_illustration_key_sql()}),
        'width', {images.ILLUSTRATION_WIDTH}, 'height', {images.ILLUSTRATION_HEIGHT}, 'variants', '[]'::json)
    END"""

# The stored JSON objects the picture reads, parsed once per row.
PICTURE_LATERAL = f"""CROSS JOIN LATERAL (SELECT {_stored_json_object("image_variants_json")} AS variants,
    {_stored_json_object("generated_image_json")} AS generated) p"""

DRINK_JSON_SQL = f"""json_build_object(
    'id', d.id, 'section_id', d.section_id, 'name', d.name, 'description', d.description,
    'ingredients', d.ingredients_json::json, 'recipe_steps', d.recipe_steps_json::json,
    'glass', d.glass, 'garnish', d.garnish, 'tags', d.tags_json::json, 'abv', d.abv::float8,
    'image_url', CASE WHEN COALESCE(d.image_key, '') <> '' THEN concat({_BASE}, '/', d.image_key) END,
    'picture', {PICTURE_JSON_SQL},
    'available', {AVAILABLE_SQL}, 'allergens', {ALLERGENS_SQL}, 'alcohol_free', {ALCOHOL_FREE_SQL})"""

DRINK_ORDER = "s.position, s.name, d.position, d.name"


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
        # What the drink shows, and what kind of picture it is (photo | generated | illustration).
        "picture": images.picture(row, image_base_url),
        "available": row["available"],
        "allergens": list(row["allergens"]),
        "alcohol_free": row["alcohol_free"],
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_sections(conn: Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute(
        """SELECT id, name, description, position FROM sections
           WHERE archived_at IS NULL ORDER BY position, name"""
    ).fetchall()
    return [{**row, "id": str(row["id"])} for row in rows]


def _drink_filters(query: DrinkQuery, params: dict[str, Any]) -> str:
    """The WHERE of a menu listing (public drinks in public sections, then the query's filters)."""
    where = ["d.archived_at IS NULL", "s.archived_at IS NULL"]
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
    if query.exclude:
        where.append(exclusion_sql(query.exclude, params))
    if query.alcohol_free is not None:
        where.append(ALCOHOL_FREE_SQL if query.alcohol_free else f"NOT {ALCOHOL_FREE_SQL}")
    return " AND ".join(where)


def list_drinks_rows_sql(query: DrinkQuery) -> tuple[str, dict[str, Any]]:
    """The listing as plain rows (menu.DRINK_COLUMNS): what drink_from_row shapes, and the
    floor benchmarks/menu_read.py compares the JSON route with."""
    params: dict[str, Any] = {}
    where = _drink_filters(query, params)
    sql = f"""SELECT {DRINK_COLUMNS} FROM drinks d JOIN sections s ON s.id = d.section_id
            WHERE {where} ORDER BY {DRINK_ORDER}"""
    return sql, params


def list_drinks(conn: Connection[Any], query: DrinkQuery, image_base_url: str) -> list[dict[str, Any]]:
    sql, params = list_drinks_rows_sql(query)
    rows = conn.execute(sql, params).fetchall()
    return [drink_from_row(row, image_base_url) for row in rows]


def list_drinks_json(conn: Connection[Any], query: DrinkQuery, image_base_url: str) -> str:
    """list_drinks as the JSON text of the response body, built by PostgreSQL in one query:
    one JSON object per row, joined here. (Aggregating them in SQL, `string_agg(... ORDER BY
    ...)`, measured 3x the server time of the ordered rows: EXPLAIN ANALYZE, 60 drinks.)"""
    params: dict[str, Any] = {"image_base_url": image_base_url}
    where = _drink_filters(query, params)
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            f"""SELECT {DRINK_JSON_SQL}::text
                FROM drinks d JOIN sections s ON s.id = d.section_id {PICTURE_LATERAL}
                WHERE {where} ORDER BY {DRINK_ORDER}""",
            params,
        )
        return "[" + ",".join([row[0] for row in cur.fetchall()]) + "]"


def get_drink(conn: Connection[Any], drink_id: uuid.UUID, image_base_url: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"""SELECT {DRINK_COLUMNS} FROM drinks d JOIN sections s ON s.id = d.section_id
            WHERE d.id = %s AND d.archived_at IS NULL AND s.archived_at IS NULL""",
        (drink_id,),
    ).fetchone()
    return drink_from_row(row, image_base_url) if row else None


def get_drink_json(conn: Connection[Any], drink_id: uuid.UUID, image_base_url: str) -> str | None:
    """get_drink as the JSON text of the response body (None: not on the menu)."""
    row = conn.execute(
        f"""SELECT {DRINK_JSON_SQL}::text AS body
            FROM drinks d JOIN sections s ON s.id = d.section_id {PICTURE_LATERAL}
            WHERE d.id = %(drink_id)s AND d.archived_at IS NULL AND s.archived_at IS NULL""",
        {"drink_id": drink_id, "image_base_url": image_base_url},
    ).fetchone()
    return row["body"] if row else None


def list_ingredients(conn: Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, name, category, in_stock FROM ingredients ORDER BY name").fetchall()
    return [{**row, "id": str(row["id"])} for row in rows]


# ---------------------------------------------------------------- exclusions and taste


def exclusion_sql(exclude: list[str], params: dict[str, Any]) -> str:
    """No drink containing any of `exclude` (ingredient names, allergen keys, "non_vegan"),
    optional ingredients included; with a flag, no drink with an ingredient whose contents
    are unknown (no traits row). Flags become column names from a fixed list, never text
    from the request."""
    keys = sorted({value.strip().lower() for value in exclude})
    flags = [key for key in keys if key in ALLERGENS or key == NON_VEGAN]
    names = [key for key in keys if key not in flags]
    tests = []
    if names:
        params["exclude_names"] = names
        tests.append("i.name_key = ANY(%(exclude_names)s)")
    if flags:
        # An ingredient with no traits recorded may contain anything: not safe to serve.
        tests.append("t.ingredient_id IS NULL")
        tests += [f"t.{flag}" for flag in flags]
    return f"""NOT EXISTS (
        SELECT 1 FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
        LEFT JOIN ingredient_traits t ON t.ingredient_id = i.id
        WHERE di.drink_id = d.id AND ({" OR ".join(tests)}))"""


_TRAIT_ARRAYS = ",\n        ".join(
    f"array_agg(COALESCE(t.{column}, {default}) ORDER BY di.position) AS t_{column}"
    for column, default in (
        *((flavour, "0") for flavour in FLAVOURS),
        *((flag, "FALSE") for flag in ALLERGENS),
        ("non_vegan", "FALSE"),
        ("contains_alcohol", "TRUE"),
    )
)

TASTE_MENU_SQL = f"""SELECT {DRINK_COLUMNS}, x.*
    FROM drinks d JOIN sections s ON s.id = d.section_id
    LEFT JOIN LATERAL (
        SELECT array_agg(i.name ORDER BY di.position) AS t_name,
        array_agg(i.category ORDER BY di.position) AS t_category,
        array_agg(di.optional ORDER BY di.position) AS t_optional,
        array_agg(t.ingredient_id IS NOT NULL ORDER BY di.position) AS t_known,
        {_TRAIT_ARRAYS}
        FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
        LEFT JOIN ingredient_traits t ON t.ingredient_id = i.id
        WHERE di.drink_id = d.id) x ON TRUE
    WHERE d.archived_at IS NULL AND s.archived_at IS NULL
    ORDER BY s.position, s.name, d.position, d.name"""


def _traits_from_row(row: dict[str, Any]) -> tuple[IngredientTraits, ...]:
    out = []
    for index, name in enumerate(row["t_name"] or ()):
        out.append(
            IngredientTraits(
                name=name,
                optional=row["t_optional"][index],
                category=row["t_category"][index],
                flavour={f: row[f"t_{f}"][index] for f in FLAVOURS if row[f"t_{f}"][index]},
                contains_alcohol=row["t_contains_alcohol"][index],
                allergens=frozenset(a for a in ALLERGENS if row[f"t_{a}"][index]),
                vegan=not row["t_non_vegan"][index],
                known=row["t_known"][index],
            )
        )
    return tuple(out)


def taste_menu(conn: Connection[Any], image_base_url: str) -> list[MenuDrink]:
    """The whole public menu with each drink's ingredient traits: what the recommender
    reads. One round trip."""
    rows = conn.execute(TASTE_MENU_SQL).fetchall()
    return [MenuDrink(drink_from_row(row, image_base_url), _traits_from_row(row)) for row in rows]
