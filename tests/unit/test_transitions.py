"""The order core without a server: every row of the transition table, and pricing from the store's SKUs."""

from __future__ import annotations

import pytest

from chalicelib.domain import checkout
from chalicelib.domain.checkout import LineRequest, SkuOffer
from chalicelib.domain.errors import (
    AlreadyShipped,
    InsufficientStock,
    InvalidRequest,
    InvalidTransition,
    NotAvailable,
    NotFound,
    OwnerOnly,
)
from chalicelib.domain.orders import Order, OrderLine, Payment, Shipment, ShipmentRequest
from chalicelib.domain.points import Entry
from chalicelib.domain.transitions import SHIPPING, TRANSITIONS, payment_verdict, placing, shipping, transition

AT = "2026-11-24T08:00:00.000Z"
DESIGNER_LINE = OrderLine(
    sku="UMB-1",
    product_id="p-umb",
    title="Umbrella",
    category="apparel",
    qty=2,
    unit_price_fen=19900,
    line_total_fen=39800,
    designer_id="d-1",
    design_id="des-1",
    partner_id="warehouse",
)
PLAIN_LINE = OrderLine(
    sku="MUG-1",
    product_id="p-mug",
    title="Mug",
    category="home",
    qty=1,
    unit_price_fen=5000,
    line_total_fen=5000,
    partner_id="warehouse",
)
FOOD_LINE = OrderLine(
    sku="TEA-1",
    product_id="p-tea",
    title="Tea",
    category="food",
    qty=3,
    unit_price_fen=1000,
    line_total_fen=3000,
    partner_id="fresh",
)
UMBRELLA_SHIPPED = Shipment(
    carrier="SF",
    tracking_number="SF0001",
    shipped_at="2026-11-24T07:30:00.000Z",
    partner_id="warehouse",
    skus=["UMB-1"],
)


def order(
    status: str,
    points: int = 1500,
    cash_fen: int = 29800,
    payment: str | None = "succeeded",
    lines: tuple[OrderLine, ...] = (DESIGNER_LINE, PLAIN_LINE),
) -> Order:
    """An order of `lines`; partially_shipped means the umbrella has left the warehouse."""
    pay = (
        Payment(provider="local", payment_intent_id="pi_local_o-1", client_secret="s", status=payment)
        if payment
        else None
    )
    return Order(
        order_id="o-1",
        user_id="buyer",
        status=status,
        lines=list(lines),
        shipments=[UMBRELLA_SHIPPED] if status == "partially_shipped" else [],
        subtotal_fen=44800,
        points_applied=points,
        cash_due_fen=cash_fen,
        payment=pay,
        created_at="2026-11-24T07:00:00.000Z",
        updated_at="2026-11-24T07:00:00.000Z",
        expires_at="2026-11-24T07:15:00.000Z" if status == "pending_payment" else None,
        version=3,
    )


# (from, to) -> (ledger entry for 1,500 points or None, stock, event type, royalties, payment status after)
ROWS = {
    ("pending_payment", "paid"): (Entry(0, "spend", "order:o-1", -1500), None, "order.paid", "owe", "succeeded"),
    ("pending_payment", "expired"): (Entry(1500, "release", "order:o-1", -1500), "give_back", None, None, "pending"),
    ("pending_payment", "cancelled"): (Entry(1500, "release", "order:o-1", -1500), "give_back", None, None, "pending"),
    ("pending_payment", "payment_failed"): (
        Entry(1500, "release", "order:o-1", -1500),
        "give_back",
        None,
        None,
        "pending",
    ),
    ("paid", "shipped"): (None, None, "order.shipped", "schedule", "succeeded"),
    ("paid", "partially_shipped"): (None, None, "order.shipped", None, "succeeded"),
    ("partially_shipped", "partially_shipped"): (None, None, "order.shipped", None, "succeeded"),
    ("partially_shipped", "shipped"): (None, None, "order.shipped", "schedule", "succeeded"),
    ("partially_shipped", "refunded"): (
        Entry(1500, "refund", "order:o-1"),
        "give_back",
        "order.refunded",
        "drop",
        "refund_pending",
    ),
    ("paid", "cancelled"): (
        Entry(1500, "refund", "order:o-1"),
        "give_back",
        "order.cancelled",
        "drop",
        "refund_pending",
    ),
    ("paid", "refunded"): (Entry(1500, "refund", "order:o-1"), "give_back", "order.refunded", "drop", "refund_pending"),
    ("shipped", "refunded"): (Entry(1500, "refund", "order:o-1"), None, "order.refunded", "drop", "refund_pending"),
}


def test_the_table_has_exactly_the_rows_walked_here():
    assert {k for k in TRANSITIONS if k[0] is not None} == set(ROWS)


