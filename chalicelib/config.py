"""Runtime configuration, read once from the environment.

Every stage (local, dev, prod) sets these variables in `.chalice/config.json`; the
code never asks "am I local?", it only reads what is configured here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger(__name__)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    # Plain PostgreSQL (local, tests). When set it wins over DSQL.
    database_url: str
    # Aurora DSQL cluster endpoint and the IAM roles mapped to the DB roles.
    dsql_endpoint: str
    dsql_reader_role_arn: str
    dsql_writer_role_arn: str
    db_reader_user: str
    db_writer_user: str
    db_name: str
    # Reconnect before DSQL's 60-minute connection limit.
    db_max_connection_age_s: int
    # Connections per role a process keeps (chalice local serves requests on threads;
    # a Lambda container uses one at a time) and how long a call waits for a free one.
    db_pool_size: int
    db_pool_timeout_s: float
    # Public base URL that image keys are appended to (CloudFront in AWS).
    image_base_url: str
    # Admin sign-in: the Cognito user pool (or the local gateway's stand-in).
    auth_issuer: str
    auth_client_id: str
    auth_jwks_url: str
    # S3 bucket for drink photos (drink-images/) and AI photo prompts (prompts/).
    media_bucket: str
    # EventBridge custom bus the API publishes domain events to.
    event_bus_name: str
    # API Gateway REST API id and stage whose cache admin writes flush ("" = no cache).
    api_id: str
    api_stage: str
    # Bedrock model for photo prompts ("" = the offline prompt writer): the id Converse is
    # called with, chosen for `bedrock_region` (`bedrock_model_for_region`).
    bedrock_model_id: str
    bedrock_region: str
    # SQS queue the bus's DrinkCreated rule feeds; the photo-prompt handler consumes it.
    photo_prompt_queue: str
    # Guest tokens: the Secrets Manager secret holding the app's EC P-256 signing key
    # (created on first use), the tokens' issuer, and the web app origin that invite
    # links point at (`{join_base_url}/join?code=...`).
    guest_key_secret_id: str
    guest_token_issuer: str
    join_base_url: str
    # AppSync Events: the HTTP publish URL (`https://<http-domain>/event`, the local
    # gateway's `/event` locally) and the WebSocket URL the web app subscribes on.
    realtime_http_url: str = ""
    realtime_ws_url: str = ""
    # Where browsers send presigned photo uploads when that is not the S3 URL boto3 signs:
    # locally the gateway's `/storage`, which checks the signature and forwards to the
    # emulator. "" in AWS (browsers post to S3 directly).
    storage_upload_url: str = ""
    # The SQS queue order events reach the realtime publisher through.
    realtime_queue: str = ""
    # Bedrock model (or inference profile) for the guests' chat bartender; "" = the offline one.
    bedrock_chat_model_id: str = ""
    # Whether the stage has an API Gateway cache cluster (the stage setting
    # API_CACHE_ENABLED; in AWS the template sets it from its ApiCacheEnabled parameter).
    # Off: admin writes do not flush. Unset counts as on (a configured API_ID flushes).
    api_cache_enabled: bool = True
    # Pictures (docs/pictures.md): the SQS queue of the picture handler; the per-stage
    # switch for AI-generated photos (off: the offline illustration is the picture), the
    # image model and its region, and how many images one party night may generate.
    picture_queue: str = ""
    image_generation: bool = False
    image_model_id: str = "amazon.nova-canvas-v1:0"
    image_region: str = "us-east-1"
    image_nightly_cap: int = 40

    @property
    def uses_dsql(self) -> bool:
        return not self.database_url and bool(self.dsql_endpoint)


def _jwks_url(issuer: str) -> str:
    # Cognito publishes a pool's keys under its issuer URL.
    return f"{issuer.rstrip('/')}/.well-known/jwks.json" if issuer else ""


def photo_prompt_queue_name() -> str:
    """Uncached: app.py names the queue when it is imported (by `chalice deploy/package`
    with the stage's variables set), before any test or request could reset settings()."""
    stage = os.environ.get("APP_STAGE", "local")
    return os.environ.get("PHOTO_PROMPT_QUEUE", "") or f"drink-assistant-{stage}-photo-prompts"


def realtime_queue_name() -> str:
    """The SQS queue the order events reach the realtime publisher through (named when
    app.py is imported, like the photo prompt queue)."""
    stage = os.environ.get("APP_STAGE", "local")
    return os.environ.get("REALTIME_QUEUE", "") or f"drink-assistant-{stage}-realtime"


def picture_queue_name() -> str:
    """The SQS queue of the picture handler (photo variants, illustrations, generated
    photos), named when app.py is imported like the other queues."""
    stage = os.environ.get("APP_STAGE", "local")
    return os.environ.get("PICTURE_QUEUE", "") or f"drink-assistant-{stage}-pictures"


# ---------------------------------------------------------------- Bedrock model ids
# Amazon Nova runs on demand (base id) only in some regions; the cross-Region inference
# profiles `us.` / `eu.` / `apac.` serve it from the regions of their geography and route
# each call to one of them (docs/aws-notes.md). Source = destination regions here.
NOVA_PROFILE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"),
    "apac": ("ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
}
GLOBAL_PROFILE = "global"


class BedrockModelError(ValueError):
    """The configured model id cannot be called from the region."""


def nova_geography(region: str) -> str | None:
    """The inference profile prefix whose source regions include `region`, if any."""
    return next((geo for geo, regions in NOVA_PROFILE_REGIONS.items() if region in regions), None)


def bedrock_model_for_region(configured: str, region: str) -> str:
    """The model id to call Converse with from `region`.

    A Nova base id (`amazon.nova-lite-v1:0`) becomes the inference profile of the region's
    geography (`eu.amazon.nova-lite-v1:0` from eu-west-1); a geography-prefixed id must
    belong to the region's geography; `global.` ids, ARNs and other models pass unchanged.
    Raises BedrockModelError when no profile serves the region, or the prefix is wrong.
    """
    model = configured.strip()
    if not model or model.startswith("arn:"):
        return model
    prefix = model.split(".", 1)[0]
    if prefix == GLOBAL_PROFILE:
        return model
    if prefix in NOVA_PROFILE_REGIONS:
        if region not in NOVA_PROFILE_REGIONS[prefix]:
            raise BedrockModelError(
                f"{model} is an inference profile of {prefix} regions {NOVA_PROFILE_REGIONS[prefix]}, "
                f"not callable from {region}"
            )
        return model
    if not model.startswith("amazon.nova-"):
        return model  # another provider's model: on demand where the operator chose it
    geography = nova_geography(region)
    if geography is None:
        raise BedrockModelError(f"no Nova inference profile (us., eu., apac.) serves {region}; choose another region")
    return f"{geography}.{model}"


def _bedrock_model_id(configured: str, region: str) -> str:
    """settings() must not fail every route over a model id: a bad one is logged (and the
    photo prompt calls fail into their DLQ, as before); deploy checks call the strict one."""
    try:
        return bedrock_model_for_region(configured, region)
    except BedrockModelError as exc:
        log.error("BEDROCK_MODEL_ID cannot be used from this region", extra={"error": str(exc)})
        return configured.strip()


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ.get
    return Settings(
        stage=env("APP_STAGE", "local"),
        region=env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
        database_url=env("DATABASE_URL", ""),
        dsql_endpoint=env("DSQL_ENDPOINT", ""),
        dsql_reader_role_arn=env("DSQL_READER_ROLE_ARN", ""),
        dsql_writer_role_arn=env("DSQL_WRITER_ROLE_ARN", ""),
        db_reader_user=env("DB_READER_USER", "da_reader"),
        db_writer_user=env("DB_WRITER_USER", "da_writer"),
        db_name=env("DB_NAME", "postgres"),
        db_max_connection_age_s=_int("DB_MAX_CONNECTION_AGE_S", 50 * 60),
        db_pool_size=_int("DB_POOL_SIZE", 8),
        db_pool_timeout_s=float(_int("DB_POOL_TIMEOUT_S", 10)),
        image_base_url=env("IMAGE_BASE_URL", "").rstrip("/"),
        auth_issuer=env("AUTH_ISSUER", "").rstrip("/"),
        auth_client_id=env("AUTH_CLIENT_ID", ""),
        auth_jwks_url=env("AUTH_JWKS_URL", "") or _jwks_url(env("AUTH_ISSUER", "")),
        media_bucket=env("MEDIA_BUCKET", ""),
        event_bus_name=env("EVENT_BUS_NAME", ""),
        api_id=env("API_ID", ""),
        api_stage=env("API_STAGE", "api"),
        bedrock_model_id=_bedrock_model_id(env("BEDROCK_MODEL_ID", ""), _bedrock_region()),
        bedrock_region=_bedrock_region(),
        photo_prompt_queue=photo_prompt_queue_name(),
        guest_key_secret_id=env("GUEST_KEY_SECRET_ID", "")
        or f"drink-assistant/{env('APP_STAGE', 'local')}/guest-token-key",
        guest_token_issuer=env("GUEST_TOKEN_ISSUER", "") or f"drink-assistant:{env('APP_STAGE', 'local')}",
        join_base_url=env("JOIN_BASE_URL", "").rstrip("/"),
        realtime_http_url=env("REALTIME_HTTP_URL", ""),
        realtime_ws_url=env("REALTIME_WS_URL", ""),
        storage_upload_url=env("STORAGE_UPLOAD_URL", "").rstrip("/"),
        realtime_queue=realtime_queue_name(),
        bedrock_chat_model_id=_bedrock_model_id(env("BEDROCK_CHAT_MODEL_ID", ""), _bedrock_region()),
        api_cache_enabled=env("API_CACHE_ENABLED", "true").strip().lower() != "false",
        picture_queue=picture_queue_name(),
        image_generation=env("IMAGE_GENERATION", "off").strip().lower() in ("on", "true", "1"),
        image_model_id=env("IMAGE_MODEL_ID", "") or "amazon.nova-canvas-v1:0",
        image_region=env("IMAGE_REGION", "") or _bedrock_region(),
        image_nightly_cap=_int("IMAGE_NIGHTLY_CAP", 40),
    )


def _bedrock_region() -> str:
    env = os.environ.get
    return env("BEDROCK_REGION", "") or env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1"
