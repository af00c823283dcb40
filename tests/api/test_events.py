"""Community events through the HTTP API: hosting, review, the listing, registering through checkout, cancelling
and checking in."""

from __future__ import annotations

import pytest

from chalicelib import workers
from chalicelib.adapters.orders_repo import shard_key
from tests.api.shop import balance, give_points, make_owner, order_body, place
from tools.reconcile import reconcile

NOW = "2026-12-01T02:00:00Z"  # 10:00 in Shanghai
STARTS, ENDS = "2026-12-20T11:00:00Z", "2026-12-20T14:00:00Z"


def event_body(**over):
    body = {
        "title": "ES8 owners' meet-up",
        "title_zh": "ES8 车主见面会",
        "description": "Coffee and a drive.",
        "city": "Shanghai",
        "venue": "NIO House Jing'an",
        "starts_at": STARTS,
        "ends_at": ENDS,
        "capacity": 5,
        "fee_fen": 0,
    }
    return {**body, **over}


@pytest.fixture(autouse=True)
def pinned(clock):
    clock.set(NOW)
    return clock


def official(api, **over) -> dict:
    r = api.merch("POST", "/admin/events", event_body(**over))
    assert r.status == 201, r.json
    return r.json


def register(api, user, event_id, key=None, **body):
    return api.post(
        f"/events/{event_id}/registrations",
        body,
        user=user,
        headers={"Idempotency-Key": key or f"reg-{user}-{event_id}"},
    )


def test_an_official_event_is_listed_by_city_soonest_first_with_its_places(api):
    later = official(api, starts_at="2026-12-22T11:00:00Z", ends_at="2026-12-22T12:00:00Z")
    sooner = official(api, capacity=40)
    official(api, city="Hefei")
    assert sooner["status"] == "published" and sooner["host_id"] is None and sooner["official"] is True
    listed = api.get("/events?city=shanghai").json["items"]
    assert [e["event_id"] for e in listed] == [sooner["event_id"], later["event_id"]]
    assert (listed[0]["capacity"], listed[0]["places_left"], listed[0]["registered"]) == (40, 40, 0)
    assert len(api.get("/events").json["items"]) == 3
    assert api.get(f"/events/{sooner['event_id']}").json["cancel_until"] == "2026-12-19T11:00:00.000Z"
    draft = official(api, status="draft")
    assert api.get(f"/events/{draft['event_id']}").status == 404, "a draft is not public"
    assert api.post("/admin/events", event_body(), user="fan").status == 403


def test_an_ended_event_leaves_the_listing(api, pinned):
    event = official(api)
    pinned.set("2026-12-20T13:59:00Z")
    assert [e["event_id"] for e in api.get("/events").json["items"]] == [event["event_id"]], "still on"
    pinned.set("2026-12-20T14:00:01Z")
    assert api.get("/events").json["items"] == []


def test_owners_propose_events_that_a_merchandiser_reviews(api, services):
    r = api.post("/events", event_body(), user="fan")
    assert (r.status, r.error_code) == (403, "owner_only")
    make_owner(services, "host")
    proposed = api.post("/events", event_body(fee_fen=5000), user="host").json
    assert (proposed["status"], proposed["host_id"], proposed["official"]) == ("submitted", "host", False)
    assert api.get(f"/events/{proposed['event_id']}").status == 404 and api.get("/events").json["items"] == []
    assert register(api, "fan", proposed["event_id"]).error_code == "not_available", "not open before approval"
    queue = api.merch("GET", "/admin/events").json["items"]
    assert [e["event_id"] for e in queue] == [proposed["event_id"]]
    refused = api.merch("POST", f"/admin/events/{proposed['event_id']}/decision", {"decision": "reject"})
    assert refused.status == 400, "a rejection says why"
    approved = api.merch("POST", f"/admin/events/{proposed['event_id']}/decision", {"decision": "approve"}).json
    assert approved["status"] == "published" and api.get(f"/events/{proposed['event_id']}").status == 200
    again = api.merch("POST", f"/admin/events/{proposed['event_id']}/decision", {"decision": "approve"})
    assert (again.status, again.error_code) == (409, "invalid_status_transition")
    mine = api.get("/me/events", user="host").json
    assert [e["event_id"] for e in mine["hosted"]] == [proposed["event_id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", 0),
        ("capacity", 10_001),
        ("fee_fen", 15),
        ("fee_fen", -10),
        ("ends_at", STARTS),
        ("starts_at", "2026-12-20T11:00:00"),
        ("cancel_until", "2026-12-21T00:00:00Z"),
        ("title", ""),
        ("min_tier", "vip"),
        ("ends_at", "2027-01-20T11:00:00Z"),
    ],
)
def test_a_bad_event_is_400_and_nothing_is_created(api, field, value):
    r = api.merch("POST", "/admin/events", event_body(**{field: value}))
    assert (r.status, r.error_code) == (400, "invalid_request"), r.json
    assert api.merch("GET", "/admin/events?status=published").json["items"] == []


