"""Hostile input on every route: never a 5xx, every refusal a 4xx {"Code", "Message"}
JSON, and a refused request changes nothing in the database.

The routes come from `app.routes`, so a new route is fuzzed the day it exists. The big
sweep runs in-process (chalice.test.Client against a real PostgreSQL of its own, AWS in
moto) with admin, guest and broken tokens; a smaller one goes through the real local
stack (gateway + chalice local), where HTTP itself can be bent. Inputs come from a seeded
generator (SEED), so a failure replays exactly; counts are bounded (see the constants).
"""

from __future__ import annotations

import http.client
import inspect
import json
import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel

import app as app_module
from chalicelib import validation
from local.pg import drop_database, ensure_database, migrated_database
from tests.guest_fixtures import secrets_manager  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
SEED = 8_2026
RANDOM_BODIES = 8  # per write route, on top of the fixed hostile bodies
ROUTES = sorted((path, method) for path, methods in app_module.app.routes.items() for method in methods)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

# Every field name the request models know (the generator puts hostile values under them).
FIELD_NAMES = sorted(
    {
        name
        for _, model in inspect.getmembers(validation, inspect.isclass)
        if issubclass(model, BaseModel) and model is not BaseModel
        for name in model.model_fields
    }
)


def _deep(levels: int, leaf: bytes = b"1") -> bytes:
    return b"[" * levels + leaf + b"]" * levels


HOSTILE_BODIES: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "null": b"null",
    "number": b"0",
    "string": b'"text"',
    "true": b"true",
    "array instead of object": b'[{"items": [], "name": "x", "code": "x"}]',
    "empty array": b"[]",
    "nested 3000 arrays": _deep(3000),
    "nested 3000 objects": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "nested 3000 in a field": b'{"items": ' + _deep(3000) + b', "name": ' + _deep(3000) + b"}",
    "nested 200 (under the recursion limit)": b'{"items": ' + _deep(200) + b"}",
    "huge integer": b'{"quantity": 1' + b"0" * 5000 + b', "max_uses": 1' + b"0" * 5000 + b"}",
    "big integers": json.dumps({n: 2**70 for n in FIELD_NAMES}).encode(),
    "huge exponent": b'{"abv": 1e999999, "max_uses": -1e400, "position": 1e308}',
    "NaN and Infinity": b'{"abv": NaN, "amount": Infinity, "max_uses": -Infinity, "items": [NaN]}',
    "bare NaN": b"NaN",
    "invalid UTF-8": b'{"name": "\xff\xfe\xfa", "code": "\xc3\x28"}',
    "UTF-8 BOM": b'\xef\xbb\xbf{"name": "x"}',
    "UTF-16": '{"name": "x"}'.encode("utf-16"),
    "NUL escapes": json.dumps({n: "a\u0000b" for n in FIELD_NAMES}).encode(),
    "lone surrogates": json.dumps({n: "\ud800" for n in FIELD_NAMES}).encode(),
    "raw control characters": b'{"name": "a\x01\x1f"}',
    "truncated": b'{"items": [{"drink_id": "',
    "trailing garbage": b'{"name": "x"} {"name": "y"}',
    "duplicate keys": b'{"name": "a", "name": 5, "name": null}',
    "wrong types everywhere": json.dumps({n: [{"x": None}] for n in FIELD_NAMES}).encode(),
    "nulls everywhere": json.dumps(dict.fromkeys(FIELD_NAMES)).encode(),
    "long strings": json.dumps({n: "x" * 100_000 for n in FIELD_NAMES[:8]}).encode(),
    "many keys": json.dumps({f"k{i}": i for i in range(5_000)}).encode(),
    "long array": json.dumps({"items": [{"drink_id": str(uuid.uuid4())}] * 5_000}).encode(),
}


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(12 if depth < 3 else 8)
    if kind == 0:
        return rng.choice([0, -1, 1, 5, 501, 2**31, -(2**63), 10**30])
    if kind == 1:
        return rng.choice([0.5, -0.0, 1e-300, 1e300, float("nan"), float("inf"), -float("inf")])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice(["", " ", "x" * rng.randrange(1, 2000), "ünïcødé 🍸", "\u202e\u200b", "'; DROP TABLE x;--"])
    if kind == 4:
        return rng.choice(["\u0000", "a\u0000", "\ud83c", "\udfff x", "\x7f\x9f", "\n" * 50])
    if kind == 5:
        return rng.choice([str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000", "not-a-uuid", "../../etc"])
    if kind == 6:
        return rng.choice(["pending", "cancelled", "READY", "image/png", "drink-images/../x.png", "1999-01-01"])
    if kind == 7:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 50)))
    if kind in (8, 9):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))]
    return random_object(rng, depth + 1)


