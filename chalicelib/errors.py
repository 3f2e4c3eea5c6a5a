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
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UnauthorizedError",
]


class ServiceUnavailableError(ChaliceViewError):
    STATUS_CODE = 503
