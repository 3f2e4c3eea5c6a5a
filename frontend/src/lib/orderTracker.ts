/**
 * My orders, live: fetched once, then kept current by realtime events on
 * /orders/guest/{id}, with a poll of GET /orders every 10 s whenever realtime is not
 * live (not configured yet, reconnecting, refused). A reload starts from GET /orders,
 * so nothing lives only in memory; which 'ready' moments were seen is remembered.
 */
import { shallowRef } from "vue";
import { type LiveListDeps, LiveOrderList } from "./liveOrders";
import type { KeyValueStore } from "./session";
import type { Order } from "./types";

export const SEEN_READY_KEY = "da.ready-seen";
export const POLL_MS = 10_000;
/**
 * While an order of mine waits, its place in the queue moves with other guests' orders,
 * whose events do not reach my channel: refetch this often even while live.
 */
export const QUEUE_POLL_MS = 30_000;

// The shared live-list part (liveOrders.ts), exported from here as before.
export { isNewer, type LiveFeedDeps, orderFromEvent, startLiveFeed } from "./liveOrders";

export interface TrackerDeps extends LiveListDeps {
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

export class OrderTracker extends LiveOrderList<TrackerDeps> {
  /** The order whose 'ready' moment is on screen. */
  readonly readyMoment = shallowRef<Order | null>(null);
  private seen: Set<string>;
  private liveTicks = 0;

  constructor(deps: TrackerDeps) {
    super(deps, { channel: deps.channel, pollMs: POLL_MS });
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

  /** A tick of the feed's poll while realtime is live: now and then, refetch the queue. */
  protected override whileLive(): void {
    this.liveTicks += 1;
    const every = Math.max(1, Math.round(QUEUE_POLL_MS / (this.deps.pollMs ?? POLL_MS)));
    if (this.liveTicks % every === 0 && this.waiting()) void this.refresh();
  }

  /** Some order of mine is still in the queue (pending or in progress). */
  waiting(): boolean {
    return this.orders.value.some((o) => o.status === "pending" || o.status === "in_progress");
  }

  protected override special(event: unknown): boolean {
    if (!isRevocation(event)) return false;
    this.stop(); // no more polling with tokens that no longer work
    this.deps.onRevoked?.();
    return true;
  }

  /** The event shows the new status at once; the fetch brings the queue places with it. */
  protected override changed(): void {
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