def random_object(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    keys = rng.sample(FIELD_NAMES, k=rng.randrange(1, min(6, len(FIELD_NAMES))))
    if rng.random() < 0.3:
        keys.append(rng.choice(["extra", "__proto__", "constructor", "", "ü"]))
    return {key: random_value(rng, depth) for key in keys}


def random_bodies(rng: random.Random, count: int) -> list[bytes]:
    return [json.dumps(random_object(rng)).encode() for _ in range(count)]


HOSTILE_QUERIES = [
    "q=%00",
    "q=" + "a" * 3000,
    "q=%ff%fe",
    "q=%ed%a0%80",
    "q=&q=&q=",
    "&".join(["ingredient=gin"] * 50),
    "ingredient=%00&ingredient=",
    "available=maybe&section_id=nope",
    "section_id=%00",
    "status=bogus",
    "status=%00",
    "since=not-a-date",
    "since=9999-99-99T99:99:99",
    "since=-999999999-01-01",
    "since=%00",
    "since=" + "9" * 5000,
    "%zz=%zz",
    "a[]=1&a[0]=2&__proto__=x",
]

HOSTILE_PATH_VALUES = [
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "%00",
    "%ff",
    "a" * 3000,
    "ünïcødé",
    "%2e%2e",
    "-1",
    "FRIDAY%20NIGHT",
]


def concrete(path: str, value: str | None = None) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: value if value is not None else str(uuid.uuid4()), path)


def contract_problem(status: int, headers: dict[str, str], body: bytes, *, in_process: bool = False) -> str | None:
    """What is wrong with an answer: a 5xx, or a 4xx that is not {"Code", "Message"} JSON.
    In-process, a Lambda answer without Content-Type is fine: API Gateway sends it as
    application/json (its default for proxy integrations); over HTTP it must be there."""
    if status >= 500:
        return f"{status}: {body[:300]!r}"
    if status >= 400:
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if in_process and not content_type:
            content_type = "application/json"
        if not content_type.startswith("application/json"):
            return f"{status} with Content-Type {content_type!r}: {body[:200]!r}"
        try:
            error = json.loads(body)
        except ValueError:
            return f"{status} body is not JSON: {body[:200]!r}"
        if not (
            isinstance(error, dict)
            and set(error) == {"Code", "Message"}
            and all(isinstance(error[k], str) and error[k] for k in ("Code", "Message"))
        ):
            return f"{status} body is not {{Code, Message}}: {body[:200]!r}"
    return None


# ---------------------------------------------------------------- in-process


@pytest.fixture(scope="module")
def fuzz_database(pg_cluster: str, user_pool: Any) -> Iterator[str]:
    """A database of its own (migrated and seeded), so what the fuzzer's accepted
    requests change cannot disturb other tests."""
    with migrated_database(pg_cluster, "da_fuzz") as url:
        yield url


class Fingerprint:
    """Row count and newest row version (xmin) of every table: any insert, update or
    delete changes it (a new row version has a newer transaction id)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        tables = [
            row[0]
            for row in self.conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            ).fetchall()
        ]
        assert tables, "the fuzz database has tables"
        self.query = " UNION ALL ".join(
            f"SELECT '{t}', count(*), max(xmin::text::bigint) FROM \"{t}\"" for t in tables
        )

    def __call__(self) -> list[tuple[Any, ...]]:
        return self.conn.execute(self.query).fetchall()  # type: ignore[arg-type]


def who_may_call(path: str, method: str) -> str:
    """The token that gets past the authorizer, so the view itself meets the input."""
    entry = app_module.app.routes[path][method]
    if entry.authorizer is None:
        return "anyone"
    return "guest" if not path.startswith("/admin") else "admin"


def in_aws_shape(status: int, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    """API Gateway's own refusals (the authorizer's 401/403) as the deployed API sends them:
    reshaped by infra/api-merge.json's GatewayResponses (and locally by the gateway)."""
    from local.gateway import gateway_response_body

    headers = dict(headers)
    return headers, gateway_response_body(status, headers, body)


