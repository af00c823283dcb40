"""/openapi.json is generated from the route table and models, and covers every route of the app."""

from __future__ import annotations

from app import app


def test_every_route_of_the_app_is_documented_and_nothing_else(api):
    doc = api.get("/openapi.json").json
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert documented == served


def test_operations_say_who_may_call_them_and_what_comes_back(api):
    doc = api.get("/openapi.json").json
    create = doc["paths"]["/admin/products"]["post"]
    assert create["security"] == [{"bearer": []}] and "merchandiser" in create["description"]
    assert set(create["responses"]) >= {"201", "400", "401", "403", "409"}
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "skus" in body_schema["required"] and body_schema["additionalProperties"] is False
    assert doc["paths"]["/categories"]["get"]["security"] == []
    listing = doc["paths"]["/products"]["get"]
    assert listing["security"] == [{}, {"bearer": []}]  # public; a token adds `eligible`
    sort = next(p for p in listing["parameters"] if p["name"] == "sort")
    assert "popular" in str(sort["schema"])
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
    category = next(p for p in listing["parameters"] if p["name"] == "category")
    assert len(category["schema"]["enum"]) == 8
