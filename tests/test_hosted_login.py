"""The local gateway's Cognito-compatible hosted login, driven over real HTTP.

The gateway runs in-process (its aiohttp app on a loopback port in a background
thread); the tests walk the browser's path with `requests` (form, cookie, redirect),
exchange the code like the web app does, and hand the token to the Chalice app.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from aiohttp import web

from local import hosted_login
from local.gateway import build_app

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = hosted_login.DEFAULT_CLIENT_ID

ACCESS_CLAIMS = {"sub", "iss", "client_id", "token_use", "scope", "auth_time", "iat", "exp", "jti", "username",
                 "cognito:groups"}
ID_CLAIMS = {"sub", "aud", "iss", "token_use", "cognito:username", "email", "exp", "iat", "auth_time",
             "cognito:groups",
             # also in Cognito's id tokens:
             "email_verified", "jti", "at_hash"}


class Gateway:
    """The real gateway app (build_app with hosted login) on a free loopback port."""

    def __init__(self, state_dir: Path) -> None:
        self.offset = 0.0  # seconds added to the gateway's clock (expiry tests)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = self.url
        self.redirect_uri = f"{self.url}{hosted_login.REDIRECT_PATH}"
        self.app = build_app(
            api_upstream="http://127.0.0.1:9",
            auth={"issuer": self.issuer, "client_id": CLIENT_ID, "state_dir": state_dir,
                  "clock": lambda: time.time() + self.offset},
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(self.app)

        async def start() -> None:
            await self.runner.setup()
            await web.SockSite(self.runner, sock).start()

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(timeout=10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def jwks(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/.well-known/jwks.json", timeout=5).json()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, hosted_login.s256(verifier)


def authorize_params(gw: Gateway, challenge: str, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": gw.redirect_uri,
        "state": secrets.token_urlsafe(8),
        "scope": "openid email profile",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def hidden_fields(page: str) -> dict[str, str]:
    return {m[0]: html.unescape(m[1]) for m in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)}


def sign_in(gw: Gateway, username: str, password: str, challenge: str, *,
            session: requests.Session | None = None, **overrides: str) -> requests.Response:
    """GET the form, POST it back as a browser would; the answer is not followed."""
    session = session or requests.Session()
    form = session.get(f"{gw.url}/oauth2/authorize", params=authorize_params(gw, challenge, **overrides), timeout=5)
    assert form.status_code == 200, form.text
    data = {**hidden_fields(form.text), "username": username, "password": password}
    return session.post(f"{gw.url}/oauth2/authorize", data=data, allow_redirects=False, timeout=10)


def login_code(gw: Gateway, password: str, challenge: str) -> str:
    answer = sign_in(gw, "admin", password, challenge)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == gw.redirect_uri
    return parse_qs(location.query)["code"][0]


def exchange(gw: Gateway, code: str, verifier: str, **overrides: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code,
            "redirect_uri": gw.redirect_uri, "code_verifier": verifier, **overrides}
    return requests.post(f"{gw.url}/oauth2/token", data=data, timeout=5)


def tokens_for(gw: Gateway, password: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    answer = exchange(gw, login_code(gw, password, challenge), verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()


def decode(gw: Gateway, token: str, **options: Any) -> dict[str, Any]:
    jwk = gw.jwks()["keys"][0]
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": jwk["kid"]}
    key = jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
    return jwt.decode(token, key, algorithms=["RS256"], issuer=gw.issuer, **options)


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth") / "auth"


@pytest.fixture(scope="module")
def admin_password(state_dir: Path) -> str:
    """The first-run password, as `make local` prints it."""
    password = hosted_login.ensure_state(state_dir)
    assert password
    return password


@pytest.fixture(scope="module")
def gateway(state_dir: Path, admin_password: str) -> Iterator[Gateway]:
    gw = Gateway(state_dir)
    yield gw
    gw.close()


# ---------------------------------------------------------------- the whole flow, into the API


def test_code_with_pkce_gives_a_token_the_api_accepts(
    gateway: Gateway, admin_password: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalice.test import Client

    import app as app_module
    from chalicelib.config import settings

    tokens = tokens_for(gateway, admin_password)
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600

    monkeypatch.setenv("AUTH_ISSUER", gateway.issuer)
    monkeypatch.setenv("AUTH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AUTH_JWKS_URL", f"{gateway.issuer}/.well-known/jwks.json")
    settings.cache_clear()
    monkeypatch.setattr(app_module, "_authenticator", None)
    try:
        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
            ok = client.http.get("/admin/bar", headers={"Authorization": f"Bearer {tokens['access_token']}"})
            assert ok.status_code == 200, ok.body
            # The id token is not an access token: the authorizer refuses it.
            refused = client.http.get("/admin/bar", headers={"Authorization": f"Bearer {tokens['id_token']}"})
            assert refused.status_code == 401
    finally:
        settings.cache_clear()  # monkeypatch restores env and _authenticator after this


def test_tokens_carry_cognitos_claims(gateway: Gateway, admin_password: str) -> None:
    tokens = tokens_for(gateway, admin_password)
    access = decode(gateway, tokens["access_token"])
    identity = decode(gateway, tokens["id_token"], audience=CLIENT_ID)
    assert set(access) == ACCESS_CLAIMS
    assert set(identity) == ID_CLAIMS
    assert access["token_use"] == "access" and identity["token_use"] == "id"
    assert access["client_id"] == CLIENT_ID and identity["aud"] == CLIENT_ID
    assert access["iss"] == identity["iss"] == gateway.issuer
    assert access["username"] == identity["cognito:username"] == "admin"
    assert access["cognito:groups"] == identity["cognito:groups"] == ["admin"]
    assert access["sub"] == identity["sub"]
    assert access["scope"] == "openid email profile"
    assert access["exp"] - access["iat"] == 3600
    assert access["auth_time"] <= access["iat"]
    assert identity["email"] == "admin@localhost"
    expected_hash = hosted_login._b64url(hashlib.sha256(tokens["access_token"].encode()).digest()[:16])
    assert identity["at_hash"] == expected_hash


def test_runtime_config_describes_the_sign_in(gateway: Gateway) -> None:
    config = requests.get(f"{gateway.url}/config.json", timeout=5).json()
    assert config["auth"] == {"domain": "", "clientId": CLIENT_ID, "scopes": ["openid", "email", "profile"],
                              "redirectPath": "/auth/callback", "logoutPath": "/"}
    discovery = requests.get(f"{gateway.url}/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == gateway.issuer
    assert discovery["code_challenge_methods_supported"] == ["S256"]


# ---------------------------------------------------------------- the code exchange


def test_wrong_verifier_is_invalid_grant_and_burns_the_code(gateway: Gateway, admin_password: str) -> None:
    verifier, challenge = pkce()
    code = login_code(gateway, admin_password, challenge)
    other_verifier, _ = pkce()
    wrong = exchange(gateway, code, other_verifier)
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    # A code is good for one attempt: guessing verifiers gets nowhere.
    assert exchange(gateway, code, verifier).json() == {"error": "invalid_grant"}


def test_missing_verifier_is_invalid_grant(gateway: Gateway, admin_password: str) -> None:
    _, challenge = pkce()
    code = login_code(gateway, admin_password, challenge)
    answer = requests.post(f"{gateway.url}/oauth2/token", timeout=5, data={
        "grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code, "redirect_uri": gateway.redirect_uri})
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})


def test_code_is_single_use(gateway: Gateway, admin_password: str) -> None:
    verifier, challenge = pkce()
    code = login_code(gateway, admin_password, challenge)
    assert exchange(gateway, code, verifier).status_code == 200
    again = exchange(gateway, code, verifier)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_code_expires_after_five_minutes(gateway: Gateway, admin_password: str) -> None:
    verifier, challenge = pkce()
    code = login_code(gateway, admin_password, challenge)
    gateway.offset = hosted_login.CODE_TTL_S + 1
    try:
        late = exchange(gateway, code, verifier)
    finally:
        gateway.offset = 0.0
    assert (late.status_code, late.json()) == (400, {"error": "invalid_grant"})


def test_code_is_bound_to_its_redirect_uri(gateway: Gateway, admin_password: str) -> None:
    verifier, challenge = pkce()
    code = login_code(gateway, admin_password, challenge)
    answer = exchange(gateway, code, verifier, redirect_uri=f"http://localhost:{gateway.port}/auth/callback")
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})


@pytest.mark.parametrize(("data", "error"), [
    ({"grant_type": "password", "client_id": CLIENT_ID}, "unsupported_grant_type"),
    ({"client_id": CLIENT_ID}, "invalid_request"),
    ({"grant_type": "authorization_code", "client_id": "someone-else", "code": "x"}, "invalid_client"),
    ({"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": "made-up"}, "invalid_grant"),
    ({"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "made-up"}, "invalid_grant"),
])
def test_token_endpoint_errors_are_oauth_json(gateway: Gateway, data: dict[str, str], error: str) -> None:
    answer = requests.post(f"{gateway.url}/oauth2/token", data=data, timeout=5)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert answer.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- the sign-in form


def test_form_is_labelled_and_locked_down(gateway: Gateway) -> None:
    _, challenge = pkce()
    page = requests.get(f"{gateway.url}/oauth2/authorize", params=authorize_params(gateway, challenge), timeout=5)
    assert page.status_code == 200
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    cookie = page.cookies.get(hosted_login.CSRF_COOKIE)
    assert cookie and hidden_fields(page.text)["csrf"] == cookie


def test_wrong_password_shows_the_form_again_without_a_code(gateway: Gateway, admin_password: str) -> None:
    _, challenge = pkce()
    wrong = sign_in(gateway, "admin", admin_password + "x", challenge)
    unknown = sign_in(gateway, "nobody", admin_password, challenge)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Location" not in answer.headers
        assert "Incorrect username or password." in answer.text
        assert 'role="alert"' in answer.text
    # No user enumeration: the same page, bar what differs per request anyway.
    def visible(answer: requests.Response) -> str:
        page = re.sub(r'<input type="hidden"[^>]*>|nonce-?[\w="-]*', "", answer.text)
        return page.replace('value="nobody"', 'value="admin"')

    assert visible(wrong) == visible(unknown)
    assert admin_password not in wrong.text


def test_form_post_without_the_csrf_cookie_is_refused(gateway: Gateway, admin_password: str) -> None:
    _, challenge = pkce()
    form = requests.get(f"{gateway.url}/oauth2/authorize", params=authorize_params(gateway, challenge), timeout=5)
    data = {**hidden_fields(form.text), "username": "admin", "password": admin_password}
    # A cross-site form post: the browser sends no SameSite=Strict cookie.
    answer = requests.post(f"{gateway.url}/oauth2/authorize", data=data, allow_redirects=False, timeout=5)
    assert answer.status_code == 403 and "Location" not in answer.headers
    forged = requests.post(f"{gateway.url}/oauth2/authorize", data={**data, "csrf": "a" * 43},
                           cookies={hosted_login.CSRF_COOKIE: "b" * 43}, allow_redirects=False, timeout=5)
    assert forged.status_code == 403 and "Location" not in forged.headers


def test_repeated_failures_lock_the_username(tmp_path: Path) -> None:
    password = hosted_login.ensure_state(tmp_path / "auth")
    assert password
    gw = Gateway(tmp_path / "auth")
    try:
        _, challenge = pkce()
        for _ in range(hosted_login.MAX_FAILURES):
            assert sign_in(gw, "admin", "guess", challenge).status_code == 401
        locked = sign_in(gw, "admin", password, challenge)
        assert locked.status_code == 429 and "Location" not in locked.headers
        # Unknown names are limited the same way (the limit reveals nothing).
        for _ in range(hosted_login.MAX_FAILURES):
            sign_in(gw, "ghost", "guess", challenge)
        assert sign_in(gw, "ghost", "guess", challenge).status_code == 429
        gw.offset = hosted_login.FAILURE_WINDOW_S + 1
        assert sign_in(gw, "admin", password, challenge).status_code == 302
    finally:
        gw.close()


# ---------------------------------------------------------------- redirect URIs


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/auth/callback",
    "http://127.0.0.1:{port}/somewhere-else",
    "http://127.0.0.1:{port}/auth/callback/../x",
    "javascript:alert(1)//127.0.0.1/auth/callback",
    "http://user@evil.example@127.0.0.1:{port}/auth/callback",
    "http://127.0.0.1:{port}/auth/callback#x",
    "http://10.0.0.7:{port}/auth/callback",  # a LAN address the request did not come in on
    "",
])
def test_foreign_redirect_uri_is_refused(gateway: Gateway, redirect_uri: str) -> None:
    _, challenge = pkce()
    params = authorize_params(gateway, challenge, redirect_uri=redirect_uri.format(port=gateway.port))
    answer = requests.get(f"{gateway.url}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


@pytest.mark.parametrize(("host", "redirect_uri"), [
    (None, "http://localhost:5173/auth/callback"),  # the Vite dev server
    (None, "https://127.0.0.1/auth/callback"),
    ("192.168.1.20:{port}", "http://192.168.1.20:{port}/auth/callback"),  # a phone on the LAN
])
def test_loopback_and_same_host_redirects_are_allowed(
    gateway: Gateway, admin_password: str, host: str | None, redirect_uri: str
) -> None:
    _, challenge = pkce()
    redirect_uri = redirect_uri.format(port=gateway.port)
    session = requests.Session()
    if host:
        session.headers["Host"] = host.format(port=gateway.port)
    answer = sign_in(gateway, "admin", admin_password, challenge, session=session, redirect_uri=redirect_uri)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(redirect_uri + "?code=")


def test_unknown_client_is_refused(gateway: Gateway) -> None:
    _, challenge = pkce()
    params = authorize_params(gateway, challenge, client_id="someone-else")
    answer = requests.get(f"{gateway.url}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 400


@pytest.mark.parametrize(("overrides", "error"), [
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "openid aws.cognito.signin.user.admin"}, "invalid_scope"),
])
def test_bad_authorize_requests_go_back_with_an_error(
    gateway: Gateway, overrides: dict[str, str | None], error: str
) -> None:
    _, challenge = pkce()
    params = authorize_params(gateway, challenge, state="s1", **overrides)  # type: ignore[arg-type]
    answer = requests.get(f"{gateway.url}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {"error": [error], "state": ["s1"]}


def test_logout_redirects_only_to_an_allowed_uri(gateway: Gateway) -> None:
    ok = requests.get(f"{gateway.url}/logout", params={"client_id": CLIENT_ID, "logout_uri": f"{gateway.url}/"},
                      allow_redirects=False, timeout=5)
    assert (ok.status_code, ok.headers["Location"]) == (302, f"{gateway.url}/")
    for params in ({"client_id": CLIENT_ID, "logout_uri": "https://evil.example/"},
                   {"client_id": "someone-else", "logout_uri": f"{gateway.url}/"}):
        refused = requests.get(f"{gateway.url}/logout", params=params, allow_redirects=False, timeout=5)
        assert refused.status_code == 400 and "Location" not in refused.headers


# ---------------------------------------------------------------- refresh, reset, persistence


def test_refresh_grant_gives_new_access_and_id_tokens(gateway: Gateway, admin_password: str) -> None:
    first = tokens_for(gateway, admin_password)
    answer = requests.post(f"{gateway.url}/oauth2/token", timeout=5, data={
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": first["refresh_token"]})
    assert answer.status_code == 200, answer.text
    renewed = answer.json()
    assert set(renewed) == {"access_token", "id_token", "token_type", "expires_in"}  # the refresh token stays
    access = decode(gateway, renewed["access_token"])
    assert set(access) == ACCESS_CLAIMS
    assert access["jti"] != decode(gateway, first["access_token"])["jti"]
    assert access["auth_time"] == decode(gateway, first["access_token"])["auth_time"]
    other_client = requests.post(f"{gateway.url}/oauth2/token", timeout=5, data={
        "grant_type": "refresh_token", "client_id": "someone-else", "refresh_token": first["refresh_token"]})
    assert other_client.json() == {"error": "invalid_client"}


def test_revoked_refresh_token_stops_working(gateway: Gateway, admin_password: str) -> None:
    refresh = tokens_for(gateway, admin_password)["refresh_token"]
    revoked = requests.post(f"{gateway.url}/oauth2/revoke", data={"token": refresh, "client_id": CLIENT_ID}, timeout=5)
    assert revoked.status_code == 200
    answer = requests.post(f"{gateway.url}/oauth2/token", timeout=5, data={
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh})
    assert answer.json() == {"error": "invalid_grant"}


def test_state_persists_across_restarts_with_private_files(tmp_path: Path) -> None:
    state = tmp_path / "auth"
    password = hosted_login.ensure_state(state)
    assert password
    first = Gateway(state)
    try:
        kid = first.jwks()["keys"][0]["kid"]
        refresh = tokens_for(first, password)["refresh_token"]
    finally:
        first.close()
    second = Gateway(state)
    try:
        assert second.jwks()["keys"][0]["kid"] == kid
        tokens_for(second, password)  # the same password still signs in
        answer = requests.post(f"{second.url}/oauth2/token", timeout=5, data={
            "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh})
        assert answer.status_code == 200
    finally:
        second.close()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in (hosted_login.KEY_FILE, hosted_login.USERS_FILE, hosted_login.REFRESH_FILE):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    assert sorted(p.name for p in state.iterdir()) == sorted(
        [hosted_login.KEY_FILE, hosted_login.USERS_FILE, hosted_login.REFRESH_FILE])
    # Secrets are stored hashed only.
    assert password not in (state / hosted_login.USERS_FILE).read_text()
    assert refresh not in (state / hosted_login.REFRESH_FILE).read_text()


def test_first_run_prints_the_password_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = Gateway(tmp_path / "auth")
    first.close()
    out = capsys.readouterr().out
    found = re.search(r"password  (\S+)", out)
    assert found and "username  admin" in out
    second = Gateway(tmp_path / "auth")
    try:
        assert "password" not in capsys.readouterr().out
        tokens_for(second, found[1])  # the printed password is the admin's
    finally:
        second.close()


def test_reset_password_replaces_the_old_one(tmp_path: Path) -> None:
    state = tmp_path / "auth"
    old = hosted_login.ensure_state(state)
    assert old
    gw = Gateway(state)
    try:
        refresh = tokens_for(gw, old)["refresh_token"]
        run = subprocess.run(
            [sys.executable, "-m", "local.hosted_login", "reset-password", "--username", "admin", "--state-dir",
             str(state)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert run.returncode == 0, run.stderr
        found = re.search(r"password  (\S+)", run.stdout)
        assert found and found[1] != old
        _, challenge = pkce()
        refused = sign_in(gw, "admin", old, challenge)
        assert refused.status_code == 401 and "Location" not in refused.headers
        tokens_for(gw, found[1])
        # Sessions from before the reset end with it.
        answer = requests.post(f"{gw.url}/oauth2/token", timeout=5, data={
            "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh})
        assert answer.json() == {"error": "invalid_grant"}
    finally:
        gw.close()


def test_reset_password_for_an_unknown_user_fails(tmp_path: Path) -> None:
    hosted_login.ensure_state(tmp_path / "auth")
    with pytest.raises(SystemExit, match="no such user"):
        hosted_login.main(["reset-password", "--username", "nobody", "--state-dir", str(tmp_path / "auth")])
