"""Pictures (chalicelib/images.py): what a drink shows, WebP variants of real images, the
Nova Canvas request through botocore's Stubber, and the picture handler's rules against
the real database and the emulator (moto): an uploaded photo wins, one picture per drink
+ prompt version + attempt, the nightly cap, failures retried into the DLQ; the admin
routes "regenerate" and "use my photo instead"."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from PIL import Image

from chalicelib import images, menu
from chalicelib.images import NovaCanvas, make_variants
from local.event_runner import EventRunner, Plumbing, app_handler, ensure_event_plumbing, subscriptions
from tests.admin_menu_helpers import call, configure
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)

BUCKET = "drink-assistant-local-media"
BUS = "drink-assistant-events-local"
PROMPT = (
    "A ruby-red Negroni in a heavy rocks glass over one clear ice cube, a twist of orange peel on the rim. "
    "Soft window light across pale linen. Calm Nordic styling."
)
NOW = dt.datetime(2026, 12, 5, 22, 30, tzinfo=dt.UTC)


def jpeg(width: int = 2000, height: int = 1500, **save: Any) -> bytes:
    """A real photo-like JPEG: a gradient, so the encoder has something to do."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((200, 60, 40), (width // 4, height // 4, width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    colour: Any = (30, 120, 200, 128) if mode == "RGBA" else (30, 120, 200)
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, "PNG")
    return out.getvalue()


def webp_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        return image.size


# ---------------------------------------------------------------- what a drink shows


def row(**fields: Any) -> dict[str, Any]:
    return {
        "id": "5d2f6c1e-0000-4000-8000-000000000001",
        "glass": "rocks",
        "garnish": "orange twist",
        "ingredients_json": '[{"name": "Gin", "amount": 50, "unit": "ml", "optional": false}]',
        "image_key": None,
        "image_variants_json": None,
        "generated_image_json": None,
        **fields,
    }


def test_a_drink_without_photos_shows_its_illustration() -> None:
    picture = images.picture(row(), "/images")
    assert picture["kind"] == "illustration"
    assert picture["url"].startswith("/images/drink-images/illustrations/5d2f6c1e-")
    assert picture["url"].endswith(".svg") and picture["variants"] == []


def test_an_uploaded_photo_wins_over_a_generated_one() -> None:
    generated = {"key": "drink-images/generated/x/v-1.png", "width": 1280, "height": 960,
                 "variants": [{"width": 400, "key": "drink-images/generated/x/v-1-400w.webp"}]}
    shown = images.picture(row(generated_image_json=json.dumps(generated)), "/images")
    assert shown["kind"] == "generated" and shown["variants"] == [
        {"width": 400, "url": "/images/drink-images/generated/x/v-1-400w.webp"}
    ]
    photo = images.picture(row(image_key="drink-images/abc-negroni.jpg", generated_image_json=json.dumps(generated)),
                           "/images")
    assert photo == {"kind": "photo", "url": "/images/drink-images/abc-negroni.jpg", "width": None, "height": None,
                     "variants": []}


def test_variants_count_only_for_the_photo_they_were_made_from() -> None:
    stored = {"source_key": "drink-images/old.jpg", "width": 2000, "height": 1500,
              "variants": [{"width": 400, "key": "drink-images/old-400w.webp"}]}
    assert images.picture(row(image_key="drink-images/new.jpg", image_variants_json=json.dumps(stored)),
                          "/images")["variants"] == []
    current = images.picture(row(image_key="drink-images/old.jpg", image_variants_json=json.dumps(stored)), "/cdn")
    assert current["variants"] == [{"width": 400, "url": "/cdn/drink-images/old-400w.webp"}]
    assert (current["width"], current["height"]) == (2000, 1500)


