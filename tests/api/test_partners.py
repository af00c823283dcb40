"""Per-partner fulfillment: each partner's queue carries only its lines, and it ships only those."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import pytest

from chalicelib.adapters.dynamo import to_item
from chalicelib.adapters.orders_repo import order_key
from tests.api.shop import add_product, balance, give_points, order_body, place, queued_events, stock
from tools.event_schemas import DOCS
from tools.reconcile import reconcile

SCHEMA = json.loads((DOCS / "order-event.v2.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def mixed(api, services):
    """A paid points order with lines for all three partners: a gadget and a lamp (warehouse), tea (fresh food)
    and a hotel night (hotels)."""
    skus = {
        "gadget": add_product(services, price_fen=19900, stock=10, category="tech"),
        "lamp": add_product(services, price_fen=9900, stock=10, category="home"),
        "tea": add_product(services, price_fen=5000, stock=10, category="food"),
        "night": add_product(services, price_fen=68000, stock=2, category="hotel", sku_attrs={"date": "2099-12-18"}),
    }
    give_points(services, "buyer", 10_780)
    body = order_body((skus["gadget"], 1), (skus["lamp"], 1), (skus["tea"], 2), (skus["night"], 1), points=10_780)
    order = place(api, "buyer", body).json
    assert order["status"] == "paid"
    return {"order": order, **skus}


def ship(api, order_id, partner, tracking="SF00001", **extra):
    return api.post(
        f"/partner/orders/{order_id}/shipments",
        {"carrier": "SF", "tracking_number": tracking, **extra},
        partner=partner,
    )


@pytest.mark.streams
def test_each_partner_receives_one_event_with_only_its_lines_and_the_address(api, services, mixed):
    order = mixed["order"]
    received = {partner: queued_events(services, partner) for partner in ("warehouse", "fresh", "hotels")}
    assert {
        p: [(e["type"], sorted(line["sku"] for line in e["order"]["lines"])) for e in events]
        for p, events in received.items()
    } == {
        "warehouse": [("order.paid", sorted([mixed["gadget"], mixed["lamp"]]))],
        "fresh": [("order.paid", [mixed["tea"]])],
        "hotels": [("order.paid", [mixed["night"]])],
    }
    for partner, [event] in received.items():
        jsonschema.validate(event, SCHEMA)
        assert event["partner_id"] == partner and event["schema_version"] == 2
        assert event["order"]["order_id"] == order["order_id"]
        assert event["order"]["shipping_address"] == order["shipping_address"]
        assert "points_applied" not in event["order"] and "designer_id" not in event["order"]["lines"][0]


@pytest.mark.streams
def test_partners_ship_their_own_lines_and_the_order_is_partially_shipped_until_all_have(api, services, mixed):
    order_id = mixed["order"]["order_id"]
    queued_events(services)  # the order.paid events, read
    tea = ship(api, order_id, "fresh", "JD00001")
    assert tea.status == 200 and tea.json["status"] == "partially_shipped"
    assert [line["sku"] for line in tea.json["lines"]] == [mixed["tea"]], "a partner sees only its own lines"
    assert tea.json["shipments"] == [
        {
            "carrier": "SF",
            "tracking_number": "JD00001",
            "partner_id": "fresh",
            "skus": [mixed["tea"]],
            "shipped_at": tea.json["shipments"][0]["shipped_at"],
        }
    ]
    gadget = ship(api, order_id, "warehouse", "SF00002", skus=[mixed["gadget"]])
    assert gadget.json["status"] == "partially_shipped"
    assert ship(api, order_id, "hotels", "CONFIRM-1").json["status"] == "partially_shipped"
    shopper = api.get(f"/orders/{order_id}", user="buyer").json
    assert shopper["status"] == "partially_shipped" and len(shopper["shipments"]) == 3
    assert api.post(f"/orders/{order_id}/cancel", user="buyer").error_code == "not_cancellable"
    lamp = ship(api, order_id, "warehouse", "SF00003")  # the rest of the warehouse's lines
    assert lamp.json["status"] == "shipped" and lamp.json["shipments"][-1]["skus"] == [mixed["lamp"]]
    shipped = {
        p: [(e["type"], e["shipment"]["tracking_number"]) for e in queued_events(services, p)]
        for p in ("warehouse", "fresh", "hotels")
    }
    assert shipped == {
        "warehouse": [("order.shipped", "SF00002"), ("order.shipped", "SF00003")],
        "fresh": [("order.shipped", "JD00001")],
        "hotels": [("order.shipped", "CONFIRM-1")],
    }
    shopper = api.get(f"/orders/{order_id}", user="buyer").json
    assert shopper["status"] == "shipped" and shopper["shipment"]["tracking_number"] == "SF00003"


@pytest.mark.streams
def test_a_partner_cannot_see_or_ship_another_partners_order(api, services):
    sku = add_product(services, price_fen=19900, stock=5, category="tech")
    give_points(services, "buyer", 1990)
    order = place(api, "buyer", order_body((sku, 1), points=1990)).json
    r = ship(api, order["order_id"], "hotels")
    assert (r.status, r.error_code) == (404, "not_found"), "another partner's order does not exist for it"
    r = api.post(
        f"/partner/orders/{order['order_id']}/shipments",
        {"carrier": "SF", "tracking_number": "SF00001"},
        user="p-x",
        groups=("partner",),
    )
    assert (r.status, r.error_code) == (403, "forbidden"), "a partner token must say which partner"
    r = ship(api, order["order_id"], "warehouse", skus=["SOMEONE-ELSES"])
    assert (r.status, r.error_code) == (400, "invalid_request") and "skus" in r.json["error"]["details"]["fields"]
    assert api.get(f"/orders/{order['order_id']}", user="buyer").json["status"] == "paid", "nothing written"
    assert queued_events(services, "hotels") == [] and len(queued_events(services, "warehouse")) == 1


@pytest.mark.streams
def test_a_parcel_reported_twice_is_one_shipment_and_a_mixed_report_is_refused(api, services, mixed):
    order_id = mixed["order"]["order_id"]
    queued_events(services)
    first = ship(api, order_id, "warehouse", skus=[mixed["gadget"]])
    again = ship(api, order_id, "warehouse", skus=[mixed["gadget"]])
    assert again.status == 200 and again.json == first.json, "a retried report changes nothing"
    r = ship(api, order_id, "warehouse", "SF00009", skus=[mixed["lamp"], mixed["gadget"]])
    assert (r.status, r.error_code) == (409, "already_shipped") and r.json["error"]["details"] == {
        "skus": [mixed["gadget"]]
    }
    assert [e["type"] for e in queued_events(services, "warehouse")] == ["order.shipped"]


@pytest.mark.streams
def test_refunding_a_partially_shipped_order_returns_stock_only_for_what_never_left(api, services, mixed):
    order_id = mixed["order"]["order_id"]
    ship(api, order_id, "fresh")
    queued_events(services)
    r = api.merch("POST", f"/admin/orders/{order_id}/refund", {"reason": "the hotel closed"})
    assert r.status == 200 and r.json["status"] == "refunded"
    assert balance(api, "buyer") == {"available": 10_780, "held": 0}
    assert (stock(services, mixed["tea"]), stock(services, mixed["gadget"]), stock(services, mixed["night"])) == (
        8,
        10,
        2,
    ), "the tea was shipped: its stock stays taken"
    assert {p: [e["type"] for e in queued_events(services, p)] for p in ("warehouse", "fresh", "hotels")} == {
        "warehouse": ["order.refunded"],
        "fresh": ["order.refunded"],
        "hotels": ["order.refunded"],
    }
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_three_partners_shipping_at_once_record_every_parcel_once(live_api, live_server):
    """Two reports per partner at the same moment (a retry racing the first): three parcels, status shipped, and
    each partner's queue holds one order.shipped."""
    services = live_server["container"]
    skus = [
        add_product(services, price_fen=5000, stock=5, category=c, sku_attrs={"date": "2099-12-18"})
        for c in ("tech", "food", "hotel")
    ]
    give_points(services, "racer", 1500)
    order = place(live_api, "racer", order_body(*[(s, 1) for s in skus], points=1500)).json
    queued_events(services)
    partners = ["warehouse", "fresh", "hotels"] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda p: ship(live_api, order["order_id"], p, f"T-{p}"), partners))
    assert [r.status for r in replies] == [200] * 6, [r.json for r in replies]
    final = live_api.get(f"/orders/{order['order_id']}", user="racer").json
    assert final["status"] == "shipped"
    assert sorted(s["partner_id"] for s in final["shipments"]) == ["fresh", "hotels", "warehouse"]
    assert {p: len(queued_events(services, p)) for p in ("warehouse", "fresh", "hotels")} == {
        "warehouse": 1,
        "fresh": 1,
        "hotels": 1,
    }


