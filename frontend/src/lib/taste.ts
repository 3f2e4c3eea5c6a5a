/**
 * Taste and safety on the guest side: the words of GET|PUT /me/profile, allergen labels,
 * the menu's "avoid" filter (-> GET /drinks?exclude=...&alcohol_free=true), the guest's
 * thumbs up/down, and the "For you" row's state.
 */
import { reactive } from "vue";
import { api, type RequestOptions } from "./api";
import { fold } from "./filters";
import { t } from "./i18n";
import type { MessageKey } from "./locales/en";
import { guestSession, type KeyValueStore } from "./session";
import type { Drink, Recommendation, Strength, TasteProfile } from "./types";

// ---------------------------------------------------------------- the contract's words

export interface Choice<T extends string = string> {
  key: T;
  /** What a guest reads, in the current language (a getter: templates follow a switch). */
  readonly label: string;
}

/** A choice whose label is the message `prefix.key`, read when shown. */
function choice<T extends string>(prefix: string, key: T): Choice<T> {
  return {
    key,
    get label() {
      return t(`${prefix}.${key}` as MessageKey);
    },
  };
}

/** Allergen keys as the API spells them, with what a guest reads. */
export const ALLERGENS: Choice[] = ["egg", "dairy", "tree_nuts", "peanuts", "gluten", "soy", "fish", "sulphites", "celery"].map(
  (key) => choice("allergen", key),
);

/** Dietary flags the API also excludes by (they are not allergens: no badge). */
export const DIETARY: Choice[] = [choice("allergen", "non_vegan")];

export const SPIRITS: Choice[] = ["gin", "vodka", "rum", "tequila", "mezcal", "whiskey", "brandy", "pisco", "cachaca"].map(
  (key) => choice("spirit", key),
);

/** Flavour words for likes and dislikes. */
export const FLAVOURS: Choice[] = [
  "sweet",
  "sour",
  "bitter",
  "fruity",
  "herbal",
  "floral",
  "spicy",
  "smoky",
  "creamy",
  "fizzy",
  "savory",
  "coffee",
  "minty",
  "refreshing",
].map((key) => choice("flavour", key));

export const STRENGTHS: Choice<Strength>[] = (["light", "medium", "strong"] as const).map((key) => choice("strength", key));

const ALLERGEN_KEYS = new Set(ALLERGENS.map((a) => a.key));
const FLAG_KEYS = new Set([...ALLERGEN_KEYS, ...DIETARY.map((d) => d.key)]);

export function isAllergen(value: string): boolean {
  return ALLERGEN_KEYS.has(value);
}

/** An allergen or dietary key, as opposed to an ingredient avoided by name. */
export function isFlag(value: string): boolean {
  return FLAG_KEYS.has(value);
}

