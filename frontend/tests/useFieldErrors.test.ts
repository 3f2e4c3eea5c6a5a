import { afterEach, describe, expect, it } from "vitest";
import { useFieldErrors } from "../src/composables/useFieldErrors";
import { t, words } from "../src/lib/adminI18n";
import { ApiError } from "../src/lib/api";
import { setLocale } from "../src/lib/i18n";

const bad = (status: number, message: string) => new ApiError(status, status === 400 ? "BadRequestError" : "ConflictError", message);

describe("useFieldErrors", () => {
  afterEach(() => setLocale("en", false));

  it("splits the API's 400 per field, in plain words, and says so on the form", async () => {
    const form = useFieldErrors({ fields: { name: "name", max_uses: "uses" }, words, seeFields: () => t("a.form.seeFields") });
    const result = await form.submit(async () => {
      throw bad(400, "name: String should have at most 80 characters; max_uses: Input should be greater than or equal to 1");
    });
    expect(result).toBeUndefined();
    expect(form.errors.value).toEqual({ name: "Keep it to 80 characters or fewer.", uses: "Use 1 or more." });
    expect(form.formError.value).toBe("Some fields need a fix: see the messages above.");
    expect(form.aria("uses", "invite-error")).toEqual({ "aria-invalid": true, "aria-describedby": "invite-error-uses" });
    expect(form.aria("note")).toEqual({ "aria-invalid": false, "aria-describedby": undefined });
    expect(form.busy.value).toBe(false);
  });

  it("words the messages in the console's language", async () => {
    setLocale("sv", false);
    const form = useFieldErrors({ fields: { position: "position" }, words, seeFields: () => t("a.form.seeFields") });
    form.show(bad(400, "position: Input should be greater than or equal to 0"));
    expect(form.errors.value).toEqual({ position: "Ange 0 eller mer." });
    expect(form.formError.value).toBe("Några fält behöver rättas: se meddelandena ovan.");
  });

  it("keeps a message naming no field on the form, never validator wording", () => {
    const form = useFieldErrors({ fields: { name: "name" }, words });
    form.show(bad(400, "body: Input should be a valid dictionary"));
    expect(form.errors.value).toEqual({});
    expect(form.formError.value).toBe("Something in the form is not right: check the fields and try again.");
  });

  it("puts a duplicate name (409 ... already exists) on the name field", () => {
    const form = useFieldErrors({ fields: { name: "name" }, words, conflict: { field: "name", text: () => t("a.sections.duplicate") } });
    form.show(bad(409, "a section named 'Sours' already exists (archived sections count: unarchive it instead)"));
    expect(form.errors.value).toEqual({ name: t("a.sections.duplicate") });
    expect(form.formError.value).toBe("");
    form.show(bad(409, "an ingredient named 'gin' is already in the catalog"));
    expect(form.errors.value).toEqual({ name: t("a.sections.duplicate") });
    // any other 409 stays a form-level message
    form.show(bad(409, "the order changed meanwhile; reload it and try again"));
    expect(form.errors.value).toEqual({});
    expect(form.formError.value).toBe("the order changed meanwhile; reload it and try again");
  });

  it("sends nothing while its own check finds something, and clears old messages on the next try", async () => {
    const form = useFieldErrors({ fields: { name: "name" }, words, describe: (e) => `Failed: ${(e as Error).message}` });
    let sent = 0;
    const run = async () => ((sent += 1), "ok");
    expect(await form.submit(run, () => ({ name: "Give it a name." }))).toBeUndefined();
    expect(sent).toBe(0);
    expect(form.errors.value).toEqual({ name: "Give it a name." });
    expect(await form.submit(run, () => ({}))).toBe("ok");
    expect(sent).toBe(1);
    expect(form.errors.value).toEqual({});
    await form.submit(async () => {
      throw new Error("network down");
    });
    expect(form.formError.value).toBe("Failed: network down");
  });
});