def test_every_route_survives_hostile_bodies_headers_and_queries(
    fuzz_database: str, user_pool: Any, secrets_manager: Any  # noqa: F811
) -> None:
    from chalice.test import Client

    from chalicelib import guest_tokens

    with psycopg.connect(fuzz_database, autocommit=True) as conn:
        guest = conn.execute(
            "INSERT INTO guests (id, name, code) VALUES (%s, 'Fuzz', 'FUZZ') RETURNING id, name, created_at",
            (uuid.uuid4(),),
        ).fetchone()
    assert guest is not None
    guest_row = {"id": guest[0], "name": guest[1], "created_at": guest[2]}
    admin = f"Bearer {user_pool.admin_token()}"
    tokens = {
        "admin": admin,
        "anyone": admin,  # public routes have no authorizer: the header is ignored
        "guest": f"Bearer {guest_tokens.issue_access_token(guest_tokens.signing_key(), guest_row)}",
    }
    bad_authorizations = ["", "Bearer " + "a" * 20_000, "Bearer ünïcødé.x.y", admin + "x"]
    hostile_headers: list[dict[str, str]] = [
        {"Content-Type": "application/json; charset=latin-1"},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/json" + "; x=y" * 500},
        {"Idempotency-Key": ""},
        {"Idempotency-Key": "k" * 5000},
        {"Idempotency-Key": "ünïcødé"},
        {"Origin": "javascript:alert(1)"},
        {"Origin": "http://" + "o" * 5000},
        {"X-Correlation-Id": "c" * 10_000},
        {"X-Correlation-Id": "\u202e\u0000"},
        {"Accept": "text/html"},
    ]
    rng = random.Random(SEED)
    fingerprint = Fingerprint(fuzz_database)
    problems: list[str] = []
    sent = 0

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:

        def send(method: str, path: str, headers: dict[str, str], body: bytes, label: str) -> int:
            nonlocal sent
            sent += 1
            before = fingerprint() if method in WRITES else None
            response = client.http.request(method, path, headers=headers, body=body)
            status = response.status_code
            problem = contract_problem(status, *in_aws_shape(status, response.headers, response.body), in_process=True)
            if problem:
                problems.append(f"{method} {path[:80]} [{label}]: {problem}")
            elif before is not None and status >= 400 and fingerprint() != before:
                problems.append(f"{method} {path[:80]} [{label}]: refused with {status} but changed data")
            return status

        for path, method in ROUTES:
            who = who_may_call(path, method)
            token = {"Authorization": tokens[who]}
            as_json = {**token, "Content-Type": "application/json"}
            if method in WRITES:  # the views that read a body
                randoms = random_bodies(rng, RANDOM_BODIES)
                bodies = {**HOSTILE_BODIES, **{f"random {i}": body for i, body in enumerate(randoms)}}
                for extra in hostile_headers:
                    send(method, concrete(path), {**as_json, **extra}, b"{}", f"{who}, headers {str(extra)[:40]}")
            else:
                bodies = {k: HOSTILE_BODIES[k] for k in ("nested 3000 arrays", "invalid UTF-8", "NUL escapes")}
                for extra in hostile_headers:
                    if not {"Content-Type", "Idempotency-Key"} & set(extra):  # what every route reads
                        send(method, concrete(path), {**token, **extra}, b"", f"{who}, headers {str(extra)[:40]}")
                for query in HOSTILE_QUERIES:
                    send(method, f"{concrete(path)}?{query}", token, b"", f"{who}, query {query[:30]}")
            for label, body in bodies.items():
                send(method, concrete(path), as_json, body, f"{who}, {label}")
            for authorization in bad_authorizations:
                headers = {"Authorization": authorization, "Content-Type": "application/json"}
                send(method, concrete(path), headers, b"{}", f"authorization {authorization[:20]!r}")
            if "{" in path:
                for value in HOSTILE_PATH_VALUES:
                    send(method, concrete(path, value), token, b"", f"{who}, path {value[:20]}")
    fingerprint.conn.close()

    writes = sum(1 for _, method in ROUTES if method in WRITES)
    assert writes and sent >= writes * (len(HOSTILE_BODIES) + RANDOM_BODIES)
    assert not problems, f"{len(problems)} of {sent} requests broke the contract:\n" + "\n".join(problems[:40])


def test_views_read_bodies_only_through_the_edge_parser() -> None:
    """Chalice's own `json_body` turns deep nesting into a 500: views use request_json()."""
    source = (ROOT / "app.py").read_text()
    assert "current_request.json_body" not in source, "use request_json() (chalicelib.validation.json_body)"


