import { describe, expect, it } from "vitest";
import { ageLevel, ageOf, formatAge, groupOrders, itemsSummary, NEXT, OrderBoard, spokenAge } from "../src/lib/board";
import type { Order } from "../src/lib/types";
import { flush } from "./helpers";

const order = (number: number, status: Order["status"], minute = number, updated = "2025-01-01T20:00:00Z"): Order => ({
  id: `o${number}`,
  number,
  status,
  guest_name: "Sam",
  items: [{ drink_id: "d", name: "Margarita", quantity: 1, notes: "" }],
  notes: "",
  created_at: `2025-01-01T19:${String(minute).padStart(2, "0")}:00Z`,
  updated_at: updated,
});

describe("grouping and moves", () => {
  it("puts orders in play into their column, oldest first, and drops finished ones", () => {
    const groups = groupOrders([
      order(3, "pending", 30),
      order(1, "pending", 10),
      order(2, "in_progress", 20),
      order(4, "ready", 40),
      order(5, "completed", 5),
      order(6, "cancelled", 6),
      order(7, "pending", 10),
    ]);
    expect(groups.pending.map((o) => o.number)).toEqual([1, 7, 3]);
    expect(groups.in_progress.map((o) => o.number)).toEqual([2]);
    expect(groups.ready.map((o) => o.number)).toEqual([4]);
  });

  it("has one next move per column", () => {
    expect(NEXT.pending.status).toBe("in_progress");
    expect(NEXT.in_progress.status).toBe("ready");
    expect(NEXT.ready.status).toBe("completed");
  });

  it("summarises the items", () => {
    const o = order(1, "pending");
    o.items = [
      { drink_id: "a", name: "Margarita", quantity: 2, notes: "" },
      { drink_id: "b", name: "Mojito", quantity: 1, notes: "" },
    ];
    expect(itemsSummary(o)).toBe("2× Margarita, Mojito");
  });
});

describe("ages", () => {
  it("formats a ticking timer", () => {
    expect(formatAge(0)).toBe("< 1 min");
    expect(formatAge(59_900)).toBe("< 1 min");
    expect(formatAge(60_000)).toBe("1 min");
    expect(formatAge(19 * 60_000 + 28_000)).toBe("19 min"); // not "19:28", a time of day
    expect(formatAge(65 * 60_000)).toBe("1 h 5 min");
    expect(formatAge(120 * 60_000 + 59_000)).toBe("2 h");
    expect(formatAge(-5_000)).toBe("< 1 min"); // a clock slightly behind the server's
  });

  it("says it in words for screen readers", () => {
    expect(spokenAge(30_000)).toBe("under a minute");
    expect(spokenAge(60_000)).toBe("1 minute");
    expect(spokenAge(3 * 60_000)).toBe("3 minutes");
    expect(spokenAge(65 * 60_000)).toBe("1 hour 5 minutes");
    expect(spokenAge(120 * 60_000)).toBe("2 hours");
  });

  it("colours long waits", () => {
    expect(ageLevel(4 * 60_000)).toBe("ok");
    expect(ageLevel(5 * 60_000)).toBe("warn");
    expect(ageLevel(10 * 60_000)).toBe("late");
  });

  it("measures from created_at", () => {
    expect(ageOf(order(1, "pending", 10), Date.parse("2025-01-01T19:12:30Z"))).toBe(150_000);
    expect(ageOf({ created_at: "nonsense" }, 5)).toBe(0);
  });
});

function board(server: Order[], live = false) {
  const fresh: Order[] = [];
  let tick: () => void = () => {};
  let fetches = 0;
  let handler: (event: unknown) => void = () => {};
  const b = new OrderBoard({
    fetchOrders: async () => {
      fetches += 1;
      return server.map((o) => ({ ...o }));
    },
    realtime: {
      live,
      subscribe: (_channel: string, fn: (event: unknown) => void) => {
        handler = fn;
        return () => {};
      },
      start: () => {},
    } as never,
    onNewOrder: (o) => fresh.push(o),
    setInterval: (fn) => {
      tick = fn;
      return 1;
    },
    clearInterval: () => {},
  });
  return { b, fresh, tick: () => tick(), fetches: () => fetches, send: (e: unknown) => handler(e) };
}

describe("the live board", () => {
  it("loads without announcing what was already there", async () => {
    const t = board([order(1, "pending"), order(2, "ready")]);
    t.b.start();
    await flush();
    expect(t.b.orders.value.map((o) => o.number)).toEqual([1, 2]);
    expect(t.fresh).toEqual([]);
  });

  it("adds a placed order from its event and announces it once", async () => {
    const t = board([]);
    t.b.start();
    await flush();
    const placed = order(9, "pending");
    const event = { type: "OrderPlaced", event_id: "e1", order_id: "o9", status: "pending", order: placed };
    t.send(event);
    t.send(event); // delivered twice
    expect(t.b.orders.value.map((o) => o.number)).toEqual([9]);
    expect(t.fresh.map((o) => o.number)).toEqual([9]);
    expect(t.fetches()).toBe(1);
  });

  it("moves an order on a status event, ignores an older one, and drops finished orders", async () => {
    const t = board([order(1, "pending")]);
    t.b.start();
    await flush();
    t.send({ event_id: "a", order: { ...order(1, "ready"), updated_at: "2025-01-01T20:05:00Z" } });
    expect(t.b.orders.value[0].status).toBe("ready");
    t.send({ event_id: "b", order: { ...order(1, "in_progress"), updated_at: "2025-01-01T20:01:00Z" } }); // late
    expect(t.b.orders.value[0].status).toBe("ready");
    t.send({ event_id: "c", order: { ...order(1, "completed"), updated_at: "2025-01-01T20:09:00Z" } });
    expect(t.b.orders.value).toEqual([]);
  });

  it("fetches when an event does not carry a whole order it does not know", async () => {
    const server = [order(1, "pending")];
    const t = board(server);
    t.b.start();
    await flush();
    server.push(order(2, "pending"));
    t.send({ event_id: "x", order_id: "o2", status: "pending" });
    await flush();
    expect(t.fetches()).toBe(2);
    expect(t.b.orders.value.map((o) => o.number)).toEqual([1, 2]);
    expect(t.fresh.map((o) => o.number)).toEqual([2]); // new since the first load
  });

  it("polls only while realtime is not live", async () => {
    const quiet = board([], true);
    quiet.b.start();
    await flush();
    quiet.tick();
    expect(quiet.fetches()).toBe(1);
    const polling = board([]);
    polling.b.start();
    await flush();
    polling.tick();
    await flush();
    expect(polling.fetches()).toBe(2);
  });

  it("applies the answer of a move at once", async () => {
    const t = board([order(1, "pending")]);
    t.b.start();
    await flush();
    t.b.apply({ ...order(1, "in_progress"), updated_at: "2025-01-01T20:02:00Z" });
    expect(t.b.orders.value[0].status).toBe("in_progress");
  });
});
