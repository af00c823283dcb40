"""`make bench`: what a burst could do at best on this DynamoDB Local, and a fresh DynamoDB Local for each burst.

A burst's figure (registrations, claims or orders a second) means little alone: DynamoDB Local slows as stream
records pile up (infra/provision.py), and a 2-core machine runs the server, the app and the crowd at once. So each
burst runs on a DynamoDB Local of its own with tables without streams, and is set against its *floor*: raw boto3
doing, per request, what the shop's request does at the DynamoDB level (one BatchGetItem of the hot items, then one
TransactWriteItems of the same operations: the stock or share item taken conditionally, the same number of other
items put, the same condition checks) and the calls the shop's request makes around them, with the shop's retry rule
(`services.retry.on_lost_race`) at the same concurrency. The ratio app/floor says how much of the time is ours.
"""

from __future__ import annotations

import contextlib
import itertools
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ContextManager, Iterator, Optional

import boto3
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import Contention, LostRace, cancellation_codes, error_code
from chalicelib.services.retry import on_lost_race
from tools import localstack

_OPS = ("Put", "Update", "Delete", "ConditionCheck")


@contextlib.contextmanager
def fresh_dynamodb(sqs_endpoint: str) -> Iterator[dict[str, str]]:
    """A DynamoDB Local of its own for one burst (nothing earlier measurements left in it)."""
    port = localstack.free_port()
    proc = localstack.start_dynamodb(port)
    try:
        yield {"dynamodb": f"http://127.0.0.1:{port}", "sqs": sqs_endpoint}
    finally:
        localstack.stop(proc)


def bench_store(endpoints: dict[str, str], prefix: str, streams: bool = False) -> Any:
    """The app's container on new tables under `prefix` (stream-less unless asked: nothing reads it in a burst)."""
    from chalicelib.bootstrap import Container
    from chalicelib.settings import Settings
    from infra import provision

    settings = Settings(
        stage="local",
        resource_prefix=prefix,
        dynamodb_endpoint=endpoints["dynamodb"],
        sqs_endpoint=endpoints["sqs"],
        jwt_secret="bench-secret-long-enough-for-hs256",
    )
    store = Container(settings)
    provision.create_tables(store.dynamodb, prefix, streams=streams)
    return store


