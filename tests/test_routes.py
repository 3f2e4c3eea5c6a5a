"""Route-table rules that hold for every route, present and future."""

from __future__ import annotations

import app as app_module

ROUTES = [(path, method, entry) for path, methods in app_module.app.routes.items() for method, entry in methods.items()]


def test_every_route_needs_the_usage_plans_api_key() -> None:
    # In AWS the web app's key (infra/api-merge.json's usage plan) is required everywhere.
    missing = [f"{method} {path}" for path, method, entry in ROUTES if not entry.api_key_required]
    assert missing == []


def test_admin_routes_use_the_token_authorizer() -> None:
    open_admin = [f"{m} {p}" for p, m, e in ROUTES if p.startswith("/admin") and e.authorizer is None]
    assert open_admin == []


def test_only_the_public_routes_are_open() -> None:
    public = {(p, m) for p, m, e in ROUTES if e.authorizer is None}
    assert public == {
        ("/sections", "GET"),
        ("/drinks", "GET"),
        ("/drinks/{drink_id}", "GET"),
        ("/drinks/{drink_id}/similar", "GET"),
        ("/ingredients", "GET"),
        ("/bar", "GET"),
        ("/register", "POST"),
        ("/auth/refresh", "POST"),
        ("/auth/sign-out", "POST"),
    }
