import { describe, expect, it } from "vitest";
import {
  ADMIN_SESSION_KEY,
  AdminAuth,
  base64UrlBytes,
  challengeFor,
  PENDING_KEY,
  randomString,
  REFRESH_EARLY_MS,
  REVOKE_TIMEOUT_MS,
  safeReturn,
} from "../src/lib/adminAuth";
import type { AuthConfig } from "../src/lib/config";
import { jsonResponse, ManualTimers, MemoryStore } from "./helpers";

const CONFIG: AuthConfig = {
  domain: "https://login.example.com",
  clientId: "client-1",
  redirectPath: "/auth/callback",
  logoutPath: "/",
  scopes: ["openid", "email", "profile"],
};

/** A JWT-shaped token whose payload says who (signature irrelevant here). */
const token = (claims: Record<string, unknown>) =>
  `h.${base64UrlBytes(new TextEncoder().encode(JSON.stringify(claims)))}.s`;

interface Call {
  url: string;
  form: URLSearchParams;
}

function setup(answers: Array<Response | Error> = [], domain = CONFIG.domain) {
  const store = new MemoryStore();
  const timers = new ManualTimers();
  const calls: Call[] = [];
  const navigations: string[] = [];
  const queue = [...answers];
  const make = () =>
    new AdminAuth({
      config: () => ({ ...CONFIG, domain }),
      origin: () => "https://bar.example.com",
      store,
      now: () => 1_000_000 + timers.now,
      navigate: (url) => navigations.push(url),
      setTimeout: (fn, ms) => timers.setTimeout(fn, ms),
      clearTimeout: (h) => timers.clearTimeout(h),
      fetch: (async (url: string, init?: RequestInit) => {
        calls.push({ url, form: new URLSearchParams(String(init?.body ?? "")) });
        const next = queue.shift() ?? jsonResponse(500, {});
        if (next instanceof Error) throw next;
        return next;
      }) as typeof fetch,
    });
  return { auth: make(), make, store, timers, calls, navigations, queue };
}

const tokens = (extra: Record<string, unknown> = {}) =>
  jsonResponse(200, {
    access_token: token({ username: "host" }),
    id_token: "id",
    refresh_token: "refresh-1",
    expires_in: 3600,
    token_type: "Bearer",
    ...extra,
  });

async function signedIn() {
  const t = setup([tokens()]);
  const url = new URL(await t.auth.authorizeUrl("/admin/invites"));
  const state = url.searchParams.get("state");
  await t.auth.complete(`https://bar.example.com/auth/callback?code=c0de&state=${state}`);
  return { ...t, url };
}

