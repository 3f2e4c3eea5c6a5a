/**
 * A client for AppSync Events over WebSocket (the local gateway speaks the same protocol):
 *
 *   open wss://.../event/realtime with subprotocols
 *        ["aws-appsync-event-ws", "header-" + base64url(JSON auth header)]
 *   -> {type: "connection_init"}          <- {type: "connection_ack", connectionTimeoutMs}
 *   -> {type: "subscribe", id, channel, authorization}
 *                                          <- subscribe_success | subscribe_error
 *                                          <- {type: "data", id, event: "<JSON string>"}
 *                                          <- {type: "ka"} (keep-alive)
 *
 * It reconnects with jittered exponential backoff and resubscribes on its own; no
 * keep-alive within connectionTimeoutMs counts as a dead connection.
 */

export type RealtimeState = "idle" | "connecting" | "connected" | "reconnecting" | "stopped";

export type AuthHeader = Record<string, string>;

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RealtimeOptions {
  wsUrl: string;
  /** The auth header for the connection and each subscription: {host, Authorization} (see realtimeAuthHeader). */
  auth: () => Promise<AuthHeader>;
  socket?: SocketFactory;
  timers?: Timers;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onState?: (state: RealtimeState) => void;
  /** A subscription is live: a good moment to fetch what was missed meanwhile. */
  onSubscribed?: (channel: string) => void;
  onError?: (message: string) => void;
}

export type EventHandler = (event: unknown) => void;

interface Subscription {
  id: string;
  channel: string;
  handler: EventHandler;
  live: boolean;
  /** Called each time this subscription is confirmed (the first time and after every reconnect). */
  onLive?: () => void;
}

const DEFAULT_KEEPALIVE_MS = 300_000;
const OPEN = 1;

export function base64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function subprotocols(header: AuthHeader): string[] {
  return ["aws-appsync-event-ws", `header-${base64Url(JSON.stringify(header))}`];
}

/**
 * What the Lambda authorizer (AWS) and the gateway (locally) read: the token when there is
 * one, else the literal "anonymous" (allowed on /menu/updates only). AppSync calls a
 * Lambda authorizer only for a request with an Authorization header, so nobody signed in
 * still sends one; an API key header would never reach the authorizer.
 */
export const ANONYMOUS = "anonymous";

export function realtimeAuthHeader(host: string, token: string | null | undefined): AuthHeader {
  return { host, Authorization: token || ANONYMOUS };
}

export interface RealtimeEndpoints {
  wsUrl: string;
  httpUrl?: string;
}

export interface ClientFactoryOptions extends Omit<RealtimeOptions, "wsUrl" | "auth"> {
  /** The bearer token to present (a guest's or the admin's), or none: "anonymous". */
  token: () => Promise<string | null | undefined>;
}

/**
 * The one way the app makes a realtime client: the endpoint from /config.json, the auth
 * header from `token` (fetched anew for the connection and each subscription, so a
 * refreshed token is used). Null when no realtime endpoint is configured: callers poll.
 */
export function createRealtimeClient(endpoints: RealtimeEndpoints, options: ClientFactoryOptions): RealtimeClient | null {
  if (!endpoints.wsUrl) return null;
  const { token, ...rest } = options;
  const host = hostOf(endpoints.httpUrl || endpoints.wsUrl);
  return new RealtimeClient({
    onError: (message) => console.warn(message),
    ...rest,
    wsUrl: endpoints.wsUrl,
    auth: async () => realtimeAuthHeader(host, await token()),
  });
}

/** The host AppSync expects in the auth header: that of the HTTP endpoint. */
export function hostOf(url: string): string {
  try {
    return new URL(url, typeof location !== "undefined" ? location.href : "http://localhost").host;
  } catch {
    return "";
  }
}

/** Backoff before reconnect attempt n (0-based): base * 2^n, capped, with "equal jitter". */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

let counter = 0;
const newId = (): string =>
  typeof crypto !== "undefined" && typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `sub-${Date.now().toString(36)}-${++counter}`;

export class RealtimeClient {
  private readonly subs = new Map<string, Subscription>();
  private socket: SocketLike | null = null;
  private state: RealtimeState = "idle";
  private attempt = 0;
  private retryTimer: unknown = null;
  private keepAliveTimer: unknown = null;
  private keepAliveMs = DEFAULT_KEEPALIVE_MS;
  private readonly timers: Timers;
  private readonly socketFactory: SocketFactory;
  private readonly random: () => number;

