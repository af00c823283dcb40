"""`make bench`: a crowd grabbing one red envelope through a live `chalice local` on DynamoDB Local.

The server runs in its own process (`python -m tools.envelope_burst serve ...`: tools.chalice_local with every
DynamoDB write counted per item, written to a file when it stops). The bench process sends N claims at once over
HTTP and reports claims/s, the busiest item's share of all writes, and the modelled ceiling on AWS.
"""
from __future__ import annotations

import atexit
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

import requests

from chalicelib.adapters.dynamo import key
from chalicelib.adapters.envelopes_repo import shard_key
from chalicelib.bootstrap import Container
from chalicelib.domain.envelopes import LISTING_PARTITIONS
from chalicelib.domain.points import CampaignInput
from chalicelib.settings import Settings
from infra import provision
from tools import localstack
from tools.tokens import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-long-enough-for-hs256"
PARTITION_WCU_PER_S = 1_000  # one partition on AWS
PARTITION_RCU_PER_S = 3_000
_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item (attribute names plus values; numbers about 1 byte per 2 digits + 1)."""
    def size(v: Any) -> int:
        if isinstance(v, bool) or v is None:
            return 1
        if isinstance(v, int):
            return len(str(abs(v))) // 2 + 2
        if isinstance(v, str):
            return len(v.encode())
        if isinstance(v, (list, set, tuple)):
            return 3 + sum(size(x) + 1 for x in v)
        if isinstance(v, dict):
            return 3 + sum(len(k) + size(x) + 1 for k, x in v.items())
        return len(str(v))
    return sum(len(k) + size(v) for k, v in item.items())


def modelled_ceiling(shards: int, shard_bytes: int) -> dict[str, int]:
    """Claims/s one envelope takes on AWS: each claim writes one shard transactionally (2 WCU per KB), reads every
    shard eventually consistently (0.5 RCU per 4 KB), and writes its claim item to one of the listing partitions."""
    write_wcu = 2 * math.ceil(shard_bytes / 1024)
    read_rcu = 0.5 * math.ceil(shard_bytes / 4096)
    by_writes = shards * PARTITION_WCU_PER_S // write_wcu
    by_reads = int(PARTITION_RCU_PER_S / read_rcu)
    by_listing = min(shards, LISTING_PARTITIONS) * PARTITION_WCU_PER_S
    return {"by_shard_writes": by_writes, "by_shard_reads": by_reads, "by_listing": by_listing,
            "claims_per_s": min(by_writes, by_reads, by_listing)}


def burst(endpoints: dict[str, str], prefix: str, shares: int, people: int, max_shards: int,
          threads: int = 32) -> dict[str, Any]:
    settings = Settings(stage="local", resource_prefix=prefix, dynamodb_endpoint=endpoints["dynamodb"],
                        sqs_endpoint=endpoints["sqs"], jwt_secret=SECRET, envelope_max_shards=max_shards)
    store = Container(settings)
    provision.create_tables(store.dynamodb, prefix)
    store.campaigns.create("bench", CampaignInput(campaign_id="bench-rp", name="Bench", budget_points=10**9))
    counts_file = Path(tempfile.mkstemp(prefix="envelope-writes-", suffix=".json")[1])
    port = localstack.free_port()
    env = {**os.environ, "LIFESHOP_RESOURCE_PREFIX": prefix, "LIFESHOP_DYNAMODB_ENDPOINT": endpoints["dynamodb"],
           "LIFESHOP_SQS_ENDPOINT": endpoints["sqs"], "LIFESHOP_JWT_SECRET": SECRET, "LIFESHOP_REGION": "cn-north-1",
           "LIFESHOP_ENVELOPE_MAX_SHARDS": str(max_shards)}
    proc = subprocess.Popen([sys.executable, "-m", "tools.envelope_burst", "serve", str(counts_file), str(port)],
                            cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        localstack.wait_for_port(port, proc, "chalice local")
        url = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=threads))

        def call(method: str, path: str, user: str, groups: list[str], **kw: Any) -> requests.Response:
            token = mint_local_token(SECRET, user, groups, 3600, int(time.time()))
            return session.request(method, url + path, headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Type": "application/json", **kw.pop("headers", {})},
                                   timeout=60, **kw)

        made = call("POST", "/envelopes", "bench-merch", ["merchandiser"], headers={"Idempotency-Key": "bench-drop-1"},
                    data=json.dumps({"total_points": shares * 10, "shares": shares, "audience": {"kind": "link"},
                                     "campaign_id": "bench-rp"}))
        assert made.status_code == 201, made.text
        envelope_id = made.json()["envelope_id"]
        call("GET", f"/envelopes/{envelope_id}", "bench-merch", ["merchandiser"])  # the server's container is built
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            statuses = list(pool.map(lambda i: call("POST", f"/envelopes/{envelope_id}/claims", f"grab-{i}",
                                                    []).status_code, range(people)))
        took = time.perf_counter() - started
    finally:
        localstack.stop(proc)
    counted = json.loads(counts_file.read_text())
    counts_file.unlink()
    claims = statuses.count(201)
    if claims != min(shares, people) or set(statuses) - {201, 409}:
        raise SystemExit(f"envelope burst: {Counter(statuses)} for {shares} shares and {people} people")
    shard_count = store.table.get(key(f"ENVELOPE#{envelope_id}", "META"))["shard_count"]
    shard_items = [store.table.get(shard_key(envelope_id, k)) for k in range(shard_count)]
    writes = Counter(counted["writes"])
    shard_writes = {pk: n for pk, n in writes.items() if pk.startswith("ENVSHARD#")}
    largest = max(item_bytes(s) for s in shard_items)
    return {"shares": shares, "people": people, "shards": shard_count, "claims": claims,
            "claims_per_s": claims / took,
            "hot_item_write_share": max(writes.values()) / sum(writes.values()),
            "hot_shard_share_of_shard_writes": max(shard_writes.values()) / sum(shard_writes.values()),
            "target_share": 1.5 / shard_count,
            "ddb_calls_per_request": {op: round(n / people, 2) for op, n in sorted(counted["calls"].items())},
            "largest_shard_bytes": largest, "aws_ceiling": modelled_ceiling(shard_count, largest)}


def serve(counts_file: str, port: str) -> None:
    """chalice local with every DynamoDB call counted, and each written item counted by its partition key."""
    from chalice.cli import main

    from chalicelib import bootstrap
    import tools.chalice_local  # noqa: F401  (its patches to chalice local)

    calls: Counter = Counter()
    writes: Counter = Counter()

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        if model.name == "TransactWriteItems":
            for op in params["TransactItems"]:
                for kind in ("Put", "Update", "Delete"):
                    if kind in op:
                        writes[(op[kind].get("Key") or op[kind]["Item"])["pk"]["S"]] += 1
        elif model.name in _WRITES:
            writes[(params.get("Key") or params["Item"])["pk"]["S"]] += 1

    build = bootstrap.Container.dynamodb.func

    def counted(self: Container) -> Any:
        client = build(self)
        client.meta.events.register("provide-client-params.dynamodb.*", seen)
        return client

    prop = cached_property(counted)
    prop.__set_name__(bootstrap.Container, "dynamodb")
    bootstrap.Container.dynamodb = prop  # type: ignore[method-assign,assignment]

    def dump() -> None:
        Path(counts_file).write_text(json.dumps({"calls": calls, "writes": writes}))

    atexit.register(dump)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.argv = ["chalice", "local", "--no-autoreload", "--host", "127.0.0.1", "--port", port, "--stage", "local"]
    main()


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(sys.argv[2], sys.argv[3])
