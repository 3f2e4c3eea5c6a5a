"""schemathesis against the in-process app, driven by docs/openapi.json.

For every operation of the document, schemathesis generates requests (valid ones, and a
few invalid ones), which go through chalice's test client (the real app, its authorizer,
a real PostgreSQL) with the API key and a token of the route's kind: a guest's on guest
routes, an admin's on /admin. Every answer must be no 5xx, have a documented status and
content type, and match the documented schema (bodies, and headers such as
Idempotent-Replayed). Bounded: a few examples per operation, no shrinking, stateless.

The run writes whatever it generates (drinks, sections, invites, the bar's settings), so
it gets a database of its own, migrated and seeded, dropped afterwards: no other test
sees what it made.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.pg import migrated_database
from tests.admin_menu_helpers import configure
from tools import openapi

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Examples per operation and mode: 48 operations x (6 valid + 2 invalid) requests stay
# well under a minute on two cores.
POSITIVE_EXAMPLES = 6
NEGATIVE_EXAMPLES = 2
KNOWN_ID_EXAMPLES = 4  # with ids that exist (a drink, a section, an invite, ...)
GUEST_PREFIXES = ("/me", "/orders", "/recommendations", "/bartender")

# What each operation answered, for a look by hand (`-s`: printed at the end of the module).
STATUSES: dict[str, list[int]] = {}

SCHEMA = schemathesis.openapi.from_dict(openapi.document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module")
def fuzz_database(pg_cluster: str, user_pool: Any) -> Iterator[str]:
    """A database of the run's own (the session's stays as the other tests left it)."""
    with migrated_database(pg_cluster, "da_fuzz") as url:
        yield url


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database: str, user_pool: Any) -> Iterator[tuple[Any, dict[str, dict[str, str]], dict[str, str]]]:
    """The app in-process on the run's database, emulated AWS (moto: events, Secrets
    Manager for the guest key; the bus does not exist, so publishes are logged failures
    as in tests/test_admin_menu.py), the tokens, and real ids for the path parameters."""
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from chalicelib import aws, guest_tokens

    def reset() -> None:
        aws.reset()  # every cached boto3 client: the next ones are made inside moto
        guest_tokens.reset()

    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # a developer's emulator would bypass moto
        configure(
            monkeypatch,
            DATABASE_URL=fuzz_database,
            EVENT_BUS_NAME="drink-assistant-events-fuzz",
            API_ID="",
            MEDIA_BUCKET="drink-assistant-fuzz-media",  # upload-url presigns locally
        )
        reset()
        try:
            with psycopg.connect(fuzz_database, autocommit=True) as conn:
                conn.execute("UPDATE bartender_settings SET enabled = TRUE")
                guests = [
                    conn.execute(
                        "INSERT INTO guests (id, name, code) VALUES (%s, %s, 'FUZZ') RETURNING id, name, created_at",
                        (uuid.uuid4(), name),
                    ).fetchone()
                    for name in ("Fuzz Guest", "Fuzz Victim")
                ]
                ids = _known_ids(conn)
            guest, victim = ({"id": g[0], "name": g[1], "created_at": g[2]} for g in guests if g is not None)
            ids["guest_id"] = str(victim["id"])  # DELETE /admin/guests ends the victim, never the caller
            key = guest_tokens.signing_key()
            api_key = {"x-api-key": "local-api-key"}  # API Gateway's check; the app never reads it
            tokens = {
                "guest": {**api_key, "Authorization": f"Bearer {guest_tokens.issue_access_token(key, guest)}"},
                "admin": {**api_key, "Authorization": f"Bearer {user_pool.admin_token()}"},
                "anyone": api_key,
            }
            with Client(app_module.app, stage_name="local", project_dir=str(openapi.ROOT)) as client:
                yield client, tokens, ids
        finally:
            reset()


def _known_ids(conn: Any) -> dict[str, str]:
    """Ids that exist, so generated requests reach past the 404 (the other half of the
    examples keeps generated ids)."""

    def first(sql: str) -> str:
        row = conn.execute(sql).fetchone()
        assert row is not None, sql
        return str(row[0])

    return {
        "drink_id": first("SELECT id FROM drinks WHERE archived_at IS NULL ORDER BY name LIMIT 1"),
        "section_id": first("SELECT id FROM sections WHERE archived_at IS NULL ORDER BY position DESC LIMIT 1"),
        "ingredient_id": first("SELECT id FROM ingredients ORDER BY name LIMIT 1"),
        "code": first(
            "INSERT INTO registration_codes (code, max_uses, expires_at, created_by) "
            "VALUES ('FUZZCODE', 5, now() + interval '1 hour', 'fuzz') RETURNING code"
        ),
    }


@pytest.fixture(scope="module", autouse=True)
def _print_statuses() -> Iterator[None]:
    yield
    if os.environ.get("SCHEMATHESIS_STATUSES"):
        for label, statuses in sorted(STATUSES.items()):
            print(f"{label}: {sorted(statuses)}")  # noqa: T201


def _headers_for(operation: Any, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    path = operation.path
    if path.startswith("/admin"):
        return tokens["admin"]
    if path.startswith(GUEST_PREFIXES):
        return tokens["guest"]
    return tokens["anyone"]


def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    """A generated case through chalice's test client, answered as a schemathesis Response."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    wanted = {k: kwargs[k] for k in ("method", "url", "headers", "params", "data", "json", "cookies") if k in kwargs}
    prepared = requests.Request(**wanted).prepare()
    url = urlsplit(prepared.url or "")
    target = url.path + (f"?{url.query}" if url.query else "")
    body = prepared.body or b""
    answer = client.http.request(
        prepared.method or "GET",
        target,
        headers=dict(prepared.headers),
        body=body.encode() if isinstance(body, str) else body,
    )
    # API Gateway's own refusals (no token: 401 {"message": ...}) reshaped to {"Code","Message"}
    # as infra/api-merge.json does in AWS and the local gateway does on `make local`.
    from local.gateway import gateway_response_body

    headers_out = dict(answer.headers)
    content = gateway_response_body(answer.status_code, headers_out, answer.body or b"")
    returned = {key.lower(): [value] for key, value in headers_out.items()}
    # A view's dict goes out with no Content-Type; API Gateway's proxy integration and
    # chalice local (its request handler) both send application/json then, the test client does not.
    returned.setdefault("content-type", ["application/json"])
    return schemathesis.Response(
        status_code=answer.status_code,
        headers=returned,
        content=content,
        request=prepared,
        elapsed=0.0,
        verify=True,
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    operation: Any, fuzz_app: tuple[Any, dict[str, dict[str, str]], dict[str, str]]
) -> None:
    client, tokens, ids = fuzz_app
    headers = _headers_for(operation, tokens)
    names = [p.name for p in operation.path_parameters]
    known = {name: ids[name] for name in names if name in ids}
    runs: list[tuple[Any, int, dict[str, str] | None]] = [
        (schemathesis.GenerationMode.POSITIVE, POSITIVE_EXAMPLES, None),
        (schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, None),
    ]
    if known and len(known) == len(names):
        runs.append((schemathesis.GenerationMode.POSITIVE, KNOWN_ID_EXAMPLES, known))

    for mode, examples, path_parameters in runs:

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests every run: a failure reproduces
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = _send(client, case, headers)
            STATUSES.setdefault(operation.label, []).append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        run()


def test_an_abv_the_column_would_round_to_zero_is_a_400(
    fuzz_app: tuple[Any, dict[str, dict[str, str]], dict[str, str]], fuzz_database: str
) -> None:
    """Found by the run above: {"abv": 5e-324} passed `gt=0`, NUMERIC(4, 1) stored 0.0 and
    the CHECK (abv > 0) made it a 500. The smallest abv kept is 0.05 (stored as 0.1)."""
    import json

    client, tokens, _ = fuzz_app
    with psycopg.connect(fuzz_database, autocommit=True) as conn:
        row = conn.execute(
            "SELECT ingredient_id FROM ingredient_traits WHERE contains_alcohol ORDER BY ingredient_id LIMIT 1"
        ).fetchone()
    assert row is not None
    path = f"/admin/ingredients/{row[0]}"
    headers = {**tokens["admin"], "Content-Type": "application/json"}
    for abv in (5e-324, 0.04):
        answer = client.http.request("PUT", path, headers=headers, body=json.dumps({"abv": abv}).encode())
        assert answer.status_code == 400, (abv, answer.body)
    answer = client.http.request("PUT", path, headers=headers, body=b'{"abv": 0.05}')
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["abv"] == 0.1
