"""Errors the API returns, as Chalice view errors.

Chalice turns a raised `ChaliceViewError` into `{"Code": <class name>, "Message": ...}`
with the class's status, so each class name here is an error Code of the API contract.
Domain functions raise these; they never build HTTP responses themselves.
"""

from __future__ import annotations

from chalice import (
    BadRequestError,
    ChaliceViewError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)

__all__ = [
    "BadRequestError",
    "BarClosed",
    "ConflictError",
    "DrinkUnavailable",
    "IdempotencyKeyReused",
    "QueueFull",
    "TooManyActiveOrders",
    "ForbiddenError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UnauthorizedError",
]


class ServiceUnavailableError(ChaliceViewError):
    STATUS_CODE = 503


# ---------------------------------------------------------------- orders: refusals (409)
# Each is an error Code of the contract, so a client can tell why an order was refused.


class BarClosed(ChaliceViewError):
    STATUS_CODE = 409


class QueueFull(ChaliceViewError):
    STATUS_CODE = 409


class TooManyActiveOrders(ChaliceViewError):
    STATUS_CODE = 409


class DrinkUnavailable(ChaliceViewError):
    STATUS_CODE = 409


class IdempotencyKeyReused(ChaliceViewError):
    """The same Idempotency-Key was sent again with a different order (RFC draft: 422)."""

    STATUS_CODE = 422


# ---------------------------------------------------------------- plain domain errors
# Not Chalice errors: app.py's EDGE_ERRORS maps each to its status, once, for every route.


class BartenderOff(Exception):
    """The host turned the chat bartender off (409)."""


class TooManyMessages(Exception):
    """A guest sent the bartender too many messages in a short time (429)."""
