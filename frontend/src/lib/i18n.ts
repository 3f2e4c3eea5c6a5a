/**
 * Two languages, English and Swedish: a reactive locale, t(key, params) with {name}
 * interpolation, English for any key a language lacks. The locale is the one the guest
 * chose (localStorage), else the browser's first supported language, else English.
 * Both dictionaries are small (about 3 KB gzipped together), so both are in the bundle:
 * no flash of English, and the offline menu has both.
 */
import { ref } from "vue";
import { en, type MessageKey } from "./locales/en";
import { sv } from "./locales/sv";

export type Locale = "en" | "sv";
export const LOCALES: readonly Locale[] = ["en", "sv"];
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", sv: "Svenska" };
export const STORAGE_KEY = "da.locale";

const dictionaries: Record<Locale, Record<string, string | undefined>> = { en: { ...en }, sv: { ...sv } };

/** More keys, from a lazy chunk (the admin console's lib/adminI18n.ts): kept out of the guest bundle. */
export function addMessages(extra: Partial<Record<Locale, Record<string, string>>>): void {
  for (const l of LOCALES) Object.assign(dictionaries[l], extra[l]);
}

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** The stored choice if valid, else the first browser language we have ("sv-SE" -> sv), else en. */
export function pickLocale(languages: readonly string[], stored?: string | null): Locale {
  if (isLocale(stored)) return stored;
  for (const language of languages) {
    const base = language.toLowerCase().split("-")[0];
    if (isLocale(base)) return base;
  }
  return "en";
}

export const locale = ref<Locale>("en");

/** The message for `key` in the current locale (English if missing), with {param}s filled in. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = dictionaries[locale.value][key] ?? dictionaries.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function setLocale(next: Locale, remember = true): void {
  locale.value = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
  if (!remember) return;
  try {
    storage()?.setItem(STORAGE_KEY, next);
  } catch {
    // storage disabled: the choice lasts for this page
  }
}

/** At start: the remembered choice or the browser's languages. */
export function initLocale(): void {
  const languages = typeof navigator === "undefined" ? [] : (navigator.languages ?? [navigator.language]);
  setLocale(pickLocale(languages, storage()?.getItem(STORAGE_KEY)), false);
}
