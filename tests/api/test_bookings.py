"""NIO House bookings through checkout: a house's rooms and books, availability by date, booking lines paid with
points or points + cash, a slot never sold twice, cancel until 2 hours before, refunds and expiry free the slots,
book loans with due dates, and each rule's 4xx with nothing written."""

from __future__ import annotations

import pytest

from tests.api.shop import give_points, make_owner
from tests.helpers import uid

NOW = "2026-12-06T02:00:00Z"  # 10:00 on Sunday in Shanghai
HOUSE = {"merchant_id": "nio-house-sh", "name": "NIO House Shanghai", "name_zh": "蔚来中心上海", "kind": "nio_house"}
WEEK = {d: ["10:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ROOM = {
    "resource_id": "room-jingan-1",
    "house": "nio-house-sh",
    "kind": "room",
    "title": "Meeting room 1",
    "title_zh": "会议室1",
    "capacity": 1,
    "slot_minutes": 60,
    "hours": WEEK,
    "closed_dates": ["2026-12-25"],
    "price_fen_per_slot": 5000,
    "accepts": {"points": True, "cash": True},
    "min_tier": "fan",
}
BOOK = {
    **ROOM,
    "resource_id": "book-three-body",
    "kind": "book",
    "title": "The Three-Body Problem",
    "title_zh": "三体",
    "capacity": 2,
    "slot_minutes": 1440,
    "hours": {d: ["00:00-24:00"] for d in WEEK},
    "closed_dates": [],
    "price_fen_per_slot": 100,
}


@pytest.fixture
def house(api, clock):
    clock.set(NOW)
    assert api.merch("POST", "/admin/merchants", HOUSE).status == 201
    r = api.merch("POST", "/admin/resources", ROOM)
    assert r.status == 201, r.json
    return r.json


def booking(resource: str = "room-jingan-1", date: str = "2026-12-08", start: str = "14:00", slots: int = 2):
    return {"booking": {"resource_id": resource, "date": date, "start": start, "slots": slots}}


def book(api, user: str, *lines, points: int = 1_000, key: str | None = None):
    body = {"items": list(lines) or [booking()], "points": points}
    return api.post("/orders", body, user=user, headers={"Idempotency-Key": key or uid("book")})


def left(api, date: str = "2026-12-08", resource: str = "room-jingan-1") -> dict[str, int]:
    r = api.get(f"/resources/{resource}/availability?date={date}")
    assert r.status == 200, r.json
    return {s["start"]: s["left"] for s in r.json["slots"]}


def shopper(services, points: int = 5_000) -> str:
    who = uid("shopper")
    give_points(services, who, points)
    return who


def test_a_houses_rooms_and_their_days_are_public(api, house):
    assert house["points_price_per_slot"] == 500 and house["sku"] == "RES-room-jingan-1"
    listed = api.get("/houses/nio-house-sh/resources")
    assert listed.status == 200 and [r["resource_id"] for r in listed.json["items"]] == ["room-jingan-1"]
    day = left(api)
    assert list(day) == [f"{h}:00" for h in range(10, 22)] and set(day.values()) == {1}
    assert left(api, "2026-12-25") == {}  # closed
    assert api.get("/resources/room-nowhere/availability?date=2026-12-08").status == 404
    assert api.get("/resources/room-jingan-1/availability?date=2026-02-30").status == 400
    audit = api.merch("GET", "/admin/audit?limit=2").json["items"]  # the house and the room, at the same time
    assert ("resource.create", "room-jingan-1") in [(a["action"], a["entity_id"]) for a in audit]


def test_a_room_booked_with_points_takes_its_slots_and_nobody_else_gets_them(api, services, house):
    me = shopper(services)
    r = book(api, me)
    assert r.status == 201, r.json
    line = r.json["lines"][0]
    assert (r.json["status"], r.json["points_applied"], line["qty"], line["category"]) == ("paid", 1_000, 2, "booking")
    assert line["booking"]["slot_starts"] == ["2026-12-08 14:00", "2026-12-08 15:00"] and line["partner_id"] is None
    assert line["booking"]["starts_at"] == "2026-12-08T06:00:00.000Z"
    assert line["booking"]["cancel_until"] == "2026-12-08T04:00:00.000Z"
    assert (left(api)["14:00"], left(api)["15:00"], left(api)["16:00"]) == (0, 0, 1)
    other = book(api, shopper(services), booking(start="15:00", slots=1), points=500)
    assert other.status == 409 and other.error_code == "slot_full"
    assert other.json["error"]["details"] == {"resource_id": "room-jingan-1", "date": "2026-12-08", "start": "15:00"}
    day = api.merch("GET", "/admin/houses/nio-house-sh/day?date=2026-12-08").json["resources"][0]
    assert [(b["user_id"], b["start"], b["slots"]) for b in day["bookings"]] == [(me, "14:00", 2)]


def test_cancel_until_two_hours_before_gives_the_points_and_the_slots_back(api, services, house, clock):
    me = shopper(services)
    order = book(api, me).json
    clock.set("2026-12-08T04:00:00Z")  # 12:00 in Shanghai: two hours before 14:00
    late = api.post(f"/orders/{order['order_id']}/cancel", user=me)
    assert late.status == 409 and late.error_code == "not_cancellable"
    assert late.json["error"]["details"]["cancel_until"] == "2026-12-08T04:00:00.000Z"
    clock.set("2026-12-08T03:59:00Z")
    r = api.post(f"/orders/{order['order_id']}/cancel", user=me)
    assert r.status == 200 and r.json["status"] == "cancelled"
    assert left(api)["14:00"] == 1 and api.get("/me", user=me).json["points"]["available"] == 5_000
    assert book(api, shopper(services), booking(start="14:00", slots=1), points=500).status == 201


def test_points_and_cash_hold_the_slots_until_paid_and_expiry_frees_them(api, services, house, clock):
    me = shopper(services)
    r = book(api, me, points=400)  # 600 fen... no: 10,000 fen in all, 4,000 in points, 6,000 in cash
    assert r.status == 201 and r.json["status"] == "pending_payment" and r.json["cash_due_fen"] == 6_000
    assert left(api)["14:00"] == 0
    clock.set("2026-12-06T03:00:00Z")  # past the payment window
    assert services.orders.expire_overdue() == 1
    assert left(api)["14:00"] == 1 and api.get("/me", user=me).json["points"] == {"available": 5_000, "held": 0}


def test_a_refund_frees_the_slots(api, services, house):
    order = book(api, shopper(services)).json
    r = api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "room flooded"})
    assert r.status == 200 and r.json["status"] == "refunded"
    assert left(api)["14:00"] == left(api)["15:00"] == 1


