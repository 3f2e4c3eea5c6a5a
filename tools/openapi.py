"""docs/openapi.json from the code: `make openapi` (or `python -m tools.openapi`).

The paths, methods, authorizers and API keys come from `app.app.routes`; what each route
takes and answers from `chalicelib.contract.ROUTES`; the schemas from the pydantic models
(request models in validation mode, responses in serialization mode). The output is
deterministic (sorted keys), so `tests/test_openapi.py` can regenerate it in memory and
fail when the committed file is out of date. Not shipped: chalice packages app.py and
chalicelib/ only.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.contract import ROUTES, ErrorBody, Route  # noqa: E402

OUTPUT = ROOT / "docs" / "openapi.json"
REF = "#/components/schemas/{model}"
# The Idempotency-Key POST /orders takes (chalicelib.validation.parse_idempotency_key).
IDEMPOTENCY_KEY = r"^[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?$"

ERROR_DESCRIPTIONS = {
    400: "Bad input: the body, the query or an id in the path (nothing changed)",
    401: "Missing, malformed, expired or forged token",
    403: "No valid API key (API Gateway), or a token without the right",
    404: "Not found (or not yours)",
    409: "Refused in the current state (a conflict, a closed bar, a full queue, ...)",
    422: "The Idempotency-Key was already used for a different order",
    429: "Too many requests; see Retry-After",
    503: "The database cannot be reached or is busy; see Retry-After",
}


def _app_routes() -> dict[str, dict[str, Any]]:
    import app as app_module

    return app_module.app.routes


def _models(routes: dict[tuple[str, str], Route]) -> list[tuple[type[BaseModel], Any]]:
    wanted: dict[tuple[str, str], tuple[type[BaseModel], Any]] = {}
    for route in routes.values():
        wanted[(route.response.__qualname__, "serialization")] = (route.response, "serialization")
        if route.body is not None:
            wanted[(route.body.__qualname__, "validation")] = (route.body, "validation")
    wanted[("ErrorBody", "serialization")] = (ErrorBody, "serialization")
    return [wanted[key] for key in sorted(wanted)]


def _without_null(prop: dict[str, Any]) -> None:
    if "anyOf" in prop:
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            del prop["anyOf"]
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches
    if prop.get("default", "missing") is None:
        del prop["default"]


def _refine_body(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """Say what a request model's own validators check and its types do not show:
    update bodies refuse null except where it clears a field (`NULLABLE`; in ProfileUpdate
    only `strength`) and need one field at least; an image_key is a key under drink-images/."""
    from chalicelib import validation

    nullable = getattr(model, "NULLABLE", None)
    if model is validation.ProfileUpdate:
        nullable = frozenset({"strength"})
    properties = schema.get("properties", {})
    if nullable is not None:
        for name, prop in properties.items():
            if name not in nullable:
                _without_null(prop)
        if hasattr(model, "NULLABLE"):  # the partial updates: "nothing to change" is a 400
            schema["minProperties"] = 1
    image_key = {"type": "string", "maxLength": 300, "pattern": f"^{validation._IMAGE_KEY.pattern}$"}
    if "image_key" in properties:
        prop = properties["image_key"]
        branches = prop.get("anyOf")
        if branches:
            prop["anyOf"] = [image_key if b.get("type") == "string" else b for b in branches]
        else:
            prop.update(image_key)


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    """A query model's fields as `in: query` parameters (a query string has no null)."""
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = copy.deepcopy(prop)
        prop.pop("title", None)
        _without_null(prop)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if prop.get("type") == "array":
            parameter.update(style="form", explode=True)
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        parameters.append(parameter)
    return parameters


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            # ids are UUIDs (a malformed one is a 400); an invite code is its text
            "schema": {"type": "string", "format": "uuid"} if name.endswith("_id") else {"type": "string"},
        }
        for name in names
    ]


def _body_schema(route: Route) -> dict[str, Any]:
    ref = {"$ref": REF.format(model=_name(route.response, "serialization"))}
    return {"type": "array", "items": ref} if route.many else ref


_NAMES: dict[tuple[type[BaseModel], str], str] = {}


def _name(model: type[BaseModel], mode: str) -> str:
    return _NAMES[(model, mode)]


def _operation(method: str, path: str, entry: Any, route: Route, components: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.contract import error_statuses

    has_authorizer = entry.authorizer is not None
    operation: dict[str, Any] = {
        "operationId": entry.view_name,
        "summary": route.summary,
        "tags": ["admin" if path.startswith("/admin") else path.strip("/").split("/")[0] or "root"],
        "security": [{"apiKey": [], "bearer": []}] if has_authorizer else [{"apiKey": []}],
    }
    parameters = _path_parameters(path)
    if route.query is not None:
        parameters += _query_parameters(route.query, components)
    if (method, path) == ("POST", "/orders"):
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "A retry with the same key and body answers the same order (200).",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=_name(route.body, "validation"))}}},
        }
    content = {"application/json": {"schema": _body_schema(route)}}
    responses: dict[str, Any] = {str(route.status): {"description": route.summary or "OK", "content": content}}
    for status, why in route.also.items():
        responses[str(status)] = {"description": why, "content": copy.deepcopy(content)}
        if status == 200 and (method, path) == ("POST", "/orders"):
            responses[str(status)]["headers"] = {
                "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}, "required": True}
            }
    for status in error_statuses(method, path, route, has_authorizer):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    operation["responses"] = responses
    return operation


def document(app_routes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route that has a contract entry."""
    app_routes = _app_routes() if app_routes is None else app_routes
    models = _models(ROUTES)
    names, schema = models_json_schema(models, ref_template=REF)
    _NAMES.clear()
    for (model, mode), ref in names.items():
        _NAMES[(model, mode)] = ref["$ref"].rsplit("/", 1)[1]
    components: dict[str, Any] = dict(schema.get("$defs", {}))
    for route in ROUTES.values():
        if route.body is not None:
            _refine_body(route.body, components[_name(route.body, "validation")])
    paths: dict[str, Any] = {}
    for path, methods in app_routes.items():
        for method, entry in methods.items():
            route = ROUTES.get((method, path))
            if route is None:
                continue  # tests/test_contract.py fails on this
            paths.setdefault(path, {})[method.lower()] = _operation(method, path, entry, route, components)
    components = {name: _without_titles(value, keep=True) for name, value in sorted(components.items())}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "drink-assistant API",
            "version": "1",
            "description": (
                "Generated from app.py and chalicelib/contract.py by `make openapi`; do not edit by hand. "
                'Every refusal is {"Code", "Message"}.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {
                f"Error{status}": {
                    "description": why,
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
                }
                for status, why in ERROR_DESCRIPTIONS.items()
            },
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


def _without_titles(node: Any, keep: bool = False) -> Any:
    """Drop pydantic's generated titles ("Abv", "Created At") below the component level:
    they repeat the property names and clutter the generated TypeScript."""
    if isinstance(node, dict):
        return {
            k: (_without_titles(v, keep=k == "schemas") if k != "properties" else _props(v))
            for k, v in node.items()
            if not (k == "title" and not keep and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_without_titles(v) for v in node]
    return node


def _props(properties: dict[str, Any]) -> dict[str, Any]:
    # A property may itself be called "title"; only the titles inside each schema go.
    return {name: _without_titles(schema) for name, schema in properties.items()}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    OUTPUT.write_text(render(document()), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
