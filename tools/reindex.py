"""`make reindex`: index every product in the search index again (a shop whose products predate search, or a
repair). Safe to repeat and to run while the index consumer runs: every write it makes can be repeated, and an
image older than the one indexed is skipped. `make run` indexes at start the products the index never saw."""

from __future__ import annotations

import sys
from typing import Any

from chalicelib.adapters.catalog_repo import CatalogRepository
from chalicelib.adapters.search_repo import manifest_key


def reindex(services: Any, only_missing: bool = False) -> int:
    """How many products were indexed now (with `only_missing`, those never indexed). An index with none of the
    products in it yet is written whole, bucket by bucket (fast); otherwise product by product, as the consumer
    does."""
    products = CatalogRepository(services.table).every_product()
    seen = {m["pk"] for m in services.table.batch_get([manifest_key(p["product_id"]) for p in products])}
    if not seen:
        return services.search_indexer.load(products)
    if only_missing:
        products = [p for p in products if manifest_key(p["product_id"])["pk"]["S"] not in seen]
    return services.search_indexer.rebuild(products)


def main() -> int:
    from chalicelib import bootstrap

    print(f"products indexed: {reindex(bootstrap.container())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
