"""Reviews from verified buyers through the API: who may write one, moderation that pays the reviewer once, the
public list with display names and the product's rating, helpful votes once each, and bad input."""

from __future__ import annotations

import pytest

from tests.api.shop import ADDRESS, add_product, give_points
from tests.helpers import uid
from tools.reconcile import reconcile


def bought(api, services, *, ship: bool = True, price_fen: int = 1000, sku: str | None = None):
    """A buyer with a paid (and, by default, shipped) order of one tech product: (buyer, product_id, sku, order)."""
    sku = sku or add_product(services, price_fen=price_fen, stock=100, category="tech")
    buyer = uid("buyer")
    give_points(services, buyer, price_fen // 10)
    body = {"items": [{"sku": sku, "qty": 1}], "points": price_fen // 10, "shipping_address": ADDRESS}
    order = api.post("/orders", body, user=buyer, headers={"Idempotency-Key": uid("k")}).json
    assert order["status"] == "paid", order
    if ship:
        parcel = {"skus": [sku], "carrier": "SF", "tracking_number": "SF123456789"}
        assert api.post(f"/partner/orders/{order['order_id']}/shipments", parcel, partner="warehouse").status == 200
    return buyer, order["lines"][0]["product_id"], sku, order


def review(api, buyer, product_id, sku, order, rating=5, **extra):
    body = {"order_id": order["order_id"], "sku": sku, "rating": rating, "text": "真不错，雨天也很好用。", **extra}
    return api.post(f"/products/{product_id}/reviews", body, user=buyer)


def test_a_buyer_reviews_a_shipped_line_once_and_approval_shows_it_and_pays_the_reviewer(api, services):
    buyer, product, sku, order = bought(api, services)
    before = api.get("/me", user=buyer).json
    r = review(api, buyer, product, sku, order, rating=4, image_urls=["https://img.example/r/1.jpg"])
    assert r.status == 201, r.json
    written = r.json
    assert (written["status"], written["rating"], written["user_id"]) == ("pending", 4, buyer)
    again = review(api, buyer, product, sku, order)
    assert (again.status, again.error_code) == (409, "already_reviewed")
    public = api.get(f"/products/{product}/reviews").json
    assert public == {"rating": {"average": None, "count": 0}, "items": [], "next_cursor": None}, "not yet approved"
    queue = api.merch("GET", "/admin/reviews").json["items"]
    assert [q["review_id"] for q in queue] == [written["review_id"]]
    decided = api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"})
    assert decided.status == 200 and decided.json["status"] == "approved"
    twice = api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"})
    assert (twice.status, twice.error_code) == (409, "invalid_status_transition")
    public = api.get(f"/products/{product}/reviews").json
    assert public["rating"] == {"average": 4.0, "count": 1}
    [shown] = public["items"]
    assert shown["reviewer_name"].startswith("Buyer ") and shown["user_id"] is None and shown["order_id"] is None
    assert buyer not in str(public)
    after = api.get("/me", user=buyer).json
    assert after["contribution"] == before["contribution"] + 2
    assert after["points"]["available"] == before["points"]["available"] + 3, "the review task (5) under a fan's cap: 3"
    ledger = api.get("/me/points/ledger", user=buyer).json["items"]
    assert (ledger[0]["kind"], ledger[0]["ref"]) == ("earn", f"review:{written['review_id']}")
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_only_the_buyer_of_a_line_that_reached_them_may_review_it(api, services):
    buyer, product, sku, order = bought(api, services, ship=False)
    r = review(api, buyer, product, sku, order)
    assert (r.status, r.error_code) == (403, "not_a_buyer"), "paid, not shipped yet"
    stranger = uid("fan")
    assert review(api, stranger, product, sku, order).error_code == "not_a_buyer"
    other_product = add_product(services, price_fen=500, stock=5, category="tech")
    wrong = api.post(f"/products/{other_product.lower()}/reviews",
                     {"order_id": order["order_id"], "sku": sku, "rating": 5, "text": "x"}, user=buyer)  # fmt: skip
    assert wrong.error_code == "not_a_buyer"
    missing = {"order_id": "o-nope", "sku": sku, "rating": 5, "text": "x"}
    assert api.post(f"/products/{product}/reviews", missing, user=buyer).error_code == "not_a_buyer"
    assert api.get("/me/reviews", user=buyer).json["items"] == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"text": ""}, "text"),
        ({"text": "ok\u202e"}, "text"),
        ({"image_urls": ["http://img.example/1.jpg"]}, "image_urls"),
        ({"image_urls": [f"https://img.example/{i}.jpg" for i in range(9)]}, "image_urls"),
    ],
)
def test_a_bad_review_is_a_400_naming_the_field_and_nothing_is_written(api, services, change, field):
    buyer, product, sku, order = bought(api, services)
    r = review(api, buyer, product, sku, order, **change)
    assert r.status == 400 and any(f.startswith(field) for f in r.json["error"]["details"]["fields"]), r.json
    assert api.get("/me/reviews", user=buyer).json["items"] == []


