-- Placement asks, every time, whether any queued order holds no queue slot within
-- max_queue (a slot beyond it after the host lowered max_queue, or none: placed before
-- 0007). Normally none does; this index answers from two short ranges of the queued
-- statuses (queue_slot IS NULL, queue_slot > max_queue) instead of a scan of orders.
CREATE INDEX ASYNC IF NOT EXISTS orders_status_slot_idx ON orders (status, queue_slot);
