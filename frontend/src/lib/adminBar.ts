/** The bar's settings (open or closed, the guests' message, limits) and tonight's numbers. */
import { adminGet as get, adminSend as send } from "./admin";
import type { Stats } from "./stats";

export interface BarSettings {
  is_open: boolean;
  message: string;
  max_queue: number;
  max_active_per_guest: number;
}

export const barApi = {
  get: () => get<BarSettings>("/admin/bar"),
  update: (body: Partial<BarSettings>) => send<BarSettings>("PUT", "/admin/bar", body),
  stats: () => get<Stats>("/admin/stats"),
};
