"""Guests: invite codes, registration, and refresh-token rotation.

* An invite code is 26 characters of Crockford base32 (130 random bits from
  `secrets`), so it cannot be guessed; it is shown upper case and read back
  case-insensitively, with spaces and dashes ignored, for guests who type it.
* Redemption claims one numbered use of the code (a slot in
  `registration_code_uses`, chosen at random among the free ones), then inserts the
  guest and the refresh token, in one transaction. Guests joining at once with one
  code write different rows, so nothing queues on the code's row; two who pick the
  same slot conflict on its primary key (DSQL aborts one at commit with 40001,
  PostgreSQL at REPEATABLE READ too) and `UnitOfWork.write` retries the loser, which
  then sees that slot taken. The primary key keeps `max_uses` exact.
* Unknown, expired, revoked and used-up codes are refused with one message, so the
  answer tells a guesser nothing.
* Refresh tokens are 256 random bits, stored only as SHA-256. Each use marks the
  token used and issues a new one in the same family; presenting a used token again
  means it was copied, so the whole family is revoked (the thief's copy and the
  guest's current one), and the caller is refused.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote

from psycopg import Connection
from psycopg import errors as pg_errors

from chalicelib.errors import ForbiddenError
from chalicelib.uow import Tx

# Crockford's base32: digits and letters without I, L, O, U (no misreading 1/I/L, 0/O).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 26  # 26 * log2(32) = 130 bits >= 128
INVALID_CODE_MESSAGE = "this invite code is not valid"
REFRESH_TOKEN_BYTES = 32
REFRESH_TOKEN_TTL = timedelta(days=7)
MAX_LISTED_CODES = 500

_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_IGNORED_IN_CODES = re.compile(r"[\s-]+")

# A code's uses: redemptions before slots existed (the `uses` column) plus its slots.
_USES = "(c.uses + (SELECT count(*) FROM registration_code_uses u WHERE u.code = c.code))"
_CODE_COLUMNS = f"""
    c.code, c.note, c.max_uses, {_USES} AS uses, c.expires_at, c.revoked_at, c.created_by, c.created_at,
    CASE
        WHEN c.revoked_at IS NOT NULL THEN 'revoked'
        WHEN c.expires_at <= now() THEN 'expired'
        WHEN {_USES} >= c.max_uses THEN 'used_up'
        ELSE 'active'
    END AS status
