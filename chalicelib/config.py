"""Runtime configuration, read once from the environment.

Every stage (local, dev, prod) sets these variables in `.chalice/config.json`; the
code never asks "am I local?", it only reads what is configured here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


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
    # Bedrock model for photo prompts ("" = the offline prompt writer).
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
        bedrock_model_id=env("BEDROCK_MODEL_ID", ""),
        bedrock_region=env("BEDROCK_REGION", "") or env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
        photo_prompt_queue=photo_prompt_queue_name(),
        guest_key_secret_id=env("GUEST_KEY_SECRET_ID", "")
        or f"drink-assistant/{env('APP_STAGE', 'local')}/guest-token-key",
        guest_token_issuer=env("GUEST_TOKEN_ISSUER", "") or f"drink-assistant:{env('APP_STAGE', 'local')}",
        join_base_url=env("JOIN_BASE_URL", "").rstrip("/"),
        realtime_http_url=env("REALTIME_HTTP_URL", ""),
        realtime_ws_url=env("REALTIME_WS_URL", ""),
        storage_upload_url=env("STORAGE_UPLOAD_URL", "").rstrip("/"),
        realtime_queue=realtime_queue_name(),
    )
