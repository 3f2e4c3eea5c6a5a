/** The guest app's shared state: the menu, the bar's status, the cart, my orders. */
import { computed, reactive, ref, shallowRef, watch } from "vue";
import { api } from "./api";
import { config } from "./config";
import { OrderAttempt } from "./ordering";
import { OrderTracker } from "./orderTracker";
import { type AuthHeader, hostOf, RealtimeClient } from "./realtime";
import { guestSession } from "./session";
import type { BarStatus, Drink, Ingredient, Order, OrderItemRequest, Section } from "./types";

// ---------------------------------------------------------------- menu

export const menu = reactive({
  sections: [] as Section[],
  drinks: [] as Drink[],
  ingredients: [] as Ingredient[],
  loaded: false,
  error: "",
});

let menuLoad: Promise<void> | null = null;

export function loadMenu(force = false): Promise<void> {
  if (force) menuLoad = null;
  menuLoad ??= Promise.all([
    api.request<Section[]>("/sections"),
    api.request<Drink[]>("/drinks"),
    api.request<Ingredient[]>("/ingredients"),
  ])
    .then(([sections, drinks, ingredients]) => {
      Object.assign(menu, { sections, drinks, ingredients, loaded: true, error: "" });
    })
    .catch((error: unknown) => {
      menuLoad = null; // let the next visit try again
      menu.error = error instanceof Error ? error.message : String(error);
    });
  return menuLoad;
}

// ---------------------------------------------------------------- bar

export const bar = ref<BarStatus | null>(null);

export async function loadBar(): Promise<void> {
  try {
    bar.value = await api.request<BarStatus>("/bar");
  } catch {
    // keep what we knew; the banner is a hint, the order answer is the truth
  }
}

// ---------------------------------------------------------------- cart

export interface CartItem extends OrderItemRequest {
  name: string;
  glass: string;
}

const CART_KEY = "da.cart";

function readCart(): CartItem[] {
  try {
    const items: unknown = JSON.parse(globalThis.localStorage?.getItem(CART_KEY) ?? "[]");
    return Array.isArray(items) ? (items as CartItem[]) : [];
  } catch {
    return [];
  }
}

export const cart = reactive({ items: readCart(), notes: "" });
export const cartCount = computed(() => cart.items.reduce((sum, item) => sum + item.quantity, 0));
export const orderAttempt = new OrderAttempt();

watch(
  () => cart.items,
  (items) => {
    try {
      globalThis.localStorage?.setItem(CART_KEY, JSON.stringify(items));
    } catch {
      // storage disabled: the cart lives for this page only
    }
  },
  { deep: true },
);

export function addToCart(drink: Drink, quantity: number, notes: string): void {
  const trimmed = notes.trim();
  const same = cart.items.find((item) => item.drink_id === drink.id && item.notes === trimmed);
  if (same) same.quantity = Math.min(5, same.quantity + quantity);
  else cart.items.push({ drink_id: drink.id, name: drink.name, glass: drink.glass, quantity, notes: trimmed });
}

export function clearCart(): void {
  cart.items.splice(0);
  cart.notes = "";
}

export async function sendOrder(): Promise<Order> {
  const items = cart.items.map(({ drink_id, quantity, notes }) => ({ drink_id, quantity, notes }));
  const key = orderAttempt.keyFor(items, cart.notes);
  const order = await api.request<Order>("/orders", {
    method: "POST",
    auth: "guest",
    body: { items, notes: cart.notes.trim() },
    headers: { "Idempotency-Key": key },
  });
  orderAttempt.settle();
  clearCart();
  tracker.value?.add(order);
  return order;
}

// ---------------------------------------------------------------- my orders, live

export const tracker = shallowRef<OrderTracker | null>(null);
export const realtimeState = ref("idle");

function startTracking(guestId: string): void {
  const rt = config().realtime;
  const realtime = rt.wsUrl
    ? new RealtimeClient({
        wsUrl: rt.wsUrl,
        auth: async (): Promise<AuthHeader> => {
          const host = hostOf(rt.httpUrl || rt.wsUrl);
          const token = await api.token("guest"); // refreshed first if it expired
          return token ? { host, Authorization: token } : { host, "x-api-key": rt.apiKey };
        },
        onState: (state) => (realtimeState.value = state),
        onSubscribed: () => void tracker.value?.refresh(), // catch up on what happened while away
        onError: (message) => console.warn(message),
      })
    : null;
  const next = new OrderTracker({
    fetchOrders: () => api.request<Order[]>("/orders", { auth: "guest" }),
    realtime,
    channel: `/orders/guest/${guestId}`,
    store: globalThis.localStorage ?? null,
    vibrate: (pattern) => navigator.vibrate?.(pattern),
  });
  tracker.value = next;
  next.start();
  currentRealtime = realtime;
  listenForWakeUps();
  stopTracking = () => {
    next.stop();
    realtime?.stop();
    currentRealtime = null;
    tracker.value = null;
  };
}

let currentRealtime: RealtimeClient | null = null;
let listening = false;

/** Back online or back in view: reconnect now and catch up, instead of waiting. */
function listenForWakeUps(): void {
  if (listening || typeof window === "undefined") return;
  listening = true;
  window.addEventListener("online", () => currentRealtime?.nudge());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    currentRealtime?.nudge();
    void tracker.value?.refresh();
  });
}

let stopTracking: () => void = () => {};

/** Follow the session: track orders while a guest is signed in. */
export function startGuestApp(): void {
  watch(
    () => guestSession.current.value?.guest.id ?? null,
    (guestId, previous) => {
      if (guestId === previous) return;
      stopTracking();
      stopTracking = () => {};
      if (guestId) startTracking(guestId);
    },
    { immediate: true },
  );
}

export function signOut(): void {
  stopTracking();
  stopTracking = () => {};
  guestSession.clear();
  clearCart();
  orderAttempt.settle();
}
