/** Issue 15, the guest's side: the bar's live state, filters in the URL, drafts, the
 * queue place, the cancel reason, order again, favourites' filter, the ready moment. */
import { describe, expect, it } from "vitest";
import { READY_FAVICON, readyTitle, setSoundMuted, soundMuted, SOUND_MUTED_KEY, TabAttention } from "../src/lib/beep";
import { filterDrinks, filtersFromQuery, filtersToQuery } from "../src/lib/filters";
import { barFromMessage, MenuFollower } from "../src/lib/menuLive";
import { cancelReason, queueText, readDraft, reorderItems, writeDraft, DRAFT_PREFIX } from "../src/lib/ordering";
import { OrderTracker, QUEUE_POLL_MS, POLL_MS } from "../src/lib/orderTracker";
import type { Drink, Order } from "../src/lib/types";
import { flush, ManualTimers, MemoryStore } from "./helpers";

const order = (fields: Partial<Order> = {}): Order => ({
  id: "o1",
  number: 12,
  status: "pending",
  items: [
    { drink_id: "d1", name: "Margarita", quantity: 2, notes: "no salt" },
    { drink_id: "d2", name: "Mojito", quantity: 1, notes: "" },
  ],
  notes: "by the window",
  created_at: "2025-01-01T20:00:00Z",
  updated_at: "2025-01-01T20:00:00Z",
  ...fields,
});

describe("the bar's state on the menu channel", () => {
  it("reads bar_changed and nothing else", () => {
    expect(barFromMessage({ type: "bar_changed", is_open: false, message: "Back at 10" })).toEqual({
      is_open: false,
      message: "Back at 10",
    });
    expect(barFromMessage({ type: "bar_changed", is_open: true })).toEqual({ is_open: true, message: "" });
    expect(barFromMessage({ type: "menu_changed", reason: "MenuChanged" })).toBeNull();
    expect(barFromMessage({ type: "bar_changed", is_open: "no" })).toBeNull();
    expect(barFromMessage("bar_changed")).toBeNull();
  });

  it("a bar message does not refetch the menu; a menu message does", () => {
    const timers = new ManualTimers();
    let handler: (event: unknown) => void = () => {};
    let refetches = 0;
    const follower = new MenuFollower({
      subscribe: (_channel, fn) => {
        handler = fn;
        return () => {};
      },
      refetch: () => (refetches += 1),
      timers,
    });
    follower.start();
    handler({ type: "bar_changed", is_open: false, message: "" });
    timers.advance(10_000);
    expect(refetches).toBe(0);
    handler({ type: "menu_changed", reason: "DrinkUpdated" });
    timers.advance(10_000);
    expect(refetches).toBe(1);
  });
});

describe("the menu's filters in the URL", () => {
  it("round-trips and ignores junk", () => {
    const filters = { query: "sour", ingredients: ["Gin", "Lime"], availableOnly: true, favouritesOnly: true };
    const query = filtersToQuery(filters);
    expect(query).toEqual({ q: "sour", ing: ["Gin", "Lime"], available: "1", fav: "1" });
    expect(filtersFromQuery(query)).toEqual(filters);
    expect(filtersToQuery(filtersFromQuery({}))).toEqual({});
    expect(filtersFromQuery({ ing: "Gin", available: "yes", q: ["a", "b"] })).toEqual({
      query: "a",
      ingredients: ["Gin"],
      availableOnly: false,
      favouritesOnly: false,
    });
    expect(filtersFromQuery({ ing: ["Gin", "Gin", null, ""] }).ingredients).toEqual(["Gin"]);
  });

  it("the favourites filter keeps only the hearted drinks", () => {
    const drinks = [
      { id: "a", name: "A", available: true, ingredients: [], tags: [], description: "", glass: "" },
      { id: "b", name: "B", available: true, ingredients: [], tags: [], description: "", glass: "" },
    ] as unknown as Drink[];
    const base = { query: "", ingredients: [], availableOnly: false };
    expect(filterDrinks(drinks, { ...base, favourites: ["b"] }).map((d) => d.id)).toEqual(["b"]);
    expect(filterDrinks(drinks, { ...base, favourites: [] })).toEqual([]);
    expect(filterDrinks(drinks, base)).toHaveLength(2);
  });
});

describe("the drink page's draft", () => {
  it("is kept per drink, clamped, and dropped when back to the defaults", () => {
    const store = new MemoryStore();
    writeDraft(store, "d1", { quantity: 3, notes: "no ice" });
    expect(readDraft(store, "d1")).toEqual({ quantity: 3, notes: "no ice" });
    expect(readDraft(store, "d2")).toBeNull();
    store.setItem(DRAFT_PREFIX + "d3", JSON.stringify({ quantity: 40, notes: 7 }));
    expect(readDraft(store, "d3")).toEqual({ quantity: 5, notes: "" });
    store.setItem(DRAFT_PREFIX + "d4", "{not json");
    expect(readDraft(store, "d4")).toBeNull();
    writeDraft(store, "d1", { quantity: 1, notes: "" });
    expect(store.getItem(DRAFT_PREFIX + "d1")).toBeNull();
    writeDraft(store, "d3", null);
    expect(store.getItem(DRAFT_PREFIX + "d3")).toBeNull();
  });
});

