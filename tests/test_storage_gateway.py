"""Photo uploads end to end on the local stack's parts: the API signs a presigned POST,
the browser (requests here) posts the bytes to the gateway, the gateway checks the
signature and the policy and stores them in the emulator (a real moto server), and the
photo is read back through the gateway's /images. Everything the gateway must refuse
is refused before anything reaches the emulator."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from chalicelib import aws
from chalicelib.config import settings
from local import storage
from tests.servers import ServerThread

BUCKET = "drink-assistant-local-media"  # the local stage's MEDIA_BUCKET
ACCESS_KEY = "local"
SECRET_KEY = "stack-secret-for-tests"
MAX = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The emulator with the media bucket, and the real gateway app in front of it,
    configured as `make local` configures them (same credentials for API and gateway)."""
    from local.gateway import build_app

    emulator = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    emulator.start()
    host, port = emulator.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        env.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.delenv("MEDIA_BUCKET", raising=False)  # the gateway reads the local stage's
        mirror = tmp_path_factory.mktemp("media-mirror")
        env.setenv("LOCAL_MEDIA_DIR", str(mirror))
        storage.ensure_bucket(endpoint)
        storage.ensure_bucket(endpoint)  # idempotent
        gateway = ServerThread(build_app(api_upstream="http://127.0.0.1:9"))
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        try:
            yield {"gateway": gateway.url, "s3": s3, "endpoint": endpoint, "mirror": mirror}
        finally:
            gateway.stop()
            emulator.stop()
            settings.cache_clear()
            aws.reset()


# ------------------------------------------------------------------ helpers


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny) PNG: signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + b"\x00" * 22


def upload_url(client: Any, admin_headers: dict[str, str], filename: str, content_type: str) -> dict[str, Any]:
    """What the admin console asks the API for (through the Chalice test client)."""
    settings.cache_clear()  # the test client sets the local stage's variables per request
    aws.reset()
    try:
        response = client.http.post(
            "/admin/images/upload-url",
            headers={**admin_headers, "Content-Type": "application/json"},
            body=json.dumps({"filename": filename, "content_type": content_type}),
        )
    finally:
        settings.cache_clear()
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def post_upload(stack: dict[str, Any], url: str, fields: dict[str, str], data: bytes) -> requests.Response:
    """What the browser does: the fields, then the file last, as multipart/form-data."""
    return requests.post(
        stack["gateway"] + url, data=fields, files={"file": ("photo", data, "application/octet-stream")}, timeout=30
    )


def stored(stack: dict[str, Any], key: str) -> bool:
    try:
        stack["s3"].head_object(Bucket=BUCKET, Key=key)
        return True
    except stack["s3"].exceptions.ClientError:
        return False


def s3_error(response: requests.Response) -> str:
    assert response.headers["Content-Type"].startswith("application/xml"), response.text
    return response.text.split("<Code>")[1].split("</Code>")[0]


def sign_policy(policy: dict[str, Any], *, secret: str = SECRET_KEY, when: dt.datetime | None = None) -> dict[str, str]:
    """A presigned POST made by hand from the SigV4 documentation (not with the gateway's
    own code): the fields for `policy`, whose conditions must name them."""
    when = when or dt.datetime.now(dt.UTC)
    date, stamp = when.strftime("%Y%m%d"), when.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{ACCESS_KEY}/{date}/us-east-1/s3/aws4_request"
    policy = {
        **policy,
        "conditions": [
            *policy["conditions"],
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": credential},
            {"x-amz-date": stamp},
        ],
    }
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    key = f"AWS4{secret}".encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return {
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": credential,
        "x-amz-date": stamp,
        "policy": encoded,
        "x-amz-signature": hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest(),
    }


def image_policy(key: str, *, expires_in_s: int = 600, content_type: str = "image/png") -> dict[str, Any]:
    expiration = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires_in_s)
    return {
        "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": [
            {"bucket": BUCKET},
            {"key": key},
            {"Content-Type": content_type},
            ["content-length-range", 1, MAX],
        ],
    }


STORAGE_URL = f"/storage/{BUCKET}"


# ------------------------------------------------------------------ the happy paths


