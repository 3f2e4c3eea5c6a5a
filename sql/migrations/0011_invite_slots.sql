-- Invite redemptions without a hot row: each redemption claims one numbered use of its
-- code (a "slot"), so guests joining at once with the same code insert different rows
-- instead of all updating registration_codes.uses. The primary key keeps max_uses
-- exact: two guests who pick the same slot conflict (40001 on DSQL at commit, and on
-- PostgreSQL at REPEATABLE READ), and the retry picks another free one.
--
-- registration_codes.uses still counts redemptions made before this migration; slots
-- are numbered after them (uses + 1 .. max_uses), and a code's uses are that column
-- plus its slot rows (chalicelib/guests.py).

CREATE TABLE IF NOT EXISTS registration_code_uses (
    code TEXT NOT NULL,
    slot INTEGER NOT NULL CHECK (slot >= 1),
    guest_id UUID NOT NULL,
    used_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (code, slot)
);
GRANT SELECT ON registration_code_uses TO da_reader;
GRANT SELECT, INSERT ON registration_code_uses TO da_writer;
