"""Every drink has a picture, on the real local stack in Chromium (docs/pictures.md).

The stack draws every seeded drink's illustration at start; the guest menu at phone
size shows a loaded picture on every card, labelled as an illustration (never as a
photo). An uploaded photo goes through the picture handler into WebP variants, and the
phone's menu then loads the 400 px one through srcset. The screenshots of this run are
the README's (docs/screenshots/guest-menu-*.png are copied from artifacts/e2e/).
"""

from __future__ import annotations

import io
import json
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import ARTIFACTS, PageSession, Stack
from tests.e2e.test_admin_console import admin_login  # noqa: F401 (a fixture)
from tests.servers import wait_for

pytestmark = pytest.mark.e2e


# Copies of this file's screenshots that other e2e sessions' clean-up leaves alone; the
# README's docs/screenshots/guest-menu-{phone,desktop}.png are taken from here.
KEPT = ARTIFACTS / "pictures"


def keep(path: Path) -> None:
    """Copy a screenshot to KEPT under its label (`...-03-guest-menu-phone.png` -> `guest-menu-phone.png`)."""
    KEPT.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, KEPT / path.name.split("-", 3)[-1])


def api_get(stack: Stack, path: str) -> Any:
    with urllib.request.urlopen(f"{stack.base_url}/api{path}", timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def loaded_pictures(session: PageSession) -> list[dict[str, Any]]:
    """Every menu card's picture as the browser has it: kind, alt text, decoded size, chosen source."""
    return session.page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=drink-card]')].map(card => {
             const box = card.querySelector('[data-testid=drink-image]');
             const img = box && box.querySelector('img');
             return {
               name: card.querySelector('h3').innerText,
               kind: box ? box.dataset.kind : null,
               alt: img ? img.alt : null,
               loaded: !!img && img.complete && img.naturalWidth > 0,
               current: img ? img.currentSrc : null,
             };
           })"""
    )


def scroll_through(session: PageSession) -> None:
    """Bring every lazy picture into view once (each card, top to bottom)."""
    cards = session.page.locator("[data-testid=drink-card]")
    for index in range(cards.count()):
        cards.nth(index).scroll_into_view_if_needed()


def test_every_drink_card_shows_a_picture_on_a_phone(stack: Stack, phone: PageSession) -> None:
    drinks = api_get(stack, "/drinks")
    assert drinks and all(d["picture"]["kind"] == "illustration" for d in drinks)  # a fresh stack: no photos
    phone.page.goto("/")
    expect(phone.page.locator("[data-testid=drink-card]").first).to_be_visible()
    expect(phone.page.locator("[data-testid=drink-card] [data-kind=illustration] img").first).to_be_visible()
    phone.shot("menu-top")
    scroll_through(phone)
    wait_for(lambda: all(p["loaded"] for p in loaded_pictures(phone)), "every card's picture to load", 30)
    pictures = loaded_pictures(phone)
    assert len(pictures) == len(drinks)
    for picture in pictures:
        assert picture["kind"] == "illustration", picture
        assert picture["alt"].startswith(f"Illustration of {picture['name']}"), picture
        assert "Photo" not in picture["alt"]
        assert picture["current"].endswith(".svg")
    # The README's picture: the first section's cards (the sticky section bar stays above them).
    phone.page.evaluate(
        "() => { document.querySelector('.menu-section').scrollIntoView(); window.scrollBy(0, -110); }"
    )
    keep(phone.shot("guest-menu-phone"))


def test_the_drink_page_labels_an_illustration(stack: Stack, phone: PageSession) -> None:
    negroni = next(d for d in api_get(stack, "/drinks") if d["name"] == "Negroni")
    phone.page.goto(f"/drinks/{negroni['id']}")
    # The hero comes first; the similar drinks further down show their pictures too.
    hero = phone.page.locator(".drink-detail [data-testid=drink-image]").first
    expect(hero.locator("img")).to_have_attribute("alt", "Illustration of Negroni, served in a rocks glass")
    expect(hero.get_by_text("Illustration", exact=True)).to_be_visible()
    wait_for(lambda: hero.locator("img").evaluate("i => i.complete && i.naturalWidth > 0"), "the picture", 15)
    keep(phone.shot("drink-page"))


def test_desktop_menu_screenshot(stack: Stack, desktop: PageSession) -> None:
    desktop.page.goto("/")
    expect(desktop.page.locator("[data-testid=drink-card] [data-kind=illustration] img").first).to_be_visible()
    wait_for(
        lambda: desktop.page.evaluate(
            "[...document.querySelectorAll('[data-testid=drink-card] img')].slice(0, 6)"
            ".every(i => i.complete && i.naturalWidth > 0)"
        ),
        "the first pictures",
        15,
    )
    keep(desktop.shot("guest-menu-desktop"))


def jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def upload(stack: Stack, admin_api: Api, data: bytes) -> str:
    """The console's upload: a presigned POST through the gateway's /storage."""
    import urllib.parse
    import uuid

    signed = admin_api.call(
        "POST", "/admin/images/upload-url", admin_api.admin, {"filename": "photo.jpg", "content_type": "image/jpeg"}
    )
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in signed["upload"]["fields"].items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    url = urllib.parse.urljoin(stack.base_url, signed["upload"]["url"])
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=b"".join(parts), method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        assert response.status == 204
    return str(signed["key"])


def test_an_uploaded_photo_gets_variants_and_a_phone_loads_the_small_one(
    stack: Stack, admin_api: Api, phone: PageSession
) -> None:
    daiquiri = next(d for d in api_get(stack, "/drinks") if d["name"] == "Daiquiri")
    key = upload(stack, admin_api, jpeg(2400, 1800))
    chosen = admin_api.call("POST", f"/admin/drinks/{daiquiri['id']}/picture/photo", admin_api.admin,
                            {"image_key": key})
    assert chosen["picture"]["kind"] == "photo"
    # The event runner feeds DrinkUpdated to the picture handler, which makes the variants.
    wait_for(lambda: len(api_get(stack, f"/drinks/{daiquiri['id']}")["picture"]["variants"]) == 3,
             "the WebP variants", 60)
    requested: list[str] = []
    phone.page.on("request", lambda r: requested.append(r.url) if "/images/" in r.url else None)
    phone.page.goto("/")
    photo = phone.page.locator("[data-testid=drink-card]").filter(
        has=phone.page.get_by_role("heading", name="Daiquiri", exact=True)
    ).locator("[data-kind=photo] img")
    expect(photo).to_have_attribute("alt", "Photo of Daiquiri")
    photo.scroll_into_view_if_needed()
    wait_for(lambda: photo.evaluate("i => i.complete && i.naturalWidth > 0"), "the photo", 15)
    assert photo.evaluate("i => i.currentSrc").endswith("-400w.webp")
    assert not any(url.endswith(key) for url in requested)  # the 2400 px original is never sent to the phone
    keep(phone.shot("menu-with-photo"))


def test_the_console_labels_the_picture_and_regenerate_says_why_not(
    open_page: Any, admin_login: tuple[str, str]  # noqa: F811 (the fixture)
) -> None:
    from tests.e2e.test_admin_console import signed_in_admin

    admin = signed_in_admin(open_page, admin_login)
    admin.allow_console_error("409")  # regenerate is refused locally (AI photos are off); the page says so
    page = admin.page
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Menu").click()
    row = page.get_by_test_id("drink-row").filter(has=page.get_by_role("link", name="Negroni", exact=True))
    expect(row.get_by_test_id("picture-kind")).to_have_text("Illustration")
    expect(row.locator("[data-kind=illustration] img")).to_be_visible()
    row.get_by_role("link", name="Negroni", exact=True).click()
    expect(page.get_by_test_id("picture-label")).to_contain_text("Illustration drawn from the recipe")
    expect(page.get_by_test_id("picture-preview").locator("img")).to_have_attribute(
        "alt", "Illustration of Negroni, served in a rocks glass"
    )
    page.get_by_test_id("regenerate-picture").click()
    expect(page.get_by_test_id("picture-status")).to_contain_text("AI photos are off on this stage")
    keep(admin.shot("console-picture"))