describe("PKCE", () => {
  it("makes the S256 challenge: base64url(SHA-256(verifier)), unpadded", async () => {
    // Expected values from Python's hashlib (an independent implementation); "abc" is the NIST vector.
    expect(await challengeFor("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    expect(await challengeFor("dBjftJeZ4CVP-mJ92K1rWgvZYHzmlhsVpvY8XiFtrw0")).toBe(
      "UbrKZIzqr5Q0Bc5ibvpQOxqVQZ2Abb1NJOiN7K2i1B8",
    );
  });

  it("makes verifiers from the unreserved alphabet, of the asked length", () => {
    const verifier = randomString(64);
    expect(verifier).toMatch(/^[A-Za-z0-9._~-]{64}$/);
    expect(randomString(64)).not.toBe(verifier);
    expect(randomString(43)).toHaveLength(43);
  });

  it("never maps a byte past the alphabet's even range (no bias)", () => {
    // 198 = 3 * 66: bytes 198..255 are dropped; the first round gives only those, the next only 1s.
    let round = 0;
    const random = (n: number) => new Uint8Array(n).fill(round++ === 0 ? 255 : 1);
    expect(randomString(10, random)).toBe("B".repeat(10));
  });

  it("encodes base64url without padding", () => {
    expect(base64UrlBytes(new Uint8Array([251, 255]))).toBe("-_8");
    expect(base64UrlBytes(new TextEncoder().encode("any carnal pleas"))).toBe("YW55IGNhcm5hbCBwbGVhcw");
  });
});

describe("sign-in", () => {
  it("sends the browser to the hosted login with a PKCE challenge and a state", async () => {
    const { auth, store, navigations } = setup();
    await auth.signIn("/admin/bar");
    expect(auth.phase.value).toBe("redirecting");
    const url = new URL(navigations[0]);
    expect(url.origin + url.pathname).toBe("https://login.example.com/oauth2/authorize");
    const q = url.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe("client-1");
    expect(q.get("redirect_uri")).toBe("https://bar.example.com/auth/callback");
    expect(q.get("scope")).toBe("openid email profile");
    expect(q.get("code_challenge_method")).toBe("S256");
    const pending = JSON.parse(store.getItem(PENDING_KEY)!);
    expect(q.get("state")).toBe(pending.state);
    expect(q.get("code_challenge")).toBe(await challengeFor(pending.verifier));
    expect(pending.returnTo).toBe("/admin/bar");
  });

  it("uses relative URLs when the domain is empty (the local gateway)", async () => {
    const { auth } = setup([], "");
    expect(await auth.authorizeUrl()).toMatch(/^\/oauth2\/authorize\?/);
  });

  it("trades the code for tokens with the verifier and returns where it started", async () => {
    const t = setup([tokens()]);
    const url = new URL(await t.auth.authorizeUrl("/admin/invites"));
    const pending = JSON.parse(t.store.getItem(PENDING_KEY)!);
    const next = await t.auth.complete(`https://bar.example.com/auth/callback?code=c0de&state=${url.searchParams.get("state")}`);
    expect(next).toBe("/admin/invites");
    expect(t.calls[0].url).toBe("https://login.example.com/oauth2/token");
    expect(Object.fromEntries(t.calls[0].form)).toEqual({
      grant_type: "authorization_code",
      client_id: "client-1",
      code: "c0de",
      redirect_uri: "https://bar.example.com/auth/callback",
      code_verifier: pending.verifier,
    });
    expect(t.auth.phase.value).toBe("signed-in");
    expect(t.auth.session.value?.username).toBe("host");
    expect(await t.auth.token()).toBe(token({ username: "host" }));
    expect(t.store.getItem(PENDING_KEY)).toBeNull();
    expect(JSON.parse(t.store.getItem(ADMIN_SESSION_KEY)!).refreshToken).toBe("refresh-1");
  });

  it("refuses a callback whose state does not match, without trading the code", async () => {
    const t = setup([tokens()]);
    await t.auth.authorizeUrl();
    await expect(t.auth.complete("https://bar.example.com/auth/callback?code=c0de&state=forged")).rejects.toThrow(
      /not started here/,
    );
    expect(t.calls).toHaveLength(0);
    expect(t.auth.phase.value).toBe("error");
    expect(t.auth.signedIn).toBe(false);
  });

  it("refuses a callback nobody started, and a second use of the same state", async () => {
    const t = setup([tokens(), tokens()]);
    await expect(t.auth.complete("https://bar.example.com/auth/callback?code=c&state=s")).rejects.toThrow();
    const url = new URL(await t.auth.authorizeUrl());
    const callback = `https://bar.example.com/auth/callback?code=c&state=${url.searchParams.get("state")}`;
    await t.auth.complete(callback);
    await expect(t.auth.complete(callback)).rejects.toThrow(/not started here/);
    expect(t.calls).toHaveLength(1);
  });

  it("refuses a sign-in that took longer than ten minutes", async () => {
    const t = setup([tokens()]);
    const url = new URL(await t.auth.authorizeUrl());
    t.timers.advance(11 * 60_000);
    await expect(
      t.auth.complete(`https://bar.example.com/auth/callback?code=c&state=${url.searchParams.get("state")}`),
    ).rejects.toThrow();
    expect(t.calls).toHaveLength(0);
  });

  it("reports the hosted login's error and a refused exchange", async () => {
    const t = setup([jsonResponse(400, { error: "invalid_grant" })]);
    await expect(t.auth.complete("https://bar.example.com/auth/callback?error=access_denied&state=x")).rejects.toThrow(
      /access_denied/,
    );
    const url = new URL(await t.auth.authorizeUrl());
    await expect(
      t.auth.complete(`https://bar.example.com/auth/callback?code=c&state=${url.searchParams.get("state")}`),
    ).rejects.toThrow(/invalid_grant/);
    expect(t.auth.error.value).toMatch(/invalid_grant/);
    expect(t.auth.signedIn).toBe(false);
  });

  it("keeps the session across a reload (same tab storage)", async () => {
    const t = await signedIn();
    const again = t.make();
    expect(again.signedIn).toBe(true);
    expect(again.phase.value).toBe("signed-in");
  });

  it("only returns to paths inside the console", () => {
    expect(safeReturn("/admin/bar")).toBe("/admin/bar");
    expect(safeReturn("/display")).toBe("/display");
    expect(safeReturn("//evil.example.com/admin")).toBe("/admin");
    expect(safeReturn("https://evil.example.com")).toBe("/admin");
    expect(safeReturn("/orders")).toBe("/admin");
  });
});

describe("refresh and sign-out", () => {
  it("refreshes before the access token expires, keeping the refresh token", async () => {
    const t = await signedIn();
    t.queue.push(tokens({ access_token: token({ username: "host", n: 2 }), refresh_token: undefined }));
    t.timers.advance(3600_000 - REFRESH_EARLY_MS - 1);
    expect(t.calls).toHaveLength(1);
    t.timers.advance(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(t.calls).toHaveLength(2);
    expect(Object.fromEntries(t.calls[1].form)).toEqual({
      grant_type: "refresh_token",
      client_id: "client-1",
      refresh_token: "refresh-1",
    });
    expect(t.auth.session.value?.accessToken).toBe(token({ username: "host", n: 2 }));
    expect(t.auth.session.value?.refreshToken).toBe("refresh-1");
  });

  it("refreshes on demand when a token is asked for late, once for parallel callers", async () => {
    const t = await signedIn();
    t.timers.pending.clear(); // as if the timer was throttled in a background tab
    t.timers.now += 3600_000;
    t.queue.push(tokens({ access_token: "fresh" }));
    const [a, b] = await Promise.all([t.auth.token(), t.auth.token()]);
    expect([a, b]).toEqual(["fresh", "fresh"]);
    expect(t.calls).toHaveLength(2);
  });

  it("signs out when the refresh token is refused", async () => {
    const t = await signedIn();
    t.queue.push(jsonResponse(400, { error: "invalid_grant" }));
    expect(await t.auth.refresh()).toBe(false);
    expect(t.auth.signedIn).toBe(false);
    expect(t.auth.phase.value).toBe("signed-out");
    expect(t.store.getItem(ADMIN_SESSION_KEY)).toBeNull();
    expect(await t.auth.token()).toBeNull();
  });

  it("keeps the session when the refresh fails for want of a network", async () => {
    const t = await signedIn();
    t.queue.push(new TypeError("offline"));
    expect(await t.auth.refresh()).toBe(false);
    expect(t.auth.signedIn).toBe(true);
  });

  it("revokes the refresh token and leaves through the hosted logout", async () => {
    const t = await signedIn();
    t.queue.push(new Response(null, { status: 200 }));
    await t.auth.signOut();
    expect(t.calls[1].url).toBe("https://login.example.com/oauth2/revoke");
    expect(Object.fromEntries(t.calls[1].form)).toEqual({ token: "refresh-1", client_id: "client-1" });
    const out = new URL(t.navigations.at(-1)!);
    expect(out.origin + out.pathname).toBe("https://login.example.com/logout");
    expect(out.searchParams.get("client_id")).toBe("client-1");
    expect(out.searchParams.get("logout_uri")).toBe("https://bar.example.com/");
    expect(t.auth.signedIn).toBe(false);
    expect(t.store.getItem(ADMIN_SESSION_KEY)).toBeNull();
  });

  it("waits for the revoke to finish before leaving for the hosted logout", async () => {
    const t = await signedIn();
    let finish: (r: Response) => void = () => {};
    const revokes: string[] = [];
    const auth = new AdminAuth({
      config: () => CONFIG,
      origin: () => "https://bar.example.com",
      store: t.store,
      onStorage: null,
      now: () => 1_000_000 + t.timers.now,
      navigate: (url) => t.navigations.push(url),
      setTimeout: (fn, ms) => t.timers.setTimeout(fn, ms),
      clearTimeout: (h) => t.timers.clearTimeout(h),
      fetch: ((url: string) => {
        revokes.push(url);
        return new Promise<Response>((resolve) => (finish = resolve));
      }) as typeof fetch,
    });
    const before = t.navigations.length;
    const timersBefore = t.timers.pending.size;
    const leaving = auth.signOut();
    await Promise.resolve();
    await Promise.resolve();
    expect(revokes).toEqual(["https://login.example.com/oauth2/revoke"]);
    expect(t.navigations.length).toBe(before); // not yet: leaving would abort the revoke
    finish(new Response(null, { status: 200 }));
    await leaving;
    expect(t.navigations.length).toBe(before + 1);
    expect(t.timers.pending.size).toBeLessThanOrEqual(timersBefore); // the revoke's timeout is cleared
  });

  it("leaves anyway when the revoke hangs past its timeout", async () => {
    const t = await signedIn();
    let aborted = false;
    const auth = new AdminAuth({
      config: () => CONFIG,
      origin: () => "https://bar.example.com",
      store: t.store,
      onStorage: null,
      now: () => 1_000_000 + t.timers.now,
      navigate: (url) => t.navigations.push(url),
      setTimeout: (fn, ms) => t.timers.setTimeout(fn, ms),
      clearTimeout: (h) => t.timers.clearTimeout(h),
      fetch: ((_url: string, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) =>
          init?.signal?.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          }),
        )) as typeof fetch,
    });
    const before = t.navigations.length;
    const leaving = auth.signOut();
    await Promise.resolve();
    expect(t.navigations.length).toBe(before);
    t.timers.advance(REVOKE_TIMEOUT_MS);
    await leaving;
    expect(aborted).toBe(true);
    expect(t.navigations.length).toBe(before + 1);
  });
});

