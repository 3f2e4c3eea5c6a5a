"""The bartender's memory and limits: conversations per guest, in the database.

`handle_message` is the service behind `POST /bartender/messages`: one read (the host's
switch, the guest's limits, the conversation so far, the live menu, the guest's profile
and orders, all through the reader role), the engine's grounded answer, then one write
(the turn, and what the guest told us about their taste, on their own profile only).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from psycopg import Connection

from chalicelib import bartender, menu, orders, profiles
from chalicelib.bartender_tools import Context
from chalicelib.errors import BartenderOff, NotFoundError, TooManyMessages
from chalicelib.recommend import History, MenuDrink, TasteProfile
from chalicelib.uow import UnitOfWork
from chalicelib.validation import ProfileUpdate

log = logging.getLogger(__name__)

RATE_LIMIT_MESSAGES = 10  # per guest per minute
CONVERSATION_HOURS = 12  # a party; then it expires
NIGHT_HOURS = 12  # the token budget's window


@dataclass
class TurnInputs:
    enabled: bool
    budget: int
    tokens_tonight: int
    recent_messages: int
    conversation_found: bool
    history: list[dict[str, str]] = field(default_factory=list)
    menu: list[MenuDrink] = field(default_factory=list)
    catalog_names: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)
    taste_history: History = field(default_factory=History)
    orders: list[dict[str, Any]] = field(default_factory=list)


def load_turn(
    conn: Connection[Any], guest_id: uuid.UUID, conversation_id: uuid.UUID | None, image_base_url: str
) -> TurnInputs:
    limits = conn.execute(
        """SELECT s.enabled, s.nightly_token_budget AS budget,
                  (SELECT coalesce(sum(tokens), 0) FROM bartender_messages
                    WHERE created_at > now() - make_interval(hours => %(night)s)) AS tokens_tonight,
                  (SELECT count(*) FROM bartender_messages
                    WHERE guest_id = %(g)s AND role = 'guest' AND created_at > now() - interval '1 minute') AS recent,
                  EXISTS (SELECT 1 FROM bartender_conversations
                    WHERE id = %(c)s AND guest_id = %(g)s AND expires_at > now()) AS found
           FROM bartender_settings s WHERE s.id = 'bar'""",
        {"g": guest_id, "c": conversation_id, "night": NIGHT_HOURS},
    ).fetchone()
    inputs = TurnInputs(
        enabled=bool(limits and limits["enabled"]),
        budget=int(limits["budget"]) if limits else 0,
        tokens_tonight=int(limits["tokens_tonight"]) if limits else 0,
        recent_messages=int(limits["recent"]) if limits else 0,
        conversation_found=bool(limits and limits["found"]),
    )
    if not inputs.enabled or (conversation_id is not None and not inputs.conversation_found):
        return inputs
    if conversation_id is not None:
        inputs.history = [
            {"role": row["role"], "text": row["text"]}
            for row in conn.execute(
                """SELECT role, text FROM (
                     SELECT role, text, created_at, position FROM bartender_messages WHERE conversation_id = %s
                     ORDER BY created_at DESC, position DESC LIMIT %s) last
                   ORDER BY created_at, position""",
                (conversation_id, bartender.HISTORY_TURNS),
            ).fetchall()
        ]
    inputs.menu = menu.taste_menu(conn, image_base_url)
    inputs.catalog_names = [row["name"] for row in conn.execute("SELECT name FROM drinks").fetchall()]
    inputs.profile = profiles.get_profile(conn, guest_id)
    inputs.taste_history = profiles.history(conn, guest_id)
    inputs.orders = orders.list_my_orders(conn, guest_id)
    return inputs


def record_turn(
    conn: Connection[Any],
    guest_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    message: str,
    turn: bartender.Turn,
    profile_update: ProfileUpdate | None,
) -> uuid.UUID:
    if conversation_id is None:
        conversation_id = uuid.uuid4()
        conn.execute(
            """INSERT INTO bartender_conversations (id, guest_id, expires_at)
               VALUES (%s, %s, now() + make_interval(hours => %s))""",
            (conversation_id, guest_id, CONVERSATION_HOURS),
        )
    conn.execute(
        """INSERT INTO bartender_messages
               (id, conversation_id, guest_id, position, role, text, drinks_json, proposal_json, engine, tokens)
           VALUES (%s, %s, %s, 0, 'guest', %s, '[]', NULL, '', 0),
                  (%s, %s, %s, 1, 'bartender', %s, %s, %s, %s, %s)""",
        (
            uuid.uuid4(), conversation_id, guest_id, message,
            uuid.uuid4(), conversation_id, guest_id, turn.reply,
            json.dumps([d["id"] for d in turn.drinks]),
            json.dumps(turn.proposal) if turn.proposal else None,
            turn.engine, turn.tokens,
        ),
    )  # fmt: skip
    if profile_update is not None:
        profiles.update_profile(conn, guest_id, profile_update)
    return conversation_id


def get_conversation(
    conn: Connection[Any], guest_id: uuid.UUID, conversation_id: uuid.UUID, image_base_url: str
) -> dict[str, Any]:
    """One of the guest's own conversations. Anyone else's is "not found"."""
    found = conn.execute(
        """SELECT id, created_at, expires_at FROM bartender_conversations
           WHERE id = %s AND guest_id = %s AND expires_at > now()""",
        (conversation_id, guest_id),
    ).fetchone()
    if found is None:
        raise NotFoundError("no such conversation")
    rows = conn.execute(
        """SELECT role, text, drinks_json, proposal_json, engine, created_at FROM bartender_messages
           WHERE conversation_id = %s ORDER BY created_at, position""",
        (conversation_id,),
    ).fetchall()
    drinks = {item.id: dict(item.drink) for item in menu.taste_menu(conn, image_base_url)}
    messages = []
    for row in rows:
        entry: dict[str, Any] = {"role": row["role"], "text": row["text"], "created_at": row["created_at"].isoformat()}
        if row["role"] == "bartender":
            # Cards as the menu has them now (a drink archived since is left out).
            entry["drinks"] = [drinks[i] for i in json.loads(row["drinks_json"]) if i in drinks]
            entry["engine"] = row["engine"]
            if row["proposal_json"]:
                entry["proposal"] = {"items": json.loads(row["proposal_json"])}
        messages.append(entry)
    return {
        "id": str(found["id"]),
        "created_at": found["created_at"].isoformat(),
        "expires_at": found["expires_at"].isoformat(),
        "messages": messages,
    }


def get_settings(conn: Connection[Any]) -> dict[str, Any]:
    row = conn.execute("SELECT enabled, nightly_token_budget FROM bartender_settings WHERE id = 'bar'").fetchone()
    return (
        {"enabled": bool(row["enabled"]), "nightly_token_budget": int(row["nightly_token_budget"])}
        if row
        else {
            "enabled": False,
            "nightly_token_budget": 0,
        }
    )


def update_settings(conn: Connection[Any], enabled: bool | None, budget: int | None) -> dict[str, Any]:
    conn.execute(
        """INSERT INTO bartender_settings (id, enabled, nightly_token_budget)
           VALUES ('bar', coalesce(%(e)s, TRUE), coalesce(%(b)s, 200000))
           ON CONFLICT (id) DO UPDATE SET enabled = coalesce(%(e)s, bartender_settings.enabled),
             nightly_token_budget = coalesce(%(b)s, bartender_settings.nightly_token_budget), updated_at = now()""",
        {"e": enabled, "b": budget},
    )
    return get_settings(conn)


# ---------------------------------------------------------------- the service


def profile_update(before: TasteProfile, after: TasteProfile) -> ProfileUpdate | None:
    """The PUT /me/profile body for what changed, validated as the route would; None if nothing did."""
    body: dict[str, Any] = {}
    for key in ("spirits", "likes", "dislikes", "avoid"):
        if tuple(getattr(after, key)) != tuple(getattr(before, key)):
            body[key] = list(getattr(after, key))
    if after.strength != before.strength:
        body["strength"] = after.strength
    if after.alcohol_free != before.alcohol_free:
        body["alcohol_free"] = after.alcohol_free
    if not body:
        return None
    try:
        return ProfileUpdate.model_validate(body)
    except ValueError as exc:  # a learned preference the profile cannot hold: keep the answer, skip the save
        log.info("bartender profile change not saved", extra={"reason": str(exc)[:200]})
        return None


def handle_message(
    uow: UnitOfWork,
    guest_id: uuid.UUID,
    message: str,
    conversation_id: uuid.UUID | None,
    *,
    image_base_url: str,
    engine_factory: Any,
) -> dict[str, Any]:
    """POST /bartender/messages. `engine_factory(tokens_left)` picks the engine."""
    inputs = uow.read(load_turn, guest_id, conversation_id, image_base_url)
    if not inputs.enabled:
        raise BartenderOff()
    if conversation_id is not None and not inputs.conversation_found:
        raise NotFoundError("no such conversation")
    if inputs.recent_messages >= RATE_LIMIT_MESSAGES:
        raise TooManyMessages()
    profile = TasteProfile.from_dict(inputs.profile)
    ctx = Context(
        guest_id=str(guest_id),
        menu=inputs.menu,
        profile=profile,
        history=inputs.taste_history,
        orders=inputs.orders,
    )
    engine = engine_factory(inputs.budget - inputs.tokens_tonight, inputs.catalog_names)
    turn = bartender.respond(engine, ctx, message, inputs.history, inputs.catalog_names)
    update = profile_update(profile, ctx.effective_profile)
    stored_id = uow.write(record_turn, guest_id, conversation_id, message, turn, update)
    return bartender.reply_json(str(stored_id), turn)
