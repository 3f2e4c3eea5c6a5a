"""The log lines (chalicelib/logs.py, Powertools' formatter) as Lambda writes them: the
shape, API Gateway's request id as the correlation id (a client's header is not trusted),
cold_start and the Lambda context, the `extra` keys, and no secrets in any line."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.local import LambdaContext

import app as app_module
from chalicelib import logs
from tests.guest_fixtures import secrets_manager  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent


class Captured:
    """What the app's JSON handler writes, parsed line by line."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def one(self, message: str) -> dict[str, Any]:
        (line,) = [line for line in self.lines() if line["message"] == message]
        return line


@pytest.fixture()
def captured() -> Iterator[Captured]:
    """The real handler and formatter (`logs.json_handler`) on the root logger, at INFO
    (the deployed LOG_LEVEL), writing to a buffer; removed afterwards."""
    out = Captured()
    handler = logs.json_handler(out.stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def rest_event(path: str, request_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as the api_handler Lambda receives it."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "path": f"/api{path}",
            "stage": "api",
            "requestId": request_id,
            "identity": {"sourceIp": "198.51.100.7"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def invoke_api(path: str, request_id: str, headers: dict[str, str]) -> dict[str, Any]:
    context = LambdaContext("api_handler", memory_size=512)
    return app_module.app(rest_event(path, request_id, headers), context)


def test_a_request_line_carries_api_gateways_request_id_not_the_clients(
    database_url: str, captured: Captured
) -> None:
    request_id = str(uuid.uuid4())
    sent = 'party-42"}\n{"level":"ERROR"} <script>' + "x" * 200
    answer = invoke_api("/bar", request_id, {"x-correlation-id": sent, "x-api-key": "web"})

    assert answer["statusCode"] == 200, answer
    assert answer["headers"]["X-Correlation-Id"] == request_id  # the web app may read it
    line = captured.one("request")
    assert line["correlation_id"] == request_id
    # Logged beside it, cleaned (no quotes, spaces, newlines or brackets) and cut to 64.
    assert line["client_correlation_id"] == ("party-42level:ERRORscript" + "x" * 200)[: logs.CLIENT_ID_MAX]
    assert len(captured.text.splitlines()) == len(captured.lines())  # the header injected no line
    assert {"timestamp", "level", "logger", "location", "service", "cold_start", "function_name",
            "function_memory_size", "function_request_id"} <= set(line)  # fmt: skip
    assert (line["level"], line["logger"], line["service"]) == ("INFO", "drink_assistant.api", "drink-assistant")
    assert line["function_name"] == "api_handler" and line["function_memory_size"] == 512
    assert isinstance(line["cold_start"], bool)
    assert line["timestamp"].endswith("+00:00")
    # The request's own keys, as the middleware passes them.
    assert (line["method"], line["path"], line["status"]) == ("GET", "/bar", 200)
    assert isinstance(line["duration_ms"], float)


def test_a_header_of_nothing_safe_is_not_logged_at_all(database_url: str, captured: Captured) -> None:
    request_id = str(uuid.uuid4())
    invoke_api("/bar", request_id, {"x-correlation-id": '"; <>\n', "x-api-key": "web"})
    line = captured.one("request")
    assert line["correlation_id"] == request_id and "client_correlation_id" not in line


def test_without_api_gateways_id_the_lambda_request_id_is_the_correlation_id(
    client: Any, captured: Captured
) -> None:
    """chalice local (and its test client) sends no requestContext.requestId."""
    response = client.http.get("/bar", headers={"X-Correlation-Id": "party-42"})
    line = captured.one("request")
    assert response.headers["X-Correlation-Id"] == line["correlation_id"] == line["function_request_id"]
    assert line["correlation_id"] != "party-42" and line["client_correlation_id"] == "party-42"


def test_extra_keys_stay_keys_none_included_and_lines_outside_an_invocation(captured: Captured) -> None:
    logging.getLogger("chalicelib.example").warning(
        "thing happened", extra={"code": None, "attempt": 2, "detail": {"a": [1]}, "when": uuid.UUID(int=1)}
    )
    line = captured.one("thing happened")
    assert line["code"] is None and line["attempt"] == 2 and line["detail"] == {"a": [1]}
    assert line["when"] == str(uuid.UUID(int=1))  # not JSON: its str()
    assert (line["level"], line["logger"], line["correlation_id"]) == ("WARNING", "chalicelib.example", "-")
    assert "cold_start" not in line and "function_name" not in line


def test_an_exception_is_one_line_with_its_type(captured: Captured) -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logging.getLogger("chalicelib.example").exception("it failed")
    (raw,) = captured.text.splitlines()
    line = json.loads(raw)
    assert line["exception_name"] == "ValueError" and "bad\nthing" in line["exception"]


def sqs_record(body: str) -> dict[str, Any]:
    return {
        "messageId": "m-1", "receiptHandle": "r", "body": body, "attributes": {}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
    }  # fmt: skip


def test_an_sqs_invocation_carries_the_lambda_context(captured: Captured) -> None:
    """The `all` middleware: the realtime relay's lines name their function too."""
    message = {"id": "ev-1", "detail-type": "SomethingNew", "detail": {}}
    event = {"Records": [sqs_record(json.dumps(message))]}
    app_module.relay_to_realtime(event, LambdaContext("relay_to_realtime", memory_size=256))
    line = captured.one("realtime event skipped: unknown detail-type")
    assert line["function_name"] == "relay_to_realtime" and isinstance(line["cold_start"], bool)
    assert line["event_id"] == "ev-1"


COLD_START_PROBE = """
import io, json, logging, sys
from chalice.local import LambdaContext
import app
from chalicelib import logs

out = io.StringIO()
logging.getLogger().addHandler(logs.json_handler(out))
event = json.loads(sys.argv[1])
for _ in range(3):
    app.relay_to_realtime(event, LambdaContext("relay_to_realtime", memory_size=256))
print(json.dumps([json.loads(line)["cold_start"] for line in out.getvalue().splitlines()]))
"""


@pytest.mark.parametrize(
    ("initialization", "expected"),
    [("on-demand", [True, False, False]), ("provisioned-concurrency", [False, False, False])],
)
def test_cold_start_is_true_for_the_first_invocation_only(initialization: str, expected: list[bool]) -> None:
    env = {**os.environ, "AWS_LAMBDA_INITIALIZATION_TYPE": initialization}
    event = {"Records": [sqs_record(json.dumps({"id": "ev", "detail-type": "Unknown", "detail": {}}))]}
    result = subprocess.run([sys.executable, "-c", COLD_START_PROBE, json.dumps(event)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == expected


# ---------------------------------------------------------------- secrets


def test_no_secret_a_request_carries_reaches_the_log(
    client: Any, admin_headers: dict[str, str], secrets_manager: Any, captured: Captured  # noqa: F811
) -> None:
    """An admin's bearer token, an invite code, a guest's access and refresh tokens, sent
    the right way and the wrong ways, appear in no line (the lines are there: 8 requests
    reach the API; the authorizer turns the bad bearer token away before it)."""
    json_headers = {"Content-Type": "application/json"}

    def post(path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return client.http.post(path, headers={**json_headers, **(headers or {})}, body=json.dumps(body))

    created = post("/admin/registration-codes", {"expires_in_hours": 2, "max_uses": 5}, admin_headers)
    assert created.status_code == 201, created.body
    code = json.loads(created.body)["code"]
    joined = post("/register", {"code": code, "name": "Ann"})
    assert joined.status_code == 201, joined.body
    tokens = json.loads(joined.body)
    guest = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.http.get("/me", headers=guest).status_code == 200
    refreshed = post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.body
    # The wrong ways: a reused (revoked) refresh token, one in a malformed body, a code
    # sent as a name, an expired-looking bearer token, a code that is not one.
    assert post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert post("/auth/refresh", {"refresh_token": tokens["refresh_token"], "x": 1}).status_code == 400
    assert post("/register", {"code": code, "name": code * 3}).status_code == 400
    assert client.http.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}x"}).status_code == 401
    assert post("/register", {"code": code[::-1], "name": "Bo"}).status_code in (400, 403, 404)

    text = captured.text
    assert len([line for line in captured.lines() if line["message"] == "request"]) == 8
    secrets = {
        "admin token": admin_headers["Authorization"].split()[1],
        "invite code": code,
        "guest access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "rotated refresh token": json.loads(refreshed.body)["refresh_token"],
    }
    for name, secret in secrets.items():
        assert secret not in text, f"the {name} is in the log"
        # Nor its signature alone (a JWT's third part), nor any 16-character piece of it.
        pieces = {secret[i : i + 16] for i in range(0, max(1, len(secret) - 16), 8)}
        assert not [piece for piece in pieces if piece in text], f"part of the {name} is in the log"
