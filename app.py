"""drink-assistant API: the table of contents. Each view parses, calls one chalicelib
function, and shapes the response; the logic lives in chalicelib/."""

from __future__ import annotations

import functools
import json
import logging
import os
import time
import uuid
from typing import Any

from chalice import AuthResponse, AuthRoute, Chalice, CORSConfig, Response

from chalicelib import LazyModule, auth, bar, guests, logs, orders
from chalicelib.config import photo_prompt_queue_name, picture_queue_name, realtime_queue_name, settings
from chalicelib.db import DatabaseBusy, DatabaseUnavailable
from chalicelib.errors import DomainError, ForbiddenError, NotFoundError, UnauthorizedError
from chalicelib.uow import UnitOfWork

# Imported on first use (chalicelib.LazyModule): `import app` is part of every cold
# start, and most requests need only a few of these.
bartender = LazyModule("bartender")
catalog = LazyModule("catalog")
conversations = LazyModule("conversations")
guest_tokens = LazyModule("guest_tokens")
images = LazyModule("images")
media = LazyModule("media")
menu = LazyModule("menu")
photo_prompts = LazyModule("photo_prompts")
profiles = LazyModule("profiles")
realtime = LazyModule("realtime")
stats = LazyModule("stats")
# The request models too: building them is most of pydantic's import cost, and routes
# such as GET /bar or the authorizer never parse a body.
validation = LazyModule("validation")

# The one way views reach the database (chalicelib/uow.py): stateless, so shared.
uow = UnitOfWork()

logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
log = logging.getLogger("drink_assistant.api")

# The errors below the edge, mapped to the contract's {"Code", "Message"} here, once, for
# every route: the domain's (chalicelib/errors.py: each class carries its status) and the
# data layer's, which are not the domain's business.
INFRA_ERRORS: dict[type[Exception], tuple[int, str, dict[str, str]]] = {
    DatabaseUnavailable: (503, "The database cannot be reached right now; try again shortly.", {"Retry-After": "2"}),
    DatabaseBusy: (503, "The bar is very busy right now; try again in a moment.", {"Retry-After": "1"}),
}


def error_response(exc: Exception) -> Response:
    """The contract's answer for an error raised below the edge."""
    if isinstance(exc, DomainError):
        status, message, headers = exc.status, exc.message, dict(exc.headers)
    else:
        status, message, headers = INFRA_ERRORS[type(exc)]
    level = logging.WARNING if status >= 500 or status == 429 else logging.INFO
    log.log(level, "request refused", extra={"code": type(exc).__name__, "status": status, "reason": str(exc)})
    return Response({"Code": type(exc).__name__, "Message": message}, status_code=status, headers=headers)


