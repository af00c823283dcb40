"""The shop's Lambda entry point (routing.Shop): its short way to a route answers exactly as chalice's own way does,
and what it cannot vouch for still answers in the contract's shape."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Response

from chalicelib.api.routing import ANY_TYPE, SHORT_WAY, Shop, bind_request
from tests.api.shop import add_product, give_points, order_body


def test_each_answer_is_the_one_chalices_own_way_gives(api, services, monkeypatch):
    """Every request the API tests make goes the short way; here a sample of them is answered again by chalice's
    `__call__` from the same event and compared whole: status, headers and body."""
    from app import app

    sku = add_product(services, price_fen=19900, stock=10)
    give_points(services, "entry-buyer", 3000)
    seen: list[tuple[dict[str, Any], Any, dict[str, Any]]] = []
    short_way = Shop.__call__

    def recorded(self: Shop, event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer = short_way(self, event, context)
        seen.append((event, context, answer))
        return answer

    monkeypatch.setattr(Shop, "__call__", recorded)
    statuses = [
        api.post("/orders/quote", order_body((sku, 2), points=1000), user="entry-buyer").status,
        api.post("/orders/quote", order_body(("NO-SUCH-SKU", 1), points=0), user="entry-buyer").status,
        api.post("/orders/quote", {"items": []}, user="entry-buyer").status,
        api.post("/orders/quote", order_body((sku, 1), points=0), user="entry-buyer", raw=b"{bad").status,
        api.post("/orders/quote", order_body((sku, 1), points=0)).status,
        api.call("POST", "/orders/quote", raw=b"x", user="entry-buyer", headers={"Content-Type": "text/plain"}).status,
        api.get("/categories").status,
        api.get("/products?category=tech&limit=2").status,
        api.get("/products/no%20such").status,
        api.call("DELETE", "/categories").status,
    ]
    assert statuses == [200, 404, 400, 400, 401, 415, 200, 200, 404, 405]
    assert len(seen) == len(statuses)
    for event, context, answer in seen:
        again = Chalice.__call__(app, event, context)
        assert _but_cid(again) == _but_cid(answer), event["requestContext"]


def _but_cid(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without its correlation id (each answer makes its own when chalice local sends no request id)."""
    headers = dict(answer["headers"])
    assert len(headers.pop("X-Correlation-Id")) == 32
    return {**answer, "headers": headers}


def _event(path: str, method: str = "GET") -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"resourcePath": path, "httpMethod": method, "requestId": "entry-test-0001", "stage": "api"},
    }


def _error_of(answer: dict[str, Any]) -> tuple[int, str]:
    import json

    return answer["statusCode"], json.loads(answer["body"])["error"]["code"]


def _shop(*routes: tuple[str, Any]) -> Shop:
    """A Shop with the app's middleware and `routes` as views of the short way (as `route` marks them)."""
    app = Shop(app_name="entry-test")
    app.api.binary_types = []
    app.register_middleware(bind_request, "http")
    for path, view in routes:
        setattr(view, SHORT_WAY, True)
        app.route(path, content_types=["application/json", ANY_TYPE])(view)
    return app


def test_a_header_with_a_line_break_is_a_500_in_the_contract_shape_not_a_forged_header():
    def forged() -> Response:
        return Response(body="{}", headers={"X-Note": "a\r\nSet-Cookie: stolen=1"})

    app = _shop(("/forged", forged))
    answer = app(_event("/forged"), None)
    assert _error_of(answer) == (500, "internal_error")
    assert "stolen" not in str(answer["headers"])
    assert answer["headers"]["X-Correlation-Id"] == "entry-test-0001"  # back through the middleware, as in chalice
    assert Chalice.__call__(app, _event("/forged"), None)["statusCode"] == 500


def test_a_view_that_fails_is_a_500_with_its_correlation_id_as_chalice_answers_it():
    def boom() -> Response:
        raise RuntimeError("boom")

    app = _shop(("/boom", boom))
    answer = app(_event("/boom"), None)
    assert _error_of(answer) == (500, "internal_error") and "boom" not in answer["body"]
    assert answer["headers"]["X-Correlation-Id"] == "entry-test-0001"
    chalices = Chalice.__call__(app, _event("/boom"), None)
    assert (chalices["statusCode"], chalices["headers"]["X-Correlation-Id"]) == (500, "entry-test-0001")


def test_a_failing_middleware_still_answers_500_in_the_contract_shape():
    def fine() -> Response:
        return Response(body="{}")

    def broken(event: Any, get_response: Any) -> Response:
        raise RuntimeError("boom")

    app = _shop(("/fine", fine))
    app.register_middleware(broken, "http")
    answer = app(_event("/fine"), None)
    assert _error_of(answer) == (500, "internal_error") and "boom" not in answer["body"]


def test_what_the_short_way_does_not_vouch_for_goes_chalices_way():
    """A view of chalice's own decorator: chalice's content-type check answers a text body with its 415, and a
    plain value is wrapped in a Response, as chalice does."""
    app = _shop()

    @app.route("/json-only", methods=["POST"])
    def json_only() -> Response:
        return Response(body="{}")

    @app.route("/plain", content_types=["application/json", ANY_TYPE])
    def plain() -> dict[str, int]:
        return {"n": 1}

    event = {**_event("/json-only", "POST"), "headers": {"Content-Type": "text/plain"}, "body": "x"}
    assert _error_of(app(event, None)) == (415, "unsupported_media_type")
    assert (app(_event("/plain"), None)["statusCode"], app(_event("/plain"), None)["body"]) == (200, '{"n":1}')