/** "tree_nuts" -> "Tree nuts"; an unknown key still reads as words. */
export function allergenLabel(key: string): string {
  const known = ALLERGENS.find((a) => a.key === key) ?? DIETARY.find((d) => d.key === key);
  if (known) return known.label;
  const words = key.replace(/_/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : key;
}

/**
 * How an avoided item reads: a flag's label, or the catalog's spelling of an ingredient
 * (the API answers ingredient names folded: "lemon juice" -> "Lemon Juice").
 */
export function avoidLabel(item: string, catalog: readonly string[]): string {
  if (isFlag(item)) return allergenLabel(item);
  return catalog.find((name) => fold(name) === fold(item)) ?? allergenLabel(item);
}

/** The drink's allergens in the order of ALLERGENS (unknown keys last), as labels. */
export function allergenLabels(allergens: readonly string[] | undefined): string[] {
  const keys = [...new Set(allergens ?? [])];
  const rank = (k: string) => {
    const i = ALLERGENS.findIndex((a) => a.key === k);
    return i < 0 ? ALLERGENS.length : i;
  };
  return keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map(allergenLabel);
}

// ---------------------------------------------------------------- the profile

export function emptyProfile(): TasteProfile {
  return { spirits: [], likes: [], dislikes: [], strength: null, avoid: [], alcohol_free: false };
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** Whatever the API answered, as a complete profile (missing fields are empty). */
export function normalizeProfile(raw: unknown): TasteProfile {
  const data = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const strength = STRENGTHS.some((s) => s.key === data.strength) ? (data.strength as Strength) : null;
  return {
    spirits: strings(data.spirits),
    likes: strings(data.likes),
    dislikes: strings(data.dislikes),
    strength,
    avoid: strings(data.avoid),
    alcohol_free: data.alcohol_free === true,
  };
}

/** Nothing said yet: the menu invites this guest to the quiz. */
export function isBlank(profile: TasteProfile): boolean {
  return (
    !profile.spirits.length &&
    !profile.likes.length &&
    !profile.dislikes.length &&
    profile.strength === null &&
    !profile.avoid.length &&
    !profile.alcohol_free
  );
}

export function toggled(list: readonly string[], value: string): string[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** Tap a flavour under "likes" or "dislikes": a word is never in both. */
export function toggleFlavour(profile: TasteProfile, side: "likes" | "dislikes", word: string): TasteProfile {
  const other = side === "likes" ? "dislikes" : "likes";
  const mine = toggled(profile[side], word);
  return { ...profile, [side]: mine, [other]: mine.includes(word) ? profile[other].filter((w) => w !== word) : profile[other] };
}

// ---------------------------------------------------------------- the avoid filter

/** GET /drinks's query for what the guest avoids: allergen keys and ingredient names alike. */
export function avoidQuery(avoid: readonly string[], alcoholFree: boolean): NonNullable<RequestOptions["query"]> {
  const exclude = [...new Set(avoid.map((a) => a.trim()).filter(Boolean))];
  return { exclude: exclude.length ? exclude : undefined, alcohol_free: alcoholFree ? true : undefined };
}

/**
 * Does the drink contain something the guest avoids (or alcohol, when they asked for
 * none)? The menu hides it at once while the API's answer to the same question is on
 * its way; that answer decides.
 */
export function breaksAvoid(drink: Drink, avoid: readonly string[], alcoholFree: boolean): boolean {
  if (alcoholFree && drink.alcohol_free === false) return true;
  const allergens = new Set(drink.allergens ?? []);
  const names = new Set(drink.ingredients.map((i) => fold(i.name)));
  // Dietary flags (non_vegan) are not in the drink JSON: only the API's answer applies them.
  return avoid.some((item) => (isFlag(item) ? allergens.has(item) : names.has(fold(item))));
}

// ---------------------------------------------------------------- thumbs up / down

export type Rating = 1 | -1;
/** 0 clears a rating (PUT /me/ratings/{id} {"rating": 0}). */
export type RatingChange = Rating | 0;

/**
 * What this guest said about each drink, kept on the phone too, so the drink page shows
 * the pressed thumb at once; GET /me/ratings (once per visit) is the truth.
 */
export class RatingMemory {
  constructor(private readonly store: KeyValueStore | null) {}

  private key(guestId: string): string {
    return `da.ratings.${guestId}`;
  }

  all(guestId: string): Record<string, Rating> {
    try {
      const data: unknown = JSON.parse(this.store?.getItem(this.key(guestId)) ?? "{}");
      if (!data || typeof data !== "object" || Array.isArray(data)) return {};
      return Object.fromEntries(
        Object.entries(data as Record<string, unknown>).filter(([, v]) => v === 1 || v === -1),
      ) as Record<string, Rating>;
    } catch {
      return {};
    }
  }

  get(guestId: string, drinkId: string): Rating | null {
    return this.all(guestId)[drinkId] ?? null;
  }

  replace(guestId: string, all: Record<string, Rating>): void {
    try {
      this.store?.setItem(this.key(guestId), JSON.stringify(all));
    } catch {
      // storage full or disabled
    }
  }

  set(guestId: string, drinkId: string, rating: RatingChange): void {
    const all: Record<string, Rating> = { ...this.all(guestId) };
    if (rating === 0) delete all[drinkId];
    else all[drinkId] = rating;
    try {
      this.store?.setItem(this.key(guestId), JSON.stringify(all));
    } catch {
      // storage full or disabled: the API still has the rating
    }
  }
}

/** "Not now" on the quiz invitation, per guest. */
export class QuizSkips {
  constructor(private readonly store: KeyValueStore | null) {}

  skipped(guestId: string): boolean {
    try {
      return this.store?.getItem(`da.quiz-skipped.${guestId}`) === "1";
    } catch {
      return false;
    }
  }

  skip(guestId: string): void {
    try {
      this.store?.setItem(`da.quiz-skipped.${guestId}`, "1");
    } catch {
      // storage disabled: the invitation comes back next visit, no harm
    }
  }
}

function localStore(): KeyValueStore | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export const ratings = new RatingMemory(localStore());
export const quizSkips = new QuizSkips(localStore());

// ---------------------------------------------------------------- shared state: my profile, "For you"

export type LoadState = "idle" | "loading" | "ready" | "error";

export const taste = reactive({
  /** Whose profile and recommendations these are. */
  guestId: "",
  profile: null as TasteProfile | null,
  recommendations: [] as Recommendation[],
  recommendationsState: "idle" as LoadState,
  /** Bumped on every change that can move the recommendations (profile, a rating). */
  version: 0,
  /** GET /me/ratings as {drink_id: 1 | -1}; null until it answered. */
  ratings: null as Record<string, Rating> | null,
});

function currentGuest(): string {
  return guestSession.current.value?.guest.id ?? "";
}

function forGuest(guestId: string): void {
  if (taste.guestId === guestId) return;
  Object.assign(taste, { guestId, profile: null, recommendations: [], recommendationsState: "idle", ratings: null });
  ratingsLoad = null;
}

export async function loadProfile(): Promise<TasteProfile | null> {
  const guestId = currentGuest();
  forGuest(guestId);
  if (!guestId) return null;
  const profile = normalizeProfile(await api.request<unknown>("/me/profile", { auth: "guest" }));
  if (currentGuest() === guestId) taste.profile = profile;
  return profile;
}

export async function saveProfile(changes: Partial<TasteProfile>): Promise<TasteProfile> {
  const guestId = currentGuest();
  const saved = normalizeProfile(await api.request<unknown>("/me/profile", { method: "PUT", auth: "guest", body: changes }));
  if (currentGuest() === guestId) {
    taste.profile = saved;
    taste.version++;
  }
  return saved;
}

let recommendationLoads = 0;

export async function loadRecommendations(limit = 6): Promise<void> {
  const guestId = currentGuest();
  forGuest(guestId);
  if (!guestId) return;
  const load = ++recommendationLoads;
  if (!taste.recommendations.length) taste.recommendationsState = "loading";
  try {
    const list = await api.request<Recommendation[]>("/recommendations", { auth: "guest", query: { limit } });
    if (load !== recommendationLoads || currentGuest() !== guestId) return; // a later load wins
    taste.recommendations = Array.isArray(list) ? list : [];
    taste.recommendationsState = "ready";
  } catch (error) {
    if (load !== recommendationLoads) return;
    if (!taste.recommendations.length) taste.recommendationsState = "error";
    throw error;
  }
}

/** The API's answer to a list of ratings, as a map; junk rows are dropped. */
export function ratingMap(rows: unknown): Record<string, Rating> {
  const out: Record<string, Rating> = {};
  for (const row of Array.isArray(rows) ? rows : []) {
    const r = row as { drink_id?: unknown; rating?: unknown };
    if (typeof r?.drink_id === "string" && (r.rating === 1 || r.rating === -1)) out[r.drink_id] = r.rating;
  }
  return out;
}

let ratingsLoad: Promise<void> | null = null;

/** This guest's thumbs (GET /me/ratings), once per visit. */
export function loadRatings(): Promise<void> {
  const guestId = currentGuest();
  forGuest(guestId);
  if (!guestId) return Promise.resolve();
  ratingsLoad ??= api
    .request<unknown>("/me/ratings", { auth: "guest" })
    .then((rows) => {
      if (currentGuest() !== guestId) return;
      taste.ratings = ratingMap(rows);
      ratings.replace(guestId, taste.ratings);
    })
    .catch(() => {
      ratingsLoad = null; // the phone's memory stands in; the next page asks again
    });
  return ratingsLoad;
}

export async function rate(drinkId: string, rating: RatingChange): Promise<void> {
  const guestId = currentGuest();
  if (!guestId) return;
  await api.request<unknown>(`/me/ratings/${encodeURIComponent(drinkId)}`, {
    method: "PUT",
    auth: "guest",
    body: { rating },
  });
  ratings.set(guestId, drinkId, rating);
  if (taste.ratings && currentGuest() === guestId) {
    const next = { ...taste.ratings };
    if (rating === 0) delete next[drinkId];
    else next[drinkId] = rating;
    taste.ratings = next;
  }
  taste.version++;
}

export function similarDrinks(drinkId: string, limit = 4, signal?: AbortSignal): Promise<Recommendation[]> {
  return api.request<Recommendation[]>(`/drinks/${encodeURIComponent(drinkId)}/similar`, { query: { limit }, signal });
}

/** GET /drinks with the guest's exclusions: the ids of the drinks that are safe for them. */
export async function drinksAvoiding(avoid: readonly string[], alcoholFree: boolean): Promise<Set<string>> {
  const list = await api.request<Drink[]>("/drinks", { query: avoidQuery(avoid, alcoholFree) });
  return new Set(list.map((d) => d.id));
}
