import { describe, expect, it } from "vitest";
import { backoffDelay, base64Url, RealtimeClient, subprotocols, type RealtimeState } from "../src/lib/realtime";
import { FakeSocket, flush, ManualTimers } from "./helpers";

function setup() {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const states: RealtimeState[] = [];
  const subscribed: string[] = [];
  let token = "t1";
  const client = new RealtimeClient({
    wsUrl: "wss://rt.example/event/realtime",
    auth: async () => ({ host: "api.example", Authorization: token }),
    socket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    timers,
    random: () => 0.5,
    onState: (s) => states.push(s),
    onSubscribed: (channel) => subscribed.push(channel),
  });
  return { client, timers, sockets, states, subscribed, setToken: (t: string) => (token = t) };
}

async function connect(socket: FakeSocket, timeoutMs = 300_000) {
  socket.open();
  socket.receive({ type: "connection_ack", connectionTimeoutMs: timeoutMs });
  await flush();
}

describe("protocol pieces", () => {
  it("puts the auth header in a base64url subprotocol", () => {
    const [first, second] = subprotocols({ host: "h", Authorization: "tok?>" });
    expect(first).toBe("aws-appsync-event-ws");
    const decoded = atob(second.slice("header-".length).replace(/-/g, "+").replace(/_/g, "/"));
    expect(JSON.parse(decoded)).toEqual({ host: "h", Authorization: "tok?>" });
    expect(second).not.toMatch(/[+/=]/);
    expect(base64Url("é")).toBe("w6k");
  });

  it("backs off exponentially with jitter, up to a cap", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, 1000, 30_000, mid))).toEqual([750, 1500, 3000, 6000]);
    expect(backoffDelay(20, 1000, 30_000, mid)).toBe(22_500);
    expect(backoffDelay(3, 1000, 30_000, () => 0)).toBe(4000);
    expect(backoffDelay(3, 1000, 30_000, () => 1)).toBe(8000);
  });
});

describe("RealtimeClient", () => {
  it("connects, acks, subscribes and delivers parsed events", async () => {
    const { client, sockets, states, subscribed } = setup();
    const events: unknown[] = [];
    client.subscribe("/orders/guest/g1", (e) => events.push(e));
    client.start();
    await flush();
    const socket = sockets[0];
    expect(socket.url).toBe("wss://rt.example/event/realtime");
    expect(socket.protocols[0]).toBe("aws-appsync-event-ws");
    await connect(socket);
    expect(socket.sent[0]).toEqual({ type: "connection_init" });
    const sub = socket.sent[1];
    expect(sub).toMatchObject({
      type: "subscribe",
      channel: "/orders/guest/g1",
      authorization: { host: "api.example", Authorization: "t1" },
    });
    expect(client.live).toBe(false);
    socket.receive({ type: "subscribe_success", id: sub.id });
    expect(client.live).toBe(true);
    expect(subscribed).toEqual(["/orders/guest/g1"]);
    socket.receive({ type: "data", id: sub.id, event: JSON.stringify({ order_id: "o1", status: "ready" }) });
    socket.receive({ type: "data", id: "someone-else", event: "{}" });
    expect(events).toEqual([{ order_id: "o1", status: "ready" }]);
    expect(states).toEqual(["connecting", "connected"]);
  });

  it("reconnects with backoff after a drop, with a fresh token, and resubscribes", async () => {
    const { client, sockets, timers, states, setToken } = setup();
    client.subscribe("/orders/guest/g1", () => {});
    client.start();
    await flush();
    await connect(sockets[0]);
    setToken("t2");
    sockets[0].drop();
    expect(client.live).toBe(false);
    expect(states.at(-1)).toBe("reconnecting");
    expect(timers.delays()).toContain(750);
    timers.advance(750);
    await flush();
    expect(sockets).toHaveLength(2);
    expect(JSON.parse(atob(sockets[1].protocols[1].slice(7).replace(/-/g, "+").replace(/_/g, "/")))).toEqual({
      host: "api.example",
      Authorization: "t2",
    });
    // The second try fails before an ack: the wait grows.
    sockets[1].drop();
    expect(timers.delays()).toContain(1500);
    timers.advance(1500);
    await flush();
    await connect(sockets[2]);
    expect(sockets[2].sent.map((m) => m.type)).toEqual(["connection_init", "subscribe"]);
    expect(states.at(-1)).toBe("connected");
    // A good connection resets the backoff.
    sockets[2].drop();
    expect(timers.delays()).toContain(750);
  });

  it("treats a missing keep-alive as a dead connection", async () => {
    const { client, sockets, timers } = setup();
    client.start();
    await flush();
    await connect(sockets[0], 10_000);
    timers.advance(9_000);
    sockets[0].receive({ type: "ka" });
    timers.advance(9_000);
    expect(sockets[0].closed).toBe(false);
    timers.advance(1_001);
    expect(sockets[0].closed).toBe(true);
    expect(client.currentState).toBe("reconnecting");
    timers.advance(750);
    await flush();
    expect(sockets).toHaveLength(2);
  });

  it("a refused subscription is not live; a connection error restarts", async () => {
    const { client, sockets, timers } = setup();
    client.subscribe("/orders/guest/other", () => {});
    client.start();
    await flush();
    await connect(sockets[0]);
    const sub = sockets[0].sent[1];
    sockets[0].receive({ type: "subscribe_error", id: sub.id, errors: [{ errorType: "UnauthorizedException" }] });
    expect(client.live).toBe(false);
    expect(client.currentState).toBe("connected");
    sockets[0].receive({ type: "connection_error", errors: [{ errorType: "X" }] });
    expect(sockets[0].closed).toBe(true);
    expect(client.currentState).toBe("reconnecting");
    expect(timers.delays()).toHaveLength(1);
  });

  it("stop closes and never reconnects; unsubscribe tells the server", async () => {
    const { client, sockets, timers } = setup();
    const off = client.subscribe("/menu/updates", () => {});
    client.start();
    await flush();
    await connect(sockets[0]);
    const id = sockets[0].sent[1].id;
    off();
    expect(sockets[0].sent.at(-1)).toEqual({ type: "unsubscribe", id });
    client.stop();
    expect(sockets[0].closed).toBe(true);
    sockets[0].drop();
    expect(timers.delays()).toEqual([]);
    expect(client.currentState).toBe("stopped");
  });

  it("nudge skips the wait when the network comes back", async () => {
    const { client, sockets, timers } = setup();
    client.start();
    await flush();
    sockets[0].drop();
    expect(timers.delays()).toHaveLength(1);
    client.nudge();
    await flush();
    expect(sockets).toHaveLength(2);
    expect(timers.delays()).toEqual([]);
  });
});
