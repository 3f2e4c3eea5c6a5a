"""Photo uploads, the API's half: safe names, the presigned POST it signs, the 400s.
The upload itself (through the gateway to the emulator) is in test_storage_gateway.py."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import aws, media
from chalicelib.config import settings
from chalicelib.errors import BadRequestError
from chalicelib.validation import ImageUploadRequest, parse

URL = "/admin/images/upload-url"


@pytest.fixture(autouse=True)
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Signing a POST policy is local computation: no emulator needed, only credentials.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    settings.cache_clear()
    aws.reset()
    yield
    settings.cache_clear()
    aws.reset()


# ------------------------------------------------------------------ safe file names


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("My Photo (1).JPG", "image/jpeg", "my-photo-1.jpg"),
        ("negroni.jpeg", "image/jpeg", "negroni.jpeg"),
        ("Negroni.PNG", "image/png", "negroni.png"),
        ("spritz.webp", "image/webp", "spritz.webp"),
        ("../../etc/passwd", "image/png", "passwd.png"),
        ("C:\\Users\\me\\Pictures\\mojito.jpg", "image/jpeg", "mojito.jpg"),
        ("Piña Colada.jpg", "image/jpeg", "pina-colada.jpg"),
        ("☃☃☃", "image/webp", "image.webp"),
        (".png", "image/png", "image.png"),
        ("...hidden..name--.png", "image/png", "hidden-name.png"),
        ("no extension", "image/png", "no-extension.png"),
        ("holiday.final", "image/jpeg", "holiday.final.jpg"),
        ("a/b?c=d&e#f.webp", "image/webp", "b-c-d-e-f.webp"),
    ],
)
def test_safe_filename(filename: str, content_type: str, expected: str) -> None:
    assert media.safe_filename(filename, content_type) == expected


def test_safe_filename_is_at_most_80_chars_and_keeps_the_extension() -> None:
    name = media.safe_filename("x" * 200 + ".webp", "image/webp")
    assert len(name) == 80 and name.endswith(".webp")
    assert re.fullmatch(r"[a-z0-9._-]+", name)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("cat.png", "image/jpeg"), ("cat.jpg", "image/png"), ("cat.webp", "image/png"), ("cat.gif", "image/gif")],
)
def test_a_photo_extension_of_another_type_is_refused(filename: str, content_type: str) -> None:
    with pytest.raises(ValueError):
        media.safe_filename(filename, content_type)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"filename": "a.png"},
        {"content_type": "image/png"},
        {"filename": "", "content_type": "image/png"},
        {"filename": "   ", "content_type": "image/png"},
        {"filename": "a" * 201, "content_type": "image/png"},
        {"filename": "a.gif", "content_type": "image/gif"},
        {"filename": "a.svg", "content_type": "image/svg+xml"},
        {"filename": "a.png", "content_type": "IMAGE/PNG"},
        {"filename": "a.png", "content_type": "image/jpeg"},
        {"filename": 5, "content_type": "image/png"},
        {"filename": "a.png", "content_type": "image/png", "bucket": "other"},
    ],
)
def test_the_request_model_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        parse(ImageUploadRequest, body)


# ------------------------------------------------------------------ the presigned POST


def decoded_policy(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


def test_upload_url_signs_a_limited_post_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BUCKET", "media-bucket")
    monkeypatch.setenv("IMAGE_BASE_URL", "https://d123.cloudfront.net/")
    monkeypatch.delenv("STORAGE_UPLOAD_URL", raising=False)
    settings.cache_clear()
    before = dt.datetime.now(dt.UTC)

    out = media.upload_url("Old Fashioned.JPG", "image/jpeg")

    key = out["key"]
    assert re.fullmatch(r"drink-images/[0-9a-f-]{36}-old-fashioned\.jpg", key)
    assert out["image_url"] == f"https://d123.cloudfront.net/{key}"
    assert out["expires_in"] == 600 and out["max_bytes"] == 5 * 1024 * 1024
    # In AWS the browser posts straight to the bucket.
    assert out["upload"]["url"].startswith("https://media-bucket.s3.")
    fields = out["upload"]["fields"]
    assert fields["key"] == key and fields["Content-Type"] == "image/jpeg"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and fields["x-amz-signature"]
    policy = decoded_policy(fields)
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert {"key": key} in policy["conditions"] and {"bucket": "media-bucket"} in policy["conditions"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in policy["conditions"]
    expires = dt.datetime.fromisoformat(policy["expiration"])
    assert dt.timedelta(seconds=590) <= expires - before <= dt.timedelta(seconds=610)


def test_every_upload_gets_its_own_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BUCKET", "media-bucket")
    settings.cache_clear()
    keys = {media.upload_url("same.png", "image/png")["key"] for _ in range(5)}
    assert len(keys) == 5


def test_locally_the_browser_posts_to_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BUCKET", "media-bucket")
    monkeypatch.setenv("STORAGE_UPLOAD_URL", "/storage/")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5001")
    settings.cache_clear()
    out = media.upload_url("a.png", "image/png")
    assert out["upload"]["url"] == "/storage/media-bucket"


def test_without_a_bucket_uploads_are_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.errors import ServiceUnavailableError

    monkeypatch.setenv("MEDIA_BUCKET", "")
    settings.cache_clear()
    with pytest.raises(ServiceUnavailableError):
        media.upload_url("a.png", "image/png")


# ------------------------------------------------------------------ the route


def post(client: Any, headers: dict[str, str], body: Any) -> Any:
    settings.cache_clear()  # the test client sets the local stage's variables per request
    try:
        return client.http.post(URL, headers={**headers, "Content-Type": "application/json"}, body=json.dumps(body))
    finally:
        settings.cache_clear()


def test_admin_gets_an_upload_url_for_the_local_stack(client: Any, admin_headers: dict[str, str]) -> None:
    response = post(client, admin_headers, {"filename": "Espresso Martini.webp", "content_type": "image/webp"})
    assert response.status_code == 200, response.body
    out = json.loads(response.body)
    assert out["upload"]["url"] == "/storage/drink-assistant-local-media"
    assert re.fullmatch(r"/images/drink-images/[0-9a-f-]{36}-espresso-martini\.webp", out["image_url"])
    assert out["image_url"] == f"/images/{out['key']}"
    assert out["upload"]["fields"]["Content-Type"] == "image/webp"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"filename": "a.gif", "content_type": "image/gif"},
        {"filename": "a.png", "content_type": "image/jpeg"},
        {"filename": "a" * 201, "content_type": "image/png"},
        ["a.png", "image/png"],
    ],
)
def test_bad_requests_are_400(client: Any, admin_headers: dict[str, str], body: Any) -> None:
    response = post(client, admin_headers, body)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["Code"] == "BadRequestError"


def test_guests_and_anonymous_callers_get_no_upload_url(client: Any, user_pool: Any) -> None:
    body = {"filename": "a.png", "content_type": "image/png"}
    assert post(client, {}, body).status_code == 401
    guest = {"Authorization": f"Bearer {user_pool.token(groups=[])}"}
    assert post(client, guest, body).status_code == 403
