"""Points paid at a merchant: the shopper's one-minute code, the merchant's capture and refunds, and what each side
sees (a merchant only its own payments)."""

from __future__ import annotations

import secrets

import pytest

from chalicelib.domain.merchants import new_code
from tests.api.shop import give_points
from tests.helpers import uid

HOUSE = {"merchant_id": "nio-house-sh", "name": "NIO House Shanghai", "name_zh": "蔚来中心上海", "kind": "nio_house"}
CHARGER = {"merchant_id": "swap-station-9", "name": "Power Swap 9", "name_zh": "换电站9", "kind": "charging"}


def staff(api, merchant_id: str = "nio-house-sh", user: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens(user or uid('staff'), 'merchant', merchant_id=merchant_id)}"}


@pytest.fixture
def house(api):
    for merchant in (HOUSE, CHARGER):
        assert api.merch("POST", "/admin/merchants", merchant).status == 201
    return staff(api)


@pytest.fixture
def shopper(api, services):
    user = uid("shopper")
    give_points(services, user, 1_000)
    return user


def code_of(api, user: str) -> str:
    r = api.post("/me/payment-codes", user=user)
    assert r.status == 201, r.json
    return r.json["code"]


def pay(api, who: dict[str, str], code: str, points: int = 300, key: str | None = None, **extra):
    body = {"code": code, "points": points, "reference": "till-7 #0042", **extra}
    return api.post("/merchant/payments", body, headers={**who, "Idempotency-Key": key or uid("pay")})


def balance(api, user: str) -> int:
    return api.get("/me", user=user).json["points"]["available"]


def ledger(api, user: str) -> list[tuple[str, int]]:
    return [(e["kind"], e["delta"]) for e in api.get("/me/points/ledger", user=user).json["items"]]


def test_a_code_is_18_digits_for_60_seconds_shown_once_and_a_new_one_replaces_it(api, house, shopper, clock):
    clock.set("2026-12-06T04:00:00Z")
    r = api.post("/me/payment-codes", user=shopper)
    assert r.status == 201 and r.headers["Cache-Control"] == "no-store"
    first = r.json["code"]
    assert len(first) == 18 and first.isdigit() and r.json["expires_at"] == "2026-12-06T04:01:00.000Z"
    second = code_of(api, shopper)
    assert second != first
    old = pay(api, house, first)
    assert old.status == 409 and old.error_code == "code_invalid"
    assert pay(api, house, second).status == 201


def test_a_drink_paid_by_code_takes_the_points_once_and_a_retry_gets_the_same_payment(api, house, shopper):
    code = code_of(api, shopper)
    r = pay(api, house, code, 280, key="drink-0042", description="NIO Flavor latte")
    assert r.status == 201, r.json
    paid = r.json
    assert (paid["points"], paid["status"], paid["merchant_id"], paid["refunded_points"]) == (
        280,
        "captured",
        "nio-house-sh",
        0,
    )
    assert "user_id" not in paid  # the merchant sees the payment, not who the shopper is
    again = pay(api, house, code, 280, key="drink-0042", description="NIO Flavor latte")
    assert again.status == 201 and again.json["payment_id"] == paid["payment_id"]
    assert balance(api, shopper) == 720 and ledger(api, shopper)[0] == ("merchant_payment", -280)
    other_body = pay(api, house, code, 281, key="drink-0042")
    assert other_body.status == 422 and other_body.error_code == "idempotency_key_reused"
    replayed = pay(api, house, code, 280)  # the same code with a new key: it has paid once already
    assert replayed.status == 409 and replayed.error_code == "code_invalid"
    assert balance(api, shopper) == 720


def test_an_expired_code_pays_nothing(api, house, shopper, clock):
    clock.set("2026-12-06T04:00:00Z")
    code = code_of(api, shopper)
    clock.set("2026-12-06T04:01:00Z")
    r = pay(api, house, code)
    assert r.status == 409 and r.error_code == "code_invalid" and "expired" in r.json["error"]["message"]
    assert balance(api, shopper) == 1_000


def test_not_enough_points_is_409_and_the_code_still_pays_a_smaller_amount(api, house, shopper):
    code = code_of(api, shopper)
    r = pay(api, house, code, 1_001)
    assert r.status == 409 and r.error_code == "insufficient_points"
    assert r.json["error"]["details"] == {"available": 1_000, "required": 1_001}
    assert pay(api, house, code, 1_000).status == 201 and balance(api, shopper) == 0


def test_guessed_codes_find_nothing_and_a_mistyped_one_is_refused_before_any_read(api, house, shopper):
    live = code_of(api, shopper)
    for _ in range(20):
        guess = new_code(secrets.randbelow)
        assert guess != live
        r = pay(api, house, guess)
        assert r.status == 409 and r.error_code == "code_invalid"
    typo = live[:-1] + str((int(live[-1]) + 1) % 10)
    r = pay(api, house, typo)
    assert r.status == 400 and "code" in r.json["error"]["details"]["fields"]
    assert balance(api, shopper) == 1_000


def test_staff_cannot_take_their_own_code(api, house, services):
    me = uid("barista")
    give_points(services, me, 500)
    r = pay(api, staff(api, user=me), code_of(api, me))
    assert r.status == 403 and balance(api, me) == 500


def test_a_merchant_sees_and_refunds_only_its_own_payments(api, house, shopper):
    paid = pay(api, house, code_of(api, shopper)).json
    charger = staff(api, "swap-station-9")
    assert api.get(f"/merchant/payments/{paid['payment_id']}", headers=charger).status == 404
    r = api.post(f"/merchant/payments/{paid['payment_id']}/refunds", {"points": 1, "reason": "x"}, headers=charger)
    assert r.status == 404 and r.error_code == "not_found"
    assert api.get("/merchant/payments", headers=charger).json["items"] == []
    mine = api.get("/merchant/payments", headers=house).json["items"]
    assert [p["payment_id"] for p in mine] == [paid["payment_id"]]
    assert balance(api, shopper) == 700


def test_refunds_are_partial_never_above_the_payment_and_the_shopper_gets_them_back(api, house, shopper):
    paid = pay(api, house, code_of(api, shopper), 300).json
    path = f"/merchant/payments/{paid['payment_id']}/refunds"
    r = api.post(path, {"points": 100, "reason": "one latte was cold"}, headers=house)
    assert r.status == 201, r.json
    assert (r.json["refunded_points"], r.json["status"], len(r.json["refunds"])) == (100, "partially_refunded", 1)
    too_much = api.post(path, {"points": 201, "reason": "all of it"}, headers=house)
    assert too_much.status == 409 and too_much.error_code == "refund_exceeds_payment"
    assert too_much.json["error"]["details"]["refundable"] == 200
    keyed = {**house, "Idempotency-Key": "refund-rest-1"}
    rest = api.post(path, {"points": 200, "reason": "order cancelled"}, headers=keyed)
    again = api.post(path, {"points": 200, "reason": "order cancelled"}, headers=keyed)
    assert rest.status == again.status == 201 and again.json == rest.json
    assert (rest.json["status"], rest.json["refunded_points"]) == ("refunded", 300)
    assert balance(api, shopper) == 1_000
    assert [k for k, _ in ledger(api, shopper)[:3]] == ["merchant_refund", "merchant_refund", "merchant_payment"]
    shown = api.get(f"/merchant/payments/{paid['payment_id']}", headers=house).json
    assert [x["points"] for x in shown["refunds"]] == [100, 200]


def test_a_refunds_key_is_for_one_payment(api, house, shopper):
    a = pay(api, house, code_of(api, shopper), 100).json
    b = pay(api, house, code_of(api, shopper), 100).json
    keyed = {**house, "Idempotency-Key": "refund-0001"}
    body = {"points": 10, "reason": "damaged"}
    assert api.post(f"/merchant/payments/{a['payment_id']}/refunds", body, headers=keyed).status == 201
    other = api.post(f"/merchant/payments/{b['payment_id']}/refunds", body, headers=keyed)
    assert other.status == 422 and other.error_code == "idempotency_key_reused"
    assert api.get(f"/merchant/payments/{b['payment_id']}", headers=house).json["refunded_points"] == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"points": 0}, "points"),
        ({"points": 100_001}, "points"),
        ({"points": "10"}, "points"),
        ({"reference": ""}, "reference"),
        ({"description": "latte\u202e"}, "description"),
        ({"code": "12345"}, "code"),
        ({"code": "６６" + "0" * 16}, "code"),
        ({"tip": 5}, "tip"),
    ],
)
def test_a_bad_payment_is_400_naming_the_field_and_takes_nothing(api, house, shopper, change, field):
    body = {"code": code_of(api, shopper), "points": 10, "reference": "r1", **change}
    r = api.post("/merchant/payments", body, headers={**house, "Idempotency-Key": uid("k")})
    assert r.status == 400 and field in r.json["error"]["details"]["fields"], r.json
    assert balance(api, shopper) == 1_000


