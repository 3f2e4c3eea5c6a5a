"""Drink events on the bus (moto) and the API Gateway cache flush (botocore Stubber),
both driven by real admin writes through the API."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib import aws as aws_clients
from chalicelib import cache, events
from tests.admin_menu_helpers import (
    BUS,
    aws,  # noqa: F401 (fixture)
    call,
    configure,
    drink_body,
    make_drink,
    make_ingredient,
    make_section,
)

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture()
def bus_queue() -> tuple[Any, str]:
    """The bus, and a rule sending every API event to a queue the test reads."""
    eventbridge = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    eventbridge.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName=f"menu-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    eventbridge.put_rule(Name="api-events", EventBusName=BUS, EventPattern=json.dumps({"source": [events.SOURCE]}))
    eventbridge.put_targets(Rule="api-events", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
    return sqs, url


def receive(queue: tuple[Any, str], count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
    """The next `count` events on the queue (polled until a deadline, no sleeps)."""
    sqs, url = queue
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in answer.get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(found) == count, found
    return found


def check_envelope(event: dict[str, Any], detail_type: str) -> dict[str, Any]:
    assert event["source"] == "drink-assistant.api" and event["detail-type"] == detail_type
    detail = event["detail"]
    assert set(detail) == {"metadata", "data"}
    metadata = detail["metadata"]
    assert set(metadata) == {"event_type", "version", "timestamp", "event_id"}
    assert metadata["event_type"] == detail_type and metadata["version"] == "1"
    assert metadata["timestamp"].endswith("Z")
    assert datetime.fromisoformat(metadata["timestamp"]).utcoffset().total_seconds() == 0
    uuid.UUID(metadata["event_id"])
    return detail["data"]


# ---------------------------------------------------------------- events


def test_drink_writes_publish_events(client: Any, admin_headers: dict[str, str], bus_queue: Any) -> None:
    section = make_section(client, admin_headers)
    (section_created,) = receive(bus_queue, 1)
    assert check_envelope(section_created, "MenuChanged") == {"kind": "section", "id": section["id"],
                                                               "change": "created"}
    body = drink_body(section["id"], "Gin", image_key="drink-images/abc.png")
    status, drink = call(client, "POST", "/admin/drinks", admin_headers, body)
    assert status == 201, drink
    (created,) = receive(bus_queue, 1)
    data = check_envelope(created, "DrinkCreated")
    assert data == {
        "drink_id": drink["id"],
        "name": drink["name"],
        "section_id": section["id"],
        "description": "A test drink.",
        "ingredients": [{"name": "Gin", "amount": 50, "unit": "ml", "optional": False}],
        "glass": "coupe",
        "garnish": "lime wheel",
        "tags": ["sour", "test"],
        "image_key": "drink-images/abc.png",
        "archived": False,
    }

    changes = {"garnish": "olive", "name": drink["name"] + " II"}
    assert call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, changes)[0] == 200
    assert call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)[0] == 200
    updated, deleted = receive(bus_queue, 2)
    data = check_envelope(updated, "DrinkUpdated")
    assert data["garnish"] == "olive" and data["name"] == changes["name"] and data["changed"] == ["garnish", "name"]
    assert check_envelope(deleted, "DrinkDeleted") == {"drink_id": drink["id"], "name": changes["name"]}

    # Deleting again changes nothing and announces nothing; a 400 announces nothing either.
    assert call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)[0] == 200
    assert call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, {"abv": 99})[0] == 400
    assert call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, {"archived": False})[0] == 200
    (next_event,) = receive(bus_queue, 1)
    assert next_event["detail-type"] == "DrinkUpdated" and next_event["detail"]["data"]["archived"] is False
    # Section and ingredient writes are MenuChanged, not drink events.
    assert call(client, "PUT", f"/admin/sections/{section['id']}", admin_headers, {"position": 9})[0] == 200
    assert call(client, "PUT", f"/admin/drinks/{drink['id']}", admin_headers, {"glass": "nick & nora"})[0] == 200
    moved, last = receive(bus_queue, 2)
    assert check_envelope(moved, "MenuChanged")["changed"] == ["position"]
    assert last["detail-type"] == "DrinkUpdated" and last["detail"]["data"]["glass"] == "nick & nora"


def test_ingredient_and_section_writes_publish_menu_changed(
    client: Any, admin_headers: dict[str, str], bus_queue: Any
) -> None:
    ingredient = make_ingredient(client, admin_headers)
    section = make_section(client, admin_headers, description="Before")
    created_ingredient, created_section = receive(bus_queue, 2)
    assert check_envelope(created_ingredient, "MenuChanged") == {
        "kind": "ingredient", "id": ingredient["id"], "change": "created", "in_stock": True,
    }
    assert check_envelope(created_section, "MenuChanged") == {"kind": "section", "id": section["id"],
                                                               "change": "created"}

    # Stock out, a rename, a section edit and an archive: one event each, naming what changed.
    renamed = ingredient["name"] + " X"
    ingredient_path, section_path = f"/admin/ingredients/{ingredient['id']}", f"/admin/sections/{section['id']}"
    assert call(client, "PUT", ingredient_path, admin_headers, {"in_stock": False})[0] == 200
    assert call(client, "PUT", ingredient_path, admin_headers, {"name": renamed, "in_stock": False})[0] == 200
    assert call(client, "PUT", section_path, admin_headers, {"description": "After", "position": section["position"]})[
        0
    ] == 200
    assert call(client, "DELETE", section_path, admin_headers)[0] == 200
    stock, rename, edit, archive = receive(bus_queue, 4)
    assert check_envelope(stock, "MenuChanged") == {
        "kind": "ingredient", "id": ingredient["id"], "change": "updated", "changed": ["in_stock"], "in_stock": False,
    }
    assert check_envelope(rename, "MenuChanged")["changed"] == ["name"]  # in_stock was already false
    assert check_envelope(edit, "MenuChanged") == {"kind": "section", "id": section["id"], "change": "updated",
                                                   "changed": ["description"]}
    assert check_envelope(archive, "MenuChanged") == {"kind": "section", "id": section["id"], "change": "archived"}

    # No-op writes (the same values again, archiving twice) and refused ones announce nothing.
    assert call(client, "PUT", ingredient_path, admin_headers, {"in_stock": False, "name": renamed})[0] == 200
    assert call(client, "PUT", section_path, admin_headers, {"description": "After", "archived": True})[0] == 200
    assert call(client, "DELETE", section_path, admin_headers)[0] == 200
    assert call(client, "PUT", ingredient_path, admin_headers, {"in_stock": "nope"})[0] == 400
    assert call(client, "PUT", ingredient_path, admin_headers, {})[0] == 400
    assert call(client, "PUT", f"/admin/ingredients/{uuid.uuid4()}", admin_headers, {"in_stock": True})[0] == 404
    holding = make_section(client, admin_headers)
    make_drink(client, admin_headers, holding["id"])
    receive(bus_queue, 2)  # its MenuChanged and the DrinkCreated
    assert call(client, "DELETE", f"/admin/sections/{holding['id']}", admin_headers)[0] == 409
    # The next event is the next real change: nothing was queued in between.
    assert call(client, "PUT", ingredient_path, admin_headers, {"in_stock": True})[0] == 200
    (restocked,) = receive(bus_queue, 1)
    assert check_envelope(restocked, "MenuChanged")["in_stock"] is True


def test_events_are_published_after_the_commit(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, Any]] = []

    def spy(detail_type: str, data: dict[str, Any]) -> bool:
        # Another connection sees the write: it was committed before the publish.
        table, key = ("drinks", data["drink_id"]) if "drink_id" in data else (f"{data['kind']}s", data["id"])
        row = admin_conn.execute(f"SELECT * FROM {table} WHERE id = %s", (key,)).fetchone()
        seen.append((detail_type, row))
        return True

    monkeypatch.setattr(events, "publish", spy)
    section = make_section(client, admin_headers)
    drink = make_drink(client, admin_headers, section["id"])
    assert call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)[0] == 200
    assert [t for t, _ in seen] == ["MenuChanged", "DrinkCreated", "DrinkDeleted"]
    assert seen[0][1]["name"] == section["name"]
    assert seen[1][1]["name"] == drink["name"]
    assert seen[2][1]["archived_at"] is not None


def test_a_failed_publish_is_logged_and_the_request_succeeds(
    client: Any, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    section = make_section(client, admin_headers)  # no bus was created in the emulator
    status, drink = call(client, "POST", "/admin/drinks", admin_headers, drink_body(section["id"]))
    assert status == 201, drink
    failures = [r for r in caplog.records if r.name == "chalicelib.events" and r.levelno == logging.ERROR]
    assert [f.detail_type for f in failures] == ["MenuChanged", "DrinkCreated"]  # the section, then the drink
    assert admin_headers["Authorization"].split()[1] not in caplog.text


def test_publish_request_shape_and_failures(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    client = aws_clients.client("events", config=events.CLIENT_CONFIG)
    expected = {"Entries": [{"EventBusName": BUS, "Source": "drink-assistant.api", "DetailType": "DrinkCreated",
                             "Detail": ANY}]}  # fmt: skip
    with Stubber(client) as stub:
        stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}, expected)
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]},
            expected,
        )
        stub.add_client_error("put_events", "AccessDeniedException", "not allowed", 400, expected_params=expected)
        assert events.publish("DrinkCreated", {"drink_id": "x"}) is True
        assert events.publish("DrinkCreated", {"drink_id": "x"}) is False
        assert events.publish("DrinkCreated", {"drink_id": "x"}) is False
        stub.assert_no_pending_responses()
    errors = [r for r in caplog.records if r.name == "chalicelib.events" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["event publish rejected", "event publish failed"]
    assert errors[0].error_code == "InternalFailure" and "AccessDenied" in errors[1].error


def test_no_bus_configured_is_a_logged_no_op(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    configure(monkeypatch, EVENT_BUS_NAME="")
    assert events.publish("DrinkCreated", {"drink_id": "x"}) is False
    assert "no event bus configured" in caplog.text
    assert "events" not in aws_clients.made()  # not even a client was made


# ---------------------------------------------------------------- API Gateway cache


def flush_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "chalicelib.cache"]


def test_admin_writes_flush_the_stage_cache(
    client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    configure(monkeypatch, API_ID="a1b2c3d4e5", API_STAGE="api")
    writes = 0
    with Stubber(aws_clients.client("apigateway", config=cache.CLIENT_CONFIG)) as stub:

        def expect_flush() -> None:
            nonlocal writes
            writes += 1
            stub.add_response("flush_stage_cache", {}, {"restApiId": "a1b2c3d4e5", "stageName": "api"})

        for _ in range(2):
            expect_flush()
        section = make_section(client, admin_headers)
        drink = make_drink(client, admin_headers, section["id"])
        for method, path, body in [
            ("PUT", f"/admin/drinks/{drink['id']}", {"glass": "flute"}),
            ("DELETE", f"/admin/drinks/{drink['id']}", None),
            ("PUT", f"/admin/sections/{section['id']}", {"description": "Gone soon"}),
            ("DELETE", f"/admin/sections/{section['id']}", None),
            ("POST", "/admin/ingredients", {"name": f"Flush Test {uuid.uuid4().hex[:8]}"}),
        ]:
            expect_flush()
            status, answer = call(client, method, path, admin_headers, body)
            assert status in (200, 201), answer
        ingredient = answer
        expect_flush()
        assert (
            call(client, "PUT", f"/admin/ingredients/{ingredient['id']}", admin_headers, {"in_stock": False})[0] == 200
        )
        stub.assert_no_pending_responses()
        assert flush_lines(caplog) == ["menu cache flushed"] * writes

        # Reads, refused writes and no-op deletes flush nothing (a flush now would find no stub and log a failure).
        caplog.clear()
        assert call(client, "GET", "/admin/drinks", admin_headers)[0] == 200
        assert call(client, "POST", "/admin/drinks", admin_headers, {"name": "x"})[0] == 400
        assert call(client, "DELETE", f"/admin/drinks/{drink['id']}", admin_headers)[0] == 200
        assert call(client, "DELETE", f"/admin/sections/{section['id']}", admin_headers)[0] == 200
        assert flush_lines(caplog) == []


def test_a_failed_flush_is_logged_and_the_request_succeeds(
    client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    configure(monkeypatch, API_ID="a1b2c3d4e5", API_STAGE="prod")
    with Stubber(aws_clients.client("apigateway", config=cache.CLIENT_CONFIG)) as stub:
        stub.add_client_error(
            "flush_stage_cache", "TooManyRequestsException", "slow down", 429,
            expected_params={"restApiId": "a1b2c3d4e5", "stageName": "prod"},
        )  # fmt: skip
        status, ingredient = call(client, "POST", "/admin/ingredients", admin_headers, {"name": f"Z {uuid.uuid4()}"})
        stub.assert_no_pending_responses()
    assert status == 201, ingredient
    (failure,) = [r for r in caplog.records if r.name == "chalicelib.cache"]
    assert failure.levelno == logging.ERROR and "TooManyRequests" in failure.error


def test_without_an_api_id_the_flush_is_a_logged_no_op(
    client: Any, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, _ = call(client, "POST", "/admin/ingredients", admin_headers, {"name": f"N {uuid.uuid4()}"})
    assert status == 201
    assert flush_lines(caplog) == ["menu cache flush skipped: no API id configured (no stage cache)"]
    assert "apigateway" not in aws_clients.made()
