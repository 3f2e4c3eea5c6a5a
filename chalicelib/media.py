"""Drink photos: presigned S3 uploads under drink-images/.

The browser uploads straight to storage (S3 in AWS, the local gateway in front of the
emulator locally) with a presigned POST; the API never sees the bytes. The POST policy
is what limits the upload: the exact key, the declared Content-Type, 1 byte to 5 MB,
10 minutes. Reads go through CloudFront (`image_base_url`), which only serves
drink-images/.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailableError

IMAGE_PREFIX = "drink-images/"
MAX_BYTES = 5 * 1024 * 1024
EXPIRES_IN_S = 600
MAX_FILENAME_CHARS = 80
# The accepted types and the extensions each may carry; the first is the one we add.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
}
_IMAGE_EXTENSIONS = {ext for exts in EXTENSIONS.values() for ext in exts}
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def safe_filename(filename: str, content_type: str) -> str:
    """A name that is safe in a key and a URL: lowercase [a-z0-9._-], at most 80 chars,
    ending in an extension of `content_type`. A photo extension of another type
    ("cat.png" as image/jpeg) is a ValueError: the browser or the caller is confused."""
    if content_type not in EXTENSIONS:
        raise ValueError(f"content type must be one of {', '.join(EXTENSIONS)}")
    # Only the last path segment: "C:\\photos\\x.jpg" and "../x.jpg" are just "x.jpg".
    name = re.split(r"[\\/]", filename.strip())[-1].lower()
    # "Ünïcode" -> "unicode" rather than "-n-code": accents go, the letters stay.
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("-", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    allowed = EXTENSIONS[content_type]
    if ext in _IMAGE_EXTENSIONS and ext not in allowed:
        raise ValueError(f"a {ext} file cannot be uploaded as {content_type}")
    if ext not in allowed:
        # No extension, or one that is not a photo's ("holiday.final"): keep it in the stem.
        stem, ext = f"{stem}{ext}" if stem else ext, allowed[0]
    # No leading dots or dashes (hidden files, option-like names), no runs of separators.
    stem = re.sub(r"[-.]{2,}", "-", stem).strip("._-")
    stem = stem[: MAX_FILENAME_CHARS - len(ext)].rstrip("._-") or "image"
    return stem + ext


def image_key(filename: str, content_type: str) -> str:
    return f"{IMAGE_PREFIX}{uuid.uuid4()}-{safe_filename(filename, content_type)}"


# SigV4 POST policies (x-amz-signature) in every region; the gateway checks the same.
S3_CONFIG: dict[str, Any] = {"signature_version": "s3v4"}


def upload_url(filename: str, content_type: str, s3: Any = None) -> dict[str, Any]:
    """A presigned POST for one new photo, and the URL it will be readable at."""
    config = settings()
    if not config.media_bucket:
        raise ServiceUnavailableError("photo uploads are not configured (MEDIA_BUCKET)")
    key = image_key(filename, content_type)
    post = (s3 or aws.client("s3", config=S3_CONFIG)).generate_presigned_post(
        Bucket=config.media_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_BYTES]],
        ExpiresIn=EXPIRES_IN_S,
    )
    url = post["url"]
    if config.storage_upload_url:
        # The signature covers the policy, not the URL: locally the browser posts to the
        # gateway (reachable from phones), which checks it and forwards to the emulator.
        url = f"{config.storage_upload_url}/{config.media_bucket}"
    return {
        "upload": {"url": url, "fields": post["fields"]},
        "key": key,
        "image_url": f"{config.image_base_url}/{key}",
        "expires_in": EXPIRES_IN_S,
        "max_bytes": MAX_BYTES,
    }
