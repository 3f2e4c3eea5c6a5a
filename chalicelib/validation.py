"""Input validation at the edge: request data in, typed values out, or a 400.

Views call `parse(Model, data)` once; domain functions receive validated values.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chalicelib.errors import BadRequestError

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


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse(model: type[M], data: Any) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadRequestError("expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequestError(_describe(exc)) from None


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