def move(start: Order, target: str):
    """The row's move: a partner's parcel for the shipping rows (the warehouse ships the umbrella first, then the
    mug, and the fresh-food partner its tea), a plain transition for the others."""
    if target not in SHIPPING:
        return transition(start, target, AT)
    if target == "partially_shipped" and start.status == "partially_shipped":
        start = start.model_copy(update={"lines": [*start.lines, FOOD_LINE]})
    skus = ["UMB-1"] if start.status == "paid" and target == "partially_shipped" else None
    return shipping(start, "warehouse", ShipmentRequest(carrier="SF", tracking_number="SF1234", skus=skus), AT)


@pytest.mark.parametrize(("before", "target"), sorted(ROWS))
def test_each_row_moves_points_stock_events_royalties_and_cash(before, target):
    entry, stock, event, royalties, payment_after = ROWS[(before, target)]
    start = order(before, payment="pending" if before == "pending_payment" else "succeeded")
    t = move(start, target)
    assert t.after.status == target and t.after.updated_at == AT
    assert t.after.version == 3, "the repository bumps the version when it saves"
    assert t.ledger == ((entry,) if entry else ())
    unshipped = tuple(line for line in start.lines if line.sku not in start.shipped_skus)
    assert t.rule.stock == stock and t.stock == (unshipped if stock else ()), "shipped goods stay with the buyer"
    assert [e.type for e in t.events] == ([event] if event else []), "one partner ships every line here"
    assert t.rule.royalties == royalties
    assert t.rule.pending == (-1 if before == "pending_payment" else 0), "an unpaid order stops counting"
    assert t.rule.cancels_payment == (before == "pending_payment" and target != "paid")
    assert t.after.payment is not None and t.after.payment.status == payment_after
    assert t.after.expires_at is None
    assert start.status == before, "the order read is never changed in place"


def test_each_partner_hears_of_its_own_lines_with_a_stable_event_id():
    t = transition(order("paid", lines=(DESIGNER_LINE, FOOD_LINE, PLAIN_LINE)), "refunded", AT)
    assert [(e.event_id, e.partner_id, [line.sku for line in e.order.lines]) for e in t.events] == [
        ("evt-o-1-refunded-warehouse", "warehouse", ["UMB-1", "MUG-1"]),
        ("evt-o-1-refunded-fresh", "fresh", ["TEA-1"]),
    ]
    assert {e.occurred_at for e in t.events} == {AT} and {e.order.status for e in t.events} == {"refunded"}
    assert "points_applied" not in t.events[0].model_dump(), "an order's money is not the partner's business"
    again = transition(order("paid", lines=(DESIGNER_LINE, FOOD_LINE, PLAIN_LINE)), "refunded", AT)
    assert again.events == t.events, "the same change gives the same events"


def test_a_mixed_order_is_partially_shipped_until_every_partner_has_shipped():
    start = order("paid", lines=(DESIGNER_LINE, FOOD_LINE, PLAIN_LINE))
    tea = shipping(start, "fresh", ShipmentRequest(carrier="JD", tracking_number="JD0001"), AT)
    assert tea.after.status == "partially_shipped" and tea.after.shipped_skus == {"TEA-1"}
    assert tea.after.shipment == Shipment(
        carrier="JD", tracking_number="JD0001", shipped_at=AT, partner_id="fresh", skus=["TEA-1"]
    )
    [told] = tea.events
    assert (told.event_id, told.partner_id, told.type) == ("evt-o-1-shipment-1", "fresh", "order.shipped")
    assert [line.sku for line in told.order.lines] == ["TEA-1"] and told.shipment == tea.after.shipment
    assert tea.rule.royalties is None, "royalties wait until every line has shipped"
    umbrella = shipping(
        tea.after, "warehouse", ShipmentRequest(carrier="SF", tracking_number="SF0002", skus=["UMB-1"]), AT
    )
    assert umbrella.after.status == "partially_shipped" and umbrella.events[0].event_id == "evt-o-1-shipment-2"
    assert [s.skus for s in umbrella.events[0].order.shipments] == [["UMB-1"]], "only its own parcels"
    rest = shipping(umbrella.after, "warehouse", ShipmentRequest(carrier="SF", tracking_number="SF0003"), AT)
    assert rest.after.status == "shipped" and rest.after.shipments[-1].skus == ["MUG-1"]
    assert rest.rule.royalties == "schedule"
    refund = transition(umbrella.after, "refunded", AT)
    assert [line.sku for line in refund.stock] == ["MUG-1"], "only what never left the warehouse goes back"


def test_a_partner_reporting_a_parcel_again_changes_nothing():
    shipped = shipping(order("paid"), "warehouse", ShipmentRequest(carrier="SF", tracking_number="SF1234"), AT).after
    for skus in (None, ["UMB-1"], ["MUG-1", "UMB-1"]):
        again = shipping(shipped, "warehouse", ShipmentRequest(carrier="SF", tracking_number="SF1234", skus=skus), AT)
        assert not again.changed and again.events == ()


