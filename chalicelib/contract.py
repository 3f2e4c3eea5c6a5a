"""The API's typed contract: what every route answers, as pydantic models, and which
route takes and answers what (`ROUTES`).

The views do not validate their responses against these models (GET /drinks is the hot
path); the models describe the dicts the domain functions build today. They feed
`tools/openapi.py` (docs/openapi.json, and from it the web app's TypeScript types) and
the tests: tests/test_contract.py checks that every route of `app.app.routes` has an
entry here and validates real responses, tests/test_schemathesis.py fuzzes the document.
Nothing in the Lambda imports this module.

Models forbid extra keys, so a field a view adds without the contract fails the tests.
Request models are the ones views parse with (chalicelib.validation).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.validation import (
    BarSettingsUpdate,
    BartenderMessage,
    BartenderSettingsUpdate,
    DrinkCreate,
    DrinkQuery,
    DrinkUpdate,
    ImageUploadRequest,
    IngredientCreate,
    IngredientUpdate,
    InviteCodeRequest,
    LimitQuery,
    OrderListQuery,
    OrderRequest,
    OrderStatus,
    OrderStatusUpdate,
    PhotoChoice,
    ProfileUpdate,
    RatingRequest,
    RefreshRequest,
    Registration,
    SectionCreate,
    SectionUpdate,
)


class Out(BaseModel):
    """A response body: exactly these keys (extra ones are a contract change)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


# ---------------------------------------------------------------- errors


class ErrorBody(Out):
    """Every refusal: the error class's name and a sentence for people."""

    Code: str = Field(examples=["BadRequestError"])
    Message: str


# ---------------------------------------------------------------- the public menu


class Section(Out):
    id: uuid.UUID
    name: str
    description: str
    position: int


class DrinkIngredient(Out):
    name: str
    amount: float | None
    unit: str | None
    optional: bool


class PictureVariant(Out):
    """A WebP width of a photo (docs/pictures.md)."""

    width: int
    url: str


class Picture(Out):
    """What a drink shows: the host's uploaded photo, an AI-generated photo or the offline
    illustration drawn from its recipe. Only "photo" is a photo."""

    kind: Literal["photo", "generated", "illustration"]
    url: str
    width: int | None
    height: int | None
    variants: list[PictureVariant]


class Drink(Out):
    id: uuid.UUID
    section_id: uuid.UUID
    name: str
    description: str
    ingredients: list[DrinkIngredient]
    recipe_steps: list[str]
    glass: str
    garnish: str | None
    tags: list[str]
    abv: float | None
    image_url: str | None
    picture: Picture
    available: bool
    allergens: list[str] = Field(description="Allergen keys derived from the ingredients (egg, tree_nuts, ...).")
    alcohol_free: bool = Field(description="No ingredient contains alcohol.")


class Ingredient(Out):
    id: uuid.UUID
    name: str
    category: str
    in_stock: bool


class BarStatus(Out):
    is_open: bool
    message: str


class BarSettings(BarStatus):
    max_queue: int
    max_active_per_guest: int


# ---------------------------------------------------------------- guests


class PublicGuest(Out):
    id: uuid.UUID
    name: str
    created_at: datetime | None


class GuestSession(Out):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token lives.")
    guest: PublicGuest


class SignedOut(Out):
    """POST /auth/sign-out: the same answer whether or not the token was known."""

    signed_out: Literal[True]


class Me(Out):
    """GET /me: a guest, or an admin (no created_at) trying the bar out."""

    id: str | None
    name: str | None
    role: Literal["guest", "admin"]
    created_at: datetime | None


class RevokedGuest(Out):
    id: uuid.UUID
    name: str
    created_at: datetime | None
    revoked_at: datetime | None


class InviteCode(Out):
    code: str
    join_url: str
    qr_svg: str | None = Field(description="Only while the code is active.")
    status: Literal["active", "expired", "used_up", "revoked"]
    expires_at: datetime
    max_uses: int
    uses: int
    note: str
    revoked_at: datetime | None
    created_by: str
    created_at: datetime


# ---------------------------------------------------------------- taste


class TasteProfile(Out):
    spirits: list[str]
    likes: list[str]
    dislikes: list[str]
    strength: Literal["light", "medium", "strong"] | None
    avoid: list[str] = Field(description="Allergen keys, non_vegan or ingredient names.")
    alcohol_free: bool


class Rating(Out):
    drink_id: uuid.UUID
    rating: Literal[-1, 0, 1]


class Recommendation(Out):
    """One pick of GET /recommendations or GET /drinks/{id}/similar, best first."""

    drink: Drink
    score: float
    reasons: list[str]
    fallback: bool = Field(description="Nothing matched the taste: the closest that keep every hard rule.")


# ---------------------------------------------------------------- the bartender


class BartenderStatus(Out):
    enabled: bool
    engine: Literal["bedrock", "offline"]


class BartenderSettings(Out):
    enabled: bool
    nightly_token_budget: int


class ProposalItem(Out):
    drink_id: uuid.UUID
    quantity: int
    notes: str


class Proposal(Out):
    """An order the bartender suggests; the guest confirms it with POST /orders."""

    items: list[ProposalItem]


class BartenderReply(Out):
    conversation_id: uuid.UUID
    reply: str
    drinks: list[Drink]
    engine: str
    proposal: Proposal | None = Field(default=None, description="Absent when nothing is proposed.")


class ConversationMessage(Out):
    role: Literal["guest", "bartender"]
    text: str
    created_at: datetime
    drinks: list[Drink] | None = Field(default=None, description="The bartender's messages only.")
    engine: str | None = Field(default=None, description="The bartender's messages only.")
    proposal: Proposal | None = Field(default=None, description="Absent when nothing was proposed.")


class Conversation(Out):
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    messages: list[ConversationMessage]


# ---------------------------------------------------------------- orders


class OrderItem(Out):
    drink_id: uuid.UUID
    name: str
    quantity: int
    notes: str


class OrderHistoryEntry(Out):
    status: OrderStatus
    at: datetime
    reason: str


class Order(Out):
    id: uuid.UUID
    number: int
    status: OrderStatus
    guest_id: uuid.UUID
    guest_name: str
    items: list[OrderItem]
    notes: str
    created_at: datetime
    updated_at: datetime
    history: list[OrderHistoryEntry]


class GuestOrder(Order):
    """The guest's own copy (GET /orders, GET /orders/{id}): with its place in the queue."""

    queue_position: int | None = Field(description="1 = made next; null when not waiting.")
    estimated_wait_s: int | None = Field(description="Seconds; null when not waiting.")


# ---------------------------------------------------------------- admin: menu, pictures, numbers


class GeneratedImage(Out):
    """The drink's AI photo, kept even while an uploaded photo wins."""

    url: str
    width: int | None
    height: int | None
    seed: int | None
    model_id: str | None
    prompt_version: str | None
    attempt: int | None
    created_at: str | None


class AdminDrink(Drink):
    """The public drink plus what only the host sees."""

    image_key: str | None
    position: int
    archived: bool
    photo_prompt: str | None
    photo_prompt_source: str | None
    generated_image: GeneratedImage | None
    created_at: datetime | None
    updated_at: datetime | None


class AdminSection(Section):
    archived: bool
    active_drinks: int
    created_at: datetime | None
    updated_at: datetime | None


class FlavourProfile(Out):
    """0 (none) to 3 (dominant) per attribute."""

    sweet: int
    sour: int
    bitter: int
    fruity: int
    herbal: int
    spicy: int
    smoky: int
    creamy: int
    fizzy: int


class AdminIngredient(Ingredient):
    flavour: FlavourProfile
    allergens: list[str]
    vegan: bool
    contains_alcohol: bool
    abv: float | None
    active_drinks: int
    created_at: datetime | None
    updated_at: datetime | None


class PresignedPost(Out):
    url: str
    fields: dict[str, str]


class UploadUrl(Out):
    upload: PresignedPost
    key: str
    image_url: str
    expires_in: int
    max_bytes: int


class PictureRequest(Out):
    """202 of "regenerate": the picture handler does the work."""

    drink_id: uuid.UUID
    prompt_version: str
    attempt: int
    status: Literal["queued"]


