import { describe, expect, it } from "vitest";
import {
  ALLERGENS,
  allergenLabel,
  allergenLabels,
  avoidLabel,
  avoidQuery,
  breaksAvoid,
  emptyProfile,
  FLAVOURS,
  isBlank,
  isFlag,
  normalizeProfile,
  QuizSkips,
  ratingMap,
  RatingMemory,
  SPIRITS,
  toggled,
  toggleFlavour,
} from "../src/lib/taste";
import { queryString } from "../src/lib/api";
import type { Drink } from "../src/lib/types";
import { MemoryStore } from "./helpers";

const drink = (name: string, ingredients: string[], extra: Partial<Drink> = {}): Drink => ({
  id: name,
  section_id: "s1",
  name,
  description: "",
  ingredients: ingredients.map((i) => ({ name: i, amount: 10, unit: "ml", optional: false })),
  recipe_steps: [],
  glass: "coupe",
  garnish: null,
  tags: [],
  abv: null,
  image_url: null,
  available: true,
  ...extra,
});

describe("the contract's words", () => {
  it("spells allergen keys, spirits and flavours exactly as the API does", () => {
    expect(ALLERGENS.map((a) => a.key)).toEqual([
      "egg",
      "dairy",
      "tree_nuts",
      "peanuts",
      "gluten",
      "soy",
      "fish",
      "sulphites",
      "celery",
    ]);
    expect(SPIRITS.map((s) => s.key)).toEqual([
      "gin",
      "vodka",
      "rum",
      "tequila",
      "mezcal",
      "whiskey",
      "brandy",
      "pisco",
      "cachaca",
    ]);
    expect(FLAVOURS).toHaveLength(14);
    expect(FLAVOURS.find((f) => f.key === "savory")?.label).toBe("Savory");
  });

  it("labels allergens for people, known ones in a fixed order, unknown ones as words", () => {
    expect(allergenLabel("tree_nuts")).toBe("Tree nuts");
    expect(allergenLabel("egg")).toBe("Egg");
    expect(allergenLabel("some_new_flag")).toBe("Some new flag");
    expect(allergenLabel("Campari")).toBe("Campari");
    expect(allergenLabels(["sulphites", "zzz_new", "egg", "egg"])).toEqual(["Egg", "Sulphites", "Zzz new"]);
    expect(allergenLabels(undefined)).toEqual([]);
  });

  it("tells flags from ingredient names and shows names in the catalog's spelling", () => {
    expect(isFlag("tree_nuts")).toBe(true);
    expect(isFlag("non_vegan")).toBe(true);
    expect(isFlag("campari")).toBe(false);
    const catalog = ["Campari", "Lemon Juice", "Crème de Violette"];
    expect(avoidLabel("lemon juice", catalog)).toBe("Lemon Juice");
    expect(avoidLabel("creme de violette", catalog)).toBe("Crème de Violette");
    expect(avoidLabel("non_vegan", catalog)).toBe("Animal products");
    expect(avoidLabel("egg", catalog)).toBe("Egg");
    expect(avoidLabel("absinthe", catalog)).toBe("Absinthe");
  });
});

describe("the profile", () => {
  it("fills what the API left out and drops what it does not know", () => {
    expect(normalizeProfile({ likes: ["sour", 3], strength: "nuclear", alcohol_free: "yes" })).toEqual({
      ...emptyProfile(),
      likes: ["sour"],
    });
    expect(normalizeProfile(null)).toEqual(emptyProfile());
    expect(normalizeProfile({ strength: "light", alcohol_free: true }).strength).toBe("light");
  });

  it("is blank until the guest says anything", () => {
    expect(isBlank(emptyProfile())).toBe(true);
    expect(isBlank({ ...emptyProfile(), alcohol_free: true })).toBe(false);
    expect(isBlank({ ...emptyProfile(), avoid: ["egg"] })).toBe(false);
    expect(isBlank({ ...emptyProfile(), strength: "strong" })).toBe(false);
  });

  it("never keeps a flavour in likes and dislikes at once", () => {
    let p = toggleFlavour(emptyProfile(), "likes", "sweet");
    expect([p.likes, p.dislikes]).toEqual([["sweet"], []]);
    p = toggleFlavour(p, "dislikes", "sweet");
    expect([p.likes, p.dislikes]).toEqual([[], ["sweet"]]);
    p = toggleFlavour(p, "dislikes", "sweet");
    expect([p.likes, p.dislikes]).toEqual([[], []]);
    expect(toggled(["a", "b"], "a")).toEqual(["b"]);
    expect(toggled(["a"], "b")).toEqual(["a", "b"]);
  });
});