@pytest.mark.parametrize(
    ("partner", "skus", "error", "details"),
    [
        ("hotels", None, NotFound, {"order_id": "o-1"}),  # another partner's order does not exist for it
        ("warehouse", ["TEA-1"], InvalidRequest, {"fields": {"skus": "not lines of yours: TEA-1"}}),
        ("warehouse", ["NOPE-1"], InvalidRequest, {"fields": {"skus": "not lines of yours: NOPE-1"}}),
        ("warehouse", ["UMB-1", "MUG-1"], AlreadyShipped, {"skus": ["UMB-1"]}),
    ],
)
def test_a_parcel_names_only_lines_of_that_partner_not_yet_shipped(partner, skus, error, details):
    start = order("partially_shipped", lines=(DESIGNER_LINE, FOOD_LINE, PLAIN_LINE))
    with pytest.raises(error) as refused:
        shipping(start, partner, ShipmentRequest(carrier="SF", tracking_number="SF1234", skus=skus), AT)
    assert refused.value.details == details


@pytest.mark.parametrize("status", ["pending_payment", "cancelled", "refunded", "expired"])
def test_only_a_paid_order_ships(status):
    with pytest.raises(InvalidTransition):
        shipping(order(status), "warehouse", ShipmentRequest(carrier="SF", tracking_number="SF1234"), AT)
    with pytest.raises(InvalidTransition):
        transition(order("paid"), "shipped", AT)  # never without the parcel


def test_an_order_stored_with_one_shipment_reads_as_a_list_of_one():
    stored = order("shipped").model_dump(exclude={"shipments", "shipment"})
    legacy = Order.model_validate({**stored, "shipment": {"carrier": "SF", "tracking_number": "SF1", "shipped_at": AT}})
    assert [s.tracking_number for s in legacy.shipments] == ["SF1"] and legacy.shipped_skus == {"UMB-1", "MUG-1"}


@pytest.mark.parametrize("status", ["pending_payment", "paid", "shipped", "expired", "cancelled", "refunded"])
def test_moving_to_the_status_it_has_changes_nothing(status):
    start = order(status)
    t = transition(start, status, AT)
    assert not t.changed and t.after is start and t.ledger == () and t.events == () and t.stock == ()


@pytest.mark.parametrize(
    ("before", "target"),
    [
        ("shipped", "cancelled"),
        ("expired", "paid"),
        ("cancelled", "paid"),
        ("refunded", "shipped"),
        ("paid", "pending_payment"),
        ("payment_failed", "paid"),
        ("pending_payment", "shipped"),
        ("pending_payment", "refunded"),
    ],
)
def test_a_move_the_table_has_no_row_for_is_refused(before, target):
    with pytest.raises(InvalidTransition) as refused:
        transition(order(before), target, AT)
    assert refused.value.details == {"from": before, "to": target}


def test_an_order_without_points_writes_no_ledger_entry():
    assert transition(order("paid", points=0, cash_fen=44800), "cancelled", AT).ledger == ()


def test_a_cash_refund_is_asked_only_for_a_payment_that_succeeded():
    unpaid_cash = order("paid", points=4480, cash_fen=0, payment=None)
    assert transition(unpaid_cash, "refunded", AT).after.payment is None
    already = order("paid", payment="refunded")
    assert transition(already, "cancelled", AT).after.payment.status == "refunded"


@pytest.mark.parametrize(
    ("status", "entry", "event"),
    [
        ("paid", Entry(-1500, "spend", "order:o-1"), "order.paid"),
        ("pending_payment", Entry(-1500, "hold", "order:o-1", 1500), None),
    ],
)
def test_placing_an_order_takes_stock_and_spends_or_holds_its_points(status, entry, event):
    placed = order(status, payment=None)
    t = placing(placed)
    assert t.changed and t.before is None and t.after is placed
    assert t.ledger == (entry,) and t.rule.stock == "take" and t.stock == tuple(placed.lines)
    assert [e.type for e in t.events] == ([event] if event else [])
    assert t.rule.royalties == ("owe" if status == "paid" else None)
    assert t.rule.pending == (1 if status == "pending_payment" else 0), "only an unpaid order counts as pending"


# -- pricing -------------------------------------------------------------------------------------------------
def offer(sku: str = "MUG-1", **over) -> SkuOffer:
    fields = dict(
        sku=sku, product_id=f"p-{sku}", title=f"Item {sku}", category="home", status="active", price_fen=5000, stock=5
    )
    return SkuOffer(**{**fields, **over})


