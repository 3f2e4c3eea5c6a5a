"""Every admin route against the token matrix: only a valid admin token gets in."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any

import pytest

import app as app_module
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)
from tests.tokens import new_rsa_key

ADMIN_ROUTES = sorted(
    (path, method)
    for path, methods in app_module.app.routes.items()
    if path.startswith("/admin")
    for method in methods
)


def _concrete(path: str) -> str:
    """A path template with real-looking values for its parameters."""
    return re.sub(r"\{[^}]+\}", lambda m: "FRIDAY" if "code" in m.group(0) else str(uuid.uuid4()), path)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tokens(pool: Any) -> dict[str, tuple[str | None, int]]:
    """name -> (Authorization header value, expected status)."""
    now = int(time.time())
    claims = pool.claims(groups=["admin"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': pool.kid})}.{_b64(claims)}."
    # PyJWT refuses to HMAC-sign with a PEM public key (that refusal is the very
    # attack), so the token is built by hand as an attacker would.
    hs256 = _hs256_with_public_key(claims, pool)
    valid = pool.admin_token()
    header, payload, signature = valid.split(".")
    tampered_payload = _b64({**claims, "cognito:groups": ["admin"], "sub": str(uuid.uuid4())})
    return {
        "no header": (None, 401),
        "malformed header": ("Token abc", 401),
        "not a jwt": ("Bearer not-a-jwt", 401),
        "expired": (f"Bearer {pool.admin_token(exp=now - 3600, iat=now - 7200)}", 401),
        "other issuer": (f"Bearer {pool.admin_token(iss='https://cognito-idp.us-east-1.amazonaws.com/evil')}", 401),
        "other client": (f"Bearer {pool.admin_token(client_id='someone-else')}", 401),
        "id token": (f"Bearer {pool.admin_token(token_use='id')}", 401),
        "alg none": (f"Bearer {unsigned}", 401),
        "hs256 with public key": (f"Bearer {hs256}", 401),
        "tampered signature": (f"Bearer {header}.{payload}.{signature[:-4]}AAAA", 401),
        "tampered payload": (f"Bearer {header}.{tampered_payload}.{signature}", 401),
        "other key": (f"Bearer {pool.token(groups=['admin'], key=new_rsa_key())}", 401),
        "unknown kid": (f"Bearer {pool.token(groups=['admin'], headers={'kid': 'nope'})}", 401),
        "no admin group": (f"Bearer {pool.token(groups=['staff'])}", 403),
        "no groups": (f"Bearer {pool.token()}", 403),
    }


def _hs256_with_public_key(claims: dict[str, Any], pool: Any) -> str:
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': pool.kid})}.{_b64(claims)}"
    digest = hmac.new(pool.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def test_there_are_admin_routes() -> None:
    assert ("/admin/bar", "GET") in ADMIN_ROUTES


@pytest.mark.parametrize(("path", "method"), ADMIN_ROUTES)
def test_admin_route_refuses_bad_tokens(
    client: Any, user_pool: Any, make_guest: Any, path: str, method: str  # noqa: F811
) -> None:
    _, guest_token = make_guest()
    # A valid guest token is a valid token without the right: 403, never in.
    matrix = {**_tokens(user_pool), "guest token": (f"Bearer {guest_token}", 403)}
    for name, (header, expected) in matrix.items():
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Authorization"] = header
        response = client.http.request(method, _concrete(path), headers=headers, body=b"{}")
        assert response.status_code == expected, f"{name}: {response.status_code} {response.body[:200]!r}"


@pytest.mark.parametrize(("path", "method"), ADMIN_ROUTES)
def test_admin_route_lets_an_admin_through(client: Any, admin_headers: dict[str, str], path: str, method: str) -> None:
    response = client.http.request(
        method, _concrete(path), headers={**admin_headers, "Content-Type": "application/json"}, body=b"{}"
    )
    # Past the authorizer: the view answers (a 4xx about the body or the id is fine).
    assert response.status_code not in (401, 403), response.body[:300]
    assert response.status_code < 500, response.body[:300]