"""


# ---------------------------------------------------------------- codes


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str | None:
    """The canonical form of a typed or scanned code, or None if it cannot be one."""
    code = _IGNORED_IN_CODES.sub("", raw).upper()
    return code if _CODE_RE.match(code) else None


def join_url(base_url: str, code: str) -> str:
    """Where a guest lands: the web app's /join page with the code as a query
    parameter (the frontend reads `code` from the query string)."""
    return f"{base_url.rstrip('/')}/join?code={quote(code)}"


def qr_svg(url: str) -> str:
    """An SVG QR code of `url` (error correction M: survives a smudged printout)."""
    import segno  # deferred: only code creation and listing draw QR codes

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", xmldecl=False, scale=8, border=4)
    return out.getvalue().decode()


def _code_view(row: dict[str, Any], base_url: str) -> dict[str, Any]:
    url = join_url(base_url, row["code"])
    return {
        "code": row["code"],
        "join_url": url,
        # Only a live code is worth showing again; this also keeps the list light.
        "qr_svg": qr_svg(url) if row["status"] == "active" else None,
        "status": row["status"],
        "expires_at": _iso(row["expires_at"]),
        "max_uses": row["max_uses"],
        "uses": row["uses"],
        "note": row["note"],
        "revoked_at": _iso(row["revoked_at"]),
        "created_by": row["created_by"],
        "created_at": _iso(row["created_at"]),
    }


def create_code(
    tx: Tx, *, expires_in_hours: int, max_uses: int, note: str, created_by: str, base_url: str
) -> dict[str, Any]:
    row = tx.execute(
        f"""
        INSERT INTO registration_codes AS c (code, note, max_uses, expires_at, created_by)
        VALUES (%s, %s, %s, now() + %s, %s)
        RETURNING {_CODE_COLUMNS}
        """,
        (new_code(), note, max_uses, timedelta(hours=expires_in_hours), created_by),
    ).fetchone()
    assert row is not None
    return _code_view(row, base_url)


def list_codes(conn: Connection[Any], base_url: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {_CODE_COLUMNS} FROM registration_codes c ORDER BY c.created_at DESC LIMIT %s",
        (MAX_LISTED_CODES,),
    ).fetchall()
    return [_code_view(row, base_url) for row in rows]


def revoke_code(tx: Tx, raw_code: str, base_url: str) -> dict[str, Any] | None:
    """Revoke a code (idempotent); None when there is no such code. Guests it
    already admitted keep their sessions: revoking stops new registrations."""
    code = normalize_code(raw_code)
    if code is None:
        return None
    row = tx.execute(
        f"""
        UPDATE registration_codes AS c SET revoked_at = coalesce(c.revoked_at, now())
        WHERE c.code = %s
        RETURNING {_CODE_COLUMNS}
        """,
        (code,),
    ).fetchone()
    return _code_view(row, base_url) if row else None


# ---------------------------------------------------------------- registration


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(conn: Connection[Any], guest_id: Any, family_id: Any) -> str:
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    conn.execute(
        """
        INSERT INTO refresh_tokens (token_hash, family_id, guest_id, expires_at)
        VALUES (%s, %s, %s, now() + %s)
        """,
        (hash_token(token), family_id, guest_id, REFRESH_TOKEN_TTL),
    )
    return token


def register(tx: Tx, raw_code: str, name: str) -> tuple[dict[str, Any], str]:
    """Redeem `raw_code` for a new guest called `name` (already validated).

    Returns the guest and a new refresh token; raises ForbiddenError (one message for
    every reason) when the code cannot be redeemed. Runs inside `UnitOfWork.write`.
    """
    conn = tx.conn
    code = normalize_code(raw_code)
    if code is None:
        raise ForbiddenError(INVALID_CODE_MESSAGE)
    live = conn.execute(
        """
        SELECT c.uses AS before_slots, c.max_uses,
               ARRAY(SELECT u.slot FROM registration_code_uses u WHERE u.code = c.code) AS taken
        FROM registration_codes c
        WHERE c.code = %s AND c.revoked_at IS NULL AND c.expires_at > now()
        """,
        (code,),
    ).fetchone()
    if live is None:
        raise ForbiddenError(INVALID_CODE_MESSAGE)
    taken = set(live["taken"])
    free = [slot for slot in range(live["before_slots"] + 1, live["max_uses"] + 1) if slot not in taken]
    if not free:
        raise ForbiddenError(INVALID_CODE_MESSAGE)
    guest_id = uuid.uuid4()
    claimed = conn.execute(
        """INSERT INTO registration_code_uses (code, slot, guest_id) VALUES (%s, %s, %s)
           ON CONFLICT (code, slot) DO NOTHING RETURNING slot""",
        (code, secrets.choice(free), guest_id),
    ).fetchone()
    if claimed is None:
        # Taken by a redemption that committed since our snapshot (PostgreSQL usually says
        # 40001 itself): a conflict like any other, so the whole write is retried.
        raise pg_errors.SerializationFailure("invite slot taken meanwhile")
    guest = conn.execute(
        "INSERT INTO guests (id, name, code) VALUES (%s, %s, %s) RETURNING id, name, created_at",
        (guest_id, name, code),
    ).fetchone()
    assert guest is not None
    return dict(guest), _new_refresh_token(conn, guest["id"], uuid.uuid4())


def refresh(conn: Connection[Any], refresh_token: str) -> tuple[dict[str, Any], str] | None:
    """Rotate a refresh token: the guest and a new token, or None (refused).

    Returns None rather than raising so that a detected reuse commits the family's
    revocation (raising would roll it back).
    """
    return refresh_session(conn, refresh_token).rotated


class Refresh(NamedTuple):
    """What a refresh did: the rotated pair (or None), and the guest whose session a
    reused token just ended (the caller announces it after the commit)."""

    rotated: tuple[dict[str, Any], str] | None
    ended_guest_id: str | None = None


def refresh_session(tx: Tx, refresh_token: str) -> Refresh:
    """`refresh`, also saying whether a reuse ended the guest's session. A guest has
    one refresh family (one per registration), so the family dying ends the guest:
    `guests.revoked_at` is set too, and the authorizers refuse the access tokens still
    out there, instead of honouring them until they expire; GuestRevoked cuts their
    live updates."""
    conn = tx.conn
    token_hash = hash_token(refresh_token)
    used = conn.execute(
        """
        UPDATE refresh_tokens SET used_at = now()
        WHERE token_hash = %s AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        RETURNING family_id, guest_id
        """,
        (token_hash,),
    ).fetchone()
    if used is None:
        known = conn.execute(
            "SELECT family_id, guest_id, used_at FROM refresh_tokens WHERE token_hash = %s", (token_hash,)
        ).fetchone()
        if known is not None and known["used_at"] is not None:
            # A rotated token came back: someone holds a copy. End the whole family, and
            # with it the guest (every access token and open subscription of theirs).
            ended = _end_session(tx, known, "refresh_reuse")
            return Refresh(None, str(known["guest_id"]) if ended else None)
        return Refresh(None)
    guest = conn.execute(
        "SELECT id, name, created_at FROM guests WHERE id = %s AND revoked_at IS NULL", (used["guest_id"],)
    ).fetchone()
    if guest is None:
        return Refresh(None)
    return Refresh((dict(guest), _new_refresh_token(conn, guest["id"], used["family_id"])))


def sign_out(tx: Tx, refresh_token: str) -> bool:
    """A guest leaving (POST /auth/sign-out): the session ends on the server too, not only
    on the phone: every refresh token of the family and the guest itself are revoked, so
    the tokens left on a shared phone, or copied off it, stop working at once. Whether
    this call ended a live session; an unknown or already ended one changes nothing."""
    known = tx.execute(
        "SELECT family_id, guest_id FROM refresh_tokens WHERE token_hash = %s", (hash_token(refresh_token),)
    ).fetchone()
    return known is not None and _end_session(tx, known, "signed_out")


def _end_session(tx: Tx, token: dict[str, Any], reason: str) -> bool:
    """Revoke the token's family and its guest; GuestRevoked when the guest was live."""
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s AND revoked_at IS NULL",
        (token["family_id"],),
    )
    ended = tx.execute(
        "UPDATE guests SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL RETURNING id",
        (token["guest_id"],),
    ).fetchone()
    if ended is None:
        return False
    tx.record("GuestRevoked", revoked_event(ended["id"], reason))
    return True