def test_a_rejection_needs_a_reason_the_reviewer_reads_and_it_never_counts(api, services):
    buyer, product, sku, order = bought(api, services)
    written = review(api, buyer, product, sku, order, rating=1).json
    path = f"/admin/reviews/{written['review_id']}/decision"
    assert api.merch("POST", path, {"decision": "reject"}).status == 400
    assert api.merch("POST", path, {"decision": "reject", "note": "mentions another shop"}).status == 200
    [mine] = api.get("/me/reviews", user=buyer).json["items"]
    assert (mine["status"], mine["note"]) == ("rejected", "mentions another shop")
    assert api.get(f"/products/{product}/reviews").json["rating"] == {"average": None, "count": 0}
    assert api.merch("GET", "/admin/reviews?status=rejected").json["items"][0]["review_id"] == written["review_id"]


def test_helpful_votes_count_once_per_user_and_order_the_most_helpful_first(api, services):
    sku = add_product(services, price_fen=1000, stock=100, category="tech")
    first = bought(api, services, sku=sku)
    second = bought(api, services, sku=sku)
    product = first[1]
    ids = []
    for buyer, _, _, order in (first, second):
        written = review(api, buyer, product, sku, order).json
        api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"})
        ids.append(written["review_id"])
    assert [i["review_id"] for i in api.get(f"/products/{product}/reviews").json["items"]] == ids[::-1]
    fan = uid("fan")
    assert api.post(f"/reviews/{ids[0]}/helpful", user=fan).json == {"review_id": ids[0], "helpful": 1}
    again = api.post(f"/reviews/{ids[0]}/helpful", user=fan)
    assert (again.status, again.error_code) == (409, "already_voted")
    assert api.post("/reviews/r-nope/helpful", user=fan).status == 404
    helpful = api.get(f"/products/{product}/reviews?sort=helpful").json["items"]
    assert [(i["review_id"], i["helpful"]) for i in helpful] == [(ids[0], 1), (ids[1], 0)]
    rating = api.get(f"/products/{product}/reviews").json["rating"]
    assert rating == {"average": 5.0, "count": 2}


def test_a_review_of_an_order_refunded_before_approval_cannot_be_approved(api, services):
    buyer, product, sku, order = bought(api, services)
    written = review(api, buyer, product, sku, order).json
    assert api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "lost"}).status == 200
    r = api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"})
    assert (r.status, r.error_code) == (409, "invalid_status_transition")
    assert api.get(f"/products/{product}/reviews").json["rating"]["count"] == 0


