-- Orders: what guests ask for, its line items (with a snapshot of the drink's name, so
-- archiving or renaming a drink never rewrites history), and every status change with
-- its time. No foreign keys (DSQL has none): chalicelib/orders.py keeps references
-- consistent, writing an order, its items and its first history row in one transaction.

CREATE TABLE IF NOT EXISTS orders (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The short number on the pickup board (1..999, wrapping); see order_counters.
    number INTEGER NOT NULL,
    guest_id UUID NOT NULL,
    guest_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    notes TEXT NOT NULL DEFAULT '',
    -- The client's Idempotency-Key (NULL when none was sent) and a fingerprint of the
    -- request, so a retry returns this order and a reused key with a different body is refused.
    idempotency_key TEXT,
    request_hash TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON orders TO da_reader;
GRANT SELECT, INSERT, UPDATE ON orders TO da_writer;

-- A guest's orders, newest first; and the guest's active orders for the per-guest limit.
CREATE INDEX ASYNC IF NOT EXISTS orders_guest_idx ON orders (guest_id, created_at);
-- The admin queue by status, oldest first; and the queue length for the bar's limit.
CREATE INDEX ASYNC IF NOT EXISTS orders_status_idx ON orders (status, created_at);
-- One order per (guest, Idempotency-Key), even for parallel retries: the database decides.
CREATE UNIQUE INDEX ASYNC IF NOT EXISTS orders_idempotency_idx ON orders (guest_id, idempotency_key);

CREATE TABLE IF NOT EXISTS order_items (
    order_id UUID NOT NULL,
    position INTEGER NOT NULL,
    drink_id UUID NOT NULL,
    drink_name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, position)
);
GRANT SELECT ON order_items TO da_reader;
GRANT SELECT, INSERT ON order_items TO da_writer;

CREATE TABLE IF NOT EXISTS order_status_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id UUID NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL DEFAULT '',
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON order_status_history TO da_reader;
GRANT SELECT, INSERT ON order_status_history TO da_writer;

CREATE INDEX ASYNC IF NOT EXISTS order_status_history_order_idx ON order_status_history (order_id, changed_at);

-- The pickup-number counter: one row, bumped in the same transaction as the order.
-- DSQL has no SERIAL and its sequences hand out numbers in cached blocks per session
-- (gaps, no wrap to short numbers); a row we update ourselves stays short (1..999) and
-- gapless, and two concurrent placements conflict on it (40001) and are retried.
CREATE TABLE IF NOT EXISTS order_counters (
    id TEXT PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0
);
GRANT SELECT ON order_counters TO da_reader;
GRANT SELECT, INSERT, UPDATE ON order_counters TO da_writer;

INSERT INTO order_counters (id, value) VALUES ('pickup', 0) ON CONFLICT (id) DO NOTHING;