def test_an_event_in_the_past_cannot_be_created(api):
    r = api.merch("POST", "/admin/events", event_body(starts_at="2026-11-30T11:00:00Z", ends_at="2026-11-30T12:00:00Z"))
    assert (r.status, r.error_code) == (409, "not_available")


def test_a_free_registration_is_confirmed_with_a_ticket_and_one_per_user(api, services):
    event = official(api)
    r = register(api, "fan", event["event_id"], attendees=2)
    assert r.status == 201, r.json
    reg = r.json
    assert (reg["status"], reg["attendees"], reg["cash_due_fen"], reg["points_applied"]) == ("confirmed", 2, 0, 0)
    assert reg["ticket_code"].startswith(reg["registration_id"] + ".")
    assert register(api, "fan", event["event_id"], attendees=2).json == reg, "the same Idempotency-Key replays it"
    assert register(api, "fan", event["event_id"]).error_code == "idempotency_key_reused"
    again = register(api, "fan", event["event_id"], key="another-key-1")
    assert (again.status, again.error_code) == (409, "already_registered")
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 3
    order = api.get(f"/orders/{reg['order_id']}", user="fan").json
    assert (order["status"], order["subtotal_fen"], order["lines"][0]["qty"]) == ("paid", 0, 2)
    assert order["shipping_address"] is None and order["lines"][0]["partner_id"] is None
    assert api.get(f"/registrations/{reg['registration_id']}", user="other").status == 404
    assert [x["registration_id"] for x in api.get("/me/events", user="fan").json["registrations"]] == [
        reg["registration_id"]
    ]


def test_a_fee_is_paid_with_points_or_cash_through_checkout(api, services):
    event = official(api, fee_fen=8800, capacity=10)
    give_points(services, "fan", 880)
    paid = register(api, "fan", event["event_id"], points=880).json
    assert (paid["status"], paid["points_applied"]) == ("confirmed", 880)
    assert balance(api, "fan") == {"available": 0, "held": 0}
    pending = register(api, "cash", event["event_id"]).json
    assert (pending["status"], pending["cash_due_fen"], pending["ticket_code"]) == ("pending_payment", 8800, None)
    api.post(f"/dev/payments/{pending['payment']['payment_intent_id']}/succeed")
    confirmed = api.get(f"/registrations/{pending['registration_id']}", user="cash").json
    assert confirmed["status"] == "confirmed" and confirmed["ticket_code"]
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 8


def test_registration_rules_refuse_with_the_contracts_4xx_and_write_nothing(api, services, pinned):
    event = official(api, min_tier="deposit", fee_fen=1000)
    cases = [
        (register(api, "fan", event["event_id"]), 403, "tier_too_low"),
        (register(api, "fan", event["event_id"], key="key-attendees-0", attendees=0), 400, "invalid_request"),
        (register(api, "fan", event["event_id"], key="key-attendees-5", attendees=5), 400, "invalid_request"),
        (register(api, "fan", "e-nope", key="key-unknown-1"), 404, "not_found"),
        (api.post(f"/events/{event['event_id']}/registrations", {}, user="fan"), 400, "invalid_request"),
    ]
    for reply, status, code in cases:
        assert (reply.status, reply.error_code) == (status, code), reply.json
    assert api.get("/me/orders", user="fan").json["items"] == []
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 5
    pinned.set("2026-12-20T11:00:00Z")
    make_owner(services, "late")
    assert register(api, "late", event["event_id"]).error_code == "not_available", "closed once it starts"


