"""The month-end sweep racing the users it expires: two sweeps at once, each user refunded and paying at a till
in the same moments. Every account moves by its own compare-and-swap, so each lot expires once, a refund into an
expired lot expires at once, a payment can only spend live points, and the lots still hold available + held."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import give_points
from tests.api.test_lots import HOUSE, expiry_on, ledger, lots, me  # noqa: F401 (a fixture)
from tests.helpers import uid
from tools.reconcile import reconcile

USERS = 16


def test_two_sweeps_refunds_and_payments_at_once_expire_each_lot_once(api, services, expiry_on):  # noqa: F811
    clock = expiry_on
    assert api.merch("POST", "/admin/merchants", HOUSE).status == 201
    till = {"Authorization": f"Bearer {api.tokens(uid('staff'), 'merchant', merchant_id='nio-house-sh')}"}
    users = [uid("fan") for _ in range(USERS)]
    for user in users:
        give_points(services, user, 300)  # lot 2027-01
    payments = {}
    for user in users:
        code = api.post("/me/payment-codes", user=user).json["code"]
        body = {"code": code, "points": 100, "reference": "december"}
        payments[user] = api.post("/merchant/payments", body, headers={**till, "Idempotency-Key": uid("k")}).json
    clock.set("2027-01-10T02:00:00.000Z")
    for user in users:
        give_points(services, user, 300)  # lot 2027-02
        assert lots(api, user) == {"2027-01": 200, "2027-02": 300}
    clock.set("2027-02-01T01:00:00.000Z")  # 09:00 on 1 February in Shanghai: January's lot is over
    codes = {user: api.post("/me/payment-codes", user=user).json["code"] for user in users}

    def refund(user: str):
        path = f"/merchant/payments/{payments[user]['payment_id']}/refunds"
        return api.post(path, {"points": 100, "reason": "returned"}, headers=till).status

    def pay(user: str):
        body = {"code": codes[user], "points": 250, "reference": "february"}
        return api.post("/merchant/payments", body, headers={**till, "Idempotency-Key": uid("k")}).status

    work = [lambda: ("sweep", services.lots.sweep()) for _ in range(2)]
    work += [lambda u=u: ("refund", refund(u)) for u in users] + [lambda u=u: ("pay", pay(u)) for u in users]
    with ThreadPoolExecutor(max_workers=16) as pool:
        done = list(pool.map(lambda job: job(), work))
    assert sorted(r for kind, r in done if kind != "sweep") == [201] * (2 * USERS)
    for user in users:
        assert lots(api, user) == {"2027-02": 50}, "only February's points paid the 250"
        assert me(api, user)["points"] == {"available": 50, "held": 0}
        expired = [delta for kind, delta in ledger(api, user) if kind == "expire"]
        assert sum(expired) == -300, f"January's 200 and the refunded 100 expire once each: {expired}"
    assert services.lots.sweep() == 0
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []
