"""Points that expire by lot, through the API: a user earns, spends, is refunded and reaches a month-end, and the
lots are what the rules say at every step (DESIGN §5 "Points that expire by lot")."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from chalicelib import workers
from tests.api.shop import add_product, give_points, order_body, place, read_queue
from tests.helpers import uid
from tools.reconcile import reconcile

HOUSE = {"merchant_id": "nio-house-sh", "name": "NIO House Shanghai", "name_zh": "蔚来中心上海", "kind": "nio_house"}
SWITCH = "2026-12-06T02:01:00Z"  # expiry switched on at 10:01 in Shanghai on 6 December


@pytest.fixture
def expiry_on(api, clock):
    """A policy version with 1-month expiry in force from SWITCH; the clock just after it."""
    clock.set("2026-12-06T02:00:00.000Z")
    policy = copy.deepcopy(api.merch("GET", "/admin/policy").json["in_force"]["policy"])
    policy["expiry"] = {"months": 1}
    body = {"policy": policy, "effective_from": SWITCH, "note": "points expire"}
    version = api.merch("POST", "/admin/policy/versions", body).json["version"]
    assert api.merch("POST", f"/admin/policy/versions/{version}/schedule").status == 200
    clock.set("2026-12-06T02:02:00.000Z")
    return clock


def lots(api, user: str) -> dict[str, int]:
    return {i["lot"]: i["points"] for i in api.get("/me/points/lots", user=user).json["items"]}


def me(api, user: str) -> dict:
    return api.get("/me", user=user).json


def ledger(api, user: str) -> list[tuple[str, int]]:
    return [(e["kind"], e["delta"]) for e in api.get("/me/points/ledger?limit=50", user=user).json["items"]][::-1]


def test_a_user_earns_spends_is_refunded_and_a_month_end_expires_the_oldest_lot(api, services, expiry_on):
    clock, user = expiry_on, uid("fan")
    give_points(services, user, 1_000)  # December's points live to the end of January
    assert lots(api, user) == {"2027-01": 1_000}
    assert me(api, user)["expiring"] == {"points": 1_000, "at": "2027-01-31T16:00:00.000Z"}

    clock.set("2027-01-05T02:00:00.000Z")
    give_points(services, user, 500)
    assert lots(api, user) == {"2027-01": 1_000, "2027-02": 500}

    lamp = add_product(services, price_fen=12_000, stock=5, cash=False)
    order = place(api, user, order_body((lamp, 1), points=1_200)).json
    assert order["status"] == "paid"
    assert lots(api, user) == {"2027-02": 300}, "the earliest lot is spent first"

    refunded = api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "damaged"})
    assert refunded.status == 200
    assert lots(api, user) == {"2027-01": 1_000, "2027-02": 500}, "a refund goes back to the lots it came from"

    clock.set("2027-01-31T16:00:00.000Z")  # 00:00 on 1 February in Shanghai: January's lot is over
    assert me(api, user)["points"]["available"] == 500, "expired points cannot be spent even before the sweep"
    assert workers.expire_lots() == 1_000
    assert workers.expire_lots() == 0, "once"
    assert lots(api, user) == {"2027-02": 500}
    assert me(api, user)["expiring"] == {"points": 500, "at": "2027-02-28T16:00:00.000Z"}
    assert ledger(api, user)[-1] == ("expire", -1_000)
    assert sum(delta for _, delta in ledger(api, user)) == 500
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_a_refund_of_points_from_a_lot_that_has_since_expired_expires_at_once(api, services, expiry_on):
    clock, user = expiry_on, uid("fan")
    give_points(services, user, 800)
    lamp = add_product(services, price_fen=6_000, stock=5, cash=False)
    order = place(api, user, order_body((lamp, 1), points=600)).json
    assert lots(api, user) == {"2027-01": 200}
    clock.set("2027-02-03T02:00:00.000Z")
    give_points(services, user, 50)  # a write after the month-end settles January's 200 at once
    assert lots(api, user) == {"2027-03": 50}
    api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "late"})
    assert lots(api, user) == {"2027-03": 50}, "a refund never refreshes old points"
    assert me(api, user)["points"]["available"] == 50
    assert ledger(api, user)[-2:] == [("refund", 600), ("expire", -600)]
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_a_spend_at_a_merchant_and_its_partial_refunds_go_back_latest_lot_first(api, services, expiry_on):
    clock, user = expiry_on, uid("fan")
    give_points(services, user, 100)
    clock.set("2027-01-10T02:00:00.000Z")
    give_points(services, user, 100)
    assert api.merch("POST", "/admin/merchants", HOUSE).status == 201
    till = {"Authorization": f"Bearer {api.tokens(uid('staff'), 'merchant', merchant_id='nio-house-sh')}"}
    code = api.post("/me/payment-codes", user=user).json["code"]
    body = {"code": code, "points": 150, "reference": "till-7"}
    paid = api.post("/merchant/payments", body, headers={**till, "Idempotency-Key": uid("pay")}).json
    assert lots(api, user) == {"2027-02": 50}
    refund = f"/merchant/payments/{paid['payment_id']}/refunds"
    assert api.post(refund, {"points": 40, "reason": "cold"}, headers=till).status == 201
    assert lots(api, user) == {"2027-02": 90}, "back into the latest lot the payment drew first"
    assert api.post(refund, {"points": 30, "reason": "cold"}, headers=till).status == 201
    assert lots(api, user) == {"2027-01": 20, "2027-02": 100}
    assert me(api, user)["points"]["available"] == 120


def test_switching_expiry_on_puts_balances_held_before_into_the_opening_lot(api, services, clock):
    clock.set("2026-11-20T02:00:00.000Z")
    user = uid("fan")
    give_points(services, user, 700)
    assert api.get("/me/points/lots", user=user).json == {"items": [], "total": 0, "expiry_months": None}
    policy = copy.deepcopy(api.merch("GET", "/admin/policy").json["in_force"]["policy"])
    policy["expiry"] = {"months": 12}
    body = {"policy": policy, "effective_from": "2026-11-20T02:01:00Z", "note": "points expire"}
    version = api.merch("POST", "/admin/policy/versions", body).json["version"]
    api.merch("POST", f"/admin/policy/versions/{version}/schedule")
    clock.set("2026-11-20T02:05:00.000Z")
    assert workers.expire_lots() == 0
    assert lots(api, user) == {"2027-11": 700}, "the sweep opened the lot of the switch's month + 12"
    assert ledger(api, user)[-1] == ("lots_opened", 0)
    give_points(services, user, 30)
    assert lots(api, user) == {"2027-11": 730}


@pytest.mark.streams
def test_the_report_counts_expired_points_and_what_expires_in_the_next_30_60_and_90_days(api, services, expiry_on):
    from tools.streams import outbox_poller

    clock, early, late = expiry_on, uid("fan"), uid("fan")
    give_points(services, early, 1_000)  # lot 2027-01: ends 2027-01-31T16:00Z
    clock.set("2027-01-10T02:00:00.000Z")
    give_points(services, late, 400)  # lot 2027-02: ends 2027-02-28T16:00Z
    stream = outbox_poller(services)
    stream.poll()
    report = api.merch("GET", "/admin/points/report?from=2027-01-09&to=2027-01-10").json
    assert report["expiring"] == {"days_30": 1_000, "days_60": 1_400, "days_90": 1_400}
    clock.set("2027-02-01T02:00:00.000Z")
    assert workers.expire_lots() == 1_000
    stream.poll()
    report = api.merch("GET", "/admin/points/report?from=2027-02-01&to=2027-02-01").json
    assert report["days"][0]["expired"] == 1_000 and report["breakage_rate"] == "1.0000"
    assert report["expiring"] == {"days_30": 400, "days_60": 400, "days_90": 400}


@pytest.mark.streams
def test_a_user_is_told_30_and_3_days_before_a_lot_expires_once_each(api, services, expiry_on):
    from tools.streams import outbox_poller

    clock, user, spent = expiry_on, uid("fan"), uid("fan")
    give_points(services, user, 1_000)  # lot 2027-01: ends 2027-01-31T16:00Z
    give_points(services, spent, 100)
    lamp = add_product(services, price_fen=1_000, stock=5, cash=False)
    assert place(api, spent, order_body((lamp, 1), points=100)).json["status"] == "paid"  # nothing left to expire
    url = services.sqs.get_queue_url(QueueName=services.settings.notifications_queue)["QueueUrl"]
    stream = outbox_poller(services)
    clock.set("2027-01-01T15:00:00.000Z")  # 31 days and an hour before: too early
    workers.notify_expiring()
    stream.poll()
    assert read_queue(services.sqs, url) == []
    clock.set("2027-01-02T02:00:00.000Z")
    workers.notify_expiring()
    workers.notify_expiring()  # the next run: once
    stream.poll()
    assert read_queue(services.sqs, url) == [
        {
            "event_id": f"evt-expiring-2027-01-30d-{user}",
            "type": "points.expiring",
            "occurred_at": "2027-01-02T02:00:00.000Z",
            "user_id": user,
            "lot": "2027-01",
            "points": 1_000,
            "expires_at": "2027-01-31T16:00:00.000Z",
            "days_before": 30,
        }
    ]
    clock.set("2027-01-29T16:00:00.000Z")
    checkin = api.post("/me/checkins", user=user).json["points_awarded"]  # joins 2027-02, which ends in 30 days
    workers.notify_expiring()
    stream.poll()
    told = sorted((n["user_id"], n["lot"], n["points"], n["days_before"]) for n in read_queue(services.sqs, url))
    assert told == [(user, "2027-01", 1_000, 3), (user, "2027-02", checkin, 30)]


def schedule(api, clock, at: str, expiry) -> None:
    """A policy version with `expiry` in force from `at` (the clock set a minute before it, then just after)."""
    moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    clock.set((moment - dt.timedelta(seconds=61)).isoformat())
    policy = copy.deepcopy(api.merch("GET", "/admin/policy").json["in_force"]["policy"])
    policy["expiry"] = expiry
    version = api.merch("POST", "/admin/policy/versions", {"policy": policy, "effective_from": at, "note": "expiry"})
    assert api.merch("POST", f"/admin/policy/versions/{version.json['version']}/schedule").status == 200
    clock.set((moment + dt.timedelta(seconds=1)).isoformat())


def test_while_expiry_is_off_nothing_expires_and_switching_it_on_again_opens_a_new_lot(api, services, expiry_on):
    clock, user = expiry_on, uid("fan")
    give_points(services, user, 500)  # lot 2027-01
    schedule(api, clock, "2027-01-10T02:00:00Z", None)  # off before January ends
    clock.set("2027-02-15T02:00:00.000Z")
    assert me(api, user)["points"]["available"] == 500, "January's lot did not expire: expiry was off"
    assert workers.expire_lots() == 0
    schedule(api, clock, "2027-03-01T02:00:00Z", {"months": 1})  # on again
    assert me(api, user)["points"]["available"] == 500, "an earlier run's lot does not expire at once"
    assert workers.expire_lots() == 0
    assert lots(api, user) == {"2027-04": 500}, "the sweep opened the new run's lot: March + 1"
    assert ledger(api, user)[-2:] == [("lots_closed", 0), ("lots_opened", 0)]
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_points_an_open_order_holds_keep_their_lot_until_the_order_ends(api, services, expiry_on):
    clock, user = expiry_on, uid("fan")
    give_points(services, user, 100)  # lot 2027-01
    clock.set("2027-01-20T02:00:00.000Z")
    give_points(services, user, 100)  # lot 2027-02
    tea = add_product(services, price_fen=5_000, stock=5)
    held = place(api, user, order_body((tea, 1), points=100)).json
    assert held["status"] == "pending_payment"
    clock.set("2027-01-31T16:00:01.000Z")  # February in Shanghai: January's lot is over
    assert me(api, user)["points"] == {"available": 100, "held": 100}, "the hold took January's points first"
    assert me(api, user)["expiring"] == {"points": 100, "at": "2027-02-28T16:00:00.000Z"}, "not January's, held"
    assert workers.expire_lots() == 0
    assert lots(api, user) == {"2027-01": 100, "2027-02": 100}
    assert api.post(f"/orders/{held['order_id']}/cancel", user=user).json["status"] == "cancelled"
    assert me(api, user)["points"] == {"available": 100, "held": 0}, "released into an ended lot: expired"
    assert workers.expire_lots() == 100
    assert lots(api, user) == {"2027-02": 100}
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []
