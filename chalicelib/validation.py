"""Input validation at the edge: request data in, typed values out, or a 400.

Views call `parse(Model, data)` once; domain functions receive validated values.
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic import BaseModel as _PydanticModel

from chalicelib.errors import BadRequestError
from chalicelib.order_status import OrderStatus


class BaseModel(_PydanticModel):
    """Every model here builds its validator on first use, not at import: a cold Lambda
    pays only for the models its request needs (the models' own configs merge with this)."""

    model_config = ConfigDict(defer_build=True)


M = TypeVar("M", bound=BaseModel)

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DrinkQuery(BaseModel):
    """Filters of GET /drinks. Unknown parameters are ignored (cache busters)."""

    model_config = ConfigDict(extra="ignore")

    section_id: uuid.UUID | None = None
    ingredient: list[ShortText] = Field(default_factory=list, max_length=10)
    q: SearchText | None = None
    available: bool | None = None
    # Ingredient names or allergen / dietary keys; a drink containing any of them is left out.
    exclude: list[ShortText] = Field(default_factory=list, max_length=20)
    alcohol_free: bool | None = None


MAX_DESCRIBED_ERRORS = 10  # a body with 20,000 unknown keys gets a short answer


def _describe(error: ValidationError) -> str:
    parts = []
    items = error.errors(include_url=False)
    for item in items[:MAX_DESCRIBED_ERRORS]:
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    if len(items) > MAX_DESCRIBED_ERRORS:
        parts.append(f"and {len(items) - MAX_DESCRIBED_ERRORS} more")
    return "; ".join(parts)


# Request data deeper than this, or with a NUL character or a lone surrogate (JSON "\ud800")
# anywhere (PostgreSQL text cannot hold either), is refused before any model sees it.
MAX_DEPTH = 32
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


def json_body(raw: bytes | str | None) -> Any:
    """A request body as JSON (None when empty), or a 400: every view reads its body
    through this, so no input makes the parser fail with a 500 (RecursionError on deep
    nesting, invalid UTF-8, integers longer than Python converts)."""
    if raw is None or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadRequestError(f"the JSON body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise BadRequestError("the body is not valid JSON") from None


def _check_shape(data: Any) -> None:
    """Depth and unstorable characters, iteratively: hostile data cannot exhaust the stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _NOT_STORABLE.search(value):
                raise BadRequestError("text must not contain NUL characters or lone surrogates")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequestError(f"the JSON body is nested more than {MAX_DEPTH} levels deep")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


def parse(model: type[M], data: Any) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadRequestError("expected a JSON object")
    _check_shape(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequestError(_describe(exc)) from None
    except RecursionError:
        raise BadRequestError(f"the JSON body is nested more than {MAX_DEPTH} levels deep") from None


def query_dict(query_params: Any, list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Chalice's MultiDict of query parameters as a plain dict (lists where repeatable)."""
    if not query_params:
        return {}
    data: dict[str, Any] = {}
    for key in query_params:
        data[key] = query_params.getlist(key) if key in list_fields else query_params[key]
    return data


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise BadRequestError(f"{what} id must be a UUID") from None


# ---------------------------------------------------------------- orders and bar settings

NoteText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
# Strict: "2", 2.5 and true are not quantities.
Quantity = Annotated[int, Field(strict=True, ge=1, le=5)]


class OrderItemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drink_id: uuid.UUID
    quantity: Quantity = 1
    notes: NoteText = ""


class OrderRequest(BaseModel):
    """Body of POST /orders."""

    model_config = ConfigDict(extra="forbid")

    items: list[OrderItemRequest] = Field(min_length=1, max_length=10)
    notes: NoteText = ""


class OrderListQuery(BaseModel):
    """Query of GET /admin/orders: one status, or none for every order still in play."""

    model_config = ConfigDict(extra="ignore")

    status: OrderStatus | None = None


class OrderStatusUpdate(BaseModel):
    """Body of PUT /admin/orders/{id}."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: NoteText = ""

    @model_validator(mode="after")
    def _cancel_needs_reason(self) -> OrderStatusUpdate:
        # The guest sees why their drink is not coming.
        if self.status is OrderStatus.CANCELLED and not self.reason:
            raise ValueError("a reason is required to cancel an order")
        return self


class BarSettingsUpdate(BaseModel):
    """Body of PUT /admin/bar: the fields given change, the others keep their value."""

    model_config = ConfigDict(extra="forbid")

    is_open: Annotated[bool, Field(strict=True)] | None = None
    message: NoteText | None = None
    max_queue: Annotated[int, Field(strict=True, ge=1, le=500)] | None = None
    max_active_per_guest: Annotated[int, Field(strict=True, ge=1, le=20)] | None = None


# Visible ASCII, inner spaces allowed: what clients put in headers (UUIDs, ULIDs, ...).
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?")


# A browser's Origin header: scheme, host (name, IPv4 or [IPv6]) and port, nothing else.
_ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?")


def parse_origin(value: str | None) -> str:
    """The Origin header when it is a plain http(s) origin, else "" (a made-up or
    oversized one must not end up in join links and their QR codes)."""
    origin = (value or "").rstrip("/")
    return origin if _ORIGIN.fullmatch(origin) else ""


def parse_idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header: absent, or 1..100 printable characters."""
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise BadRequestError("Idempotency-Key must be 1 to 100 printable ASCII characters")
    return value

# ---------------------------------------------------------------- guests and invite codes

# Shown on the bar's screens and order tickets: trimmed, 1 to 40 characters, no
# control characters (no newlines or escape sequences sneaking onto the display).
GuestName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
]


class InviteCodeRequest(BaseModel):
    """Body of POST /admin/registration-codes (every field has a party-sized default)."""

    model_config = ConfigDict(extra="forbid")

    expires_in_hours: Annotated[int, Field(strict=True, ge=1, le=168)] = 24
    max_uses: Annotated[int, Field(strict=True, ge=1, le=500)] = 50
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class Registration(BaseModel):
    """Body of POST /register. The code is only bounded here: whether it is valid is
    the domain's answer (one 403 for every kind of invalid code)."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    name: GuestName


class RefreshRequest(BaseModel):
    """Body of POST /auth/refresh."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]

# ---------------------------------------------------------------- admin: menu (drinks, sections, ingredients)
# Bodies forbid unknown fields, so a typo ("abv_percent") is a 400, not a silent no-op.
# Update bodies are partial: only the fields sent change (`model_fields_set`); sending
# null clears a nullable field (abv, image_key) and is refused for the others.

_NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]+$"
DrinkName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=_NO_CONTROL)]
SectionName = DrinkName
# 60, like the ?ingredient= filter, so every catalog name can be filtered on.
IngredientName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=_NO_CONTROL)
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
RecipeStep = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=30, pattern=_NO_CONTROL)
]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
# Strict numbers: "50" and true are not amounts; NaN/Infinity (which json.loads accepts) neither.
Amount = Annotated[float, Field(strict=True, ge=0, le=10_000, allow_inf_nan=False)]
Abv = Annotated[float, Field(strict=True, ge=0, le=80, allow_inf_nan=False)]
Position = Annotated[int, Field(strict=True, ge=0, le=100_000)]
Flag = Annotated[bool, Field(strict=True)]
# Keys the upload-url endpoint hands out: under drink-images/, plain path segments
# (no "..", no leading "/", no spaces or URL-special characters).
_IMAGE_KEY = re.compile(r"drink-images/(?:[A-Za-z0-9][A-Za-z0-9._-]*/)*[A-Za-z0-9][A-Za-z0-9._-]*")


