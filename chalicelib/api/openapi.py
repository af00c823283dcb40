"""OpenAPI 3 document built from the route table and the pydantic models (never hand-written)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

from chalice import Blueprint

from chalicelib.api.errors import STATUS_BY_CODE
from chalicelib.api.routing import OPTIONAL, PUBLIC, ROUTES, Ctx, RouteSpec, route

bp = Blueprint(__name__)
_REF = "#/components/schemas/{model}"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}},
        }
    },
}


def document() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema  # only this route needs it

    uses: set[tuple[type[BaseModel], Literal["validation", "serialization"]]] = set()
    for r in ROUTES:  # a model both sent and answered (synonyms) has a schema each way
        uses |= {(r.body, "validation")} if r.body is not None else set()
        uses |= {(r.response, "serialization")} if r.response is not None else set()
    keyed = list(uses)
    refs, schema = models_json_schema(sorted(keyed, key=lambda k: (k[0].__name__, k[1])), ref_template=_REF)
    schemas = dict(schema.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lifeshop API",
            "version": "1.0.0",
            "description": "The store tab's backend: catalog, points, checkout, co-design. "
            "Errors always use the Error schema.",
        },
        "servers": [{"url": "http://127.0.0.1:8000", "description": "make run (stage local)"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _operation(spec: RouteSpec, refs: dict) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', spec.path.lower()).strip('_')}",
        "parameters": _parameters(spec),
    }
    if spec.auth is PUBLIC:
        op["security"] = []
    elif spec.auth == OPTIONAL:
        op["security"] = [{}, {"bearer": []}]
        op["description"] = "Public; a token adds what depends on the caller (an invalid one is 401)."
    else:
        op["security"] = [{"bearer": []}]
        if spec.auth != "user":
            op["description"] = f"Requires the `{spec.auth}` group."
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": refs[(spec.response, "serialization")]}}
    op["responses"] = {str(spec.status): ok, **_error_responses(spec)}
    if spec.cache_s:
        ok["headers"] = {
            "ETag": {"schema": {"type": "string"}, "description": "strong validator of the body"},
            "Cache-Control": {"schema": {"type": "string"}},
        }
        op["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "an ETag you have: 304 if unchanged",
            }
        )
        op["responses"]["304"] = {"description": "Not modified: the ETag you sent is current (no body)"}
    return op


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    params = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"}}
        for n in re.findall(r"{(\w+)}", spec.path)
    ]
    params += [
        {
            "name": n,
            "in": "header",
            "required": True,
            "schema": {"type": "string", "minLength": 8, "maxLength": 64},
            "description": d,
        }
        for n, d in spec.headers.items()
    ]
    if spec.query is not None:
        schema = spec.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "schema": _inline(prop, schema),
                }
            )
    return params


def _inline(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Query parameters are flat: resolve local $defs and drop nullability wrappers."""
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **options[0]}
    if "$ref" in prop:
        prop = schema["$defs"][prop["$ref"].rsplit("/", 1)[1]]
    return {k: v for k, v in prop.items() if k != "title"}


def _error_responses(spec: RouteSpec) -> dict[str, Any]:
    codes = set(spec.errors) | ({"unauthorized"} if spec.auth is not PUBLIC else set()) | {"unavailable"}
    if "{" in spec.path:
        codes.add("not_found")  # a path id that cannot exist is 404 on every such route
    if spec.body or spec.query:
        codes.add("invalid_request")
    if spec.auth not in (PUBLIC, "user", OPTIONAL):
        codes.add("forbidden")
    by_status: dict[int, list[str]] = {}
    for code in sorted(codes):
        by_status.setdefault(STATUS_BY_CODE.get(code, 400), []).append(code)
    return {
        str(status): {
            "description": "Error codes: " + ", ".join(names),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status, names in sorted(by_status.items())
    }


@route(bp, "/openapi.json", auth=PUBLIC, tag="meta", summary="This document")
def openapi(ctx: Ctx) -> dict[str, Any]:
    return document()