def test_tickets_are_sold_only_through_a_registration(api):
    event = official(api)
    r = place(api, "fan", order_body((f"TICKET-{event['event_id']}", 1), address=False))
    assert (r.status, r.error_code) == (404, "not_found"), "no way round one registration per user"


def test_a_cancelled_registration_frees_its_places_refunds_and_may_register_again(api, services, pinned):
    event = official(api, fee_fen=2000)
    give_points(services, "fan", 400)
    reg = register(api, "fan", event["event_id"], attendees=2, points=400).json
    cancelled = api.post(f"/registrations/{reg['registration_id']}/cancel", user="fan").json
    assert (cancelled["status"], cancelled["ticket_code"]) == ("cancelled", None)
    assert balance(api, "fan") == {"available": 400, "held": 0}
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 5
    again = register(api, "fan", event["event_id"], key="second-try-1", points=200)
    assert again.status == 201 and again.json["status"] == "confirmed"
    pinned.set("2026-12-19T11:00:01Z")  # past cancel_until (a day before the start)
    late = api.post(f"/registrations/{again.json['registration_id']}/cancel", user="fan")
    assert (late.status, late.error_code) == (409, "not_cancellable")
    assert late.json["error"]["details"] == {"cancel_until": "2026-12-19T11:00:00.000Z"}
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_an_unpaid_registration_expires_and_frees_its_places(api, services, pinned):
    event = official(api, fee_fen=8800, capacity=1)
    pending = register(api, "slow", event["event_id"]).json
    assert register(api, "fast", event["event_id"]).error_code == "event_full"
    pinned.set("2026-12-01T02:15:01Z")
    assert workers.expire_orders() == 1
    assert api.get(f"/registrations/{pending['registration_id']}", user="slow").json["status"] == "expired"
    assert register(api, "fast", event["event_id"], key="fast-second").status == 201
    assert register(api, "slow", event["event_id"], key="slow-second").error_code == "event_full"


def test_the_host_checks_a_ticket_in_once_at_the_door(api, services, pinned):
    make_owner(services, "host")
    event = api.post("/events", event_body(), user="host").json
    api.merch("POST", f"/admin/events/{event['event_id']}/decision", {"decision": "approve"})
    other = official(api)
    reg = register(api, "fan", event["event_id"]).json
    other_reg = register(api, "fan", other["event_id"]).json
    door = f"/events/{event['event_id']}/checkins"
    early = api.post(door, {"ticket_code": reg["ticket_code"]}, user="host")
    assert (early.status, early.error_code) == (409, "not_available")
    pinned.set("2026-12-20T09:00:00Z")  # two hours before
    assert api.post(door, {"ticket_code": reg["ticket_code"]}, user="fan").status == 403, "not the host"
    for code in (other_reg["ticket_code"], reg["registration_id"] + ".0000000000", "r-123.abc-def-ghi"):
        r = api.post(door, {"ticket_code": code}, user="host")
        assert (r.status, r.error_code) == (404, "not_found"), code
    r = api.post(door, {"ticket_code": reg["ticket_code"]}, user="host")
    assert r.status == 200 and r.json["checked_in_at"] == "2026-12-20T09:00:00.000Z"
    assert api.get("/me", user="fan").json["contribution"] == 5, "attending earns contribution"
    twice = api.merch("POST", door, {"ticket_code": reg["ticket_code"]})
    assert (twice.status, twice.error_code) == (409, "already_checked_in")
    pinned.set("2026-12-20T14:00:01Z")
    late = api.merch("POST", f"/events/{other['event_id']}/checkins", {"ticket_code": other_reg["ticket_code"]})
    assert (late.status, late.error_code) == (409, "not_available")


