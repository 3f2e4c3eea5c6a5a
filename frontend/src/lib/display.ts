/**
 * The bar display's join QR: the invite the host chose for the TV ("Show on TV" in
 * Invites opens /display?code=...), never one picked on its own (the newest might be a
 * one-use code meant for one person). The choice is kept in this browser, so a reload
 * of the TV keeps showing it.
 */
export interface JoinCode {
  code: string;
  status: string;
  qr_svg: string | null;
  uses: number;
  max_uses: number;
  created_at: string;
  expires_at?: string;
}

export const DISPLAY_CODE_KEY = "da.display-code";

export type Choice<T> = { code: T; problem: "" } | { code: null; problem: "none" | "missing" | "unusable" };

/** Whether guests can still join with it: active, with a QR, uses left, not expired. */
export function usable(code: JoinCode, now = Date.now()): boolean {
  return code.status === "active" && !!code.qr_svg && code.uses < code.max_uses && !isExpired(code, now);
}

/** The chosen invite if guests can still use it; else why not (for the TV's hint). */
export function chosenJoinCode<T extends JoinCode>(codes: T[], chosen: string | null, now = Date.now()): Choice<T> {
  const wanted = (chosen ?? "").trim().toUpperCase();
  if (!wanted) return { code: null, problem: "none" };
  const found = codes.find((c) => c.code.toUpperCase() === wanted);
  if (!found) return { code: null, problem: "missing" };
  return usable(found, now) ? { code: found, problem: "" } : { code: null, problem: "unusable" };
}

/** The code to show: the URL's ?code= (remembered), else the one remembered before. */
export function displayCode(query: string | null, store: KeyValue | null = safeLocal()): string | null {
  const fromUrl = (query ?? "").trim();
  try {
    if (fromUrl) {
      store?.setItem(DISPLAY_CODE_KEY, fromUrl);
      return fromUrl;
    }
    return store?.getItem(DISPLAY_CODE_KEY) ?? null;
  } catch {
    return fromUrl || null;
  }
}

/** "Show on TV": remember the choice here and return the display's link for it. */
export function chooseForDisplay(code: string, store: KeyValue | null = safeLocal()): string {
  try {
    store?.setItem(DISPLAY_CODE_KEY, code);
  } catch {
    // storage disabled: the link still carries the code
  }
  return `/display?code=${encodeURIComponent(code)}`;
}

type KeyValue = Pick<Storage, "getItem" | "setItem">;

function safeLocal(): KeyValue | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function isExpired(code: { expires_at?: string }, now: number): boolean {
  const at = code.expires_at ? Date.parse(code.expires_at) : NaN;
  return Number.isFinite(at) && at <= now;
}
