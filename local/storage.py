"""Local S3 in front of the emulator: presigned photo uploads in, photos out.

* `POST /storage/{bucket}`  a browser's presigned POST (multipart form, as S3 takes it).
                            The gateway checks it the way S3 does BEFORE anything reaches
                            the emulator: the SigV4 POST policy signature (made with the
                            stack's secret key), then the policy itself (expiration, bucket,
                            key, Content-Type, content-length-range against the real size,
                            every form field covered by a condition); and, beyond S3, that
                            the key is under drink-images/ and the bytes really are the
                            declared JPEG/PNG/WebP. Only then it stores the object.
* anything else on `/storage` (PUT, DELETE, unsigned or expired POSTs) -> 403.
* `GET /images/{key}`       the stand-in for CloudFront: streams a drink-images/ object
                            from the emulator with its content type and a long cache life.

The emulator itself (moto, 127.0.0.1 only) checks no signatures: the gateway is the one
door phones and browsers have. Errors use S3's XML error shape.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web
from yarl import URL

log = logging.getLogger("drink_assistant.gateway.storage")

ROOT = Path(__file__).resolve().parent.parent
IMAGE_PREFIX = "drink-images/"
# Magic numbers of the accepted types: what the file starts with, per Content-Type.
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda head: len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP",
}
# Form fields S3 does not require a policy condition for.
UNCONDITIONED = {"policy", "x-amz-signature", "file"}
MAX_FIELD_BYTES = 20 * 1024
MAX_FIELDS = 40
# Never buffer more than this, whatever a (correctly signed) policy allows.
HARD_MAX_BYTES = 20 * 1024 * 1024
RANGE = "content-length-range"
IMAGE_CACHE_CONTROL = "public, max-age=31536000, immutable"  # keys are unique per upload
_SAFE_KEY = re.compile(r"drink-images/(?:[A-Za-z0-9][A-Za-z0-9._-]*/)*[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class StorageConfig:
    emulator_url: str
    bucket: str
    access_key: str
    secret_key: str
    region: str
    # The emulator keeps objects in memory; a copy of each photo here lets
    # `ensure_bucket(restore_from=...)` put them back when the stack restarts.
    mirror_dir: Path | None = None


CONFIG: web.AppKey[StorageConfig] = web.AppKey("storage_config", StorageConfig)
HTTP: web.AppKey[ClientSession] = web.AppKey("storage_http", ClientSession)


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return web.Response(status=status, body=body.encode(), content_type="application/xml")


def denied(message: str) -> S3Error:
    return S3Error(403, "AccessDenied", message)


# ------------------------------------------------------------------ SigV4 POST policy


def signing_key(secret_key: str, date: str, region: str, service: str = "s3") -> bytes:
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def policy_signature(secret_key: str, date: str, region: str, policy_b64: str) -> str:
    """The x-amz-signature of a POST policy: HMAC-SHA256 over the base64 policy itself."""
    return hmac.new(signing_key(secret_key, date, region), policy_b64.encode(), hashlib.sha256).hexdigest()


def verify_signature(fields: dict[str, str], config: StorageConfig) -> dict[str, Any]:
    """The decoded policy when the form is signed with the stack's key; else S3Error."""
    for name in ("policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"):
        if not fields.get(name):
            raise denied(f"a presigned upload needs the {name} field")
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        raise S3Error(400, "InvalidArgument", "only AWS4-HMAC-SHA256 POST policies are accepted")
    parts = fields["x-amz-credential"].split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise S3Error(400, "InvalidArgument", "malformed x-amz-credential")
    access_key, date, region = parts[0], parts[1], parts[2]
    if not fields["x-amz-date"].startswith(date):
        raise S3Error(400, "InvalidArgument", "x-amz-date does not match the credential's date")
    if not config.secret_key or not hmac.compare_digest(access_key, config.access_key):
        raise denied("the access key is not this stack's")
    expected = policy_signature(config.secret_key, date, region, fields["policy"])
    if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
        raise S3Error(403, "SignatureDoesNotMatch", "the policy signature does not match")
    try:
        policy = json.loads(base64.b64decode(fields["policy"], validate=True))
    except (binascii.Error, ValueError):
        raise S3Error(400, "InvalidPolicyDocument", "the policy is not base64 JSON") from None
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions"), list):
        raise S3Error(400, "InvalidPolicyDocument", "the policy needs expiration and conditions")
    return policy


