"""Checkout's extension point against DynamoDB Local: a kind of thing an order sells is one registered part; what
it plans lands on the order, what it writes commits with the order or not at all."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import Transaction, key
from chalicelib.domain.checkout import OrderRequest
from chalicelib.domain.errors import NotAvailable
from chalicelib.domain.transitions import Transition
from chalicelib.services.checkout_parts import Cart, Plan
from tests.api.shop import ADDRESS, add_product, give_points, stock
from tests.helpers import uid


class Engraving:
    """A made-up kind: an engraving slot per order, written as its own item under a condition."""

    def __init__(self) -> None:
        self.refuse = False
        self.planned: list[int] = []

    def plan(self, cart: Cart) -> Plan:
        self.planned.append(cart.attempt)
        if self.refuse:
            raise NotAvailable("no engraving today", {})
        return Plan({"purchase_limits": {"engraving": 1}}, f"ENGRAVE#{cart.user_id}")

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        tx.create(
            {"pk": plan.data, "sk": "SLOT", "order_id": t.after.order_id},
            on_fail=NotAvailable("your engraving slot is taken", {}),
        )


def body(sku: str) -> OrderRequest:
    return OrderRequest.model_validate({"items": [{"sku": sku, "qty": 1}], "points": 500, "shipping_address": ADDRESS})


@pytest.fixture
def engraving(services):
    part = Engraving()
    services.checkout._parts = [*services.checkout._parts, part]
    return part


def test_a_registered_part_plans_records_on_the_order_and_writes_in_its_transaction(services, engraving):
    sku = add_product(services, price_fen=5000, stock=3)
    give_points(services, "buyer", 500)
    order = services.checkout.place("buyer", uid("key"), body(sku))
    assert order.status == "paid" and order.purchase_limits == {"engraving": 1}
    assert engraving.planned == [0]
    assert services.table.get(key("ENGRAVE#buyer", "SLOT"))["order_id"] == order.order_id
    assert services.order_repo.get(order.order_id).purchase_limits == {"engraving": 1}


def test_a_part_whose_condition_fails_leaves_nothing_written(services, engraving):
    sku = add_product(services, price_fen=5000, stock=3)
    give_points(services, "buyer", 1000)
    services.checkout.place("buyer", uid("key"), body(sku))
    with pytest.raises(NotAvailable, match="slot is taken"):
        services.checkout.place("buyer", uid("key"), body(sku))
    assert stock(services, sku) == 2, "the second order took no stock"
    assert (services.points.me("buyer").points.available, services.points.me("buyer").points.held) == (500, 0)


def test_a_part_that_refuses_in_its_plan_stops_the_order_before_any_write(services, engraving):
    sku = add_product(services, price_fen=5000, stock=3)
    give_points(services, "buyer", 500)
    engraving.refuse = True
    with pytest.raises(NotAvailable, match="no engraving"):
        services.checkout.place("buyer", uid("key"), body(sku))
    assert stock(services, sku) == 3
    assert (services.points.me("buyer").points.available, services.points.me("buyer").points.held) == (500, 0)
