"""The central bank's points report, kept by the stream consumer: exact per day, counted once per ledger entry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import workers
from chalicelib.adapters.dynamo import key
from chalicelib.adapters.report_repo import report_pk
from tests.api.shop import ADDRESS, add_product, give_points, place
from tests.helpers import uid
from tools.reconcile import reconcile
from tools.streams import StreamPoller, both


def poller(services):
    streams = services.boto_session.client("dynamodbstreams", endpoint_url=services.settings.dynamodb_endpoint)
    seen: list[dict] = []

    def handler(records):
        seen.extend(records)
        return both(
            workers.publish_outbox(records, services.outbox),
            workers.count_ledger(records, services.points_report, services.outbox),
        )

    return StreamPoller(services.dynamodb, streams, services.settings.store_table, handler), seen


def day_of(report, day):
    return next(d for d in report["days"] if d["day"] == day)


@pytest.mark.streams
def test_a_day_of_grants_orders_and_refunds_adds_up_and_a_redelivered_stream_counts_once(api, services, clock):
    clock.set("2026-11-24T02:00:00Z")  # 10:00 in Shanghai
    tea = add_product(services, price_fen=2000, stock=20, category="food")
    fan, owner = uid("fan"), uid("owner")
    give_points(services, fan, 3_000)
    give_points(services, owner, 1_000)
    paid = place(api, fan, {"items": [{"sku": tea, "qty": 2}], "points": 400, "shipping_address": ADDRESS}).json
    held = place(api, owner, {"items": [{"sku": tea, "qty": 1}], "points": 100, "shipping_address": ADDRESS}).json
    assert (paid["status"], held["status"]) == ("paid", "pending_payment")
    assert (
        api.merch("POST", f"/admin/orders/{paid['order_id']}/refund", {"reason": "late"}).json["status"] == "refunded"
    )
    assert api.post("/me/checkins", user=fan).status in (200, 201)
    stream, seen = poller(services)
    assert stream.poll() > 0
    r = api.merch("GET", "/admin/points/report?from=2026-11-23&to=2026-11-25")
    assert r.status == 200, r.json
    before, today, after = r.json["days"]
    assert before["outstanding"] == 0 and before["entries"] == 0
    assert today["issued"]["grant"] == 4_000 and today["issued"]["earn"] > 0
    # the pending order's 100 points are held, not redeemed: still the user's, and still the shop's liability
    assert (today["redeemed"], today["returned"], today["expired"]) == (400, 400, 0)
    assert today["outstanding"] == 4_000 + today["issued"]["earn"] - 400 + 400
    assert today["liability_fen"] == today["outstanding"] * 10
    # nothing expired and no breakage set: the bank expects to honour every point
    assert (r.json["breakage_rate"], r.json["breakage_source"]) == ("0.0000", "trailing_12_months")
    assert today["liability_net_fen"] == today["liability_fen"]
    me = [api.get("/me", user=u).json["points"] for u in (fan, owner)]
    assert today["outstanding"] == sum(p["available"] + p["held"] for p in me), "the report is the users' balances"
    assert after["outstanding"] == today["outstanding"] and r.json["totals"]["redeemed"] == 400

    again = workers.count_ledger(seen, services.points_report, services.outbox)  # the stream delivers it all again
    assert again == {"batchItemFailures": []}
    assert api.merch("GET", "/admin/points/report?from=2026-11-24&to=2026-11-24").json["days"][0] == today
    assert reconcile(services.dynamodb, services.table)[1] == []
    shard = key(report_pk(3), "2026-11-24")
    services.dynamodb.update_item(
        TableName=services.table.name,
        Key=shard,
        UpdateExpression="ADD #g :one",
        ExpressionAttributeNames={"#g": "grant"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    try:
        found = reconcile(services.dynamodb, services.table)[1]
        assert [d.describe().split(":")[0] for d in found] == ["points report 2026-11-24"]
    finally:
        services.dynamodb.update_item(
            TableName=services.table.name,
            Key=shard,
            UpdateExpression="ADD #g :one",
            ExpressionAttributeNames={"#g": "grant"},
            ExpressionAttributeValues={":one": {"N": "-1"}},
        )


def test_the_report_answers_bad_ranges_with_a_400_and_fans_with_a_403(api):
    for query, field in (
        ("from=2026-11-25&to=2026-11-24", "from"),
        ("from=2026-13-01", "from"),
        ("from=2025-01-01&to=2026-11-24", "from"),
        ("to=yesterday", "to"),
    ):
        r = api.merch("GET", f"/admin/points/report?{query}")
        assert r.status == 400 and any(
            k.startswith(field) or k == "query" for k in r.json["error"]["details"]["fields"]
        ), (query, r.json)
    assert api.get("/admin/points/report", user=uid("fan")).status == 403
    default = api.merch("GET", "/admin/points/report").json
    assert len(default["days"]) == 30 and default["opening_outstanding"] == 0


@pytest.mark.streams
def test_sixty_orders_of_one_day_counted_by_four_consumers_at_once_are_each_counted_once(api, services, clock):
    clock.set("2026-11-24T02:00:00Z")
    tea = add_product(services, price_fen=100, stock=100, category="food", cash=False)
    buyers = [uid("buyer") for _ in range(20)]
    for buyer in buyers:
        give_points(services, buyer, 100)
    stream, _ = poller(services)
    stream.poll()

    def buy(i):
        return place(
            api, buyers[i % 20], {"items": [{"sku": tea, "qty": 1}], "points": 10, "shipping_address": ADDRESS}
        ).status

    statuses = [buy(i) for i in range(60)]
    assert statuses == [201] * 60
    with ThreadPoolExecutor(max_workers=4) as pool:  # four consumers at once, as Lambda runs one per stream shard
        list(pool.map(lambda _: stream_copy(services).poll(), range(4)))
    today = api.merch("GET", "/admin/points/report?from=2026-11-24&to=2026-11-24").json["days"][0]
    assert (today["issued"]["grant"], today["redeemed"], today["outstanding"]) == (2_000, 600, 1_400)
    assert reconcile(services.dynamodb, services.table)[1] == []


def stream_copy(services):
    return poller(services)[0]


@pytest.mark.streams
def test_a_backfill_counts_entries_the_stream_never_delivered_and_the_stream_then_adds_nothing(api, services, clock):
    from tools.backfill_report import backfill

    clock.set("2026-11-24T02:00:00Z")
    fan = uid("fan")
    give_points(services, fan, 700)
    assert backfill(services) == 1 and backfill(services) == 0
    stream, _ = poller(services)
    stream.poll()
    today = api.merch("GET", "/admin/points/report?from=2026-11-24&to=2026-11-24").json["days"][0]
    assert (today["issued"]["grant"], today["outstanding"], today["entries"]) == (700, 700, 1)
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_days_outside_2000_to_2100_are_a_400_not_a_500(api):
    for query in ("to=0001-01-05", "from=9999-12-31&to=9999-12-31", "to=9999-12-31", "from=1999-12-31"):
        r = api.merch("GET", f"/admin/points/report?{query}")
        assert r.status == 400, (query, r.json)


def test_a_ledger_item_that_cannot_be_counted_is_parked_not_retried_forever(services, sqs):
    from chalicelib.adapters.dynamo import to_item

    bad = {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": "7",
            "NewImage": to_item(
                {
                    "pk": f"USER#{uid('u')}",
                    "sk": "LEDGER#000000000001#000",
                    "kind": "grant",
                    "delta": 5,
                    "held_delta": 0,
                    "created_at": "not-a-date",
                }
            ),
        },
    }
    assert workers.count_ledger([bad], services.points_report, services.outbox) == {"batchItemFailures": []}
    url = sqs.get_queue_url(QueueName=services.settings.outbox_failure_queue)["QueueUrl"]
    parked = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert any("cannot be counted" in m["Body"] for m in parked)


def test_campaigns_are_listed_newest_first_with_their_budgets(api, services, clock):
    made = []
    for n in range(3):
        clock.set(f"2026-11-2{n}T02:00:00Z")
        made.append(uid("camp"))
        assert (
            api.merch(
                "POST", "/admin/campaigns", {"campaign_id": made[-1], "name": f"C{n}", "budget_points": 100 * (n + 1)}
            ).status
            == 201
        )
    first = api.merch("GET", "/admin/campaigns?limit=2").json
    second = api.merch("GET", f"/admin/campaigns?limit=2&cursor={first['next_cursor']}").json
    assert [c["campaign_id"] for c in first["items"] + second["items"]] == made[::-1]
    assert first["items"][0]["remaining_points"] == 300 and second["next_cursor"] is None
    assert api.get("/admin/campaigns", user=uid("fan")).status == 403
    services.dynamodb.update_item(
        TableName=services.table.name,
        Key={"pk": {"S": f"CAMPAIGN#{made[0]}"}, "sk": {"S": "META"}},
        UpdateExpression="REMOVE gsi2pk, gsi2sk",
    )  # as created before the list existed
    from tools.backfill_report import list_campaigns

    assert list_campaigns(services) == 1 and list_campaigns(services) == 0
    assert len(api.merch("GET", "/admin/campaigns?limit=10").json["items"]) == 3
