"""Guest access tokens: JWTs the app signs itself (ES256, 4 hours).

* The signing key is an EC P-256 private key (PEM) kept in Secrets Manager (the local
  emulator when running locally). The first container that finds no secret creates
  one; a container that loses that race reads the winner's key. The key is cached
  for the life of the container, so Secrets Manager is asked once per cold start.
* `GuestTokens` is a token kind for `chalicelib.auth.Authenticator`: it takes tokens
  with its own issuer, accepts ES256 only, checks `iss`, `aud`, `exp`, `token_use`
  and the key id, and asks the database whether the guest still exists and is not
  revoked. That read costs one primary-key lookup per authorizer call, and API
  Gateway caches the authorizer's policy per token for 5 minutes, so it runs about
  once per guest per 5 minutes; in exchange a revoked guest (or a wiped local
  database) is locked out within minutes instead of when the token expires.
* Tokens and keys are never logged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import aws
from chalicelib.auth import GUEST, LEEWAY_S, AuthError, Principal, pyjwt, signed_header
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

ALGORITHM = "ES256"
AUDIENCE = "drink-assistant-api"
TOKEN_USE = "guest"
ACCESS_TOKEN_TTL_S = 4 * 3600


@dataclass(frozen=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey
    kid: str

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the guest signing key must be an EC P-256 private key")
        return cls(key, key_id(key.public_key()))


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """A stable id derived from the public key: a new key gets a new id, so tokens
    signed by a replaced key are refused by id before any signature check."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def new_private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def load_or_create_pem(client: Any, secret_id: str) -> str:
    """The PEM stored under `secret_id`, creating the secret if it does not exist."""
    try:
        return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
    except client.exceptions.ResourceNotFoundException:
        pass
    pem = new_private_key_pem()
    try:
        client.create_secret(
            Name=secret_id,
            SecretString=pem,
            Description="drink-assistant: EC P-256 key that signs guest access tokens",
        )
        log.info("created the guest token signing key", extra={"secret_id": secret_id})
        return pem
    except client.exceptions.ResourceExistsException:
        # Another container created it between our read and our create: use theirs.
        return str(client.get_secret_value(SecretId=secret_id)["SecretString"])


class KeyStore:
    """The signing key, fetched (or created) once and cached per container."""

    def __init__(self, secret_id: str, client_factory: Callable[[], Any]) -> None:
        self.secret_id = secret_id
        self._client_factory = client_factory
        self._key: SigningKey | None = None
        self._lock = threading.Lock()

    def key(self) -> SigningKey:
        with self._lock:
            if self._key is None:
                self._key = SigningKey.from_pem(load_or_create_pem(self._client_factory(), self.secret_id))
            return self._key


_store: KeyStore | None = None
_store_lock = threading.Lock()


def key_store() -> KeyStore:
    global _store
    with _store_lock:
        if _store is None:
            _store = KeyStore(settings().guest_key_secret_id, lambda: aws.client("secretsmanager"))
        return _store


def reset() -> None:
    """Forget the cached key (tests switch emulators and settings; `aws.reset()` forgets the client)."""
    global _store
    with _store_lock:
        _store = None


def signing_key() -> SigningKey:
    """The key, or a 503 when Secrets Manager cannot be reached.

    Views fetch it before writing anything, so an outage cannot use up an invite.
    """
    try:
        return key_store().key()
    except Exception as exc:  # boto3/botocore errors of every kind: the cause is logged
        log.warning("guest signing key unavailable", extra={"error": type(exc).__name__, "code": _error_code(exc)})
        raise ServiceUnavailableError("guest sign-in is unavailable, try again shortly") from None


def issue_access_token(key: SigningKey, guest: dict[str, Any], *, issuer: str | None = None,
                       now: float | None = None, ttl_s: int = ACCESS_TOKEN_TTL_S) -> str:
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": issuer or settings().guest_token_issuer,
        "aud": AUDIENCE,
        "sub": str(guest["id"]),
        "name": guest["name"],
        "token_use": TOKEN_USE,
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    return pyjwt().encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


def session(key: SigningKey, guest: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    """The answer to a registration or a refresh: a token pair and who it is for."""
    return {
        "access_token": issue_access_token(key, guest),
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL_S,
        "guest": public_guest(guest),
    }


def public_guest(guest: dict[str, Any]) -> dict[str, Any]:
    created = guest.get("created_at")
    return {
        "id": str(guest["id"]),
        "name": guest["name"],
        "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
    }


class GuestTokens:
    kind = "guest"

    def __init__(
        self,
        issuer: str,
        keys: Callable[[], SigningKey],
        is_active: Callable[[str], bool] | None = None,
    ) -> None:
        self.issuer = issuer
        self._keys = keys
        self._is_active = is_active

    def accepts(self, unverified_claims: dict[str, Any]) -> bool:
        return bool(self.issuer) and unverified_claims.get("iss") == self.issuer

    def verify(self, token: str) -> Principal:
        jwt = pyjwt()
        header = signed_header(token, ALGORITHM)
        key = self._keys()
        if header.get("kid") != key.kid:
            raise AuthError("unknown signing key")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        if claims["token_use"] != TOKEN_USE:
            raise AuthError("not a guest token")
        try:
            guest_id = str(uuid.UUID(str(claims["sub"])))
        except ValueError:
            raise AuthError("malformed subject") from None
        if self._is_active is not None and not self._is_active(guest_id):
            raise AuthError("guest unknown or revoked")
        return Principal(
            user_id=guest_id,
            username=str(claims.get("name") or ""),
            role=GUEST,
            token_kind=self.kind,
        )
