"""AI photo prompts: the Bedrock request (Stubber), the offline writer, and the event path
DrinkCreated -> bus -> rule -> SQS (-> DLQ) -> the app's handler, in the emulator (moto)
against the real database."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib import ai, aws, photo_prompts
from chalicelib.ai import BedrockPromptWriter, DrinkFacts, Ingredient, OfflinePromptWriter
from local.event_runner import (
    EventRunner,
    Plumbing,
    app_handler,
    ensure_event_plumbing,
    subscriptions,
)

MODEL_ID = "amazon.nova-lite-v1:0"
NEGRONI = DrinkFacts(
    name="Negroni",
    glass="rocks",
    garnish="orange peel",
    description="Bitter, sweet, strong.",
    section="Stirred",
    ingredients=(
        Ingredient("Gin", "spirit"),
        Ingredient("Campari", "liqueur"),
        Ingredient("Sweet Vermouth", "wine"),
    ),
    tags=("bitter", "classic"),
)
ANSWER = (
    "A ruby-red Negroni in a heavy rocks glass over one clear ice cube, a single twist of orange peel "
    "resting on the rim. Soft window light from the left falls across a pale linen surface and a warm "
    "grey wall. Calm, uncluttered Nordic styling with gentle shadows and a shallow depth of field."
)


def converse_response(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 142, "outputTokens": 71, "totalTokens": 213},
        "metrics": {"latencyMs": 812},
    }


def deadline_loop(timeout_s: float = 15.0) -> Iterator[int]:
    """Iterations until a deadline (a condition polled, never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while time.monotonic() < deadline:
        yield attempt
        attempt += 1
    raise AssertionError("condition not met before the deadline")


# ---------------------------------------------------------------- Bedrock (Stubber)


def test_bedrock_writer_sends_the_converse_request_and_returns_the_text() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    writer = BedrockPromptWriter(MODEL_ID, client)
    expected = {
        "modelId": MODEL_ID,
        "system": [{"text": ai.SYSTEM_PROMPT}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "text": "Drink: Negroni\n"
                        "Menu section: Stirred\n"
                        "Description: Bitter, sweet, strong.\n"
                        "Ingredients: Gin, Campari, Sweet Vermouth\n"
                        "Glass: rocks\n"
                        "Garnish: orange peel\n"
                        "Tags: bitter, classic\n"
                        "Write the 2-3 sentence photo prompt."
                    }
                ],
            }
        ],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.7},
    }
    with Stubber(client) as stub:
        stub.add_response("converse", converse_response(f"  {ANSWER}\n"), expected)
        assert writer.write(NEGRONI) == ANSWER
        stub.assert_no_pending_responses()
    assert writer.source == f"bedrock:{MODEL_ID}"
    assert "Nordic-minimalist" in ai.SYSTEM_PROMPT
    assert all(word in ai.SYSTEM_PROMPT for word in ("soft natural light", "neutral background", "minimal garnish"))


def test_bedrock_answer_is_cut_to_three_sentences_and_an_empty_one_raises() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    writer = BedrockPromptWriter(MODEL_ID, client)
    rambling = '"One glass.  Two\nlights! Three walls? Four. Five."'
    with Stubber(client) as stub:
        stub.add_response("converse", converse_response(rambling))
        stub.add_response("converse", converse_response("   "))
        assert writer.write(NEGRONI) == "One glass. Two lights! Three walls?"
        with pytest.raises(ai.PromptWriterError):
            writer.write(NEGRONI)


def test_bedrock_failure_propagates() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
        with pytest.raises(client.exceptions.ThrottlingException):
            BedrockPromptWriter(MODEL_ID, client).write(NEGRONI)


def test_writer_from_settings_picks_bedrock_only_when_a_model_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import settings

    monkeypatch.setenv("BEDROCK_MODEL_ID", MODEL_ID)
    monkeypatch.setenv("BEDROCK_REGION", "eu-north-1")
    settings.cache_clear()
    try:
        first, second = ai.writer_from_settings(), ai.writer_from_settings()
        assert isinstance(first, BedrockPromptWriter)
        assert first.source == f"bedrock:eu.{MODEL_ID}"  # Nova from eu-north-1: the EU inference profile
        assert first.client is second.client  # made once per container
        assert first.client.meta.region_name == "eu-north-1"
        monkeypatch.setenv("BEDROCK_MODEL_ID", "")
        settings.cache_clear()
        assert ai.writer_from_settings().source == "offline"
    finally:
        settings.cache_clear()
        aws.reset()


# ---------------------------------------------------------------- offline writer