@pytest.mark.parametrize(
    "line, status, code, reason",
    [
        (booking(start="14:30"), 409, "not_available", "outside_hours"),
        (booking(start="21:00", slots=2), 409, "not_available", "outside_hours"),
        (booking(start="08:00", slots=1), 409, "not_available", "outside_hours"),
        (booking(date="2026-12-05"), 409, "not_available", "past"),
        (booking(date="2026-12-06", start="09:00", slots=1), 409, "not_available", "past"),
        (booking(date="2026-12-25"), 409, "not_available", "closed"),
        (booking(date="2027-06-01"), 409, "not_available", "too_far_ahead"),
        (booking(resource="room-nowhere"), 404, "not_found", None),
        ({"sku": "RES-room-jingan-1", "qty": 1}, 404, "not_found", None),
        (booking(slots=0), 400, "invalid_request", None),
        (booking(slots=9), 400, "invalid_request", None),
        (booking(start="25:00"), 400, "invalid_request", None),
        (booking(date="2026-13-01"), 400, "invalid_request", None),
        (
            {"booking": {"resource_id": "room-jingan-1", "date": "2026-12-08", "start": "14:00"}},
            400,
            "invalid_request",
            None,
        ),
    ],
)
def test_each_booking_rule_is_a_4xx_and_nothing_is_taken(api, services, house, line, status, code, reason):
    me = shopper(services)
    r = book(api, me, line)
    assert (r.status, r.error_code) == (status, code), r.json
    if reason:
        assert r.json["error"]["details"]["reason"] == reason
    if status == 400:
        assert any(f.startswith("items.0") for f in r.json["error"]["details"]["fields"]), r.json
    assert set(left(api).values()) == {1} and api.get("/me", user=me).json["points"]["available"] == 5_000


