"""Community events without a server: every row of the registration moves table, reviews and cancels, tickets,
what the API shows, and the host's reward."""

from __future__ import annotations

from typing import Optional

import pytest

from chalicelib.domain.catalog import Accepts
from chalicelib.domain.community import (
    MOVES,
    EventDecision,
    EventRecord,
    Places,
    RegistrationRecord,
    call_off,
    can_move,
    cancel_target,
    event_view,
    host_reward_points,
    making,
    move,
    registration_view,
    review,
    ticket_code,
    ticket_matches,
    tier_allows,
)
from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.orders import Order, OrderLine, Payment
from chalicelib.domain.transitions import CANCELLABLE, TRANSITIONS

AT = "2026-12-01T08:00:00.000Z"
LAPSES = "2026-12-02T08:00:00.000Z"
KEY = b"k" * 32


def entry(status: str, **changes: object) -> RegistrationRecord:
    """A group of two: an order's registration ("ordered", order o-1), or a place in the queue."""
    fields: dict[str, object] = {
        "registration_id": "w-1",
        "event_id": "e-1",
        "user_id": "fan",
        "order_id": "o-1" if status == "ordered" else None,
        "attendees": 2,
        "status": status,
        "created_at": AT,
    }
    return RegistrationRecord.model_validate({**fields, **changes})


def event(status: str = "published", **changes: object) -> EventRecord:
    fields: dict[str, object] = {
        "event_id": "e-1",
        "host_id": "host",
        "official": False,
        "status": status,
        "title": "Meet-up",
        "title_zh": "聚会",
        "description": "x",
        "city": "Shanghai",
        "venue": "Hall 1",
        "starts_at": "2026-12-20T11:00:00.000Z",
        "ends_at": "2026-12-20T14:00:00.000Z",
        "cancel_until": "2026-12-19T11:00:00.000Z",
        "capacity": 10,
        "min_tier": "fan",
        "fee_fen": 5000,
        "accepts": Accepts(),
        "created_at": AT,
        "updated_at": AT,
        "version": 3,
    }
    return EventRecord.model_validate({**fields, **changes})


def ticket_order(status: str, points: int = 500, cash_fen: int = 0) -> Order:
    line = OrderLine(
        sku="TICKET-e-1",
        product_id="e-1",
        title="Meet-up",
        category="event",
        qty=2,
        unit_price_fen=5000,
        line_total_fen=10000,
    )
    payment = Payment(provider="local", payment_intent_id="pi_1", client_secret="s", status="pending")
    return Order(
        order_id="o-1",
        user_id="fan",
        status=status,
        lines=[line],
        subtotal_fen=10000,
        points_applied=points,
        cash_due_fen=cash_fen,
        payment=payment if cash_fen else None,
        created_at=AT,
        updated_at=AT,
        version=1,
    )


# (from, to) -> (queued, places, releases the marker, offers the next in line, {order status: order's move},
# the attendee's own cancel: only until cancel_until and never after check-in)
ROWS: dict[tuple[Optional[str], str], tuple[int, Optional[str], bool, bool, dict[str, str], bool]] = {
    (None, "ordered"): (0, "to_order", False, False, {}, False),
    (None, "waiting"): (1, None, False, False, {}, False),
    ("waiting", "offered"): (-1, "set_aside", False, False, {}, False),
    ("waiting", "withdrawn"): (-1, None, True, True, {}, False),
    ("offered", "lapsed"): (0, "give_back", True, True, {}, False),
    ("offered", "withdrawn"): (0, "give_back", True, True, {}, False),
    ("offered", "ordered"): (0, "to_order", False, False, {}, False),
    ("ordered", "cancelled"): (0, None, True, True, {"pending_payment": "cancelled", "paid": "cancelled"}, True),
    ("ordered", "refunded"): (0, None, True, False, {"pending_payment": "cancelled", "paid": "refunded"}, False),
}


def test_the_table_has_exactly_the_rows_walked_here():
    assert set(MOVES) == set(ROWS)