def test_an_order_placed_before_routing_shows_and_ships_with_its_partners_everywhere(api, services):
    """Lines stored without partner_id (placed before partners had their own queues) get today's route, in the
    order's page as in the order itself, and the partner can ship them."""
    tech = add_product(services, price_fen=5000, stock=10, category="tech")
    tea = add_product(services, price_fen=5000, stock=10, category="food")
    give_points(services, "buyer", 1000)
    order = place(api, "buyer", order_body((tech, 1), (tea, 1), points=1000)).json
    item = services.table.get(order_key(order["order_id"]))
    for line in item["lines"]:
        line.pop("partner_id")
    services.table.client.put_item(TableName=services.table.name, Item=to_item(item))
    for view in (
        api.get(f"/orders/{order['order_id']}", user="buyer").json,
        api.get("/me/orders", user="buyer").json["items"][0],
        api.merch("GET", "/admin/orders").json["items"][0],
    ):
        assert [line["partner_id"] for line in view["lines"]] == ["warehouse", "fresh"]
    assert ship(api, order["order_id"], "fresh").json["status"] == "partially_shipped"


def test_a_cancel_that_loses_the_race_to_a_parcel_is_not_cancellable(api, services, monkeypatch):
    tech = add_product(services, price_fen=5000, stock=10, category="tech")
    tea = add_product(services, price_fen=5000, stock=10, category="food")
    give_points(services, "buyer", 1000)
    order = place(api, "buyer", order_body((tech, 1), (tea, 1), points=1000)).json
    move = services.orders.move

    def parcel_lands_first(order_id, target, **kw):
        assert ship(api, order_id, "fresh").status == 200  # between cancel's check and its write
        return move(order_id, target, **kw)

    monkeypatch.setattr(services.orders, "move", parcel_lands_first)
    r = api.post(f"/orders/{order['order_id']}/cancel", user="buyer")
    assert (r.status, r.error_code, r.json["error"]["details"]) == (
        409,
        "not_cancellable",
        {"status": "partially_shipped"},
    )


