/** The console's toasts: one queue for the whole console (AdminView shows it). */
import { reactive } from "vue";

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error" | "order";
}

export const toasts = reactive<Toast[]>([]);
let toastId = 0;

export function toast(text: string, kind: Toast["kind"] = "info", ms = 5000): void {
  const item = { id: ++toastId, text, kind };
  toasts.push(item);
  setTimeout(() => dismissToast(item.id), ms);
}

export function dismissToast(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
}
