import { afterEach, describe, expect, it } from "vitest";
import { errorText } from "../src/lib/adminErrors";
import { t } from "../src/lib/adminI18n";
import { ApiError } from "../src/lib/api";
import { setLocale, t as guestT } from "../src/lib/i18n";
import { adminEn } from "../src/lib/locales/admin.en";
import { adminSv } from "../src/lib/locales/admin.sv";

describe("the console's dictionaries", () => {
  afterEach(() => setLocale("en", false));

  it("are merged into i18n.ts's t() once the console loads, in the chosen language", () => {
    expect(t("a.invites.status.used_up")).toBe("Used up");
    setLocale("sv", false);
    expect(t("a.invites.status.used_up")).toBe("Förbrukad");
    expect(t("a.sections.added", { name: "Sura" })).toBe("Avdelningen Sura tillagd");
    expect(guestT("lang.name")).toBe("Svenska"); // the guest pages' keys are untouched
  });

  it("have a Swedish word for every key (none falls back to English)", () => {
    const missing = Object.keys(adminEn).filter((key) => !(key in adminSv));
    expect(missing).toEqual([]);
  });

  it("word an API 400 per field in the console's language", () => {
    const error = new ApiError(400, "BadRequestError", "max_queue: Input should be greater than or equal to 1");
    expect(errorText(error)).toBe("Queue limit: Use 1 or more.");
    setLocale("sv", false);
    expect(errorText(error)).toBe("Kögräns: Ange 1 eller mer.");
  });
});