describe("one session for the origin's tabs", () => {
  function tabs() {
    let deliver: (key: string | null, value: string | null) => void = () => {};
    const shared = new MemoryStore();
    const tab = (listen: boolean) =>
      new AdminAuth({
        config: () => CONFIG,
        origin: () => "https://bar.example.com",
        store: shared,
        pendingStore: new MemoryStore(),
        onStorage: listen ? (fn) => (deliver = fn) : null,
        setTimeout: () => 0,
        clearTimeout: () => {},
        navigate: () => {},
        fetch: (async () => new Response(null, { status: 200 })) as typeof fetch,
      });
    return { shared, tab, deliver: (key: string | null, value: string | null) => deliver(key, value) };
  }

  const session = { accessToken: "a", idToken: "i", refreshToken: "r", expiresAt: Date.now() + 3_600_000, username: "host" };

  it("a new tab starts signed in from the shared session", () => {
    const t = tabs();
    t.shared.setItem(ADMIN_SESSION_KEY, JSON.stringify(session));
    expect(t.tab(false).signedIn).toBe(true);
  });

  it("follows another tab's sign-in and sign-out", () => {
    const t = tabs();
    const tv = t.tab(true);
    expect(tv.signedIn).toBe(false);
    t.deliver(ADMIN_SESSION_KEY, JSON.stringify(session));
    expect(tv.session.value?.accessToken).toBe("a");
    t.deliver("something-else", null);
    expect(tv.signedIn).toBe(true);
    t.deliver(ADMIN_SESSION_KEY, null);
    expect(tv.signedIn).toBe(false);
  });

  it("keeps a sign-in in progress to its own tab", async () => {
    const t = tabs();
    await t.tab(false).authorizeUrl("/display");
    expect(t.shared.getItem(PENDING_KEY)).toBeNull();
  });
});
