-- The bartender guests chat with (chalicelib/bartender.py, chalicelib/conversations.py):
-- conversations and their messages, per guest, and the host's switch and nightly budget.
-- No foreign keys (DSQL has none): chalicelib/conversations.py keeps the references.
-- A message's drink ids and proposal are read whole and never searched: JSON text.
-- Messages are keyed by a UUID and ordered by time, so two turns of one conversation
-- never compete for a sequence number.

CREATE TABLE IF NOT EXISTS bartender_conversations (
    id UUID PRIMARY KEY,
    guest_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
GRANT SELECT ON bartender_conversations TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON bartender_conversations TO da_writer;

CREATE TABLE IF NOT EXISTS bartender_messages (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL,
    guest_id UUID NOT NULL,
    -- 0: the guest's message, 1: the bartender's reply (one turn is written at once).
    position SMALLINT NOT NULL CHECK (position IN (0, 1)),
    role TEXT NOT NULL CHECK (role IN ('guest', 'bartender')),
    text TEXT NOT NULL,
    drinks_json TEXT NOT NULL DEFAULT '[]',
    proposal_json TEXT,
    engine TEXT NOT NULL DEFAULT '',
    tokens INTEGER NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON bartender_messages TO da_reader;
GRANT SELECT, INSERT, DELETE ON bartender_messages TO da_writer;

CREATE INDEX ASYNC IF NOT EXISTS bartender_messages_conversation_idx
    ON bartender_messages (conversation_id, created_at);

-- The rate limit counts a guest's recent messages; the budget sums tonight's tokens.
CREATE INDEX ASYNC IF NOT EXISTS bartender_messages_guest_idx ON bartender_messages (guest_id, created_at);

CREATE TABLE IF NOT EXISTS bartender_settings (
    id TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Model tokens per 12 hours across all guests; past it the offline engine answers.
    nightly_token_budget INTEGER NOT NULL DEFAULT 200000 CHECK (nightly_token_budget >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON bartender_settings TO da_reader;
GRANT SELECT, INSERT, UPDATE ON bartender_settings TO da_writer;

INSERT INTO bartender_settings (id) VALUES ('bar') ON CONFLICT (id) DO NOTHING;
