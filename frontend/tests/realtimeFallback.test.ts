// Realtime unreachable -> the guest's order tracker polls; realtime back -> it stops polling.
// The real RealtimeClient (a scripted socket standing in for the gateway) drives the real
// OrderTracker: no fake `live` flag.
import { describe, expect, it } from "vitest";
import { OrderTracker } from "../src/lib/orderTracker";
import { RealtimeClient } from "../src/lib/realtime";
import type { Order } from "../src/lib/types";
import { FakeSocket, flush, ManualTimers, MemoryStore } from "./helpers";

const CHANNEL = "/orders/guest/g1";

const order = (status: Order["status"], updated: string): Order => ({
  id: "o1",
  number: 7,
  status,
  items: [{ drink_id: "d", name: "Negroni", quantity: 1, notes: "" }],
  notes: "",
  created_at: "2025-01-01T20:00:00Z",
  updated_at: updated,
});

function world() {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const realtime = new RealtimeClient({
    wsUrl: "ws://127.0.0.1:1/event/realtime",
    auth: async () => ({ host: "127.0.0.1:1", Authorization: "Bearer guest" }),
    socket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    timers,
    random: () => 0.5,
  });
  let server = order("pending", "2025-01-01T20:00:00Z");
  let fetches = 0;
  let poll: () => void = () => {};
  const tracker = new OrderTracker({
    fetchOrders: async () => {
      fetches += 1;
      return [{ ...server }];
    },
    realtime,
    channel: CHANNEL,
    store: new MemoryStore(),
    setInterval: (fn) => {
      poll = fn;
      return 1;
    },
    clearInterval: () => {},
    vibrate: () => {},
  });
  return {
    realtime,
    tracker,
    timers,
    sockets,
    poll: () => poll(),
    fetches: () => fetches,
    serverMoves: (status: Order["status"], updated: string) => (server = order(status, updated)),
  };
}

describe("realtime unreachable", () => {
  it("polls while the socket cannot connect, and stops once the subscription is live", async () => {
    const w = world();
    w.tracker.start();
    await flush();
    expect(w.fetches()).toBe(1); // the first load
    expect(w.sockets).toHaveLength(1);

    // The gateway is down: the socket closes before it ever opens, and again on the retry.
    w.sockets[0].drop();
    expect(w.realtime.live).toBe(false);
    expect(w.realtime.currentState).toBe("reconnecting");
    w.serverMoves("in_progress", "2025-01-01T20:01:00Z");
    w.poll();
    await flush();
    expect(w.fetches()).toBe(2);
    expect(w.tracker.orders.value.map((o) => o.status)).toEqual(["in_progress"]);

    w.timers.advance(750); // the first backoff
    await flush();
    expect(w.sockets).toHaveLength(2);
    w.sockets[1].drop();
    w.serverMoves("ready", "2025-01-01T20:02:00Z");
    w.poll();
    await flush();
    expect(w.fetches()).toBe(3);
    expect(w.tracker.orders.value.map((o) => o.status)).toEqual(["ready"]); // seen without realtime

    // The gateway is back: connect, ack, subscribe; from now on events, no polling.
    w.timers.advance(60_000);
    await flush();
    const socket = w.sockets[w.sockets.length - 1];
    socket.open();
    socket.receive({ type: "connection_ack", connectionTimeoutMs: 300_000 });
    await flush();
    const subscribe = socket.sent.find((m) => m.type === "subscribe" && m.channel === CHANNEL);
    expect(subscribe).toBeDefined();
    socket.receive({ type: "subscribe_success", id: subscribe?.id });
    expect(w.realtime.live).toBe(true);
    await flush();
    expect(w.fetches()).toBe(4); // confirmed after the outage: one catch-up fetch (liveOrders.ts)
    w.poll();
    await flush();
    expect(w.fetches()).toBe(4); // and no polling while live
    const done = order("completed", "2025-01-01T20:03:00Z");
    socket.receive({
      type: "data",
      id: subscribe?.id,
      event: JSON.stringify({ type: "OrderStatusChanged", order_id: "o1", status: "completed", order: done }),
    });
    expect(w.tracker.orders.value.map((o) => o.status)).toEqual(["completed"]);
    expect(w.fetches()).toBe(4);
    w.tracker.stop();
    w.realtime.stop();
  });
});
