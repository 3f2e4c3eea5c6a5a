"""Test tokens: a stand-in Cognito user pool with its own RSA key and a real JWKS
endpoint over HTTP, so the authorizer is exercised exactly as in AWS."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "test-admin-client"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


class UserPool:
    """Issues Cognito-shaped access tokens and serves their JWKS on loopback."""

    def __init__(self) -> None:
        self.key = new_rsa_key()
        self.kid = uuid.uuid4().hex
        self.jwks_requests = 0
        pool = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                pool.jwks_requests += 1
                body = json.dumps({"keys": [public_jwk(pool.key, pool.kid)]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/test-pool"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()

    def claims(self, *, groups: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid4()),
            "iss": self.issuer,
            "client_id": CLIENT_ID,
            "token_use": "access",
            "scope": "openid profile",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
            "username": "host",
        }
        if groups is not None:
            claims["cognito:groups"] = groups
        claims.update(overrides)
        return claims

    def token(self, *, groups: list[str] | None = None, key: Any = None, headers: dict[str, Any] | None = None,
              algorithm: str = "RS256", **overrides: Any) -> str:
        return jwt.encode(
            self.claims(groups=groups, **overrides),
            key if key is not None else self.key,
            algorithm=algorithm,
            headers={"kid": self.kid, **(headers or {})},
        )

    def admin_token(self, **overrides: Any) -> str:
        return self.token(groups=["admin"], **overrides)

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
