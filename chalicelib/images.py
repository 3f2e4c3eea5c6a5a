"""Every drink has a picture (docs/pictures.md).

What a drink shows, in this order:

1. **photo**: the host's uploaded photo (`image_key`), with WebP variants (400, 800,
   1200 px wide) once the picture handler has resized it. An uploaded photo always wins.
2. **generated**: an AI photo made from the drink's photo prompt by a Bedrock image
   model (Nova Canvas), stored under `drink-images/generated/`, with its variants.
3. **illustration**: the offline SVG drawn from the drink's data (chalicelib/illustrations.py),
   stored under `drink-images/illustrations/` with a key that hashes its inputs.

The picture handler (app.py `picture_handler`, queue `...-pictures`) takes:

* `DrinkCreated` / `DrinkUpdated`: (re)draw the illustration, and resize a new uploaded
  photo into WebP variants (originals are kept);
* `PhotoPromptWritten` (chalicelib/photo_prompts.py) and `PictureRequested` (the admin's
  "regenerate"): generate a photo, unless generation is off for the stage, the nightly cap
  is reached, the drink has an uploaded photo, or this drink + prompt version + attempt
  was already generated (a redelivery is a no-op).

Every step is idempotent (keys are deterministic, database writes are guarded) and raises
on failures worth retrying, so SQS redelivers and finally dead-letters. Writes that change
what a drink shows flush the menu cache and announce `DrinkUpdated` with
`changed: ["picture"]` after the commit; the handler ignores those announcements itself.
Pillow and boto3 are imported on first use: the API's menu routes import this module
only for `picture()`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg import Connection

from chalicelib import aws, events
from chalicelib.config import settings
from chalicelib.errors import BadRequestError, ConflictError, NotFoundError
from chalicelib.uow import Tx, UnitOfWork

log = logging.getLogger(__name__)

IMAGE_PREFIX = "drink-images/"
ILLUSTRATION_PREFIX = "drink-images/illustrations/"
# Bump when chalicelib/illustrations.py draws differently: every illustration gets a new
# key (CloudFront and browsers cache them forever). Kept here with the key, so the menu
# routes name an illustration without importing (compiling, in Lambda) the drawing code.
ILLUSTRATION_VERSION = 4
ILLUSTRATION_WIDTH, ILLUSTRATION_HEIGHT = 400, 300  # illustrations.WIDTH, HEIGHT
GENERATED_PREFIX = "drink-images/generated/"
VARIANT_WIDTHS = (400, 800, 1200)
WEBP_QUALITY = 80
# Refuse to decode more than this (a decompression bomb); uploads are at most 5 MB.
MAX_SOURCE_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000
IMMUTABLE = "public, max-age=31536000, immutable"  # every key is unique to its content

# Nova Canvas text-to-image (docs/pictures.md): 4:3 like the drink page, multiples of 16.
IMAGE_WIDTH, IMAGE_HEIGHT = 1280, 960
CFG_SCALE = 6.5
QUALITY = "standard"
MAX_SEED = 858_993_459
MAX_PROMPT_CHARS = 1024
NEGATIVE_PROMPT = (
    "text, letters, words, logo, label, watermark, people, hands, faces, clutter, busy background, "
    "blurry, distorted glass, cartoon, illustration, painting"
)
# A party night runs from noon to noon (UTC): the cap is not reset at midnight mid-party.
NIGHT_STARTS_AT_HOUR = 12

PHOTO_PROMPT_WRITTEN = "PhotoPromptWritten"
PICTURE_REQUESTED = "PictureRequested"
DRINK_CREATED = "DrinkCreated"
DRINK_UPDATED = "DrinkUpdated"
PICTURE_CHANGED = ["picture"]  # `changed` of the DrinkUpdated this module announces
# Drink fields the illustration is drawn from (a DrinkUpdated without them keeps it).
ILLUSTRATED_FIELDS = {"glass", "garnish", "ingredients", "archived"}


class MalformedEvent(ValueError):
    """The event cannot be handled as sent: retried, then dead-lettered for a look."""


class ImageGenerationFailed(RuntimeError):
    """The image model answered without an image (its `error`, or no images): retried."""


class PillowMissing(RuntimeError):
    """Pillow is not importable here: the picture handler's layer (infra/deploy/layer.py) is
    missing. Raised (so SQS retries, then dead-letters with this message); nothing else
    in the app needs Pillow."""


class UnreadableImage(ValueError):
    """The stored bytes are not an image Pillow can read (or too large to): retrying cannot help."""


# ------------------------------------------------------------------ the drink JSON's picture


def illustration_inputs_hash(glass: str, garnish: str, ingredients_json: str) -> str:
    """The hash in an illustration's key: the drawing version and the drink fields it reads,
    as stored (so the menu query names the key without drawing or parsing)."""
    canonical = f"{ILLUSTRATION_VERSION}\x1f{glass}\x1f{garnish}\x1f{ingredients_json or '[]'}"
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def illustration_key(drink_id: str, glass: str, garnish: str, ingredients_json: str) -> str:
    return f"{ILLUSTRATION_PREFIX}{drink_id}-{illustration_inputs_hash(glass, garnish, ingredients_json)}.svg"


def _load(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _variants(stored: dict[str, Any], image_base_url: str) -> list[dict[str, Any]]:
    return [
        {"width": int(v["width"]), "url": f"{image_base_url}/{v['key']}"}
        for v in stored.get("variants") or []
        if isinstance(v, dict) and v.get("key") and v.get("width")
    ]


def picture(row: dict[str, Any], image_base_url: str) -> dict[str, Any]:
    """What the drink shows: {kind, url, width, height, variants [{width, url}]}.

    `kind` is "photo" (uploaded), "generated" (AI) or "illustration" (offline SVG), so
    the web app never labels an illustration or an AI image as a photo. `row` holds the
    drink's columns (menu.DRINK_COLUMNS); nothing here touches the database or S3."""
    if row.get("image_key"):
        stored = _load(row.get("image_variants_json")) or {}
        current = stored.get("source_key") == row["image_key"]  # variants of an older photo do not count
        return {
            "kind": "photo",
            "url": f"{image_base_url}/{row['image_key']}",
            "width": stored.get("width") if current else None,
            "height": stored.get("height") if current else None,
            "variants": _variants(stored, image_base_url) if current else [],
        }
    generated = _load(row.get("generated_image_json"))
    if generated and generated.get("key"):
        return {
            "kind": "generated",
            "url": f"{image_base_url}/{generated['key']}",
            "width": generated.get("width"),
            "height": generated.get("height"),
            "variants": _variants(generated, image_base_url),
        }
    key = illustration_key(
        str(row["id"]), row.get("glass") or "", row.get("garnish") or "", row.get("ingredients_json") or "[]"
    )
    return {
        "kind": "illustration",
        "url": f"{image_base_url}/{key}",
        "width": ILLUSTRATION_WIDTH,
        "height": ILLUSTRATION_HEIGHT,
        "variants": [],
    }


