"""Publish the built web app (frontend/dist) to the bucket infra/web.yaml made.

    python -m infra.publish_web --stage dev --bucket <WebBucket> --distribution-id <DistributionId> \
        --api-url https://<api id>.execute-api.<region>.amazonaws.com/api --api-key-id <ApiKeyId> \
        --auth-domain <HostedUiDomain> --auth-client-id <AuthClientId> \
        --realtime-http-url <REALTIMEHTTPURL> --realtime-ws-url <REALTIMEWSURL>

Every option also reads an environment variable (`make publish-web` passes them
through; see --help). It builds nothing: run `make frontend` first. It uploads every
file with its Content-Type and Cache-Control (hashed assets/ for a year, index.html and
config.json never without revalidation), writes /config.json (the same shape the local
gateway serves), deletes what the new build no longer has, and invalidates
/index.html and /config.json (assets/ names are new in every build, so they need none).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "frontend" / "dist"

CONFIG_KEY = "config.json"
INDEX_KEY = "index.html"
# Browsers check a service worker for updates; it and the manifest must never go stale.
SERVICE_WORKER_KEY = "sw.js"
MANIFEST_KEY = "manifest.webmanifest"
# What the edge and browsers may keep. Hashed names change with their content.
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Unhashed files next to index.html (favicon.svg): an hour, as they are not invalidated.
SHORT = "public, max-age=3600"

# The web app's auth settings, as the local gateway serves them (local/hosted_login.py).
REDIRECT_PATH = "/auth/callback"
LOGOUT_PATH = "/"
SCOPES = ("openid", "email", "profile")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


def cache_control(key: str) -> str:
    if key.startswith("assets/"):
        return IMMUTABLE
    if key in (INDEX_KEY, CONFIG_KEY, SERVICE_WORKER_KEY, MANIFEST_KEY):
        return NO_CACHE
    return SHORT


def runtime_config(
    *,
    stage: str,
    api_url: str,
    api_key: str,
    auth_domain: str,
    auth_client_id: str,
    realtime_http_url: str,
    realtime_ws_url: str,
    realtime_api_key: str = "",
) -> dict[str, Any]:
    """/config.json: what frontend/src/lib/config.ts reads (AppConfig), every field set."""
    return {
        "stage": stage,
        "apiUrl": api_url.rstrip("/"),
        "apiKey": api_key,
        "auth": {
            "domain": auth_domain.rstrip("/"),
            "clientId": auth_client_id,
            "redirectPath": REDIRECT_PATH,
            "logoutPath": LOGOUT_PATH,
            "scopes": list(SCOPES),
        },
        "realtime": {"httpUrl": realtime_http_url, "wsUrl": realtime_ws_url, "apiKey": realtime_api_key},
    }


def fetch_api_key(key_id: str, apigateway: Any = None) -> str:
    """The usage-plan key's value (the API stack's ApiKeyId output)."""
    client = apigateway or _client("apigateway")
    return str(client.get_api_key(apiKey=key_id, includeValue=True)["value"])


def dist_files(dist: Path) -> dict[str, Path]:
    """Object key -> file, for every file in the build (a config.json there is ignored:
    the generated one is the stage's)."""
    if not (dist / INDEX_KEY).is_file():
        raise SystemExit(f"{dist / INDEX_KEY} is missing: run `make frontend` first")
    files = {p.relative_to(dist).as_posix(): p for p in sorted(dist.rglob("*")) if p.is_file()}
    files.pop(CONFIG_KEY, None)
    return files


def _upload_order(keys: Iterable[str]) -> list[str]:
    # assets/ first and index.html last: a browser that gets the new shell finds every
    # file it names already there.
    return sorted(keys, key=lambda k: (0 if k.startswith("assets/") else 2 if k == INDEX_KEY else 1, k))


def _existing_keys(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def publish(
    *,
    dist: Path,
    bucket: str,
    distribution_id: str,
    config: dict[str, Any],
    s3: Any = None,
    cloudfront: Any = None,
) -> dict[str, Any]:
    """Upload the build and its config, drop stale files, invalidate the shell.
    Returns what it did: {"uploaded", "deleted", "invalidation_id"}."""
    s3 = s3 or _client("s3")
    cloudfront = cloudfront or _client("cloudfront")
    files = dist_files(dist)
    before = _existing_keys(s3, bucket)

    body = json.dumps(config, indent=2).encode()
    s3.put_object(Bucket=bucket, Key=CONFIG_KEY, Body=body, ContentType=content_type(CONFIG_KEY),
                  CacheControl=cache_control(CONFIG_KEY))
    uploaded = [CONFIG_KEY]
    for key in _upload_order(files):
        s3.put_object(Bucket=bucket, Key=key, Body=files[key].read_bytes(), ContentType=content_type(key),
                      CacheControl=cache_control(key))
        uploaded.append(key)

    stale = sorted(before - set(files) - {CONFIG_KEY})
    for start in range(0, len(stale), 1000):  # DeleteObjects takes at most 1000 keys
        batch = stale[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})

    paths = [f"/{INDEX_KEY}", f"/{CONFIG_KEY}"]
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": f"publish-web-{uuid.uuid4()}",
        },
    )
    return {"uploaded": uploaded, "deleted": stale, "invalidation_id": answer["Invalidation"]["Id"]}