def on_fresh_store(fresh: Callable[[], ContextManager[dict[str, str]]], prefix: str,
                   work: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """`work(services)` on the app's container over a fresh DynamoDB Local, as the global container meanwhile."""
    from chalicelib import bootstrap

    with fresh() as endpoints:
        services = bench_store(endpoints, prefix)
        bootstrap.use(services)
        try:
            return work(services)
        finally:
            bootstrap.use(None)


# a shipping address every bench order uses
ADDRESS = {"name": "Li Lei", "phone": "+86 138 0000 0000", "line1": "1 Anting Road", "city": "Shanghai",
           "province": "Shanghai", "postal_code": "201805", "country": "CN"}  # fmt: skip


def points_product(services: Any, product_id: str, sku: str, title: str) -> None:
    """An active tech product of one SKU (10 yuan, a million in stock) that only points pay for."""
    from chalicelib.domain.catalog import ProductInput

    product = {
        "product_id": product_id,
        "category": "tech",
        "title": title,
        "title_zh": "基准",
        "status": "active",
        "accepts": {"points": True, "cash": False},
        "skus": [{"sku": sku, "price_fen": 1000, "stock": 1_000_000}],
    }
    services.catalog.create("bench", ProductInput.model_validate(product))


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile of durations in seconds, in ms."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def against_floor_ms(handler: list[float], floor: list[float]) -> dict[str, float]:
    """p50 and p95 of the handler's and the floor's durations (s), in ms, and their ratios."""
    figures = {
        "handler_p50_ms": percentile(handler, 50),
        "handler_p95_ms": percentile(handler, 95),
        "floor_p50_ms": percentile(floor, 50),
        "floor_p95_ms": percentile(floor, 95),
    }
    figures["p50_ratio"] = figures["handler_p50_ms"] / figures["floor_p50_ms"]
    figures["p95_ratio"] = figures["handler_p95_ms"] / figures["floor_p95_ms"]
    return figures


def shape_of(params: dict[str, Any]) -> str:
    """A TransactWriteItems' operations by kind, as text ("ConditionCheck=1,Put=3,Update=2")."""
    kinds = Counter(kind for op in params["TransactItems"] for kind in _OPS if kind in op)
    return ",".join(f"{k}={n}" for k, n in sorted(kinds.items()))


def typical(shapes: Counter) -> dict[str, int]:
    """The most frequent transaction's operations (a request's own; its retries repeat it)."""
    if not shapes:
        return {}
    text = shapes.most_common(1)[0][0]
    return {k: int(n) for k, n in (pair.split("=") for pair in text.split(","))}


def floor(
    endpoint: str,
    *,
    requests: int,
    threads: int,
    units: int,
    shards: int,
    shape: dict[str, int],
    around: Optional[dict[str, int]] = None,
) -> dict[str, float]:
    """Raw boto3: `requests` requests at `threads` at once take `units` units spread over `shards` stock items; each
    request is one BatchGetItem (the parent items and the stock items) and one TransactWriteItems of `shape`'s
    operations (one Update takes a unit conditionally, the other Updates and Puts write items of their own, a
    ConditionCheck reads a parent item, as a sharded ticket's check does), retried as the shop retries; and
    `around` the calls the shop's request makes besides (a new user's profile put first, an UpdateItem after, more
    reads). Returns units taken a second."""
    around = around or {}
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="cn-north-1")
    table = f"floor-{time.time_ns()}"
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    share, extra = divmod(units, shards)
    checks = shape.get("ConditionCheck", 0)
    parents = [{"pk": {"S": f"PARENT#{c}"}} for c in range(max(1, checks))]  # one item a check (one op an item)
    for parent in parents:
        client.put_item(TableName=table, Item={**parent, "title": {"S": "x" * 200}})
    for k in range(shards):
        client.put_item(TableName=table, Item={"pk": {"S": f"STOCK#{k}"}, "left": {"N": str(share + (k < extra))}})
    others = max(0, shape.get("Put", 0) + shape.get("Update", 0) + shape.get("Delete", 0) - 1)
    serial = itertools.count()
    body = {"S": "y" * 600}  # about an order's or a claim's size

    def own(i: int) -> dict[str, Any]:
        return {"pk": {"S": f"OWN#{i}"}}

    def request(i: int) -> bool:
        for _ in range(around.get("PutItem", 0)):
            client.put_item(TableName=table, Item={**own(i), "body": body})
        for _ in range(around.get("GetItem", 0)):
            client.get_item(TableName=table, Key=own(i), ConsistentRead=True)
        for _ in range(around.get("BatchGetItem", 0)):
            client.batch_get_item(RequestItems={table: {"Keys": [own(i)], "ConsistentRead": True}})
        tries = itertools.count()

        def attempt() -> bool:
            n = next(tries)
            keys = parents + [{"pk": {"S": f"STOCK#{k}"}} for k in range(shards)]
            read = client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
            left = {
                int(it["pk"]["S"].split("#")[1]): int(it["left"]["N"])
                for it in read["Responses"][table]
                if it["pk"]["S"].startswith("STOCK#")
            }
            if not any(left.values()):
                return False  # sold out
            home = i % shards
            shard = home if n == 0 or left.get(home, 0) else max(left, key=lambda k: left[k])
            ops: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"STOCK#{shard}"}},
                        "UpdateExpression": "SET #left = #left - :one",
                        "ConditionExpression": "#left >= :one",
                        "ExpressionAttributeNames": {"#left": "left"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
            ops += [
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": parent,
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
                for parent in parents[:checks]
            ]
            ops += [
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": f"REQ#{i}#{j}#{next(serial)}"}, "body": body},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for j in range(others)
            ]
            try:
                client.transact_write_items(TransactItems=ops)
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                codes = cancellation_codes(exc)
                raise (LostRace() if "ConditionalCheckFailed" in codes else Contention(codes)) from None
            return True

        taken = on_lost_race(attempt, "the floor's stock")
        for _ in range(around.get("UpdateItem", 0)):
            client.update_item(
                TableName=table, Key=own(i), UpdateExpression="SET paid = :t", ExpressionAttributeValues={":t": body}
            )
        return taken

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        taken = sum(pool.map(request, range(requests)))
    took = time.perf_counter() - started
    client.delete_table(TableName=table)
    return {"per_s": taken / took, "taken": taken}


def warm(endpoint: str, threads: int) -> None:
    """A fresh DynamoDB Local's JVM compiles as it goes: a small burst first, so the app's burst does not pay it."""
    floor(endpoint, requests=4 * threads, threads=threads, units=4 * threads, shards=4, shape={"Put": 2, "Update": 1})


def besides(calls: Counter, requests: int) -> dict[str, int]:
    """The calls a typical request of the burst makes besides its read and its transaction (per request, rounded)."""
    per = {op: round(n / requests) for op, n in calls.items()}
    per["BatchGetItem"] = max(0, per.get("BatchGetItem", 0) - 1)
    return {op: n for op, n in per.items() if n and op in ("PutItem", "GetItem", "BatchGetItem", "UpdateItem")}


def against_floor(
    endpoint: str,
    app_per_s: float,
    shapes: Counter,
    calls: Counter,
    *,
    requests: int,
    threads: int,
    units: int,
    shards: int,
) -> dict[str, Any]:
    """The app's rate beside its floor's (the same requests, units, shards, concurrency, transaction shape and calls
    around it)."""
    shape, around = typical(shapes), besides(calls, requests)
    best = floor(endpoint, requests=requests, threads=threads, units=units, shards=shards, shape=shape, around=around)[
        "per_s"
    ]
    return {"floor_per_s": best, "ratio_to_floor": app_per_s / best, "transaction": shape, "besides": around}
