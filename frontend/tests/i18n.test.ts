import { afterEach, describe, expect, it } from "vitest";
import { en } from "../src/lib/locales/en";
import { sv } from "../src/lib/locales/sv";
import { addMessages, locale, pickLocale, setLocale, t } from "../src/lib/i18n";

afterEach(() => setLocale("en", false));

describe("pickLocale", () => {
  it("takes the first browser language it has", () => {
    expect(pickLocale(["sv-SE", "en-US"])).toBe("sv");
    expect(pickLocale(["de-DE", "sv", "en"])).toBe("sv");
    expect(pickLocale(["en-GB", "sv-SE"])).toBe("en");
  });
  it("falls back to English for languages it lacks", () => {
    expect(pickLocale(["de-DE", "fr"])).toBe("en");
    expect(pickLocale([])).toBe("en");
  });
  it("prefers the remembered choice, ignoring a stored value it does not know", () => {
    expect(pickLocale(["en-US"], "sv")).toBe("sv");
    expect(pickLocale(["sv-SE"], "en")).toBe("en");
    expect(pickLocale(["sv-SE"], "klingon")).toBe("sv");
  });
});

describe("t", () => {
  it("interpolates {params} and leaves unknown ones visible", () => {
    expect(t("menu.welcome", { name: "Sam" })).toBe("Welcome, Sam");
    expect(t("orders.cancel", { n: 12 })).toBe("Cancel order #12");
    expect(t("menu.welcome")).toBe("Welcome, {name}");
  });
  it("speaks the current locale", () => {
    setLocale("sv", false);
    expect(locale.value).toBe("sv");
    expect(t("menu.welcome", { name: "Sam" })).toBe("Välkommen, Sam");
    expect(t("cart.send")).toBe("Beställ");
  });
  it("falls back to English for a key Swedish lacks", () => {
    const key = "test.englishOnly" as keyof typeof en;
    addMessages({ en: { [key]: "Only in English" } });
    setLocale("sv", false);
    expect(t(key)).toBe("Only in English");
  });
  it("has a Swedish text for every English key and the same {params}", () => {
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(sv[key], key).toBeTypeOf("string");
      expect(params(sv[key] ?? ""), key).toEqual(params(en[key]));
    }
  });
});

describe("the Swedish dictionary", () => {
  // Words that are the same in both languages (names of spirits, loanwords).
  const SAME = new Set([
    "title.drink", "cart.drink", "chat.aDrink", "allergen.gluten", "spirit.gin", "spirit.vodka", "spirit.tequila", "spirit.mezcal",
    "spirit.brandy", "spirit.pisco", "spirit.cachaca", "image.kindIllustration", "chat.addLabel",
  ]);

  it("translates every text (none is an English copy)", () => {
    const copies = (Object.keys(en) as (keyof typeof en)[]).filter((key) => sv[key] === en[key] && !SAME.has(key));
    expect(copies).toEqual([]);
  });
});

