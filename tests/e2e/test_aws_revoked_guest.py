"""A revoked guest's phone lets go, in Debian's Chromium against the real local stack: the
host revokes the guest through the API; GuestRevoked goes bus -> queue -> relay -> the
gateway's AppSync Events; the open page signs out without a reload and keeps no tokens."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from local.realtime_client import Api
from tests.e2e.conftest import PageSession, Stack
from tests.e2e.test_guest_menu import join

pytestmark = pytest.mark.e2e


def test_a_revoked_guest_is_signed_out_live(stack: Stack, admin_api: Api, phone: PageSession) -> None:
    page = phone.page
    join(phone, stack, admin_api, "Rae")
    page.get_by_role("link", name="My orders").click()
    expect(page.get_by_text("Live updates on")).to_be_visible()  # subscribed to the guest channel
    session = json.loads(page.evaluate("localStorage.getItem('da.guest-session')"))
    guest_id = session["guest"]["id"]

    revoked = admin_api.call("DELETE", f"/admin/guests/{guest_id}", admin_api.admin)
    assert revoked["id"] == guest_id and revoked["revoked_at"]

    expect(page.get_by_role("link", name="My orders")).to_have_count(0)  # no reload
    expect(page.get_by_text("You are not signed in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('da.guest-session')") is None
    phone.shot("revoked")
