"""Invite codes, guest registration, guest tokens and refresh-token rotation."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import app as app_module
from chalicelib import guest_tokens, guests
from chalicelib.config import settings
from chalicelib.db import Database
from chalicelib.errors import ForbiddenError
from chalicelib.uow import UnitOfWork
from tests.guest_fixtures import make_guest, secrets_manager  # noqa: F401 (fixtures)

JSON = {"Content-Type": "application/json"}
BASE = "http://192.0.2.10:8000"


@pytest.fixture(autouse=True)
def _join_base_url(monkeypatch: pytest.MonkeyPatch, secrets_manager: Any) -> Any:  # noqa: F811
    monkeypatch.setenv("JOIN_BASE_URL", BASE)
    settings.cache_clear()
    yield
    settings.cache_clear()


def post(client: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, headers={**JSON, **(headers or {})}, body=json.dumps(body))


def create_code(client: Any, admin_headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = post(client, "/admin/registration-codes", {"expires_in_hours": 2, "max_uses": 5, **body}, admin_headers)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def register(client: Any, code: str, name: str = "Ann") -> Any:
    return post(client, "/register", {"code": code, "name": name})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def code_row(admin_conn: Any, code: str) -> dict[str, Any]:
    """The code's row, with `uses` counted as redemptions are stored: one slot row each
    (plus any counted in the column before slots existed)."""
    return admin_conn.execute(
        """SELECT c.*, c.uses + (SELECT count(*) FROM registration_code_uses u WHERE u.code = c.code) AS uses
           FROM registration_codes c WHERE c.code = %s""",
        (code,),
    ).fetchone()


def public_key(secrets_manager: Any) -> ec.EllipticCurvePublicKey:  # noqa: F811
    pem = secrets_manager.get_secret_value(SecretId=settings().guest_key_secret_id)["SecretString"]
    return guest_tokens.SigningKey.from_pem(pem).public_key


# ---------------------------------------------------------------- codes


def test_codes_carry_at_least_128_random_bits() -> None:
    alphabet = guests.CODE_ALPHABET
    assert len(set(alphabet)) == len(alphabet) == 32
    assert guests.CODE_LENGTH * math.log2(len(alphabet)) >= 128
    codes = [guests.new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == guests.CODE_LENGTH and set(c) <= set(alphabet) for c in codes)
    # Every symbol is used (a generator stuck on part of the alphabet has fewer bits).
    assert set("".join(codes)) == set(alphabet)


def test_typed_codes_are_normalized() -> None:
    code = guests.new_code()
    spaced = " ".join([code[:5].lower(), code[5:13], "-", code[13:]])
    assert guests.normalize_code(spaced) == code
    assert guests.normalize_code(code[:-1]) is None
    assert guests.normalize_code(code[:-1] + "O") is None  # O is not in the alphabet


def test_admin_creates_lists_and_revokes_a_code(client: Any, admin_headers: dict[str, str], admin_conn: Any) -> None:
    created = create_code(client, admin_headers, expires_in_hours=3, max_uses=7, note="  table 4  ")
    code = created["code"]
    assert created["join_url"] == f"{BASE}/join?code={code}"
    assert (created["max_uses"], created["uses"], created["note"], created["status"]) == (7, 0, "table 4", "active")
    row = code_row(admin_conn, code)
    assert row["created_by"] == "host"
    hours = (row["expires_at"] - row["created_at"]).total_seconds() / 3600
    assert hours == pytest.approx(3, abs=0.01)

    assert register(client, code).status_code == 201
    listed = json.loads(client.http.get("/admin/registration-codes", headers=admin_headers).body)
    mine = next(c for c in listed if c["code"] == code)
    assert (mine["uses"], mine["status"], mine["join_url"]) == (1, "active", created["join_url"])
    assert mine["qr_svg"] == created["qr_svg"]

    revoked = client.http.delete(f"/admin/registration-codes/{code.lower()}", headers=admin_headers)
    assert revoked.status_code == 200, revoked.body
    assert json.loads(revoked.body)["status"] == "revoked"
    first_revocation = code_row(admin_conn, code)["revoked_at"]
    assert first_revocation is not None
    again = client.http.delete(f"/admin/registration-codes/{code}", headers=admin_headers)
    assert again.status_code == 200  # idempotent, and the first time stands
    assert code_row(admin_conn, code)["revoked_at"] == first_revocation

    listed = json.loads(client.http.get("/admin/registration-codes", headers=admin_headers).body)
    mine = next(c for c in listed if c["code"] == code)
    assert (mine["status"], mine["qr_svg"]) == ("revoked", None)
    assert register(client, code).status_code == 403


def test_revoking_an_unknown_code_is_404(client: Any, admin_headers: dict[str, str]) -> None:
    for code in (guests.new_code(), "FRIDAY", "x" * 300):
        response = client.http.delete(f"/admin/registration-codes/{code}", headers=admin_headers)
        assert response.status_code == 404, (code, response.body)


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in_hours": 0},
        {"expires_in_hours": 169},
        {"expires_in_hours": "24"},
        {"expires_in_hours": 1.5},
        {"max_uses": 0},
        {"max_uses": 501},
        {"max_uses": True},
        {"note": "n" * 201},
        {"surprise": 1},
    ],
)
def test_invalid_code_requests_are_400_and_create_nothing(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, body: dict[str, Any]
) -> None:
    before = admin_conn.execute("SELECT count(*) AS n FROM registration_codes").fetchone()["n"]
    response = post(client, "/admin/registration-codes", body, admin_headers)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["Code"] == "BadRequestError"
    assert admin_conn.execute("SELECT count(*) AS n FROM registration_codes").fetchone()["n"] == before


def test_code_limits_are_inclusive(client: Any, admin_headers: dict[str, str]) -> None:
    assert create_code(client, admin_headers, expires_in_hours=1, max_uses=1)["max_uses"] == 1
    assert create_code(client, admin_headers, expires_in_hours=168, max_uses=500, note="n" * 200)["max_uses"] == 500


def test_qr_code_is_svg_of_the_join_url(client: Any, admin_headers: dict[str, str]) -> None:
    created = create_code(client, admin_headers)
    root = ET.fromstring(created["qr_svg"])  # noqa: S314 (the app's own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert created["qr_svg"] == guests.qr_svg(created["join_url"])
    assert created["qr_svg"] != guests.qr_svg(created["join_url"] + "X")


def test_without_a_configured_base_the_admin_origin_is_used(
    client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOIN_BASE_URL", "")
    settings.cache_clear()
    created = create_code(client, {**admin_headers, "Origin": "http://10.0.0.7:8000"})
    assert created["join_url"] == f"http://10.0.0.7:8000/join?code={created['code']}"


# ---------------------------------------------------------------- registration


def test_register_returns_a_verifiable_guest_token(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any  # noqa: F811
) -> None:
    secret_id = settings().guest_key_secret_id
    with pytest.raises(secrets_manager.exceptions.ResourceNotFoundException):
        secrets_manager.get_secret_value(SecretId=secret_id)
    code = create_code(client, admin_headers)["code"]

    response = register(client, code, "  Ann Smith \t")
    assert response.status_code == 201, response.body
    body = json.loads(response.body)
    assert body["expires_in"] == 4 * 3600
    assert body["guest"]["name"] == "Ann Smith"
    guest_id = body["guest"]["id"]

    # The key was created on first use, and the token verifies with its public half.
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256"
    claims = jwt.decode(
        body["access_token"], public_key(secrets_manager), algorithms=["ES256"], audience=guest_tokens.AUDIENCE
    )
    assert claims["iss"] == settings().guest_token_issuer
    assert (claims["sub"], claims["name"], claims["token_use"]) == (guest_id, "Ann Smith", "guest")
    assert claims["exp"] - claims["iat"] == 4 * 3600
    assert abs(claims["iat"] - time.time()) < 60

    guest = admin_conn.execute("SELECT * FROM guests WHERE id = %s", (guest_id,)).fetchone()
    assert (guest["name"], guest["code"], guest["revoked_at"]) == ("Ann Smith", code, None)
    assert code_row(admin_conn, code)["uses"] == 1
    # The refresh token is stored only as its SHA-256.
    stored = admin_conn.execute("SELECT * FROM refresh_tokens WHERE guest_id = %s", (guest_id,)).fetchall()
    assert [r["token_hash"] for r in stored] == [hashlib.sha256(body["refresh_token"].encode()).hexdigest()]
    assert body["refresh_token"] not in json.dumps([dict(r) for r in stored], default=str)

    me = client.http.get("/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.body
    assert json.loads(me.body) == {**body["guest"], "role": "guest"}


def test_a_new_container_reuses_the_stored_key(
    client: Any, admin_headers: dict[str, str], secrets_manager: Any  # noqa: F811
) -> None:
    token = json.loads(register(client, create_code(client, admin_headers)["code"]).body)["access_token"]
    guest_tokens.reset()  # a cold start: the key comes from Secrets Manager, not memory
    assert client.http.get("/me", headers=bearer(token)).status_code == 200
    assert len(secrets_manager.list_secrets()["SecretList"]) == 1


def test_a_lost_creation_race_uses_the_winners_key(secrets_manager: Any) -> None:  # noqa: F811
    secret_id = "race/guest-key"
    winner = guest_tokens.new_private_key_pem()

    class LateReader:
        """Reports no secret, then finds the one another container just created."""

        exceptions = secrets_manager.exceptions

        def __init__(self) -> None:
            self.reads = 0

        def get_secret_value(self, **kwargs: Any) -> Any:
            self.reads += 1
            if self.reads == 1:
                secrets_manager.create_secret(Name=secret_id, SecretString=winner)
                return secrets_manager.get_secret_value(SecretId="no-such-secret")
            return secrets_manager.get_secret_value(**kwargs)

        def create_secret(self, **kwargs: Any) -> Any:
            return secrets_manager.create_secret(**kwargs)

    assert guest_tokens.load_or_create_pem(LateReader(), secret_id) == winner


def test_secrets_manager_outage_is_503_and_uses_no_invite(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import EndpointConnectionError

    code = create_code(client, admin_headers)["code"]

    def unreachable(client: Any, secret_id: str) -> str:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.example")

    monkeypatch.setattr(guest_tokens, "load_or_create_pem", unreachable)
    response = register(client, code)
    assert response.status_code == 503, response.body
    assert code_row(admin_conn, code)["uses"] == 0


def test_every_invalid_code_gets_the_same_403(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any  # noqa: F811
) -> None:
    expired = create_code(client, admin_headers)["code"]
    admin_conn.execute("UPDATE registration_codes SET expires_at = now() - interval '1 second' WHERE code = %s",
                       (expired,))
    revoked = create_code(client, admin_headers)["code"]
    client.http.delete(f"/admin/registration-codes/{revoked}", headers=admin_headers)
    used_up = create_code(client, admin_headers, max_uses=1)["code"]
    assert register(client, used_up).status_code == 201
    guests_before = admin_conn.execute("SELECT count(*) AS n FROM guests").fetchone()["n"]

    answers = {}
    for why, code in {
        "unknown": guests.new_code(),
        "not a code": "FRIDAY",
        "expired": expired,
        "revoked": revoked,
        "used up": used_up,
    }.items():
        response = register(client, code)
        answers[why] = (response.status_code, response.body)
    assert len(set(answers.values())) == 1, answers
    status, body = next(iter(answers.values()))
    assert status == 403
    assert json.loads(body) == {"Code": "ForbiddenError", "Message": guests.INVALID_CODE_MESSAGE}
    assert admin_conn.execute("SELECT count(*) AS n FROM guests").fetchone()["n"] == guests_before
    assert [code_row(admin_conn, c)["uses"] for c in (expired, revoked, used_up)] == [0, 0, 1]


@pytest.mark.parametrize(
    ("name", "status", "stored"),
    [
        ("  Bo  ", 201, "Bo"),
        ("x" * 40, 201, "x" * 40),
        (" " + "é" * 40 + " ", 201, "é" * 40),
        ("x" * 41, 400, None),
        ("  ", 400, None),
        ("", 400, None),
        ("two\nlines", 400, None),
        (42, 400, None),
    ],
)
def test_names_are_trimmed_and_1_to_40_characters(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any,  # noqa: F811
    name: Any, status: int, stored: str | None,
) -> None:
    code = create_code(client, admin_headers)["code"]
    response = register(client, code, name)
    assert response.status_code == status, response.body
    if stored is None:
        assert code_row(admin_conn, code)["uses"] == 0  # a refused name uses no invite
    else:
        assert json.loads(response.body)["guest"]["name"] == stored


@pytest.mark.parametrize("body", [{}, {"code": "X"}, {"name": "Ann"}, {"code": 7, "name": "Ann"}, []])
def test_malformed_registrations_are_400(client: Any, body: Any) -> None:
    response = post(client, "/register", body)
    assert response.status_code == 400, response.body


def test_fifty_parallel_redemptions_of_a_ten_use_code_admit_exactly_ten(
    database_url: str, admin_conn: Any
) -> None:
    code = guests.new_code()
    admin_conn.execute(
        "INSERT INTO registration_codes (code, max_uses, expires_at) VALUES (%s, 10, now() + interval '1 hour')",
        (code,),
    )
    workers = 25  # each with its own connection: real concurrency, within max_connections
    local = threading.local()
    databases: list[Database] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def connect() -> Database:
        db = Database(settings())
        db.write(lambda conn: None)  # open the writer connection before the race starts
        with lock:
            databases.append(db)
        return db

    def redeem(i: int) -> str:
        if not hasattr(local, "db"):
            local.db = connect()
            start.wait(timeout=30)
        try:
            UnitOfWork(local.db).write(guests.register, code, f"guest {i}")
            return "admitted"
        except ForbiddenError:
            return "refused"

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(redeem, range(50)))
    finally:
        for db in databases:
            db.close()
    assert outcomes.count("admitted") == 10, outcomes
    assert outcomes.count("refused") == 40
    assert code_row(admin_conn, code)["uses"] == 10
    assert admin_conn.execute("SELECT count(*) AS n FROM guests WHERE code = %s", (code,)).fetchone()["n"] == 10
    slots = admin_conn.execute("SELECT slot FROM registration_code_uses WHERE code = %s", (code,)).fetchall()
    assert sorted(r["slot"] for r in slots) == list(range(1, 11))


def test_joining_at_once_never_writes_the_codes_row(database_url: str, admin_conn: Any) -> None:
    """No hot row: redemptions insert their own slot rows; the code's row is untouched
    (its xmin, the transaction that last wrote it, stays the same)."""
    code = guests.new_code()
    admin_conn.execute(
        "INSERT INTO registration_codes (code, max_uses, expires_at) VALUES (%s, 20, now() + interval '1 hour')",
        (code,),
    )
    before = admin_conn.execute("SELECT xmin::text AS x FROM registration_codes WHERE code = %s", (code,)).fetchone()
    database = Database(settings())
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: UnitOfWork(database).write(guests.register, code, f"guest {i}"), range(20)))
    finally:
        database.close()
    after = admin_conn.execute("SELECT xmin::text AS x FROM registration_codes WHERE code = %s", (code,)).fetchone()
    assert after == before
    assert code_row(admin_conn, code)["uses"] == 20


def test_uses_counted_before_slots_still_count(db: Any, admin_conn: Any) -> None:
    """A code redeemed 3 times before slots existed (uses = 3) admits 2 more of its 5."""
    code = guests.new_code()
    admin_conn.execute(
        """INSERT INTO registration_codes (code, max_uses, uses, expires_at)
           VALUES (%s, 5, 3, now() + interval '1 hour')""",
        (code,),
    )
    for i in range(2):
        db.write(guests.register, code, f"late guest {i}")
    with pytest.raises(ForbiddenError):
        db.write(guests.register, code, "one too many")
    slots = admin_conn.execute("SELECT slot FROM registration_code_uses WHERE code = %s ORDER BY slot", (code,))
    assert [r["slot"] for r in slots.fetchall()] == [4, 5]
    listed = {c["code"]: c for c in db.read(guests.list_codes, "http://x")}[code]
    assert (listed["uses"], listed["status"]) == (5, "used_up")


# ---------------------------------------------------------------- refresh


def test_refresh_rotates_and_reuse_revokes_the_family(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any  # noqa: F811
) -> None:
    first = json.loads(register(client, create_code(client, admin_headers)["code"]).body)

    response = post(client, "/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.body
    second = json.loads(response.body)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["guest"] == first["guest"]
    assert client.http.get("/me", headers=bearer(second["access_token"])).status_code == 200

    third = json.loads(post(client, "/auth/refresh", {"refresh_token": second["refresh_token"]}).body)
    family = admin_conn.execute(
        "SELECT family_id FROM refresh_tokens WHERE guest_id = %s", (first["guest"]["id"],)
    ).fetchall()
    assert len(family) == 3 and len({r["family_id"] for r in family}) == 1

    # The first token comes back: a copy exists. Refused, and the family is over.
    reused = post(client, "/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401, reused.body
    assert json.loads(reused.body)["Code"] == "UnauthorizedError"
    assert post(client, "/auth/refresh", {"refresh_token": third["refresh_token"]}).status_code == 401
    open_tokens = admin_conn.execute(
        "SELECT count(*) AS n FROM refresh_tokens WHERE guest_id = %s AND revoked_at IS NULL",
        (first["guest"]["id"],),
    ).fetchone()["n"]
    assert open_tokens == 0


def test_refresh_refuses_unknown_expired_and_revoked_guests(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any  # noqa: F811
) -> None:
    assert post(client, "/auth/refresh", {"refresh_token": "not-a-token"}).status_code == 401
    assert post(client, "/auth/refresh", {}).status_code == 400

    expired = json.loads(register(client, create_code(client, admin_headers)["code"]).body)
    admin_conn.execute(
        "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
        (guests.hash_token(expired["refresh_token"]),),
    )
    assert post(client, "/auth/refresh", {"refresh_token": expired["refresh_token"]}).status_code == 401

    kicked = json.loads(register(client, create_code(client, admin_headers)["code"]).body)
    admin_conn.execute("UPDATE guests SET revoked_at = now() WHERE id = %s", (kicked["guest"]["id"],))
    assert post(client, "/auth/refresh", {"refresh_token": kicked["refresh_token"]}).status_code == 401


# ---------------------------------------------------------------- signing out


def test_sign_out_ends_the_session_on_the_server(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any  # noqa: F811
) -> None:
    leaving = json.loads(register(client, create_code(client, admin_headers)["code"]).body)
    staying = json.loads(register(client, create_code(client, admin_headers)["code"]).body)
    rotated = json.loads(post(client, "/auth/refresh", {"refresh_token": leaving["refresh_token"]}).body)

    response = post(client, "/auth/sign-out", {"refresh_token": rotated["refresh_token"]})
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"signed_out": True}
    # Every token of the session stops working at once: the refresh token, the older one of
    # its family, and the access token still on the phone.
    assert post(client, "/auth/refresh", {"refresh_token": rotated["refresh_token"]}).status_code == 401
    assert post(client, "/auth/refresh", {"refresh_token": leaving["refresh_token"]}).status_code == 401
    assert client.http.get("/me", headers=bearer(rotated["access_token"])).status_code == 401
    row = admin_conn.execute("SELECT revoked_at FROM guests WHERE id = %s", (leaving["guest"]["id"],)).fetchone()
    assert row["revoked_at"] is not None
    # Someone else's session is theirs.
    assert client.http.get("/me", headers=bearer(staying["access_token"])).status_code == 200
    assert post(client, "/auth/refresh", {"refresh_token": staying["refresh_token"]}).status_code == 200


def test_sign_out_answers_alike_for_unknown_tokens_and_refuses_bad_bodies(
    client: Any, admin_headers: dict[str, str], admin_conn: Any, secrets_manager: Any  # noqa: F811
) -> None:
    guest = json.loads(register(client, create_code(client, admin_headers)["code"]).body)
    before = admin_conn.execute("SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL").fetchone()["n"]
    unknown = post(client, "/auth/sign-out", {"refresh_token": "not-a-token"})
    assert (unknown.status_code, json.loads(unknown.body)) == (200, {"signed_out": True})  # tells nothing
    for body in ({}, {"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": "x", "guest": "y"}, []):
        refused = post(client, "/auth/sign-out", body)
        assert refused.status_code == 400, (body, refused.body)
        assert set(json.loads(refused.body)) == {"Code", "Message"}
    after = admin_conn.execute("SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL").fetchone()["n"]
    assert after == before  # nothing changed
    assert client.http.get("/me", headers=bearer(guest["access_token"])).status_code == 200


def test_signing_out_at_once_from_two_tabs_ends_the_session_once(
    client: Any, admin_headers: dict[str, str], database_url: str, secrets_manager: Any  # noqa: F811
) -> None:
    """Eight concurrent sign-outs of one session (each with its own connections, as Lambda
    containers have): all answered, one GuestRevoked, the session over."""
    guest = json.loads(register(client, create_code(client, admin_headers)["code"]).body)
    published: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def record(event_type: str, data: dict[str, Any]) -> None:
        with lock:
            published.append((event_type, data))

    start = threading.Barrier(8)

    def leave(_: int) -> bool:
        database = Database(settings())
        try:
            start.wait(timeout=30)
            return UnitOfWork(database, publish=record).write(guests.sign_out, guest["refresh_token"])
        finally:
            database.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(leave, range(8)))
    assert outcomes.count(True) == 1, outcomes
    assert published == [("GuestRevoked", {"guest_id": guest["guest"]["id"], "reason": "signed_out"})]
    assert post(client, "/auth/refresh", {"refresh_token": guest["refresh_token"]}).status_code == 401


# ---------------------------------------------------------------- guest tokens at the authorizer


def test_guest_tokens_open_guest_routes_only() -> None:
    from chalice.app import AuthRequest, AuthResponse
    from chalice.local import ARNMatcher

    request = AuthRequest("TOKEN", "t", "arn:aws:execute-api:us-east-1:1:api/api/GET/me")
    policy = AuthResponse(routes=app_module.routes_for("guest"), principal_id="g").to_dict(request)
    allowed = policy["policyDocument"]["Statement"][0]["Resource"]

    def can(method: str, path: str) -> bool:
        return ARNMatcher(f"arn:aws:execute-api:us-east-1:1:api/api/{method}{path}").does_any_resource_match(allowed)

    assert can("GET", "/me") and can("POST", "/orders") and can("POST", "/orders/abc/cancel")
    assert not can("GET", "/ordersX")
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        for path in ("/admin/bar", "/admin/orders", "/admin/orders/abc", "/admin/me", "/admin/x/orders/abc"):
            assert not can(method, path), (method, path)
    assert app_module.routes_for("admin") == ["*"]


def _forge(claims: dict[str, Any], key: Any, headers: dict[str, Any], algorithm: str = "ES256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def test_bad_guest_tokens_are_401_on_a_guest_route(
    client: Any, admin_conn: Any, make_guest: Any  # noqa: F811
) -> None:
    guest, valid = make_guest()
    key = guest_tokens.signing_key()
    claims = jwt.decode(valid, options={"verify_signature": False})
    now = int(time.time())
    other_key = ec.generate_private_key(ec.SECP256R1())
    header, payload, signature = valid.split(".")
    kicked, kicked_token = make_guest("Kicked")
    admin_conn.execute("UPDATE guests SET revoked_at = now() WHERE id = %s", (kicked["id"],))

    bad = {
        "expired": guest_tokens.issue_access_token(key, guest, now=now - 5 * 3600),
        "forged (other key, same kid)": _forge(claims, other_key, {"kid": key.kid}),
        "other kid": _forge(claims, key.private_key, {"kid": "nope"}),
        "hs256": _forge(claims, "s" * 32, {"kid": key.kid}, algorithm="HS256"),
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "other audience": _forge({**claims, "aud": "elsewhere"}, key.private_key, {"kid": key.kid}),
        "not a guest token": _forge({**claims, "token_use": "access"}, key.private_key, {"kid": key.kid}),
        "other issuer": guest_tokens.issue_access_token(key, guest, issuer="drink-assistant:elsewhere"),
        "unknown guest": _forge({**claims, "sub": str(uuid.uuid4())}, key.private_key, {"kid": key.kid}),
        "revoked guest": kicked_token,
    }
    for why, token in bad.items():
        response = client.http.get("/me", headers=bearer(token))
        assert response.status_code == 401, f"{why}: {response.status_code} {response.body[:200]!r}"
    assert client.http.get("/me").status_code == 401
    assert client.http.get("/me", headers=bearer(valid)).status_code == 200


def test_admin_tokens_also_open_guest_routes(client: Any, admin_headers: dict[str, str]) -> None:
    response = client.http.get("/me", headers=admin_headers)
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["role"] == "admin"


def test_guest_token_never_opens_an_admin_route(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    admin_routes = [(p, m) for p, methods in app_module.app.routes.items() if p.startswith("/admin") for m in methods]
    assert admin_routes
    for path, method in admin_routes:
        concrete = path.replace("{code}", "FRIDAY").replace("{", "").replace("}", "")
        response = client.http.request(method, concrete, headers={**JSON, **bearer(token)}, body=b"{}")
        assert response.status_code == 403, (method, path, response.status_code)


def test_guest_token_opens_the_order_routes(client: Any, make_guest: Any) -> None:  # noqa: F811
    _, token = make_guest()
    response = client.http.get("/orders", headers=bearer(token))
    assert response.status_code == 200, response.body
    response = client.http.get(f"/orders/{uuid.uuid4()}", headers=bearer(token))
    assert response.status_code == 404, response.body  # past the authorizer: no such order of mine
