/**
 * The live menu: `/menu/updates` says "the menu changed" (docs/realtime.md); the view
 * refetches the public menu, which stays the single truth. Messages carry no menu data
 * on purpose (the channel is public), so every message means the same thing: refetch.
 *
 * A burst of changes (the host toggling five ingredients) becomes one refetch: the first
 * message starts a short timer and the ones that arrive before it fires ride along.
 * That bounds the delay (never more than `delayMs` after the first change) where a
 * plain debounce could be put off for as long as the burst lasts.
 */

import type { EventHandler, Timers } from "./realtime";
import type { BarStatus } from "./types";

export const MENU_CHANNEL = "/menu/updates";
export const BAR_CHANGED = "bar_changed";

/**
 * `{"type": "bar_changed", "is_open", "message"}`: the host opened or closed the bar.
 * The one message on the channel that carries its state (what GET /bar shows anyone);
 * it does not mean "refetch the menu".
 */
export function barFromMessage(event: unknown): BarStatus | null {
  if (!event || typeof event !== "object") return null;
  const e = event as Record<string, unknown>;
  if (e.type !== BAR_CHANGED || typeof e.is_open !== "boolean") return null;
  return { is_open: e.is_open, message: typeof e.message === "string" ? e.message : "" };
}
export const MENU_REFETCH_DELAY_MS = 300;

export interface MenuFollowerDeps {
  /** Subscribe to a channel; returns the unsubscribe. */
  subscribe: (channel: string, handler: EventHandler) => () => void;
  /** Fetch the menu again (the view's own loader). */
  refetch: () => unknown;
  delayMs?: number;
  timers?: Timers;
}

export class MenuFollower {
  private unsubscribe: (() => void) | null = null;
  private timer: unknown = null;
  private subscribedBefore = false;
  private readonly timers: Timers;
  /** How many refetches this follower asked for (for tests and the curious). */
  refetches = 0;

  constructor(private readonly deps: MenuFollowerDeps) {
    this.timers = deps.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.deps.subscribe(MENU_CHANNEL, (event) => {
      if (!barFromMessage(event)) this.changed(); // the bar's state is the store's (followBar)
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** A message on the channel: refetch soon (once for the whole burst). */
  changed(): void {
    if (!this.unsubscribe || this.timer !== null) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.refetches += 1;
      void this.deps.refetch();
    }, this.deps.delayMs ?? MENU_REFETCH_DELAY_MS);
  }

  /**
   * The subscription is live. The first time, the view has just loaded the menu; after
   * a reconnect, changes may have been missed meanwhile, so catch up.
   */
  subscribed(): void {
    if (this.subscribedBefore) this.changed();
    this.subscribedBefore = true;
  }
}
