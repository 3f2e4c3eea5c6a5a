/**
 * The runtime configuration: one build serves local and AWS, and /config.json
 * (served by the local gateway, or uploaded next to the app in AWS) says where things are.
 * Every field is optional; what is missing falls back to a safe default.
 */

export interface AuthConfig {
  domain: string;
  clientId: string;
  redirectPath: string;
  logoutPath: string;
  scopes: string[];
}

export interface RealtimeConfig {
  httpUrl: string;
  wsUrl: string;
  apiKey: string;
}

export interface AppConfig {
  stage: string;
  apiUrl: string;
  apiKey: string;
  auth: AuthConfig;
  realtime: RealtimeConfig;
}

type Loose = Record<string, unknown>;

const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);

const obj = (value: unknown): Loose =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Loose) : {};

/** A usable config from whatever /config.json holds (or nothing at all). */
export function normalizeConfig(raw: unknown): AppConfig {
  const data = obj(raw);
  const auth = obj(data.auth);
  const realtime = obj(data.realtime);
  const scopes = Array.isArray(auth.scopes) ? auth.scopes.filter((s): s is string => typeof s === "string") : [];
  return {
    stage: str(data.stage, "unknown"),
    // No trailing slash: paths are appended as "/drinks".
    apiUrl: str(data.apiUrl, "/api").replace(/\/+$/, ""),
    apiKey: str(data.apiKey),
    auth: {
      domain: str(auth.domain).replace(/\/+$/, ""),
      clientId: str(auth.clientId),
      redirectPath: str(auth.redirectPath, "/auth/callback"),
      logoutPath: str(auth.logoutPath, "/admin"),
      scopes: scopes.length ? scopes : ["openid", "email", "profile"],
    },
    realtime: {
      httpUrl: str(realtime.httpUrl),
      wsUrl: str(realtime.wsUrl),
      apiKey: str(realtime.apiKey),
    },
  };
}

let current: AppConfig = normalizeConfig({});

export function config(): AppConfig {
  return current;
}

/** Fetch /config.json once at startup; the app still starts (with defaults) if it fails. */
export async function loadConfig(fetcher: typeof fetch = fetch): Promise<AppConfig> {
  try {
    const response = await fetcher("/config.json", { cache: "no-store" });
    current = normalizeConfig(response.ok ? await response.json() : {});
  } catch {
    current = normalizeConfig({});
  }
  return current;
}

/** For tests and for the dev server. */
export function setConfig(value: AppConfig): void {
  current = value;
}