def hosted(api, services, host="host", **over) -> dict:
    make_owner(services, host)
    event = api.post("/events", event_body(**over), user=host).json
    assert api.merch("POST", f"/admin/events/{event['event_id']}/decision", {"decision": "approve"}).status == 200
    return event


def test_a_cancelled_event_refunds_every_registration_and_takes_no_more(api, services):
    event = hosted(api, services, fee_fen=5000)
    give_points(services, "paid-fan", 500)
    paid = register(api, "paid-fan", event["event_id"], points=500).json
    waiting = register(api, "cash-fan", event["event_id"]).json
    assert (paid["status"], waiting["status"]) == ("confirmed", "pending_payment")
    assert api.post(f"/events/{event['event_id']}/cancel", {"reason": "rain"}, user="fan").status == 403
    r = api.post(f"/events/{event['event_id']}/cancel", {"reason": "typhoon warning"}, user="host")
    assert r.status == 200 and r.json["status"] == "cancelled" and r.json["note"] == "typhoon warning"
    assert api.get(f"/registrations/{paid['registration_id']}", user="paid-fan").json["status"] == "refunded"
    assert api.get(f"/registrations/{waiting['registration_id']}", user="cash-fan").json["status"] == "cancelled"
    assert balance(api, "paid-fan") == {"available": 500, "held": 0}
    assert register(api, "late-fan", event["event_id"]).error_code == "not_available"
    assert api.get(f"/events/{event['event_id']}").json["status"] == "cancelled", "still shown, as cancelled"
    again = api.merch("POST", f"/events/{event['event_id']}/cancel", {"reason": "twice"})
    assert (again.status, again.error_code) == (409, "invalid_status_transition")
    assert workers.settle_events() == 0, "nothing left to refund, no reward for a cancelled event"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_the_host_earns_75_percent_of_the_net_income_once_after_the_event(api, services, pinned, monkeypatch):
    monkeypatch.setattr(services.settings, "event_host_min_attendees", 2)  # for the contribution (default 3)
    event = hosted(api, services, fee_fen=5000, capacity=10)
    give_points(services, "a", 1000)
    group = register(api, "a", event["event_id"], attendees=2, points=1000).json  # 100.00 yuan in points
    cash = register(api, "b", event["event_id"]).json  # 50.00 yuan in cash
    api.post(f"/dev/payments/{cash['payment']['payment_intent_id']}/succeed")
    give_points(services, "c", 500)
    refunded = register(api, "c", event["event_id"], points=500).json
    api.post(f"/registrations/{refunded['registration_id']}/cancel", user="c")  # refunded: not income
    register(api, "d", event["event_id"])  # never paid: not income
    assert workers.settle_events() == 0, "not before the event has ended"
    pinned.set("2026-12-20T10:00:00Z")
    for reg, user in ((group, "a"), (cash, "b")):
        code = api.get(f"/registrations/{reg['registration_id']}", user=user).json["ticket_code"]
        assert api.post(f"/events/{event['event_id']}/checkins", {"ticket_code": code}, user="host").status == 200
    pinned.set("2026-12-20T14:00:01Z")
    assert workers.settle_events() == 1 and workers.settle_events() == 0, "once"
    ledger = api.get("/me/points/ledger", user="host").json["items"]
    assert [(e["kind"], e["delta"]) for e in ledger] == [("event_reward", 1125)]  # floor(15000 fen / 10 × 0.75)
    shown = api.merch("GET", f"/admin/events/{event['event_id']}").json
    assert (shown["reward_status"], shown["reward_points"]) == ("credited", 1125)
    assert api.get("/me", user="host").json["contribution"] == 100, "hosting an event two attended: once"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_host_reward_the_budget_cannot_pay_waits_visibly_and_is_never_over_issued(api, services, pinned, monkeypatch):
    monkeypatch.setattr(services.settings, "event_reward_budget_points", 100)
    event = hosted(api, services, fee_fen=5000)
    give_points(services, "a", 500)
    register(api, "a", event["event_id"], points=500)
    pinned.set("2026-12-20T14:00:01Z")
    assert workers.settle_events() == 0
    shown = api.merch("GET", f"/admin/events/{event['event_id']}").json
    assert (shown["reward_status"], shown["reward_points"]) == ("budget_exhausted", 375)
    assert api.get("/me/points/ledger", user="host").json["items"] == []
    assert api.merch("GET", "/admin/campaigns/event-rewards").json["issued_points"] == 0


