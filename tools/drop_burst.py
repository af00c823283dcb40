"""`make bench`: a limited drop. 64 buyers order one SKU at once over HTTP through a live `chalice local` on
DynamoDB Local (tools/live_burst.py), its stock on 1 item and on 16 shard items: orders/s here, the busiest item's
share of all writes, and the modelled AWS ceiling of orders/s for one SKU."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.bootstrap import Container
from chalicelib.settings import Settings
from infra import provision
from tools.burst_floor import against_floor, warm
from tools.launch_day import AWS_ITEM_TX_CHECKS_PER_S, AWS_ITEM_TX_WRITES_PER_S
from tools.live_burst import SECRET, LiveServer, write_shares

ADDRESS = {
    "name": "Drop",
    "phone": "+86 138 0000 0000",
    "line1": "1 Road",
    "city": "Shanghai",
    "province": "Shanghai",
    "postal_code": "201805",
    "country": "CN",
}


def burst(endpoints: dict[str, str], prefix: str, shards: int, buyers: int = 64, threads: int = 32) -> dict[str, Any]:
    settings = Settings(
        stage="local",
        resource_prefix=prefix,
        dynamodb_endpoint=endpoints["dynamodb"],
        sqs_endpoint=endpoints["sqs"],
        jwt_secret=SECRET,
    )
    provision.create_tables(Container(settings).dynamodb, prefix, streams=False)  # nothing reads it here
    warm(endpoints["dynamodb"], threads)
    sku = f"DROP-{shards}"
    with LiveServer(endpoints, prefix, threads=threads) as server:
        made = server.call(
            "POST",
            "/admin/products",
            "bench-merch",
            ("merchandiser",),
            body={
                "product_id": f"drop-{shards}",
                "category": "models-toys",
                "title": "Limited umbrella",
                "title_zh": "限量伞",
                "status": "active",
                "accepts": {"points": False, "cash": True},
                "skus": [{"sku": sku, "price_fen": 40000, "stock": buyers, "stock_shards": shards}],
            },
        )
        assert made.status_code == 201, made.text
        server.call("GET", f"/products/drop-{shards}", "bench-merch")  # the server's container is built
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            statuses = list(
                pool.map(
                    lambda i: (
                        server.call(
                            "POST",
                            "/orders",
                            f"buyer-{i}",
                            key=f"drop-{shards}-{i}",
                            body={"items": [{"sku": sku, "qty": 1}], "points": 0, "shipping_address": ADDRESS},
                        ).status_code
                    ),
                    range(buyers),
                )
            )
        took = time.perf_counter() - started
    if statuses.count(201) != buyers:
        raise SystemExit(f"drop burst on {shards} shard(s): {Counter(statuses)}")
    hot_item, hot_stock = write_shares(server.writes, f"SKU#{sku}")
    return {
        "shards": shards,
        "buyers": buyers,
        "orders_per_s": buyers / took,
        **against_floor(
            endpoints["dynamodb"],
            buyers / took,
            server.shapes,
            server.calls,
            requests=buyers,
            threads=threads,
            units=buyers,
            shards=shards,
        ),
        "hot_item_write_share": hot_item,
        "hot_stock_item_share": hot_stock,
        # sharded: every order still checks the SKU item (a transactional read), so that bounds it
        "aws_ceiling_orders_per_s": AWS_ITEM_TX_WRITES_PER_S
        if shards == 1
        else min(AWS_ITEM_TX_WRITES_PER_S * shards, AWS_ITEM_TX_CHECKS_PER_S),
    }
