"""Who is calling: bearer tokens in, a Principal (or an AuthError) out.

Token kinds are tried by issuer, so a second kind (guest tokens signed by the app)
slots in beside Cognito access tokens without touching the authorizer:

* `CognitoTokens`: Cognito user-pool access tokens (and the local gateway's
  Cognito-compatible ones): RS256 only, signature against the pool's JWKS (fetched
  once per container, refetched on an unknown `kid`), `iss`, `exp`, `token_use`
  and `client_id` checked; `admin` in `cognito:groups` makes an admin.

The authorizer in app.py turns a Principal into an API Gateway policy that lists
every route the token may use (API Gateway caches that policy per token).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

ADMIN = "admin"
GUEST = "guest"
USER = "user"  # signed in, but without a role this API knows
ADMIN_GROUP = "admin"
LEEWAY_S = 30


def pyjwt() -> Any:
    """PyJWT, imported on first use: with cryptography's x509 it costs ~60 ms of a cold
    start, and most API requests (the public menu) never touch a token."""
    import jwt

    return jwt


class AuthError(Exception):
    """The token is missing, malformed, expired or forged (HTTP 401)."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: str
    token_kind: str

    def context(self) -> dict[str, str]:
        """What the views receive (API Gateway context values are strings)."""
        return {"userId": self.user_id, "username": self.username, "role": self.role, "tokenKind": self.token_kind}


class TokenKind(Protocol):
    kind: str

    def accepts(self, unverified_claims: dict[str, Any]) -> bool: ...

    def verify(self, token: str) -> Principal: ...


def fetch_json(url: str) -> dict[str, Any]:
    import requests  # deferred: only a cold JWKS cache pays for it

    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.json()


class JwksCache:
    """A JSON Web Key Set, fetched once and refetched when an unknown `kid` shows up.

    Refetches are spaced by `min_refetch_s` so a flood of tokens with made-up key
    ids cannot turn into a flood of requests to the key endpoint.
    """

    def __init__(
        self,
        url: str,
        fetch: Callable[[str], dict[str, Any]] = fetch_json,
        clock: Callable[[], float] = time.monotonic,
        min_refetch_s: float = 30.0,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._min_refetch_s = min_refetch_s
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> Any:
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            recently = self._fetched_at is not None and self._clock() - self._fetched_at < self._min_refetch_s
            if not recently:
                self._load()
            if kid not in self._keys:
                raise AuthError("unknown signing key")
            return self._keys[kid]

    def _load(self) -> None:
        jwt = pyjwt()
        try:
            document = self._fetch(self.url)
        except Exception as exc:  # network, HTTP or JSON: the key stays unknown
            log.warning("jwks fetch failed", extra={"jwks_url": self.url, "error": str(exc)})
            raise AuthError("signing keys unavailable") from None
        self.fetches += 1
        self._fetched_at = self._clock()
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("kid"):
                keys[jwk["kid"]] = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys


class CognitoTokens:
    kind = "cognito"

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks

    def accepts(self, unverified_claims: dict[str, Any]) -> bool:
        return bool(self.issuer) and unverified_claims.get("iss") == self.issuer

    def verify(self, token: str) -> Principal:
        jwt = pyjwt()
        kid = signed_header(token, "RS256").get("kid")
        if not isinstance(kid, str):
            raise AuthError("token without key id")
        key = self.jwks.key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "sub", "token_use", "client_id"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        if claims["token_use"] != "access":
            raise AuthError("not an access token")
        if claims["client_id"] != self.client_id:
            raise AuthError("token for another client")
        groups = claims.get("cognito:groups") or []
        role = ADMIN if ADMIN_GROUP in groups else USER
        return Principal(
            user_id=str(claims["sub"]),
            username=str(claims.get("username") or claims["sub"]),
            role=role,
            token_kind=self.kind,
        )


class Authenticator:
    def __init__(self, kinds: list[TokenKind]) -> None:
        self.kinds = kinds

    def authenticate(self, authorization: str | None) -> Principal:
        jwt = pyjwt()
        token = bearer_token(authorization)
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        for kind in self.kinds:
            if kind.accepts(unverified):
                return kind.verify(token)
        raise AuthError("token from an unknown issuer")


def signed_header(token: str, algorithm: str) -> dict[str, Any]:
    """The token's header, refused unless it names the one algorithm its kind uses
    (never `none`, never HMAC with a public key)."""
    jwt = pyjwt()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthError("malformed token") from None
    if header.get("alg") != algorithm:
        raise AuthError("unexpected signing algorithm")
    return header


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthError("expected 'Bearer <token>'")
    return token