def test_the_edge_parser_refuses_what_json_and_pydantic_cannot_take() -> None:
    """The one place bodies are read: each kind of hostile body is a 400, none escapes."""
    from chalicelib.errors import BadRequestError

    refused = ["nested 3000 arrays", "nested 3000 objects", "invalid UTF-8", "huge integer", "truncated"]
    refused.append("trailing garbage")
    for label in refused:
        with pytest.raises(BadRequestError):
            validation.json_body(HOSTILE_BODIES[label])
    assert validation.json_body(b"") is None and validation.json_body(b" \n") is None
    assert validation.json_body(b'{"a": [1]}') == {"a": [1]}
    for data in (
        json.loads(HOSTILE_BODIES["nested 200 (under the recursion limit)"]),
        {"code": "a\u0000", "name": "x"},
        {"code": "x", "name": "\ud800"},
        {"items": [{"notes": ["\u0000"]}]},
    ):
        with pytest.raises(BadRequestError):
            validation.parse(validation.Registration, data)
    assert validation.parse(validation.Registration, {"code": "c", "name": "Ann 🍸"}).name == "Ann 🍸"
    # The deepest body a client sends today (a drink with its ingredients) is far inside the limit.
    depth_of_drink_create = 3
    assert depth_of_drink_create < validation.MAX_DEPTH


# ---------------------------------------------------------------- through the real local stack


def send_raw(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[
    int, dict[str, str], bytes
]:
    """One request as given (http.client adds only Host, Accept-Encoding and Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


GATEWAY_BODIES = [
    "empty",
    "nested 3000 arrays",
    "nested 3000 in a field",
    "huge integer",
    "NaN and Infinity",
    "invalid UTF-8",
    "array instead of object",
    "NUL escapes",
    "lone surrogates",
    "truncated",
]


@pytest.mark.e2e
def test_hostile_requests_through_the_local_gateway(pg_cluster: str, tmp_path: Path) -> None:
    from local.realtime_client import Api, admin_token
    from tests.test_local_stack import run_stack, stop

    name = f"da_fuzz_gw_{uuid.uuid4().hex[:8]}"
    url = ensure_database(pg_cluster, name)
    try:
        proc, port = run_stack(url, tmp_path / "stack.log")
        try:
            api = Api(f"http://127.0.0.1:{port}", admin_token(port))
            _, guest = api.register_guest("Fuzz")
            tokens = {"admin": api.admin, "guest": guest}
            rng = random.Random(SEED)
            problems: list[str] = []
            sent = 0

            def check(method: str, path: str, body: bytes, headers: dict[str, str], label: str) -> int:
                nonlocal sent
                sent += 1
                status, answer_headers, answer = send_raw(port, method, "/api" + path, body, headers)
                problem = contract_problem(status, answer_headers, answer)
                if problem:
                    problems.append(f"{method} {path[:80]} [{label}]: {problem}")
                return status

            for path, method in ROUTES:
                who = who_may_call(path, method)
                auth = {"Authorization": f"Bearer {tokens.get(who, api.admin)}"}
                as_json = {**auth, "Content-Type": "application/json"}
                for label in GATEWAY_BODIES if method in WRITES else GATEWAY_BODIES[:2]:
                    check(method, concrete(path), HOSTILE_BODIES[label], as_json, f"{who}, {label}")
                for body in random_bodies(rng, 2 if method in WRITES else 0):
                    check(method, concrete(path), body, as_json, f"{who}, random")
                check(method, concrete(path), b"{}", {**auth, "Content-Type": "text/plain"}, f"{who}, text/plain")
                admin = {"Authorization": f"Bearer {api.admin}"}
                for query in rng.sample(HOSTILE_QUERIES, 4):
                    check(method, f"{concrete(path)}?{query}", b"", admin, query[:30])
                if "{" in path:
                    for value in ("%00", "%ff", "not-a-uuid"):
                        check(method, concrete(path, value), b"", {"Authorization": f"Bearer {guest}"}, f"path {value}")

            # A bodiless cancel, as browsers send it: Chalice and API Gateway take it, so must the gateway.
            as_guest = {"Authorization": f"Bearer {guest}"}
            status = check("POST", f"/orders/{uuid.uuid4()}/cancel", b"", as_guest, "no body")
            assert status == 404, "the cancel of an unknown order reached the app (not a 415)"
            # HTTP-level refusals are in the contract's shape too.
            assert check("GET", "/drinks?q=" + "a" * 9000, b"", {}, "long URL") == 414
            assert check("GET", "/bar", b"", {"X-Big": "b" * 9000}, "long header") == 431
            assert check("POST", "/register", b"{" * (9 * 1024 * 1024), {"Content-Type": "application/json"},
                         "9 MB body") == 413
            assert not problems, f"{len(problems)} of {sent} requests broke the contract:\n" + "\n".join(problems[:40])
        finally:
            stop(proc)
    finally:
        drop_database(pg_cluster, name)
