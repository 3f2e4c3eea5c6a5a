/**
 * The admin console's base: the signed-in admin (hosted login, registered as the api
 * client's "admin" token source) and the two request helpers every admin call uses.
 * The calls themselves live by concern: adminMenu.ts (drinks, sections, ingredients),
 * adminOrders.ts (the board), adminInvites.ts, adminBar.ts (settings, numbers);
 * adminToasts.ts and adminErrors.ts are the console's toasts and error words.
 * Imported only by lazy admin/display views.
 */
import { AdminAuth } from "./adminAuth";
import { api } from "./api";
import { config } from "./config";

export const adminAuth = new AdminAuth({
  config: () => config().auth,
  origin: () => location.origin,
});
api.useTokenSource("admin", adminAuth);

/** GET an admin route (bearer token of the signed-in admin). */
export const adminGet = <T>(path: string) => api.request<T>(path, { auth: "admin" });
/** A write to an admin route. */
export const adminSend = <T>(method: string, path: string, body?: unknown) =>
  api.request<T>(path, { method, auth: "admin", body });

/** A path segment, escaped. */
export const seg = (value: string) => encodeURIComponent(value);
