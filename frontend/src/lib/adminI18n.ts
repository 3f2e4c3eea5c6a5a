/**
 * The console's words in English and Swedish: its own dictionaries (locales/admin.*.ts),
 * added to lib/i18n.ts's when the console's lazy chunk loads, so guests' phones never
 * download them. `t` here is i18n.ts's t, typed for the console's keys.
 */
import type { Words } from "./fieldErrors";
import { addMessages, t as translate } from "./i18n";
import { adminEn, type AdminKey } from "./locales/admin.en";
import { adminSv } from "./locales/admin.sv";

addMessages({ en: adminEn, sv: adminSv });

export type { AdminKey };

export function t(key: AdminKey, params: Record<string, string | number> = {}): string {
  return translate(key as never, params);
}

/** The plain sentences of form errors (lib/fieldErrors.ts) in the console's language. */
export const words: Words = (key, params) => t(`a.human.${key}`, params);
