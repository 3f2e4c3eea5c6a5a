"""drink-assistant API: the table of contents. Each view parses, calls one chalicelib
function, and shapes the response; the logic lives in chalicelib/."""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from chalice import AuthResponse, Chalice, CORSConfig

from chalicelib import auth, bar, logs, menu
from chalicelib.config import settings
from chalicelib.db import database
from chalicelib.errors import ForbiddenError, NotFoundError
from chalicelib.validation import DrinkQuery, parse, parse_uuid, query_dict

logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
log = logging.getLogger("drink_assistant.api")

app = Chalice(app_name="drink-assistant")
app.log.propagate = True
app.api.cors = CORSConfig(
    allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Api-Key"],
    max_age=600,
)


@app.middleware("http")
def correlate(event: Any, get_response: Any) -> Any:
    """Tag every log line of the request with one id, and log the request once."""
    headers = event.headers or {}
    context = event.context or {}
    cid = headers.get("x-correlation-id") or context.get("requestId") or str(uuid.uuid4())
    token = logs.correlation_id.set(cid)
    started = time.perf_counter()
    try:
        response = get_response(event)
        response.headers["X-Correlation-Id"] = cid
        log.info(
            "request",
            extra={
                "method": event.method,
                "path": event.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
    finally:
        logs.correlation_id.reset(token)


# ---------------------------------------------------------------- authorizer

_authenticator: auth.Authenticator | None = None


def authenticator() -> auth.Authenticator:
    """Built once per container: the JWKS cache lives as long as the container."""
    global _authenticator
    if _authenticator is None:
        config = settings()
        _authenticator = auth.Authenticator(
            [auth.CognitoTokens(config.auth_issuer, config.auth_client_id, auth.JwksCache(config.auth_jwks_url))]
        )
    return _authenticator


def _unauthorized() -> Exception:
    """API Gateway answers 401 when a TOKEN authorizer fails with "Unauthorized";
    chalice local (and its test client) need their own exception for the same answer."""
    try:
        from chalice.local import NotAuthorizedError
    except ImportError:  # in Lambda: the message API Gateway maps to 401
        return Exception("Unauthorized")
    body = b'{"Code": "UnauthorizedError", "Message": "Unauthorized"}'
    return NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"}, body)


def routes_for(role: str) -> list[str]:
    """Every route a role may use: the policy API Gateway caches for the token."""
    if role == auth.ADMIN:
        return ["*"]
    return []


@app.authorizer(ttl_seconds=300)
def token_authorizer(auth_request: Any) -> Any:
    try:
        principal = authenticator().authenticate(auth_request.token)
    except auth.AuthError as exc:
        log.info("token refused", extra={"reason": str(exc)})
        raise _unauthorized() from None
    routes = routes_for(principal.role)
    if not routes:
        # A valid token with no right here: an explicit deny (403), cached as well.
        arn = auth_request.method_arn.split("/")
        return {
            "principalId": principal.user_id,
            "context": principal.context(),
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["/".join(arn[:2]) + "/*"]}
                ],
            },
        }
    return AuthResponse(routes=routes, principal_id=principal.user_id, context=principal.context())


def caller() -> dict[str, str]:
    """The authorizer's context for this request: userId, username, role."""
    return app.current_request.context.get("authorizer") or {}


def require_admin() -> dict[str, str]:
    """Defence in depth: the policy already keeps non-admins out of admin routes."""
    who = caller()
    if who.get("role") != auth.ADMIN:
        raise ForbiddenError("admins only")
    return who


# ---------------------------------------------------------------- public menu (reader)


@app.route("/sections", methods=["GET"])
def list_sections() -> list[dict[str, Any]]:
    return database().read(menu.list_sections)


@app.route("/drinks", methods=["GET"])
def list_drinks() -> list[dict[str, Any]]:
    query = parse(DrinkQuery, query_dict(app.current_request.query_params, list_fields=("ingredient",)))
    return database().read(menu.list_drinks, query, settings().image_base_url)


@app.route("/drinks/{drink_id}", methods=["GET"])
def get_drink(drink_id: str) -> dict[str, Any]:
    drink = database().read(menu.get_drink, parse_uuid(drink_id, "drink"), settings().image_base_url)
    if drink is None:
        raise NotFoundError("no such drink on the menu")
    return drink


@app.route("/ingredients", methods=["GET"])
def list_ingredients() -> list[dict[str, Any]]:
    return database().read(menu.list_ingredients)


@app.route("/bar", methods=["GET"])
def bar_status() -> dict[str, Any]:
    return bar.public_status(database().read(bar.get_settings))


# ---------------------------------------------------------------- admin: bar


@app.route("/admin/bar", methods=["GET"], authorizer=token_authorizer)
def admin_get_bar() -> dict[str, Any]:
    require_admin()
    return database().read(bar.get_settings)