def generated_summary(row: dict[str, Any], image_base_url: str) -> dict[str, Any] | None:
    """The admin's view of the drink's generated photo (also while an uploaded photo wins)."""
    generated = _load(row.get("generated_image_json"))
    if not generated or not generated.get("key"):
        return None
    return {
        "url": f"{image_base_url}/{generated['key']}",
        **{k: generated.get(k) for k in ("width", "height", "seed", "model_id", "prompt_version", "attempt")},
        "created_at": generated.get("created_at"),
    }


# ------------------------------------------------------------------ pure helpers


def prompt_version(prompt: str) -> str:
    """A prompt's version: a hash of its text (the same prompt, the same version)."""
    return hashlib.sha256(prompt.strip().encode("utf-8")).hexdigest()[:12]


def seed_for(drink_id: uuid.UUID | str, version: str, attempt: int) -> int:
    """The model seed: fixed per drink, prompt version and attempt, so a redelivery asks
    for the very same picture and "regenerate" (attempt + 1) for another one."""
    digest = hashlib.sha256(f"{drink_id}:{version}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SEED + 1)


def party_night(now: dt.datetime) -> dt.date:
    """The night a moment belongs to: noon to noon UTC."""
    return (now.astimezone(dt.UTC) - dt.timedelta(hours=NIGHT_STARTS_AT_HOUR)).date()


def generated_key(drink_id: uuid.UUID | str, version: str, attempt: int) -> str:
    return f"{GENERATED_PREFIX}{drink_id}/{version}-{attempt}.png"


def variant_key(source_key: str, width: int) -> str:
    """`drink-images/abc-negroni.jpg` -> `drink-images/abc-negroni-400w.webp` (next to it)."""
    stem = source_key.rsplit(".", 1)[0] if "." in source_key.rsplit("/", 1)[-1] else source_key
    return f"{stem}-{width}w.webp"


def nova_canvas_request(prompt: str, seed: int) -> dict[str, Any]:
    """The InvokeModel body of Nova Canvas text-to-image."""
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": prompt.strip()[:MAX_PROMPT_CHARS], "negativeText": NEGATIVE_PROMPT},
        "imageGenerationConfig": {
            "numberOfImages": 1,
            "width": IMAGE_WIDTH,
            "height": IMAGE_HEIGHT,
            "cfgScale": CFG_SCALE,
            "seed": seed,
            "quality": QUALITY,
        },
    }


