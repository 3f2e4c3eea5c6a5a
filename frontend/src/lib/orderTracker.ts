/**
 * My orders, live: fetched once, then kept current by realtime events on
 * /orders/guest/{id}, with a poll of GET /orders every 10 s whenever realtime is not
 * live (not configured yet, reconnecting, refused). A reload starts from GET /orders,
 * so nothing lives only in memory; which 'ready' moments were seen is remembered.
 */
import { ref, shallowRef } from "vue";
import type { RealtimeClient } from "./realtime";
import type { KeyValueStore } from "./session";
import type { Order } from "./types";

export const SEEN_READY_KEY = "da.ready-seen";
export const POLL_MS = 10_000;
/**
 * While an order of mine waits, its place in the queue moves with other guests' orders,
 * whose events do not reach my channel: refetch this often even while live.
 */
export const QUEUE_POLL_MS = 30_000;

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
): () => void {
  const { realtime } = deps;
  let unsubscribe: (() => void) | null = null;
  if (realtime && channel) {
    unsubscribe = realtime.subscribe(channel, onEvent);
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

export interface TrackerDeps extends LiveFeedDeps {
  fetchOrders: () => Promise<Order[]>;
  channel?: string;
  store?: KeyValueStore | null;
  vibrate?: (pattern: number[]) => void;
  /** The host revoked this guest (or their session ended): sign out, which closes the socket. */
  onRevoked?: () => void;
  /** A ready moment begins (sound, tab title: see beep.ts). */
  onReady?: (order: Order) => void;
}

/**
 * `{"type": "revoked"}` on the guest's channel: the server ended this guest's session.
 * AppSync does not re-check an open subscription, so the client must act on it
 * (docs/realtime.md#revocation).
 */
export function isRevocation(event: unknown): boolean {
  return !!event && typeof event === "object" && (event as Record<string, unknown>).type === "revoked";
}

export class OrderTracker {
  readonly orders = shallowRef<Order[]>([]);
  readonly loaded = ref(false);
  readonly error = ref("");
  /** The order whose 'ready' moment is on screen. */
  readonly readyMoment = shallowRef<Order | null>(null);
  private seen: Set<string>;
  private stopFeed: (() => void) | null = null;
  private liveTicks = 0;
  private fetching: Promise<void> | null = null;

  constructor(private readonly deps: TrackerDeps) {
    this.seen = new Set(this.readSeen());
  }

  private readSeen(): string[] {
    try {
      const list: unknown = JSON.parse(this.deps.store?.getItem(SEEN_READY_KEY) ?? "[]");
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
    } catch {
      return [];
    }
  }

  start(): void {
    void this.refresh();
    this.stopFeed = startLiveFeed(
      this.deps,
      this.deps.channel,
      (event) => this.onEvent(event),
      () => void this.refresh(),
      POLL_MS,
      () => this.liveTick(),
    );
  }

  /** A tick of the feed's poll while realtime is live: now and then, refetch the queue. */
  private liveTick(): void {
    this.liveTicks += 1;
    const every = Math.max(1, Math.round(QUEUE_POLL_MS / (this.deps.pollMs ?? POLL_MS)));
    if (this.liveTicks % every === 0 && this.waiting()) void this.refresh();
  }

  stop(): void {
    this.stopFeed?.();
    this.stopFeed = null;
  }

  /** Some order of mine is still in the queue (pending or in progress). */
  waiting(): boolean {
    return this.orders.value.some((o) => o.status === "pending" || o.status === "in_progress");
  }

  /** Fetch my orders (one fetch at a time). */
  refresh(): Promise<void> {
    this.fetching ??= this.deps
      .fetchOrders()
      .then((orders) => {
        this.error.value = "";
        this.setOrders(orders);
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

  /** A realtime event: apply it if it carries the order, else fetch. */
  onEvent(event: unknown): void {
    if (isRevocation(event)) {
      this.stop(); // no more polling with tokens that no longer work
      this.deps.onRevoked?.();
      return;
    }
    const change = orderFromEvent(event);
    const known = change && this.orders.value.find((o) => o.id === change.id);
    if (!change || !known) {
      void this.refresh();
      return;
    }
    if (!isNewer(change, known)) return;
    this.setOrders(this.orders.value.map((o) => (o.id === change.id ? { ...o, ...change } : o)));
    // The event shows the new status at once; the fetch brings the queue places with it.
    if (this.waiting()) void this.refresh();
  }

  /** An order just placed: show it at once, before any event arrives. */
  add(order: Order): void {
    this.setOrders([order, ...this.orders.value.filter((o) => o.id !== order.id)]);
  }

  setOrders(orders: Order[]): void {
    const sorted = [...orders].sort((a, b) => b.created_at.localeCompare(a.created_at));
    this.orders.value = sorted;
    if (!this.readyMoment.value) {
      const ready = sorted.find((o) => o.status === "ready" && !this.seen.has(o.id));
      if (ready) {
        this.readyMoment.value = ready;
        try {
          this.deps.onReady?.(ready);
        } catch {
          // a sound or title that fails must not stop the moment
        }
        try {
          this.deps.vibrate?.([200, 100, 200, 100, 400]);
        } catch {
          // not supported, or not allowed without a tap first
        }
      }
    }
  }

  /** The guest saw it ("Got it"): never show this order's moment again. */
  acknowledge(): void {
    const order = this.readyMoment.value;
    if (!order) return;
    this.seen.add(order.id);
    try {
      this.deps.store?.setItem(SEEN_READY_KEY, JSON.stringify([...this.seen].slice(-50)));
    } catch {
      // storage full or disabled: it only means the moment may show again after a reload
    }
    this.readyMoment.value = null;
    this.setOrders(this.orders.value); // another order may be ready too
  }
}
