/**
 * The order board (admin console and bar display): every order in play, live.
 * Fetched from GET /admin/orders, then kept current by events on /orders/admin, with a
 * poll whenever realtime is not live (the shared part is liveOrders.ts). Pure helpers (grouping, next moves, ages) are
 * exported for tests and for the views.
 */
import { eventId, isNewer, type LiveListDeps, LiveOrderList } from "./liveOrders";
import type { Order, OrderStatus } from "./types";

export const ADMIN_CHANNEL = "/orders/admin";
export const BOARD_POLL_MS = 10_000;

export type Column = "pending" | "in_progress" | "ready";
export const COLUMNS: { status: Column; title: string }[] = [
  { status: "pending", title: "Pending" },
  { status: "in_progress", title: "In progress" },
  { status: "ready", title: "Ready" },
];

/** The one-tap move from each column, and its button label. */
export const NEXT: Record<Column, { status: OrderStatus; label: string }> = {
  pending: { status: "in_progress", label: "Start" },
  in_progress: { status: "ready", label: "Ready" },
  ready: { status: "completed", label: "Picked up" },
};

export function isActive(status: OrderStatus): status is Column {
  return status === "pending" || status === "in_progress" || status === "ready";
}

/** Columns of orders, oldest first in each (the order they are made in). */
export function groupOrders(orders: Order[]): Record<Column, Order[]> {
  const groups: Record<Column, Order[]> = { pending: [], in_progress: [], ready: [] };
  for (const order of orders) if (isActive(order.status)) groups[order.status].push(order);
  for (const list of Object.values(groups)) {
    list.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.number - b.number);
  }
  return groups;
}

/** "< 1 min", "19 min", "1 h 5 min", "2 h": how long an order has waited (never a clock
 * time: "19:28" on a board reads as a time of day). */
export function formatAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "< 1 min";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (!h) return `${m} min`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** Spoken form for screen readers: "3 minutes", "1 hour 5 minutes", "under a minute". */
export function spokenAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "under a minute";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const part = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  return h ? (m ? `${part(h, "hour")} ${part(m, "minute")}` : part(h, "hour")) : part(m, "minute");
}

/** How urgent an age looks: fine, getting long, too long (colours on the board). */
export function ageLevel(ms: number, warnMs = 5 * 60_000, lateMs = 10 * 60_000): "ok" | "warn" | "late" {
  return ms >= lateMs ? "late" : ms >= warnMs ? "warn" : "ok";
}

export function ageOf(order: Pick<Order, "created_at">, now: number): number {
  const created = Date.parse(order.created_at);
  return Number.isFinite(created) ? now - created : 0;
}

/** "2× Margarita, Mojito". */
export function itemsSummary(order: Pick<Order, "items">): string {
  return order.items.map((i) => (i.quantity > 1 ? `${i.quantity}× ${i.name}` : i.name)).join(", ");
}

export { eventId };

export interface BoardDeps extends LiveListDeps {
  /** An order the board had not seen before arrived (not on the first load). */
  onNewOrder?: (order: Order) => void;
}

export class OrderBoard extends LiveOrderList<BoardDeps> {
  private known = new Set<string>();
  /** After the first fetch: orders seen from then on are new (a toast, a beep). */
  private primed = false;

  constructor(deps: BoardDeps) {
    super(deps, { channel: ADMIN_CHANNEL, pollMs: BOARD_POLL_MS });
  }

  protected override fetched(): void {
    this.primed = true;
  }

  /** A whole order we have not seen (OrderPlaced): add it; a bare change: fetch. */
  protected override unknownOrder(change: Partial<Order> & { id: string }): void {
    if (Array.isArray(change.items) && typeof change.created_at === "string") {
      this.setOrders([...this.orders.value, change as Order]);
    } else {
      void this.refresh();
    }
  }

  /** The answer of a move (PUT /admin/orders/{id}): apply at once, before its event. */
  apply(order: Order): void {
    const known = this.orders.value.find((o) => o.id === order.id);
    if (known && !isNewer(order, known)) return;
    this.setOrders(known ? this.orders.value.map((o) => (o.id === order.id ? order : o)) : [...this.orders.value, order]);
  }

  setOrders(orders: Order[]): void {
    const active = orders.filter((o) => isActive(o.status));
    for (const order of active) {
      if (this.known.has(order.id)) continue;
      this.known.add(order.id);
      if (this.primed && order.status === "pending") this.deps.onNewOrder?.(order);
    }
    this.orders.value = active;
  }
}
