"""DrinkCreated -> an AI photo prompt for the new drink, kept in S3 and on the drink.

The event arrives at least once (SQS, EventBridge), possibly twice, possibly late:
* idempotent per drink: a drink that already has a prompt is never sent to the model
  again; its stored prompt is only written to S3 again (same bytes), which repairs a
  missing object without needing s3:GetObject/ListBucket to look first;
* the prompt is saved with `WHERE photo_prompt IS NULL`, so of two concurrent
  deliveries one wins and the other adopts the winner's text;
* a drink that is gone (unknown id, archived) is logged and skipped: retrying cannot help;
* every other failure (model, S3, database) raises, so SQS redelivers the message and,
  after its maxReceiveCount, moves it to the dead-letter queue.

The database is written first and S3 second: a retry after an S3 failure then finds
the prompt on the drink and does not pay for another model call.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from psycopg import Connection

from chalicelib import aws, events
from chalicelib.ai import DrinkFacts, Ingredient, PhotoPromptWriter, writer_from_settings
from chalicelib.config import settings
from chalicelib.uow import Tx, UnitOfWork

log = logging.getLogger(__name__)

DRINK_CREATED = "DrinkCreated"
PHOTO_PROMPT_WRITTEN = "PhotoPromptWritten"
PROMPT_PREFIX = "prompts/"


class MalformedEvent(ValueError):
    """The event cannot be handled as sent: it is retried and ends in the dead-letter queue,
    where someone can look at it."""


def prompt_key(drink_id: uuid.UUID | str) -> str:
    return f"{PROMPT_PREFIX}{drink_id}.txt"


# ------------------------------------------------------------------ SQL


def load_drink(conn: Connection[Any], drink_id: uuid.UUID) -> dict[str, Any] | None:
    """The drink with what a prompt writer needs, or None when it is unknown or archived."""
    row = conn.execute(
        """SELECT d.id, d.name, d.description, d.glass, d.garnish, d.ingredients_json, d.tags_json,
                  d.photo_prompt, d.photo_prompt_source, s.name AS section
           FROM drinks d LEFT JOIN sections s ON s.id = d.section_id
           WHERE d.id = %s AND d.archived_at IS NULL""",
        (drink_id,),
    ).fetchone()
    if row is None:
        return None
    # Categories from the catalog (the JSON holds names and amounts only).
    categories = {
        r["name_key"]: r["category"]
        for r in conn.execute(
            """SELECT i.name_key, i.category FROM drink_ingredients di
               JOIN ingredients i ON i.id = di.ingredient_id WHERE di.drink_id = %s""",
            (drink_id,),
        ).fetchall()
    }
    return {**row, "categories": categories}


def save_prompt(conn: Tx, drink_id: uuid.UUID, prompt: str, source: str) -> tuple[str, str, bool] | None:
    """Store the prompt unless the drink already has one (a concurrent delivery won).
    Returns the drink's prompt and source after the write and whether ours was stored;
    None when the drink is gone."""
    row = conn.execute(
        """UPDATE drinks SET photo_prompt = %s, photo_prompt_source = %s
           WHERE id = %s AND photo_prompt IS NULL RETURNING photo_prompt, photo_prompt_source""",
        (prompt, source, drink_id),
    ).fetchone()
    if row is not None:
        return row["photo_prompt"], row["photo_prompt_source"], True
    winner = conn.execute("SELECT photo_prompt, photo_prompt_source FROM drinks WHERE id = %s", (drink_id,)).fetchone()
    if winner is None:  # deleted between our read and this write
        return None
    return winner["photo_prompt"], winner["photo_prompt_source"], False


# ------------------------------------------------------------------ the handler


def facts_from_row(row: dict[str, Any]) -> DrinkFacts:
    categories: dict[str, str] = row.get("categories", {})
    ingredients = tuple(
        Ingredient(
            name=str(item.get("name", "")),
            category=categories.get(str(item.get("name", "")).lower(), "other"),
            optional=bool(item.get("optional", False)),
        )
        for item in json.loads(row["ingredients_json"] or "[]")
    )
    return DrinkFacts(
        name=row["name"],
        glass=row["glass"] or "",
        garnish=row["garnish"] or "",
        description=row["description"] or "",
        section=row.get("section") or "",
        ingredients=ingredients,
        tags=tuple(json.loads(row["tags_json"] or "[]")),
    )


def drink_id_from(detail: dict[str, Any]) -> uuid.UUID:
    data = detail.get("data") if isinstance(detail, dict) else None
    raw = data.get("drink_id") if isinstance(data, dict) else None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise MalformedEvent(f"DrinkCreated without a valid data.drink_id: {raw!r}") from None


def put_prompt_object(s3: Any, bucket: str, drink_id: uuid.UUID, prompt: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=prompt_key(drink_id),
        Body=prompt.encode("utf-8"),
        ContentType="text/plain; charset=utf-8",
    )


def announce_prompt(uow: UnitOfWork, drink_id: uuid.UUID, prompt: str, source: str | None) -> None:
    """PhotoPromptWritten, after the prompt is stored: the picture handler may turn it into
    an AI photo (chalicelib/images.py). Sent again on a redelivery: that step is idempotent
    per drink and prompt version, and this way a publish lost before a retry is not lost."""
    from chalicelib import images

    uow.announce(
        PHOTO_PROMPT_WRITTEN,
        {"drink_id": str(drink_id), "prompt_version": images.prompt_version(prompt), "source": source},
    )


def handle_drink_created(
    event_detail: dict[str, Any],
    *,
    writer: PhotoPromptWriter | None = None,
    s3: Any = None,
    bucket: str | None = None,
    uow: UnitOfWork | None = None,
) -> str:
    """Give the new drink its photo prompt. Returns what happened: "created", "exists"
    (already had one; S3 rewritten), "lost_race" (a concurrent delivery stored its
    prompt first) or "skipped" (drink unknown or archived)."""
    drink_id = drink_id_from(event_detail)
    bucket = bucket if bucket is not None else settings().media_bucket
    if not bucket:
        raise RuntimeError("MEDIA_BUCKET is not configured")
    s3 = s3 if s3 is not None else aws.client("s3")
    uow = uow or UnitOfWork()
    row = uow.read(load_drink, drink_id)
    if row is None:
        log.warning("photo prompt skipped: drink unknown or archived", extra={"drink_id": str(drink_id)})
        return "skipped"
    if row["photo_prompt"]:
        put_prompt_object(s3, bucket, drink_id, row["photo_prompt"])
        log.info("photo prompt already stored", extra={"drink_id": str(drink_id)})
        announce_prompt(uow, drink_id, row["photo_prompt"], row["photo_prompt_source"])
        return "exists"
    writer = writer if writer is not None else writer_from_settings()
    prompt = writer.write(facts_from_row(row))
    saved = uow.write(save_prompt, drink_id, prompt, writer.source)
    if saved is None:
        log.warning("photo prompt skipped: drink deleted meanwhile", extra={"drink_id": str(drink_id)})
        return "skipped"
    stored, source, ours = saved
    put_prompt_object(s3, bucket, drink_id, stored)
    announce_prompt(uow, drink_id, stored, source)
    log.info(
        "photo prompt stored" if ours else "photo prompt: another delivery stored it first",
        extra={"drink_id": str(drink_id), "source": source, "key": prompt_key(drink_id)},
    )
    return "created" if ours else "lost_race"


# What each detail-type of the queue is handled by (the rule sends DrinkCreated only).
HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {DRINK_CREATED: handle_drink_created}


def handle_eventbridge_event(event: dict[str, Any]) -> str:
    """One EventBridge event as the rule's SQS target delivers it (the message body)."""
    return events.dispatch(event, HANDLERS, "photo prompts")


def handle_sqs_body(body: str) -> str:
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        raise MalformedEvent("message body is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedEvent("message body is not an EventBridge event")
    return handle_eventbridge_event(event)
