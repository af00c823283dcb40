"""`make bench`: a launch day. Many people register for one event at once; how many registrations a second the
shop takes on DynamoDB Local, and which share of all writes lands on the busiest item (what bounds one event on
AWS: one item takes about 500 transactional writes a second)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain.community import AdminEventInput, RegistrationInput
from chalicelib.domain.errors import DomainError
from tools.burst_floor import against_floor, bench_store, shape_of, warm

AWS_ITEM_TX_WRITES_PER_S = 500  # 1,000 WCU/s per partition, 2 WCU per transactional write of ≤ 1 KB
AWS_ITEM_TX_CHECKS_PER_S = 1_500  # 3,000 RCU/s per partition, 2 RCU per transactional read (a ConditionCheck)


class ItemWrites:
    """Counts, per partition key, the items every TransactWriteItems writes (Put, Update, Delete; a ConditionCheck
    only reads): a partition takes about 1,000 WCU/s on AWS, however many items share it."""

    def __init__(self, client: Any) -> None:
        self.items: Counter = Counter()
        self.shapes: Counter = Counter()  # by their operations (tools/burst_floor.py)
        self.calls: Counter = Counter()  # every call, by operation
        client.meta.events.register("provide-client-params.dynamodb.*", self._called)
        client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", self._seen)

    def _called(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _seen(self, params: dict[str, Any], **_: Any) -> None:
        self.shapes[shape_of(params)] += 1
        for op in params["TransactItems"]:
            for kind in ("Put", "Update", "Delete"):
                if kind in op:
                    body = op[kind].get("Key") or op[kind]["Item"]
                    self.items[body["pk"]["S"]] += 1


def burst(endpoints: dict[str, str], prefix: str, capacity: int, people: int, threads: int = 32) -> dict[str, Any]:
    store = bench_store(endpoints, prefix)
    warm(endpoints["dynamodb"], threads)
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
    event = store.events.create(
        "bench",
        AdminEventInput(
            title="Launch day",
            title_zh="发布日",
            description="bench",
            city="Shanghai",
            venue="Hall",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            capacity=capacity,
        ),
        official=True,
    )
    writes = ItemWrites(store.dynamodb)

    def register(i: int) -> bool:
        try:
            store.registrations.register(f"fan-{i}", event.event_id, f"launch-{i:06d}", RegistrationInput())
            return True
        except DomainError:
            return False

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        seated = sum(pool.map(register, range(people)))
    took = time.perf_counter() - started
    settings = store.settings
    shards = settings.ticket_shards if capacity >= settings.ticket_shard_min_capacity else 1
    busiest = max(writes.items.values())
    return {
        "capacity": capacity,
        "shards": shards,
        "seated": seated,
        "registrations_per_s": seated / took,
        **against_floor(
            endpoints["dynamodb"],
            seated / took,
            writes.shapes,
            writes.calls,
            requests=people,
            threads=threads,
            units=capacity,
            shards=shards,
        ),
        "hot_partition_write_share": busiest / sum(writes.items.values()),
        "busiest_item_writes_per_registration": busiest / seated,
        # sharded: every registration still checks the ticket item (a transactional read), so that bounds it
        "aws_ceiling_registrations_per_s": AWS_ITEM_TX_WRITES_PER_S
        if shards == 1
        else min(AWS_ITEM_TX_WRITES_PER_S * shards, AWS_ITEM_TX_CHECKS_PER_S),
    }
