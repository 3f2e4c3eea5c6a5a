/**
 * The guest session: the token pair from POST /register (or /auth/refresh) and who
 * the guest is, kept in localStorage so a reload (or a closed tab) keeps them signed in.
 */
import { shallowRef } from "vue";

export interface Guest {
  id: string;
  name: string;
}

export interface GuestSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds after which the access token is treated as expired. */
  expiresAt: number;
  guest: Guest;
}

/** The answer of POST /register and POST /auth/refresh. */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  guest: Guest & Record<string, unknown>;
}

export type KeyValueStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export const SESSION_KEY = "da.guest-session";
/** Refresh a little early so a token never expires in flight. */
const EARLY_MS = 60_000;

function defaultStore(): KeyValueStore | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled (private mode in some browsers)
  }
}

export function sessionFromTokens(tokens: TokenResponse, now = Date.now()): GuestSession {
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: now + Math.max(0, tokens.expires_in * 1000 - EARLY_MS),
    guest: { id: String(tokens.guest.id), name: String(tokens.guest.name) },
  };
}

function isSession(value: unknown): value is GuestSession {
  const v = value as GuestSession | null;
  return (
    !!v &&
    typeof v.accessToken === "string" &&
    typeof v.refreshToken === "string" &&
    typeof v.expiresAt === "number" &&
    !!v.guest &&
    typeof v.guest.id === "string" &&
    typeof v.guest.name === "string"
  );
}

export class SessionStore {
  /** Reactive: views re-render when the guest signs in or out. */
  readonly current = shallowRef<GuestSession | null>(null);

  constructor(private readonly store: KeyValueStore | null = defaultStore()) {
    this.current.value = this.read();
  }

  private read(): GuestSession | null {
    try {
      const parsed: unknown = JSON.parse(this.store?.getItem(SESSION_KEY) ?? "null");
      return isSession(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }

  get(): GuestSession | null {
    return this.current.value;
  }

  save(session: GuestSession): void {
    this.current.value = session;
    try {
      this.store?.setItem(SESSION_KEY, JSON.stringify(session));
    } catch {
      // Quota or disabled storage: the session still lives for this page.
    }
  }

  signIn(tokens: TokenResponse, now = Date.now()): GuestSession {
    const session = sessionFromTokens(tokens, now);
    this.save(session);
    return session;
  }

  clear(): void {
    this.current.value = null;
    try {
      this.store?.removeItem(SESSION_KEY);
    } catch {
      // nothing to clear
    }
  }

  /** Another tab rotated the tokens: take its copy instead of reusing ours (reuse revokes). */
  reload(): void {
    this.current.value = this.read();
  }

  isExpired(now = Date.now()): boolean {
    const session = this.current.value;
    return !!session && now >= session.expiresAt;
  }
}

export const guestSession = new SessionStore();

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === SESSION_KEY) guestSession.reload();
  });
}