def test_offline_writer_is_deterministic_and_describes_the_drink() -> None:
    prompt = OfflinePromptWriter().write(NEGRONI)
    assert prompt == OfflinePromptWriter().write(NEGRONI)
    assert prompt.startswith("A ruby red Negroni in a rocks glass")
    assert "orange peel" in prompt
    assert "Nordic" in prompt and "neutral" in prompt and "soft" in prompt
    assert 2 <= len(ai.sentences(prompt)) <= 3
    assert OfflinePromptWriter.source == "offline"


@pytest.mark.parametrize(
    ("ingredients", "colour"),
    [
        ((Ingredient("Aperol", "liqueur"), Ingredient("Prosecco", "wine")), "sunset orange"),
        ((Ingredient("Vodka", "spirit"), Ingredient("Blue Curaçao", "liqueur")), "electric blue"),
        (
            (
                Ingredient("Vodka", "spirit"),
                Ingredient("Coffee Liqueur", "liqueur"),
                Ingredient("Heavy Cream", "dairy"),
            ),
            "creamy espresso brown",
        ),
        ((Ingredient("Gin", "spirit"), Ingredient("Tonic Water", "mixer")), "crystal-clear"),
        ((Ingredient("Elderflower Syrup", "syrup"), Ingredient("Soda Water", "mixer")), "pale golden"),
        # An optional ingredient does not colour the drink.
        ((Ingredient("Gin", "spirit"), Ingredient("Grenadine", "syrup", optional=True)), "crystal-clear"),
        ((), "crystal-clear"),
    ],
)
def test_offline_colour_comes_from_the_ingredients(ingredients: tuple[Ingredient, ...], colour: str) -> None:
    assert ai.drink_colour(ingredients) == colour


def test_offline_writer_without_glass_or_garnish() -> None:
    prompt = OfflinePromptWriter().write(DrinkFacts(name="House Punch", ingredients=(Ingredient("Aperol"),)))
    assert prompt.startswith("A sunset orange House Punch in a simple clear glass, served without garnish")
    mug = OfflinePromptWriter().write(DrinkFacts(name="Mule", glass="copper mug", garnish="lime wedge"))
    assert "in a copper mug," in mug and "copper mug glass" not in mug


# ---------------------------------------------------------------- the event path (moto + PostgreSQL)


@dataclass
class EventWorld:
    plumbing: Plumbing
    sqs: Any
    s3: Any
    events: Any
    bucket: str
    runner: EventRunner

    def put_drink_created(self, drink_id: str, name: str = "x") -> None:
        from chalicelib import events

        assert events.publish("DrinkCreated", {"drink_id": drink_id, "name": name, "section_id": str(uuid.uuid4())})

    def drain(self, until: Callable[[], bool], timeout_s: float = 15.0) -> None:
        for _ in deadline_loop(timeout_s):
            if until():
                return
            self.runner.process_once(wait_time_s=0)

    def queue_depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def prompt_object(self, drink_id: str) -> str | None:
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=f"prompts/{drink_id}.txt")
        except self.s3.exceptions.NoSuchKey:
            return None
        assert answer["ContentType"] == "text/plain; charset=utf-8"
        return answer["Body"].read().decode("utf-8")


def _forget_clients() -> None:
    from chalicelib.config import settings

    settings.cache_clear()
    aws.reset()


