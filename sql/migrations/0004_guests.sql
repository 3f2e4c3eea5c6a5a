-- Guests: invite codes, the guests who redeemed them, and their refresh tokens.
-- No foreign keys (DSQL has none): chalicelib/guests.py keeps the references.
--
-- registration_codes keeps the code itself as its key, not a hash: the host must be
-- able to list active codes and show (print, project) their QR code again, which a
-- hash cannot give back. A code only admits a guest for at most 168 hours and
-- max_uses times, and whoever can read this table can already read every guest.
-- Refresh tokens, which are long-lived bearer secrets, are stored only as SHA-256.

CREATE TABLE IF NOT EXISTS registration_codes (
    code TEXT PRIMARY KEY,
    note TEXT NOT NULL DEFAULT '',
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (uses >= 0 AND uses <= max_uses)
);
GRANT SELECT ON registration_codes TO da_reader;
GRANT SELECT, INSERT, UPDATE ON registration_codes TO da_writer;

CREATE TABLE IF NOT EXISTS guests (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
GRANT SELECT ON guests TO da_reader;
GRANT SELECT, INSERT, UPDATE ON guests TO da_writer;

-- Which guests a code admitted (the admin list shows them, revoking could too).
CREATE INDEX ASYNC IF NOT EXISTS guests_code_idx ON guests (code);

CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id UUID NOT NULL,
    guest_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
GRANT SELECT ON refresh_tokens TO da_reader;
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO da_writer;

-- Reuse of a rotated token revokes its whole family in one statement.
CREATE INDEX ASYNC IF NOT EXISTS refresh_tokens_family_idx ON refresh_tokens (family_id);
-- Revoking a guest revokes all of their sessions.
CREATE INDEX ASYNC IF NOT EXISTS refresh_tokens_guest_idx ON refresh_tokens (guest_id);
