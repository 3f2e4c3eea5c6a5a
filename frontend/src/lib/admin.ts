/**
 * The admin console's shared pieces: the signed-in admin (hosted login, registered as
 * the api client's "admin" token source), typed calls to the admin API, a toast
 * queue, and the live order board. Imported only by lazy admin/display views.
 */
import { reactive } from "vue";
import { AdminAuth } from "./adminAuth";
import { api, ApiError } from "./api";
import { fieldErrors } from "./fieldErrors";
import { OrderBoard } from "./board";
import { config } from "./config";
import { hostOf, RealtimeClient, realtimeAuthHeader } from "./realtime";
import type { Drink, DrinkIngredient, Order, OrderStatus } from "./types";

export const adminAuth = new AdminAuth({
  config: () => config().auth,
  origin: () => location.origin,
});
api.useTokenSource("admin", adminAuth);

// ---------------------------------------------------------------- shapes

export interface AdminDrink extends Drink {
  image_key: string | null;
  position: number;
  archived: boolean;
  photo_prompt: string | null;
  photo_prompt_source: string | null;
  /** The AI photo made from the prompt (kept while an uploaded photo wins). */
  generated_image: GeneratedImage | null;
  created_at: string;
  updated_at: string;
}

export interface GeneratedImage {
  url: string;
  width: number | null;
  height: number | null;
  seed: number | null;
  model_id: string | null;
  prompt_version: string | null;
  attempt: number | null;
  created_at: string | null;
}

export interface AdminSection {
  id: string;
  name: string;
  description: string;
  position: number;
  archived: boolean;
  active_drinks: number;
}

export const FLAVOURS = ["sweet", "sour", "bitter", "fruity", "herbal", "spicy", "smoky", "creamy", "fizzy"] as const;
export type Flavour = (typeof FLAVOURS)[number];
export const ALLERGEN_KEYS = ["egg", "dairy", "tree_nuts", "peanuts", "gluten", "soy", "fish", "sulphites", "celery"] as const;

/** An ingredient's taste (0-3 per flavour) and contents, edited in the console (docs/recommendations.md). */
export interface IngredientTraits {
  flavour: Record<Flavour, number>;
  allergens: string[];
  vegan: boolean;
  contains_alcohol: boolean;
  abv: number | null;
}

export interface AdminIngredient extends IngredientTraits {
  id: string;
  name: string;
  category: string;
  in_stock: boolean;
  active_drinks: number;
}

export const CATEGORIES = [
  "spirit", "liqueur", "wine", "bitters", "juice", "syrup", "mixer", "dairy", "fruit", "herb", "spice", "other",
];

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

export interface BarSettings {
  is_open: boolean;
  message: string;
  max_queue: number;
  max_active_per_guest: number;
}

export interface DrinkInput {
  section_id: string;
  name: string;
  description: string;
  ingredients: DrinkIngredient[];
  recipe_steps: string[];
  glass: string;
  garnish: string;
  tags: string[];
  abv: number | null;
  image_key?: string | null;
}

// ---------------------------------------------------------------- calls

const get = <T>(path: string) => api.request<T>(path, { auth: "admin" });
const send = <T>(method: string, path: string, body?: unknown) => api.request<T>(path, { method, auth: "admin", body });

