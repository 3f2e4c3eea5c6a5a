"""Guests' taste profiles, their thumbs up / down, and the reads the recommender needs.

A profile is one row per guest (an admin trying the bar out is keyed by their user id).
Its lists are stored as JSON text (read whole, never searched). An avoided ingredient is
stored by id, so renaming it in the catalog never drops the guest's hard rule; what the
API shows is the ingredient's current name (lower case). Allergen / dietary keys are
stored as they are.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from psycopg import Connection

from chalicelib.errors import BadRequestError, NotFoundError
from chalicelib.menu import taste_menu
from chalicelib.recommend import EXCLUDABLE_FLAGS, History, Recommendation, TasteProfile, recommend, similar
from chalicelib.validation import ProfileUpdate

_INGREDIENT = "ingredient:"
_LIST_COLUMNS = {"spirits": "spirits_json", "likes": "likes_json", "dislikes": "dislikes_json"}


def empty_profile() -> dict[str, Any]:
    return {"spirits": [], "likes": [], "dislikes": [], "strength": None, "avoid": [], "alcohol_free": False}


def _avoid_names(conn: Connection[Any], stored: list[str]) -> list[str]:
    """Stored avoid entries as the API shows them: keys, and ingredients by current name."""
    ids = [entry[len(_INGREDIENT):] for entry in stored if entry.startswith(_INGREDIENT)]
    names: dict[str, str] = {}
    if ids:
        rows = conn.execute("SELECT id, name_key FROM ingredients WHERE id = ANY(%s::uuid[])", (ids,)).fetchall()
        names = {str(row["id"]): row["name_key"] for row in rows}
    out = []
    for entry in stored:
        if entry.startswith(_INGREDIENT):
            name = names.get(entry[len(_INGREDIENT):])
            if name is not None:  # ingredients are never deleted; this is belt and braces
                out.append(name)
        else:
            out.append(entry)
    return out


def _from_row(conn: Connection[Any], row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return empty_profile()
    return {
        "spirits": json.loads(row["spirits_json"]),
        "likes": json.loads(row["likes_json"]),
        "dislikes": json.loads(row["dislikes_json"]),
        "strength": row["strength"],
        "avoid": _avoid_names(conn, json.loads(row["avoid_json"])),
        "alcohol_free": row["alcohol_free"],
    }


def get_profile(conn: Connection[Any], guest_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM guest_profiles WHERE guest_id = %s", (guest_id,)).fetchone()
    return _from_row(conn, row)


def _resolve_avoid(conn: Connection[Any], values: list[str]) -> list[str]:
    """Allergen / dietary keys stay; ingredient names become ids; anything else is a 400."""
    names = [value for value in values if value not in EXCLUDABLE_FLAGS]
    rows = conn.execute("SELECT id, name_key FROM ingredients WHERE name_key = ANY(%s)", (names,)).fetchall()
    ids = {row["name_key"]: str(row["id"]) for row in rows}
    unknown = [name for name in names if name not in ids]
    if unknown:
        raise BadRequestError(
            "avoid: not an allergen key or an ingredient on the menu: "
            + ", ".join(repr(name) for name in unknown)
            + f" (allergen keys: {', '.join(EXCLUDABLE_FLAGS)})"
        )
    return [value if value in EXCLUDABLE_FLAGS else _INGREDIENT + ids[value] for value in values]


def update_profile(conn: Connection[Any], guest_id: uuid.UUID, changes: ProfileUpdate) -> dict[str, Any]:
    """Apply the fields sent (an upsert: one statement, so parallel PUTs never lose the row)."""
    fields = changes.changes()
    values: dict[str, Any] = {"guest_id": guest_id}
    for field, column in _LIST_COLUMNS.items():
        if field in fields:
            values[column] = json.dumps(fields[field])
    if "avoid" in fields:
        values["avoid_json"] = json.dumps(_resolve_avoid(conn, fields["avoid"]))
    if "strength" in fields:
        values["strength"] = fields["strength"]
    if "alcohol_free" in fields:
        values["alcohol_free"] = fields["alcohol_free"]
    columns = list(values)
    updates = [f"{c} = EXCLUDED.{c}" for c in columns if c != "guest_id"] + ["updated_at = now()"]
    row = conn.execute(
        f"""INSERT INTO guest_profiles ({", ".join(columns)}) VALUES ({", ".join(f"%({c})s" for c in columns)})
            ON CONFLICT (guest_id) DO UPDATE SET {", ".join(updates)}
            RETURNING *""",
        values,
    ).fetchone()
    return _from_row(conn, row)


# ---------------------------------------------------------------- ratings


def list_ratings(conn: Connection[Any], guest_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT drink_id, rating FROM guest_ratings WHERE guest_id = %s ORDER BY drink_id", (guest_id,)
    ).fetchall()
    return [{"drink_id": str(row["drink_id"]), "rating": row["rating"]} for row in rows]


def rate_drink(conn: Connection[Any], guest_id: uuid.UUID, drink_id: uuid.UUID, rating: int) -> dict[str, Any]:
    """Thumbs up (1) or down (-1) on a drink of the menu; 0 clears the rating."""
    drink = conn.execute(
        """SELECT d.id FROM drinks d JOIN sections s ON s.id = d.section_id
           WHERE d.id = %s AND d.archived_at IS NULL AND s.archived_at IS NULL""",
        (drink_id,),
    ).fetchone()
    if drink is None:
        raise NotFoundError("no such drink on the menu")
    if rating == 0:
        conn.execute("DELETE FROM guest_ratings WHERE guest_id = %s AND drink_id = %s", (guest_id, drink_id))
    else:
        conn.execute(
            """INSERT INTO guest_ratings (guest_id, drink_id, rating) VALUES (%s, %s, %s)
               ON CONFLICT (guest_id, drink_id) DO UPDATE SET rating = EXCLUDED.rating, updated_at = now()""",
            (guest_id, drink_id, rating),
        )
    return {"drink_id": str(drink_id), "rating": rating}


# ---------------------------------------------------------------- what the recommender reads


def history(conn: Connection[Any], guest_id: uuid.UUID) -> History:
    """The guest's thumbs and how often they ordered each drink (cancelled orders do not count)."""
    row = conn.execute(
        """SELECT
             ARRAY(SELECT r.drink_id::text FROM guest_ratings r WHERE r.guest_id = %(g)s ORDER BY r.drink_id)
               AS rated,
             ARRAY(SELECT r.rating FROM guest_ratings r WHERE r.guest_id = %(g)s ORDER BY r.drink_id) AS ratings,
             ARRAY(SELECT x.drink_id::text FROM (
                 SELECT oi.drink_id, sum(oi.quantity) AS n FROM orders o JOIN order_items oi ON oi.order_id = o.id
                 WHERE o.guest_id = %(g)s AND o.status <> 'cancelled' GROUP BY oi.drink_id) x ORDER BY x.drink_id)
               AS ordered,
             ARRAY(SELECT x.n::int FROM (
                 SELECT oi.drink_id, sum(oi.quantity) AS n FROM orders o JOIN order_items oi ON oi.order_id = o.id
                 WHERE o.guest_id = %(g)s AND o.status <> 'cancelled' GROUP BY oi.drink_id) x ORDER BY x.drink_id)
               AS counts""",
        {"g": guest_id},
    ).fetchone()
    return History(
        ratings=dict(zip(row["rated"], row["ratings"], strict=True)),
        orders=dict(zip(row["ordered"], row["counts"], strict=True)),
    )


def recommendations(
    conn: Connection[Any], guest_id: uuid.UUID, limit: int, image_base_url: str
) -> list[dict[str, Any]]:
    """GET /recommendations: the guest's profile and history, the live menu, the ranking."""
    profile = TasteProfile.from_dict(get_profile(conn, guest_id))
    picks: list[Recommendation] = recommend(
        taste_menu(conn, image_base_url), profile, limit, history=history(conn, guest_id)
    )
    return [pick.to_json() for pick in picks]


def similar_drinks(
    conn: Connection[Any], drink_id: uuid.UUID, limit: int, image_base_url: str
) -> list[dict[str, Any]] | None:
    """GET /drinks/{id}/similar; None when the drink is not on the menu."""
    picks = similar(taste_menu(conn, image_base_url), str(drink_id), limit)
    return None if picks is None else [pick.to_json() for pick in picks]