describe("the avoid filter", () => {
  it("sends each thing avoided as a repeated exclude, and alcohol_free only when asked", () => {
    expect(queryString(avoidQuery(["egg", " Campari ", "egg", ""], true))).toBe(
      "?exclude=egg&exclude=Campari&alcohol_free=true",
    );
    expect(queryString(avoidQuery([], false))).toBe("");
  });

  it("hides a drink by allergen flag, by ingredient name, or for its alcohol", () => {
    const sour = drink("Whiskey Sour", ["Bourbon", "Lemon Juice", "Egg White"], { allergens: ["egg"] });
    const negroni = drink("Negroni", ["Gin", "Campari", "Sweet Vermouth"], { allergens: ["sulphites"], alcohol_free: false });
    const virgin = drink("Virgin Mojito", ["Lime Juice", "Mint"], { allergens: [], alcohol_free: true });
    expect(breaksAvoid(sour, ["egg"], false)).toBe(true);
    expect(breaksAvoid(negroni, ["egg"], false)).toBe(false);
    expect(breaksAvoid(negroni, ["campari"], false)).toBe(true); // names fold case
    expect(breaksAvoid(negroni, [], true)).toBe(true);
    expect(breaksAvoid(virgin, ["egg", "campari"], true)).toBe(false);
    // A drink JSON without the flags yet (an older API) is not hidden by allergen; the API's answer decides.
    expect(breaksAvoid(drink("Old", ["Gin"]), ["egg"], true)).toBe(false);
    // non_vegan is not in the drink JSON: never mistaken for an ingredient called so; the API decides.
    expect(breaksAvoid(drink("Non Vegan", ["Non Vegan"]), ["non_vegan"], false)).toBe(false);
  });
});

describe("ratings and quiz skips on the phone", () => {
  it("remembers each guest's thumbs apart and ignores junk in storage", () => {
    const store = new MemoryStore();
    const memory = new RatingMemory(store);
    memory.set("g1", "d1", 1);
    memory.set("g1", "d2", -1);
    memory.set("g2", "d1", -1);
    expect(memory.get("g1", "d1")).toBe(1);
    expect(memory.get("g1", "d2")).toBe(-1);
    expect(memory.get("g2", "d1")).toBe(-1);
    expect(memory.get("g2", "d2")).toBeNull();
    store.setItem("da.ratings.g3", '{"d1": 5, "d2": -1}');
    expect(memory.all("g3")).toEqual({ d2: -1 });
    store.setItem("da.ratings.g4", "not json");
    expect(memory.all("g4")).toEqual({});
    expect(new RatingMemory(null).get("g1", "d1")).toBeNull();
    memory.set("g1", "d1", 0); // taken back
    expect(memory.get("g1", "d1")).toBeNull();
    expect(memory.get("g1", "d2")).toBe(-1);
  });

  it("reads GET /me/ratings into a map, dropping junk rows", () => {
    expect(
      ratingMap([
        { drink_id: "d1", rating: 1 },
        { drink_id: "d2", rating: -1 },
        { drink_id: "d3", rating: 0 },
        { drink_id: 4, rating: 1 },
        null,
      ]),
    ).toEqual({ d1: 1, d2: -1 });
    expect(ratingMap({ not: "a list" })).toEqual({});
  });

  it("skips the quiz invitation per guest", () => {
    const skips = new QuizSkips(new MemoryStore());
    expect(skips.skipped("g1")).toBe(false);
    skips.skip("g1");
    expect(skips.skipped("g1")).toBe(true);
    expect(skips.skipped("g2")).toBe(false);
  });
});
