"""`make bench`: a crowd grabbing one red envelope over HTTP through a live `chalice local` on DynamoDB Local
(tools/live_burst.py): claims/s, the busiest item's share of all writes, and the modelled ceiling on AWS."""

from __future__ import annotations

import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.adapters.dynamo import key
from chalicelib.adapters.envelopes_repo import shard_key
from chalicelib.bootstrap import Container
from chalicelib.domain.envelopes import LISTING_PARTITIONS
from chalicelib.domain.points import CampaignInput
from chalicelib.settings import Settings
from infra import provision
from tools.burst_floor import against_floor, warm
from tools.live_burst import SECRET, LiveServer, item_bytes, write_shares

PARTITION_WCU_PER_S = 1_000  # one partition on AWS
PARTITION_RCU_PER_S = 3_000


def modelled_ceiling(shards: int, shard_bytes: int) -> dict[str, int]:
    """Claims/s one envelope takes on AWS: each claim writes one shard transactionally (2 WCU per KB), reads every
    shard eventually consistently (0.5 RCU per 4 KB), and writes its claim item to one of the listing partitions."""
    write_wcu = 2 * math.ceil(shard_bytes / 1024)
    read_rcu = 0.5 * math.ceil(shard_bytes / 4096)
    by_writes = shards * PARTITION_WCU_PER_S // write_wcu
    by_reads = int(PARTITION_RCU_PER_S / read_rcu)
    by_listing = min(shards, LISTING_PARTITIONS) * PARTITION_WCU_PER_S
    return {
        "by_shard_writes": by_writes,
        "by_shard_reads": by_reads,
        "by_listing": by_listing,
        "claims_per_s": min(by_writes, by_reads, by_listing),
    }


def burst(
    endpoints: dict[str, str], prefix: str, shares: int, people: int, max_shards: int, threads: int = 32
) -> dict[str, Any]:
    settings = Settings(
        stage="local",
        resource_prefix=prefix,
        dynamodb_endpoint=endpoints["dynamodb"],
        sqs_endpoint=endpoints["sqs"],
        jwt_secret=SECRET,
        envelope_max_shards=max_shards,
    )
    store = Container(settings)
    provision.create_tables(store.dynamodb, prefix, streams=False)  # nothing reads it here
    warm(endpoints["dynamodb"], threads)
    store.campaigns.create("bench", CampaignInput(campaign_id="bench-rp", name="Bench", budget_points=10**9))
    with LiveServer(endpoints, prefix, {"envelope_max_shards": str(max_shards)}, threads) as server:
        made = server.call(
            "POST",
            "/envelopes",
            "bench-merch",
            ("merchandiser",),
            key="bench-drop-1",
            body={
                "total_points": shares * 10,
                "shares": shares,
                "audience": {"kind": "link"},
                "campaign_id": "bench-rp",
            },
        )
        assert made.status_code == 201, made.text
        envelope_id = made.json()["envelope_id"]
        server.call("GET", f"/envelopes/{envelope_id}", "bench-merch", ("merchandiser",))  # the container is built
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            statuses = list(
                pool.map(
                    lambda i: server.call("POST", f"/envelopes/{envelope_id}/claims", f"grab-{i}").status_code,
                    range(people),
                )
            )
        took = time.perf_counter() - started
    claims = statuses.count(201)
    if claims != min(shares, people) or set(statuses) - {201, 409}:
        raise SystemExit(f"envelope burst: {Counter(statuses)} for {shares} shares and {people} people")
    shard_count = store.table.get(key(f"ENVELOPE#{envelope_id}", "META"))["shard_count"]
    largest = max(item_bytes(store.table.get(shard_key(envelope_id, k)) or {}) for k in range(shard_count))
    hot_item, hot_shard = write_shares(server.writes, "ENVSHARD#")
    return {
        "shares": shares,
        "people": people,
        "shards": shard_count,
        "claims": claims,
        "claims_per_s": claims / took,
        **against_floor(
            endpoints["dynamodb"],
            claims / took,
            server.shapes,
            server.calls,
            requests=people,
            threads=threads,
            units=shares,
            shards=shard_count,
        ),
        "hot_item_write_share": hot_item,
        "hot_shard_share_of_shard_writes": hot_shard,
        "target_share": 1.5 / shard_count,
        "ddb_calls_per_request": {op: round(n / people, 2) for op, n in sorted(server.calls.items())},
        "largest_shard_bytes": largest,
        "aws_ceiling": modelled_ceiling(shard_count, largest),
    }