def _image_key(value: str) -> str:
    if len(value) > 300 or not _IMAGE_KEY.fullmatch(value):
        raise ValueError("must be a key under drink-images/ as returned by the upload-url endpoint")
    return value


ImageKey = Annotated[str, AfterValidator(_image_key)]


class IngredientCategory(enum.StrEnum):
    SPIRIT = "spirit"
    LIQUEUR = "liqueur"
    WINE = "wine"
    BITTERS = "bitters"
    JUICE = "juice"
    SYRUP = "syrup"
    MIXER = "mixer"
    DAIRY = "dairy"
    FRUIT = "fruit"
    HERB = "herb"
    SPICE = "spice"
    OTHER = "other"


class _Partial(BaseModel):
    """An update body: at least one field, and null only where the field may be empty."""

    model_config = ConfigDict(extra="forbid")
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _some_change_no_bad_nulls(self) -> _Partial:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send at least one field")
        for name in sorted(self.model_fields_set - self.NULLABLE):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class RecipeIngredient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: IngredientName
    amount: Amount | None = None
    unit: Unit = ""
    optional: Flag = False


def _distinct_ingredients(items: list[RecipeIngredient] | None) -> list[RecipeIngredient] | None:
    if items is not None:
        seen: set[str] = set()
        for item in items:
            key = item.name.lower()
            if key in seen:
                raise ValueError(f"ingredient {item.name!r} is listed twice")
            seen.add(key)
    return items


