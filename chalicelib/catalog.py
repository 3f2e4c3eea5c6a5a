"""The host's side of the menu: drinks, sections and the ingredient catalog (admin reads and writes).

Every write function takes a `Tx` and runs inside `UnitOfWork.write(...)` (one
transaction, retried whole on a DSQL conflict), so it has no side effects beyond SQL:
it records its events (DrinkCreated/Updated/Deleted, MenuChanged) and which cached
public reads it makes stale, and the unit of work carries both out after the commit
(chalicelib/uow.py).

Nothing is hard-deleted. Archiving a drink takes it off the public menu while old
orders keep pointing at a real row; archiving a section is refused while it still
holds active drinks, and archived drinks keep a valid section to point at.

Consistency without foreign keys (DSQL has none): a write that puts a drink into a
section reads that section `FOR UPDATE`, and archiving a section does the same, so the
two conflict (a lock on PostgreSQL, an OCC conflict and a retry on DSQL) instead of
leaving an active drink in an archived section.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection
from psycopg import errors as pg_errors

from chalicelib import images
from chalicelib.errors import BadRequestError, ConflictError, NotFoundError
from chalicelib.menu import DRINK_COLUMNS, drink_from_row
from chalicelib.recommend import ALLERGENS, FLAVOURS
from chalicelib.uow import Tx
from chalicelib.validation import (
    DrinkCreate,
    DrinkUpdate,
    IngredientCreate,
    IngredientUpdate,
    RecipeIngredient,
    SectionCreate,
    SectionUpdate,
)

ADMIN_DRINK_COLUMNS = f"""{DRINK_COLUMNS}, d.position, d.archived_at, d.photo_prompt,
    d.photo_prompt_source, d.created_at, d.updated_at"""

# Admin lists order archived rows after the live ones (their sections may be archived too).
DRINK_ORDER = "s.archived_at IS NOT NULL, s.position, s.name, d.archived_at IS NOT NULL, d.position, d.name"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment is not None else None


@contextmanager
def _unique(message: str) -> Iterator[None]:
    """A unique-index violation (a duplicate name, possibly from a concurrent request) is a 409.

    Only wraps the one statement whose unique index is the name, so no other
    violation is mistaken for a duplicate name.
    """
    try:
        yield
    except pg_errors.UniqueViolation:
        raise ConflictError(message) from None


# ---------------------------------------------------------------- drinks


def admin_drink_from_row(row: dict[str, Any], image_base_url: str) -> dict[str, Any]:
    """The public representation plus what only the host sees."""
    return {
        **drink_from_row(row, image_base_url),
        "image_key": row["image_key"],
        "position": row["position"],
        "archived": row["archived_at"] is not None,
        "photo_prompt": row["photo_prompt"],
        "photo_prompt_source": row["photo_prompt_source"],
        # The AI photo made from the prompt, kept even while an uploaded photo wins (docs/pictures.md).
        "generated_image": images.generated_summary(row, image_base_url),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def list_every_drink(conn: Connection[Any], image_base_url: str) -> list[dict[str, Any]]:
    """Every drink, archived ones included."""
    rows = conn.execute(
        f"""SELECT {ADMIN_DRINK_COLUMNS} FROM drinks d LEFT JOIN sections s ON s.id = d.section_id
            ORDER BY {DRINK_ORDER}"""
    ).fetchall()
    return [admin_drink_from_row(row, image_base_url) for row in rows]


def get_any_drink(conn: Connection[Any], drink_id: uuid.UUID, image_base_url: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {ADMIN_DRINK_COLUMNS} FROM drinks d WHERE d.id = %s", (drink_id,)).fetchone()
    return admin_drink_from_row(row, image_base_url) if row else None


def _require_drink(conn: Connection[Any], drink_id: uuid.UUID, image_base_url: str) -> dict[str, Any]:
    drink = get_any_drink(conn, drink_id, image_base_url)
    if drink is None:
        raise NotFoundError("no such drink")
    return drink


def _lock_open_section(conn: Connection[Any], section_id: uuid.UUID, purpose: str) -> None:
    """The section a drink goes into must exist and be on the menu; lock it against archiving."""
    row = conn.execute(
        "SELECT name, description, position, archived_at FROM sections WHERE id = %s FOR UPDATE", (section_id,)
    ).fetchone()
    if row is None:
        raise BadRequestError(f"section_id: no such section ({section_id})")
    if row["archived_at"] is not None:
        raise BadRequestError(f"section {row['name']!r} is archived: {purpose}")


def _amount(value: float | None) -> int | float | None:
    # 50, not 50.0: the stored recipe reads like the seed's.
    return int(value) if value is not None and value.is_integer() else value


def _resolve_ingredients(
    conn: Connection[Any], items: list[RecipeIngredient]
) -> tuple[list[dict[str, Any]], list[tuple[uuid.UUID, bool]]]:
    """The recipe as display JSON (catalog spelling) and as (ingredient_id, optional) links."""
    keys = [item.name.lower() for item in items]
    rows = conn.execute("SELECT id, name, name_key FROM ingredients WHERE name_key = ANY(%s)", (keys,)).fetchall()
    catalog = {row["name_key"]: row for row in rows}
    missing = [item.name for item in items if item.name.lower() not in catalog]
    if missing:
        raise BadRequestError(
            "ingredients: not in the ingredient catalog: "
            + ", ".join(repr(name) for name in missing)
            + " (add them to the catalog first)"
        )
    recipe, links = [], []
    for item in items:
        known = catalog[item.name.lower()]
        recipe.append(
            {"name": known["name"], "amount": _amount(item.amount), "unit": item.unit, "optional": item.optional}
        )
        links.append((known["id"], item.optional))
    return recipe, links


def _write_links(conn: Connection[Any], drink_id: uuid.UUID, links: list[tuple[uuid.UUID, bool]]) -> None:
    """Replace the drink's normalized ingredient rows (what filters and availability use)."""
    conn.execute("DELETE FROM drink_ingredients WHERE drink_id = %s", (drink_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO drink_ingredients (drink_id, ingredient_id, position, optional) VALUES (%s, %s, %s, %s)",
            [(drink_id, ingredient_id, position, optional) for position, (ingredient_id, optional) in enumerate(links)],
        )


def _duplicate_drink(name: str) -> str:
    return f"a drink named {name!r} already exists (archived drinks count: unarchive it instead)"


def create_drink(tx: Tx, body: DrinkCreate, image_base_url: str) -> dict[str, Any]:
    """A new drink on the menu: DrinkCreated (the photo prompt, its picture, live menus)."""
    conn = tx.conn
    _lock_open_section(conn, body.section_id, "choose a section that is on the menu")
    recipe, links = _resolve_ingredients(conn, body.ingredients)
    with _unique(_duplicate_drink(body.name)):
        row = conn.execute(
            """INSERT INTO drinks (section_id, name, name_key, description, ingredients_json, recipe_steps_json,
                   glass, garnish, tags_json, abv, image_key, position)
               VALUES (%(section_id)s, %(name)s, %(name_key)s, %(description)s, %(ingredients_json)s,
                   %(recipe_steps_json)s, %(glass)s, %(garnish)s, %(tags_json)s, %(abv)s, %(image_key)s,
                   COALESCE(%(position)s::integer,
                            (SELECT COALESCE(MAX(position) + 1, 0) FROM drinks WHERE section_id = %(section_id)s)))
               RETURNING id""",
            {
                "section_id": body.section_id,
                "name": body.name,
                "name_key": body.name.lower(),
                "description": body.description,
                "ingredients_json": json.dumps(recipe),
                "recipe_steps_json": json.dumps(body.recipe_steps),
                "glass": body.glass,
                "garnish": body.garnish,
                "tags_json": json.dumps(body.tags),
                "abv": body.abv,
                "image_key": body.image_key,
                "position": body.position,
            },
        ).fetchone()
    _write_links(conn, row["id"], links)
    drink = _require_drink(conn, row["id"], image_base_url)
    _drink_changed(tx, "DrinkCreated", drink_event(drink))
    return drink


# Body field -> column, for the fields stored as they come.
_DRINK_PLAIN_COLUMNS = ("section_id", "description", "glass", "garnish", "abv", "image_key", "position")


def update_drink(tx: Tx, drink_id: uuid.UUID, changes: DrinkUpdate, image_base_url: str) -> dict[str, Any]:
    """Apply the fields sent; the drink as it is now. {"archived": false} unarchives.
    DrinkUpdated names the fields sent."""
    conn = tx.conn
    current = conn.execute(
        "SELECT section_id, archived_at FROM drinks WHERE id = %s FOR UPDATE", (drink_id,)
    ).fetchone()
    if current is None:
        raise NotFoundError("no such drink")
    fields = changes.changes()
    if "section_id" in fields:
        _lock_open_section(conn, fields["section_id"], "choose a section that is on the menu")
    elif fields.get("archived") is False and current["archived_at"] is not None:
        _lock_open_section(
            conn, current["section_id"], "restore the section or move the drink (section_id) to unarchive it"
        )

    assignments = ["updated_at = now()"]
    params: dict[str, Any] = {"id": drink_id}
    for column in _DRINK_PLAIN_COLUMNS:
        if column in fields:
            assignments.append(f"{column} = %({column})s")
            params[column] = fields[column]
    if "name" in fields:
        assignments += ["name = %(name)s", "name_key = %(name_key)s"]
        params.update(name=fields["name"], name_key=fields["name"].lower())
    for field in ("recipe_steps", "tags"):
        if field in fields:
            assignments.append(f"{field}_json = %({field})s")
            params[field] = json.dumps(fields[field])
    links = None
    if "ingredients" in fields:
        recipe, links = _resolve_ingredients(conn, fields["ingredients"])
        assignments.append("ingredients_json = %(ingredients_json)s")
        params["ingredients_json"] = json.dumps(recipe)
    if "archived" in fields:
        # Archiving twice keeps the first time it went off the menu.
        assignments.append("archived_at = CASE WHEN %(archived)s THEN COALESCE(archived_at, now()) END")
        params["archived"] = fields["archived"]

    with _unique(_duplicate_drink(fields.get("name", ""))):
        conn.execute(f"UPDATE drinks SET {', '.join(assignments)} WHERE id = %(id)s", params)
    if links is not None:
        _write_links(conn, drink_id, links)
    drink = _require_drink(conn, drink_id, image_base_url)
    _drink_changed(tx, "DrinkUpdated", drink_event(drink, sorted(changes.model_fields_set)))
    return drink


def archive_drink(tx: Tx, drink_id: uuid.UUID, image_base_url: str) -> dict[str, Any]:
    """Take a drink off the menu (its row and its orders stay). Deleting twice changes
    nothing and announces nothing."""
    archived = tx.execute(
        "UPDATE drinks SET archived_at = now(), updated_at = now() WHERE id = %s AND archived_at IS NULL RETURNING id",
        (drink_id,),
    ).fetchone()
    drink = _require_drink(tx.conn, drink_id, image_base_url)
    if archived is not None:
        _drink_changed(tx, "DrinkDeleted", drink_deleted_event(drink))
    return drink


def use_photo(tx: Tx, drink_id: uuid.UUID, image_key: str, image_base_url: str) -> dict[str, Any]:
    """"Use my photo instead" (docs/pictures.md): the uploaded photo becomes the drink's
    picture; the picture handler makes its WebP variants from the DrinkUpdated event."""
    changed = images.use_photo(tx.conn, drink_id, image_key)
    drink = _require_drink(tx.conn, drink_id, image_base_url)
    if changed:
        _drink_changed(tx, "DrinkUpdated", drink_event(drink, ["image_key"]))
    return drink


def _drink_changed(tx: Tx, event_type: str, data: dict[str, Any]) -> None:
    """A drink write: the public drink reads are stale, and the event says what changed."""
    tx.stale("drink")
    tx.record(event_type, data)


def _menu_changed(tx: Tx, kind: str, entity: dict[str, Any], change: str, changed: list[str] | None = None) -> None:
    """A section or ingredient write: its public reads are stale; MenuChanged tells live menus."""
    tx.stale(kind)
    tx.record("MenuChanged", menu_changed_event(kind, entity, change, changed))


def drink_event(drink: dict[str, Any], changed: list[str] | None = None) -> dict[str, Any]:
    """`data` of DrinkCreated / DrinkUpdated: enough for a consumer (photo prompts, the live
    menu) to act without reading the database."""
    data = {
        "drink_id": drink["id"],
        "name": drink["name"],
        "section_id": drink["section_id"],
        "description": drink["description"],
        "ingredients": drink["ingredients"],
        "glass": drink["glass"],
        "garnish": drink["garnish"],
        "tags": drink["tags"],
        "image_key": drink["image_key"],
        "archived": drink["archived"],
    }
    if changed is not None:
        data["changed"] = changed
    return data


def drink_deleted_event(drink: dict[str, Any]) -> dict[str, Any]:
    return {"drink_id": drink["id"], "name": drink["name"]}


def menu_changed_event(
    kind: str, entity: dict[str, Any], change: str, changed: list[str] | None = None
) -> dict[str, Any]:
    """`data` of MenuChanged (an ingredient or section write): which thing, and what kind of
    change. Minimal on purpose: consumers (the live menu) refetch the public menu."""
    data: dict[str, Any] = {"kind": kind, "id": entity["id"], "change": change}
    if changed is not None:
        data["changed"] = changed
    if kind == "ingredient":
        data["in_stock"] = entity["in_stock"]  # the field that moves drinks on and off "available"
    return data


# ---------------------------------------------------------------- sections

SECTION_COLUMNS = """s.id, s.name, s.description, s.position, s.archived_at, s.created_at, s.updated_at,
    (SELECT count(*) FROM drinks d WHERE d.section_id = s.id AND d.archived_at IS NULL) AS active_drinks"""


def _section_from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "description": row["description"],
        "position": row["position"],
        "archived": row["archived_at"] is not None,
        "active_drinks": row["active_drinks"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def list_every_section(conn: Connection[Any]) -> list[dict[str, Any]]:
    """Every section, archived ones last, with how many active drinks each holds."""
    rows = conn.execute(
        f"SELECT {SECTION_COLUMNS} FROM sections s ORDER BY s.archived_at IS NOT NULL, s.position, s.name"
    ).fetchall()
    return [_section_from_row(row) for row in rows]


def _require_section(conn: Connection[Any], section_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(f"SELECT {SECTION_COLUMNS} FROM sections s WHERE s.id = %s", (section_id,)).fetchone()
    if row is None:
        raise NotFoundError("no such section")
    return _section_from_row(row)


def _duplicate_section(name: str) -> str:
    return f"a section named {name!r} already exists (archived sections count: unarchive it instead)"


def create_section(tx: Tx, body: SectionCreate) -> dict[str, Any]:
    conn = tx.conn
    with _unique(_duplicate_section(body.name)):
        row = conn.execute(
            """INSERT INTO sections (name, name_key, description, position)
               VALUES (%(name)s, %(name_key)s, %(description)s,
                       COALESCE(%(position)s::integer, (SELECT COALESCE(MAX(position) + 1, 0) FROM sections)))
               RETURNING id""",
            {
                "name": body.name,
                "name_key": body.name.lower(),
                "description": body.description,
                "position": body.position,
            },
        ).fetchone()
    section = _require_section(conn, row["id"])
    _menu_changed(tx, "section", section, "created")
    return section


def _refuse_if_holding_drinks(conn: Connection[Any], section_id: uuid.UUID, name: str) -> None:
    count = conn.execute(
        "SELECT count(*) AS n FROM drinks WHERE section_id = %s AND archived_at IS NULL", (section_id,)
    ).fetchone()["n"]
    if count:
        raise ConflictError(
            f"section {name!r} still holds {count} active drink{'s' if count != 1 else ''}: move or archive them first"
        )


def _lock_section(conn: Connection[Any], section_id: uuid.UUID) -> dict[str, Any]:
    # Locked first, then the drinks are counted: a concurrent drink write into this
    # section either finishes before the count or sees the section archived.
    row = conn.execute(
        "SELECT name, description, position, archived_at FROM sections WHERE id = %s FOR UPDATE", (section_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError("no such section")
    return row


def update_section(tx: Tx, section_id: uuid.UUID, changes: SectionUpdate) -> dict[str, Any]:
    """Apply the fields sent. Only the fields whose value really changed are announced;
    a write that changes nothing is not announced at all."""
    conn = tx.conn
    current = _lock_section(conn, section_id)
    fields = changes.changes()
    stored = {**current, "archived": current["archived_at"] is not None}
    changed = sorted(name for name, value in fields.items() if stored[name] != value)
    if not changed:
        return _require_section(conn, section_id)
    if fields.get("archived") and current["archived_at"] is None:
        _refuse_if_holding_drinks(conn, section_id, current["name"])
    assignments = ["updated_at = now()"]
    params: dict[str, Any] = {"id": section_id}
    for column in ("description", "position"):
        if column in fields:
            assignments.append(f"{column} = %({column})s")
            params[column] = fields[column]
    if "name" in fields:
        assignments += ["name = %(name)s", "name_key = %(name_key)s"]
        params.update(name=fields["name"], name_key=fields["name"].lower())
    if "archived" in fields:
        assignments.append("archived_at = CASE WHEN %(archived)s THEN COALESCE(archived_at, now()) END")
        params["archived"] = fields["archived"]
    with _unique(_duplicate_section(fields.get("name", ""))):
        conn.execute(f"UPDATE sections SET {', '.join(assignments)} WHERE id = %(id)s", params)
    section = _require_section(conn, section_id)
    _menu_changed(tx, "section", section, "updated", changed)
    return section


def archive_section(tx: Tx, section_id: uuid.UUID) -> dict[str, Any]:
    """DELETE of a section: refused (409) while it holds active drinks, else archived
    (announced the first time only). Soft: archived drinks keep pointing at it."""
    conn = tx.conn
    current = _lock_section(conn, section_id)
    if current["archived_at"] is not None:
        return _require_section(conn, section_id)
    _refuse_if_holding_drinks(conn, section_id, current["name"])
    conn.execute("UPDATE sections SET archived_at = now(), updated_at = now() WHERE id = %s", (section_id,))
    section = _require_section(conn, section_id)
    _menu_changed(tx, "section", section, "archived")
    return section


# ---------------------------------------------------------------- ingredients
# An ingredient's taste and contents live in ingredient_traits (same key; see
# sql/migrations/0006_taste.sql). An ingredient without a traits row (created before
# that migration) reads as all zeros and no flags, and makes its drinks not alcohol-free.

TRAIT_FLAGS = ("contains_alcohol", "non_vegan", *ALLERGENS)

INGREDIENT_COLUMNS = f"""i.id, i.name, i.category, i.in_stock, i.created_at, i.updated_at,
    {", ".join(f"COALESCE(t.{f}, 0) AS {f}" for f in FLAVOURS)},
    {", ".join(f"COALESCE(t.{f}, FALSE) AS {f}" for f in TRAIT_FLAGS)}, t.abv,
    (SELECT count(*) FROM drink_ingredients di JOIN drinks d ON d.id = di.drink_id
     WHERE di.ingredient_id = i.id AND d.archived_at IS NULL) AS active_drinks"""
INGREDIENT_FROM = "ingredients i LEFT JOIN ingredient_traits t ON t.ingredient_id = i.id"


def _ingredient_from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "category": row["category"],
        "in_stock": row["in_stock"],
        "flavour": {f: row[f] for f in FLAVOURS},
        "allergens": [a for a in ALLERGENS if row[a]],
        "vegan": not row["non_vegan"],
        "contains_alcohol": row["contains_alcohol"],
        "abv": float(row["abv"]) if row["abv"] is not None else None,
        "active_drinks": row["active_drinks"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def list_ingredients(conn: Connection[Any]) -> list[dict[str, Any]]:
    """The catalog with stock, taste, contents and how many active drinks use each ingredient."""
    rows = conn.execute(f"SELECT {INGREDIENT_COLUMNS} FROM {INGREDIENT_FROM} ORDER BY i.name").fetchall()
    return [_ingredient_from_row(row) for row in rows]


def _require_ingredient(conn: Connection[Any], ingredient_id: uuid.UUID) -> dict[str, Any]:
    return _ingredient_from_row(_require_ingredient_row(conn, ingredient_id))


def _require_ingredient_row(conn: Connection[Any], ingredient_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {INGREDIENT_COLUMNS} FROM {INGREDIENT_FROM} WHERE i.id = %s", (ingredient_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError("no such ingredient")
    return dict(row)


def _duplicate_ingredient(name: str) -> str:
    return f"an ingredient named {name!r} is already in the catalog"


def _write_traits(conn: Connection[Any], ingredient_id: uuid.UUID, traits: dict[str, Any]) -> None:
    """Upsert the given trait columns (names from FLAVOURS / TRAIT_FLAGS / abv only)."""
    columns = ["ingredient_id", *traits]
    values = {"ingredient_id": ingredient_id, **traits}
    updates = [f"{c} = EXCLUDED.{c}" for c in traits] + ["updated_at = now()"]
    conn.execute(
        f"""INSERT INTO ingredient_traits ({", ".join(columns)})
            VALUES ({", ".join(f"%({c})s" for c in columns)})
            ON CONFLICT (ingredient_id) DO UPDATE SET {", ".join(updates)}""",
        values,
    )


def _traits_of(body: IngredientCreate) -> dict[str, Any]:
    allergens = set(body.allergens)
    return {
        **body.flavour.model_dump(),
        "contains_alcohol": body.contains_alcohol,
        "abv": body.abv,
        "non_vegan": not body.vegan,
        **{a: a in allergens for a in ALLERGENS},
    }


def create_ingredient(tx: Tx, body: IngredientCreate) -> dict[str, Any]:
    conn = tx.conn
    with _unique(_duplicate_ingredient(body.name)):
        row = conn.execute(
            """INSERT INTO ingredients (name, name_key, category, in_stock) VALUES (%s, %s, %s, %s)
               RETURNING id""",
            (body.name, body.name.lower(), body.category.value, body.in_stock),
        ).fetchone()
    _write_traits(conn, row["id"], _traits_of(body))
    ingredient = _require_ingredient(conn, row["id"])
    _menu_changed(tx, "ingredient", ingredient, "created")
    return ingredient


def _trait_changes(current: dict[str, Any], fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The trait columns to write and the API fields whose value really changed."""
    before = _ingredient_from_row({**current, "active_drinks": 0})
    flavour = fields.get("flavour")
    sent = {k: getattr(flavour, k) for k in flavour.model_fields_set} if flavour is not None else {}
    after = {
        "flavour": {**before["flavour"], **sent},
        "allergens": list(fields.get("allergens", before["allergens"])),
        "vegan": fields.get("vegan", before["vegan"]),
        "contains_alcohol": fields.get("contains_alcohol", before["contains_alcohol"]),
        "abv": fields["abv"] if "abv" in fields else before["abv"],
    }
    if "contains_alcohol" in fields and not after["contains_alcohol"] and "abv" not in fields:
        after["abv"] = None  # no longer alcoholic: no strength either
    if after["abv"] is not None and not after["contains_alcohol"]:
        raise BadRequestError("abv is only for an ingredient that contains alcohol (contains_alcohol: true)")
    changed = sorted(k for k in after if after[k] != before[k])
    if not changed:
        return {}, []
    allergens = set(after["allergens"])
    columns = {
        **after["flavour"],
        "contains_alcohol": after["contains_alcohol"],
        "abv": after["abv"],
        "non_vegan": not after["vegan"],
        **{a: a in allergens for a in ALLERGENS},
    }
    return columns, changed


def update_ingredient(tx: Tx, ingredient_id: uuid.UUID, changes: IngredientUpdate) -> dict[str, Any]:
    """Stock, name, category, taste, contents. Stock decides the availability of every drink
    that needs it; contents decide allergens and alcohol-free. Announces the fields whose
    value really changed; nothing written, nothing announced."""
    conn = tx.conn
    locked = conn.execute(
        "SELECT name, name_key, category, in_stock FROM ingredients WHERE id = %s FOR UPDATE", (ingredient_id,)
    ).fetchone()
    if locked is None:
        raise NotFoundError("no such ingredient")
    current = {**locked, **_require_ingredient_row(conn, ingredient_id)}
    fields = changes.changes()
    plain = {k: v for k, v in fields.items() if k in ("name", "category", "in_stock")}
    stored = {"name": current["name"], "category": current["category"], "in_stock": current["in_stock"]}
    changed = sorted(name for name, value in plain.items() if stored[name] != getattr(value, "value", value))
    traits, traits_changed = _trait_changes(current, fields)
    if not changed and not traits_changed:
        return _require_ingredient(conn, ingredient_id)
    if changed:
        assignments = ["updated_at = now()"]
        params: dict[str, Any] = {"id": ingredient_id}
        if "in_stock" in plain:
            assignments.append("in_stock = %(in_stock)s")
            params["in_stock"] = plain["in_stock"]
        if "category" in plain:
            assignments.append("category = %(category)s")
            params["category"] = plain["category"].value
        if "name" in plain:
            assignments += ["name = %(name)s", "name_key = %(name_key)s"]
            params.update(name=plain["name"], name_key=plain["name"].lower())
        with _unique(_duplicate_ingredient(plain.get("name", ""))):
            conn.execute(f"UPDATE ingredients SET {', '.join(assignments)} WHERE id = %(id)s", params)
        if "name" in plain and plain["name"] != current["name"]:
            _rename_in_recipes(conn, ingredient_id, current["name_key"], plain["name"])
    if traits_changed:
        _write_traits(conn, ingredient_id, traits)
    ingredient = _require_ingredient(conn, ingredient_id)
    _menu_changed(tx, "ingredient", ingredient, "updated", sorted(changed + traits_changed))
    return ingredient


def _rename_in_recipes(conn: Connection[Any], ingredient_id: uuid.UUID, old_key: str, new_name: str) -> None:
    """Drinks show their recipe from ingredients_json: keep it in step with the catalog name."""
    rows = conn.execute(
        """SELECT d.id, d.ingredients_json FROM drinks d JOIN drink_ingredients di ON di.drink_id = d.id
           WHERE di.ingredient_id = %s""",
        (ingredient_id,),
    ).fetchall()
    updates = []
    for row in rows:
        recipe = json.loads(row["ingredients_json"])
        for item in recipe:
            if item["name"].lower() == old_key:
                item["name"] = new_name
        updates.append((json.dumps(recipe), row["id"]))
    if updates:
        with conn.cursor() as cur:
            cur.executemany("UPDATE drinks SET ingredients_json = %s, updated_at = now() WHERE id = %s", updates)
