/** Shapes of the API contract (docs/architecture.md section 5, and the docs it links). */

export interface Section {
  id: string;
  name: string;
  description: string;
  position: number;
}

export interface DrinkIngredient {
  name: string;
  amount: number | null;
  unit: string | null;
  optional: boolean;
}

/** A WebP width of a photo (docs/pictures.md). */
export interface PictureVariant {
  width: number;
  url: string;
}

/**
 * What a drink shows: the host's uploaded photo, an AI-generated photo, or the offline
 * illustration drawn from its recipe. `kind` decides the label: only "photo" is a photo.
 */
export interface Picture {
  kind: "photo" | "generated" | "illustration";
  url: string;
  width: number | null;
  height: number | null;
  variants: PictureVariant[];
}

export interface Drink {
  id: string;
  section_id: string;
  name: string;
  description: string;
  ingredients: DrinkIngredient[];
  recipe_steps: string[];
  glass: string;
  garnish: string | null;
  tags: string[];
  abv: number | null;
  image_url: string | null;
  /** What the drink shows (photo, generated or illustration), with responsive variants. */
  picture?: Picture;
  available: boolean;
  /** Allergen keys derived from the ingredients (`egg`, `tree_nuts`, ...); see lib/taste.ts. */
  allergens?: string[];
  /** No ingredient contains alcohol. */
  alcohol_free?: boolean;
}

export interface Ingredient {
  id: string;
  name: string;
  category: string;
  in_stock: boolean;
}

export interface BarStatus {
  is_open: boolean;
  message: string;
}

export type OrderStatus = "pending" | "in_progress" | "ready" | "completed" | "cancelled";

export interface OrderItem {
  drink_id: string;
  name: string;
  quantity: number;
  notes: string;
}

export interface Order {
  id: string;
  number: number;
  status: OrderStatus;
  guest_id?: string;
  guest_name?: string;
  items: OrderItem[];
  notes: string;
  created_at: string;
  updated_at: string;
  history?: { status: OrderStatus; at: string; reason: string }[];
  /** The guest's own orders (GET /orders): 1 = made next; null when not waiting. */
  queue_position?: number | null;
  /** Seconds, from the queue and tonight's prep times; null when not waiting. */
  estimated_wait_s?: number | null;
}

export interface OrderItemRequest {
  drink_id: string;
  quantity: number;
  notes: string;
}

// ---------------------------------------------------------------- taste (issue 11)

export type Strength = "light" | "medium" | "strong";

/** GET|PUT /me/profile: every field optional on PUT. */
export interface TasteProfile {
  spirits: string[];
  likes: string[];
  dislikes: string[];
  strength: Strength | null;
  /** Allergen keys or ingredient names. */
  avoid: string[];
  alcohol_free: boolean;
}

/** One answer of GET /recommendations and GET /drinks/{id}/similar, best first. */
export interface Recommendation {
  drink: Drink;
  score: number;
  reasons: string[];
  /** Nothing matches the guest's taste: these are the closest that keep every hard rule (the first reason says so). */
  fallback?: boolean;
}