class DrinkCreate(BaseModel):
    """Body of POST /admin/drinks."""

    model_config = ConfigDict(extra="forbid")

    section_id: uuid.UUID
    name: DrinkName
    description: LongText = ""
    ingredients: list[RecipeIngredient] = Field(min_length=1, max_length=20)
    recipe_steps: list[RecipeStep] = Field(default_factory=list, max_length=20)
    glass: Label = ""
    garnish: Label = ""
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    abv: Abv | None = None
    image_key: ImageKey | None = None
    position: Position | None = None  # None: after the section's last drink

    @model_validator(mode="after")
    def _check(self) -> DrinkCreate:
        _distinct_ingredients(self.ingredients)
        self.tags = list(dict.fromkeys(self.tags))
        return self


class DrinkUpdate(_Partial):
    """Body of PUT /admin/drinks/{id}: a partial update; {"archived": false} unarchives."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"abv", "image_key"})

    section_id: uuid.UUID | None = None
    name: DrinkName | None = None
    description: LongText | None = None
    ingredients: list[RecipeIngredient] | None = Field(default=None, min_length=1, max_length=20)
    recipe_steps: list[RecipeStep] | None = Field(default=None, max_length=20)
    glass: Label | None = None
    garnish: Label | None = None
    tags: list[Tag] | None = Field(default=None, max_length=10)
    abv: Abv | None = None
    image_key: ImageKey | None = None
    position: Position | None = None
    archived: Flag | None = None

    @model_validator(mode="after")
    def _check(self) -> DrinkUpdate:
        _distinct_ingredients(self.ingredients)
        if self.tags is not None:
            self.tags = list(dict.fromkeys(self.tags))
        return self


class SectionCreate(BaseModel):
    """Body of POST /admin/sections."""

    model_config = ConfigDict(extra="forbid")

    name: SectionName
    description: LongText = ""
    position: Position | None = None  # None: after the last section


class SectionUpdate(_Partial):
    """Body of PUT /admin/sections/{id}; {"archived": false} brings a section back."""

    name: SectionName | None = None
    description: LongText | None = None
    position: Position | None = None
    archived: Flag | None = None


Intensity = Annotated[int, Field(strict=True, ge=0, le=3)]
# ge=0.05, not gt=0: the column keeps one decimal, so 0.04 would be stored as 0.0, which
# its CHECK (abv > 0) refuses with a 500 (found by tests/test_schemathesis.py: abv 5e-324).
IngredientAbv = Annotated[float, Field(strict=True, ge=0.05, le=100, allow_inf_nan=False)]
AllergenKey = Literal["celery", "dairy", "egg", "fish", "gluten", "peanuts", "soy", "sulphites", "tree_nuts"]


class Flavour(BaseModel):
    """An ingredient's flavour, 0 (none) to 3 (dominant) per attribute. In an update only
    the attributes sent change."""

    model_config = ConfigDict(extra="forbid")

    sweet: Intensity = 0
    sour: Intensity = 0
    bitter: Intensity = 0
    fruity: Intensity = 0
    herbal: Intensity = 0
    spicy: Intensity = 0
    smoky: Intensity = 0
    creamy: Intensity = 0
    fizzy: Intensity = 0


def _distinct_allergens(values: list[AllergenKey] | None) -> list[AllergenKey] | None:
    return sorted(set(values)) if values is not None else None


class IngredientCreate(BaseModel):
    """Body of POST /admin/ingredients: the ingredient, its taste and what it contains."""

    model_config = ConfigDict(extra="forbid")

    name: IngredientName
    category: IngredientCategory = IngredientCategory.OTHER
    in_stock: Flag = True
    flavour: Flavour = Field(default_factory=Flavour)
    allergens: Annotated[list[AllergenKey], AfterValidator(_distinct_allergens)] = Field(
        default_factory=list, max_length=9
    )
    vegan: Flag = True
    contains_alcohol: Flag = False
    abv: IngredientAbv | None = None  # the strength, when it contains alcohol

    @model_validator(mode="after")
    def _abv_needs_alcohol(self) -> IngredientCreate:
        if self.abv is not None and not self.contains_alcohol:
            raise ValueError("abv is only for an ingredient that contains alcohol (contains_alcohol: true)")
        return self


class IngredientUpdate(_Partial):
    """Body of PUT /admin/ingredients/{id}: stock, name, category, taste and contents."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"abv"})

    name: IngredientName | None = None
    category: IngredientCategory | None = None
    in_stock: Flag | None = None
    flavour: Flavour | None = None
    allergens: Annotated[list[AllergenKey] | None, AfterValidator(_distinct_allergens)] = Field(
        default=None, max_length=9
    )
    vegan: Flag | None = None
    contains_alcohol: Flag | None = None
    abv: IngredientAbv | None = None