def test_a_full_event_queues_and_offers_a_freed_place_to_the_first_in_line(api, services, pinned):
    event = official(api, capacity=2, fee_fen=1000)
    first = register(api, "a", event["event_id"], attendees=2).json
    queued = [register(api, user, event["event_id"], waitlist=True).json for user in ("q1", "q2")]
    assert [(q["status"], q["order_id"], q["ticket_code"]) for q in queued] == [("waitlisted", None, None)] * 2
    assert register(api, "q1", event["event_id"], waitlist=True).json == queued[0], "a retry keeps its place"
    assert register(api, "q1", event["event_id"], key="other-key-q1", waitlist=True).error_code == "already_registered"
    assert register(api, "full", event["event_id"]).error_code == "event_full", "without waitlist: 409"
    api.post(f"/registrations/{first['registration_id']}/cancel", user="a")
    offered = api.get(f"/registrations/{queued[0]['registration_id']}", user="q1").json
    assert (offered["status"], offered["offer_expires_at"]) == ("offered", "2026-12-02T02:00:00.000Z")
    assert api.get(f"/registrations/{queued[1]['registration_id']}", user="q2").json["status"] == "offered", (
        "two places freed: both in line are offered one"
    )
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 0, "offered places are held"
    assert register(api, "sneaky", event["event_id"]).error_code == "event_full"
    give_points(services, "q1", 100)
    taken = api.post(
        f"/registrations/{queued[0]['registration_id']}/accept",
        {"points": 100},
        user="q1",
        headers={"Idempotency-Key": "accept-q1-1"},
    )
    assert taken.status == 200 and taken.json["status"] == "confirmed" and taken.json["ticket_code"]
    assert balance(api, "q1") == {"available": 0, "held": 0}
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 0
    pinned.set("2026-12-02T02:00:01Z")  # q2 let the offer lapse
    workers.settle_events()
    assert api.get(f"/registrations/{queued[1]['registration_id']}", user="q2").json["status"] == "lapsed"
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 1
    late = api.post(
        f"/registrations/{queued[1]['registration_id']}/accept",
        {},
        user="q2",
        headers={"Idempotency-Key": "accept-q2-1"},
    )
    assert (late.status, late.error_code) == (409, "not_available")
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_the_queue_skips_a_group_the_freed_places_cannot_seat_and_one_can_leave_it(api, services):
    event = official(api, capacity=2)
    mine = [register(api, u, event["event_id"]).json for u in ("a", "b")]
    group = register(api, "group", event["event_id"], attendees=2, waitlist=True).json
    single = register(api, "single", event["event_id"], waitlist=True).json
    api.post(f"/registrations/{mine[0]['registration_id']}/cancel", user="a")
    assert api.get(f"/registrations/{group['registration_id']}", user="group").json["status"] == "waitlisted"
    assert api.get(f"/registrations/{single['registration_id']}", user="single").json["status"] == "offered"
    left = api.post(f"/registrations/{group['registration_id']}/cancel", user="group").json
    assert left["status"] == "withdrawn"
    assert register(api, "group", event["event_id"], key="group-again", attendees=2, waitlist=True).status == 201
    declined = api.post(f"/registrations/{single['registration_id']}/cancel", user="single").json
    assert declined["status"] == "withdrawn"
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 1, "its place went back"


def test_a_merchandiser_refund_of_a_registration_frees_its_places_and_lets_its_user_register_again(api, services):
    event = official(api, fee_fen=1000, capacity=1)
    give_points(services, "fan", 100)
    reg = register(api, "fan", event["event_id"], points=100).json
    r = api.merch("POST", f"/admin/orders/{reg['order_id']}/refund", {"reason": "duplicate booking"})
    assert r.status == 200 and r.json["status"] == "refunded"
    assert api.get(f"/registrations/{reg['registration_id']}", user="fan").json["status"] == "refunded"
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 1
    assert register(api, "fan", event["event_id"], key="fan-after-refund", points=100).status == 201
    assert reconcile(services.dynamodb, services.table)[1] == []