def at_the_edge(view: Any) -> Any:
    """Wrap a view so that the errors raised below it become their JSON answer."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except (DomainError, *INFRA_ERRORS) as exc:
            return error_response(exc)

    return guarded


class App(Chalice):
    """Chalice, with every route registered through `at_the_edge`."""

    def _register_route(self, name: str, user_handler: Any, kwargs: Any, **unused: Any) -> None:
        super()._register_route(name, at_the_edge(user_handler), kwargs, **unused)


app = App(app_name="drink-assistant")
app.log.propagate = True
app.api.cors = CORSConfig(
    allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Api-Key"],
    max_age=600,
)


@app.middleware("all")
def correlate(event: Any, get_response: Any) -> Any:
    """Every log line of an invocation carries cold_start and the Lambda context (chalicelib/logs.py).
    A request's lines also carry API Gateway's request id as correlation_id, returned as
    X-Correlation-Id; a client's own X-Correlation-Id is only logged beside it, cleaned.
    The request is logged once."""
    if not hasattr(event, "lambda_context"):  # an SQS batch or a plain Lambda invocation
        with logs.invocation(event.context):
            return get_response(event)
    headers = event.headers or {}
    context = event.context or {}
    cid = context.get("requestId") or getattr(event.lambda_context, "aws_request_id", None) or str(uuid.uuid4())
    client_cid = logs.client_correlation_id(headers.get("x-correlation-id"))
    with logs.invocation(event.lambda_context, cid, client_correlation_id=client_cid):
        started = time.perf_counter()
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


# ---------------------------------------------------------------- authorizer

_authenticator: auth.Authenticator | None = None


def authenticator() -> auth.Authenticator:
    """Built once per container: the JWKS cache lives as long as the container."""
    global _authenticator
    if _authenticator is None:
        config = settings()
        _authenticator = auth.Authenticator(
            [
                auth.CognitoTokens(config.auth_issuer, config.auth_client_id, auth.JwksCache(config.auth_jwks_url)),
                guest_tokens.GuestTokens(config.guest_token_issuer, guest_tokens.signing_key, _guest_is_active),
            ]
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


def _guest_is_active(guest_id: str) -> bool:
    """Revocation check of a validly signed guest token. While the database is down the
    token is let through: the view behind it needs the database too and answers 503."""
    try:
        return uow.read(guests.guest_is_active, guest_id)
    except (DatabaseUnavailable, DatabaseBusy) as exc:
        log.warning("guest revocation check skipped", extra={"reason": str(exc)})
        return True


# Guest tokens open these and nothing else (never /admin); admins get "*". Methods are
# spelled out: a plain "/orders" route becomes `.../*/orders`, and in a policy ARN that
# `*` also matches "GET/admin", so it would open /admin/orders as well.
GUEST_ROUTES = [
    AuthRoute(path, list(AuthResponse.ALL_HTTP_METHODS))
    for path in ("/me", "/me/*", "/orders", "/orders/*", "/recommendations", "/bartender", "/bartender/*")
]


def routes_for(role: str) -> list[str | AuthRoute]:
    """Every route a role may use: the policy API Gateway caches for the token."""
    if role == auth.ADMIN:
        return ["*"]
    if role == auth.GUEST:
        return list(GUEST_ROUTES)
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


def request_json() -> Any:
    """The request's JSON body, or a 400 (never Chalice's json_body: deep nesting is a 500 there)."""
    return validation.json_body(app.current_request.raw_body)


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


@app.route("/sections", methods=["GET"], api_key_required=True)
def list_sections() -> list[dict[str, Any]]:
    return uow.read(menu.list_sections)


@app.route("/drinks", methods=["GET"], api_key_required=True)
def list_drinks() -> Response:
    params = validation.query_dict(app.current_request.query_params, list_fields=("ingredient", "exclude"))
    query = validation.parse(validation.DrinkQuery, params)
    # PostgreSQL builds the JSON (chalicelib/menu.py): sent as is, not parsed and re-serialised.
    body = uow.read(menu.list_drinks_json, query, settings().image_base_url)
    return Response(body, headers={"Content-Type": "application/json"})


@app.route("/drinks/{drink_id}", methods=["GET"], api_key_required=True)
def get_drink(drink_id: str) -> Response:
    body = uow.read(menu.get_drink_json, validation.parse_uuid(drink_id, "drink"), settings().image_base_url)
    if body is None:
        raise NotFoundError("no such drink on the menu")
    return Response(body, headers={"Content-Type": "application/json"})


@app.route("/drinks/{drink_id}/similar", methods=["GET"], api_key_required=True)
def similar_drinks(drink_id: str) -> list[dict[str, Any]]:
    key = validation.parse_uuid(drink_id, "drink")
    query = validation.parse(validation.LimitQuery, validation.query_dict(app.current_request.query_params))
    picks = uow.read(profiles.similar_drinks, key, query.limit, settings().image_base_url)
    if picks is None:
        raise NotFoundError("no such drink on the menu")
    return picks


@app.route("/ingredients", methods=["GET"], api_key_required=True)
def list_ingredients() -> list[dict[str, Any]]:
    return uow.read(menu.list_ingredients)


@app.route("/bar", methods=["GET"], api_key_required=True)
def bar_status() -> dict[str, Any]:
    return bar.public_status(uow.read(bar.get_settings))


# ---------------------------------------------------------------- admin: bar


@app.route("/admin/bar", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_get_bar() -> dict[str, Any]:
    require_admin()
    return uow.read(bar.get_settings)


@app.route("/admin/bar", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def admin_update_bar() -> dict[str, Any]:
    require_admin()
    return uow.write(bar.update_settings, validation.parse(validation.BarSettingsUpdate, request_json()))


# ---------------------------------------------------------------- guests


@app.route("/register", methods=["POST"], api_key_required=True)
def register_guest() -> Response:
    body = validation.parse(validation.Registration, request_json())
    key = guest_tokens.signing_key()  # first: a Secrets Manager outage must not use up an invite
    guest, refresh_token = uow.write(guests.register, body.code, body.name)
    return Response(guest_tokens.session(key, guest, refresh_token), status_code=201)


@app.route("/auth/refresh", methods=["POST"], api_key_required=True)
def refresh_guest_session() -> dict[str, Any]:
    body = validation.parse(validation.RefreshRequest, request_json())
    key = guest_tokens.signing_key()
    rotated = uow.write(guests.refresh_session, body.refresh_token).rotated
    if rotated is None:  # unknown, expired, revoked or reused (which revoked its family)
        raise UnauthorizedError("refresh token is not valid")
    return guest_tokens.session(key, *rotated)


@app.route("/auth/sign-out", methods=["POST"], api_key_required=True)
def sign_out_guest() -> dict[str, Any]:
    """The refresh token is the credential (the access token may have expired); an
    unknown one gets the same answer, so the route tells nobody which tokens exist."""
    body = validation.parse(validation.RefreshRequest, request_json())
    uow.write(guests.sign_out, body.refresh_token)
    return {"signed_out": True}


@app.route("/me", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def who_am_i() -> dict[str, Any]:
    who = caller()
    if who.get("role") != auth.GUEST:
        return {"id": who.get("userId"), "name": who.get("username"), "role": who.get("role"), "created_at": None}
    guest = uow.read(guests.get_guest, who["userId"])
    if guest is None:
        raise NotFoundError("no such guest")
    return {**guest_tokens.public_guest(guest), "role": auth.GUEST}


# ---------------------------------------------------------------- taste profiles and recommendations
# A guest's own profile, thumbs and picks (chalicelib/profiles.py, chalicelib/recommend.py);
# an admin trying the bar out gets their own, keyed by their user id.


def taster() -> uuid.UUID:
    """Whose profile this request reads or writes: the caller's own, never another's."""
    who = caller()
    if who.get("role") not in (auth.GUEST, auth.ADMIN):
        raise ForbiddenError("guests only")
    try:
        return uuid.UUID(who.get("userId", ""))
    except ValueError:
        raise ForbiddenError("this account has no taste profile") from None


@app.route("/me/profile", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def get_my_profile() -> dict[str, Any]:
    return uow.read(profiles.get_profile, taster())


@app.route("/me/profile", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def update_my_profile() -> dict[str, Any]:
    guest_id = taster()
    changes = validation.parse(validation.ProfileUpdate, request_json())
    return uow.write(profiles.update_profile, guest_id, changes)


@app.route("/me/ratings", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def list_my_ratings() -> list[dict[str, Any]]:
    return uow.read(profiles.list_ratings, taster())


@app.route("/me/ratings/{drink_id}", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def rate_drink(drink_id: str) -> dict[str, Any]:
    guest_id = taster()
    key = validation.parse_uuid(drink_id, "drink")
    body = validation.parse(validation.RatingRequest, request_json())
    return uow.write(profiles.rate_drink, guest_id, key, body.rating)


@app.route("/recommendations", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def my_recommendations() -> list[dict[str, Any]]:
    guest_id = taster()
    query = validation.parse(validation.LimitQuery, validation.query_dict(app.current_request.query_params))
    return uow.read(profiles.recommendations, guest_id, query.limit, settings().image_base_url)


# ---------------------------------------------------------------- the bartender (chat)
# A grounded chat agent for guests (chalicelib/bartender.py, chalicelib/conversations.py).
# It never places an order: a proposal is confirmed with the normal POST /orders.


@app.route("/bartender", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def bartender_status() -> dict[str, Any]:
    taster()
    state = uow.read(conversations.get_settings)
    return {"enabled": state["enabled"], "engine": "bedrock" if settings().bedrock_chat_model_id else "offline"}


@app.route("/bartender/messages", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def bartender_message() -> dict[str, Any]:
    guest_id = taster()
    body = validation.parse(validation.BartenderMessage, request_json())
    return conversations.handle_message(
        uow,
        guest_id,
        body.message,
        body.conversation_id,
        image_base_url=settings().image_base_url,
        engine_factory=bartender.engine_for,
    )


@app.route(
    "/bartender/conversations/{conversation_id}", methods=["GET"], authorizer=token_authorizer, api_key_required=True
)
def bartender_conversation(conversation_id: str) -> dict[str, Any]:
    guest_id = taster()
    key = validation.parse_uuid(conversation_id, "conversation")
    return uow.read(conversations.get_conversation, guest_id, key, settings().image_base_url)


@app.route("/admin/bartender", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_get_bartender() -> dict[str, Any]:
    require_admin()
    return uow.read(conversations.get_settings)


@app.route("/admin/bartender", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def admin_update_bartender() -> dict[str, Any]:
    require_admin()
    body = validation.parse(validation.BartenderSettingsUpdate, request_json())
    return uow.write(conversations.update_settings, body.enabled, body.nightly_token_budget)


# ---------------------------------------------------------------- admin: invite codes


def _join_base_url() -> str:
    """Configured web app origin; else the admin console's own origin (same web app)."""
    return settings().join_base_url or validation.parse_origin(app.current_request.headers.get("origin"))