# ------------------------------------------------------------------ resizing (Pillow)


@dataclass(frozen=True)
class Resized:
    width: int
    height: int
    variants: tuple[tuple[int, bytes], ...]  # (width, WebP bytes), narrowest first


def make_variants(data: bytes, widths: tuple[int, ...] = VARIANT_WIDTHS) -> Resized:
    """WebP variants of an image at `widths` (never wider than the original: a narrower
    original gets one variant at its own width). EXIF rotation is applied."""
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as exc:
        raise PillowMissing("Pillow is not installed: photo variants need the picture handler's layer "
                            "(requirements-pictures.txt, infra/deploy/layer.py)") from exc

    if len(data) > MAX_SOURCE_BYTES:
        raise UnreadableImage(f"image is {len(data)} bytes, more than {MAX_SOURCE_BYTES}")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise UnreadableImage(f"image is {opened.width}x{opened.height}, more than {MAX_PIXELS} pixels")
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"not a readable image: {exc}") from None
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    width, height = image.size
    targets = sorted({min(w, width) for w in widths})
    variants = []
    for target in targets:
        scaled = image if target == width else image.resize((target, max(1, round(height * target / width))),
                                                            Image.Resampling.LANCZOS)
        out = io.BytesIO()
        scaled.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        variants.append((target, out.getvalue()))
    return Resized(width, height, tuple(variants))


# ------------------------------------------------------------------ AWS clients


# The image model's client (chalicelib/aws.py makes it, in `image_region`): an image
# takes seconds to make, and SQS retries a failure, so one attempt each time.
BEDROCK_CONFIG: dict[str, Any] = {
    "connect_timeout": 5, "read_timeout": 90, "retries": {"max_attempts": 1, "mode": "standard"},
}


class NovaCanvas:
    """Text-to-image with Amazon Nova Canvas (InvokeModel, JSON in and out)."""

    def __init__(self, model_id: str, client: Any = None) -> None:
        self.model_id = model_id
        self.client = client

    def generate(self, prompt: str, seed: int) -> bytes:
        client = self.client
        if client is None:
            client = aws.client("bedrock-runtime", region=settings().image_region, config=BEDROCK_CONFIG)
        response = client.invoke_model(
            modelId=self.model_id,
            body=json.dumps(nova_canvas_request(prompt, seed)),
            contentType="application/json",
            accept="application/json",
        )
        payload = json.loads(response["body"].read())
        if payload.get("error"):
            raise ImageGenerationFailed(f"the image model refused: {payload['error']}")
        images = payload.get("images") or []
        if not images:
            raise ImageGenerationFailed("the image model answered without an image")
        return base64.b64decode(images[0], validate=True)


