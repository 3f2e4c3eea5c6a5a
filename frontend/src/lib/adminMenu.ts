/** The menu in the console: drinks (with their pictures), sections, ingredients. */
import { adminGet as get, adminSend as send, seg } from "./admin";
import type { Drink, DrinkIngredient } from "./types";

export interface AdminDrink extends Drink {
  image_key: string | null;
  position: number;
  archived: boolean;
  photo_prompt: string | null;
  photo_prompt_source: string | null;
  /** The AI photo made from the prompt (kept while an uploaded photo wins). */
  generated_image: GeneratedImage | null;
  created_at: string;
  updated_at: string;
}

export interface GeneratedImage {
  url: string;
  width: number | null;
  height: number | null;
  seed: number | null;
  model_id: string | null;
  prompt_version: string | null;
  attempt: number | null;
  created_at: string | null;
}

export interface AdminSection {
  id: string;
  name: string;
  description: string;
  position: number;
  archived: boolean;
  active_drinks: number;
}

export const FLAVOURS = ["sweet", "sour", "bitter", "fruity", "herbal", "spicy", "smoky", "creamy", "fizzy"] as const;
export type Flavour = (typeof FLAVOURS)[number];
export const ALLERGEN_KEYS = ["egg", "dairy", "tree_nuts", "peanuts", "gluten", "soy", "fish", "sulphites", "celery"] as const;
export type AllergenKey = (typeof ALLERGEN_KEYS)[number];

/** An ingredient's taste (0-3 per flavour) and contents, edited in the console (docs/recommendations.md). */
export interface IngredientTraits {
  flavour: Record<Flavour, number>;
  allergens: string[];
  vegan: boolean;
  contains_alcohol: boolean;
  abv: number | null;
}

export interface AdminIngredient extends IngredientTraits {
  id: string;
  name: string;
  category: string;
  in_stock: boolean;
  active_drinks: number;
}

export const CATEGORIES = [
  "spirit", "liqueur", "wine", "bitters", "juice", "syrup", "mixer", "dairy", "fruit", "herb", "spice", "other",
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface DrinkInput {
  section_id: string;
  name: string;
  description: string;
  ingredients: DrinkIngredient[];
  recipe_steps: string[];
  glass: string;
  garnish: string;
  tags: string[];
  abv: number | null;
  image_key?: string | null;
}

export const drinksApi = {
  list: () => get<AdminDrink[]>("/admin/drinks"),
  get: (id: string) => get<AdminDrink>(`/admin/drinks/${seg(id)}`),
  create: (body: DrinkInput) => send<AdminDrink>("POST", "/admin/drinks", body),
  update: (id: string, body: Partial<DrinkInput> & { archived?: boolean }) =>
    send<AdminDrink>("PUT", `/admin/drinks/${seg(id)}`, body),
  archive: (id: string) => send<AdminDrink>("DELETE", `/admin/drinks/${seg(id)}`),
  /** Another AI photo (202: the picture handler makes it shortly). */
  regeneratePicture: (id: string) =>
    send<{ attempt: number; status: string }>("POST", `/admin/drinks/${seg(id)}/picture/regenerate`),
  /** "Use my photo instead": an uploaded photo becomes the drink's picture. */
  usePhoto: (id: string, imageKey: string) =>
    send<AdminDrink>("POST", `/admin/drinks/${seg(id)}/picture/photo`, { image_key: imageKey }),
};

export const sectionsApi = {
  list: () => get<AdminSection[]>("/admin/sections"),
  create: (body: { name: string; description: string }) => send<AdminSection>("POST", "/admin/sections", body),
  update: (id: string, body: Partial<Pick<AdminSection, "name" | "description" | "position" | "archived">>) =>
    send<AdminSection>("PUT", `/admin/sections/${seg(id)}`, body),
  archive: (id: string) => send<AdminSection>("DELETE", `/admin/sections/${seg(id)}`),
};

export const ingredientsApi = {
  list: () => get<AdminIngredient[]>("/admin/ingredients"),
  create: (body: { name: string; category: string; in_stock: boolean }) =>
    send<AdminIngredient>("POST", "/admin/ingredients", body),
  update: (id: string, body: Partial<Pick<AdminIngredient, "name" | "category" | "in_stock">> & Partial<IngredientTraits>) =>
    send<AdminIngredient>("PUT", `/admin/ingredients/${seg(id)}`, body),
};