def test_a_refused_parcel_says_nothing_about_other_partners_lines(api, services):
    tech = add_product(services, price_fen=5000, stock=5, category="tech")
    tea = add_product(services, price_fen=5000, stock=5, category="food")
    alone = place(api, "b1", order_body((tech, 1))).json  # pending payment: nothing ships yet
    mixed = place(api, "b2", order_body((tech, 1), (tea, 1))).json
    replies = [ship(api, o["order_id"], "warehouse") for o in (alone, mixed)]
    assert [(r.status, r.error_code) for r in replies] == [(409, "invalid_status_transition")] * 2
    assert (
        replies[0].json["error"]["details"]
        == replies[1].json["error"]["details"]
        == {"from": "pending_payment", "to": "shipped"}
    )


def test_a_partner_reads_an_order_as_its_events_show_it_and_nothing_else(api, services, mixed):
    order_id = mixed["order"]["order_id"]
    ship(api, order_id, "fresh")
    seen = api.get(f"/partner/orders/{order_id}", partner="fresh").json
    assert [line["sku"] for line in seen["lines"]] == [mixed["tea"]] and seen["status"] == "partially_shipped"
    assert [s["partner_id"] for s in seen["shipments"]] == ["fresh"] and "points_applied" not in seen
    assert api.get(f"/partner/orders/{order_id}", user="p", groups=("partner",)).status == 403
    assert api.get(f"/partner/orders/{order_id}", user="buyer").status == 403
    sku = add_product(services, price_fen=5000, stock=5, category="tech")
    unpaid = place(api, "other", order_body((sku, 1))).json
    assert api.get(f"/partner/orders/{unpaid['order_id']}", partner="warehouse").status == 404, "not paid yet"
    assert api.get(f"/partner/orders/{unpaid['order_id']}", partner="fresh").status == 404, "not its order"