@pytest.fixture
def sharded(services, monkeypatch):
    """Events of 10 places or more spread them over 4 shards (in production: 16, from 200 places)."""
    monkeypatch.setattr(services.settings, "ticket_shards", 4)
    monkeypatch.setattr(services.settings, "ticket_shard_min_capacity", 10)


def shard_stock(services, event_id) -> list[int]:
    return [services.table.get(shard_key(f"TICKET-{event_id}", i))["stock"] for i in range(4)]


def test_a_big_events_places_live_on_shards_and_add_up_exactly(api, services, sharded):
    event = official(api, capacity=10)
    assert shard_stock(services, event["event_id"]) == [3, 3, 2, 2]
    regs = [register(api, f"u{i}", event["event_id"], attendees=2).json for i in range(4)]
    assert {r["status"] for r in regs} == {"confirmed"}
    assert (
        api.get(f"/events/{event['event_id']}").json["places_left"]
        == 2
        == sum(shard_stock(services, event["event_id"]))
    )
    group = register(api, "group", event["event_id"], attendees=2)  # the last 2 places, wherever they are
    assert group.status == 201, group.json
    assert register(api, "late", event["event_id"]).error_code == "event_full"
    before = shard_stock(services, event["event_id"])
    api.post(f"/registrations/{regs[0]['registration_id']}/cancel", user="u0")
    assert sum(shard_stock(services, event["event_id"])) == sum(before) + 2, "given back to its shards"
    assert min(shard_stock(services, event["event_id"])) >= 0
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_big_events_waitlist_offers_places_from_its_shards(api, services, sharded, pinned):
    event = official(api, capacity=10)
    regs = [register(api, f"u{i}", event["event_id"], attendees=2).json for i in range(5)]
    queued = register(api, "q", event["event_id"], attendees=3, waitlist=True).json
    assert queued["status"] == "waitlisted"
    for i in (0, 1):
        api.post(f"/registrations/{regs[i]['registration_id']}/cancel", user=f"u{i}")
    offered = api.get(f"/registrations/{queued['registration_id']}", user="q").json
    assert offered["status"] == "offered" and api.get(f"/events/{event['event_id']}").json["places_left"] == 1
    taken = api.post(
        f"/registrations/{queued['registration_id']}/accept",
        {},
        user="q",
        headers={"Idempotency-Key": "accept-sharded"},
    )
    assert taken.json["status"] == "confirmed"
    api.post(f"/registrations/{queued['registration_id']}/cancel", user="q")
    assert (
        api.get(f"/events/{event['event_id']}").json["places_left"]
        == 4
        == sum(shard_stock(services, event["event_id"]))
    )


# -- What an attacker (or an unlucky race) tried against community events, each asserting what users should see:
# no free refunds after the cancel deadline or after the door, no blocked events, no 500s, no leaked payments.
# (This file's autouse `pinned` fixture pins the clock to NOW for these tests too.) --
def test_a_ticket_order_cannot_be_cancelled_through_orders_after_cancel_until(api, services, pinned):
    event = official(api, fee_fen=2000)
    give_points(services, "fan", 200)
    reg = register(api, "fan", event["event_id"], points=200).json
    pinned.set("2026-12-20T15:00:00Z")  # the event is over (cancel_until was a day before it)
    r = api.post(f"/registrations/{reg['registration_id']}/cancel", user="fan")
    assert (r.status, r.error_code) == (409, "not_cancellable")
    r = api.post(f"/orders/{reg['order_id']}/cancel", user="fan")
    assert r.status == 409, (r.status, r.json.get("status"), balance(api, "fan"))