def _client(service: str) -> Any:
    import boto3

    # The default session's credentials and region; AWS_ENDPOINT_URL (an emulator) is
    # honoured by boto3 itself.
    return boto3.session.Session().client(service)


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m infra.publish_web", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--stage", default=env("STAGE", "dev"), help="dev or prod (STAGE)")
    add("--dist", type=Path, default=DIST, help="the built web app (default frontend/dist)")
    add("--bucket", default=env("WEB_BUCKET"), help="infra/web.yaml output WebBucket (WEB_BUCKET)")
    add("--distribution-id", default=env("WEB_DISTRIBUTION_ID"),
        help="infra/web.yaml output DistributionId (WEB_DISTRIBUTION_ID)")
    add("--api-url", default=env("API_URL"), help="the API stage URL, .../api (API_URL)")
    add("--api-key", default=env("API_KEY"), help="the usage-plan key's value (API_KEY)")
    add("--api-key-id", default=env("API_KEY_ID"),
        help="the API stack's ApiKeyId output; its value is fetched (API_KEY_ID)")
    add("--auth-domain", default=env("AUTH_DOMAIN"), help="infra/auth.yaml output HostedUiDomain (AUTH_DOMAIN)")
    add("--auth-client-id", default=env("AUTH_CLIENT_ID"), help="infra/auth.yaml output AuthClientId (AUTH_CLIENT_ID)")
    add("--realtime-http-url", default=env("REALTIME_HTTP_URL"), help="infra/realtime.yaml REALTIMEHTTPURL")
    add("--realtime-ws-url", default=env("REALTIME_WS_URL"), help="infra/realtime.yaml REALTIMEWSURL")
    add("--realtime-api-key", default=env("REALTIME_API_KEY", ""), help="realtime.apiKey (empty: none)")
    return parser


REQUIRED = ("bucket", "distribution_id", "api_url", "auth_domain", "auth_client_id", "realtime_http_url",
            "realtime_ws_url")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    missing = [f"--{name.replace('_', '-')}" for name in REQUIRED if not getattr(args, name)]
    if not (args.api_key or args.api_key_id):
        missing.append("--api-key or --api-key-id")
    if missing:
        parser.error("missing " + ", ".join(missing) + " (or their environment variables)")
    api_key = args.api_key or fetch_api_key(args.api_key_id)
    config = runtime_config(
        stage=args.stage,
        api_url=args.api_url,
        api_key=api_key,
        auth_domain=args.auth_domain,
        auth_client_id=args.auth_client_id,
        realtime_http_url=args.realtime_http_url,
        realtime_ws_url=args.realtime_ws_url,
        realtime_api_key=args.realtime_api_key,
    )
    done = publish(dist=args.dist, bucket=args.bucket, distribution_id=args.distribution_id, config=config)
    print(f"uploaded {len(done['uploaded'])} files to s3://{args.bucket}, deleted {len(done['deleted'])} stale; "
          f"invalidation {done['invalidation_id']}", file=sys.stderr)


if __name__ == "__main__":
    main()