@pytest.mark.parametrize(("before", "target"), sorted(ROWS, key=str))
def test_each_row_moves_the_queue_the_places_the_marker_and_the_order(before, target):
    queued, places, releases, offers_next, order_moves, attendee_only = ROWS[(before, target)]
    if before is None:
        made = entry(target)
        t = making(made)
        assert t.before is None and t.after is made
    else:
        start = entry(before)
        t = move(start, target, order_id="o-2", offer_expires_at=LAPSES, order_status="paid")
        assert t.before is start and start.status == before, "the entry read is never changed in place"
    rule = t.rule
    assert (rule.queued, rule.places, rule.releases, rule.offers_next) == (queued, places, releases, offers_next)
    assert dict(rule.order_moves) == order_moves
    assert rule.until_cancel_until == rule.unless_checked_in == attendee_only
    if order_moves:
        assert t.after is t.before, "an order's registration shows its order's status: the order moves"
        assert t.order_move == order_moves["paid"]
    elif before is not None:
        assert t.after.status == target and t.order_move is None
        assert t.after.offer_expires_at == (LAPSES if places == "set_aside" else None)
        assert t.after.order_id == ("o-2" if places == "to_order" else None)


@pytest.mark.parametrize("target", ["cancelled", "refunded"])
def test_an_orders_registration_moves_by_rows_of_the_order_table_that_give_places_and_points_back(target):
    for order_status, order_target in MOVES[("ordered", target)].order_moves:
        rule = TRANSITIONS[(order_status, order_target)]
        assert rule.stock == "give_back", "the places go back, and RegistrationFollower releases the marker"
        assert rule.points in ("release_hold", "refund"), "what was held or spent comes back"


def test_the_attendees_cancel_is_an_order_cancel():
    assert {status for status, _ in MOVES[("ordered", "cancelled")].order_moves} == set(CANCELLABLE)


@pytest.mark.parametrize("order_status", ["cancelled", "expired", "payment_failed", "refunded", None])
def test_calling_off_an_event_leaves_an_order_that_is_past_it_alone(order_status):
    t = move(entry("ordered"), "refunded", order_status=order_status)
    assert t.order_move is None and t.after is t.before


def _paths(status: Optional[str] = None, walked: tuple = ()):
    """Every life of a registration through the table, from being made to where no row leads on."""
    rows = [row for row in MOVES if row[0] == status]
    if not rows:
        yield walked
    for row in rows:
        yield from _paths(row[1], (*walked, row))


@pytest.mark.parametrize("path", list(_paths()), ids=lambda p: "-".join(t for _, t in p))
def test_every_life_of_a_registration_counts_its_queue_place_and_its_places_once(path):
    assert sum(MOVES[row].queued for row in path) == 0, "the event's count of people waiting ends where it began"
    set_aside = 0
    for row in path:
        places = MOVES[row].places
        if places == "set_aside":
            set_aside += 1
        elif places == "give_back" or (places == "to_order" and set_aside):
            assert set_aside == 1, path
            set_aside -= 1
    assert set_aside == 0, "places an offer set aside go back to the ticket or to the order that took them up"
    assert sum(MOVES[row].releases for row in path) == 1, "the user may register again once it has ended"


@pytest.mark.parametrize(
    ("before", "target"),
    [
        ("lapsed", "withdrawn"),
        ("withdrawn", "withdrawn"),
        ("lapsed", "offered"),
        ("waiting", "lapsed"),
        ("waiting", "ordered"),
        ("offered", "offered"),
        ("offered", "cancelled"),
        ("ordered", "withdrawn"),
        ("ordered", "offered"),
    ],
)
def test_a_move_the_table_has_no_row_for_is_refused(before, target):
    assert not can_move(before, target)
    with pytest.raises(InvalidTransition) as refused:
        move(entry(before), target)
    assert refused.value.details == {"from": before, "to": target}


@pytest.mark.parametrize(
    ("status", "called_off", "target"),
    [
        ("waiting", False, "withdrawn"),
        ("offered", False, "withdrawn"),
        ("lapsed", False, "withdrawn"),
        ("ordered", False, "cancelled"),
        ("waiting", True, "withdrawn"),
        ("offered", True, "withdrawn"),
        ("ordered", True, "refunded"),
    ],
)
def test_a_cancel_takes_a_queue_entry_out_and_an_orders_registration_through_its_order(status, called_off, target):
    assert cancel_target(entry(status), called_off=called_off) == target


# -- reviews and cancels -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "decision", "after"), [("submitted", "approve", "published"), ("draft", "reject", "rejected")]
)
def test_a_submitted_or_draft_event_is_reviewed(start, decision, after):
    body = EventDecision(decision=decision, note="see you there")
    reviewed = review(event(start), body, "merch", LAPSES)
    assert (reviewed.status, reviewed.note, reviewed.reviewed_by, reviewed.updated_at) == (
        after,
        "see you there",
        "merch",
        LAPSES,
    )
    assert reviewed.version == 3, "the repository bumps the version when it saves"