class HourCount(Out):
    hour: datetime
    orders: int


class TopDrink(Out):
    drink_id: uuid.UUID
    name: str
    quantity: int
    orders: int


class Stats(Out):
    since: datetime
    until: datetime
    total_orders: int
    cancelled_orders: int
    orders_per_hour: list[HourCount]
    top_drinks: list[TopDrink]
    avg_prep_seconds: int | None
    prep_orders: int


class StatsQuery(BaseModel):
    """?since= of GET /admin/stats (the view reads it with stats.parse_since: ISO-8601,
    not in the future, within the last days; default 12 hours ago)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    since: datetime | None = None


# ---------------------------------------------------------------- the route table


@dataclass(frozen=True)
class Route:
    """What one (method, path) takes and answers.

    `errors` are the statuses besides the defaults every route can answer (see
    `error_statuses`)."""

    response: type[Out]
    status: int = 200
    many: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    summary: str = ""
    also: dict[int, str] = field(default_factory=dict)  # other success statuses, with why


ROUTES: dict[tuple[str, str], Route] = {
    # the public menu
    ("GET", "/sections"): Route(Section, many=True, summary="The menu's sections"),
    ("GET", "/drinks"): Route(Drink, many=True, query=DrinkQuery, summary="The menu, filtered"),
    ("GET", "/drinks/{drink_id}"): Route(Drink, summary="One drink of the menu"),
    ("GET", "/drinks/{drink_id}/similar"): Route(
        Recommendation, many=True, query=LimitQuery, summary="Drinks like this one"
    ),
    ("GET", "/ingredients"): Route(Ingredient, many=True, summary="The ingredient catalog and its stock"),
    ("GET", "/bar"): Route(BarStatus, summary="Open or closed, and the host's message"),
    # guests
    ("POST", "/register"): Route(GuestSession, status=201, body=Registration, summary="Join with an invite code"),
    ("POST", "/auth/refresh"): Route(
        GuestSession, body=RefreshRequest, errors=(401,), summary="Rotate the refresh token"
    ),
    ("POST", "/auth/sign-out"): Route(
        SignedOut, body=RefreshRequest, summary="End the guest's session on the server (every token of it)"
    ),
    ("GET", "/me"): Route(Me, errors=(404,), summary="Who the token belongs to"),
    ("GET", "/me/profile"): Route(TasteProfile, summary="The caller's taste profile"),
    ("PUT", "/me/profile"): Route(TasteProfile, body=ProfileUpdate, summary="Change the taste profile"),
    ("GET", "/me/ratings"): Route(Rating, many=True, summary="The caller's thumbs"),
    ("PUT", "/me/ratings/{drink_id}"): Route(Rating, body=RatingRequest, summary="Thumbs up, down or clear"),
    ("GET", "/recommendations"): Route(Recommendation, many=True, query=LimitQuery, summary="Picks for the caller"),
    # orders
    ("POST", "/orders"): Route(
        Order,
        status=201,
        body=OrderRequest,
        errors=(409, 422),
        summary="Place an order (Idempotency-Key)",
        also={200: "A replay of an Idempotency-Key: the order placed before (Idempotent-Replayed: true)"},
    ),
    ("GET", "/orders"): Route(GuestOrder, many=True, summary="The caller's latest orders"),
    ("GET", "/orders/{order_id}"): Route(GuestOrder, summary="One of the caller's orders"),
    ("POST", "/orders/{order_id}/cancel"): Route(Order, errors=(409,), summary="Take back a pending order"),
    # the bartender
    ("GET", "/bartender"): Route(BartenderStatus, summary="Is the bartender on, and which engine"),
    ("POST", "/bartender/messages"): Route(
        BartenderReply, body=BartenderMessage, errors=(404, 409, 429), summary="Talk to the bartender"
    ),
    ("GET", "/bartender/conversations/{conversation_id}"): Route(Conversation, summary="One of the caller's chats"),
    # admin: bar and bartender
    ("GET", "/admin/bar"): Route(BarSettings, summary="The bar's settings"),
    ("PUT", "/admin/bar"): Route(BarSettings, body=BarSettingsUpdate, summary="Open, close, limits"),
    ("GET", "/admin/bartender"): Route(BartenderSettings, summary="The bartender's switch and budget"),
    ("PUT", "/admin/bartender"): Route(
        BartenderSettings, body=BartenderSettingsUpdate, summary="Change the bartender's switch or budget"
    ),
    # admin: invites and guests
    ("POST", "/admin/registration-codes"): Route(
        InviteCode, status=201, body=InviteCodeRequest, summary="Create an invite"
    ),
    ("GET", "/admin/registration-codes"): Route(InviteCode, many=True, summary="Every invite"),
    ("DELETE", "/admin/registration-codes/{code}"): Route(InviteCode, summary="Revoke an invite"),
    ("DELETE", "/admin/guests/{guest_id}"): Route(RevokedGuest, summary="End a guest's session"),
    # admin: orders
    ("GET", "/admin/orders"): Route(Order, many=True, query=OrderListQuery, summary="Orders in play, or one status"),
    ("GET", "/admin/orders/{order_id}"): Route(Order, summary="One order"),
    ("PUT", "/admin/orders/{order_id}"): Route(
        Order, body=OrderStatusUpdate, errors=(409,), summary="Move an order along"
    ),
    # admin: menu
    ("GET", "/admin/drinks"): Route(AdminDrink, many=True, summary="Every drink, archived ones too"),
    ("POST", "/admin/drinks"): Route(
        AdminDrink, status=201, body=DrinkCreate, errors=(409,), summary="Create a drink"
    ),
    ("GET", "/admin/drinks/{drink_id}"): Route(AdminDrink, summary="One drink"),
    ("PUT", "/admin/drinks/{drink_id}"): Route(AdminDrink, body=DrinkUpdate, errors=(409,), summary="Edit a drink"),
    ("DELETE", "/admin/drinks/{drink_id}"): Route(AdminDrink, summary="Archive a drink"),
    ("GET", "/admin/sections"): Route(AdminSection, many=True, summary="Every section"),
    ("POST", "/admin/sections"): Route(
        AdminSection, status=201, body=SectionCreate, errors=(409,), summary="Create a section"
    ),
    ("PUT", "/admin/sections/{section_id}"): Route(
        AdminSection, body=SectionUpdate, errors=(409,), summary="Edit a section"
    ),
    ("DELETE", "/admin/sections/{section_id}"): Route(AdminSection, errors=(409,), summary="Archive a section"),
    ("GET", "/admin/ingredients"): Route(AdminIngredient, many=True, summary="The catalog with traits"),
    ("POST", "/admin/ingredients"): Route(
        AdminIngredient, status=201, body=IngredientCreate, errors=(409,), summary="Add an ingredient"
    ),
    ("PUT", "/admin/ingredients/{ingredient_id}"): Route(
        AdminIngredient, body=IngredientUpdate, errors=(409,), summary="Edit an ingredient, its stock or traits"
    ),
    # admin: images and pictures
    ("POST", "/admin/images/upload-url"): Route(
        UploadUrl, body=ImageUploadRequest, summary="A presigned POST for a photo"
    ),
    ("POST", "/admin/drinks/{drink_id}/picture/regenerate"): Route(
        PictureRequest, status=202, errors=(409,), summary="Ask for another AI photo"
    ),
    ("POST", "/admin/drinks/{drink_id}/picture/photo"): Route(
        AdminDrink, body=PhotoChoice, errors=(409,), summary="Use an uploaded photo as the picture"
    ),
    # admin: numbers
    ("GET", "/admin/stats"): Route(Stats, query=StatsQuery, summary="Tonight's numbers"),
}


def error_statuses(method: str, path: str, route: Route, has_authorizer: bool) -> list[int]:
    """The refusals a route can answer, each as {"Code","Message"}:

    400 bad input (a body, a query or an id in the path), 401 a missing or bad token,
    403 a missing API key (API Gateway) or a token without the right, 404 an id that is
    not there, 503 the database unreachable or busy; plus the route's own (`errors`)."""
    statuses = {403, 503, *route.errors}
    if route.body is not None or route.query is not None or "{" in path:
        statuses.add(400)
    if has_authorizer:
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    return sorted(statuses)