def put_object(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=IMMUTABLE)


# ------------------------------------------------------------------ SQL

PICTURE_COLUMNS = """d.id, d.name, d.glass, d.garnish, d.ingredients_json, d.image_key, d.image_variants_json,
    d.generated_image_json, d.photo_prompt, d.archived_at"""


def load_drink(conn: Connection[Any], drink_id: uuid.UUID) -> dict[str, Any] | None:
    """The drink's picture columns and its ingredients' categories; None when unknown."""
    row = conn.execute(f"SELECT {PICTURE_COLUMNS} FROM drinks d WHERE d.id = %s", (drink_id,)).fetchone()
    if row is None:
        return None
    categories = {
        r["name_key"]: r["category"]
        for r in conn.execute(
            """SELECT i.name_key, i.category FROM drink_ingredients di
               JOIN ingredients i ON i.id = di.ingredient_id WHERE di.drink_id = %s""",
            (drink_id,),
        ).fetchall()
    }
    return {**row, "categories": categories}


def load_menu_for_illustrations(conn: Connection[Any]) -> list[dict[str, Any]]:
    """Every drink on the menu with its ingredients' categories (one statement)."""
    return conn.execute(
        """SELECT d.id, d.glass, d.garnish, d.ingredients_json,
                  COALESCE((SELECT string_agg(i.name_key || '=' || i.category, '|')
                            FROM drink_ingredients di JOIN ingredients i ON i.id = di.ingredient_id
                            WHERE di.drink_id = d.id), '') AS categories
           FROM drinks d WHERE d.archived_at IS NULL"""
    ).fetchall()


def save_variants(tx: Tx, drink_id: uuid.UUID, source_key: str, stored: dict[str, Any]) -> bool:
    """Record the variants of `source_key`, if it is still the drink's photo."""
    row = tx.execute(
        "UPDATE drinks SET image_variants_json = %s WHERE id = %s AND image_key = %s RETURNING id",
        (json.dumps(stored), drink_id, source_key),
    ).fetchone()
    if row is None:
        return False
    _picture_changed(tx, drink_id)
    return True


def _picture_changed(tx: Tx, drink_id: uuid.UUID | str) -> None:
    """The public menu shows another picture: its drink reads are stale, live menus refetch."""
    tx.stale("drink")
    tx.record(DRINK_UPDATED, {"drink_id": str(drink_id), "changed": PICTURE_CHANGED})


@dataclass(frozen=True)
class Job:
    drink_id: uuid.UUID
    prompt_version: str
    attempt: int

    @property
    def seed(self) -> int:
        return seed_for(self.drink_id, self.prompt_version, self.attempt)

    @property
    def key(self) -> str:
        return generated_key(self.drink_id, self.prompt_version, self.attempt)


