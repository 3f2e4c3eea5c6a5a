import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, errorFromResponse, queryString } from "../src/lib/api";
import { SessionStore } from "../src/lib/session";
import { jsonResponse, MemoryStore } from "./helpers";

const tokens = (access: string, refresh: string) => ({
  access_token: access,
  refresh_token: refresh,
  expires_in: 14400,
  guest: { id: "g-1", name: "Sam" },
});

function client(responses: Array<Response | Error>, session = new SessionStore(new MemoryStore())) {
  const calls: { url: string; init: RequestInit }[] = [];
  const api = new ApiClient({
    baseUrl: () => "https://api.example/prod",
    apiKey: () => "key-123",
    session,
    fetch: async (url, init) => {
      calls.push({ url: String(url), init: init ?? {} });
      const next = responses.shift();
      if (!next) throw new Error("unexpected request");
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { api, calls, session };
}

const header = (init: RequestInit, name: string) => (init.headers as Record<string, string>)[name];

describe("errorFromResponse", () => {
  it("reads Chalice's Code and Message", () => {
    const error = errorFromResponse(409, { Code: "BarClosed", Message: "back at 9" });
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([409, "BarClosed", "back at 9"]);
  });

  it("maps API Gateway's own answers by status", () => {
    expect(errorFromResponse(403, { message: "Forbidden" }).code).toBe("ForbiddenError");
    expect(errorFromResponse(429, { message: "Too Many Requests" }).code).toBe("TooManyRequests");
    expect(errorFromResponse(502, "<html>bad gateway</html>").code).toBe("ServerError");
    expect(errorFromResponse(418, null).message).toBe("HTTP 418");
  });
});

describe("queryString", () => {
  it("repeats lists and drops empty values", () => {
    expect(queryString({ ingredient: ["Gin", "Lemon Juice"], q: "", available: true, x: undefined })).toBe(
      "?ingredient=Gin&ingredient=Lemon+Juice&available=true",
    );
    expect(queryString({})).toBe("");
  });
});

describe("ApiClient", () => {
  it("sends the API key and JSON, and parses JSON", async () => {
    const { api, calls } = client([jsonResponse(200, [{ id: "d1" }])]);
    expect(await api.request("/drinks", { query: { q: "gin" } })).toEqual([{ id: "d1" }]);
    expect(calls[0].url).toBe("https://api.example/prod/drinks?q=gin");
    expect(header(calls[0].init, "x-api-key")).toBe("key-123");
    expect(header(calls[0].init, "Authorization")).toBeUndefined();
  });

  it("turns error bodies into ApiError", async () => {
    const { api } = client([jsonResponse(409, { Code: "QueueFull", Message: "full" })]);
    await expect(api.request("/orders", { method: "POST", body: {} })).rejects.toMatchObject({
      status: 409,
      code: "QueueFull",
    });
  });

  it("reports a network failure as status 0", async () => {
    const { api } = client([new TypeError("Failed to fetch")]);
    await expect(api.request("/bar")).rejects.toMatchObject({ status: 0, code: "NetworkError" });
  });

  it("refuses a guest call without a session, without a request", async () => {
    const { api, calls } = client([]);
    await expect(api.request("/orders", { auth: "guest" })).rejects.toMatchObject({ code: "SignedOut" });
    expect(calls).toHaveLength(0);
  });

  it("refreshes once on a 401 and retries with the new token", async () => {
    const session = new SessionStore(new MemoryStore());
    session.signIn(tokens("old-access", "refresh-1"));
    const { api, calls } = client(
      [
        jsonResponse(401, { Code: "UnauthorizedError", Message: "Unauthorized" }),
        jsonResponse(200, tokens("new-access", "refresh-2")),
        jsonResponse(200, []),
      ],
      session,
    );
    expect(await api.request("/orders", { auth: "guest" })).toEqual([]);
    expect(header(calls[0].init, "Authorization")).toBe("Bearer old-access");
    expect(calls[1].url).toBe("https://api.example/prod/auth/refresh");
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ refresh_token: "refresh-1" });
    expect(header(calls[2].init, "Authorization")).toBe("Bearer new-access");
    expect(session.get()?.refreshToken).toBe("refresh-2");
  });

  it("signs out when the refresh token is refused, and does not loop", async () => {
    const session = new SessionStore(new MemoryStore());
    session.signIn(tokens("old", "reused"));
    const { api, calls } = client(
      [jsonResponse(401, { Message: "Unauthorized" }), jsonResponse(401, { Code: "UnauthorizedError" })],
      session,
    );
    await expect(api.request("/orders", { auth: "guest" })).rejects.toMatchObject({ status: 401 });
    expect(calls).toHaveLength(2);
    expect(session.get()).toBeNull();
  });

  it("shares one refresh between parallel 401s (refresh tokens rotate)", async () => {
    const session = new SessionStore(new MemoryStore());
    session.signIn(tokens("old", "r1"));
    let refreshes = 0;
    const api = new ApiClient({
      baseUrl: () => "",
      apiKey: () => "",
      session,
      fetch: async (url, init) => {
        const auth = (init?.headers as Record<string, string>).Authorization;
        if (String(url) === "/auth/refresh") {
          refreshes += 1;
          await new Promise((r) => setTimeout(r, 5));
          return jsonResponse(200, tokens("new", "r2"));
        }
        return auth === "Bearer new" ? jsonResponse(200, { ok: true }) : jsonResponse(401, {});
      },
    });
    const results = await Promise.all([1, 2, 3].map(() => api.request("/orders", { auth: "guest" })));
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(refreshes).toBe(1);
  });

  it("refreshes an expired token before the request", async () => {
    const session = new SessionStore(new MemoryStore());
    session.signIn({ ...tokens("stale", "r1"), expires_in: 0 });
    const { api, calls } = client([jsonResponse(200, tokens("fresh", "r2")), jsonResponse(200, [])], session);
    await api.request("/orders", { auth: "guest" });
    expect(calls.map((c) => c.url)).toEqual(["https://api.example/prod/auth/refresh", "https://api.example/prod/orders"]);
    expect(header(calls[1].init, "Authorization")).toBe("Bearer fresh");
  });
});

describe("signing out", () => {
  it("ends the session on the server, waiting for it, then forgets it", async () => {
    const { api, calls, session } = client([jsonResponse(200, { signed_out: true })]);
    session.signIn(tokens("a1", "r1"));
    await api.signOutGuest();
    expect(calls.map((c) => [c.url, c.init.method, c.init.body])).toEqual([
      ["https://api.example/prod/auth/sign-out", "POST", JSON.stringify({ refresh_token: "r1" })],
    ]);
    expect(header(calls[0].init, "x-api-key")).toBe("key-123");
    expect(session.get()).toBeNull();
  });

  it("forgets the session offline too, and sends nothing without one", async () => {
    const offline = client([new TypeError("Failed to fetch")]);
    offline.session.signIn(tokens("a1", "r1"));
    await offline.api.signOutGuest();
    expect(offline.calls).toHaveLength(1);
    expect(offline.session.get()).toBeNull();

    const nobody = client([]);
    await nobody.api.signOutGuest();
    expect(nobody.calls).toHaveLength(0);
  });

  it("sends the token another tab rotated to, not a stale copy", async () => {
    const store = new MemoryStore();
    const tab = new SessionStore(store);
    tab.signIn(tokens("a1", "r1"));
    const other = new SessionStore(store);
    other.signIn(tokens("a2", "r2")); // the other tab refreshed meanwhile
    const { api, calls } = client([jsonResponse(200, { signed_out: true })], tab);
    await api.signOutGuest();
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ refresh_token: "r2" });
  });
});
