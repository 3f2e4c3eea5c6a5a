"""Token verification details: the JWKS cache, key rotation, bearer parsing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.auth import ADMIN, USER, Authenticator, AuthError, CognitoTokens, JwksCache, bearer_token
from tests.tokens import CLIENT_ID, UserPool, new_rsa_key


@pytest.fixture()
def pool() -> Iterator[UserPool]:
    pool = UserPool()
    yield pool
    pool.close()


def verifier(pool: UserPool, clock: Any = None, **kwargs: Any) -> CognitoTokens:
    jwks = JwksCache(pool.jwks_url, clock=clock, **kwargs) if clock else JwksCache(pool.jwks_url, **kwargs)
    return CognitoTokens(pool.issuer, CLIENT_ID, jwks)


def test_the_key_set_is_fetched_once_for_many_tokens(pool: UserPool) -> None:
    tokens = verifier(pool)
    for _ in range(20):
        assert tokens.verify(pool.admin_token()).role == ADMIN
    assert pool.jwks_requests == 1


def test_a_rotated_key_is_picked_up_by_one_refetch(pool: UserPool) -> None:
    now = [0.0]
    tokens = verifier(pool, clock=lambda: now[0])
    tokens.verify(pool.admin_token())
    pool.key, pool.kid = new_rsa_key(), uuid.uuid4().hex  # the pool rotates its signing key
    now[0] += 31  # past the refetch spacing
    principal = tokens.verify(pool.token(groups=["staff"]))
    assert principal.role == USER
    assert pool.jwks_requests == 2


def test_made_up_key_ids_cannot_flood_the_key_endpoint(pool: UserPool) -> None:
    now = [0.0]
    tokens = verifier(pool, clock=lambda: now[0])
    tokens.verify(pool.admin_token())
    for _ in range(25):
        with pytest.raises(AuthError):
            tokens.verify(pool.token(groups=["admin"], headers={"kid": uuid.uuid4().hex}))
    assert pool.jwks_requests == 1  # all within the spacing window: no refetch at all


def test_an_unreachable_key_endpoint_is_a_401_not_a_500() -> None:
    tokens = CognitoTokens("https://issuer.example", CLIENT_ID, JwksCache("http://127.0.0.1:9/jwks.json"))
    pool = UserPool()
    try:
        token = pool.token(groups=["admin"], iss="https://issuer.example")
        with pytest.raises(AuthError, match="signing keys unavailable"):
            tokens.verify(token)
    finally:
        pool.close()


def test_the_authenticator_dispatches_by_issuer(pool: UserPool) -> None:
    authenticator = Authenticator([verifier(pool)])
    assert authenticator.authenticate(f"Bearer {pool.admin_token()}").role == ADMIN
    with pytest.raises(AuthError, match="unknown issuer"):
        authenticator.authenticate(f"Bearer {pool.admin_token(iss='https://elsewhere.example')}")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "bearer"])
def test_malformed_authorization_headers(header: str | None) -> None:
    with pytest.raises(AuthError):
        bearer_token(header)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc.def.ghi") == "abc.def.ghi"