# ---------------------------------------------------------------- guests


def get_guest(conn: Connection[Any], guest_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT id, name, created_at FROM guests WHERE id = %s AND revoked_at IS NULL", (guest_id,)
    ).fetchone()
    return dict(row) if row else None


# Why a guest's session ended (GuestRevoked's `reason`).
REVOKE_REASONS = ("admin", "refresh_reuse", "signed_out")


def revoked_event(guest_id: Any, reason: str) -> dict[str, Any]:
    """The GuestRevoked event's data (chalicelib/realtime.py closes the guest's channel)."""
    if reason not in REVOKE_REASONS:
        raise ValueError(f"unknown revocation reason {reason!r}")
    return {"guest_id": str(guest_id), "reason": reason}


def revoke_guest(tx: Tx, guest_id: uuid.UUID) -> dict[str, Any] | None:
    """End a guest's session (idempotent): the guest and every refresh token they hold.
    Returns the guest; None when there is no such guest. Their orders stay (the bar
    still makes what was ordered); their open live updates are told to close
    (GuestRevoked, docs/realtime.md#revocation)."""
    conn = tx.conn
    guest = conn.execute("SELECT id, name, created_at, revoked_at FROM guests WHERE id = %s", (guest_id,)).fetchone()
    if guest is None:
        return None
    revoked_now = guest["revoked_at"] is None
    if revoked_now:
        guest = conn.execute(
            "UPDATE guests SET revoked_at = now() WHERE id = %s RETURNING id, name, created_at, revoked_at",
            (guest_id,),
        ).fetchone()
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE guest_id = %s AND revoked_at IS NULL", (guest_id,)
    )
    assert guest is not None
    view = {
        "id": str(guest["id"]),
        "name": guest["name"],
        "created_at": _iso(guest["created_at"]),
        "revoked_at": _iso(guest["revoked_at"]),
    }
    if revoked_now:
        tx.record("GuestRevoked", revoked_event(guest["id"], "admin"))
    return view


def guest_is_active(conn: Connection[Any], guest_id: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM guests WHERE id = %s AND revoked_at IS NULL", (guest_id,)
    ).fetchone() is not None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