@pytest.mark.parametrize(
    ("filename", "content_type", "data"),
    [
        ("Negroni.png", "image/png", png_bytes()),
        ("Mojito.JPG", "image/jpeg", JPEG),
        ("spritz.webp", "image/webp", WEBP),
    ],
)
def test_upload_then_read_back_through_the_gateway(
    stack: dict[str, Any], client: Any, admin_headers: dict[str, str], filename: str, content_type: str, data: bytes
) -> None:
    out = upload_url(client, admin_headers, filename, content_type)
    assert out["upload"]["url"] == STORAGE_URL  # relative: phones reach the gateway, not the emulator

    response = post_upload(stack, out["upload"]["url"], out["upload"]["fields"], data)
    assert response.status_code == 204, response.text

    head = stack["s3"].head_object(Bucket=BUCKET, Key=out["key"])
    assert head["ContentType"] == content_type and head["ContentLength"] == len(data)
    image = requests.get(stack["gateway"] + out["image_url"], timeout=10)
    assert image.status_code == 200
    assert image.content == data
    assert image.headers["Content-Type"] == content_type
    assert "max-age" in image.headers["Cache-Control"]


def test_an_upload_of_exactly_5_mb_is_taken(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    out = upload_url(client, admin_headers, "big.png", "image/png")
    data = png_bytes() + b"\x00" * (MAX - len(png_bytes()))
    response = post_upload(stack, out["upload"]["url"], out["upload"]["fields"], data)
    assert response.status_code == 204, response.text
    assert stack["s3"].head_object(Bucket=BUCKET, Key=out["key"])["ContentLength"] == MAX


def test_success_action_status_201_answers_like_s3(stack: dict[str, Any]) -> None:
    key = "drink-images/status-201.png"
    policy = image_policy(key)
    policy["conditions"].append({"success_action_status": "201"})
    fields = {**sign_policy(policy), "key": key, "Content-Type": "image/png", "success_action_status": "201"}
    response = post_upload(stack, STORAGE_URL, fields, png_bytes())
    assert response.status_code == 201, response.text
    assert f"<Key>{key}</Key>" in response.text
    assert stored(stack, key)


# ------------------------------------------------------------------ refused uploads


def test_too_large_is_refused(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    out = upload_url(client, admin_headers, "huge.png", "image/png")
    data = png_bytes() + b"\x00" * (MAX + 1 - len(png_bytes()))
    response = post_upload(stack, out["upload"]["url"], out["upload"]["fields"], data)
    assert response.status_code == 400
    assert s3_error(response) == "EntityTooLarge"
    assert not stored(stack, out["key"])


def test_an_empty_file_is_refused(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    out = upload_url(client, admin_headers, "empty.png", "image/png")
    response = post_upload(stack, out["upload"]["url"], out["upload"]["fields"], b"")
    assert response.status_code == 400 and s3_error(response) == "EntityTooSmall"
    assert not stored(stack, out["key"])


@pytest.mark.parametrize("declared", ["image/jpeg", "image/gif", "text/html"])
def test_a_content_type_the_policy_did_not_sign_is_refused(
    stack: dict[str, Any], client: Any, admin_headers: dict[str, str], declared: str
) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    fields = {**out["upload"]["fields"], "Content-Type": declared}
    response = post_upload(stack, out["upload"]["url"], fields, JPEG)
    assert response.status_code == 403 and s3_error(response) == "AccessDenied"
    assert not stored(stack, out["key"])


@pytest.mark.parametrize("data", [JPEG, WEBP, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\x00" * 20])
def test_bytes_that_are_not_the_declared_type_are_refused(
    stack: dict[str, Any], client: Any, admin_headers: dict[str, str], data: bytes
) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    response = post_upload(stack, out["upload"]["url"], out["upload"]["fields"], data)
    assert response.status_code == 400 and s3_error(response) == "InvalidContent"
    assert not stored(stack, out["key"])


def test_a_signed_policy_for_a_non_image_type_is_refused(stack: dict[str, Any]) -> None:
    key = "drink-images/page.html"
    policy = image_policy(key, content_type="text/html")
    fields = {**sign_policy(policy), "key": key, "Content-Type": "text/html"}
    response = post_upload(stack, STORAGE_URL, fields, b"<html></html>")
    assert response.status_code == 403
    assert not stored(stack, key)


def test_a_tampered_signature_is_refused(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    fields = dict(out["upload"]["fields"])
    signature = fields["x-amz-signature"]
    fields["x-amz-signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    response = post_upload(stack, out["upload"]["url"], fields, png_bytes())
    assert response.status_code == 403 and s3_error(response) == "SignatureDoesNotMatch"
    assert not stored(stack, out["key"])


def test_a_tampered_policy_is_refused(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    """Raising the size limit (or anything else) in the policy breaks its signature."""
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    fields = dict(out["upload"]["fields"])
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [
        ["content-length-range", 1, 50 * MAX] if isinstance(c, list) and c[0] == "content-length-range" else c
        for c in policy["conditions"]
    ]
    fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post_upload(stack, out["upload"]["url"], fields, png_bytes())
    assert response.status_code == 403 and s3_error(response) == "SignatureDoesNotMatch"
    assert not stored(stack, out["key"])


def test_another_key_than_the_signed_one_is_refused(
    stack: dict[str, Any], client: Any, admin_headers: dict[str, str]
) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    fields = {**out["upload"]["fields"], "key": "drink-images/someone-elses.png"}
    response = post_upload(stack, out["upload"]["url"], fields, png_bytes())
    assert response.status_code == 403 and s3_error(response) == "AccessDenied"
    assert not stored(stack, "drink-images/someone-elses.png") and not stored(stack, out["key"])


def test_an_unsigned_extra_field_is_refused(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    fields = {**out["upload"]["fields"], "x-amz-meta-owner": "mallory"}
    response = post_upload(stack, out["upload"]["url"], fields, png_bytes())
    assert response.status_code == 403 and "Extra input fields" in response.text
    assert not stored(stack, out["key"])


def test_an_expired_policy_is_refused(stack: dict[str, Any]) -> None:
    key = "drink-images/expired.png"
    fields = {**sign_policy(image_policy(key, expires_in_s=-1)), "key": key, "Content-Type": "image/png"}
    response = post_upload(stack, STORAGE_URL, fields, png_bytes())
    assert response.status_code == 403 and "Policy expired" in response.text
    assert not stored(stack, key)
    # The same policy, still valid, is taken: the refusal was the expiry, not the signing.
    fields = {**sign_policy(image_policy(key)), "key": key, "Content-Type": "image/png"}
    assert post_upload(stack, STORAGE_URL, fields, png_bytes()).status_code == 204
    assert stored(stack, key)


def test_a_policy_signed_with_another_secret_is_refused(stack: dict[str, Any]) -> None:
    key = "drink-images/forged.png"
    fields = {**sign_policy(image_policy(key), secret="guessed"), "key": key, "Content-Type": "image/png"}
    response = post_upload(stack, STORAGE_URL, fields, png_bytes())
    assert response.status_code == 403 and s3_error(response) == "SignatureDoesNotMatch"
    assert not stored(stack, key)


def test_a_signed_upload_outside_drink_images_is_refused(stack: dict[str, Any]) -> None:
    key = "prompts/overwritten.txt"
    fields = {**sign_policy(image_policy(key)), "key": key, "Content-Type": "image/png"}
    response = post_upload(stack, STORAGE_URL, fields, png_bytes())
    assert response.status_code == 403
    assert not stored(stack, key)


def test_a_policy_without_a_size_limit_is_refused(stack: dict[str, Any]) -> None:
    key = "drink-images/unlimited.png"
    policy = image_policy(key)
    policy["conditions"] = [c for c in policy["conditions"] if not isinstance(c, list)]
    fields = {**sign_policy(policy), "key": key, "Content-Type": "image/png"}
    response = post_upload(stack, STORAGE_URL, fields, png_bytes())
    assert response.status_code == 403
    assert not stored(stack, key)


@pytest.mark.parametrize("missing", ["policy", "x-amz-signature", "x-amz-credential", "x-amz-date"])
def test_a_post_without_its_signature_fields_is_refused(
    stack: dict[str, Any], client: Any, admin_headers: dict[str, str], missing: str
) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    fields = {k: v for k, v in out["upload"]["fields"].items() if k != missing}
    response = post_upload(stack, out["upload"]["url"], fields, png_bytes())
    assert response.status_code == 403
    assert not stored(stack, out["key"])


def test_other_writes_to_storage_are_refused(stack: dict[str, Any]) -> None:
    gateway, key = stack["gateway"], "drink-images/direct.png"
    for method, path in [
        ("PUT", f"/storage/{BUCKET}/{key}"),
        ("DELETE", f"/storage/{BUCKET}/{key}"),
        ("POST", f"/storage/{BUCKET}/{key}"),
        ("PUT", "/storage"),
        ("PUT", f"/images/{key}"),
        ("DELETE", f"/images/{key}"),
        ("POST", f"/images/{key}"),
    ]:
        response = requests.request(method, gateway + path, data=png_bytes(), timeout=10)
        assert response.status_code == 403, (method, path, response.status_code)
    # A plain form POST with no presigned fields at all.
    response = requests.post(gateway + STORAGE_URL, data={"key": key}, files={"file": png_bytes()}, timeout=10)
    assert response.status_code == 403
    response = requests.post(gateway + STORAGE_URL, data=png_bytes(), headers={"Content-Type": "image/png"}, timeout=10)
    assert response.status_code == 400
    assert not stored(stack, key)


def test_an_upload_to_another_bucket_is_refused(
    stack: dict[str, Any], client: Any, admin_headers: dict[str, str]
) -> None:
    out = upload_url(client, admin_headers, "photo.png", "image/png")
    response = post_upload(stack, "/storage/some-other-bucket", out["upload"]["fields"], png_bytes())
    assert response.status_code == 404
    assert not stored(stack, out["key"])


# ------------------------------------------------------------------ reads


def test_reads_serve_drink_images_only(stack: dict[str, Any]) -> None:
    stack["s3"].put_object(Bucket=BUCKET, Key="prompts/secret.txt", Body=b"a prompt", ContentType="text/plain")
    gateway = stack["gateway"]
    assert requests.get(f"{gateway}/images/prompts/secret.txt", timeout=10).status_code == 404
    assert requests.get(f"{gateway}/images/drink-images/missing.png", timeout=10).status_code == 404
    assert requests.get(f"{gateway}/images/drink-images/../prompts/secret.txt", timeout=10).status_code == 404


def test_reads_answer_conditional_requests(stack: dict[str, Any]) -> None:
    key = "drink-images/cached.png"
    stack["s3"].put_object(Bucket=BUCKET, Key=key, Body=png_bytes(), ContentType="image/png")
    first = requests.get(f"{stack['gateway']}/images/{key}", timeout=10)
    assert first.status_code == 200 and first.headers["ETag"]
    again = requests.get(
        f"{stack['gateway']}/images/{key}", headers={"If-None-Match": first.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304 and again.content == b""
    head = requests.head(f"{stack['gateway']}/images/{key}", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == "image/png" and head.headers["Content-Length"] == str(len(png_bytes()))


def test_the_gateway_checks_signatures_like_boto3_makes_them() -> None:
    """The gateway's signer agrees with botocore's presigned POST (the API's side)."""
    s3 = boto3.client(
        "s3",
        region_name="eu-west-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="shh",
        endpoint_url="http://127.0.0.1:1",
        config=Config(signature_version="s3v4"),  # as chalicelib/media.py signs
    )
    post = s3.generate_presigned_post(Bucket="b-b-b", Key="drink-images/x.png", ExpiresIn=60)
    fields = post["fields"]
    date = fields["x-amz-credential"].split("/")[1]
    assert storage.policy_signature("shh", date, "eu-west-1", fields["policy"]) == fields["x-amz-signature"]


def test_photos_survive_an_emulator_restart(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    """The emulator forgets everything when it stops; the gateway's mirror puts photos back."""
    data = png_bytes(3, 3)
    out = upload_url(client, admin_headers, "keeper.png", "image/png")
    assert post_upload(stack, out["upload"]["url"], out["upload"]["fields"], data).status_code == 204
    assert (stack["mirror"] / out["key"]).read_bytes() == data

    fresh = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    fresh.start()
    try:
        host, port = fresh.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        restored = storage.ensure_bucket(endpoint, restore_from=stack["mirror"])
        assert restored >= 1
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        again = s3.get_object(Bucket=BUCKET, Key=out["key"])
        assert again["Body"].read() == data and again["ContentType"] == "image/png"
    finally:
        fresh.stop()


def test_refused_uploads_leave_no_copy(stack: dict[str, Any], client: Any, admin_headers: dict[str, str]) -> None:
    out = upload_url(client, admin_headers, "fake.png", "image/png")
    assert post_upload(stack, out["upload"]["url"], out["upload"]["fields"], b"not a png at all").status_code == 400
    assert not (stack["mirror"] / out["key"]).exists()