def check_policy(policy: dict[str, Any], fields: dict[str, str], bucket: str, now: dt.datetime) -> tuple[int, int]:
    """Expiration and every condition, as S3 applies them; returns the allowed size range.
    Every form field (but policy, signature, file, x-ignore-*) must be named by a
    condition, so nothing unsigned can ride along."""
    try:
        expires = dt.datetime.fromisoformat(str(policy["expiration"]))
    except (KeyError, ValueError):
        raise S3Error(400, "InvalidPolicyDocument", "the policy has no valid expiration") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    if now >= expires:
        raise denied("Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    size: tuple[int, int] | None = None
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            checks = [("eq", str(k), v) for k, v in condition.items()]
        elif isinstance(condition, list) and len(condition) == 3 and str(condition[0]).lower() == RANGE:
            try:
                size = (int(condition[1]), int(condition[2]))
            except (TypeError, ValueError):
                raise S3Error(400, "InvalidPolicyDocument", "bad content-length-range") from None
            continue
        elif isinstance(condition, list) and len(condition) == 3 and str(condition[1]).startswith("$"):
            checks = [(str(condition[0]).lower(), str(condition[1])[1:], condition[2])]
        else:
            raise S3Error(400, "InvalidPolicyDocument", f"unsupported condition {condition!r}")
        for op, name, expected in checks:
            name = name.lower()
            covered.add(name)
            actual = values.get(name, "")
            if op == "eq":
                ok = actual == str(expected)
            elif op == "starts-with":
                ok = actual.startswith(str(expected))
            else:
                raise S3Error(400, "InvalidPolicyDocument", f"unsupported condition operator {op!r}")
            if not ok:
                raise denied(f"Invalid according to Policy: Policy Condition failed: [{op}, ${name}, {expected}]")
    extra = [n for n in fields if n not in covered and n not in UNCONDITIONED and not n.startswith("x-ignore-")]
    if extra:
        raise denied(f"Invalid according to Policy: Extra input fields: {', '.join(sorted(extra))}")
    if size is None:
        # S3 would take any size; this door only takes uploads whose size is limited.
        raise denied("the policy must limit the size (content-length-range)")
    return size


def check_upload(fields: dict[str, str]) -> tuple[str, str]:
    """The gateway's own rule on top of the policy: photos under drink-images/ only."""
    key = fields.get("key", "")
    if not key.startswith(IMAGE_PREFIX) or not _SAFE_KEY.fullmatch(key):
        raise denied("uploads go under drink-images/ only")
    content_type = fields.get("content-type", "")
    if content_type not in SIGNATURES:
        raise denied(f"Content-Type must be one of {', '.join(SIGNATURES)}")
    return key, content_type


def emulator_headers(config: StorageConfig, method: str, url: str, body: bytes = b"", **headers: str) -> dict[str, str]:
    """SigV4-signed headers for a request to the emulator (moto applies bucket ACLs to
    anonymous requests, so reads must be signed like the API's own)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = Credentials(config.access_key or "local", config.secret_key or "local")
    S3SigV4Auth(credentials, "s3", config.region).add_auth(request)
    return dict(request.headers.items())


# ------------------------------------------------------------------ handlers


async def _read_field(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(4096):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise S3Error(400, "MaxPostPreDataLengthExceeded", "a form field is too large")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise S3Error(400, "InvalidArgument", "form fields must be UTF-8") from None


async def _read_file(part: BodyPartReader, limit: int) -> bytes:
    """At most limit+1 bytes: enough to know the file is too large without storing it."""
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            break
    return bytes(data)


async def upload(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    try:
        if request.match_info["bucket"] != config.bucket:
            raise S3Error(404, "NoSuchBucket", "the specified bucket does not exist")
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            raise S3Error(400, "MalformedPOSTRequest", "expected a multipart/form-data upload") from None
        fields: dict[str, str] = {}
        file_part: BodyPartReader | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                raise S3Error(400, "MalformedPOSTRequest", "every form part needs a name")
            name = part.name.lower()
            if name == "file":  # S3 ignores fields after the file; so do we
                file_part = part
                break
            if len(fields) >= MAX_FIELDS:
                raise S3Error(400, "MalformedPOSTRequest", "too many form fields")
            fields[name] = await _read_field(part)
        if file_part is None:
            raise S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request")
        # Signature, policy and key are checked before a single byte of the file is read.
        policy = verify_signature(fields, config)
        low, high = check_policy(policy, fields, config.bucket, dt.datetime.now(dt.UTC))
        key, content_type = check_upload(fields)
        data = await _read_file(file_part, min(high, HARD_MAX_BYTES))
        if len(data) > high:
            raise S3Error(400, "EntityTooLarge", f"Your proposed upload exceeds the maximum size ({high} bytes)")
        if len(data) < low:
            raise S3Error(400, "EntityTooSmall", f"Your proposed upload is smaller than the minimum ({low} bytes)")
        if not SIGNATURES[content_type](data[:16]):
            raise S3Error(400, "InvalidContent", f"the file is not a {content_type} image")
    except S3Error as exc:
        log.info("upload refused: %s %s", exc.code, exc.message)
        return error_response(exc.status, exc.code, exc.message)
    url = f"{config.emulator_url}/{config.bucket}/{quote(key)}"
    try:
        headers = emulator_headers(config, "PUT", url, data, **{"Content-Type": content_type})
        async with request.app[HTTP].put(URL(url, encoded=True), data=data, headers=headers) as stored:
            if stored.status != 200:
                log.warning("emulator refused the upload: %s %s", stored.status, await stored.text())
                return error_response(502, "BadGateway", "the storage emulator did not store the upload")
            etag = stored.headers.get("ETag", "")
        if config.mirror_dir is not None:
            mirror_object(config.mirror_dir, key, data)
    except OSError as exc:
        log.warning("storage emulator unreachable: %s", exc)
        return error_response(502, "BadGateway", "the storage emulator is not reachable")
    headers = {"ETag": etag, "Location": f"/{config.bucket}/{quote(key)}"}
    status = fields.get("success_action_status", "204")
    if status == "201":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
            f"<Bucket>{escape(config.bucket)}</Bucket><Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag>"
            "</PostResponse>"
        )
        return web.Response(status=201, body=body.encode(), content_type="application/xml", headers=headers)
    return web.Response(status=200 if status == "200" else 204, headers=headers)


async def refuse_write(request: web.Request) -> web.Response:
    return error_response(403, "AccessDenied", "storage only takes presigned POST uploads")


async def read_image(request: web.Request) -> web.StreamResponse:
    """CloudFront's part: drink-images/ only, straight from the bucket, cacheable."""
    config = request.app[CONFIG]
    key = request.match_info["key"]
    if not _SAFE_KEY.fullmatch(key):
        return error_response(404, "NoSuchKey", "the specified key does not exist")
    forwarded = {h: request.headers[h] for h in ("If-None-Match", "If-Modified-Since", "Range") if h in request.headers}
    url = f"{config.emulator_url}/{config.bucket}/{quote(key)}"
    try:
        headers = emulator_headers(config, request.method, url, **forwarded)
        async with request.app[HTTP].request(request.method, URL(url, encoded=True), headers=headers) as upstream:
            if upstream.status in (403, 404):
                return error_response(404, "NoSuchKey", "the specified key does not exist")
            if upstream.status not in (200, 206, 304):
                log.warning("emulator read failed: %s", upstream.status)
                return error_response(502, "BadGateway", "the storage emulator failed")
            response = web.StreamResponse(status=upstream.status)
            for name in ("Content-Type", "Content-Length", "Content-Range", "ETag", "Last-Modified", "Accept-Ranges"):
                if name in upstream.headers:
                    response.headers[name] = upstream.headers[name]
            response.headers["Cache-Control"] = IMAGE_CACHE_CONTROL
            await response.prepare(request)
            if request.method != "HEAD":
                async for chunk in upstream.content.iter_chunked(64 * 1024):
                    await response.write(chunk)
            await response.write_eof()
            return response
    except OSError as exc:
        log.warning("storage emulator unreachable: %s", exc)
        return error_response(502, "BadGateway", "the storage emulator is not reachable")


# ------------------------------------------------------------------ wiring


def local_stage_bucket() -> str:
    """The local stage's MEDIA_BUCKET (.chalice/config.json): one name for API and gateway."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return str(config["stages"]["local"]["environment_variables"]["MEDIA_BUCKET"])


def register(
    app: web.Application,
    *,
    emulator_url: str | None = None,
    bucket: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """Add /storage and /images to the gateway. Defaults come from the environment the
    stack gives every process (AWS_ENDPOINT_URL, the stack's random credentials); with
    no secret key every upload is refused. Returns the paths for the runtime config."""
    env = os.environ.get
    config = StorageConfig(
        emulator_url=(emulator_url or env("AWS_ENDPOINT_URL") or "http://127.0.0.1:5001").rstrip("/"),
        bucket=bucket or env("MEDIA_BUCKET") or local_stage_bucket(),
        access_key=access_key if access_key is not None else env("AWS_ACCESS_KEY_ID", ""),
        secret_key=secret_key if secret_key is not None else env("AWS_SECRET_ACCESS_KEY", ""),
        region=region or env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
        mirror_dir=Path(env("LOCAL_MEDIA_DIR")) if env("LOCAL_MEDIA_DIR") else None,
    )
    app[CONFIG] = config

    async def client_session(app: web.Application) -> Any:
        app[HTTP] = ClientSession(timeout=ClientTimeout(total=60), auto_decompress=False)
        yield
        await app[HTTP].close()

    app.cleanup_ctx.append(client_session)
    app.router.add_post("/storage/{bucket}", upload)
    app.router.add_route("*", "/storage", refuse_write)
    app.router.add_route("*", "/storage/{tail:.*}", refuse_write)
    app.router.add_get("/images/{key:.*}", read_image)
    app.router.add_route("*", "/images/{key:.*}", refuse_write)
    return {"uploadUrl": "/storage", "imageBaseUrl": "/images"}


def mirror_object(mirror_dir: Path, key: str, data: bytes) -> None:
    """Keep a copy of a stored photo on disk (keys are checked: drink-images/<name>)."""
    target = (mirror_dir / key).resolve()
    if not target.is_relative_to(mirror_dir.resolve()):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def mirror_new_objects(s3: Any, bucket: str, mirror_dir: Path, prefix: str = IMAGE_PREFIX) -> int:
    """Copy to `mirror_dir` the photos the app's handlers stored straight into the emulator
    (WebP variants, generated photos), so `ensure_bucket(restore_from=...)` puts them back
    after a restart too. Illustrations are left out: the stack redraws them at start."""
    copied = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.startswith(f"{IMAGE_PREFIX}illustrations/") or Path(key).suffix.lower() not in CONTENT_TYPES:
                continue
            target = mirror_dir / key
            if target.exists() and target.stat().st_size == item["Size"]:
                continue
            mirror_object(mirror_dir, key, s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            copied += 1
    return copied


def ensure_bucket(
    endpoint_url: str, bucket: str | None = None, region: str = "us-east-1", restore_from: Path | None = None
) -> int:
    """Create the media bucket in the emulator (idempotent): run once the emulator is up.

    With `restore_from`, photos mirrored there by earlier runs are put back (the
    emulator forgets everything when it stops); returns how many were restored."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        # The emulator takes any key; the stack process itself may have none configured.
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    name = bucket or local_stage_bucket()
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=name)
    restored = 0
    if restore_from is not None and restore_from.is_dir():
        for path in sorted(restore_from.rglob("*")):
            content_type = CONTENT_TYPES.get(path.suffix.lower())
            if path.is_file() and content_type:
                key = path.relative_to(restore_from).as_posix()
                s3.put_object(Bucket=name, Key=key, Body=path.read_bytes(), ContentType=content_type)
                restored += 1
    return restored
