"""`make reindex`: index every product in the search index again (a shop whose products predate search, or a
repair), and count the units of the last 30 days' orders that sold before the sales consumer existed. Safe to
repeat and to run while the consumers run: every write can be repeated, an image older than the one indexed is
skipped, and an order's units are counted once whoever counts them first. `make run` does both at start for
what the index never saw."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from chalicelib.adapters.catalog_repo import CatalogRepository, product_key
from chalicelib.adapters.clock import iso
from chalicelib.adapters.search_repo import manifest_key


def reindex(services: Any, only_missing: bool = False) -> int:
    """How many products were indexed (or sent to be). An index with none of the products in it yet is written
    whole, bucket by bucket (fast: for a shop whose stream consumer is not running yet, as `make run` at start).
    Otherwise each product (with `only_missing`, each never indexed) is touched, so that the stream consumer, the
    index's only writer, indexes it again in order with its other changes."""
    products = CatalogRepository(services.table).every_product()
    seen = {m["pk"] for m in services.table.batch_get([manifest_key(p["product_id"]) for p in products])}
    if not seen:
        return services.search_indexer.load(products)
    if only_missing:
        products = [p for p in products if manifest_key(p["product_id"])["pk"]["S"] not in seen]
    for p in products:
        services.dynamodb.update_item(
            TableName=services.table.name,
            Key=product_key(p["product_id"]),
            UpdateExpression="SET index_nudged_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": {"S": iso(services.clock.now())}},
        )
    return len(products)


def count_recent_sales(services: Any) -> int:
    """Units of orders placed in the last 31 days that have sold, each order once; then the ranking. How many
    orders were counted now."""
    from chalicelib.services.search import SOLD

    since = iso(services.clock.now() - dt.timedelta(days=31))
    counted, start = 0, None
    while True:
        orders, start = services.table.page("gsi4", "ORDER", 100, start)
        counted += sum(services.search_indexer.count_sale(o) for o in orders if o.get("status") in SOLD)
        if start is None or not orders or orders[-1]["created_at"] < since:
            break
    services.search_indexer.rank_popular()
    return counted


def main() -> int:
    from chalicelib import bootstrap

    services = bootstrap.container()
    print(f"products indexed, or sent to the index consumer through the stream: {reindex(services)}")
    print(f"orders of the last 30 days counted for popular: {count_recent_sales(services)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
