-- A placement claims its queue slot, its pickup number and its guest's row in one
-- statement (INSERT ... ON CONFLICT DO UPDATE into order_slots), so the guest's row
-- lives in order_slots too: kind 'guest:<guest id>', n 0, written by each of that
-- guest's placements (two placements of one guest conflict there: the per-guest limit).
-- order_guest_guards is kept, no longer written.
GRANT INSERT ON order_slots TO da_writer;
