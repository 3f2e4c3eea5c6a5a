/** The guest app's shared state: the menu, the bar's status, the cart, my orders. */
import { computed, reactive, ref, shallowRef, watch } from "vue";
import { api } from "./api";
import { readyChime, setSoundMuted, soundMuted, TabAttention, unlockSound } from "./beep";
import { config } from "./config";
import { OrderAttempt } from "./ordering";
import { OrderTracker } from "./orderTracker";
import { barFromMessage, MENU_CHANNEL, MenuFollower } from "./menuLive";
import { createRealtimeClient, type EventHandler, type RealtimeClient } from "./realtime";
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
let menuLoads = 0;

export function loadMenu(force = false): Promise<void> {
  if (force) menuLoad = null;
  const load = ++menuLoads;
  const current = (): boolean => load === menuLoads; // a later (forced) load's answer wins
  menuLoad ??= Promise.all([
    api.request<Section[]>("/sections"),
    api.request<Drink[]>("/drinks"),
    api.request<Ingredient[]>("/ingredients"),
  ])
    .then(([sections, drinks, ingredients]) => {
      if (current()) Object.assign(menu, { sections, drinks, ingredients, loaded: true, error: "" });
    })
    .catch((error: unknown) => {
      if (!current()) return;
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

/** The one way the guest app places an order (the cart, a proposal from the bartender). */
export async function placeOrder(items: OrderItemRequest[], notes: string, idempotencyKey: string): Promise<Order> {
  const order = await api.request<Order>("/orders", {
    method: "POST",
    auth: "guest",
    body: { items, notes: notes.trim() },
    headers: { "Idempotency-Key": idempotencyKey },
  });
  tracker.value?.add(order);
  return order;
}

export async function sendOrder(): Promise<Order> {
  const items = cart.items.map(({ drink_id, quantity, notes }) => ({ drink_id, quantity, notes }));
  const key = orderAttempt.keyFor(items, cart.notes);
  const order = await placeOrder(items, cart.notes, key);
  orderAttempt.settle();
  clearCart();
  return order;
}

// ---------------------------------------------------------------- favourites (this phone only)
// Kept in localStorage, not on the server: a heart is a note to self, and a guest who
// joins again on another phone starts without them (docs/web-app.md).

const FAVOURITES_KEY = "da.favourites";

function readFavourites(): string[] {
  try {
    const ids: unknown = JSON.parse(globalThis.localStorage?.getItem(FAVOURITES_KEY) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

export const favourites = ref<string[]>(readFavourites());

export function isFavourite(drinkId: string): boolean {
  return favourites.value.includes(drinkId);
}

export function toggleFavourite(drinkId: string): void {
  favourites.value = isFavourite(drinkId)
    ? favourites.value.filter((id) => id !== drinkId)
    : [...favourites.value, drinkId];
  try {
    globalThis.localStorage?.setItem(FAVOURITES_KEY, JSON.stringify(favourites.value.slice(-200)));
  } catch {
    // storage disabled: the hearts last for this page only
  }
}

// ---------------------------------------------------------------- realtime: one connection for the guest app

export const realtimeState = ref("idle");
/** undefined: not made yet; null: no realtime endpoint configured (the app polls). */
let guestClient: RealtimeClient | null | undefined;
const onLive = new Map<string, Set<() => void>>(); // channel -> "subscription confirmed" callbacks
const IDLE_STOP_MS = 10_000; // going menu -> drink -> menu keeps the connection

function guestRealtime(): RealtimeClient | null {
  if (guestClient !== undefined) return guestClient;
  guestClient = createRealtimeClient(config().realtime, {
    // The guest token when signed in (refreshed first if it expired), else "anonymous":
    // the same header locally and in AWS; the authorizer decides per channel.
    token: () => api.token("guest"),
    onState: (state) => (realtimeState.value = state),
    onSubscribed: (channel) => onLive.get(channel)?.forEach((fn) => fn()),
  });
  return guestClient;
}

function whenLive(channel: string, fn: () => void): () => void {
  const set = onLive.get(channel) ?? new Set();
  onLive.set(channel, set.add(fn));
  return () => set.delete(fn);
}

/** Close the connection a while after its last subscription went away. */
function releaseWhenIdle(): void {
  globalThis.setTimeout(() => {
    if (guestClient && guestClient.subscriptionCount === 0) guestClient.stop();
  }, IDLE_STOP_MS);
}

/** Someone signed in or out: reconnect, so the connection speaks for who is here now. */
function reconnectAs(): void {
  const state = guestClient?.currentState;
  if (guestClient && state !== "idle" && state !== "stopped") {
    guestClient.stop();
    guestClient.start();
  }
}

// ---------------------------------------------------------------- the live menu

/** Refetch (debounced) whenever /menu/updates says the menu changed; returns the stop. */
export function followMenu(refetch: () => unknown): () => void {
  const client = guestRealtime();
  if (!client) return () => {};
  followBar(); // views mount before App.vue starts the app: make the channel's subscription now
  // One subscription to the channel for the whole app (followBar's), shared by the views.
  const follower = new MenuFollower({ subscribe: (_channel, handler) => onMenuChannel(handler), refetch });
  const forget = whenLive(MENU_CHANNEL, () => follower.subscribed());
  follower.start();
  if (menuChannelConfirmed) follower.subscribed(); // already live: this view's menu is fresh
  client.start();
  listenForWakeUps();
  return () => {
    follower.stop();
    forget();
    releaseWhenIdle();
  };
}

// ---------------------------------------------------------------- my orders, live

export const tracker = shallowRef<OrderTracker | null>(null);
/** The mute switch of the ready chime (on the orders page and in the moment), remembered. */
export const muted = ref(soundMuted());

export function toggleSound(): void {
  muted.value = !muted.value;
  setSoundMuted(muted.value);
}

/** The tab's title and favicon during a ready moment (ReadyMoment.vue clears them). */
export const attention = new TabAttention();

function startTracking(guestId: string): void {
  const realtime = guestRealtime();
  const channel = `/orders/guest/${guestId}`;
  const next = new OrderTracker({
    fetchOrders: () => api.request<Order[]>("/orders", { auth: "guest" }),
    realtime,
    channel,
    store: globalThis.localStorage ?? null,
    vibrate: (pattern) => navigator.vibrate?.(pattern),
    onReady: (order) => {
      readyChime(); // muted, or no tap yet: silent (the title and vibration still tell)
      attention.show(order.number);
    },
    onRevoked: () => signOut(), // drops the tokens; the session watch reconnects as anonymous
  });
  tracker.value = next;
  next.start();
  listenForWakeUps();
  stopTracking = () => {
    next.stop(); // the tracker catches up itself each time its channel is confirmed (liveOrders.ts)
    tracker.value = null;
    releaseWhenIdle();
  };
}

let listening = false;

/** Back online or back in view: reconnect now and catch up, instead of waiting. */
function listenForWakeUps(): void {
  if (listening || typeof window === "undefined") return;
  listening = true;
  const wake = (): void => {
    guestClient?.nudge();
    void tracker.value?.refresh();
    void loadBar();
  };
  window.addEventListener("online", () => guestClient?.nudge());
  // Back from the background (a phone in a pocket): resume the socket, fetch the state.
  window.addEventListener("focus", wake);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") wake();
  });
}

let stopTracking: () => void = () => {};

// ---------------------------------------------------------------- the bar's state, live

let followingBar = false;
let menuChannelConfirmed = false;
const menuListeners = new Set<EventHandler>();

function onMenuChannel(handler: EventHandler): () => void {
  menuListeners.add(handler);
  return () => menuListeners.delete(handler);
}

/**
 * Open or closed, and the host's message, on every guest page: `bar_changed` on
 * /menu/updates sets it at once; after a reconnect (changes may have been missed) and
 * on focus it is fetched. App.vue's slow poll stays as the fallback without realtime.
 */
function followBar(): void {
  if (followingBar) return;
  const client = guestRealtime();
  if (!client) return;
  followingBar = true;
  client.subscribe(MENU_CHANNEL, (event) => {
    const status = barFromMessage(event);
    if (status) bar.value = status;
    menuListeners.forEach((handler) => handler(event));
  });
  whenLive(MENU_CHANNEL, () => {
    if (menuChannelConfirmed) void loadBar(); // a reconnect: a change may have been missed
    menuChannelConfirmed = true;
  });
  client.start();
  listenForWakeUps();
}

/** Follow the session: track orders while a guest is signed in; follow the bar always. */
export function startGuestApp(): void {
  followBar();
  if (typeof window !== "undefined") {
    // Browsers allow sound only after a gesture: the first tap or key readies the chime.
    window.addEventListener("pointerdown", unlockSound, { once: true });
    window.addEventListener("keydown", unlockSound, { once: true });
  }
  watch(
    () => guestSession.current.value?.guest.id ?? null,
    (guestId, previous) => {
      if (guestId === previous) return;
      stopTracking();
      stopTracking = () => {};
      if (guestId) startTracking(guestId);
      if (previous !== undefined) reconnectAs();
    },
    { immediate: true },
  );
}

/** "Sign out" on the orders page: the server ends the session first (api.signOutGuest). */
export async function leaveBar(): Promise<void> {
  await api.signOutGuest();
  signOut();
}

export function signOut(): void {
  stopTracking();
  stopTracking = () => {};
  guestSession.clear();
  clearCart();
  orderAttempt.settle();
}
