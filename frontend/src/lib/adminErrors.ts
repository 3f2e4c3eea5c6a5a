/** What a failed call says to the host, in plain words and the console's language. */
import { ApiError } from "./api";
import { t, words, type AdminKey } from "./adminI18n";
import { fieldErrors } from "./fieldErrors";

/** The console's names for the API's fields, for messages like "Uses: Use 1 or more." */
export const FIELD_LABELS: Record<string, AdminKey> = {
  name: "a.field.name",
  description: "a.field.description",
  section_id: "a.field.section",
  ingredients: "a.field.ingredients",
  recipe_steps: "a.field.steps",
  glass: "a.field.glass",
  garnish: "a.field.garnish",
  tags: "a.field.tags",
  abv: "a.field.abv",
  category: "a.field.category",
  position: "a.field.position",
  max_uses: "a.field.uses",
  expires_in_hours: "a.field.hours",
  note: "a.field.note",
  message: "a.field.message",
  max_queue: "a.field.maxQueue",
  max_active_per_guest: "a.field.perGuest",
  reason: "a.field.reason",
  image_key: "a.field.photo",
};

/** A 400's validator wording becomes plain words per field ("Name: Please fill this in.");
 * other errors keep their message. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 400) {
    const fields = Object.fromEntries(Object.keys(FIELD_LABELS).map((k) => [k, k]));
    return Object.entries(fieldErrors(error.message, fields, words))
      .map(([field, text]) => (field ? `${t(FIELD_LABELS[field])}: ${text}` : text))
      .join(" ");
  }
  return error instanceof Error ? error.message : String(error);
}