@pytest.mark.streams
def test_a_refund_takes_an_approved_review_out_of_the_rating_and_keeps_it_marked(api, services):
    from tools.streams import outbox_poller

    sku = add_product(services, price_fen=1000, stock=100, category="tech")
    kept, refunded = bought(api, services, sku=sku), bought(api, services, sku=sku)
    product = kept[1]
    ids = []
    for (buyer, _, _, order), stars in ((kept, 5), (refunded, 2)):
        written = review(api, buyer, product, sku, order, rating=stars).json
        api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"})
        ids.append(written["review_id"])
    assert api.get(f"/products/{product}/reviews").json["rating"] == {"average": 3.5, "count": 2}
    assert api.merch("POST", f"/admin/orders/{refunded[3]['order_id']}/refund", {"reason": "faulty"}).status == 200
    stream = outbox_poller(services)
    stream.poll()
    stream.poll()  # delivered again: out once
    public = api.get(f"/products/{product}/reviews").json
    assert public["rating"] == {"average": 5.0, "count": 1}
    assert [i["review_id"] for i in public["items"]] == [ids[0]]
    [mine] = api.get("/me/reviews", user=refunded[0]).json["items"]
    assert (mine["status"], mine["excluded"]) == ("approved", True)
    stream.poll()  # the rating reaches the product, and through it the search
    listed = api.get("/products?sort=new&category=tech&limit=50").json["items"]
    assert [p["rating"] for p in listed if p["product_id"] == product] == [{"average": 5.0, "count": 1}]
    assert api.post(f"/reviews/{ids[1]}/helpful", user=uid("fan")).status == 404
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_reconcile_finds_a_rating_shard_that_drifted_from_the_approved_reviews(api, services):
    buyer, product, sku, order = bought(api, services)
    written = review(api, buyer, product, sku, order).json
    api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"})
    services.table.client.update_item(
        TableName=services.table.name,
        Key={"pk": {"S": f"PRODUCT#{product}"}, "sk": {"S": "RATING#00"}},
        UpdateExpression="ADD #c :one, #s :five",
        ExpressionAttributeNames={"#c": "count", "#s": "sum"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":five": {"N": "5"}},
    )
    found = [d.describe() for d in reconcile(services.dynamodb, services.table)[1]]
    assert found == [f"rating of {product}: shards hold sum 10 of 2, approved reviews 5 of 1"]
    services.table.client.update_item(  # put it right: the session's last test reconciles every table
        TableName=services.table.name,
        Key={"pk": {"S": f"PRODUCT#{product}"}, "sk": {"S": "RATING#00"}},
        UpdateExpression="ADD #c :one, #s :five",
        ExpressionAttributeNames={"#c": "count", "#s": "sum"},
        ExpressionAttributeValues={":one": {"N": "-1"}, ":five": {"N": "-5"}},
    )
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_an_author_cannot_find_their_own_review_helpful_and_an_approval_note_stays_private(api, services):
    buyer, product, sku, order = bought(api, services)
    written = review(api, buyer, product, sku, order).json
    approve = {"decision": "approve", "note": "checked the photos"}
    assert api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", approve).status == 200
    own = api.post(f"/reviews/{written['review_id']}/helpful", user=buyer)
    assert (own.status, own.error_code) == (403, "own_review")
    [shown] = api.get(f"/products/{product}/reviews").json["items"]
    assert shown["note"] is None and shown["helpful"] == 0
    assert api.get("/me/reviews", user=buyer).json["items"][0]["note"] == "checked the photos"


def test_a_policy_giving_the_review_task_contribution_adds_it_to_the_reviews_own(api, services, clock):
    import copy

    clock.set("2026-12-06T02:00:00.000Z")
    policy = copy.deepcopy(api.merch("GET", "/admin/policy").json["in_force"]["policy"])
    policy["tasks"]["review"]["contribution"] = 5
    body = {"policy": policy, "effective_from": "2026-12-06T02:01:10Z", "note": "reviews count more"}
    version = api.merch("POST", "/admin/policy/versions", body).json["version"]
    assert api.merch("POST", f"/admin/policy/versions/{version}/schedule").status == 200
    clock.set("2026-12-06T02:02:00.000Z")
    sku = add_product(services, price_fen=1000, stock=100, category="tech")
    buyer, product, _, first = bought(api, services, sku=sku)
    before = api.get("/me", user=buyer).json["contribution"]
    written = review(api, buyer, product, sku, first).json
    assert api.merch("POST", f"/admin/reviews/{written['review_id']}/decision", {"decision": "approve"}).status == 200
    assert api.get("/me", user=buyer).json["contribution"] == before + 2 + 5