def test_host_self_dealing_mints_points_via_order_cancel_after_settlement(api, services, pinned):
    event = hosted(api, services, fee_fen=5000, capacity=10)
    give_points(services, "alt", 2000)
    reg = register(api, "alt", event["event_id"], attendees=4, points=2000).json
    assert reg["status"] == "confirmed"
    pinned.set("2026-12-20T14:00:01Z")
    assert workers.settle_events() == 1
    host_pts = balance(api, "host")["available"]
    r = api.post(f"/orders/{reg['order_id']}/cancel", user="alt")
    total = host_pts + balance(api, "alt")["available"]
    assert total <= 2000, (r.status, "host", host_pts, "alt", balance(api, "alt"))


def test_a_group_larger_than_the_places_left_cannot_queue_and_block_newcomers(api, services):
    event = official(api, capacity=5)
    register(api, "a", event["event_id"], attendees=2)
    assert api.get(f"/events/{event['event_id']}").json["places_left"] == 3
    squatter = register(api, "squatter", event["event_id"], attendees=4, waitlist=True)
    assert (squatter.status, squatter.error_code, squatter.json["error"]["details"]["places_left"]) == (
        409,
        "event_full",
        3,
    ), "with places left, no queue: ask for as many"
    r = register(api, "newcomer", event["event_id"])
    assert r.status == 201, (r.status, r.error_code)


def test_settlement_survives_waitlist_entries_without_orders(api, services, pinned):
    event = hosted(api, services, fee_fen=1000, capacity=1)
    give_points(services, "a", 100)
    assert register(api, "a", event["event_id"], points=100).json["status"] == "confirmed"
    for u in ("q1", "q2"):
        assert register(api, u, event["event_id"], waitlist=True).json["status"] == "waitlisted"
    pinned.set("2026-12-20T14:00:01Z")
    assert workers.settle_events() == 1
    shown = api.merch("GET", f"/admin/events/{event['event_id']}").json
    assert (shown["reward_status"], shown["reward_points"]) == ("credited", 75)


def test_a_ticket_checked_in_at_the_door_is_then_refunded_through_orders(api, services, pinned):
    event = official(api, fee_fen=5000)
    give_points(services, "fan", 500)
    reg = register(api, "fan", event["event_id"], points=500).json
    pinned.set("2026-12-20T12:00:00Z")
    assert api.merch("POST", f"/events/{event['event_id']}/checkins", {"ticket_code": reg["ticket_code"]}).status == 200
    r = api.post(f"/orders/{reg['order_id']}/cancel", user="fan")
    assert r.status == 409, (r.status, balance(api, "fan"))


def test_withdrawing_an_offer_that_lapsed_meanwhile_is_a_4xx_not_500(api, services, pinned, monkeypatch):
    event = official(api, capacity=1)
    first = register(api, "a", event["event_id"]).json
    q = register(api, "q", event["event_id"], waitlist=True).json
    api.post(f"/registrations/{first['registration_id']}/cancel", user="a")
    assert api.get(f"/registrations/{q['registration_id']}", user="q").json["status"] == "offered"
    from chalicelib.domain.community import move

    repo = services.event_repo  # the one every community service reads through
    original = repo.registration

    def stale(reg_id):  # the lapse sweep runs between the cancel's read and its write
        item = original(reg_id)
        if item and item.status == "offered":
            repo.end_offer(move(item, "lapsed"))
        return item

    monkeypatch.setattr(repo, "registration", stale)
    r = api.post(f"/registrations/{q['registration_id']}/cancel", user="q")
    assert r.status < 500, r.json


def test_an_official_draft_can_be_published(api):
    draft = official(api, status="draft")
    r = api.merch("POST", f"/admin/events/{draft['event_id']}/decision", {"decision": "approve"})
    assert r.status == 200, r.json


def test_the_event_shows_how_many_wait_as_the_contract_says(api):
    event = official(api, capacity=1)
    register(api, "a", event["event_id"])
    register(api, "q", event["event_id"], waitlist=True)
    shown = api.get(f"/events/{event['event_id']}").json
    assert shown.get("waitlisted") == 1, sorted(shown)


