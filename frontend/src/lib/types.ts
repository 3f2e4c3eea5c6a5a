/**
 * Shapes of the API contract, named for the web app. They are aliases of the types
 * generated from docs/openapi.json into ./api-types.ts (`make openapi`; never edit that
 * file by hand), which is generated from chalicelib/contract.py: a change to a response
 * shows up here as a type error instead of drifting (docs/architecture.md, "The contract").
 */
import type { components, operations, paths } from "./api-types";

export type { components, operations, paths };

type Schemas = components["schemas"];
/**
 * T with the keys K optional. The web app's types stay as lenient as the hand-written
 * ones were where it handles partial copies (the web app's test fixtures, orders from
 * older live messages, a menu kept from before a field existed); every name and type
 * still comes from the contract.
 */
type Lenient<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

export type Section = Schemas["Section"];
export type DrinkIngredient = Schemas["DrinkIngredient"];
/** A WebP width of a photo (docs/pictures.md). */
export type PictureVariant = Schemas["PictureVariant"];
/**
 * What a drink shows: the host's uploaded photo, an AI-generated photo, or the offline
 * illustration drawn from its recipe. `kind` decides the label: only "photo" is a photo.
 */
export type Picture = Schemas["Picture"];
/** Always with picture, allergens and alcohol_free from the API (lenient, see Lenient). */
export type Drink = Lenient<Schemas["Drink"], "picture" | "allergens" | "alcohol_free">;
export type Ingredient = Schemas["Ingredient"];
export type BarStatus = Schemas["BarStatus"];

export type OrderStatus = Schemas["OrderStatus"];
export type OrderItem = Schemas["OrderItem"];
/** The guest's own copy of an order (GET /orders, GET /orders/{id}), with its place in the queue. */
export type GuestOrder = Schemas["GuestOrder"];
/**
 * An order as any route answers it (POST /orders, the admin's board, live updates). The
 * queue fields are there on the guest's own copies only (GuestOrder).
 */
export type Order = Lenient<Schemas["Order"], "guest_id" | "guest_name" | "history"> &
  Partial<Pick<GuestOrder, "queue_position" | "estimated_wait_s">>;
/** One line of POST /orders as the web app sends it (every field, although quantity and notes have defaults). */
export type OrderItemRequest = Required<Schemas["OrderItemRequest"]>;
export type OrderRequest = Schemas["OrderRequest"];

// ---------------------------------------------------------------- taste (issue 11)

/** GET|PUT /me/profile: every field optional on PUT (ProfileUpdate). */
export type TasteProfile = Schemas["TasteProfile"];
export type ProfileUpdate = Schemas["ProfileUpdate"];
export type Strength = NonNullable<TasteProfile["strength"]>;
/** One answer of GET /recommendations and GET /drinks/{id}/similar, best first. */
export type Recommendation = Omit<Lenient<Schemas["Recommendation"], "fallback">, "drink"> & { drink: Drink };

/** Every refusal: {"Code", "Message"}. */
export type ErrorBody = Schemas["ErrorBody"];
