"""Bytes a phone downloads for the guest menu's pictures, before and after responsive images.

Starts the real local stack (benchmarks/party.py: free ports, its own database), uploads
camera-sized JPEG photos for some drinks through the console's flow (presigned POST,
"use my photo instead"), waits until the picture handler has made their WebP variants,
then opens the menu in Chromium at 360 px wide and sums the bytes of every image response:

* before: what the web app did until now: the uploaded original for a drink with a photo,
  nothing (a CSS placeholder) for the others. Measured by serving the menu JSON without
  `picture`, so the page falls back to `image_url` exactly as the old card did.
* after: srcset/sizes pick a WebP variant for photos; the other drinks load their SVG
  illustration.

Both on first paint (what is in view) and after scrolling through the whole menu.
Measured, not asserted:

    .venv/bin/python -m benchmarks.picture_bytes [--photos 12] [--dpr 3]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.party import LocalStack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def camera_jpeg(seed: int, width: int = 2400, height: int = 1800) -> bytes:
    """A photo-like JPEG: colour noise at every scale (upsampled from 8 px to full size),
    so, like a photo, it keeps detail when scaled down; about what a phone photo weighs
    once a host has picked a 2400 px version. Real photos vary."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randrange(60, 200), rng.randrange(40, 160), rng.randrange(30, 120)))
    for scale, weight in ((8, 0.5), (32, 0.35), (128, 0.25), (512, 0.18), (width, 0.12)):
        small = (max(2, scale), max(2, scale * height // width))
        layer = Image.merge("RGB", [Image.effect_noise(small, 60 + rng.randrange(40)) for _ in range(3)])
        image = Image.blend(image, layer.resize((width, height), Image.Resampling.BICUBIC), weight)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def api(stack: LocalStack, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{stack.base_url}/api{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def upload(stack: LocalStack, token: str, data: bytes) -> str:
    request = {"filename": "photo.jpg", "content_type": "image/jpeg"}
    signed = api(stack, "POST", "/admin/images/upload-url", token, request)
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in signed["upload"]["fields"].items()
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        urllib.parse.urljoin(stack.base_url, signed["upload"]["url"]),
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60):  # noqa: S310 (loopback)
        pass
    return str(signed["key"])


def measure(browser: Any, base_url: str, dpr: float, *, old_cards: bool, scroll: bool) -> dict[str, int]:
    """Image bytes (response bodies) by kind of file for one fresh page load."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=dpr, is_mobile=True, has_touch=True,
        base_url=base_url,
    )
    page = context.new_page()
    if old_cards:
        def strip(route: Any) -> None:
            answer = route.fetch()
            drinks = answer.json()
            for drink in drinks:
                drink.pop("picture", None)
            route.fulfill(response=answer, body=json.dumps(drinks))

        page.route("**/api/drinks*", strip)
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if r.request.resource_type == "image" else None)
    page.goto("/")
    page.locator("[data-testid=drink-card]").first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # a benchmark, not a test: let the first lazy images finish
    if scroll:
        cards = page.locator("[data-testid=drink-card]")
        for index in range(cards.count()):
            cards.nth(index).scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)  # a benchmark, not a test: let the last lazy images finish
    totals: dict[str, int] = {}
    for response in responses:
        path = urllib.parse.urlparse(response.url).path
        kind = "webp" if path.endswith(".webp") else "svg" if path.endswith(".svg") else "original"
        totals[kind] = totals.get(kind, 0) + len(response.body())
        totals[f"{kind}_files"] = totals.get(f"{kind}_files", 0) + 1
    context.close()
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=12, help="drinks that get an uploaded photo")
    parser.add_argument("--dpr", type=float, default=3.0, help="device pixel ratio (phones: 2-3)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from local.realtime_client import admin_token

    with LocalStack(log_path=ROOT / "artifacts" / "bench" / "picture-bytes-stack.log") as stack:
        token = admin_token(stack.port)
        drinks = api(stack, "GET", "/drinks")
        originals = 0
        for index, drink in enumerate(drinks[: args.photos]):
            data = camera_jpeg(index)
            originals += len(data)
            key = upload(stack, token, data)
            api(stack, "POST", f"/admin/drinks/{drink['id']}/picture/photo", token, {"image_key": key})
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            ready = sum(1 for d in api(stack, "GET", "/drinks") if len(d["picture"]["variants"]) == 3)
            if ready >= args.photos:
                break
            time.sleep(0.5)  # waiting for the picture handler, with a deadline
        else:
            raise SystemExit("the WebP variants did not appear in time")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
            try:
                results = {
                    (label, scroll): measure(browser, stack.base_url, args.dpr, old_cards=old, scroll=scroll)
                    for label, old in (("before", True), ("after", False))
                    for scroll in (False, True)
                }
            finally:
                browser.close()
    print(f"{len(drinks)} drinks, {args.photos} with an uploaded 2400x1800 JPEG "
          f"(average {originals / args.photos / 1024:.0f} KB); 360 px wide, DPR {args.dpr}")
    for (label, scroll), totals in results.items():
        total = sum(v for k, v in totals.items() if not k.endswith("_files"))
        parts = ", ".join(
            f"{kind} {totals[kind] / 1024:.0f} KB in {totals[kind + '_files']}"
            for kind in ("original", "webp", "svg")
            if kind in totals
        )
        where = "whole menu scrolled" if scroll else "first screen"
        print(f"  {label:6} {where:20} {total / 1024:8.0f} KB  ({parts or 'no images'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