  constructor(private readonly options: RealtimeOptions) {
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.socketFactory =
      options.socket ?? ((url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike);
    this.random = options.random ?? Math.random;
  }

  get currentState(): RealtimeState {
    return this.state;
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Connected, and every subscription confirmed. */
  get live(): boolean {
    return this.state === "connected" && [...this.subs.values()].every((s) => s.live);
  }

  private setState(state: RealtimeState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }

  start(): void {
    if (this.state === "idle" || this.state === "stopped") {
      this.attempt = 0;
      void this.connect();
    }
  }

  stop(): void {
    this.setState("stopped");
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    for (const sub of this.subs.values()) sub.live = false;
  }

  /** Reconnect now instead of waiting out the backoff (the network came back, the tab is visible). */
  nudge(): void {
    if (this.state === "reconnecting") {
      this.clearTimers();
      this.attempt = 0;
      void this.connect();
    }
  }

  /** `onLive`: each time the server confirms it (after a reconnect: fetch what was missed). */
  subscribe(channel: string, handler: EventHandler, onLive?: () => void): () => void {
    const sub: Subscription = { id: newId(), channel, handler, live: false, onLive };
    this.subs.set(sub.id, sub);
    if (this.state === "connected") void this.sendSubscribe(sub);
    return () => {
      this.subs.delete(sub.id);
      if (this.state === "connected" && this.socket?.readyState === OPEN) {
        this.socket.send(JSON.stringify({ type: "unsubscribe", id: sub.id }));
      }
    };
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    if (this.keepAliveTimer !== null) this.timers.clearTimeout(this.keepAliveTimer);
    this.retryTimer = this.keepAliveTimer = null;
  }

  private async connect(): Promise<void> {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let header: AuthHeader;
    try {
      header = await this.options.auth();
    } catch (error) {
      this.options.onError?.(`realtime auth failed: ${String(error)}`);
      this.scheduleReconnect();
      return;
    }
    if (this.state === "stopped") return;
    let socket: SocketLike;
    try {
      socket = this.socketFactory(this.options.wsUrl, subprotocols(header));
    } catch (error) {
      this.options.onError?.(`realtime connect failed: ${String(error)}`);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init" }));
    socket.onmessage = (event) => {
      if (this.socket === socket) this.handle(event.data);
    };
    socket.onerror = () => {
      // onclose follows; reconnecting is decided there
    };
    socket.onclose = () => {
      if (this.socket !== socket) return; // an old socket we already replaced
      this.socket = null;
      for (const sub of this.subs.values()) sub.live = false;
      if (this.state !== "stopped") this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.state === "stopped") return;
    this.clearTimers();
    this.setState("reconnecting");
    const delay = backoffDelay(
      this.attempt,
      this.options.baseDelayMs ?? 1000,
      this.options.maxDelayMs ?? 30_000,
      this.random,
    );
    this.attempt += 1;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  /** Drop a connection that went quiet, and start over. */
  private restart(reason: string): void {
    this.options.onError?.(reason);
    const socket = this.socket;
    this.socket = null;
    for (const sub of this.subs.values()) sub.live = false;
    socket?.close(4000, reason.slice(0, 100));
    this.scheduleReconnect();
  }

  private armKeepAlive(): void {
    if (this.keepAliveTimer !== null) this.timers.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = this.timers.setTimeout(() => {
      this.keepAliveTimer = null;
      this.restart("no keep-alive from the realtime endpoint");
    }, this.keepAliveMs);
  }

  private async sendSubscribe(sub: Subscription): Promise<void> {
    let authorization: AuthHeader;
    try {
      authorization = await this.options.auth();
    } catch {
      return; // the next reconnect tries again
    }
    if (this.socket?.readyState !== OPEN || !this.subs.has(sub.id)) return;
    this.socket.send(JSON.stringify({ type: "subscribe", id: sub.id, channel: sub.channel, authorization }));
  }

  /** One message from the server. Public for tests. */
  handle(raw: unknown): void {
    let message: { type?: string; id?: string; event?: unknown; connectionTimeoutMs?: number; errors?: unknown };
    try {
      message = JSON.parse(String(raw));
    } catch {
      return;
    }
    switch (message.type) {
      case "connection_ack":
        this.attempt = 0;
        this.keepAliveMs = message.connectionTimeoutMs || DEFAULT_KEEPALIVE_MS;
        this.setState("connected");
        this.armKeepAlive();
        for (const sub of this.subs.values()) void this.sendSubscribe(sub);
        break;
      case "ka":
        this.armKeepAlive();
        break;
      case "subscribe_success": {
        const sub = message.id ? this.subs.get(message.id) : undefined;
        if (sub) {
          sub.live = true;
          sub.onLive?.();
          this.options.onSubscribed?.(sub.channel);
        }
        break;
      }
      case "subscribe_error": {
        const sub = message.id ? this.subs.get(message.id) : undefined;
        if (sub) sub.live = false;
        this.options.onError?.(`subscribe to ${sub?.channel ?? "?"} refused: ${JSON.stringify(message.errors ?? [])}`);
        break;
      }
      case "data": {
        const sub = message.id ? this.subs.get(message.id) : undefined;
        if (!sub) break;
        let event: unknown = message.event;
        if (typeof event === "string") {
          try {
            event = JSON.parse(event);
          } catch {
            // a plain string event: hand it over as it is
          }
        }
        sub.handler(event);
        break;
      }
      case "error": {
        // An error about one operation (it carries the id) is not a dead connection.
        const sub = message.id ? this.subs.get(message.id) : undefined;
        if (sub) {
          sub.live = false;
          this.options.onError?.(`realtime error on ${sub.channel}: ${JSON.stringify(message.errors ?? [])}`);
          break;
        }
        this.restart(`realtime error: ${JSON.stringify(message.errors ?? [])}`);
        break;
      }
      case "connection_error":
        this.restart(`realtime error: ${JSON.stringify(message.errors ?? [])}`);
        break;
      default:
        break;
    }
  }
}
