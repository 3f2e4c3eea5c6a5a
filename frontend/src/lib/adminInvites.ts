/** Invite codes in the console: create, list, revoke; the status words people read. */
import { adminGet as get, adminSend as send, seg } from "./admin";

export interface InviteCode {
  code: string;
  join_url: string;
  qr_svg: string | null;
  status: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  note: string;
  revoked_at: string | null;
  created_by: string;
  created_at: string;
}

/** Every status the API gives an invite (chalicelib/guests.py). */
export const INVITE_STATUSES = ["active", "used_up", "expired", "revoked"] as const;
export type InviteStatus = (typeof INVITE_STATUSES)[number];

export function isInviteStatus(value: string): value is InviteStatus {
  return (INVITE_STATUSES as readonly string[]).includes(value);
}

export const invitesApi = {
  list: () => get<InviteCode[]>("/admin/registration-codes"),
  create: (body: { max_uses: number; expires_in_hours: number; note: string }) =>
    send<InviteCode>("POST", "/admin/registration-codes", body),
  revoke: (code: string) => send<InviteCode>("DELETE", `/admin/registration-codes/${seg(code)}`),
};