def claim_job(tx: Tx, job: Job, night: dt.date, cap: int, model_id: str) -> str:
    """Start a generation: "new" (budget taken), "retry" (an earlier delivery started it and
    took the budget), or its final status ("done", "capped", "superseded")."""
    conn = tx.conn
    row = conn.execute(
        "SELECT status FROM picture_jobs WHERE drink_id = %s AND prompt_version = %s AND attempt = %s FOR UPDATE",
        (job.drink_id, job.prompt_version, job.attempt),
    ).fetchone()
    if row is not None:
        return "retry" if row["status"] == "generating" else str(row["status"])
    conn.execute("INSERT INTO picture_budget (night, used) VALUES (%s, 0) ON CONFLICT (night) DO NOTHING", (night,))
    # The counter row: concurrent generations take turns on it (a lock here, a conflict and
    # a retry on DSQL), so the cap holds exactly.
    taken = conn.execute(
        "UPDATE picture_budget SET used = used + 1 WHERE night = %s AND used < %s RETURNING used", (night, cap)
    ).fetchone()
    status = "generating" if taken is not None else "capped"
    conn.execute(
        """INSERT INTO picture_jobs (drink_id, prompt_version, attempt, status, night, model_id, seed, width, height)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (job.drink_id, job.prompt_version, job.attempt, status, night, model_id, job.seed, IMAGE_WIDTH, IMAGE_HEIGHT),
    )
    return "new" if taken is not None else "capped"


def finish_job(tx: Tx, job: Job, generated: dict[str, Any]) -> bool:
    """Mark the job done and attach the picture, unless the host uploaded a photo (it
    always wins) or a later attempt is already attached. Whether it was attached."""
    conn = tx.conn
    conn.execute(
        """UPDATE picture_jobs SET status = 'done', image_key = %s, finished_at = now()
           WHERE drink_id = %s AND prompt_version = %s AND attempt = %s""",
        (generated["key"], job.drink_id, job.prompt_version, job.attempt),
    )
    row = conn.execute(
        "SELECT image_key, generated_image_json, archived_at FROM drinks WHERE id = %s FOR UPDATE", (job.drink_id,)
    ).fetchone()
    if row is None or row["image_key"] or row["archived_at"] is not None:
        return False
    current = _load(row["generated_image_json"]) or {}
    if current.get("prompt_version") == job.prompt_version and int(current.get("attempt") or 0) >= job.attempt:
        attached = current.get("attempt") == job.attempt and current.get("key") == generated["key"]
    else:
        conn.execute(
            "UPDATE drinks SET generated_image_json = %s, updated_at = now() WHERE id = %s",
            (json.dumps(generated), job.drink_id),
        )
        attached = True
    if attached:
        _picture_changed(tx, job.drink_id)
    return attached


def tonight_used(conn: Connection[Any], night: dt.date) -> int:
    row = conn.execute("SELECT used FROM picture_budget WHERE night = %s", (night,)).fetchone()
    return int(row["used"]) if row else 0


def next_attempt(conn: Connection[Any], drink_id: uuid.UUID, version: str) -> int:
    row = conn.execute(
        "SELECT COALESCE(MAX(attempt), 0) AS n FROM picture_jobs WHERE drink_id = %s AND prompt_version = %s",
        (drink_id, version),
    ).fetchone()
    return int(row["n"]) + 1


def regeneration_request(conn: Connection[Any], drink_id: uuid.UUID, now: dt.datetime) -> dict[str, Any]:
    """What "regenerate" asks for (read only: the handler does the work): the drink's
    current prompt version and the next attempt. Refusals are 404 / 409 and change nothing."""
    config = settings()
    row = conn.execute(
        "SELECT id, image_key, photo_prompt, archived_at FROM drinks WHERE id = %s", (drink_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError("no such drink")
    if row["archived_at"] is not None:
        raise ConflictError("the drink is archived: restore it first")
    if not config.image_generation:
        raise ConflictError("AI photos are off on this stage (IMAGE_GENERATION); the illustration is shown")
    if row["image_key"]:
        raise ConflictError("the drink shows your uploaded photo, which always wins: remove it to use an AI photo")
    if not row["photo_prompt"]:
        raise ConflictError("the drink has no photo prompt yet: try again in a few seconds")
    night = party_night(now)
    if tonight_used(conn, night) >= config.image_nightly_cap:
        raise ConflictError(f"tonight's AI photo limit ({config.image_nightly_cap}) is reached")
    version = prompt_version(row["photo_prompt"])
    return {
        "drink_id": str(drink_id),
        "prompt_version": version,
        "attempt": next_attempt(conn, drink_id, version),
        "status": "queued",
    }


def request_regeneration(uow: UnitOfWork, drink_id: uuid.UUID, now: dt.datetime) -> dict[str, Any]:
    """"Regenerate": another AI photo with a new seed, made by the picture handler
    (PictureRequested); answered at once with what was asked for."""
    request = uow.read(regeneration_request, drink_id, now)
    uow.announce(PICTURE_REQUESTED, request)
    return request


def use_photo(conn: Connection[Any], drink_id: uuid.UUID, image_key: str) -> bool:
    """"Use my photo instead": the uploaded photo becomes the drink's picture (it wins over
    the generated one, which is kept). Whether the photo changed."""
    row = conn.execute(
        "SELECT image_key, archived_at FROM drinks WHERE id = %s FOR UPDATE", (drink_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError("no such drink")
    if row["archived_at"] is not None:
        raise ConflictError("the drink is archived: restore it first")
    if image_key.startswith(GENERATED_PREFIX) or image_key.startswith(ILLUSTRATION_PREFIX):
        raise BadRequestError("image_key: must be an uploaded photo (from POST /admin/images/upload-url)")
    if row["image_key"] == image_key:
        return False
    conn.execute("UPDATE drinks SET image_key = %s, updated_at = now() WHERE id = %s", (image_key, drink_id))
    return True


# ------------------------------------------------------------------ the handler's steps


def write_illustration(s3: Any, bucket: str, row: dict[str, Any], categories: dict[str, str]) -> str:
    from chalicelib import illustrations

    key = illustration_key(str(row["id"]), row["glass"] or "", row["garnish"] or "", row["ingredients_json"] or "[]")
    svg = illustrations.render_drink(row, categories)
    put_object(s3, bucket, key, svg.encode("utf-8"), illustrations.CONTENT_TYPE)
    return key


def ensure_illustrations(s3: Any = None, bucket: str | None = None, uow: UnitOfWork | None = None) -> int:
    """Draw every drink on the menu into the bucket (the seed's drinks never had a
    DrinkCreated): `make local` runs it at start. Same bytes under the same key, so
    running it again changes nothing. Returns how many were written."""
    s3 = s3 if s3 is not None else aws.client("s3")
    bucket = bucket or settings().media_bucket
    rows = (uow or UnitOfWork()).read(load_menu_for_illustrations)
    for row in rows:
        categories = dict(pair.split("=", 1) for pair in row["categories"].split("|") if "=" in pair)
        write_illustration(s3, bucket, row, categories)
    return len(rows)


def resize_photo(uow: UnitOfWork, s3: Any, bucket: str, row: dict[str, Any]) -> str:
    """WebP variants of the drink's uploaded photo, unless it has them already."""
    source_key = row["image_key"]
    stored = _load(row.get("image_variants_json")) or {}
    if stored.get("source_key") == source_key:
        return "variants_exist"
    try:
        original = s3.get_object(Bucket=bucket, Key=source_key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        log.warning("photo not in storage: no variants", extra={"drink_id": str(row["id"]), "key": source_key})
        return "photo_missing"
    try:
        resized = make_variants(original)
    except UnreadableImage as exc:
        log.warning("photo unreadable: no variants", extra={"drink_id": str(row["id"]), "error": str(exc)})
        return "unreadable"
    variants = []
    for width, data in resized.variants:
        key = variant_key(source_key, width)
        put_object(s3, bucket, key, data, "image/webp")
        variants.append({"width": width, "key": key, "bytes": len(data)})
    record = {"source_key": source_key, "width": resized.width, "height": resized.height, "variants": variants}
    if not uow.write(save_variants, row["id"], source_key, record):
        return "photo_replaced"  # a newer photo arrived meanwhile; its own event resizes it
    return "resized"


def handle_drink_changed(
    detail: dict[str, Any], *, s3: Any = None, bucket: str | None = None, uow: UnitOfWork | None = None
) -> str:
    """DrinkCreated / DrinkUpdated: the illustration, and the uploaded photo's variants."""
    data = detail.get("data") or {}
    changed = data.get("changed")
    if changed == PICTURE_CHANGED:
        return "ignored"  # our own announcement
    drink_id = _drink_id(data)
    uow = uow or UnitOfWork()
    row = uow.read(load_drink, drink_id)
    if row is None or row["archived_at"] is not None:
        return "skipped"
    bucket = bucket or _bucket()
    s3 = s3 if s3 is not None else aws.client("s3")
    outcomes = []
    if changed is None or ILLUSTRATED_FIELDS & set(changed):
        write_illustration(s3, bucket, row, row["categories"])
        outcomes.append("illustrated")
    if row["image_key"]:
        outcomes.append(resize_photo(uow, s3, bucket, row))
    return "+".join(outcomes) or "unchanged"


def handle_generation(
    detail: dict[str, Any],
    *,
    model: Any = None,
    s3: Any = None,
    bucket: str | None = None,
    now: dt.datetime | None = None,
    uow: UnitOfWork | None = None,
) -> str:
    """PhotoPromptWritten / PictureRequested: an AI photo for the drink. Returns what
    happened: "generated" (attached), "generated_not_attached" (a photo was uploaded
    meanwhile), "off", "skipped", "photo_wins", "superseded", "capped" or "exists"."""
    config = settings()
    data = detail.get("data") or {}
    drink_id = _drink_id(data)
    if not config.image_generation:
        log.info("AI photo skipped: generation is off for this stage", extra={"drink_id": str(drink_id)})
        return "off"
    uow = uow or UnitOfWork()
    row = uow.read(load_drink, drink_id)
    if row is None or row["archived_at"] is not None or not row["photo_prompt"]:
        return "skipped"
    if row["image_key"]:
        return "photo_wins"  # no model call: the host's photo is what guests see
    version = prompt_version(row["photo_prompt"])
    if str(data.get("prompt_version") or version) != version:
        return "superseded"  # the prompt changed since; its own event generates
    try:
        attempt = int(data.get("attempt") or 1)
    except (TypeError, ValueError):
        raise MalformedEvent(f"attempt must be a number: {data.get('attempt')!r}") from None
    job = Job(drink_id, version, attempt)
    now = now or dt.datetime.now(dt.UTC)
    claim = uow.write(claim_job, job, party_night(now), config.image_nightly_cap, config.image_model_id)
    if claim in ("done", "capped", "superseded"):
        return "exists" if claim == "done" else claim
    model = model if model is not None else NovaCanvas(config.image_model_id)
    png = model.generate(row["photo_prompt"], job.seed)
    resized = make_variants(png)  # an unreadable answer raises: retried, then dead-lettered
    bucket = bucket or _bucket()
    s3 = s3 if s3 is not None else aws.client("s3")
    put_object(s3, bucket, job.key, png, "image/png")
    variants = []
    for width, body in resized.variants:
        key = variant_key(job.key, width)
        put_object(s3, bucket, key, body, "image/webp")
        variants.append({"width": width, "key": key, "bytes": len(body)})
    generated = {
        "key": job.key,
        "width": resized.width,
        "height": resized.height,
        "seed": job.seed,
        "model_id": getattr(model, "model_id", config.image_model_id),
        "prompt_version": version,
        "attempt": attempt,
        "variants": variants,
        "created_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    attached = uow.write(finish_job, job, generated)
    log.info(
        "AI photo generated",
        extra={"drink_id": str(drink_id), "key": job.key, "seed": job.seed, "attached": attached, "attempt": attempt},
    )
    if attached:
        return "generated"
    return "generated_not_attached"


def _bucket() -> str:
    bucket = settings().media_bucket
    if not bucket:
        raise RuntimeError("MEDIA_BUCKET is not configured")
    return bucket


def _drink_id(data: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(data.get("drink_id")))
    except ValueError:
        raise MalformedEvent(f"event without a valid data.drink_id: {data.get('drink_id')!r}") from None


# ------------------------------------------------------------------ dispatch

HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    DRINK_CREATED: handle_drink_changed,
    DRINK_UPDATED: handle_drink_changed,
    PHOTO_PROMPT_WRITTEN: handle_generation,
    PICTURE_REQUESTED: handle_generation,
}


def handle_sqs_body(body: str) -> str:
    """One EventBridge event as the rule's SQS target delivers it."""
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        raise MalformedEvent("message body is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedEvent("message body is not an EventBridge event")
    return events.dispatch(event, HANDLERS, "pictures")