@pytest.mark.parametrize("status", ["published", "rejected", "cancelled"])
def test_an_event_is_reviewed_once(status):
    with pytest.raises(InvalidTransition) as refused:
        review(event(status), EventDecision(decision="approve"), "merch", AT)
    assert refused.value.details == {"from": status, "to": "approve"}


def test_calling_an_event_off_keeps_why_and_who_and_leaves_its_refunds_to_do():
    cancelled = call_off(event(), "host", "storm", AT)
    assert (cancelled.status, cancelled.note, cancelled.cancelled_by, cancelled.refunds_done) == (
        "cancelled",
        "storm",
        "host",
        False,
    )


@pytest.mark.parametrize(
    ("start", "at", "message"),
    [
        ("cancelled", AT, "a cancelled event that has been cancelled cannot be cancelled"),
        ("published", "2026-12-20T14:00:00.000Z", "a published event that has ended cannot be cancelled"),
    ],
)
def test_an_event_is_called_off_once_and_only_before_it_ends(start, at, message):
    with pytest.raises(InvalidTransition) as refused:
        call_off(event(start), "host", "storm", at)
    assert str(refused.value) == message and refused.value.details == {"from": start, "to": "cancelled"}


# -- tickets, and what the API shows ---------------------------------------------------------------------------------
def test_a_ticket_code_names_its_registration_and_is_bound_to_its_event():
    code = ticket_code(KEY, "e-1", "r-1")
    assert code.startswith("r-1.") and ticket_matches(KEY, "e-1", code) == "r-1"
    assert ticket_matches(KEY, "e-2", code) is None, "another event's ticket"
    assert ticket_matches(b"x" * 32, "e-1", code) is None, "signed with another key"
    assert ticket_matches(KEY, "e-1", "r-2." + code.partition(".")[2]) is None, "another registration's signature"
    assert ticket_matches(KEY, "e-1", "") is None


def test_an_event_shows_its_places_taken_left_and_waiting_and_its_fee_in_points():
    shown = event_view(event(host_id=None, official=True), Places(left=4, waiting=2))
    assert (shown.capacity, shown.registered, shown.places_left, shown.waitlisted) == (10, 6, 4, 2)
    assert (shown.points_price, shown.host_id, shown.accepts) == (500, None, Accepts())


@pytest.mark.parametrize(
    ("status", "shown", "expires"), [("waiting", "waitlisted", None), ("offered", "offered", LAPSES)]
)
def test_a_queue_entry_shows_where_it_is_in_the_queue(status, shown, expires):
    view = registration_view(entry(status, offer_expires_at=LAPSES), None, KEY)
    assert (view.status, view.offer_expires_at, view.order_id, view.ticket_code) == (shown, expires, None, None)


def test_an_orders_registration_shows_its_ticket_code_only_once_paid():
    paid = registration_view(entry("ordered"), ticket_order("paid"), KEY)
    assert paid.status == "confirmed" and paid.ticket_code == ticket_code(KEY, "e-1", "w-1")
    assert (paid.order_id, paid.points_applied) == ("o-1", 500)
    pending = registration_view(entry("ordered"), ticket_order("pending_payment", cash_fen=5000), KEY)
    assert (pending.status, pending.ticket_code, pending.cash_due_fen) == ("pending_payment", None, 5000)
    refunded = registration_view(entry("ordered"), ticket_order("refunded"), KEY)
    assert (refunded.status, refunded.ticket_code) == ("refunded", None)


@pytest.mark.parametrize(
    ("net_fen", "share", "points"),
    [(15000, "0.75", 1125), (13, "0.75", 0), (1000, "1", 100), (0, "0.75", 0), (-500, "0.75", 0), (10, "0.5", 0)],
)
def test_the_hosts_reward_is_the_share_of_the_net_income_in_points_rounded_down(net_fen, share, points):
    assert host_reward_points(net_fen, share) == points


@pytest.mark.parametrize(
    ("tier", "min_tier", "allowed"),
    [("fan", "fan", True), ("fan", "deposit", False), ("owner", "deposit", True), ("unknown", "fan", True)],
)
def test_a_tier_threshold_lets_that_tier_and_those_above_register(tier, min_tier, allowed):
    assert tier_allows(tier, min_tier) is allowed
