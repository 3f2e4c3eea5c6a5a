-- Order placement without a global hot row (docs/orders.md, "How placement stays exact").
-- A placement claims rows nobody else's placement writes at the same time: one queue
-- slot (1..max_queue, the queue limit), one pickup number (1..999), and its own guest's
-- guard row (the per-guest limit). Two placements conflict only when they pick the same
-- free slot or number (rare: the pick starts at a random place) or come from one guest.
-- Whether a slot or number is free is read from the status of the order holding it, so
-- moving an order never has to touch these rows. Replaces the `order_counters` row
-- (kept, no longer written).

-- Which queue slot an order holds while pending or in progress (NULL for orders placed
-- before this migration: placement counts them and takes the careful path, see orders.py).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS queue_slot INTEGER;

-- Queue slots ('queue', 0..500) and pickup numbers ('pickup', 1..999), one row each.
-- A queue slot is held while its order is pending or in progress (the queue limit: a
-- placement needs a free slot in 1..max_queue); a pickup number while its order is
-- pending, in progress or ready, so two orders waiting at the same time never share one.
-- Queue slot 0 is never held: placements write it only while orders hold slots beyond
-- the current max_queue (the host lowered it), so the limit stays exact even then.
CREATE TABLE IF NOT EXISTS order_slots (
    kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    order_id UUID,
    PRIMARY KEY (kind, n)
);
GRANT SELECT ON order_slots TO da_reader;
GRANT SELECT, UPDATE ON order_slots TO da_writer;

-- One row per guest who ever ordered, written by each of their placements: two
-- placements by the same guest conflict here, so the per-guest limit is counted exactly.
CREATE TABLE IF NOT EXISTS order_guest_guards (
    guest_id UUID PRIMARY KEY,
    placed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON order_guest_guards TO da_reader;
GRANT SELECT, INSERT, UPDATE ON order_guest_guards TO da_writer;

-- 501 + 999 rows, each insert in its own transaction (well under DSQL's 3,000 rows).
INSERT INTO order_slots (kind, n) SELECT 'queue', n FROM generate_series(0, 500) AS n ON CONFLICT (kind, n) DO NOTHING;
INSERT INTO order_slots (kind, n) SELECT 'pickup', n FROM generate_series(1, 999) AS n ON CONFLICT (kind, n) DO NOTHING;

-- Orders already waiting keep their numbers.
UPDATE order_slots s SET order_id = o.id FROM orders o
WHERE s.kind = 'pickup' AND s.n = o.number AND o.status IN ('pending', 'in_progress', 'ready');
