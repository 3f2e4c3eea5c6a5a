"""Installable, with an offline menu: the manifest, the service worker, and the last menu
without a network (Chromium, the real local stack)."""

from __future__ import annotations

import json
import struct
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import add_drink, join

pytestmark = pytest.mark.e2e

OFFLINE_ORDER = "You're offline: ordering needs the network"
# What a browser logs for the requests a page makes without a network (orders, realtime).
OFFLINE_NOISE = r"ERR_INTERNET_DISCONNECTED|Failed to load resource|Failed to fetch|WebSocket"


def fetch(stack: Stack, path: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(f"{stack.base_url}{path}", timeout=10) as response:  # noqa: S310 (loopback)
        return response.status, dict(response.headers), response.read()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_and_service_worker_are_served_as_such(stack: Stack) -> None:
    status, headers, body = fetch(stack, "/manifest.webmanifest")
    assert status == 200
    assert headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(body)
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    sizes = {}
    for icon in manifest["icons"]:
        icon_status, icon_headers, data = fetch(stack, icon["src"])
        assert icon_status == 200 and icon_headers["Content-Type"].startswith(icon["type"]), icon
        if icon["type"] == "image/png":
            w, h = png_size(data)
            assert icon["sizes"] == f"{w}x{h}", icon
            sizes[icon.get("purpose", "any")] = max(w, sizes.get(icon.get("purpose", "any"), 0))
    assert sizes.get("any", 0) >= 512 and sizes.get("maskable", 0) >= 512  # what Chromium installs from

    status, headers, body = fetch(stack, "/sw.js")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Cache-Control"] == "no-cache"
    assert b"addEventListener(\"fetch\"" in body


def cached_urls(session: PageSession) -> list[str]:
    return session.page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )


def wait_for_service_worker(session: PageSession) -> None:
    """The worker controls the page and has kept the menu."""
    session.page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    session.page.wait_for_function(
        """async () => {
            const kept = await caches.match(new URL("/api/drinks", location.origin).href, { ignoreVary: true });
            return !!kept && !!(await caches.match("/", { ignoreVary: true }));
        }""",
        polling=200,
    )


def test_installable_and_the_last_menu_works_offline(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    page: Any = phone.page
    join(phone, stack, admin_api, "Offline Olle")
    expect(page.locator("link[rel=manifest]")).to_have_attribute("href", "/manifest.webmanifest")
    add_drink(phone, "Margarita")
    expect(page.get_by_test_id("send-order")).to_be_enabled()
    wait_for_service_worker(phone)

    # Nothing that needs a token, and no admin page, is ever kept.
    for url in cached_urls(phone):
        path = url.removeprefix(stack.base_url)
        assert not path.startswith(("/admin", "/api/orders", "/api/me", "/api/recommendations", "/api/admin")), path
        assert not path.startswith(("/oauth2", "/auth", "/display")), path

    phone.allow_console_error(OFFLINE_NOISE)
    page.context.set_offline(True)
    try:
        page.goto("/")
        cards = page.locator("[data-testid=drink-card]")
        expect(cards.first).to_be_visible()
        drinks = json.loads(fetch(stack, "/api/drinks")[2])
        assert sorted(cards.locator("h3").all_inner_texts()) == sorted(d["name"] for d in drinks)
        send = page.get_by_test_id("send-order")
        expect(send).to_have_text(OFFLINE_ORDER)
        expect(send).to_be_disabled()
        phone.shot("offline-menu")
        # A drink's page is readable offline too (its data comes from the kept menu).
        cards.filter(has=page.get_by_role("heading", name="Negroni", exact=True)).click()
        expect(page.get_by_role("heading", name="Negroni", level=1)).to_be_visible()
        phone.shot("offline-drink")
        # The admin console is never served from the cache.
        with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
            page.goto("/admin")
    finally:
        page.context.set_offline(False)
    page.goto("/")
    expect(page.get_by_test_id("send-order")).to_have_text("Send order")
    expect(page.get_by_test_id("send-order")).to_be_enabled()
