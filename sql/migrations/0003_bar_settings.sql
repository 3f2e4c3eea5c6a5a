-- One row of bar settings: open or closed, the guests' message, and order limits.
CREATE TABLE IF NOT EXISTS bar_settings (
    id TEXT PRIMARY KEY,
    is_open BOOLEAN NOT NULL DEFAULT TRUE,
    message TEXT NOT NULL DEFAULT '',
    max_queue INTEGER NOT NULL DEFAULT 30,
    max_active_per_guest INTEGER NOT NULL DEFAULT 3,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON bar_settings TO da_reader;
GRANT SELECT, INSERT, UPDATE ON bar_settings TO da_writer;

INSERT INTO bar_settings (id) VALUES ('bar') ON CONFLICT (id) DO NOTHING;
