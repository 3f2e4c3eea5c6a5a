/** Whether the browser has a network: ordering needs it, the cached menu does not. */
import { readonly, ref } from "vue";

const state = ref(typeof navigator === "undefined" ? true : navigator.onLine !== false);
if (typeof window !== "undefined") {
  window.addEventListener("online", () => (state.value = true));
  window.addEventListener("offline", () => (state.value = false));
}
export const online = readonly(state);

/** Register the service worker (production builds only; `npm run dev` has none). */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || typeof navigator === "undefined" || !("serviceWorker" in navigator)) return;
  const register = () => void navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}
