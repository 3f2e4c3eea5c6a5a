/**
 * Admin sign-in: OAuth2 authorization code with PKCE (S256) against the hosted login,
 * the same code path for a Cognito user pool domain (AWS) and the local gateway's
 * stand-in (`auth.domain` is "" there, so URLs are relative to this origin).
 *
 *   signIn()      -> {domain}/oauth2/authorize?...&state&code_challenge   (a redirect)
 *   complete(url) <- /auth/callback?code&state  -> POST {domain}/oauth2/token
 *   token()       the access token, refreshed (grant_type=refresh_token) before it expires
 *   signOut()     revoke the refresh token, -> {domain}/logout?client_id&logout_uri
 *
 * The session lives in localStorage, shared by this origin's tabs: a second console tab
 * and the bar's TV display (/display) open signed in while the session is valid, instead
 * of asking for the password again. What keeps that safe enough for a token that can
 * change the menu: the refresh token is revoked at sign-out (awaited, with a short
 * timeout, before leaving), a sign-out or a refused refresh in one tab ends the session
 * in every tab (`storage` events), the access token lives an hour and the refresh token
 * as long as the user pool client says. The PKCE state of a sign-in in progress stays
 * in sessionStorage: it belongs to the tab that started it (two tabs signing in at once
 * do not overwrite each other's). Guests' tokens are separate (session.ts).
 */
import { shallowRef } from "vue";
import type { TokenSource } from "./api";
import type { AuthConfig } from "./config";
import type { KeyValueStore } from "./session";

export const ADMIN_SESSION_KEY = "da.admin-session";
export const PENDING_KEY = "da.admin-pending";
/** Refresh this long before the access token expires, so none expires in flight. */
export const REFRESH_EARLY_MS = 120_000;
/** Sign-out waits this long for the revoke before leaving anyway. */
export const REVOKE_TIMEOUT_MS = 3_000;
const PENDING_TTL_MS = 10 * 60_000;

// ---------------------------------------------------------------- PKCE (RFC 7636)

const VERIFIER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

export function base64UrlBytes(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random string from the unreserved alphabet (43-128 characters for a verifier). */
export function randomString(length = 64, random: (n: number) => Uint8Array = randomBytes): string {
  // 256 % 66 != 0, so reject the top of the byte range: no character is likelier than another.
  const limit = 256 - (256 % VERIFIER_ALPHABET.length);
  let out = "";
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < limit && out.length < length) out += VERIFIER_ALPHABET[byte % VERIFIER_ALPHABET.length];
    }
  }
  return out;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** code_challenge = BASE64URL(SHA-256(ASCII(code_verifier))), unpadded. */
export async function challengeFor(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlBytes(new Uint8Array(digest));
}

// ---------------------------------------------------------------- the session

export interface AdminSession {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  username: string;
}

interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
  redirectUri: string;
  createdAt: number;
}

interface TokenAnswer {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
}

export type AuthPhase = "signed-out" | "redirecting" | "exchanging" | "signed-in" | "refreshing" | "error";

/** The readable part of a JWT (no signature check: the API checks; this is for display). */
export function jwtClaims(token: string): Record<string, unknown> {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function isSession(value: unknown): value is AdminSession {
  const v = value as AdminSession | null;
  return !!v && typeof v.accessToken === "string" && typeof v.refreshToken === "string" && typeof v.expiresAt === "number";
}

export interface AdminAuthDeps {
  config: () => AuthConfig;
  /** This app's origin, for redirect_uri and logout_uri. */
  origin: () => string;
  /** Where the session is kept (localStorage by default: shared by tabs). */
  store?: KeyValueStore | null;
  /** Where a sign-in in progress is kept (sessionStorage by default; `store` when only that is given). */
  pendingStore?: KeyValueStore | null;
  /** Subscribe to other tabs' changes of `store` (window "storage" events by default). */
  onStorage?: ((listener: (key: string | null, value: string | null) => void) => void) | null;
  fetch?: typeof fetch;
  now?: () => number;
  /** Leave the app (to the hosted login or its logout). */
  navigate?: (url: string) => void;
  random?: (n: number) => Uint8Array;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

export class AdminAuth implements TokenSource {
  /** Reactive: the console shows its sign-in page or its content from this. */
  readonly session = shallowRef<AdminSession | null>(null);
  readonly phase = shallowRef<AuthPhase>("signed-out");
  readonly error = shallowRef("");
  private inflight: Promise<boolean> | null = null;
  private timer: unknown = null;
  private readonly store: KeyValueStore | null;
  private readonly pendingStore: KeyValueStore | null;
  private readonly now: () => number;
  private readonly fetcher: typeof fetch;

  constructor(private readonly deps: AdminAuthDeps) {
    this.store = deps.store === undefined ? defaultStore("localStorage") : deps.store;
    this.pendingStore =
      deps.pendingStore !== undefined ? deps.pendingStore : deps.store !== undefined ? deps.store : defaultStore("sessionStorage");
    this.now = deps.now ?? Date.now;
    this.fetcher = deps.fetch ?? ((...args) => globalThis.fetch(...args));
    const saved = this.read(ADMIN_SESSION_KEY);
    if (isSession(saved)) {
      this.session.value = saved;
      this.phase.value = "signed-in";
      this.scheduleRefresh();
    }
    const listen = deps.onStorage === undefined ? defaultStorageListener : deps.onStorage;
    listen?.((key, value) => {
      if (key !== null && key !== ADMIN_SESSION_KEY) return;
      this.adopt(value);
    });
  }

  /** Another tab signed in, refreshed or signed out: follow it. */
  private adopt(raw: string | null): void {
    let next: unknown = null;
    try {
      next = JSON.parse(raw ?? "null");
    } catch {
      next = null;
    }
    if (isSession(next)) {
      this.session.value = next;
      this.phase.value = "signed-in";
      this.error.value = "";
      this.scheduleRefresh();
    } else if (this.session.value) {
      this.forget(false);
    }
  }

  get signedIn(): boolean {
    return this.session.value !== null;
  }

  private url(path: string): string {
    return `${this.deps.config().domain}${path}`;
  }

  private storeFor(key: string): KeyValueStore | null {
    return key === PENDING_KEY ? this.pendingStore : this.store;
  }

  private read(key: string): unknown {
    try {
      return JSON.parse(this.storeFor(key)?.getItem(key) ?? "null");
    } catch {
      return null;
    }
  }

  private write(key: string, value: unknown): void {
    try {
      const store = this.storeFor(key);
      if (value === null) store?.removeItem(key);
      else store?.setItem(key, JSON.stringify(value));
    } catch {
      // storage disabled: the session lives for this page only
    }
  }

  /** The authorize URL (and the state + verifier kept for the callback). */
  async authorizeUrl(returnTo = "/admin"): Promise<string> {
    const cfg = this.deps.config();
    const verifier = randomString(64, this.deps.random);
    const state = randomString(32, this.deps.random);
    const redirectUri = `${this.deps.origin()}${cfg.redirectPath}`;
    const pending: PendingSignIn = { state, verifier, returnTo: safeReturn(returnTo), redirectUri, createdAt: this.now() };
    this.write(PENDING_KEY, pending);
    const params = new URLSearchParams({
      response_type: "code",
      client_id: cfg.clientId,
      redirect_uri: redirectUri,
      scope: cfg.scopes.join(" "),
      state,
      code_challenge: await challengeFor(verifier),
      code_challenge_method: "S256",
    });
    return `${this.url("/oauth2/authorize")}?${params.toString()}`;
  }

  async signIn(returnTo = "/admin"): Promise<void> {
    this.phase.value = "redirecting";
    const url = await this.authorizeUrl(returnTo);
    (this.deps.navigate ?? ((u: string) => location.assign(u)))(url);
  }

  /** The callback: check the state, trade the code for tokens. Returns where to go next. */
  async complete(callbackUrl: string): Promise<string> {
    const params = new URL(callbackUrl, "http://x").searchParams;
    const pending = this.read(PENDING_KEY) as PendingSignIn | null;
    this.write(PENDING_KEY, null); // one attempt per sign-in, right or wrong
    try {
      const error = params.get("error");
      if (error) throw new AuthError(error, `the sign-in page answered: ${error}`);
      const state = params.get("state") ?? "";
      const code = params.get("code") ?? "";
      if (!pending || !state || pending.state !== state || this.now() - pending.createdAt > PENDING_TTL_MS) {
        // A callback this tab did not start (or one from long ago): never trade its code.
        throw new AuthError("state_mismatch", "this sign-in was not started here, or it took too long; sign in again");
      }
      if (!code) throw new AuthError("invalid_request", "the sign-in page sent no code");
      this.phase.value = "exchanging";
      const answer = await this.post({
        grant_type: "authorization_code",
        client_id: this.deps.config().clientId,
        code,
        redirect_uri: pending.redirectUri,
        code_verifier: pending.verifier,
      });
      this.save(answer, "");
      return pending.returnTo;
    } catch (error) {
      this.phase.value = "error";
      this.error.value = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  private async post(form: Record<string, string>): Promise<TokenAnswer> {
    let response: Response;
    try {
      response = await this.fetcher(this.url("/oauth2/token"), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
      });
    } catch {
      throw new AuthError("network", "no connection to the sign-in service");
    }
    let body: TokenAnswer = {};
    try {
      body = (await response.json()) as TokenAnswer;
    } catch {
      // not JSON
    }
    if (!response.ok || !body.access_token) {
      throw new AuthError(body.error ?? `http_${response.status}`, `sign-in refused (${body.error ?? response.status})`);
    }
    return body;
  }

  private save(answer: TokenAnswer, previousRefresh: string): void {
    const access = answer.access_token ?? "";
    const claims = jwtClaims(access);
    const session: AdminSession = {
      accessToken: access,
      idToken: answer.id_token ?? this.session.value?.idToken ?? "",
      // Cognito keeps the refresh token on a refresh grant (it sends none back).
      refreshToken: answer.refresh_token ?? previousRefresh,
      expiresAt: this.now() + Math.max(0, (answer.expires_in ?? 3600) * 1000),
      username: typeof claims.username === "string" ? claims.username : "admin",
    };
    this.session.value = session;
    this.phase.value = "signed-in";
    this.error.value = "";
    this.write(ADMIN_SESSION_KEY, session);
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    const set = this.deps.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    const clear = this.deps.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
    if (this.timer !== null) clear(this.timer);
    this.timer = null;
    const session = this.session.value;
    if (!session) return;
    const wait = Math.max(0, session.expiresAt - REFRESH_EARLY_MS - this.now());
    this.timer = set(() => {
      this.timer = null;
      void this.refresh();
    }, wait);
  }

  /** A fresh access token (refreshed first when it is about to expire), or null. */
  async token(): Promise<string | null> {
    const session = this.session.value;
    if (!session) return null;
    if (this.now() >= session.expiresAt - REFRESH_EARLY_MS) await this.refresh();
    return this.session.value?.accessToken ?? null;
  }

  /** One refresh at a time; false when the session is over (then signed out). */
  refresh(): Promise<boolean> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<boolean> {
    // Another tab may have refreshed already (the tabs share the session).
    const shared = this.read(ADMIN_SESSION_KEY);
    const mine = this.session.value;
    if (isSession(shared) && shared.accessToken !== mine?.accessToken && shared.expiresAt - REFRESH_EARLY_MS > this.now()) {
      this.session.value = shared;
      this.phase.value = "signed-in";
      this.scheduleRefresh();
      return true;
    }
    const session = this.session.value;
    if (!session?.refreshToken) return false;
    this.phase.value = "refreshing";
    try {
      const answer = await this.post({
        grant_type: "refresh_token",
        client_id: this.deps.config().clientId,
        refresh_token: session.refreshToken,
      });
      this.save(answer, session.refreshToken);
      return true;
    } catch (error) {
      if (error instanceof AuthError && error.code === "network") {
        this.phase.value = "signed-in"; // offline: keep the session, try again later
        return false;
      }
      this.forget();
      this.error.value = "your session ended; sign in again";
      return false;
    }
  }

  /** Drop the tokens here (no redirect); `everywhere` also clears the shared copy. */
  forget(everywhere = true): void {
    const clear = this.deps.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
    if (this.timer !== null) clear(this.timer);
    this.timer = null;
    this.session.value = null;
    this.phase.value = "signed-out";
    if (everywhere) this.write(ADMIN_SESSION_KEY, null);
  }

  /** Revoke the refresh token (waited for, at most REVOKE_TIMEOUT_MS), forget the
   * session in every tab, and only then end it at the hosted login: navigating first
   * would abort the revoke and leave the refresh token working. */
  async signOut(): Promise<void> {
    const cfg = this.deps.config();
    const refresh = this.session.value?.refreshToken;
    this.forget();
    if (refresh) {
      const set = this.deps.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
      const clear = this.deps.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
      const controller = typeof AbortController === "function" ? new AbortController() : null;
      let timer: unknown = null;
      const timeout = new Promise<void>((resolve) => {
        timer = set(() => {
          controller?.abort();
          resolve();
        }, REVOKE_TIMEOUT_MS);
      });
      const revoke = this.fetcher(this.url("/oauth2/revoke"), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: refresh, client_id: cfg.clientId }).toString(),
        signal: controller?.signal,
      })
        .then(async (response) => {
          await response.text().catch(() => ""); // the whole answer, not just its headers
        })
        .catch(() => {
          // best effort: the tokens are gone from this browser either way
        });
      await Promise.race([revoke, timeout]);
      clear(timer);
    }
    const params = new URLSearchParams({ client_id: cfg.clientId, logout_uri: `${this.deps.origin()}${cfg.logoutPath}` });
    (this.deps.navigate ?? ((u: string) => location.assign(u)))(`${this.url("/logout")}?${params.toString()}`);
  }
}

/** Only a path inside this app: never an open redirect to another site. */
export function safeReturn(path: string): string {
  return /^\/(?!\/)[^\\]*$/.test(path) && (path.startsWith("/admin") || path.startsWith("/display")) ? path : "/admin";
}

function defaultStore(kind: "localStorage" | "sessionStorage"): KeyValueStore | null {
  try {
    return globalThis[kind] ?? null;
  } catch {
    return null;
  }
}

function defaultStorageListener(listener: (key: string | null, value: string | null) => void): void {
  if (typeof globalThis.addEventListener !== "function") return;
  globalThis.addEventListener("storage", (event: Event) => {
    const e = event as StorageEvent;
    if (e.storageArea && e.storageArea !== defaultStore("localStorage")) return;
    listener(e.key, e.newValue);
  });
}
