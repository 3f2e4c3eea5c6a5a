import { describe, expect, it } from "vitest";
import { MENU_CHANNEL, MenuFollower } from "../src/lib/menuLive";
import { ANONYMOUS, RealtimeClient, realtimeAuthHeader } from "../src/lib/realtime";
import { FakeSocket, flush, ManualTimers } from "./helpers";

const MESSAGE = { type: "menu_changed", event_id: "e1", reason: "MenuChanged", ingredient_id: "i1" };

/** A follower on a real RealtimeClient over a scripted socket, with manual timers. */
async function setup(token: string | null = null) {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const client = new RealtimeClient({
    wsUrl: "wss://rt.example/event/realtime",
    auth: async () => realtimeAuthHeader("api.example", token),
    socket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    timers,
    random: () => 0.5,
    onSubscribed: (channel) => channel === MENU_CHANNEL && follower.subscribed(),
  });
  let fetched = 0;
  const follower = new MenuFollower({
    subscribe: (channel, handler) => client.subscribe(channel, handler),
    refetch: () => (fetched += 1),
    timers,
  });
  follower.start();
  client.start();
  await flush();
  const socket = sockets[0];
  socket.open();
  socket.receive({ type: "connection_ack", connectionTimeoutMs: 300_000 });
  await flush();
  const subscribe = socket.sent.find((m) => m.type === "subscribe") as { id: string; channel: string };
  socket.receive({ type: "subscribe_success", id: subscribe.id });
  const data = () => socket.receive({ type: "data", id: subscribe.id, event: JSON.stringify(MESSAGE) });
  return { client, follower, timers, sockets, socket, subscribe, data, fetched: () => fetched };
}

describe("realtime auth header", () => {
  it("sends the token, or the literal anonymous when nobody is signed in (never an API key)", () => {
    expect(realtimeAuthHeader("h", "tok")).toEqual({ host: "h", Authorization: "tok" });
    expect(realtimeAuthHeader("h", null)).toEqual({ host: "h", Authorization: ANONYMOUS });
    expect(realtimeAuthHeader("h", "")).toEqual({ host: "h", Authorization: "anonymous" });
  });

  it("subscribes to the menu channel anonymously, on the connection and the subscribe message", async () => {
    const { socket, subscribe } = await setup(null);
    const header = JSON.parse(atob(socket.protocols[1].slice("header-".length).replace(/-/g, "+").replace(/_/g, "/")));
    expect(header).toEqual({ host: "api.example", Authorization: "anonymous" });
    expect(subscribe).toMatchObject({ channel: "/menu/updates", authorization: { Authorization: "anonymous" } });
  });
});

describe("MenuFollower", () => {
  it("refetches once, 300 ms after a change, for a whole burst", async () => {
    const { timers, data, fetched } = await setup();
    expect(fetched()).toBe(0); // subscribing the first time: the view has just loaded the menu
    data();
    timers.advance(299);
    expect(fetched()).toBe(0);
    data();
    data(); // the burst rides along
    timers.advance(1);
    expect(fetched()).toBe(1);
    timers.advance(5000);
    expect(fetched()).toBe(1);
    data(); // a later change: another refetch
    timers.advance(300);
    expect(fetched()).toBe(2);
  });

  it("catches up after a reconnect, not on the first subscription", async () => {
    const { timers, socket, sockets, fetched } = await setup("guest-token");
    socket.drop();
    timers.advance(1000); // the backoff
    await flush();
    const again = sockets[1];
    again.open();
    again.receive({ type: "connection_ack", connectionTimeoutMs: 300_000 });
    await flush();
    const resubscribe = again.sent.find((m) => m.type === "subscribe") as { id: string; authorization: unknown };
    expect(resubscribe.authorization).toEqual({ host: "api.example", Authorization: "guest-token" });
    again.receive({ type: "subscribe_success", id: resubscribe.id });
    timers.advance(300);
    expect(fetched()).toBe(1);
  });

  it("stops: unsubscribes, and a pending refetch never happens", async () => {
    const { follower, client, timers, socket, subscribe, data, fetched } = await setup();
    data();
    follower.stop();
    timers.advance(1000);
    expect(fetched()).toBe(0);
    expect(socket.sent).toContainEqual({ type: "unsubscribe", id: subscribe.id });
    expect(client.subscriptionCount).toBe(0);
    follower.changed(); // a straggler after stop
    timers.advance(1000);
    expect(fetched()).toBe(0);
  });
});
