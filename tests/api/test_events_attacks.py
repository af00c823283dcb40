"""What an attacker (or an unlucky race) tried against community events, each asserting what users should see:
no free refunds after the cancel deadline or after the door, no blocked events, no 500s, no leaked payments."""

from __future__ import annotations

import pytest

from chalicelib import workers
from tests.api.shop import balance, give_points
from tests.api.test_events import ENDS, NOW, STARTS, event_body, hosted, official, register  # noqa: F401


@pytest.fixture(autouse=True)
def pinned(clock):
    clock.set(NOW)
    return clock


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
    repo = services.events._repo
    original = repo.registration

    def stale(reg_id):  # the lapse sweep runs between the cancel's read and its write
        item = original(reg_id)
        if item and item.get("status") == "offered":
            repo.end_offer(item, "lapsed")
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
    checkout = services.events._checkout
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
