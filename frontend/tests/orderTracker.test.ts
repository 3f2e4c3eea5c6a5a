import { describe, expect, it } from "vitest";
import { OrderTracker, orderFromEvent, SEEN_READY_KEY } from "../src/lib/orderTracker";
import type { Order } from "../src/lib/types";
import { flush, MemoryStore } from "./helpers";

const order = (id: string, status: Order["status"], updated = "2025-01-01T20:00:00Z"): Order => ({
  id,
  number: Number(id.slice(1)),
  status,
  items: [{ drink_id: "d", name: "Margarita", quantity: 1, notes: "" }],
  notes: "",
  created_at: `2025-01-01T19:0${id.slice(1)}:00Z`,
  updated_at: updated,
});

function tracker(server: Order[], store = new MemoryStore(), live = false) {
  let intervalFn: () => void = () => {};
  const vibrations: number[][] = [];
  let fetches = 0;
  const t = new OrderTracker({
    fetchOrders: async () => {
      fetches += 1;
      return server.map((o) => ({ ...o }));
    },
    realtime: { live, subscribe: () => () => {}, start: () => {} } as never,
    channel: "/orders/guest/g",
    store,
    setInterval: (fn) => {
      intervalFn = fn;
      return 1;
    },
    clearInterval: () => {},
    vibrate: (p) => vibrations.push(p),
  });
  return { t, tick: () => intervalFn(), vibrations, fetches: () => fetches };
}

describe("orderFromEvent", () => {
  it("prefers the full order inside the API's event", () => {
    const inner = order("o1", "ready");
    expect(orderFromEvent({ type: "OrderStatusChanged", order_id: "o1", status: "ready", order: inner })).toEqual(inner);
  });
  it("accepts a bare change and ignores noise", () => {
    expect(orderFromEvent({ order_id: "o1", status: "in_progress", number: 4 })).toEqual({
      id: "o1",
      status: "in_progress",
      number: 4,
    });
    expect(orderFromEvent("hello")).toBeNull();
    expect(orderFromEvent({ type: "MenuChanged" })).toBeNull();
  });
});

describe("OrderTracker", () => {
  it("polls while realtime is not live, and not while it is", async () => {
    const offline = tracker([order("o1", "pending")]);
    offline.t.start();
    await flush();
    offline.tick();
    await flush();
    expect(offline.fetches()).toBe(2);
    const online = tracker([order("o1", "pending")], new MemoryStore(), true);
    online.t.start();
    await flush();
    online.tick();
    await flush();
    expect(online.fetches()).toBe(1);
  });

  it("applies events, newest first wins, unknown orders trigger a fetch", async () => {
    const { t, fetches } = tracker([order("o1", "pending")]);
    t.start();
    await flush();
    t.onEvent({ order_id: "o1", status: "in_progress", order: order("o1", "in_progress", "2025-01-01T20:01:00Z") });
    expect(t.orders.value[0].status).toBe("in_progress");
    t.onEvent({ order: order("o1", "pending", "2025-01-01T20:00:00Z") }); // late duplicate of an older state
    expect(t.orders.value[0].status).toBe("in_progress");
    t.onEvent({ order_id: "o9", status: "pending" });
    await flush();
    expect(fetches()).toBe(2);
  });

  it("shows the ready moment once, vibrates, and remembers it across reloads", async () => {
    const store = new MemoryStore();
    const first = tracker([order("o1", "in_progress")], store);
    first.t.start();
    await flush();
    expect(first.t.readyMoment.value).toBeNull();
    first.t.onEvent({ order: order("o1", "ready", "2025-01-01T20:05:00Z") });
    expect(first.t.readyMoment.value?.id).toBe("o1");
    expect(first.vibrations).toHaveLength(1);
    first.t.acknowledge();
    expect(first.t.readyMoment.value).toBeNull();
    expect(JSON.parse(store.getItem(SEEN_READY_KEY)!)).toEqual(["o1"]);

    const reloaded = tracker([order("o1", "ready"), order("o2", "ready")], store);
    reloaded.t.start();
    await flush();
    expect(reloaded.t.readyMoment.value?.id).toBe("o2"); // not seen yet: restored after a reload
    reloaded.t.acknowledge();
    expect(reloaded.t.readyMoment.value).toBeNull();
  });
});
