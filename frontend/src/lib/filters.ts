/** The menu's search and filters, done in the browser: the whole menu is one small list. */
import type { Drink, Ingredient, Section } from "./types";

export interface MenuFilter {
  query: string;
  ingredients: string[];
  availableOnly: boolean;
  /** Only these drink ids (the guest's favourites); undefined: no such filter. */
  favourites?: string[];
}

/** Case- and accent-insensitive: "creme" finds "Crème de Violette". */
export function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .trim();
}

/** Like GET /drinks?q=: every word must appear in the name, description or an ingredient. */
export function matchesQuery(drink: Drink, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const haystack = fold(
    [drink.name, drink.description, drink.glass, ...drink.ingredients.map((i) => i.name), ...drink.tags].join(" "),
  );
  return words.every((word) => haystack.includes(word));
}

/** Like GET /drinks?ingredient=a&ingredient=b: the drink has all of them. */
export function hasIngredients(drink: Drink, wanted: string[]): boolean {
  if (!wanted.length) return true;
  const names = new Set(drink.ingredients.map((i) => fold(i.name)));
  return wanted.every((name) => names.has(fold(name)));
}

export function filterDrinks(drinks: Drink[], filter: MenuFilter): Drink[] {
  return drinks.filter(
    (drink) =>
      (!filter.availableOnly || drink.available) &&
      (!filter.favourites || filter.favourites.includes(drink.id)) &&
      hasIngredients(drink, filter.ingredients) &&
      matchesQuery(drink, filter.query),
  );
}

export interface SectionGroup {
  section: Section;
  drinks: Drink[];
}

/** Sections in menu order, each with its drinks; empty sections are left out. */
export function groupBySection(sections: Section[], drinks: Drink[]): SectionGroup[] {
  const bySection = new Map<string, Drink[]>();
  for (const drink of drinks) {
    const list = bySection.get(drink.section_id) ?? [];
    list.push(drink);
    bySection.set(drink.section_id, list);
  }
  return [...sections]
    .sort((a, b) => a.position - b.position || a.name.localeCompare(b.name))
    .map((section) => ({ section, drinks: bySection.get(section.id) ?? [] }))
    .filter((group) => group.drinks.length > 0);
}

/**
 * The ingredients worth a filter chip: those some drink on the menu needs, base
 * spirits first, then by how many drinks use them.
 */
export function filterableIngredients(ingredients: Ingredient[], drinks: Drink[]): Ingredient[] {
  const uses = new Map<string, number>();
  for (const drink of drinks) {
    for (const item of drink.ingredients) uses.set(fold(item.name), (uses.get(fold(item.name)) ?? 0) + 1);
  }
  const rank = (i: Ingredient) => (i.category === "spirit" ? 0 : 1);
  return ingredients
    .filter((i) => (uses.get(fold(i.name)) ?? 0) > 0)
    .sort(
      (a, b) =>
        rank(a) - rank(b) || (uses.get(fold(b.name)) ?? 0) - (uses.get(fold(a.name)) ?? 0) || a.name.localeCompare(b.name),
    );
}

/** "50 ml", "2 dashes", "top up": how an amount reads on the card. */
export function formatAmount(amount: number | null, unit: string | null): string {
  if (amount === null || amount === undefined) return unit ?? "";
  const value = Number.isInteger(amount) ? String(amount) : String(Math.round(amount * 100) / 100);
  return unit ? `${value} ${unit}` : value;
}

// ---------------------------------------------------------------- the filters in the URL

export interface UrlFilters {
  query: string;
  ingredients: string[];
  availableOnly: boolean;
  favouritesOnly: boolean;
}

type QueryValue = string | null | (string | null)[] | undefined;

function strings(value: QueryValue): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter((v): v is string => typeof v === "string" && v.trim() !== "");
}

/** `?q=gin&ing=Gin&ing=Lime&available=1&fav=1` -> the menu's filters (junk ignored). */
export function filtersFromQuery(query: Record<string, QueryValue>): UrlFilters {
  return {
    query: (strings(query.q)[0] ?? "").slice(0, 100),
    ingredients: [...new Set(strings(query.ing))].slice(0, 20),
    availableOnly: strings(query.available)[0] === "1",
    favouritesOnly: strings(query.fav)[0] === "1",
  };
}

/** The other way: only what is set, so a menu without filters has a clean URL. */
export function filtersToQuery(filters: UrlFilters): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (filters.query.trim()) out.q = filters.query;
  if (filters.ingredients.length) out.ing = [...filters.ingredients];
  if (filters.availableOnly) out.available = "1";
  if (filters.favouritesOnly) out.fav = "1";
  return out;
}
