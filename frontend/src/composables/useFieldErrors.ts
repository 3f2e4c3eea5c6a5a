/**
 * A form's messages: one per field ("errors.name") and one for the form ("formError").
 * A 400 from the API is split per field in plain words (lib/fieldErrors.ts: the API keeps
 * its precise wording); the form's own checks before sending go the same way. Other
 * failures become the form-level message.
 */
import { ref } from "vue";
import { ApiError } from "../lib/api";
import { type FieldErrors, fieldErrors, type Words } from "../lib/fieldErrors";

export interface FieldErrorOptions {
  /** The API's top-level field names -> the form's ("recipe_steps" -> "steps"). */
  fields: Record<string, string>;
  /** An error that is not a 400, in words. */
  describe?: (error: unknown) => string;
  /** The human sentences in the page's language (default English). */
  words?: Words;
  /** The form-level line when only fields are wrong. */
  seeFields?: () => string;
  /** A 409 "... already exists" / "... is already in the catalog" (a duplicate name): which field, and what to say. */
  conflict?: { field: string; text: () => string };
}

export function useFieldErrors(options: FieldErrorOptions) {
  const errors = ref<FieldErrors>({});
  const formError = ref("");
  const busy = ref(false);

  function clear(): void {
    errors.value = {};
    formError.value = "";
  }

  /** Show what went wrong: per field for a 400, else on the form. */
  function show(error: unknown): void {
    if (error instanceof ApiError && error.status === 400) {
      const { "": general, ...byField } = fieldErrors(error.message, options.fields, options.words);
      errors.value = byField;
      formError.value =
        general ?? (Object.keys(byField).length ? (options.seeFields?.() ?? "Some fields need a fix: see the messages above.") : "");
    } else if (options.conflict && error instanceof ApiError && error.status === 409 && /\balready (exists|in the)\b/i.test(error.message)) {
      errors.value = { [options.conflict.field]: options.conflict.text() };
      formError.value = "";
    } else {
      errors.value = {};
      formError.value = options.describe ? options.describe(error) : error instanceof Error ? error.message : String(error);
    }
  }

  /**
   * Check, then send: `check` returns the form's own findings (nothing is sent while there
   * are any). Returns the result, or undefined when something needs fixing.
   */
  async function submit<R>(run: () => Promise<R>, check?: () => FieldErrors): Promise<R | undefined> {
    clear();
    const found = check?.() ?? {};
    if (Object.keys(found).length) {
      errors.value = found;
      return undefined;
    }
    busy.value = true;
    try {
      return await run();
    } catch (error) {
      show(error);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  /** The attributes a field's input takes: aria-invalid and the message's id. */
  function aria(field: string, prefix = "error"): Record<string, string | boolean | undefined> {
    const message = errors.value[field];
    return { "aria-invalid": !!message, "aria-describedby": message ? `${prefix}-${field}` : undefined };
  }

  return { errors, formError, busy, clear, show, submit, aria };
}