# ---------------------------------------------------------------- admin: images


class PhotoChoice(BaseModel):
    """Body of POST /admin/drinks/{id}/picture/photo ("use my photo instead"): an uploaded
    photo's key, as POST /admin/images/upload-url returned it."""

    model_config = ConfigDict(extra="forbid")

    image_key: ImageKey


class ImageUploadRequest(BaseModel):
    """Body of POST /admin/images/upload-url. `filename` is the browser's name for the
    file; it becomes a safe key segment (see media.safe_filename)."""

    model_config = ConfigDict(extra="forbid")

    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    content_type: Literal["image/jpeg", "image/png", "image/webp"]

    @model_validator(mode="after")
    def _extension_matches_type(self) -> ImageUploadRequest:
        from chalicelib.media import safe_filename

        safe_filename(self.filename, self.content_type)  # ValueError -> 400
        return self


# ---------------------------------------------------------------- taste profiles and recommendations

SpiritKey = Literal["gin", "vodka", "rum", "tequila", "mezcal", "whiskey", "brandy", "pisco", "cachaca"]
TasteWord = Literal[
    "sweet", "sour", "bitter", "fruity", "herbal", "floral", "spicy", "smoky", "creamy", "fizzy",
    "savory", "coffee", "minty", "refreshing",
]
AvoidText = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=60, pattern=_NO_CONTROL)
]


def _distinct(values: list[Any] | None) -> list[Any] | None:
    return list(dict.fromkeys(values)) if values is not None else None


class ProfileUpdate(BaseModel):
    """Body of PUT /me/profile: every field optional, the ones sent replace the stored ones.
    `avoid` holds allergen keys, "non_vegan" or ingredient names (checked against the
    catalog by the domain); `strength: null` clears it."""

    model_config = ConfigDict(extra="forbid")

    spirits: Annotated[list[SpiritKey], AfterValidator(_distinct)] | None = Field(default=None, max_length=9)
    likes: Annotated[list[TasteWord], AfterValidator(_distinct)] | None = Field(default=None, max_length=14)
    dislikes: Annotated[list[TasteWord], AfterValidator(_distinct)] | None = Field(default=None, max_length=14)
    strength: Literal["light", "medium", "strong"] | None = None
    avoid: Annotated[list[AvoidText], AfterValidator(_distinct)] | None = Field(default=None, max_length=30)
    alcohol_free: Flag | None = None

    @model_validator(mode="after")
    def _check(self) -> ProfileUpdate:
        for name in sorted(self.model_fields_set - {"strength"}):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        both = set(self.likes or ()) & set(self.dislikes or ())
        if both:
            raise ValueError(f"liked and disliked at once: {', '.join(sorted(both))}")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class RatingRequest(BaseModel):
    """Body of PUT /me/ratings/{drink_id}: 1 (thumbs up), -1 (thumbs down), 0 (clear)."""

    model_config = ConfigDict(extra="forbid")

    rating: Annotated[int, Field(strict=True, ge=-1, le=1)]  # strict: true and "1" are not ratings


class LimitQuery(BaseModel):
    """?limit= of GET /recommendations and GET /drinks/{id}/similar."""

    model_config = ConfigDict(extra="ignore")

    limit: Annotated[int, Field(ge=1, le=20)] = 5


class BartenderMessage(BaseModel):
    """Body of POST /bartender/messages: what the guest says, and the conversation it continues."""

    model_config = ConfigDict(extra="forbid")

    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    conversation_id: uuid.UUID | None = None


class BartenderSettingsUpdate(BaseModel):
    """Body of PUT /admin/bartender: the host's switch and the nightly model token budget."""

    model_config = ConfigDict(extra="forbid")

    enabled: Annotated[bool, Field(strict=True)] | None = None
    nightly_token_budget: Annotated[int, Field(strict=True, ge=0, le=100_000_000)] | None = None