@pytest.fixture()
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[EventWorld]:
    """The local stage's bus, queue and DLQ in an in-process emulator; the runner wired to
    the app's own SQS handler. Visibility timeout 0 so a failed message returns at once."""
    monkeypatch.setenv("APP_STAGE", "local")
    monkeypatch.setenv("EVENT_BUS_NAME", "drink-assistant-events-local")
    monkeypatch.setenv("PHOTO_PROMPT_QUEUE", "drink-assistant-local-photo-prompts")
    monkeypatch.setenv("MEDIA_BUCKET", "drink-assistant-local-media")
    monkeypatch.setenv("BEDROCK_MODEL_ID", "")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _forget_clients()
    from chalicelib.config import settings

    config = settings()
    with mock_aws():
        plumbing = ensure_event_plumbing(
            None,
            bus_name=config.event_bus_name,
            subs=subscriptions(config),
            media_bucket=config.media_bucket,
            visibility_timeout_s=0,
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        runner = EventRunner(sqs, plumbing.queues["photo-prompts"], app_handler("photo_prompt_handler"), wait_time_s=0)
        yield EventWorld(
            plumbing,
            sqs,
            boto3.client("s3", region_name="us-east-1"),
            boto3.client("events", region_name="us-east-1"),
            config.media_bucket,
            runner,
        )
    _forget_clients()


def _insert_drink(admin_conn: Any, **overrides: Any) -> str:
    section = admin_conn.execute("SELECT id FROM sections ORDER BY position LIMIT 1").fetchone()["id"]
    name = overrides.pop("name", f"Test Spritz {uuid.uuid4().hex[:8]}")
    row = admin_conn.execute(
        """INSERT INTO drinks (section_id, name, name_key, ingredients_json, glass, garnish, archived_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            section,
            name,
            name.lower(),
            json.dumps([{"name": "Aperol", "amount": 60, "unit": "ml", "optional": False}]),
            overrides.get("glass", "wine"),
            overrides.get("garnish", "orange slice"),
            overrides.get("archived_at"),
        ),
    ).fetchone()
    return str(row["id"])


def _drink_prompt(admin_conn: Any, drink_id: str) -> dict[str, Any]:
    return admin_conn.execute(
        "SELECT photo_prompt, photo_prompt_source FROM drinks WHERE id = %s", (drink_id,)
    ).fetchone()


def _admin_drinks_api_exists() -> bool:
    import app as app_module

    return "POST" in app_module.app.routes.get("/admin/drinks", {})


class CountingWriter:
    source = "offline"

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def write(self, drink: DrinkFacts) -> str:
        self.calls += 1
        if self.fail:
            raise RuntimeError("model unavailable")
        return OfflinePromptWriter().write(drink)


def test_the_plumbing_matches_aws_and_can_be_built_twice(world: EventWorld) -> None:
    from chalicelib.config import settings

    again = ensure_event_plumbing(None, bus_name=world.plumbing.bus_name, subs=subscriptions(settings()))
    queue = again.queues["photo-prompts"]
    assert queue.queue_url == world.plumbing.queues["photo-prompts"].queue_url
    assert queue.queue_arn.endswith(":drink-assistant-local-photo-prompts")
    attrs = world.sqs.get_queue_attributes(QueueUrl=queue.queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5
    assert redrive["deadLetterTargetArn"].endswith(":drink-assistant-local-photo-prompts-dlq")
    rule = world.events.describe_rule(Name=queue.subscription.rule_name, EventBusName=world.plumbing.bus_name)
    assert json.loads(rule["EventPattern"]) == {"source": ["drink-assistant.api"], "detail-type": ["DrinkCreated"]}


def test_a_created_drink_gets_its_prompt_through_the_event_path(
    world: EventWorld, client: Any, admin_conn: Any, request: pytest.FixtureRequest
) -> None:
    if _admin_drinks_api_exists():
        admin_headers = request.getfixturevalue("admin_headers")
        # The test Client sets the stage's variables; keep this test's emulator names.
        _forget_clients()
        section = admin_conn.execute("SELECT id FROM sections ORDER BY position LIMIT 1").fetchone()["id"]
        answer = client.http.post(
            "/admin/drinks",
            headers={**admin_headers, "Content-Type": "application/json"},
            body=json.dumps(
                {
                    "section_id": str(section),
                    "name": f"Event Spritz {uuid.uuid4().hex[:8]}",
                    "ingredients": [{"name": "Aperol", "amount": 60, "unit": "ml"}],
                    "glass": "wine",
                    "garnish": "orange slice",
                }
            ),
        )
        assert answer.status_code == 201, answer.body
        drink_id = json.loads(answer.body)["id"]
    else:
        drink_id = _insert_drink(admin_conn)
        world.put_drink_created(drink_id)

    world.drain(lambda: _drink_prompt(admin_conn, drink_id)["photo_prompt"] is not None)

    stored = _drink_prompt(admin_conn, drink_id)
    assert stored["photo_prompt_source"] == "offline"
    assert "sunset orange" in stored["photo_prompt"] and "orange slice" in stored["photo_prompt"]
    assert "wine glass" in stored["photo_prompt"]
    assert world.prompt_object(drink_id) == stored["photo_prompt"]
    assert world.runner.succeeded >= 1 and world.runner.failed == 0
    assert world.queue_depth(world.plumbing.queues["photo-prompts"].queue_url) == 0


def test_other_events_do_not_reach_the_queue(world: EventWorld) -> None:
    from chalicelib import events

    assert events.publish("OrderPlaced", {"order_id": str(uuid.uuid4())})
    assert world.runner.process_once(wait_time_s=0) == 0


def test_the_same_event_twice_makes_one_prompt_and_one_model_call(
    world: EventWorld, admin_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = CountingWriter()
    monkeypatch.setattr(photo_prompts, "writer_from_settings", lambda: writer)
    drink_id = _insert_drink(admin_conn)
    world.put_drink_created(drink_id)
    world.put_drink_created(drink_id)

    world.drain(lambda: world.runner.succeeded == 2)

    assert writer.calls == 1
    first = _drink_prompt(admin_conn, drink_id)["photo_prompt"]
    assert first and world.prompt_object(drink_id) == first

    # A later redelivery repairs a missing S3 object from the drink, still without the model.
    world.s3.delete_object(Bucket=world.bucket, Key=f"prompts/{drink_id}.txt")
    world.put_drink_created(drink_id)
    world.drain(lambda: world.runner.succeeded == 3)
    assert writer.calls == 1
    assert world.prompt_object(drink_id) == first == _drink_prompt(admin_conn, drink_id)["photo_prompt"]


def test_a_failing_writer_is_retried_and_ends_in_the_dead_letter_queue(
    world: EventWorld, admin_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = CountingWriter(fail=True)
    monkeypatch.setattr(photo_prompts, "writer_from_settings", lambda: writer)
    drink_id = _insert_drink(admin_conn)
    world.put_drink_created(drink_id)

    endpoint = world.plumbing.queues["photo-prompts"]
    world.drain(lambda: world.queue_depth(endpoint.dlq_url) == 1)

    assert writer.calls == 5 == world.runner.failed  # maxReceiveCount deliveries, then the DLQ
    assert world.runner.succeeded == 0
    assert world.queue_depth(endpoint.queue_url) == 0
    assert _drink_prompt(admin_conn, drink_id) == {"photo_prompt": None, "photo_prompt_source": None}
    assert world.prompt_object(drink_id) is None
    dead = world.sqs.receive_message(QueueUrl=endpoint.dlq_url)["Messages"][0]
    event = json.loads(dead["Body"])
    assert event["detail-type"] == "DrinkCreated" and event["detail"]["data"]["drink_id"] == drink_id
    assert set(event["detail"]["metadata"]) >= {"event_type", "version", "timestamp", "event_id"}


def test_an_unknown_or_archived_drink_is_skipped_not_retried(world: EventWorld, admin_conn: Any) -> None:
    archived = _insert_drink(admin_conn, archived_at="2024-01-01T00:00:00Z")
    for drink_id in (str(uuid.uuid4()), archived):
        world.put_drink_created(drink_id)
    world.drain(lambda: world.runner.succeeded == 2)
    assert world.runner.failed == 0
    assert _drink_prompt(admin_conn, archived)["photo_prompt"] is None
    assert world.prompt_object(archived) is None


def test_a_malformed_event_raises(world: EventWorld) -> None:
    with pytest.raises(photo_prompts.MalformedEvent):
        photo_prompts.handle_sqs_body("not json")
    with pytest.raises(photo_prompts.MalformedEvent):
        photo_prompts.handle_eventbridge_event({"detail-type": "DrinkCreated", "detail": {"data": {}}})
    assert photo_prompts.handle_eventbridge_event({"detail-type": "OrderPlaced", "detail": {}}) == "ignored"


def test_a_concurrent_delivery_that_stored_first_wins(world: EventWorld, admin_conn: Any) -> None:
    drink_id = _insert_drink(admin_conn)

    class RacingWriter:
        source = "offline"

        def write(self, drink: DrinkFacts) -> str:
            # Another delivery of the same event stores its prompt while we wait for the model.
            admin_conn.execute(
                "UPDATE drinks SET photo_prompt = 'the winner', photo_prompt_source = 'offline' WHERE id = %s",
                (drink_id,),
            )
            return "the loser"

    detail = {"metadata": {"event_type": "DrinkCreated"}, "data": {"drink_id": drink_id}}
    assert photo_prompts.handle_drink_created(detail, writer=RacingWriter()) == "lost_race"
    assert _drink_prompt(admin_conn, drink_id)["photo_prompt"] == "the winner"
    assert world.prompt_object(drink_id) == "the winner"


def test_an_s3_failure_raises_and_the_retry_needs_no_second_model_call(world: EventWorld, admin_conn: Any) -> None:
    drink_id = _insert_drink(admin_conn)
    writer = CountingWriter()
    detail = {"data": {"drink_id": drink_id}}
    with pytest.raises(aws.client("s3").exceptions.NoSuchBucket):  # the app's client's class
        photo_prompts.handle_drink_created(detail, writer=writer, bucket="no-such-bucket")
    assert photo_prompts.handle_drink_created(detail, writer=writer) == "exists"
    assert writer.calls == 1
    assert world.prompt_object(drink_id) == _drink_prompt(admin_conn, drink_id)["photo_prompt"]