export const adminApi = {
  drinks: () => get<AdminDrink[]>("/admin/drinks"),
  drink: (id: string) => get<AdminDrink>(`/admin/drinks/${encodeURIComponent(id)}`),
  createDrink: (body: DrinkInput) => send<AdminDrink>("POST", "/admin/drinks", body),
  updateDrink: (id: string, body: Partial<DrinkInput> & { archived?: boolean }) =>
    send<AdminDrink>("PUT", `/admin/drinks/${encodeURIComponent(id)}`, body),
  archiveDrink: (id: string) => send<AdminDrink>("DELETE", `/admin/drinks/${encodeURIComponent(id)}`),
  /** Another AI photo (202: the picture handler makes it shortly). */
  regeneratePicture: (id: string) =>
    send<{ attempt: number; status: string }>("POST", `/admin/drinks/${encodeURIComponent(id)}/picture/regenerate`),
  /** "Use my photo instead": an uploaded photo becomes the drink's picture. */
  usePhoto: (id: string, imageKey: string) =>
    send<AdminDrink>("POST", `/admin/drinks/${encodeURIComponent(id)}/picture/photo`, { image_key: imageKey }),
  sections: () => get<AdminSection[]>("/admin/sections"),
  createSection: (body: { name: string; description: string }) => send<AdminSection>("POST", "/admin/sections", body),
  updateSection: (id: string, body: Partial<Pick<AdminSection, "name" | "description" | "position" | "archived">>) =>
    send<AdminSection>("PUT", `/admin/sections/${encodeURIComponent(id)}`, body),
  archiveSection: (id: string) => send<AdminSection>("DELETE", `/admin/sections/${encodeURIComponent(id)}`),
  ingredients: () => get<AdminIngredient[]>("/admin/ingredients"),
  createIngredient: (body: { name: string; category: string; in_stock: boolean }) =>
    send<AdminIngredient>("POST", "/admin/ingredients", body),
  updateIngredient: (
    id: string,
    body: Partial<Pick<AdminIngredient, "name" | "category" | "in_stock">> & Partial<IngredientTraits>,
  ) =>
    send<AdminIngredient>("PUT", `/admin/ingredients/${encodeURIComponent(id)}`, body),
  orders: () => get<Order[]>("/admin/orders"),
  moveOrder: (id: string, status: OrderStatus, reason = "") =>
    send<Order>("PUT", `/admin/orders/${encodeURIComponent(id)}`, reason ? { status, reason } : { status }),
  codes: () => get<InviteCode[]>("/admin/registration-codes"),
  createCode: (body: { max_uses: number; expires_in_hours: number; note: string }) =>
    send<InviteCode>("POST", "/admin/registration-codes", body),
  revokeCode: (code: string) => send<InviteCode>("DELETE", `/admin/registration-codes/${encodeURIComponent(code)}`),
  bar: () => get<BarSettings>("/admin/bar"),
  updateBar: (body: Partial<BarSettings>) => send<BarSettings>("PUT", "/admin/bar", body),
};

/** The console's names for the API's fields, for messages like "Uses: Use 1 or more." */
export const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  description: "Description",
  section_id: "Section",
  ingredients: "Ingredients",
  recipe_steps: "Recipe steps",
  glass: "Glass",
  garnish: "Garnish",
  tags: "Tags",
  abv: "ABV",
  category: "Category",
  position: "Position",
  max_uses: "Uses",
  expires_in_hours: "Valid for (hours)",
  note: "Note",
  message: "Message for guests",
  max_queue: "Queue limit",
  max_active_per_guest: "Orders per guest",
  reason: "Reason",
  image_key: "Photo",
};

/** What a failed call says to the host: a 400's validator wording becomes plain words
 * per field ("Name: Please fill this in."); other errors keep their message. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 400) {
    const fields = Object.fromEntries(Object.keys(FIELD_LABELS).map((k) => [k, k]));
    return Object.entries(fieldErrors(error.message, fields))
      .map(([field, text]) => (field ? `${FIELD_LABELS[field]}: ${text}` : text))
      .join(" ");
  }
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------- toasts

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

// ---------------------------------------------------------------- the live board

export const realtimeStatus = reactive({ state: "idle" });

/** A board on /orders/admin (poll fallback); the caller starts and stops it. */
export function makeBoard(onNewOrder?: (order: Order) => void): { board: OrderBoard; stop: () => void } {
  const rt = config().realtime;
  let board: OrderBoard | null = null;
  const realtime = rt.wsUrl
    ? new RealtimeClient({
        wsUrl: rt.wsUrl,
        auth: async () => realtimeAuthHeader(hostOf(rt.httpUrl || rt.wsUrl), await adminAuth.token()),
        onState: (state) => (realtimeStatus.state = state),
        onSubscribed: () => void board?.refresh(),
        onError: (message) => console.warn(message),
      })
    : null;
  board = new OrderBoard({ fetchOrders: adminApi.orders, realtime, onNewOrder });
  const wake = () => {
    if (document.visibilityState === "visible") {
      realtime?.nudge();
      void board?.refresh();
    }
  };
  document.addEventListener("visibilitychange", wake);
  board.start();
  return {
    board,
    stop: () => {
      document.removeEventListener("visibilitychange", wake);
      board?.stop();
      realtime?.stop();
      realtimeStatus.state = "idle";
    },
  };
}
