// The live-list base both the host's board and the guest's tracker are made of
// (lib/liveOrders.ts), driven through both, with the real RealtimeClient over a scripted
// socket; and the one realtime client factory.
import { describe, expect, it } from "vitest";
import { OrderBoard } from "../src/lib/board";
import { OrderTracker } from "../src/lib/orderTracker";
import { ANONYMOUS, createRealtimeClient, RealtimeClient, subprotocols } from "../src/lib/realtime";
import type { Order } from "../src/lib/types";
import { FakeSocket, flush, ManualTimers, MemoryStore } from "./helpers";

const order = (status: Order["status"], updated: string, id = "o1"): Order => ({
  id,
  number: 7,
  status,
  guest_name: "Sam",
  items: [{ drink_id: "d", name: "Negroni", quantity: 1, notes: "" }],
  notes: "",
  created_at: "2025-01-01T20:00:00Z",
  updated_at: updated,
});

function world(kind: "board" | "tracker") {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const realtime = new RealtimeClient({
    wsUrl: "ws://127.0.0.1:1/event/realtime",
    auth: async () => ({ host: "127.0.0.1:1", Authorization: "token" }),
    socket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    timers,
    random: () => 0.5,
  });
  let server = [order("pending", "2025-01-01T20:00:00Z")];
  let fetches = 0;
  const deps = {
    fetchOrders: async () => {
      fetches += 1;
      return server.map((o) => ({ ...o }));
    },
    realtime,
    setInterval: () => 1,
    clearInterval: () => {},
  };
  const list =
    kind === "board"
      ? new OrderBoard(deps)
      : new OrderTracker({ ...deps, channel: "/orders/guest/g1", store: new MemoryStore(), vibrate: () => {} });
  /** Open the newest socket and confirm the subscription; returns its id. */
  const connect = async (): Promise<string> => {
    await flush();
    const socket = sockets[sockets.length - 1];
    socket.open();
    socket.receive({ type: "connection_ack", connectionTimeoutMs: 300_000 });
    await flush();
    const sub = socket.sent.filter((m) => m.type === "subscribe").at(-1);
    socket.receive({ type: "subscribe_success", id: sub?.id });
    await flush();
    return String(sub?.id);
  };
  return {
    list,
    realtime,
    timers,
    sockets,
    connect,
    fetches: () => fetches,
    setServer: (orders: Order[]) => (server = orders),
  };
}

for (const kind of ["board", "tracker"] as const) {
  describe(`the live list (${kind})`, () => {
    it("fetches first, and again each time the subscription is confirmed after a drop", async () => {
      const w = world(kind);
      w.list.start();
      await flush();
      expect(w.fetches()).toBe(1);
      await w.connect();
      const afterFirst = w.fetches();
      expect(afterFirst).toBeGreaterThanOrEqual(1);
      expect(afterFirst).toBeLessThanOrEqual(2); // the confirm may share or follow the first fetch
      // the connection drops; what happened meanwhile is only on the server
      w.sockets[w.sockets.length - 1].drop();
      w.setServer([order("ready", "2025-01-01T20:05:00Z")]);
      w.timers.advance(60_000);
      await w.connect();
      expect(w.fetches()).toBe(afterFirst + 1);
      expect(w.list.orders.value.map((o) => o.status)).toEqual(["ready"]);
      w.list.stop();
      w.realtime.stop();
    });

    it("applies an event once (by event_id) and never lets an older state overwrite a newer one", async () => {
      const w = world(kind);
      w.list.start();
      const id = await w.connect();
      const socket = w.sockets[w.sockets.length - 1];
      const send = (event: Record<string, unknown>) => socket.receive({ type: "data", id, event: JSON.stringify(event) });
      const before = w.fetches();
      send({ event_id: "e1", order: order("in_progress", "2025-01-01T20:02:00Z") });
      expect(w.list.orders.value[0].status).toBe("in_progress");
      send({ event_id: "e0", order: order("pending", "2025-01-01T20:01:00Z") }); // late, older
      expect(w.list.orders.value[0].status).toBe("in_progress");
      // the same event twice: the second is dropped (the list changed in between)
      w.list.setOrders([order("ready", "2025-01-01T20:03:00Z")]);
      send({ event_id: "e1", order: order("in_progress", "2025-01-01T20:03:00Z") });
      expect(w.list.orders.value[0].status).toBe("ready");
      await flush();
      // the tracker refetches while an order waits (for the queue place); the board never
      expect(w.fetches() - before).toBe(kind === "board" ? 0 : 1);
      w.list.stop();
      w.realtime.stop();
    });

    it("wake(): reconnects now instead of after the backoff, and fetches the state", async () => {
      const w = world(kind);
      w.list.start();
      await w.connect();
      w.sockets[w.sockets.length - 1].drop();
      expect(w.realtime.currentState).toBe("reconnecting");
      const sockets = w.sockets.length;
      const fetches = w.fetches();
      await w.list.wake();
      await flush();
      expect(w.sockets.length).toBe(sockets + 1); // no timer advanced: the nudge connected
      expect(w.fetches()).toBe(fetches + 1);
      w.list.stop();
      w.realtime.stop();
    });
  });
}

describe("createRealtimeClient", () => {
  it("is null without an endpoint (callers poll)", () => {
    expect(createRealtimeClient({ wsUrl: "" }, { token: async () => "t" })).toBeNull();
  });

  it("sends the token, or anonymous, with the HTTP endpoint's host", async () => {
    const sockets: FakeSocket[] = [];
    let token: string | null = "admin-token";
    const client = createRealtimeClient(
      { wsUrl: "wss://abc.appsync-realtime-api.eu-north-1.amazonaws.com/event/realtime", httpUrl: "https://abc.appsync-api.eu-north-1.amazonaws.com/event" },
      {
        token: async () => token,
        socket: (url, protocols) => {
          const socket = new FakeSocket(url, protocols);
          sockets.push(socket);
          return socket;
        },
        timers: new ManualTimers(),
      },
    );
    expect(client).not.toBeNull();
    client!.start();
    await flush();
    expect(sockets[0].protocols).toEqual(
      subprotocols({ host: "abc.appsync-api.eu-north-1.amazonaws.com", Authorization: "admin-token" }),
    );
    client!.stop();
    token = null;
    client!.start();
    await flush();
    expect(sockets[1].protocols).toEqual(subprotocols({ host: "abc.appsync-api.eu-north-1.amazonaws.com", Authorization: ANONYMOUS }));
    client!.stop();
  });
});