def test_pricing_takes_prices_and_rules_from_the_store():
    skus = {"MUG-1": offer(), "UMB-1": offer("UMB-1", price_fen=19900, accepts_cash=False, designer_id="d-1")}
    lines = checkout.price(
        [LineRequest(sku="UMB-1", qty=2), LineRequest(sku="MUG-1", qty=1)], skus, "fan", "2026-11-24"
    )
    assert [(line.sku, line.line_total_fen, line.accepts_cash, line.designer_id) for line in lines] == [
        ("UMB-1", 39800, False, "d-1"),
        ("MUG-1", 5000, True, None),
    ]


@pytest.mark.parametrize(
    ("sku", "tier", "error", "details"),
    [
        (offer(status="archived"), "owner", NotAvailable, {"sku": "MUG-1"}),
        (offer(owner_only=True), "deposit", OwnerOnly, {"sku": "MUG-1"}),
        (offer(stock=1), "fan", InsufficientStock, {"sku": "MUG-1", "stock": 1}),
        (offer(category="hotel", stay_date="2026-11-23"), "fan", NotAvailable, {"sku": "MUG-1", "date": "2026-11-23"}),
    ],
)
def test_pricing_names_the_rule_that_stops_a_line(sku, tier, error, details):
    with pytest.raises(error) as stopped:
        checkout.price([LineRequest(sku="MUG-1", qty=2)], {"MUG-1": sku}, tier, "2026-11-24")
    assert stopped.value.details == details


def test_pricing_accepts_tonights_hotel_stay_and_owner_only_for_owners():
    skus = {"MUG-1": offer(category="hotel", stay_date="2026-11-24", owner_only=True)}
    assert checkout.price([LineRequest(sku="MUG-1", qty=2)], skus, "owner", "2026-11-24")[0].qty == 2


def test_pricing_an_unknown_sku_lists_every_missing_one():
    with pytest.raises(NotFound) as missing:
        checkout.price([LineRequest(sku="NOPE-1", qty=1), LineRequest(sku="NOPE-2", qty=1)], {}, "fan", "2026-11-24")
    assert missing.value.details == {"skus": ["NOPE-1", "NOPE-2"]}


# -- what a payment success means for an order ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "payment", "intent", "amount", "currency", "verdict"),
    [
        ("pending_payment", "pending", "pi_local_o-1", 29800, "cny", "pay"),
        ("pending_payment", None, "pi_other", 29800, "cny", "pay"),  # arrived before the id was attached
        ("pending_payment", "pending", "pi_local_o-1", 1, "cny", "refund"),  # wrong amount: never pays, money back
        ("pending_payment", "pending", "pi_local_o-1", 29800, "usd", "refund"),
        ("pending_payment", "pending", "pi_other", 29800, "cny", "ignore"),  # not this order's payment
        ("paid", "succeeded", "pi_local_o-1", 29800, "cny", "keep"),  # a redelivery
        ("cancelled", "refunded", "pi_local_o-1", 29800, "cny", "keep"),  # refunded with the cancel: not twice
        ("cancelled", "refund_pending", "pi_local_o-1", 29800, "cny", "keep"),
        ("expired", "pending", "pi_local_o-1", 29800, "cny", "refund"),  # paid too late
        ("pending_payment", "pending", "pi_local_o-1", "29800", "cny", "ignore"),  # malformed amount
    ],
)
def test_a_payment_success_pays_keeps_refunds_or_is_ignored(status, payment, intent, amount, currency, verdict):
    assert payment_verdict(order(status, payment=payment), intent, amount, currency) == verdict


def test_a_late_payment_is_refunded_once():
    refunded = order("expired", payment="pending").model_copy(
        update={"late_payment_refund": {"payment_intent_id": "pi_local_o-1", "refund_id": "re_1"}}
    )
    assert payment_verdict(refunded, "pi_local_o-1", 29800, "cny") == "keep"


# -- sharded stock -------------------------------------------------------------------------------------------
def test_units_come_from_the_home_shard_else_the_fullest_ones():
    assert checkout.allocate({0: 5, 1: 1, 2: 9}, 3, home=0) == [[0, 3]]
    assert checkout.allocate({0: 2, 1: 1, 2: 9}, 3, home=0) == [[2, 3]], "the home shard is short"
    assert checkout.allocate({0: 2, 1: 1, 2: 2}, 4, home=1) == [[0, 2], [2, 2]], "split over the fullest"
    assert checkout.allocate({0: 2, 1: 1}, 4, home=0) is None, "not enough anywhere"
    assert checkout.allocate({}, 1, home=0) is None


def test_a_buyer_always_starts_at_the_same_shard_and_buyers_spread():
    shards = {checkout.home_shard(f"u-{i}", "SKU-1", 16) for i in range(200)}
    assert checkout.home_shard("u-1", "SKU-1", 16) == checkout.home_shard("u-1", "SKU-1", 16)
    assert len(shards) == 16 and shards == set(range(16))
