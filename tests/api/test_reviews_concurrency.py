"""Fifty reviews of one product approved at once, and a crowd finding one review helpful at once: the rating and
the helpful count are exact (the rating sums on shard items; each helpful vote moves the count it read)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import add_product
from tests.api.test_reviews import bought, review
from tests.helpers import uid
from tools.reconcile import reconcile

REVIEWS = 50


def test_fifty_approvals_of_one_product_at_once_leave_an_exact_rating(api, services):
    sku = add_product(services, price_fen=1000, stock=1000, category="tech")
    written = []
    for i in range(REVIEWS):
        buyer, product, _, order = bought(api, services, sku=sku)
        r = review(api, buyer, product, sku, order, rating=1 + i % 5)
        assert r.status == 201
        written.append(r.json)

    def approve(one):
        path = f"/admin/reviews/{one['review_id']}/decision"
        return api.merch("POST", path, {"decision": "approve"}).status

    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(pool.map(approve, written))
    assert statuses == [200] * REVIEWS
    rating = api.get(f"/products/{product}/reviews").json["rating"]
    assert rating == {"average": 3.0, "count": REVIEWS}, "ten each of 1..5 stars"
    shards = services.reviews._repo.rating_shards(product)
    assert len(shards) > 1, "the approvals spread over the product's shard items"
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_a_crowd_finding_one_review_helpful_at_once_counts_each_person_once(api, services):
    buyer, product, sku, order = bought(api, services)
    one = review(api, buyer, product, sku, order).json
    api.merch("POST", f"/admin/reviews/{one['review_id']}/decision", {"decision": "approve"})
    fans = [uid("fan") for _ in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda f: api.post(f"/reviews/{one['review_id']}/helpful", user=f).status, fans * 2))
    assert sorted(statuses) == [201] * 24 + [409] * 24
    [shown] = api.get(f"/products/{product}/reviews?sort=helpful").json["items"]
    assert shown["helpful"] == 24
