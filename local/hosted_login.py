"""Local hosted login: the slice of a Cognito user pool domain the web app uses.

The web app signs admins in with one OAuth2 code path (authorization code + PKCE)
whether the other end is a real Cognito hosted UI or this module in the local
gateway. The endpoints, parameters, error bodies and token claims follow Cognito:

* `GET  /oauth2/authorize`       the sign-in form (response_type=code, S256 PKCE required)
* `POST /oauth2/authorize`       the form's submit: a one-time code, then a redirect
* `POST /oauth2/token`           grant_type=authorization_code | refresh_token
* `POST /oauth2/revoke`          revoke a refresh token
* `GET  /.well-known/jwks.json`  the public signing key (what the API's authorizer reads)
* `GET  /.well-known/openid-configuration`
* `GET  /logout`                 client_id + logout_uri -> redirect (no session to end here)

Redirect URIs play the part of Cognito's registered callback URLs: the path must be
`REDIRECT_PATH` (`/auth/callback`; `LOGOUT_PATH` for logout) on an http(s) origin that
is loopback or the host the request came in on (a phone reaches the gateway by the
laptop's LAN address, so the same page works from both).

State lives under `.local/auth/` (0700, files 0600): the RSA signing key (`kid` is its
RFC 7638 thumbprint), `users.json` (scrypt hashes) and the refresh tokens (SHA-256
hashes only). The admin account is made at first run with a random password printed
once; `python -m local.hosted_login reset-password` (`make reset-admin-password`)
prints a new one and ends the sessions made with the old one.

Local-only: this never ships in the Lambda package.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import html
import ipaddress
import json
import os
import re
import secrets
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = ROOT / ".local" / "auth"
DEFAULT_CLIENT_ID = "drink-assistant-local"

ADMIN_USERNAME = "admin"
ADMIN_GROUP = "admin"
REDIRECT_PATH = "/auth/callback"
LOGOUT_PATH = "/"
SCOPES = ("openid", "email", "profile")

CODE_TTL_S = 5 * 60
TOKEN_TTL_S = 60 * 60
REFRESH_TTL_S = 30 * 24 * 60 * 60  # Cognito's default refresh token validity
MAX_FAILURES = 5  # per username, within FAILURE_WINDOW_S
FAILURE_WINDOW_S = 5 * 60

KEY_FILE = "signing-key.pem"
USERS_FILE = "users.json"
REFRESH_FILE = "refresh-tokens.json"
CSRF_COOKIE = "da_login_csrf"

# scrypt at n=2**14, r=8, p=1: 16 MiB and ~50 ms per guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: typed on phones
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url(SHA-256), unpadded

# ---------------------------------------------------------------- files (0700 dir, 0600 files)


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _write_private(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write atomically with mode 0600; with `exclusive`, only if `path` does not exist yet
    (returns False then), so two processes starting at once cannot make two keys."""
    _private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)


