/**
 * The live order list both the host's board (board.ts) and the guest's "My orders"
 * (orderTracker.ts) are made of: the initial fetch, one fetch at a time, events applied
 * by event_id (a duplicate is dropped) and by updated_at (an older state never
 * overwrites a newer one), a refetch whenever the subscription is confirmed again
 * (after a reconnect, events may have been missed) and on wake(), and a poll while
 * realtime is not live. Subclasses decide what a list keeps (setOrders) and what an
 * event about an unknown order means.
 */
import { ref, shallowRef } from "vue";
import type { RealtimeClient } from "./realtime";
import type { Order } from "./types";

/**
 * The order inside an event, whatever envelope it came in. The API's events carry the
 * whole order under `order` (docs/realtime.md); a bare {order_id, status} also works.
 */
export function orderFromEvent(event: unknown): (Partial<Order> & { id: string; status: Order["status"] }) | null {
  const candidates: Record<string, unknown>[] = [];
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== "object" || Array.isArray(value) || depth > 3) return;
    const v = value as Record<string, unknown>;
    candidates.push(v);
    for (const key of ["order", "data", "detail"]) visit(v[key], depth + 1);
  };
  visit(event, 0);
  const full = candidates.find((v) => typeof v.id === "string" && typeof v.status === "string");
  if (full) return full as never;
  const bare = candidates.find((v) => typeof v.order_id === "string" && typeof v.status === "string");
  if (!bare) return null;
  const change: Record<string, unknown> = { id: bare.order_id, status: bare.status };
  if (typeof bare.number === "number") change.number = bare.number;
  return change as never;
}

/** An event may arrive twice or late: never let an older state overwrite a newer one. */
export function isNewer(change: Partial<Order>, known: Order): boolean {
  return !change.updated_at || !known.updated_at || change.updated_at >= known.updated_at;
}

export function eventId(event: unknown): string | null {
  const v = event as Record<string, unknown> | null;
  return v && typeof v === "object" && typeof v.event_id === "string" ? v.event_id : null;
}

/** What a live order list needs: realtime when it has it, a timer for the fallback poll. */
export interface LiveFeedDeps {
  realtime?: RealtimeClient | null;
  pollMs?: number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

/**
 * Subscribe to `channel` and, while realtime is not live, poll with `refresh` every
 * `pollMs` (default `defaultPollMs`). Returns the function that stops both.
 */
export function startLiveFeed(
  deps: LiveFeedDeps,
  channel: string | undefined,
  onEvent: (event: unknown) => void,
  refresh: () => void,
  defaultPollMs: number,
  /** Called on the ticks when realtime is live (and `refresh` is not). */
  whileLive?: () => void,
  /** Called each time the subscription is confirmed (first time and after reconnects). */
  onLive?: () => void,
): () => void {
  const { realtime } = deps;
  let unsubscribe: (() => void) | null = null;
  if (realtime && channel) {
    unsubscribe = realtime.subscribe(channel, onEvent, onLive);
    realtime.start();
  }
  const every = deps.setInterval ?? ((fn, ms) => globalThis.setInterval(fn, ms));
  const poller = every(() => {
    if (!deps.realtime?.live) refresh();
    else whileLive?.();
  }, deps.pollMs ?? defaultPollMs);
  return () => {
    unsubscribe?.();
    const clear = deps.clearInterval ?? ((h) => globalThis.clearInterval(h as ReturnType<typeof setInterval>));
    clear(poller);
  };
}

export interface LiveListDeps extends LiveFeedDeps {
  fetchOrders: () => Promise<Order[]>;
}

export abstract class LiveOrderList<D extends LiveListDeps = LiveListDeps> {
  readonly orders = shallowRef<Order[]>([]);
  readonly loaded = ref(false);
  readonly error = ref("");
  private stopFeed: (() => void) | null = null;
  private fetching: Promise<void> | null = null;
  private seenEvents = new Set<string>();

  constructor(
    protected readonly deps: D,
    private readonly feed: { channel?: string; pollMs: number },
  ) {}

  /** Keep these orders (sorted, filtered, with whatever the list does about new ones). */
  abstract setOrders(orders: Order[]): void;

  /** An event about an order not in the list: fetch (a subclass may add a whole order). */
  protected unknownOrder(_change: Partial<Order> & { id: string }): void {
    void this.refresh();
  }

  /** An event that is not about one order (a revocation): true when handled. */
  protected special(_event: unknown): boolean {
    return false;
  }

  /** After an event changed a known order. */
  protected changed(): void {}

  /** A tick of the poll while realtime is live. */
  protected whileLive(): void {}

  /** After a successful fetch. */
  protected fetched(): void {}

  start(): void {
    void this.refresh();
    this.stopFeed = startLiveFeed(
      this.deps,
      this.feed.channel,
      (event) => this.onEvent(event),
      () => void this.refresh(),
      this.feed.pollMs,
      () => this.whileLive(),
      () => void this.refresh(), // confirmed again after a reconnect: catch up
    );
  }

  stop(): void {
    this.stopFeed?.();
    this.stopFeed = null;
  }

  /** Back in view or back online: reconnect now and fetch the state. */
  wake(): Promise<void> {
    this.deps.realtime?.nudge();
    return this.refresh();
  }

  /** Fetch the list (one fetch at a time: a call during a fetch shares it). */
  refresh(): Promise<void> {
    this.fetching ??= this.deps
      .fetchOrders()
      .then((orders) => {
        this.error.value = "";
        this.setOrders(orders);
        this.fetched();
      })
      .catch((error: unknown) => {
        this.error.value = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        this.loaded.value = true;
        this.fetching = null;
      });
    return this.fetching;
  }

  /** A realtime event: apply the order it carries; fetch when it carries none. */
  onEvent(event: unknown): void {
    const id = eventId(event);
    if (id) {
      if (this.seenEvents.has(id)) return; // delivered twice
      this.seenEvents.add(id);
      if (this.seenEvents.size > 500) this.seenEvents = new Set([...this.seenEvents].slice(-250));
    }
    if (this.special(event)) return;
    const change = orderFromEvent(event);
    if (!change) {
      void this.refresh();
      return;
    }
    const known = this.orders.value.find((o) => o.id === change.id);
    if (!known) {
      this.unknownOrder(change);
      return;
    }
    if (!isNewer(change, known)) return;
    this.setOrders(this.orders.value.map((o) => (o.id === change.id ? { ...o, ...change } : o)));
    this.changed();
  }
}
