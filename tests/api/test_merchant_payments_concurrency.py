"""Merchants racing through a live `chalice local` on DynamoDB Local: a code shown to many tills pays once, and
refunds racing each other never give back more than was paid."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import give_points
from tests.helpers import uid
from tools.reconcile import merchant_differences


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def _merchant(live_api, merchant_id: str) -> None:
    body = {"merchant_id": merchant_id, "name": merchant_id, "name_zh": "门店", "kind": "nio_house"}
    assert live_api.merch("POST", "/admin/merchants", body).status in (201, 409)


def _staff(live_api, merchant_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {live_api.tokens(uid('staff'), 'merchant', merchant_id=merchant_id)}"}


def test_one_code_taken_by_sixteen_tills_at_once_pays_once(live_api, live_server):
    services = live_server["container"]
    houses = [f"race-house-{n}" for n in range(4)]
    for h in houses:
        _merchant(live_api, h)
    shopper = uid("shopper")
    give_points(services, shopper, 1_000)
    code = live_api.post("/me/payment-codes", user=shopper).json["code"]
    tills = [_staff(live_api, houses[i % 4]) for i in range(16)]
    replies = parallel(
        16,
        lambda i: live_api.post(
            "/merchant/payments",
            {"code": code, "points": 100 + i, "reference": f"till-{i}"},
            headers={**tills[i], "Idempotency-Key": uid("k")},
        ),
    )
    assert sorted(r.status for r in replies) == [201] + [409] * 15, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"code_invalid"}
    paid = next(r.json["points"] for r in replies if r.status == 201)
    assert live_api.get("/me", user=shopper).json["points"]["available"] == 1_000 - paid


def test_eight_refunds_of_40_racing_on_a_100_point_payment_give_back_exactly_80(live_api, live_server):
    services = live_server["container"]
    _merchant(live_api, "race-house-0")
    till = _staff(live_api, "race-house-0")
    shopper = uid("shopper")
    give_points(services, shopper, 100)
    code = live_api.post("/me/payment-codes", user=shopper).json["code"]
    paid = live_api.post(
        "/merchant/payments",
        {"code": code, "points": 100, "reference": "r"},
        headers={**till, "Idempotency-Key": uid("k")},
    ).json
    replies = parallel(
        8,
        lambda i: live_api.post(
            f"/merchant/payments/{paid['payment_id']}/refunds", {"points": 40, "reason": f"r{i}"}, headers=till
        ),
    )
    assert sorted(r.status for r in replies) == [201] * 2 + [409] * 6, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"refund_exceeds_payment"}
    shown = live_api.get(f"/merchant/payments/{paid['payment_id']}", headers=till).json
    assert (shown["refunded_points"], len(shown["refunds"]), shown["status"]) == (80, 2, "partially_refunded")
    assert live_api.get("/me", user=shopper).json["points"]["available"] == 80
    assert [d.describe() for d in merchant_differences(services.dynamodb, services.table)] == []
