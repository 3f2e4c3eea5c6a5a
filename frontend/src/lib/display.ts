/** The bar display's choice of join QR: the newest invite still usable, with a QR. */
export interface JoinCode {
  status: string;
  qr_svg: string | null;
  uses: number;
  max_uses: number;
  created_at: string;
}

export function newestJoinCode<T extends JoinCode>(codes: T[], now = Date.now()): T | null {
  const usable = codes.filter(
    (c) => c.status === "active" && !!c.qr_svg && c.uses < c.max_uses && !isExpired(c as unknown as { expires_at?: string }, now),
  );
  usable.sort((a, b) => b.created_at.localeCompare(a.created_at));
  return usable[0] ?? null;
}

function isExpired(code: { expires_at?: string }, now: number): boolean {
  const at = code.expires_at ? Date.parse(code.expires_at) : NaN;
  return Number.isFinite(at) && at <= now;
}