def _read_json(path: Path, default: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default


def _write_json(path: Path, document: dict[str, Any], *, exclusive: bool = False) -> bool:
    return _write_private(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode(), exclusive=exclusive)


# ---------------------------------------------------------------- signing key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": _int_b64(numbers.n),
                "e": _int_b64(numbers.e)}

    def sign(self, claims: dict[str, Any]) -> str:
        # Cognito's header is {kid, alg} only: typ=None drops PyJWT's default "JWT".
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, "typ": None})


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: stable across restarts, changes only with the key."""
    numbers = public.public_numbers()
    canonical = json.dumps({"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)},
                           separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def load_or_create_key(state_dir: Path) -> SigningKey:
    path = state_dir / KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        _write_private(path, pem, exclusive=True)  # if another process won, load its key
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise SystemExit(f"{path} is not an RSA private key")
    return SigningKey(private, thumbprint(private.public_key()))


# ---------------------------------------------------------------- accounts


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64url(salt)}${_b64url(digest)}"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        actual = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=64 * 1024 * 1024)
    except ValueError:
        return False
    return scheme == "scrypt" and secrets.compare_digest(actual, expected)


# Checked when the username is unknown, so both answers take the same time.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_password() -> str:
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)  # ~78 bits


def _normalize(username: str) -> str:
    # Cognito user pools match usernames case-insensitively.
    return username.strip().lower()


def load_users(state_dir: Path) -> dict[str, dict[str, Any]]:
    return _read_json(state_dir / USERS_FILE, {"users": {}})["users"]


def _user_record(username: str, password: str) -> dict[str, Any]:
    return {
        "sub": str(uuid.uuid4()),
        "email": f"{username}@localhost",
        "email_verified": True,
        "groups": [ADMIN_GROUP] if username == ADMIN_USERNAME else [],
        "password_hash": hash_password(password),
        "password_changed_at": time.time(),
    }


def ensure_state(state_dir: Path) -> str | None:
    """First run: make the signing key and the admin account. Returns the admin's new
    password when this call created the account (the caller prints it once), else None."""
    _private_dir(state_dir)
    load_or_create_key(state_dir)
    if (state_dir / USERS_FILE).exists():
        return None
    password = new_password()
    created = _write_json(state_dir / USERS_FILE, {"users": {ADMIN_USERNAME: _user_record(ADMIN_USERNAME, password)}},
                          exclusive=True)
    return password if created else None


def reset_password(state_dir: Path, username: str = ADMIN_USERNAME) -> str:
    """A new random password. Refresh tokens issued before now stop working (a reset
    means the old password may be known to someone else)."""
    username = _normalize(username)
    _private_dir(state_dir)
    document = _read_json(state_dir / USERS_FILE, {"users": {}})
    users = document["users"]
    if username not in users and username != ADMIN_USERNAME:
        raise SystemExit(f"no such user: {username}")
    password = new_password()
    if username in users:
        users[username].update(password_hash=hash_password(password), password_changed_at=time.time())
    else:
        users[username] = _user_record(username, password)
    _write_json(state_dir / USERS_FILE, document)
    return password


def password_box(username: str, password: str, *, headline: str) -> str:
    lines = [headline, "", f"  username  {username}", f"  password  {password}", "",
             "Shown once, never logged. Forgot it? make reset-admin-password"]
    width = max(len(line) for line in lines) + 2
    border = "+" + "-" * (width + 2) + "+"
    return "\n".join([border, *(f"|  {line.ljust(width)}|" for line in lines), border])


# ---------------------------------------------------------------- the endpoints


class OAuthError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    nonce: str


@dataclass(frozen=True)
class PendingCode:
    request: AuthorizeRequest
    username: str
    auth_time: int
    expires_at: float


def _host_name(netloc_host: str) -> str:
    return (urlsplit(f"//{netloc_host}").hostname or "").lower()


def _allowed_origin(uri: str, path: str, request_host: str) -> bool:
    """An http(s) URI whose path is `path`, on a loopback host or on the host this
    request came in on; no user info and no fragment (RFC 6749 3.1.2)."""
    try:
        parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    if parts.fragment or "#" in uri or parts.path != path:
        return False
    if host == "localhost" or host == _host_name(request_host):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


def s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class FailedAttempts:
    """Per-username failure counts (known and unknown names alike, so the limit tells
    nothing about which accounts exist); bounded so it cannot eat the gateway's memory."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.failures: dict[str, deque[float]] = {}

    def _recent(self, username: str) -> deque[float]:
        window = self.failures.get(username, deque())
        while window and self.clock() - window[0] > FAILURE_WINDOW_S:
            window.popleft()
        return window

    def locked(self, username: str) -> bool:
        return len(self._recent(username)) >= MAX_FAILURES

    def record(self, username: str) -> None:
        if len(self.failures) > 10_000:
            self.failures = {k: v for k, v in self.failures.items() if self._recent(k)}
        window = self._recent(username)
        window.append(self.clock())
        self.failures[username] = window

    def clear(self, username: str) -> None:
        self.failures.pop(username, None)


