import { describe, expect, it } from "vitest";
import { filterableIngredients, filterDrinks, fold, formatAmount, groupBySection } from "../src/lib/filters";
import type { Drink, Ingredient, Section } from "../src/lib/types";

const drink = (name: string, section: string, ingredients: string[], available = true, extra: Partial<Drink> = {}): Drink => ({
  id: name,
  section_id: section,
  name,
  description: `${name} description`,
  ingredients: ingredients.map((i) => ({ name: i, amount: 10, unit: "ml", optional: false })),
  recipe_steps: [],
  glass: "coupe",
  garnish: null,
  tags: [],
  abv: null,
  image_url: null,
  available,
  ...extra,
});

const drinks = [
  drink("Gimlet", "s1", ["Gin", "Lime Juice"]),
  drink("Aviation", "s1", ["Gin", "Lemon Juice", "Crème de Violette"], false),
  drink("Negroni", "s2", ["Gin", "Campari", "Sweet Vermouth"]),
  drink("Daiquiri", "s1", ["White Rum", "Lime Juice"], true, { description: "Cuban classic" }),
];

describe("filterDrinks", () => {
  it("searches name, description and ingredients, accent- and case-insensitively", () => {
    const names = (q: string) => filterDrinks(drinks, { query: q, ingredients: [], availableOnly: false }).map((d) => d.name);
    expect(names("negroni")).toEqual(["Negroni"]);
    expect(names("CUBAN")).toEqual(["Daiquiri"]);
    expect(names("creme")).toEqual(["Aviation"]);
    expect(names("gin lime")).toEqual(["Gimlet"]);
    expect(names("  ")).toHaveLength(4);
  });

  it("needs every chosen ingredient (AND), like the API", () => {
    const names = (ingredients: string[]) =>
      filterDrinks(drinks, { query: "", ingredients, availableOnly: false }).map((d) => d.name);
    expect(names(["Gin"])).toEqual(["Gimlet", "Aviation", "Negroni"]);
    expect(names(["Gin", "Lime Juice"])).toEqual(["Gimlet"]);
  });

  it("'available now' hides what cannot be ordered", () => {
    expect(filterDrinks(drinks, { query: "", ingredients: [], availableOnly: true }).map((d) => d.name)).not.toContain(
      "Aviation",
    );
  });
});

it("groups by section in menu order and leaves out empty sections", () => {
  const sections: Section[] = [
    { id: "s2", name: "Spirit-Forward", description: "", position: 2 },
    { id: "s3", name: "Empty", description: "", position: 3 },
    { id: "s1", name: "Sours", description: "", position: 1 },
  ];
  expect(groupBySection(sections, drinks).map((g) => [g.section.name, g.drinks.length])).toEqual([
    ["Sours", 3],
    ["Spirit-Forward", 1],
  ]);
});

it("offers chips for used ingredients, spirits first, then by use", () => {
  const ingredients: Ingredient[] = [
    { id: "1", name: "Lime Juice", category: "juice", in_stock: true },
    { id: "2", name: "Gin", category: "spirit", in_stock: true },
    { id: "3", name: "Unused", category: "spirit", in_stock: true },
    { id: "4", name: "White Rum", category: "spirit", in_stock: true },
    { id: "5", name: "Campari", category: "liqueur", in_stock: true },
  ];
  expect(filterableIngredients(ingredients, drinks).map((i) => i.name)).toEqual([
    "Gin",
    "White Rum",
    "Lime Juice",
    "Campari",
  ]);
});

it("formats amounts", () => {
  expect(formatAmount(50, "ml")).toBe("50 ml");
  expect(formatAmount(0.75, "oz")).toBe("0.75 oz");
  expect(formatAmount(null, "top up")).toBe("top up");
  expect(fold(" Crème ")).toBe("creme");
});