def test_checkin_answer_to_the_host_carries_no_payment_secret(api, services, pinned):
    event = hosted(api, services, fee_fen=5000)
    reg = register(api, "fan", event["event_id"]).json
    api.post(f"/dev/payments/{reg['payment']['payment_intent_id']}/succeed")
    code = api.get(f"/registrations/{reg['registration_id']}", user="fan").json["ticket_code"]
    pinned.set("2026-12-20T10:00:00Z")
    r = api.post(f"/events/{event['event_id']}/checkins", {"ticket_code": code}, user="host")
    assert r.status == 200
    assert not (r.json.get("payment") or {}).get("client_secret"), r.json["payment"]


def test_a_waitlist_entry_made_while_the_event_is_cancelled_is_withdrawn(api, services, monkeypatch):
    from chalicelib.domain.errors import InsufficientStock

    event = official(api, capacity=1)
    register(api, "a", event["event_id"])
    checkout = services.checkout  # the one registering places its orders through
    original = checkout.place

    def racing(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except InsufficientStock:  # the event is cancelled between the full answer and the queueing
            assert api.merch("POST", f"/events/{event['event_id']}/cancel", {"reason": "storm"}).status == 200
            raise

    monkeypatch.setattr(checkout, "place", racing)
    q = register(api, "q", event["event_id"], waitlist=True)
    workers.settle_events()
    shown = api.get(f"/registrations/{q.json['registration_id']}", user="q").json if q.status == 201 else q.json
    assert q.status >= 400 or shown["status"] == "withdrawn", (q.status, shown)


@pytest.mark.parametrize(("capacity", "delta"), [(100, 5), (100, -5), (200, 5)])
def test_the_stock_route_refuses_an_events_ticket(api, capacity, delta):
    """An event's places change through the event, never through the SKU stock route: no 101 places left of 100
    and `registered: -1` (a sharded ticket of a 200-place event no more than a plain one)."""
    event = official(api, capacity=capacity)
    sku = f"TICKET-{event['event_id']}"
    r = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": delta, "reason": "more chairs"})
    assert (r.status, r.error_code) == (400, "invalid_request"), r.json
    assert "sku" in r.json["error"]["details"]["fields"]
    shown = api.get(f"/events/{event['event_id']}").json
    assert (shown["places_left"], shown["registered"]) == (capacity, 0)


def test_an_event_nobody_attended_earns_its_host_no_contribution(api, services, pinned):
    """Contribution farming: a host proposing empty events earned +100 for each once it ended. The host now needs
    LIFESHOP_EVENT_HOST_MIN_ATTENDEES (3) people other than themself checked in at the door."""
    hosted(api, services)  # nobody registers
    few = hosted(api, services)
    enough = hosted(api, services)
    tickets = {
        event["event_id"]: [register(api, user, event["event_id"]).json["ticket_code"] for user in users]
        for event, users in ((few, ("host", "a", "b")), (enough, ("a", "b", "c")))
    }
    refunded = register(api, "d", few["event_id"]).json  # checked in, then refunded: not an attendee
    pinned.set("2026-12-20T10:00:00Z")
    for event_id, codes in tickets.items():
        for code in codes:
            assert api.post(f"/events/{event_id}/checkins", {"ticket_code": code}, user="host").status == 200
    door = f"/events/{few['event_id']}/checkins"
    assert api.post(door, {"ticket_code": refunded["ticket_code"]}, user="host").status == 200
    assert api.merch("POST", f"/admin/orders/{refunded['order_id']}/refund", {"reason": "x"}).status == 200
    host_before = api.get("/me", user="host").json["contribution"]  # +5 for attending their own event
    pinned.set("2026-12-20T14:00:01Z")
    assert workers.settle_events() == 3
    earned = [
        (e["ref"], e["amount"])
        for e in api.get("/me/contribution/ledger", user="host").json["items"]
        if e["kind"] == "event_hosted"
    ]
    assert earned == [(f"event:{enough['event_id']}", 100)], "only the event three others attended"
    assert api.get("/me", user="host").json["contribution"] == host_before + 100
    assert workers.settle_events() == 0