class HostedLogin:
    def __init__(self, *, issuer: str, client_id: str, state_dir: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.state_dir = Path(state_dir)
        self.clock = clock
        created = ensure_state(self.state_dir)
        if created:
            print(password_box(ADMIN_USERNAME, created, headline="drink-assistant admin sign-in (first run)"),
                  flush=True)
        self.key = load_or_create_key(self.state_dir)
        self.codes: dict[str, PendingCode] = {}
        self.attempts = FailedAttempts(lambda: self.clock())

    # -- the authorize request (query string or the form's hidden fields)

    def parse_authorize(self, params: Any, request_host: str) -> AuthorizeRequest:
        """Raises HTTPBadRequest when the client or redirect URI is wrong (never
        redirect to an unchecked URI); other errors go back to the client as
        `?error=` on its redirect URI (RFC 6749 4.1.2.1)."""
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not secrets.compare_digest(client_id.encode(), self.client_id.encode()):
            raise web.HTTPBadRequest(**self._page("Unknown client", "This sign-in link is not for this app."))
        if not _allowed_origin(redirect_uri, REDIRECT_PATH, request_host):
            raise web.HTTPBadRequest(**self._page("Redirect not allowed", "This sign-in link returns to an "
                                                  "address that is not registered."))
        state = params.get("state", "")
        if params.get("response_type") != "code":
            raise self._redirect_error(redirect_uri, "unsupported_response_type", state)
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not PKCE_CHALLENGE.match(challenge):
            raise self._redirect_error(redirect_uri, "invalid_request", state)
        requested = params.get("scope", "").split() or list(SCOPES)
        if any(scope not in SCOPES for scope in requested):
            raise self._redirect_error(redirect_uri, "invalid_scope", state)
        scope = " ".join(s for s in SCOPES if s in requested)
        return AuthorizeRequest(client_id, redirect_uri, state, scope, challenge, params.get("nonce", ""))

    @staticmethod
    def _redirect_error(redirect_uri: str, error: str, state: str) -> web.HTTPFound:
        return web.HTTPFound(_with_query(redirect_uri, {"error": error, "state": state}))

    # -- pages

    def _page(self, title: str, message: str) -> dict[str, Any]:
        body = f'<h1 id="title">{html.escape(title)}</h1><p>{html.escape(message)}</p>'
        return self._html(title, body, "", nonce=secrets.token_urlsafe(12))

    def _html(self, title: str, body: str, form_origin: str, *, nonce: str) -> dict[str, Any]:
        document = PAGE.format(title=html.escape(title), nonce=nonce, body=body)
        csp = (f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self' {form_origin}".rstrip()
               + "; frame-ancestors 'none'; base-uri 'none'")
        return {
            "text": document,
            "content_type": "text/html",
            "headers": {"Content-Security-Policy": csp, "X-Frame-Options": "DENY", "Cache-Control": "no-store",
                        "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"},
        }

    def login_form(self, request: web.Request, auth: AuthorizeRequest, *, status: int = 200, error: str = "",
                   username: str = "") -> web.Response:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{32,64}", csrf):
            csrf = secrets.token_urlsafe(32)
        hidden = {
            "csrf": csrf, "client_id": auth.client_id, "redirect_uri": auth.redirect_uri, "state": auth.state,
            "scope": auth.scope, "response_type": "code", "code_challenge": auth.code_challenge,
            "code_challenge_method": "S256", "nonce": auth.nonce,
        }
        fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in hidden.items())
        alert = (f'<p class="error" id="error" role="alert">{html.escape(error)}</p>' if error else "")
        described = ' aria-describedby="error" aria-invalid="true"' if error else ""
        body = FORM.format(fields=fields, alert=alert, described=described, username=html.escape(username),
                           focus_user="" if username else " autofocus", focus_pass=" autofocus" if username else "")
        origin = urlunsplit(urlsplit(auth.redirect_uri)._replace(path="", query="", fragment=""))
        response = web.Response(status=status, **self._html("Sign in", body, origin, nonce=secrets.token_urlsafe(12)))
        response.set_cookie(CSRF_COOKIE, csrf, path="/oauth2", httponly=True, samesite="Strict", max_age=3600)
        return response

    # -- handlers

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        return self.login_form(request, self.parse_authorize(request.query, request.host))

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        auth = self.parse_authorize(params, request.host)
        username = params.get("username", "")[:128]
        password = params.get("password", "")[:1024]
        key = _normalize(username)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie.encode(), params.get("csrf", "").encode()):
            return self.login_form(request, auth, status=403, username=username,
                                   error="This sign-in page expired. Please sign in again.")
        if self.attempts.locked(key):
            return self.login_form(request, auth, status=429, username=username,
                                   error="Too many attempts. Wait a few minutes, then try again.")
        user = load_users(self.state_dir).get(key)
        stored = user["password_hash"] if user else _DUMMY_HASH
        ok = await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
        if not (ok and user):
            self.attempts.record(key)
            return self.login_form(request, auth, status=401, username=username,
                                   error="Incorrect username or password.")
        self.attempts.clear(key)
        now = self.clock()
        self.codes = {c: p for c, p in self.codes.items() if p.expires_at > now}
        code = secrets.token_urlsafe(32)
        self.codes[code] = PendingCode(auth, key, int(now), now + CODE_TTL_S)
        raise web.HTTPFound(_with_query(auth.redirect_uri, {"code": code, "state": auth.state}),
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            client_id = params.get("client_id") or _basic_client_id(request.headers.get("Authorization", ""))
            if not secrets.compare_digest(client_id.encode(), self.client_id.encode()):
                raise OAuthError("invalid_client")
            grant = params.get("grant_type", "")
            if grant == "authorization_code":
                tokens = self._exchange_code(params)
            elif grant == "refresh_token":
                tokens = self._refresh(params)
            elif not grant:
                raise OAuthError("invalid_request")
            else:
                raise OAuthError("unsupported_grant_type")
        except OAuthError as exc:
            return _json({"error": exc.error}, status=400)
        return _json({**tokens, "token_type": "Bearer", "expires_in": TOKEN_TTL_S})

    async def revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = form.get("token")
        if form.get("client_id") != self.client_id:
            return _json({"error": "invalid_client"}, status=400)
        if isinstance(token, str) and token:
            document = _read_json(self.state_dir / REFRESH_FILE, {"tokens": {}})
            if document["tokens"].pop(_token_hash(token), None) is not None:
                _write_json(self.state_dir / REFRESH_FILE, document)
        return web.Response(status=200, headers=CORS)

    async def jwks(self, request: web.Request) -> web.Response:
        return _json({"keys": [self.key.jwk()]}, cache="public, max-age=300")

    async def openid_configuration(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return _json({
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/token",
            "revocation_endpoint": f"{base}/oauth2/revoke",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
        }, cache="public, max-age=300")

    async def logout(self, request: web.Request) -> web.StreamResponse:
        # No sign-in session is kept here (every authorize shows the form), so there is
        # nothing to end; check the parameters as Cognito does and send the user back.
        logout_uri = request.query.get("logout_uri", "")
        if request.query.get("client_id") != self.client_id or not _allowed_origin(
            logout_uri, LOGOUT_PATH, request.host
        ):
            raise web.HTTPBadRequest(**self._page("Sign-out link not allowed",
                                                  "This sign-out link is not for this app."))
        response = web.HTTPFound(logout_uri)
        response.del_cookie(CSRF_COOKIE, path="/oauth2")
        raise response

    async def preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers={**CORS, "Access-Control-Allow-Methods": "POST, OPTIONS",
                                                 "Access-Control-Allow-Headers": "Content-Type, Authorization",
                                                 "Access-Control-Max-Age": "600"})

    # -- grants

    def _exchange_code(self, params: dict[str, str]) -> dict[str, str]:
        # Popped before any check: a code is good for one attempt, right or wrong.
        pending = self.codes.pop(params.get("code", ""), None)
        if pending is None or pending.expires_at <= self.clock():
            raise OAuthError("invalid_grant")
        if pending.request.redirect_uri != params.get("redirect_uri", ""):
            raise OAuthError("invalid_grant")
        verifier = params.get("code_verifier", "")
        if not PKCE_VERIFIER.match(verifier) or not secrets.compare_digest(s256(verifier),
                                                                           pending.request.code_challenge):
            raise OAuthError("invalid_grant")
        user = load_users(self.state_dir).get(pending.username)
        if user is None:
            raise OAuthError("invalid_grant")
        tokens = self._issue(pending.username, user, pending.request.scope, pending.auth_time, pending.request.nonce)
        refresh = secrets.token_urlsafe(48)
        now = self.clock()
        document = _read_json(self.state_dir / REFRESH_FILE, {"tokens": {}})
        document["tokens"] = {h: t for h, t in document["tokens"].items() if t["expires_at"] > now}
        document["tokens"][_token_hash(refresh)] = {
            "username": pending.username, "client_id": self.client_id, "scope": pending.request.scope,
            "auth_time": pending.auth_time, "issued_at": now, "expires_at": now + REFRESH_TTL_S,
        }
        _write_json(self.state_dir / REFRESH_FILE, document)
        return {**tokens, "refresh_token": refresh}

    def _refresh(self, params: dict[str, str]) -> dict[str, str]:
        stored = _read_json(self.state_dir / REFRESH_FILE, {"tokens": {}})["tokens"].get(
            _token_hash(params.get("refresh_token", "")))
        if stored is None or stored["client_id"] != self.client_id or stored["expires_at"] <= self.clock():
            raise OAuthError("invalid_grant")
        user = load_users(self.state_dir).get(stored["username"])
        if user is None or stored["issued_at"] < user.get("password_changed_at", 0):
            raise OAuthError("invalid_grant")
        # Like Cognito: new access and id tokens, the refresh token stays as it is.
        return self._issue(stored["username"], user, stored["scope"], stored["auth_time"], "")

    def _issue(self, username: str, user: dict[str, Any], scope: str, auth_time: int, nonce: str) -> dict[str, str]:
        now = int(self.clock())
        groups = list(user.get("groups", []))
        access: dict[str, Any] = {
            "sub": user["sub"], "iss": self.issuer, "client_id": self.client_id, "token_use": "access",
            "scope": scope, "auth_time": auth_time, "iat": now, "exp": now + TOKEN_TTL_S,
            "jti": str(uuid.uuid4()), "username": username,
        }
        identity: dict[str, Any] = {
            "sub": user["sub"], "aud": self.client_id, "iss": self.issuer, "token_use": "id",
            "cognito:username": username, "email": user.get("email", ""),
            "email_verified": bool(user.get("email_verified")), "auth_time": auth_time, "iat": now,
            "exp": now + TOKEN_TTL_S, "jti": str(uuid.uuid4()),
        }
        if groups:  # Cognito leaves the claim out for a user in no group
            access["cognito:groups"] = groups
            identity["cognito:groups"] = groups
        if nonce:
            identity["nonce"] = nonce
        access_token = self.key.sign(access)
        identity["at_hash"] = _b64url(hashlib.sha256(access_token.encode()).digest()[:16])
        return {"access_token": access_token, "id_token": self.key.sign(identity)}

    def public_config(self) -> dict[str, Any]:
        """What the web app needs (the runtime config's `auth`); in AWS `domain` is the
        Cognito hosted UI domain, here '' (relative: phones use the LAN address)."""
        return {"domain": "", "clientId": self.client_id, "scopes": list(SCOPES), "redirectPath": REDIRECT_PATH,
                "logoutPath": LOGOUT_PATH}


CORS = {"Access-Control-Allow-Origin": "*"}


def _json(document: dict[str, Any], *, status: int = 200, cache: str = "no-store") -> web.Response:
    headers = {**CORS, "Cache-Control": cache}
    if cache == "no-store":
        headers["Pragma"] = "no-cache"
    return web.json_response(document, status=status, headers=headers)


def _token_hash(token: str) -> str:
    # The token is 384 random bits: a plain hash is enough, no salt or stretching.
    return hashlib.sha256(token.encode()).hexdigest()


def _basic_client_id(header: str) -> str:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(value.strip()).decode().partition(":")[0]
    except ValueError:
        return ""


HOSTED_LOGIN: web.AppKey[HostedLogin] = web.AppKey("hosted_login", HostedLogin)


def register(app: web.Application, *, issuer: str, client_id: str, state_dir: Path,
             clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Add the hosted-login routes to the gateway; returns the runtime config's `auth`."""
    login = HostedLogin(issuer=issuer, client_id=client_id, state_dir=state_dir, clock=clock)
    app[HOSTED_LOGIN] = login
    app.router.add_get("/oauth2/authorize", login.authorize)
    app.router.add_post("/oauth2/authorize", login.sign_in)
    app.router.add_post("/oauth2/token", login.token)
    app.router.add_post("/oauth2/revoke", login.revoke)
    app.router.add_route("OPTIONS", "/oauth2/token", login.preflight)
    app.router.add_route("OPTIONS", "/oauth2/revoke", login.preflight)
    app.router.add_get("/.well-known/jwks.json", login.jwks)
    app.router.add_get("/.well-known/openid-configuration", login.openid_configuration)
    app.router.add_get("/logout", login.logout)
    return login.public_config()


# ---------------------------------------------------------------- page templates

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>{title} · drink-assistant</title>
<style nonce="{nonce}">
  /* The web app's palette (frontend/src/styles.css): the bar at night by default, its
     daylight values when the system asks for light, as the app itself does. */
  :root {{ color-scheme:dark; --bg:#15100c; --card:#241b15; --ink:#f3ead9; --muted:#b9a893; --line:#3d2f24;
          --accent:#e8a34a; --accent-ink:#1b120a; --error:#ffb4ab; --error-bg:#3b1412; }}
  @media (prefers-color-scheme: light) {{
    :root {{ color-scheme:light; --bg:#f8f3ea; --card:#fffdf9; --ink:#22180f; --muted:#5b4b3a; --line:#cdbba3;
            --accent:#b5671a; --accent-ink:#1b120a; --error:#a4161a; --error-bg:#fdecea; }} }}
  * {{ box-sizing:border-box; }}
  body {{ margin:0; min-height:100vh; display:grid; place-items:center; padding:1.5rem; background:var(--bg);
         color:var(--ink); font:1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }}
  main {{ width:100%; max-width:24rem; background:var(--card); border:1px solid var(--line); border-radius:1rem;
         padding:2rem 1.75rem; box-shadow:0 10px 30px rgb(0 0 0 / .08); }}
  .brand {{ display:flex; align-items:center; gap:.6rem; color:var(--muted); font-size:.9rem; margin:0 0 1rem; }}
  .brand svg {{ width:1.6rem; height:1.6rem; color:var(--accent); }}
  h1 {{ font-size:1.5rem; margin:0 0 1.25rem; }}
  label {{ display:block; font-weight:600; margin:1rem 0 .35rem; }}
  input[type=text], input[type=password] {{ width:100%; padding:.7rem .8rem; font:inherit; color:inherit;
         background:transparent; border:1px solid var(--line); border-radius:.6rem; }}
  input:focus-visible, button:focus-visible {{ outline:3px solid var(--accent); outline-offset:2px; }}
  button {{ width:100%; margin-top:1.5rem; padding:.8rem; font:inherit; font-weight:700; border:0;
           border-radius:.6rem; background:var(--accent); color:var(--accent-ink); cursor:pointer; }}
  .error {{ margin:0 0 .5rem; padding:.7rem .8rem; border-radius:.6rem; color:var(--error);
           background:var(--error-bg); }}
  .hint {{ color:var(--muted); font-size:.85rem; margin:1.25rem 0 0; }}
</style>
</head>
<body>
<main aria-labelledby="title">
<p class="brand"><svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2"
 stroke-linecap="round" stroke-linejoin="round"><path d="M4 4h16l-8 9z"/><path d="M12 13v7"/><path d="M8 20h8"/></svg>
drink-assistant</p>
{body}
</main>
</body>
</html>
"""

FORM = """<h1 id="title">Sign in</h1>
{alert}
<form method="post" action="/oauth2/authorize" novalidate>
{fields}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{username}" autocomplete="username"
 autocapitalize="none" spellcheck="false" required{described}{focus_user}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required{described}{focus_pass}>
<button type="submit">Sign in</button>
</form>
<p class="hint">Local sign-in. Lost the password? Run <code>make reset-admin-password</code>.</p>
"""


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.hosted_login", description="local admin sign-in")
    commands = parser.add_subparsers(dest="command", required=True)
    reset = commands.add_parser("reset-password", help="print a new random password (the old one stops working)")
    reset.add_argument("--username", default=ADMIN_USERNAME)
    reset.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    args = parser.parse_args(argv)
    ensure_state(args.state_dir)  # first run: the key exists; a fresh admin is replaced just below
    password = reset_password(args.state_dir, args.username)
    print(password_box(_normalize(args.username), password, headline="drink-assistant: new password"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
