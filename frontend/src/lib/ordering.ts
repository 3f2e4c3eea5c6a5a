/** Placing orders: friendly refusals, idempotency keys, status words. */
import { ApiError, NETWORK_ERROR } from "./api";
import { locale, t, type Locale } from "./i18n";
import type { MessageKey } from "./locales/en";
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
    return { title: t("orderError.generic"), detail: t("orderError.tryAgain"), retry: true };
  }
  switch (error.code) {
    case "BarClosed":
      return {
        title: t("orderError.closed"),
        detail:
          error.message && error.message !== "the bar is closed"
            ? t("orderError.hostSays", { message: error.message })
            : t("orderError.closedReopen"),
        retry: false,
      };
    case "QueueFull":
      return { title: t("orderError.queueFull"), detail: t("orderError.queueFullDetail"), retry: true };
    case "TooManyActiveOrders":
      return { title: t("orderError.tooMany"), detail: t("orderError.tooManyDetail"), retry: false };
    case "DrinkUnavailable":
      return { title: t("orderError.ranOut"), detail: unavailableDetail(error.message), retry: false };
    case NETWORK_ERROR:
      return { title: t("orderError.offline"), detail: t("orderError.offlineDetail"), retry: true };
    case "SignedOut":
    case "UnauthorizedError":
      return { title: t("orderError.joinAgain"), detail: t("orderError.joinAgainDetail"), retry: false };
    default:
      if (error.status >= 500 || error.status === 429) {
        return { title: t("orderError.busy"), detail: t("orderError.busyDetail"), retry: true };
      }
      return { title: t("orderError.refused"), detail: error.message, retry: false };
  }
}

function unavailableDetail(message: string): string {
  const match = /^(.+) is not available right now$/.exec(message);
  return match ? t("orderError.ranOutNamed", { name: match[1] }) : t("orderError.ranOutAny");
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

/** An order's status as the guest reads it, in the current language. */
export function statusLabel(status: OrderStatus): string {
  return t(`status.${status}` as MessageKey);
}

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

/** "Next up · about 3 min", "3rd in the queue · about 9 min" ("3:e i kön · cirka 9 min"), or "" when not waiting. */
export function queueText(order: Order): string {
  const place = order.queue_position;
  if (!place || (order.status !== "pending" && order.status !== "in_progress")) return "";
  const where = place === 1 ? t("queue.next") : t("queue.place", { place: ordinal(place, locale.value) });
  const wait = order.estimated_wait_s;
  if (wait === null || wait === undefined) return where;
  const minutes = Math.max(1, Math.round(wait / 60));
  return t("queue.wait", { where, n: minutes });
}

/** 1st, 2nd, 3rd, 11th; in Swedish 1:a, 2:a, 3:e, 11:e, 21:a. */
export function ordinal(n: number, language: Locale = "en"): string {
  const tens = n % 100;
  if (language === "sv") return `${n}:${(n % 10 === 1 || n % 10 === 2) && tens !== 11 && tens !== 12 ? "a" : "e"}`;
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