@app.route("/admin/registration-codes", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def admin_create_invite_code() -> Response:
    who = require_admin()
    body = validation.parse(validation.InviteCodeRequest, request_json())
    code = uow.write(
        guests.create_code,
        expires_in_hours=body.expires_in_hours,
        max_uses=body.max_uses,
        note=body.note,
        created_by=who.get("username") or who.get("userId", ""),
        base_url=_join_base_url(),
    )
    return Response(code, status_code=201)


@app.route("/admin/registration-codes", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_list_invite_codes() -> list[dict[str, Any]]:
    require_admin()
    return uow.read(guests.list_codes, _join_base_url())


@app.route("/admin/registration-codes/{code}", methods=["DELETE"], authorizer=token_authorizer, api_key_required=True)
def admin_revoke_invite_code(code: str) -> dict[str, Any]:
    require_admin()
    revoked = uow.write(guests.revoke_code, code, _join_base_url())
    if revoked is None:
        raise NotFoundError("no such invite code")
    return revoked


@app.route("/admin/guests/{guest_id}", methods=["DELETE"], authorizer=token_authorizer, api_key_required=True)
def admin_revoke_guest(guest_id: str) -> dict[str, Any]:
    """End a guest's session: their tokens stop working and their open live updates are
    told to close (docs/realtime.md#revocation). Idempotent."""
    require_admin()
    revoked = uow.write(guests.revoke_guest, validation.parse_uuid(guest_id, "guest"))
    if revoked is None:
        raise NotFoundError("no such guest")
    return revoked


# ---------------------------------------------------------------- orders (guests)


def orderer() -> tuple[uuid.UUID, str]:
    """Who is ordering: a guest, or an admin trying the bar out (their own user id)."""
    who = caller()
    if who.get("role") not in (auth.GUEST, auth.ADMIN):
        raise ForbiddenError("guests only")
    try:
        return uuid.UUID(who.get("userId", "")), who.get("username", "")
    except ValueError:
        raise ForbiddenError("this account cannot order") from None


@app.route("/orders", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def place_order() -> Response:
    guest_id, name = orderer()
    body = validation.parse(validation.OrderRequest, request_json())
    key = validation.parse_idempotency_key(app.current_request.headers.get("idempotency-key"))
    placement = orders.place_order(uow, guest_id, name, body, key)
    if not placement.created:  # a retry: the same order again, nothing new happened
        return Response(placement.order, status_code=200, headers={"Idempotent-Replayed": "true"})
    return Response(placement.order, status_code=201)


@app.route("/orders", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def list_my_orders() -> list[dict[str, Any]]:
    guest_id, _ = orderer()
    return uow.read(orders.list_my_orders, guest_id)


@app.route("/orders/{order_id}", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def get_my_order(order_id: str) -> dict[str, Any]:
    guest_id, _ = orderer()
    return uow.read(orders.get_my_order, guest_id, validation.parse_uuid(order_id, "order"))


@app.route("/orders/{order_id}/cancel", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def cancel_my_order(order_id: str) -> dict[str, Any]:
    guest_id, _ = orderer()
    return uow.write(orders.cancel_my_order, guest_id, validation.parse_uuid(order_id, "order")).order


# ---------------------------------------------------------------- admin: orders


@app.route("/admin/orders", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_list_orders() -> list[dict[str, Any]]:
    require_admin()
    query = validation.parse(validation.OrderListQuery, validation.query_dict(app.current_request.query_params))
    return uow.read(orders.list_orders, query.status)


@app.route("/admin/orders/{order_id}", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_get_order(order_id: str) -> dict[str, Any]:
    require_admin()
    return uow.read(orders.get_order, validation.parse_uuid(order_id, "order"))


@app.route("/admin/orders/{order_id}", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def admin_move_order(order_id: str) -> dict[str, Any]:
    who = require_admin()
    body = validation.parse(validation.OrderStatusUpdate, request_json())
    change = uow.write(
        orders.transition,
        validation.parse_uuid(order_id, "order"),
        body.status,
        body.reason,
        who.get("username") or who.get("userId", ""),
    )
    return change.order


# ---------------------------------------------------------------- admin: menu
# Drinks, sections and the ingredient catalog (chalicelib/catalog.py). Each write records
# its event (Drink* for drinks, MenuChanged for sections and ingredients) and the cached
# public reads it makes stale; the unit of work flushes, then publishes, after the commit.


@app.route("/admin/drinks", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_list_drinks() -> list[dict[str, Any]]:
    require_admin()
    return uow.read(catalog.list_every_drink, settings().image_base_url)


@app.route("/admin/drinks", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def admin_create_drink() -> Response:
    require_admin()
    body = validation.parse(validation.DrinkCreate, request_json())
    return Response(uow.write(catalog.create_drink, body, settings().image_base_url), status_code=201)


@app.route("/admin/drinks/{drink_id}", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_get_drink(drink_id: str) -> dict[str, Any]:
    require_admin()
    drink = uow.read(catalog.get_any_drink, validation.parse_uuid(drink_id, "drink"), settings().image_base_url)
    if drink is None:
        raise NotFoundError("no such drink")
    return drink


@app.route("/admin/drinks/{drink_id}", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def admin_update_drink(drink_id: str) -> dict[str, Any]:
    require_admin()
    key = validation.parse_uuid(drink_id, "drink")
    changes = validation.parse(validation.DrinkUpdate, request_json())
    return uow.write(catalog.update_drink, key, changes, settings().image_base_url)


@app.route("/admin/drinks/{drink_id}", methods=["DELETE"], authorizer=token_authorizer, api_key_required=True)
def admin_archive_drink(drink_id: str) -> dict[str, Any]:
    require_admin()
    return uow.write(catalog.archive_drink, validation.parse_uuid(drink_id, "drink"), settings().image_base_url)


@app.route("/admin/sections", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_list_sections() -> list[dict[str, Any]]:
    require_admin()
    return uow.read(catalog.list_every_section)


@app.route("/admin/sections", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def admin_create_section() -> Response:
    require_admin()
    body = validation.parse(validation.SectionCreate, request_json())
    return Response(uow.write(catalog.create_section, body), status_code=201)


@app.route("/admin/sections/{section_id}", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def admin_update_section(section_id: str) -> dict[str, Any]:
    require_admin()
    key = validation.parse_uuid(section_id, "section")
    changes = validation.parse(validation.SectionUpdate, request_json())
    return uow.write(catalog.update_section, key, changes)


@app.route("/admin/sections/{section_id}", methods=["DELETE"], authorizer=token_authorizer, api_key_required=True)
def admin_archive_section(section_id: str) -> dict[str, Any]:
    require_admin()
    return uow.write(catalog.archive_section, validation.parse_uuid(section_id, "section"))


@app.route("/admin/ingredients", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_list_ingredients() -> list[dict[str, Any]]:
    require_admin()
    return uow.read(catalog.list_ingredients)


@app.route("/admin/ingredients", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def admin_create_ingredient() -> Response:
    require_admin()
    body = validation.parse(validation.IngredientCreate, request_json())
    return Response(uow.write(catalog.create_ingredient, body), status_code=201)


@app.route("/admin/ingredients/{ingredient_id}", methods=["PUT"], authorizer=token_authorizer, api_key_required=True)
def admin_update_ingredient(ingredient_id: str) -> dict[str, Any]:
    require_admin()
    key = validation.parse_uuid(ingredient_id, "ingredient")
    changes = validation.parse(validation.IngredientUpdate, request_json())
    return uow.write(catalog.update_ingredient, key, changes)


# ---------------------------------------------------------------- admin: images
# The browser uploads a photo straight to storage with a presigned POST (limited to one
# key, the declared image type, 5 MB, 10 minutes), then sets the drink's image_key.


@app.route("/admin/images/upload-url", methods=["POST"], authorizer=token_authorizer, api_key_required=True)
def admin_image_upload_url() -> dict[str, Any]:
    require_admin()
    body = validation.parse(validation.ImageUploadRequest, request_json())
    return media.upload_url(body.filename, body.content_type)


# ---------------------------------------------------------------- admin: a drink's picture
# docs/pictures.md. "Regenerate" asks the picture handler for another AI photo (a new
# seed) and returns at once (202); "use my photo instead" makes an uploaded photo the
# drink's picture (an uploaded photo always wins; the AI one is kept).


@app.route(
    "/admin/drinks/{drink_id}/picture/regenerate", methods=["POST"], authorizer=token_authorizer, api_key_required=True
)
def admin_regenerate_picture(drink_id: str) -> Response:
    require_admin()
    key = validation.parse_uuid(drink_id, "drink")
    return Response(images.request_regeneration(uow, key, stats.utcnow()), status_code=202)


@app.route(
    "/admin/drinks/{drink_id}/picture/photo", methods=["POST"], authorizer=token_authorizer, api_key_required=True
)
def admin_use_photo(drink_id: str) -> dict[str, Any]:
    require_admin()
    key = validation.parse_uuid(drink_id, "drink")
    body = validation.parse(validation.PhotoChoice, request_json())
    return uow.write(catalog.use_photo, key, body.image_key, settings().image_base_url)


# ---------------------------------------------------------------- admin: stats
# Tonight's numbers for the console's charts (chalicelib/stats.py): orders per hour for
# the last 12 hours, and the top drinks since `since` (ISO-8601; default 12 hours ago).


@app.route("/admin/stats", methods=["GET"], authorizer=token_authorizer, api_key_required=True)
def admin_stats() -> dict[str, Any]:
    require_admin()
    now = stats.utcnow()
    since = stats.parse_since((app.current_request.query_params or {}).get("since"), now)
    return uow.read(stats.tonight, since, now)


# ---------------------------------------------------------------- events: realtime
# Order and menu events (bus -> rule -> queue, infra/events.yaml) become AppSync Events
# messages: order events on the guest's channel and the admin channel, menu events on
# /menu/updates. The Lambda authorizer guards subscriptions.


@app.on_sqs_message(queue=realtime_queue_name(), batch_size=10)
def relay_to_realtime(event: Any) -> None:
    """Raises on any failure so SQS redelivers the batch; republishing is harmless
    (clients drop messages whose event_id they have already seen)."""
    for record in event:
        realtime.deliver_event(json.loads(record.body), realtime.publish)


@app.lambda_function(name="realtime_authorizer")
def realtime_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return realtime.authorize_request(event, authenticator().authenticate)


# ---------------------------------------------------------------- events: photo prompts
# DrinkCreated (bus -> rule -> queue, infra/events.yaml) -> an AI photo prompt on the drink
# and in S3. Locally, local/event_runner.py feeds this same function from the emulator.


@app.on_sqs_message(queue=photo_prompt_queue_name(), batch_size=1)
def photo_prompt_handler(event: Any) -> None:
    """One message per invocation: raising returns it to the queue, so SQS retries it
    and, after maxReceiveCount deliveries, moves it to the dead-letter queue."""
    for record in event:
        photo_prompts.handle_sqs_body(record.body)


# ---------------------------------------------------------------- events: pictures
# Drink writes, photo prompts and "regenerate" (bus -> rule -> queue, infra/events.yaml) ->
# the drink's illustration, its photo's WebP variants, its AI photo (chalicelib/images.py).


@app.on_sqs_message(queue=picture_queue_name(), batch_size=1)
def picture_handler(event: Any) -> None:
    """One message per invocation; raising returns it to the queue (retries, then the DLQ)."""
    for record in event:
        images.handle_sqs_body(record.body)
