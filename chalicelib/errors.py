"""The domain's errors: plain exceptions, with no web framework below the edge.

Each class name is an error Code of the API contract. A domain function raises one with a
precise message; the edge (app.py, `at_the_edge`) turns it into
`{"Code": <class name>, "Message": <message>}` with the class's `status` and `headers`,
once, for every route. Nothing here imports Chalice (tests/test_layers.py checks it).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BadRequestError",
    "BarClosed",
    "BartenderOff",
    "ConflictError",
    "DomainError",
    "DrinkUnavailable",
    "ForbiddenError",
    "IdempotencyKeyReused",
    "NotFoundError",
    "QueueFull",
    "ServiceUnavailableError",
    "TooManyActiveOrders",
    "TooManyMessages",
    "UnauthorizedError",
]


class DomainError(Exception):
    """A request the domain refuses. `status` is the HTTP status the edge answers with;
    `default_message` is used when the error is raised without one."""

    status: ClassVar[int] = 400
    headers: ClassVar[dict[str, str]] = {}
    default_message: ClassVar[str] = ""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.default_message or type(self).__name__)

    @property
    def message(self) -> str:
        return str(self)


class BadRequestError(DomainError):
    status = 400


class UnauthorizedError(DomainError):
    status = 401


class ForbiddenError(DomainError):
    status = 403


class NotFoundError(DomainError):
    status = 404


class ConflictError(DomainError):
    status = 409


class ServiceUnavailableError(DomainError):
    status = 503
    headers = {"Retry-After": "2"}


# ---------------------------------------------------------------- orders: refusals
# Each is an error Code of the contract, so a client can tell why an order was refused.


class BarClosed(DomainError):
    status = 409


class QueueFull(DomainError):
    status = 409


class TooManyActiveOrders(DomainError):
    status = 409


class DrinkUnavailable(DomainError):
    status = 409


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key was sent again with a different order (RFC draft: 422)."""

    status = 422


# ---------------------------------------------------------------- the bartender


class BartenderOff(DomainError):
    """The host turned the chat bartender off."""

    status = 409
    default_message = "The bartender is off tonight; the menu and ordering still work."


class TooManyMessages(DomainError):
    """A guest sent the bartender too many messages in a short time."""

    status = 429
    headers = {"Retry-After": "30"}
    default_message = "That's a lot of messages: try again in a minute."