describe("the guest's order card", () => {
  it("shows the host's reason for a cancel, not the guest's own", () => {
    const history = (reason: string) => [
      { status: "pending" as const, at: "t0", reason: "" },
      { status: "cancelled" as const, at: "t1", reason },
    ];
    expect(cancelReason(order({ status: "cancelled", history: history("Out of limes, sorry") }))).toBe(
      "Out of limes, sorry",
    );
    expect(cancelReason(order({ status: "cancelled", history: history("cancelled by the guest") }))).toBe("");
    expect(cancelReason(order({ status: "pending", history: history("x") }))).toBe("");
    expect(cancelReason(order({ status: "cancelled" }))).toBe("");
  });

  it("says where the order is and about how long", () => {
    expect(queueText(order({ queue_position: 1, estimated_wait_s: 180 }))).toBe("Next up · about 3 min");
    expect(queueText(order({ queue_position: 3, estimated_wait_s: 500 }))).toBe("3rd in the queue · about 8 min");
    expect(queueText(order({ queue_position: 12, estimated_wait_s: 20 }))).toBe("12th in the queue · about 1 min");
    expect(queueText(order({ queue_position: 2, estimated_wait_s: null }))).toBe("2nd in the queue");
    expect(queueText(order({ status: "ready", queue_position: 1 }))).toBe("");
    expect(queueText(order())).toBe("");
  });

  it("order again asks for the same drinks, quantities and notes", () => {
    expect(reorderItems(order())).toEqual([
      { drink_id: "d1", quantity: 2, notes: "no salt" },
      { drink_id: "d2", quantity: 1, notes: "" },
    ]);
  });
});

describe("the ready moment when the phone is not in hand", () => {
  it("remembers the mute switch", () => {
    const store = new MemoryStore();
    expect(soundMuted(store)).toBe(false);
    setSoundMuted(true, store);
    expect(store.getItem(SOUND_MUTED_KEY)).toBe("1");
    expect(soundMuted(store)).toBe(true);
    setSoundMuted(false, store);
    expect(soundMuted(store)).toBe(false);
  });

  it("the tab's title and favicon say Ready and come back after", () => {
    const icon = { href: "/favicon.svg", getAttribute: () => icon.href, setAttribute: (_: string, v: string) => (icon.href = v) };
    const doc = { title: "The Bar", querySelector: () => icon };
    const attention = new TabAttention(doc);
    attention.show(12);
    expect(doc.title).toBe(readyTitle(12));
    expect(doc.title).toBe("Ready! #12");
    expect(icon.href).toBe(READY_FAVICON);
    attention.show(14); // a second one while the first shows: the original is still what comes back
    attention.clear();
    expect(doc.title).toBe("The Bar");
    expect(icon.href).toBe("/favicon.svg");
    expect(attention.showing).toBe(false);
  });

  it("the tracker announces the moment once (sound and title hook)", async () => {
    const ready: number[] = [];
    const t = new OrderTracker({
      fetchOrders: async () => [order({ status: "ready" })],
      realtime: null,
      setInterval: () => 1,
      clearInterval: () => {},
      onReady: (o) => ready.push(o.number),
    });
    t.start();
    await flush();
    expect(ready).toEqual([12]);
    t.setOrders(t.orders.value);
    expect(ready).toEqual([12]);
  });
});

describe("the queue place stays current", () => {
  function live(server: () => Order[]) {
    let tick: () => void = () => {};
    let fetches = 0;
    const t = new OrderTracker({
      fetchOrders: async () => {
        fetches += 1;
        return server();
      },
      realtime: { live: true, subscribe: () => () => {}, start: () => {} } as never,
      channel: "/orders/guest/g",
      setInterval: (fn) => {
        tick = fn;
        return 1;
      },
      clearInterval: () => {},
    });
    return { t, tick: () => tick(), fetches: () => fetches };
  }

  it("an event on a waiting order refetches (the places come with the list)", async () => {
    let position = 2;
    const feed = live(() => [order({ queue_position: position })]);
    feed.t.start();
    await flush();
    expect(feed.t.orders.value[0].queue_position).toBe(2);
    position = 1;
    feed.t.onEvent({ order: order({ status: "in_progress", updated_at: "2025-01-01T20:01:00Z" }) });
    await flush();
    expect(feed.fetches()).toBe(2);
    expect(feed.t.orders.value[0].queue_position).toBe(1);
  });

  it("while live and waiting, a refetch every QUEUE_POLL_MS; none when nothing waits", async () => {
    let status: Order["status"] = "pending";
    const feed = live(() => [order({ status })]);
    feed.t.start();
    await flush();
    const ticks = QUEUE_POLL_MS / POLL_MS;
    for (let i = 0; i < ticks; i++) feed.tick();
    await flush();
    expect(feed.fetches()).toBe(2);
    status = "ready";
    await feed.t.refresh();
    const before = feed.fetches();
    for (let i = 0; i < ticks * 2; i++) feed.tick();
    await flush();
    expect(feed.fetches()).toBe(before);
  });
});
