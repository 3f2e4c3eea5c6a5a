"""The local gateway's own behaviour: API Gateway-style refusals reshaped like in AWS, and
its own refusals (too large, too long, malformed) in the same {"Code", "Message"} shape."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from local.gateway import MAX_BODY_BYTES, MAX_HEADER_FIELD, MAX_REQUEST_LINE, gateway_response_body
from tests.servers import ServerThread, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_policy_refusals_get_the_contract_shape() -> None:
    headers = {"x-amzn-ErrorType": "AccessDeniedException", "Content-Type": "text/plain"}
    body = gateway_response_body(403, headers, b'{"Message": "User is not authorized to access this resource"}')
    assert json.loads(body) == {"Code": "ForbiddenError", "Message": "Not allowed for this token"}
    assert headers["Content-Type"] == "application/json"


def test_missing_token_gets_the_contract_shape() -> None:
    body = gateway_response_body(401, {"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')
    assert json.loads(body)["Code"] == "UnauthorizedError"


def test_the_apps_own_errors_pass_through() -> None:
    own = b'{"Code": "ForbiddenError", "Message": "admins only"}'
    assert gateway_response_body(403, {"x-amzn-ErrorType": "x"}, own) == own
    plain = b'{"Code": "NotFoundError", "Message": "no such drink"}'
    assert gateway_response_body(404, {}, plain) == plain
    assert gateway_response_body(403, {}, b"{}") == b"{}"


# ---------------------------------------------------------------- the real gateway process
# `python -m local.gateway` as the stack starts it, in front of a recording stand-in for
# `chalice local`: refusals of the HTTP layer itself are {"Code", "Message"} JSON too, and
# the proxy forwards the request as the client sent it.


@pytest.fixture()
def upstream() -> Iterator[tuple[ServerThread, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = ServerThread(app)
    try:
        yield server, seen
    finally:
        server.stop()


@pytest.fixture()
def gateway(upstream: tuple[ServerThread, list[dict[str, str]]], tmp_path: Path) -> Iterator[int]:
    port = free_port()
    args = ["--host", "127.0.0.1", "--port", str(port), "--api-upstream", upstream[0].url]
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.gateway", *args, "--auth-state-dir", str(tmp_path / "auth")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: raw(port, b"GET /config.json HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200, "the gateway", 30,
                 alive=lambda: proc.poll() is None)
        yield port
    finally:
        proc.terminate()
        try:
            assert proc.wait(timeout=10) == 0, "the gateway stops cleanly on SIGTERM"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library fixing them up); the parsed answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                if len(body) >= int(headers.get("content-length", "-1")) >= 0:
                    return int(lines[0].split()[1]), headers, body[: int(headers["content-length"])]
    raise AssertionError(f"no complete answer: {data[:200]!r}")


def assert_contract(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, str]:
    code, headers, body = answer
    assert code == status, (code, body[:200])
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)
    assert set(error) == {"Code", "Message"} and error["Code"] and error["Message"]
    return error


def test_a_bodiless_post_reaches_the_api_without_a_made_up_content_type(
    gateway: int, upstream: tuple[ServerThread, list[dict[str, str]]]
) -> None:
    request = b"POST /api/orders/x/cancel HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    assert raw(gateway, request)[0] == 200
    sent = {k.lower(): v for k, v in upstream[1][-1].items()}
    assert "content-type" not in sent  # aiohttp's client would add application/octet-stream
    assert "user-agent" not in sent

    typed = b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    assert raw(gateway, typed)[0] == 200
    assert {k.lower(): v for k, v in upstream[1][-1].items()}["content-type"] == "application/json"


def test_a_body_over_the_limit_is_a_json_413(gateway: int, upstream: tuple[ServerThread, list[Any]]) -> None:
    size = MAX_BODY_BYTES + 1
    head = f"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    error = assert_contract(raw(gateway, head.encode() + b" " * size), 413)
    assert error["Code"] == "RequestEntityTooLargeError"
    assert upstream[1] == []  # nothing reached the API


def test_an_over_long_request_line_is_a_json_414(gateway: int, upstream: tuple[ServerThread, list[Any]]) -> None:
    path = "/api/drinks?q=" + "a" * MAX_REQUEST_LINE
    error = assert_contract(raw(gateway, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()), 414)
    assert error["Code"] == "URITooLongError"
    assert upstream[1] == []


def test_an_over_long_header_or_too_many_headers_is_a_json_431(gateway: int) -> None:
    long_header = f"GET /api/bar HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * (MAX_HEADER_FIELD + 1)}\r\n\r\n"
    assert assert_contract(raw(gateway, long_header.encode()), 431)["Code"] == "RequestHeaderFieldsTooLargeError"
    many = "".join(f"X-H{i}: v\r\n" for i in range(200))
    assert assert_contract(raw(gateway, f"GET /api/bar HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode()), 431)


def test_a_malformed_request_is_a_json_400(gateway: int) -> None:
    assert_contract(raw(gateway, b"GET /api/bar HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"), 400)
    assert_contract(raw(gateway, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"), 400)


def test_aws_answers_a_too_large_body_like_the_local_gateway() -> None:
    """infra/api-merge.json: API Gateway's REQUEST_TOO_LARGE in the contract's shape, with
    the local gateway's Code. (REST APIs have no gateway response for an over-long URL.)"""
    merge = json.loads((ROOT / "infra" / "api-merge.json").read_text())
    responses = merge["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    too_large = responses["REQUEST_TOO_LARGE"]
    assert int(too_large["StatusCode"]) == 413
    body = json.loads(too_large["ResponseTemplates"]["application/json"])
    assert set(body) == {"Code", "Message"} and body["Code"] == "RequestEntityTooLargeError"
