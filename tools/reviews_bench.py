"""`make bench`'s figures for a hot product's reviews, on a DynamoDB Local of its own: 200 reviews of one product
approved by 32 merchandiser threads at once. The rating must come out exact (its count and sum), and the approvals'
rating writes must spread over the product's shard items (each review's hash picks one): the busiest shard's share
of them, against 1/8. Each approval is also a transaction on its reviewer's account (the review task), so the
approvals per second are the handler's whole work, not the rating's alone."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ContextManager

from chalicelib.adapters.clock import iso, new_id
from chalicelib.domain.checkout import OrderRequest
from chalicelib.domain.points import CampaignInput, GrantInput
from chalicelib.domain.reviews import RATING_SHARDS, Decision, shard_of
from tools.burst_floor import ADDRESS, on_fresh_store, points_product


def approvals(services: Any, reviews: int = 200, threads: int = 32) -> dict[str, Any]:
    points_product(services, "bench-bestseller", "BENCH-BEST", "Bestseller")
    services.campaigns.create("bench", CampaignInput(campaign_id="bench-r", name="Bench", budget_points=10**9))
    written = []
    for n in range(reviews):  # a paid points order each, and its review as the API writes it
        buyer = f"bench-reviewer-{n}"
        services.campaigns.grant("bench", "bench-r", GrantInput(user_id=buyer, points=100, reason="bench", ref=buyer))
        body = OrderRequest.model_validate(
            {"items": [{"sku": "BENCH-BEST", "qty": 1}], "points": 100, "shipping_address": ADDRESS}
        )
        order = services.checkout.place(buyer, f"bench-review-{n}", body)
        review = {"review_id": new_id("r"), "product_id": "bench-bestseller", "user_id": buyer, "order_id": order.order_id,
                  "sku": "BENCH-BEST", "rating": 1 + n % 5, "text": "bench", "image_urls": [], "status": "pending",
                  "helpful": 0, "created_at": iso(services.clock.now())}  # fmt: skip
        tx = services.review_repo.begin()
        services.review_repo.add(tx, review, on_repeat=RuntimeError("two reviews of one line"))
        tx.commit()
        written.append(review)
    approve = Decision(decision="approve")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda r: services.reviews.decide("bench-merch", r["review_id"], approve), written))
    elapsed = time.perf_counter() - started
    shards = services.review_repo.rating_shards("bench-bestseller")
    count, total = sum(int(s["count"]) for s in shards), sum(int(s["sum"]) for s in shards)
    want = sum(int(r["rating"]) for r in written)
    if (count, total) != (reviews, want):
        raise SystemExit(f"reviews bench: the rating holds {total} of {count}, expected {want} of {reviews}")
    writes = Counter(shard_of(r["review_id"]) for r in written)
    return {
        "reviews": reviews,
        "threads": threads,
        "seconds": round(elapsed, 2),
        "approvals_per_s": round(reviews / elapsed),
        "rating_exact": True,
        "shards_used": len(writes),
        "busiest_shard_share": round(max(writes.values()) / reviews, 3),
        "even_share": round(1 / RATING_SHARDS, 3),
    }


def run(fresh: Callable[[], ContextManager[dict[str, str]]]) -> dict[str, Any]:
    return on_fresh_store(fresh, "bench-r", approvals)