def test_an_owner_only_room_refuses_a_fan(api, services, house):
    assert (
        api.merch("POST", "/admin/resources", {**ROOM, "resource_id": "room-owners", "min_tier": "owner"}).status == 201
    )
    fan, owner = shopper(services), shopper(services)
    make_owner(services, owner)
    r = book(api, fan, booking(resource="room-owners"))
    assert r.status == 403 and r.error_code == "tier_too_low"
    assert book(api, owner, booking(resource="room-owners")).status == 201


def test_a_book_loan_is_due_when_its_days_end_listed_overdue_and_returned_once(api, services, house, clock):
    assert api.merch("POST", "/admin/resources", BOOK).status == 201
    me = shopper(services)
    r = book(api, me, booking(resource="book-three-body", date="2026-12-07", start="00:00", slots=3), points=30)
    assert r.status == 201, r.json
    assert r.json["lines"][0]["booking"]["ends_at"] == "2026-12-09T16:00:00.000Z"  # midnight after the third day
    loans = api.merch("GET", "/admin/loans").json["items"]
    assert [(x["user_id"], x["due_at"], x["overdue"]) for x in loans] == [(me, "2026-12-09T16:00:00.000Z", False)]
    assert api.merch("GET", "/admin/loans?overdue=true").json["items"] == []
    clock.set("2026-12-10T02:00:00Z")
    overdue = api.merch("GET", "/admin/loans?overdue=true").json["items"]
    assert [x["loan_id"] for x in overdue] == [loans[0]["loan_id"]] and overdue[0]["overdue"]
    back = api.merch("POST", f"/admin/loans/{loans[0]['loan_id']}/return")
    assert back.status == 200 and back.json["returned_at"] == "2026-12-10T02:00:00.000Z" and not back.json["overdue"]
    assert api.merch("GET", "/admin/loans").json["items"] == []
    assert api.merch("POST", f"/admin/loans/{loans[0]['loan_id']}/return").status == 409
    assert api.merch("POST", "/admin/loans/o-nothing.book/return").status == 404


@pytest.mark.parametrize(
    "change, field",
    [
        ({"house": "nio-house-bj"}, "house"),
        ({"slot_minutes": 50}, "slot_minutes"),
        ({"hours": {"mon": ["10:30-22:00"]}}, "body"),
        ({"hours": {"mon": ["22:00-10:00"]}}, "body"),
        ({"hours": {"funday": ["10:00-22:00"]}}, "hours"),
        ({"capacity": 0}, "capacity"),
        ({"price_fen_per_slot": 5005}, "price_fen_per_slot"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates"),
    ],
)
def test_a_bad_resource_is_refused_naming_the_field(api, house, change, field):
    r = api.merch("POST", "/admin/resources", {**ROOM, "resource_id": "room-bad", **change})
    assert r.status in (400, 404) and field in str(r.json["error"]["details"]), r.json
    assert [x["resource_id"] for x in api.get("/houses/nio-house-sh/resources").json["items"]] == ["room-jingan-1"]
    assert api.post("/admin/resources", ROOM, user=uid("fan")).status == 403


def test_an_order_books_at_most_eight_slots_in_all(api, services, house):
    assert api.merch("POST", "/admin/resources", {**ROOM, "resource_id": "room-jingan-2"}).status == 201
    me = shopper(services)
    r = book(api, me, booking(slots=5), booking(resource="room-jingan-2", slots=4), points=4_500)
    assert r.status == 400 and "items.1.booking.slots" in r.json["error"]["details"]["fields"]
    assert set(left(api).values()) == {1}


def test_a_booking_beside_goods_lets_the_order_ship_when_the_goods_do(api, services, house):
    from tests.api.shop import ADDRESS, add_product

    tee = add_product(services, price_fen=1000, stock=5, category="apparel")
    me = shopper(services)
    body = {"items": [{"sku": tee, "qty": 1}, booking()], "points": 1_100, "shipping_address": ADDRESS}
    order = api.post("/orders", body, user=me, headers={"Idempotency-Key": uid("k")}).json
    assert order["status"] == "paid"
    parcel = {"skus": [tee], "carrier": "SF", "tracking_number": "SF123456789"}
    r = api.post(f"/partner/orders/{order['order_id']}/shipments", parcel, partner="warehouse")
    assert r.status == 200, r.json
    assert api.get(f"/orders/{order['order_id']}", user=me).json["status"] == "shipped"
