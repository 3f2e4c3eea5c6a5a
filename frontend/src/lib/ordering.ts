/** Placing orders: friendly refusals, idempotency keys, status words. */
import { ApiError, NETWORK_ERROR } from "./api";
import type { OrderItemRequest, OrderStatus } from "./types";

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