def test_a_payment_needs_an_idempotency_key_and_a_registered_merchant_token(api, house, shopper):
    body = {"code": code_of(api, shopper), "points": 10, "reference": "r1"}
    r = api.post("/merchant/payments", body, headers=house)
    assert r.status == 400 and "Idempotency-Key" in r.json["error"]["details"]["fields"]
    key = {"Idempotency-Key": uid("k")}
    assert api.post("/merchant/payments", body, user=shopper, headers=key).status == 403
    assert api.post("/merchant/payments", body, headers={**staff(api, "not-registered"), **key}).status == 403
    assert api.post("/merchant/payments", body, headers=key).status == 401
    assert api.post("/me/payment-codes").status == 401
    assert balance(api, shopper) == 1_000


def _drain(services) -> None:
    from tools.streams import outbox_poller

    assert outbox_poller(services).poll() >= 0


@pytest.mark.streams
def test_the_days_statement_and_the_settlement_add_up_and_a_redelivered_stream_counts_once(api, services, house, clock):
    from chalicelib import workers

    clock.set("2026-12-05T15:30:00Z")  # 23:30 in Shanghai, December 5
    a, b = uid("shopper"), uid("shopper")
    give_points(services, a, 1_000)
    give_points(services, b, 1_000)
    late = pay(api, house, code_of(api, a), 300).json
    clock.set("2026-12-05T16:30:00Z")  # 00:30 on December 6: the refund counts on its own day
    pay(api, house, code_of(api, b), 450)
    api.post(f"/merchant/payments/{late['payment_id']}/refunds", {"points": 120, "reason": "spilt"}, headers=house)
    pay(api, staff(api, "swap-station-9"), code_of(api, a), 50)
    _drain(services)
    r = api.get("/merchant/statements?from=2026-12-05&to=2026-12-06", headers=house)
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store", r.json
    days = {
        d["day"]: (d["payments"], d["redeemed"], d["refunds"], d["refunded"], d["net"], d["fen_owed"])
        for d in r.json["days"]
    }
    assert days == {"2026-12-05": (1, 300, 0, 0, 300, 3_000), "2026-12-06": (1, 450, 1, 120, 330, 3_300)}
    assert (r.json["totals"]["net"], r.json["totals"]["fen_owed"]) == (630, 6_300)
    settled = api.merch("GET", "/admin/settlements?from=2026-12-01&to=2026-12-06").json
    assert {m["merchant_id"]: m["totals"]["fen_owed"] for m in settled["merchants"]} == {
        "nio-house-sh": 6_300,
        "swap-station-9": 500,
    }
    assert settled["totals"]["net"] == 680 and settled["merchants"][0]["name"] == "NIO House Shanghai"
    # the stream delivers everything again: nothing is stated twice
    items = services.table.batch_get([{"pk": {"S": f"MPAY#{late['payment_id']}"}, "sk": {"S": "META"}}])
    assert services.merchant_statements.count(items) == 0
    workers.keep_statements([{"eventName": "MODIFY", "dynamodb": {}}], services.merchant_statements)
    again = api.get("/merchant/statements?from=2026-12-05&to=2026-12-06", headers=house).json
    assert again["totals"] == r.json["totals"]
    # the bank's report: merchant payments are redeemed, their refunds returned
    report = api.merch("GET", "/admin/points/report?from=2026-12-05&to=2026-12-06").json["totals"]
    assert (report["redeemed"], report["returned"]) == (800, 120)
    from tools.reconcile import reconcile

    assert reconcile(services.dynamodb, services.table)[1] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-01-01&to=2026-12-06", "from"),
        ("from=2026-12-06&to=2026-12-01", "query"),
        ("to=2026-13-01", "to"),
        ("day=1", "day"),
    ],
)
def test_a_bad_statement_range_is_400(api, house, query, field):
    r = api.get(f"/merchant/statements?{query}", headers=house)
    assert r.status == 400, r.json
    assert field in str(r.json["error"]["details"]), r.json
    assert api.merch("GET", f"/admin/settlements?{query}").status == 400
    assert api.get("/admin/settlements", headers=house).status == 403
