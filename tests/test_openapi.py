"""docs/openapi.json is generated from the code (tools/openapi.py, `make openapi`) and
kept current: regenerated here in memory and compared with the committed file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools import openapi


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return openapi.document()


def test_docs_openapi_json_is_up_to_date(generated: dict[str, Any]) -> None:
    committed = openapi.OUTPUT.read_text(encoding="utf-8") if openapi.OUTPUT.exists() else ""
    assert committed == openapi.render(generated), (
        "docs/openapi.json is out of date with app.py / chalicelib/contract.py: run make openapi (and commit it)"
    )


def test_the_output_is_deterministic() -> None:
    assert openapi.render(openapi.document()) == openapi.render(openapi.document())


def test_it_is_a_valid_openapi_3_1_document(generated: dict[str, Any]) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

    assert generated["openapi"].startswith("3.1")
    validate(json.loads(openapi.render(generated)), cls=OpenAPIV31SpecValidator)


def test_every_route_is_documented_with_its_security(generated: dict[str, Any]) -> None:
    import app as app_module

    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            operation = generated["paths"][path][method.lower()]
            expected = [{"apiKey": [], "bearer": []}] if entry.authorizer else [{"apiKey": []}]
            assert operation["security"] == expected, (method, path)
            assert entry.api_key_required
            assert "503" in operation["responses"] and "403" in operation["responses"], (method, path)
            if entry.authorizer:
                assert "401" in operation["responses"], (method, path)


def test_success_statuses_follow_the_contract(generated: dict[str, Any]) -> None:
    paths = generated["paths"]
    assert "201" in paths["/orders"]["post"]["responses"]
    assert "Idempotent-Replayed" in paths["/orders"]["post"]["responses"]["200"]["headers"]
    assert "202" in paths["/admin/drinks/{drink_id}/picture/regenerate"]["post"]["responses"]
    drinks = paths["/drinks"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert drinks == {"type": "array", "items": {"$ref": "#/components/schemas/Drink"}}
    names = {p["name"] for p in paths["/drinks"]["get"]["parameters"]}
    assert names == {"section_id", "ingredient", "q", "available", "exclude", "alcohol_free"}


def test_a_route_without_an_entry_is_left_out_and_caught(generated: dict[str, Any]) -> None:
    """The generator skips what ROUTES lacks; tests/test_contract.py is what fails then."""

    class Entry:
        authorizer = None
        view_name = "ghost"

    document = openapi.document({"/ghost": {"GET": Entry()}, "/bar": {"GET": Entry()}})
    assert list(document["paths"]) == ["/bar"]


def test_the_web_apps_api_types_are_generated_from_it() -> None:
    """frontend/src/lib/api-types.ts is openapi-typescript's output for docs/openapi.json
    (its own --check, through the npm script `make openapi` uses); the web app's
    lib/types.ts names its types from there."""
    import os
    import shutil
    import subprocess

    frontend = openapi.ROOT / "frontend"
    npm = shutil.which("npm")
    if not (frontend / "node_modules" / ".bin" / "openapi-typescript").exists() or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openapi-typescript is not installed (cd frontend && npm ci)")
        pytest.skip("the web app's npm packages are not installed (make frontend)")
    result = subprocess.run(  # noqa: S603 - a fixed command of our own
        [npm, "run", "--silent", "api-types:check"],  # frontend/package.json holds the flags, as for make openapi
        cwd=frontend,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        "frontend/src/lib/api-types.ts is out of date with docs/openapi.json: run make openapi\n"
        + result.stdout + result.stderr
    )
    assert 'from "./api-types"' in (frontend / "src" / "lib" / "types.ts").read_text(encoding="utf-8")
