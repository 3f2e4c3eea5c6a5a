import { describe, expect, it } from "vitest";
import { SESSION_KEY, SessionStore, sessionFromTokens } from "../src/lib/session";
import { MemoryStore } from "./helpers";

const tokens = { access_token: "a", refresh_token: "r", expires_in: 14400, guest: { id: "g", name: "Sam", created_at: "x" } };

describe("SessionStore", () => {
  it("survives a reload (a new store over the same storage)", () => {
    const storage = new MemoryStore();
    new SessionStore(storage).signIn(tokens, 1_000);
    const again = new SessionStore(storage);
    expect(again.get()).toEqual({
      accessToken: "a",
      refreshToken: "r",
      expiresAt: 1_000 + 14_400_000 - 60_000,
      guest: { id: "g", name: "Sam" },
    });
  });

  it("sign out clears storage and the reactive value", () => {
    const storage = new MemoryStore();
    const store = new SessionStore(storage);
    store.signIn(tokens);
    store.clear();
    expect(store.current.value).toBeNull();
    expect(storage.getItem(SESSION_KEY)).toBeNull();
  });

  it("ignores corrupt or foreign data", () => {
    const storage = new MemoryStore();
    storage.setItem(SESSION_KEY, "{not json");
    expect(new SessionStore(storage).get()).toBeNull();
    storage.setItem(SESSION_KEY, JSON.stringify({ accessToken: 1 }));
    expect(new SessionStore(storage).get()).toBeNull();
  });

  it("knows when the access token is (nearly) expired", () => {
    const store = new SessionStore(new MemoryStore());
    store.signIn(tokens, 0);
    expect(store.isExpired(0)).toBe(false);
    expect(store.isExpired(14_400_000 - 60_000)).toBe(true);
  });

  it("works without storage at all", () => {
    const store = new SessionStore(null);
    store.signIn(tokens);
    expect(store.get()?.guest.name).toBe("Sam");
  });

  it("never makes an expiry in the past from a tiny lifetime", () => {
    expect(sessionFromTokens({ ...tokens, expires_in: 10 }, 5).expiresAt).toBe(5);
  });
});
