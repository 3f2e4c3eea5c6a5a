"""Fixtures for guest tokens: Secrets Manager in the moto emulator (in-process), and
guests with valid access tokens. Import the fixtures into a test module to use them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws


@pytest.fixture()
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty emulated Secrets Manager; the app's cached key and client are reset
    before and after, so no test sees another test's key."""
    import boto3

    from chalicelib import aws, guest_tokens
    from chalicelib.config import settings

    # A developer's AWS_ENDPOINT_URL (the local stack's emulator) would bypass moto.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    guest_tokens.reset()
    aws.reset("secretsmanager")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=settings().region)
    guest_tokens.reset()
    aws.reset("secretsmanager")


@pytest.fixture()
def make_guest(secrets_manager: Any, admin_conn: Any) -> Any:
    """make_guest(name=...) -> (guest row, access token): a guest inserted directly."""
    from chalicelib import guest_tokens

    def make(name: str = "Test Guest", **claims: Any) -> tuple[dict[str, Any], str]:
        guest = admin_conn.execute(
            "INSERT INTO guests (id, name, code) VALUES (%s, %s, %s) RETURNING id, name, created_at",
            (uuid.uuid4(), name, "TEST"),
        ).fetchone()
        return guest, guest_tokens.issue_access_token(guest_tokens.signing_key(), guest, **claims)

    return make
