/**
 * The API client: base URL and key from the runtime config, a Bearer token from a
 * token source (the guest session here; the admin console plugs in its own), JSON in
 * and out, errors as ApiError, and one automatic refresh-and-retry on a 401.
 */
import { config } from "./config";
import { guestSession, type SessionStore, type TokenResponse } from "./session";

export class ApiError extends Error {
  /** Seconds from a Retry-After header (a 429), when the page may read it. */
  retryAfter?: number;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: "BadRequestError",
  401: "UnauthorizedError",
  403: "ForbiddenError",
  404: "NotFoundError",
  409: "ConflictError",
  413: "RequestEntityTooLarge",
  422: "UnprocessableEntity",
  429: "TooManyRequests",
  503: "ServiceUnavailableError",
};

/**
 * Chalice answers {"Code", "Message"}; API Gateway itself answers {"message"} (or
 * {"Message"}) for throttling, a missing API key or an authorizer's deny.
 */
export function errorFromResponse(status: number, body: unknown): ApiError {
  const data = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const code =
    typeof data.Code === "string" && data.Code
      ? data.Code
      : (CODE_BY_STATUS[status] ?? (status >= 500 ? "ServerError" : "HttpError"));
  const raw = [data.Message, data.message].find((m) => typeof m === "string" && m);
  const message = typeof raw === "string" ? raw : typeof body === "string" && body ? body : `HTTP ${status}`;
  return new ApiError(status, code, message);
}

export const NETWORK_ERROR = "NetworkError";

/** Where a Bearer token comes from, and how to get a new one after a 401. */
export interface TokenSource {
  token(): Promise<string | null>;
  /** True when a new token is ready; false when the session is over. */
  refresh(): Promise<boolean>;
}

export type AuthKind = "none" | "guest" | "admin";

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | Array<string> | undefined | null>;
  auth?: AuthKind;
  signal?: AbortSignal;
}

export function queryString(query: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The guest's tokens: refreshed through POST /auth/refresh, one refresh at a time. */
export class GuestTokens implements TokenSource {
  private inflight: Promise<boolean> | null = null;

  constructor(
    private readonly session: SessionStore,
    private readonly post: (path: string, body: unknown) => Promise<Response>,
    private readonly onSignedOut: () => void = () => {},
  ) {}

  async token(): Promise<string | null> {
    if (this.session.isExpired()) await this.refresh();
    return this.session.get()?.accessToken ?? null;
  }

  refresh(): Promise<boolean> {
    // Refresh tokens rotate and a reused one revokes the whole family, so parallel
    // requests that all got a 401 must share one refresh.
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /**
   * Leave: end the session on the server (every token of it stops working, also copies
   * left on a shared phone), waiting for the answer, then forget it here. Offline or
   * refused, the phone forgets it all the same.
   */
  async signOut(): Promise<void> {
    await this.inflight?.catch(() => false); // a refresh in flight would rotate the token we send
    this.session.reload();
    const current = this.session.get();
    if (current) {
      try {
        await this.post("/auth/sign-out", { refresh_token: current.refreshToken });
      } catch {
        // offline: the tokens expire on their own; nothing more this phone can do
      }
    }
    this.session.clear();
  }

  private async doRefresh(): Promise<boolean> {
    this.session.reload(); // another tab may have rotated the pair already
    const current = this.session.get();
    if (!current) return false;
    let response: Response;
    try {
      response = await this.post("/auth/refresh", { refresh_token: current.refreshToken });
    } catch {
      return false; // offline: keep the session, the next request tries again
    }
    if (response.ok) {
      this.session.signIn((await response.json()) as TokenResponse);
      return true;
    }
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      this.session.clear();
      this.onSignedOut();
    }
    return false;
  }
}

export interface ApiClientOptions {
  baseUrl?: () => string;
  apiKey?: () => string;
  fetch?: typeof fetch;
  session?: SessionStore;
  onSignedOut?: () => void;
}

export class ApiClient {
  private readonly baseUrl: () => string;
  private readonly apiKey: () => string;
  private readonly fetcher: typeof fetch;
  private readonly sources: Partial<Record<AuthKind, TokenSource>> = {};

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? (() => config().apiUrl);
    this.apiKey = options.apiKey ?? (() => config().apiKey);
    this.fetcher = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.sources.guest = new GuestTokens(
      options.session ?? guestSession,
      (path, body) => this.send(path, { method: "POST", body }, null),
      options.onSignedOut,
    );
  }

  /** The admin console registers its token source (hosted login) here. */
  useTokenSource(kind: AuthKind, source: TokenSource): void {
    this.sources[kind] = source;
  }

  /** The guest leaves: their session ends on the server, then on this phone. */
  signOutGuest(): Promise<void> {
    return (this.sources.guest as GuestTokens).signOut();
  }

  /** A current token of that kind (refreshed when expired), for the realtime connection. */
  async token(kind: AuthKind): Promise<string | null> {
    return (await this.sources[kind]?.token()) ?? null;
  }

  private send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const key = this.apiKey();
    if (key) headers["x-api-key"] = key;
    if (token) headers.Authorization = `Bearer ${token}`;
    return this.fetcher(`${this.baseUrl()}${path}${queryString(options.query)}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const source = options.auth && options.auth !== "none" ? this.sources[options.auth] : undefined;
    if (options.auth && options.auth !== "none" && !source) {
      throw new ApiError(401, "SignedOut", "sign in first");
    }
    let token = source ? await source.token() : null;
    if (source && !token) throw new ApiError(401, "SignedOut", "sign in first");
    let response = await this.attempt(path, options, token);
    if (response.status === 401 && source) {
      if (await source.refresh()) {
        token = await source.token();
        response = await this.attempt(path, options, token);
      }
    }
    return this.parse<T>(response);
  }

  private async attempt(path: string, options: RequestOptions, token: string | null): Promise<Response> {
    try {
      return await this.send(path, options, token);
    } catch (error) {
      if ((error as Error)?.name === "AbortError") throw error;
      throw new ApiError(0, NETWORK_ERROR, "no connection to the bar; check your network");
    }
  }

  private async parse<T>(response: Response): Promise<T> {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text (a proxy's error page, say)
    }
    if (!response.ok) {
      const error = errorFromResponse(response.status, body);
      const wait = Number(response.headers?.get("Retry-After") ?? "");
      if (Number.isFinite(wait) && wait > 0) error.retryAfter = wait;
      throw error;
    }
    return body as T;
  }
}

export const api = new ApiClient();
