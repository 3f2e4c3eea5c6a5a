import { describe, expect, it } from "vitest";
import { isRevocation, OrderTracker } from "../src/lib/orderTracker";
import { flush, MemoryStore } from "./helpers";

describe("a revoked guest", () => {
  it("stops listening and polling and signs out on the server's revoked message", async () => {
    let handler: (event: unknown) => void = () => {};
    let unsubscribed = false;
    let cleared = false;
    let fetches = 0;
    let signedOut = 0;
    const tracker = new OrderTracker({
      fetchOrders: async () => {
        fetches += 1;
        return [];
      },
      realtime: {
        live: true,
        subscribe: (_channel: string, h: (event: unknown) => void) => {
          handler = h;
          return () => {
            unsubscribed = true;
          };
        },
        start: () => {},
      } as never,
      channel: "/orders/guest/g",
      store: new MemoryStore(),
      setInterval: () => 1,
      clearInterval: () => {
        cleared = true;
      },
      onRevoked: () => {
        signedOut += 1;
      },
    });
    tracker.start();
    await flush();
    expect(fetches).toBe(1);

    handler({ type: "OrderStatusChanged", order_id: "o1", status: "ready" }); // unknown order: refetch
    await flush();
    expect(fetches).toBe(2);
    expect(signedOut).toBe(0);

    handler({ type: "revoked", guest_id: "g", reason: "admin", event_id: "e1" });
    await flush();
    expect(signedOut).toBe(1);
    expect(unsubscribed).toBe(true);
    expect(cleared).toBe(true);
    expect(fetches).toBe(2); // no request with tokens that stopped working
  });

  it("recognises only the revoked message", () => {
    expect(isRevocation({ type: "revoked" })).toBe(true);
    expect(isRevocation({ type: "OrderStatusChanged", status: "revoked" })).toBe(false);
    expect(isRevocation("revoked")).toBe(false);
    expect(isRevocation(null)).toBe(false);
  });
});