def test_seeds_versions_and_nights_are_deterministic() -> None:
    drink = uuid.uuid4()
    version = images.prompt_version(PROMPT)
    assert version == images.prompt_version(f"  {PROMPT}\n") != images.prompt_version(PROMPT + " More.")
    assert images.seed_for(drink, version, 1) == images.seed_for(drink, version, 1)
    assert images.seed_for(drink, version, 1) != images.seed_for(drink, version, 2)
    assert 0 <= images.seed_for(drink, version, 7) <= images.MAX_SEED
    # Noon to noon: 23:30 and 02:00 are the same party night.
    assert images.party_night(NOW) == images.party_night(NOW + dt.timedelta(hours=3, minutes=30)) == NOW.date()
    assert images.party_night(NOW + dt.timedelta(hours=14)) == NOW.date() + dt.timedelta(days=1)
    assert images.variant_key("drink-images/ab-negroni.jpg", 400) == "drink-images/ab-negroni-400w.webp"


# ---------------------------------------------------------------- resizing real images


def test_a_large_jpeg_becomes_three_webp_variants_with_its_aspect() -> None:
    resized = make_variants(jpeg(2000, 1500))
    assert (resized.width, resized.height) == (2000, 1500)
    assert [w for w, _ in resized.variants] == [400, 800, 1200]
    for width, data in resized.variants:
        assert webp_size(data) == (width, width * 3 // 4)
    assert len(resized.variants[0][1]) < len(resized.variants[2][1])


def test_a_small_png_gets_one_variant_at_its_own_width_and_alpha_is_kept() -> None:
    resized = make_variants(png(300, 200, "RGBA"))
    assert [w for w, _ in resized.variants] == [300]
    with Image.open(io.BytesIO(resized.variants[0][1])) as image:
        assert image.size == (300, 200) and image.mode == "RGBA"
    middle = make_variants(png(1000, 500))
    assert [w for w, _ in middle.variants] == [400, 800, 1000]


def test_exif_rotation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": a portrait photo stored landscape
    resized = make_variants(jpeg(1600, 1200, exif=exif))
    assert (resized.width, resized.height) == (1200, 1600)
    assert webp_size(resized.variants[0][1]) == (400, 533)


def test_unreadable_or_oversized_images_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(images.UnreadableImage):
        make_variants(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(images.UnreadableImage):
        make_variants(jpeg(400, 300)[:200])  # truncated
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    with pytest.raises(images.UnreadableImage):
        make_variants(png(100, 100))


# ---------------------------------------------------------------- Nova Canvas (Stubber)


def invoke_response(payload: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(payload).encode()
    return {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}


def nova_request(prompt: str, seed: int, model_id: str = "amazon.nova-canvas-v1:0") -> dict[str, Any]:
    return {
        "modelId": model_id,
        "body": json.dumps(
            {
                "taskType": "TEXT_IMAGE",
                "textToImageParams": {"text": prompt, "negativeText": images.NEGATIVE_PROMPT},
                "imageGenerationConfig": {
                    "numberOfImages": 1,
                    "width": 1280,
                    "height": 960,
                    "cfgScale": 6.5,
                    "seed": seed,
                    "quality": "standard",
                },
            }
        ),
        "contentType": "application/json",
        "accept": "application/json",
    }


def model_png() -> bytes:
    return png(1280, 960)


def test_nova_canvas_gets_the_text_to_image_request_and_its_image_is_decoded() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    image = model_png()
    with Stubber(client) as stub:
        stub.add_response("invoke_model", invoke_response({"images": [base64.b64encode(image).decode()],
                                                           "error": None}), nova_request(PROMPT, 1234))
        assert NovaCanvas("amazon.nova-canvas-v1:0", client).generate(PROMPT, 1234) == image
        stub.assert_no_pending_responses()


def test_a_long_prompt_is_cut_to_the_model_limit() -> None:
    body = images.nova_canvas_request("x" * 2000, 1)
    assert len(body["textToImageParams"]["text"]) == 1024


@pytest.mark.parametrize(
    "payload", [{"images": [], "error": "This request has been blocked by our content filters."}, {"images": []}]
)
def test_a_model_answer_without_an_image_raises(payload: dict[str, Any]) -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("invoke_model", invoke_response(payload), nova_request(PROMPT, 5))
        with pytest.raises(images.ImageGenerationFailed):
            NovaCanvas("amazon.nova-canvas-v1:0", client).generate(PROMPT, 5)


def test_a_throttled_model_call_propagates() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("invoke_model", "ThrottlingException", "Too many requests", 429)
        with pytest.raises(client.exceptions.ThrottlingException):
            NovaCanvas("amazon.nova-canvas-v1:0", client).generate(PROMPT, 5)


# ---------------------------------------------------------------- the handler (moto + PostgreSQL)


class StubbedModel:
    """Nova Canvas through a stubbed bedrock-runtime client: the real request shape is
    checked on every call; `calls` counts them."""

    model_id = "amazon.nova-canvas-v1:0"

    def __init__(self) -> None:
        self.client = boto3.client("bedrock-runtime", region_name="us-east-1")
        self.stub = Stubber(self.client)
        self.stub.activate()
        self.calls = 0
        self.fail = False
        self.during: Any = None

    def expect(self, prompt: str, seed: int) -> None:
        image = base64.b64encode(model_png()).decode()
        self.stub.add_response("invoke_model", invoke_response({"images": [image], "error": None}),
                               nova_request(prompt, seed))

    def generate(self, prompt: str, seed: int) -> bytes:
        self.calls += 1
        if self.during:
            self.during()
        if self.fail:
            raise RuntimeError("model unavailable")
        return NovaCanvas(self.model_id, self.client).generate(prompt, seed)


@dataclass
class World:
    plumbing: Plumbing
    sqs: Any
    s3: Any
    runner: EventRunner
    model: StubbedModel

    def keys(self, prefix: str) -> list[str]:
        answer = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def queued(self, name: str = "pictures") -> list[dict[str, Any]]:
        url = self.plumbing.queues[name].queue_url
        """Take every message off the queue (visibility is 0: what is left would come back)."""
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        for message in messages:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    def depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _forget() -> None:
    from chalicelib import aws
    from chalicelib.config import settings

    settings.cache_clear()
    aws.reset()


@pytest.fixture()
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The local stage's bus and queues in an in-process emulator, AI photos switched on,
    the image model stubbed at the botocore level, and the runner on the picture queue."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("APP_STAGE", "local")
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    monkeypatch.setenv("MEDIA_BUCKET", BUCKET)
    monkeypatch.setenv("PICTURE_QUEUE", "drink-assistant-local-pictures")
    monkeypatch.setenv("IMAGE_GENERATION", "on")
    monkeypatch.setenv("IMAGE_NIGHTLY_CAP", "40")
    monkeypatch.setenv("API_ID", "")
    _forget()
    from chalicelib.config import settings

    config = settings()
    model = StubbedModel()
    monkeypatch.setattr(images, "NovaCanvas", lambda model_id, client=None: model)
    with mock_aws():
        plumbing = ensure_event_plumbing(
            None, bus_name=BUS, subs=subscriptions(config), media_bucket=BUCKET, visibility_timeout_s=0
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        runner = EventRunner(sqs, plumbing.queues["pictures"], app_handler("picture_handler"), wait_time_s=0)
        yield World(plumbing, sqs, boto3.client("s3", region_name="us-east-1"), runner, model)
    model.stub.deactivate()
    _forget()


def insert_drink(admin_conn: Any, *, prompt: str | None = PROMPT, image_key: str | None = None,
                 archived: bool = False) -> uuid.UUID:
    section = admin_conn.execute("SELECT id FROM sections WHERE archived_at IS NULL ORDER BY position LIMIT 1")
    section_id = section.fetchone()["id"]
    name = f"Picture Test {uuid.uuid4().hex[:8]}"
    drink = admin_conn.execute(
        """INSERT INTO drinks (section_id, name, name_key, ingredients_json, glass, garnish, photo_prompt,
               photo_prompt_source, image_key, archived_at)
           VALUES (%s, %s, %s, %s, 'rocks', 'orange twist', %s, 'offline', %s, %s) RETURNING id""",
        (section_id, name, name.lower(),
         json.dumps([{"name": "Campari", "amount": 30, "unit": "ml", "optional": False}]), prompt, image_key,
         NOW if archived else None),
    ).fetchone()["id"]
    campari = admin_conn.execute("SELECT id FROM ingredients WHERE name_key = 'campari'").fetchone()["id"]
    admin_conn.execute("INSERT INTO drink_ingredients (drink_id, ingredient_id) VALUES (%s, %s)", (drink, campari))
    return drink


def written(drink_id: uuid.UUID, attempt: int = 1) -> dict[str, Any]:
    return {"data": {"drink_id": str(drink_id), "prompt_version": images.prompt_version(PROMPT), "attempt": attempt}}


def shown(admin_conn: Any, drink_id: uuid.UUID) -> dict[str, Any]:
    stored = admin_conn.execute(
        """SELECT d.*, true AS available, ARRAY[]::text[] AS allergens, false AS alcohol_free
           FROM drinks d WHERE id = %s""",
        (drink_id,),
    ).fetchone()
    return menu.drink_from_row(stored, "/images")["picture"]


def budget(admin_conn: Any, night: dt.date = NOW.date()) -> int:
    found = admin_conn.execute("SELECT used FROM picture_budget WHERE night = %s", (night,)).fetchone()
    return found["used"] if found else 0


@pytest.fixture()
def fresh_night(admin_conn: Any) -> None:
    admin_conn.execute("DELETE FROM picture_budget WHERE night = %s", (NOW.date(),))


def test_a_written_prompt_becomes_an_attached_generated_photo(world: World, admin_conn: Any, fresh_night: None) -> None:
    drink = insert_drink(admin_conn)
    job = images.Job(drink, images.prompt_version(PROMPT), 1)
    world.model.expect(PROMPT, job.seed)
    assert images.handle_generation(written(drink), now=NOW) == "generated"
    world.model.stub.assert_no_pending_responses()
    assert world.keys(f"drink-images/generated/{drink}/") == sorted(
        [job.key, *(images.variant_key(job.key, w) for w in (400, 800, 1200))]
    )
    picture = shown(admin_conn, drink)
    assert picture["kind"] == "generated" and [v["width"] for v in picture["variants"]] == [400, 800, 1200]
    stored = json.loads(admin_conn.execute("SELECT generated_image_json FROM drinks WHERE id = %s",
                                           (drink,)).fetchone()["generated_image_json"])
    assert {k: stored[k] for k in ("seed", "model_id", "prompt_version", "attempt", "width", "height")} == {
        "seed": job.seed, "model_id": "amazon.nova-canvas-v1:0", "prompt_version": job.prompt_version,
        "attempt": 1, "width": 1280, "height": 960,
    }
    assert budget(admin_conn) == 1
    # Announced after the commit: the live menu refetches, the handler ignores its own news.
    announced = [m for m in world.queued("realtime") if m["detail-type"] == "DrinkUpdated"]
    assert announced and announced[-1]["detail"]["data"] == {"drink_id": str(drink), "changed": ["picture"]}


def test_the_same_prompt_twice_makes_one_picture_and_one_model_call(
    world: World, admin_conn: Any, fresh_night: None
) -> None:
    drink = insert_drink(admin_conn)
    world.model.expect(PROMPT, images.seed_for(drink, images.prompt_version(PROMPT), 1))
    assert images.handle_generation(written(drink), now=NOW) == "generated"
    assert images.handle_generation(written(drink), now=NOW) == "exists"
    assert world.model.calls == 1 and budget(admin_conn) == 1


def test_an_uploaded_photo_wins_and_the_model_is_not_called(world: World, admin_conn: Any, fresh_night: None) -> None:
    drink = insert_drink(admin_conn, image_key="drink-images/abc-mine.jpg")
    assert images.handle_generation(written(drink), now=NOW) == "photo_wins"
    assert world.model.calls == 0 and budget(admin_conn) == 0
    assert shown(admin_conn, drink)["kind"] == "photo"


def test_a_photo_uploaded_while_generating_still_wins(world: World, admin_conn: Any, fresh_night: None) -> None:
    drink = insert_drink(admin_conn)
    world.model.expect(PROMPT, images.seed_for(drink, images.prompt_version(PROMPT), 1))
    world.model.during = lambda: admin_conn.execute(
        "UPDATE drinks SET image_key = 'drink-images/abc-mine.jpg' WHERE id = %s", (drink,)
    )
    assert images.handle_generation(written(drink), now=NOW) == "generated_not_attached"
    assert admin_conn.execute("SELECT generated_image_json FROM drinks WHERE id = %s",
                              (drink,)).fetchone()["generated_image_json"] is None
    assert shown(admin_conn, drink)["kind"] == "photo"
    # The job is done: a redelivery does not pay again.
    assert images.handle_generation(written(drink), now=NOW) == "photo_wins"
    assert world.model.calls == 1


def test_a_regenerated_attempt_replaces_the_first_and_an_older_one_never_does(
    world: World, admin_conn: Any, fresh_night: None
) -> None:
    drink = insert_drink(admin_conn)
    version = images.prompt_version(PROMPT)
    world.model.expect(PROMPT, images.seed_for(drink, version, 2))
    world.model.expect(PROMPT, images.seed_for(drink, version, 1))
    assert images.handle_generation(written(drink, attempt=2), now=NOW) == "generated"
    assert images.handle_generation(written(drink, attempt=1), now=NOW) == "generated_not_attached"
    assert shown(admin_conn, drink)["url"].endswith(f"{version}-2.png")


def test_off_capped_stale_and_unknown_drinks_make_no_model_call(
    world: World, admin_conn: Any, fresh_night: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = insert_drink(admin_conn), insert_drink(admin_conn)
    assert images.handle_generation({"data": {"drink_id": str(uuid.uuid4())}}, now=NOW) == "skipped"
    assert images.handle_generation(written(insert_drink(admin_conn, archived=True)), now=NOW) == "skipped"
    assert images.handle_generation(written(insert_drink(admin_conn, prompt=None)), now=NOW) == "skipped"
    stale = {"data": {"drink_id": str(first), "prompt_version": "0123456789ab"}}
    assert images.handle_generation(stale, now=NOW) == "superseded"
    configure(monkeypatch, IMAGE_NIGHTLY_CAP="1")
    world.model.expect(PROMPT, images.seed_for(first, images.prompt_version(PROMPT), 1))
    assert images.handle_generation(written(first), now=NOW) == "generated"
    assert images.handle_generation(written(second), now=NOW) == "capped"
    assert images.handle_generation(written(second), now=NOW) == "capped"  # recorded, not retried
    assert budget(admin_conn) == 1 and world.model.calls == 1
    configure(monkeypatch, IMAGE_GENERATION="off")
    assert images.handle_generation(written(insert_drink(admin_conn)), now=NOW) == "off"
    assert world.model.calls == 1


def test_a_failing_model_is_retried_without_paying_twice_and_ends_in_the_dlq(
    world: World, admin_conn: Any, fresh_night: None
) -> None:
    from chalicelib import events

    drink = insert_drink(admin_conn)
    tonight = images.party_night(dt.datetime.now(dt.UTC))
    before = budget(admin_conn, tonight)
    world.model.fail = True
    assert events.publish("PhotoPromptWritten", written(drink)["data"])
    queue = world.plumbing.queues["pictures"]
    for _ in range(20):
        if world.depth(queue.dlq_url) == 1:
            break
        world.runner.process_once(wait_time_s=0)
    assert world.depth(queue.dlq_url) == 1 and world.depth(queue.queue_url) == 0
    assert world.model.calls == 5 and world.runner.failed == 5
    assert budget(admin_conn, tonight) == before + 1  # the retries reused the first claim
    # Redriven once the model is back: the same job finishes.
    world.model.fail = False
    world.model.expect(PROMPT, images.seed_for(drink, images.prompt_version(PROMPT), 1))
    assert images.handle_generation(written(drink), now=dt.datetime.now(dt.UTC)) == "generated"
    assert budget(admin_conn, tonight) == before + 1


def test_a_malformed_event_raises(world: World) -> None:
    with pytest.raises(images.MalformedEvent):
        images.handle_sqs_body("not json")
    with pytest.raises(images.MalformedEvent):
        images.handle_generation({"data": {"drink_id": "nope"}})
    assert images.handle_sqs_body(json.dumps({"detail-type": "OrderPlaced", "detail": {}})) == "ignored"


# ---------------------------------------------------------------- variants and illustrations by event


def test_an_uploaded_photo_is_resized_once_and_originals_are_kept(world: World, admin_conn: Any) -> None:
    key = f"drink-images/{uuid.uuid4()}-negroni.jpg"
    original = jpeg(2000, 1500)
    world.s3.put_object(Bucket=BUCKET, Key=key, Body=original, ContentType="image/jpeg")
    drink = insert_drink(admin_conn, image_key=key)
    detail = {"data": {"drink_id": str(drink), "changed": ["image_key"]}}
    assert images.handle_drink_changed(detail) == "resized"
    assert world.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == original
    for width in (400, 800, 1200):
        stored = world.s3.get_object(Bucket=BUCKET, Key=images.variant_key(key, width))
        assert stored["ContentType"] == "image/webp" and stored["CacheControl"] == images.IMMUTABLE
        assert webp_size(stored["Body"].read()) == (width, width * 3 // 4)
    picture = shown(admin_conn, drink)
    assert picture["kind"] == "photo" and (picture["width"], picture["height"]) == (2000, 1500)
    expected = [f"/images/{images.variant_key(key, w)}" for w in (400, 800, 1200)]
    assert [v["url"] for v in picture["variants"]] == expected
    assert images.handle_drink_changed(detail) == "variants_exist"
    assert images.handle_drink_changed({"data": {"drink_id": str(drink), "changed": ["picture"]}}) == "ignored"


def test_a_missing_or_broken_photo_is_skipped_not_retried(world: World, admin_conn: Any) -> None:
    missing = insert_drink(admin_conn, image_key="drink-images/never-uploaded.jpg")
    assert images.handle_drink_changed({"data": {"drink_id": str(missing), "changed": ["image_key"]}}) == (
        "photo_missing"
    )
    key = "drink-images/broken.jpg"
    world.s3.put_object(Bucket=BUCKET, Key=key, Body=b"\xff\xd8\xff not a photo", ContentType="image/jpeg")
    broken = insert_drink(admin_conn, image_key=key)
    assert images.handle_drink_changed({"data": {"drink_id": str(broken), "changed": ["image_key"]}}) == "unreadable"
    assert shown(admin_conn, broken)["variants"] == []


def test_a_created_drink_gets_its_illustration_through_the_event_path(world: World, admin_conn: Any) -> None:
    from chalicelib import events

    drink = insert_drink(admin_conn)
    assert events.publish("DrinkCreated", {"drink_id": str(drink)})
    for _ in range(10):
        if world.runner.succeeded:
            break
        world.runner.process_once(wait_time_s=0)
    url = shown(admin_conn, drink)["url"]
    stored = world.s3.get_object(Bucket=BUCKET, Key=url.removeprefix("/images/"))
    assert stored["ContentType"] == "image/svg+xml"
    assert stored["Body"].read().decode().startswith("<svg")


def test_every_drink_on_the_menu_gets_an_illustration(world: World, admin_conn: Any) -> None:
    count = images.ensure_illustrations(world.s3, BUCKET)
    active = admin_conn.execute("SELECT count(*) AS n FROM drinks WHERE archived_at IS NULL").fetchone()["n"]
    assert count == active >= 60
    assert len(world.keys("drink-images/illustrations/")) >= active
    assert images.ensure_illustrations(world.s3, BUCKET) == count  # again: same keys, nothing new


# ---------------------------------------------------------------- admin routes


def test_regenerate_queues_the_next_attempt_and_returns_at_once(
    world: World, admin_conn: Any, client: Any, admin_headers: dict[str, str], fresh_night: None
) -> None:
    drink = insert_drink(admin_conn)
    status, body = call(client, "POST", f"/admin/drinks/{drink}/picture/regenerate", admin_headers)
    assert status == 202
    assert body == {"drink_id": str(drink), "prompt_version": images.prompt_version(PROMPT), "attempt": 1,
                    "status": "queued"}
    requested = [m for m in world.queued() if m["detail-type"] == "PictureRequested"]
    assert requested[0]["detail"]["data"] == body
    assert world.model.calls == 0  # the API never waits for the model


def test_regenerate_refusals_change_nothing(
    world: World, admin_conn: Any, client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    fresh_night: None,
) -> None:
    with_photo = insert_drink(admin_conn, image_key="drink-images/abc-mine.jpg")
    no_prompt = insert_drink(admin_conn, prompt=None)
    archived = insert_drink(admin_conn, archived=True)
    for path, code in (
        (f"/admin/drinks/{with_photo}/picture/regenerate", 409),
        (f"/admin/drinks/{no_prompt}/picture/regenerate", 409),
        (f"/admin/drinks/{archived}/picture/regenerate", 409),
        (f"/admin/drinks/{uuid.uuid4()}/picture/regenerate", 404),
        ("/admin/drinks/not-a-uuid/picture/regenerate", 400),
    ):
        status, body = call(client, "POST", path, admin_headers)
        assert status == code, (path, body)
        assert set(body) == {"Code", "Message"}
    admin_conn.execute("INSERT INTO picture_budget (night, used) VALUES (%s, 40) ON CONFLICT (night) DO UPDATE "
                       "SET used = 40", (images.party_night(dt.datetime.now(dt.UTC)),))
    try:
        status, body = call(client, "POST", f"/admin/drinks/{insert_drink(admin_conn)}/picture/regenerate",
                            admin_headers)
        assert status == 409 and "limit" in body["Message"]
    finally:
        admin_conn.execute("DELETE FROM picture_budget WHERE night = %s",
                           (images.party_night(dt.datetime.now(dt.UTC)),))
    configure(monkeypatch, IMAGE_GENERATION="off")
    status, body = call(client, "POST", f"/admin/drinks/{insert_drink(admin_conn)}/picture/regenerate", admin_headers)
    assert status == 409 and "off" in body["Message"]
    assert [m for m in world.queued() if m["detail-type"] == "PictureRequested"] == []


def test_use_my_photo_instead_makes_the_upload_the_picture(
    world: World, admin_conn: Any, client: Any, admin_headers: dict[str, str]
) -> None:
    drink = insert_drink(admin_conn)
    key = f"drink-images/{uuid.uuid4()}-mine.jpg"
    status, body = call(client, "POST", f"/admin/drinks/{drink}/picture/photo", admin_headers, {"image_key": key})
    assert status == 200, body
    assert body["image_key"] == key and body["picture"]["kind"] == "photo"
    updated = [m for m in world.queued() if m["detail-type"] == "DrinkUpdated"]
    assert updated and updated[0]["detail"]["data"]["changed"] == ["image_key"]
    # The same photo again changes nothing and announces nothing.
    status, _ = call(client, "POST", f"/admin/drinks/{drink}/picture/photo", admin_headers, {"image_key": key})
    assert status == 200
    assert [m for m in world.queued() if m["detail-type"] == "DrinkUpdated"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"image_key": "elsewhere/x.jpg"},
        {"image_key": "drink-images/../x.jpg"},
        {"image_key": "drink-images/generated/x/v-1.png"},
        {"image_key": "drink-images/illustrations/x.svg"},
        {"image_key": "drink-images/x.jpg", "extra": 1},
    ],
)
def test_use_my_photo_refuses_what_is_not_an_upload(
    world: World, admin_conn: Any, client: Any, admin_headers: dict[str, str], body: dict[str, Any]
) -> None:
    drink = insert_drink(admin_conn)
    status, answer = call(client, "POST", f"/admin/drinks/{drink}/picture/photo", admin_headers, body)
    assert status == 400 and set(answer) == {"Code", "Message"}
    assert admin_conn.execute("SELECT image_key FROM drinks WHERE id = %s", (drink,)).fetchone()["image_key"] is None


def test_picture_routes_are_for_admins_only(
    admin_conn: Any, client: Any, user_pool: Any, make_guest: Any  # noqa: F811 (the fixture)
) -> None:
    drink = insert_drink(admin_conn)
    _, guest_token = make_guest()
    headers = {
        "no token": ({}, 401),
        "expired": ({"Authorization": f"Bearer {user_pool.admin_token(exp=1, iat=0)}"}, 401),
        "forged": ({"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, 401),
        "guest": ({"Authorization": f"Bearer {guest_token}"}, 403),
        "not an admin": ({"Authorization": f"Bearer {user_pool.token(groups=['staff'])}"}, 403),
    }
    for name, (header, expected) in headers.items():
        for path, payload in ((f"/admin/drinks/{drink}/picture/regenerate", None),
                              (f"/admin/drinks/{drink}/picture/photo", {"image_key": "drink-images/a-b.jpg"})):
            status, _ = call(client, "POST", path, header, payload)
            assert status == expected, (name, path)
    assert admin_conn.execute("SELECT image_key FROM drinks WHERE id = %s", (drink,)).fetchone()["image_key"] is None


def test_the_local_stack_mirrors_the_handlers_photos_for_a_restart(world: World, tmp_path: Any) -> None:
    """Variants and AI photos written by the handler survive `make local` restarts like uploads."""
    from local.storage import ensure_bucket, mirror_new_objects

    world.s3.put_object(Bucket=BUCKET, Key="drink-images/a-x-400w.webp", Body=b"RIFF....WEBPVP8 ")
    world.s3.put_object(Bucket=BUCKET, Key="drink-images/generated/d/v-1.png", Body=png(4, 4))
    world.s3.put_object(Bucket=BUCKET, Key="drink-images/illustrations/d-h.svg", Body=b"<svg/>")
    assert mirror_new_objects(world.s3, BUCKET, tmp_path) == 2
    assert (tmp_path / "drink-images/a-x-400w.webp").exists()
    assert (tmp_path / "drink-images/generated/d/v-1.png").read_bytes() == png(4, 4)
    assert not (tmp_path / "drink-images/illustrations").exists()  # redrawn at start instead
    assert mirror_new_objects(world.s3, BUCKET, tmp_path) == 0  # only what is new
    world.s3.delete_object(Bucket=BUCKET, Key="drink-images/generated/d/v-1.png")
    assert ensure_bucket("https://s3.amazonaws.com", BUCKET, restore_from=tmp_path) == 2
    assert world.s3.get_object(Bucket=BUCKET, Key="drink-images/generated/d/v-1.png")["Body"].read() == png(4, 4)


def test_the_api_does_not_load_the_drawing_or_pillow_at_import() -> None:
    """Cold start: the menu routes name pictures with images.picture(); the drawing code and
    Pillow are loaded by the picture handler only, when it needs them."""
    import subprocess
    import sys

    check = "import app, sys; print(sorted(m for m in ('chalicelib.illustrations', 'PIL') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]"
