/** Placing orders: friendly refusals, idempotency keys, status words. */
import { ApiError, NETWORK_ERROR } from "./api";
import type { KeyValueStore } from "./session";
import type { Order, OrderItemRequest, OrderStatus } from "./types";

export interface FriendlyError {
  title: string;
  detail: string;
  /** Worth trying the very same order again (same Idempotency-Key). */
  retry: boolean;
}

/** What a guest reads when an order is refused (the four 409s of the contract, and the rest). */
export function orderErrorMessage(error: unknown): FriendlyError {
  if (!(error instanceof ApiError)) {
    return { title: "Something went wrong", detail: "Please try again.", retry: true };
  }
  switch (error.code) {
    case "BarClosed":
      return {
        title: "The bar is closed right now",
        detail:
          error.message && error.message !== "the bar is closed"
            ? `The host says: “${error.message}”`
            : "Orders open again when the host opens the bar.",
        retry: false,
      };
    case "QueueFull":
      return {
        title: "The bar is swamped",
        detail: "There are a lot of drinks in the queue. Give it a few minutes and try again.",
        retry: true,
      };
    case "TooManyActiveOrders":
      return {
        title: "You have drinks on the way",
        detail: "Pick up what you ordered first; you can order again once a drink is ready.",
        retry: false,
      };
    case "DrinkUnavailable":
      return {
        title: "That one just ran out",
        detail: unavailableDetail(error.message),
        retry: false,
      };
    case NETWORK_ERROR:
      return { title: "No connection", detail: "Your order was not sent yet. Check your network and try again.", retry: true };
    case "SignedOut":
    case "UnauthorizedError":
      return { title: "Please join again", detail: "Scan the bar's QR code to order.", retry: false };
    default:
      if (error.status >= 500 || error.status === 429) {
        return { title: "The bar's system is busy", detail: "Please try again in a moment.", retry: true };
      }
      return { title: "We could not place that order", detail: error.message, retry: false };
  }
}

function unavailableDetail(message: string): string {
  const match = /^(.+) is not available right now$/.exec(message);
  return match
    ? `Sorry, ${match[1]} is not available right now. Try something else from the menu.`
    : "A drink in your order is no longer on the menu. Please pick something else.";
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * An order being sent: the key belongs to the order the guest meant, so a retry after a
 * lost answer sends the same key (the bar makes the drink once); any change makes a new one.
 */
export class OrderAttempt {
  private key: string | null = null;
  private fingerprint = "";

  keyFor(items: OrderItemRequest[], notes = ""): string {
    const print = JSON.stringify([items, notes]);
    if (!this.key || print !== this.fingerprint) {
      this.key = newIdempotencyKey();
      this.fingerprint = print;
    }
    return this.key;
  }

  /** After a definite answer (placed, or refused for good) the next send is a new order. */
  settle(): void {
    this.key = null;
    this.fingerprint = "";
  }
}

export const STATUS_LABEL: Record<OrderStatus, string> = {
  pending: "Received",
  in_progress: "Being made",
  ready: "Ready!",
  completed: "Picked up",
  cancelled: "Cancelled",
};

export const ACTIVE_STATUSES: OrderStatus[] = ["pending", "in_progress", "ready"];

export function isActive(status: OrderStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Steps of the progress bar: received -> being made -> ready. */
export function progressStep(status: OrderStatus): number {
  return { pending: 1, in_progress: 2, ready: 3, completed: 3, cancelled: 0 }[status];
}

// ---------------------------------------------------------------- the guest's order card (issue 15)

/** The host's reason for a cancelled order (from its status history), or "". */
export function cancelReason(order: Order): string {
  if (order.status !== "cancelled") return "";
  const change = [...(order.history ?? [])].reverse().find((h) => h.status === "cancelled");
  const reason = change?.reason.trim() ?? "";
  return reason === "cancelled by the guest" ? "" : reason; // the guest's own cancel needs no reason
}

/** "Next up · about 3 min", "3rd in the queue · about 9 min", or "" when not waiting. */
export function queueText(order: Order): string {
  const place = order.queue_position;
  if (!place || (order.status !== "pending" && order.status !== "in_progress")) return "";
  const where = place === 1 ? "Next up" : `${ordinal(place)} in the queue`;
  const wait = order.estimated_wait_s;
  if (wait === null || wait === undefined) return where;
  const minutes = Math.max(1, Math.round(wait / 60));
  return `${where} · about ${minutes} min`;
}

export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** An earlier order's items as a new order's request (same drinks, quantities and notes). */
export function reorderItems(order: Order): OrderItemRequest[] {
  return order.items.map(({ drink_id, quantity, notes }) => ({ drink_id, quantity, notes }));
}

/** What is being typed on a drink page (quantity, note), kept per drink for this tab. */
export interface DrinkDraft {
  quantity: number;
  notes: string;
}

export const DRAFT_PREFIX = "da.draft.";

export function readDraft(store: KeyValueStore | null | undefined, drinkId: string): DrinkDraft | null {
  try {
    const value: unknown = JSON.parse(store?.getItem(DRAFT_PREFIX + drinkId) ?? "null");
    if (!value || typeof value !== "object") return null;
    const { quantity, notes } = value as Record<string, unknown>;
    const q = typeof quantity === "number" && Number.isInteger(quantity) ? Math.min(5, Math.max(1, quantity)) : 1;
    return { quantity: q, notes: typeof notes === "string" ? notes.slice(0, 200) : "" };
  } catch {
    return null;
  }
}

export function writeDraft(store: KeyValueStore | null | undefined, drinkId: string, draft: DrinkDraft | null): void {
  try {
    if (!draft || (draft.quantity === 1 && !draft.notes)) store?.removeItem(DRAFT_PREFIX + drinkId);
    else store?.setItem(DRAFT_PREFIX + drinkId, JSON.stringify(draft));
  } catch {
    // storage disabled or full: the draft lives for this page only
  }
}
