"""`make bench`: AWS calls per operation and the handler's overhead over the same raw calls.

Against DynamoDB Local and a local SQS (started here on free ports). Two identical stores, A and B, each in a
DynamoDB Local of its own: each operation runs through the Lambda entry point on one store while every boto3 call it
makes is recorded; the recorded calls are then replayed with plain boto3 on the other (same items, same conditions,
so the two stay identical). The replay's latency is the floor: what the operation costs with no code of ours around
it. The app runs on A and on B in turn (BLOCK). Ends with one JSON line. BENCH_N sets the timed requests per
operation (default 100).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any, Callable

from botocore import xform_name
from chalice.local import RouteMatcher

from chalicelib import bootstrap, logs
from chalicelib.bootstrap import Container
from chalicelib.domain.catalog import ProductInput
from chalicelib.domain.envelopes import EnvelopeInput
from chalicelib.domain.points import CampaignInput, GrantInput
from chalicelib.settings import Settings
from infra import provision
from tools import (
    burst_floor,
    catalog,
    cold_start,
    drop_burst,
    envelope_burst,
    launch_day,
    localstack,
    merchant_bench,
    polls_bench,
    reviews_bench,
    search_bench,
)
from tools.tokens import mint_local_token

N = int(os.environ.get("BENCH_N", "100"))
COLD_RUNS = 5  # prewarmed first orders
WARM_UP = 300  # reads on A and B before the warm operations are timed
# The warm operations run the app on A (floor on B) for BLOCK requests, then on B (floor on A), and so on: each
# DynamoDB Local answers a few percent faster or slower than the other in a given run, and taking both sides cancels
# that out. The first request after a swap is not timed: the store the app moves to has just answered the floor's
# replay, which makes its next answer faster (with a swap on every request the app read 0.93-1.04 of its floor).
BLOCK = 10
READS = 10 * N  # timed requests of the two reads (catalog page, quote): they change nothing and cost little, and
# their median is then known about three times better than from N (the quote's pair ratios spread ~0.15 about it)


def rounds(timed: int) -> int:
    """Requests a warm operation makes for `timed` timed ones: one more, untimed, after each swap."""
    return timed + -(-timed // BLOCK)


ROUNDS = rounds(N)
COLD_PAIRS = int(os.environ.get("BENCH_COLD_PAIRS", "15"))  # pairs of cold first orders and their floors
USERS = [f"bench-{i}" for i in range(10)]
ADDRESS = {
    "name": "Bench",
    "phone": "+86 138 0000 0000",
    "line1": "1 Road",
    "city": "Shanghai",
    "province": "Shanghai",
    "postal_code": "201805",
    "country": "CN",
}


class Recorder:
    """Records every call the clients make while `on`: (service, operation, parameters). It wraps each client's call
    method, so recording adds a function call and an append to the handler's time, not a copy of the parameters;
    they are read (and botocore's idempotency token, which it adds to them in place, dropped) only after the handler
    returns. A replay's calls go through the same wrapper (the floor pays what the app pays), unrecorded."""

    def __init__(self, *clients: Any) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.on = True
        for client in clients:
            client._make_api_call = self._recording(client.meta.service_model.service_name, client._make_api_call)

    def _recording(self, service: str, call: Callable[[str, dict[str, Any]], Any]) -> Callable[..., Any]:
        def recording(operation: str, params: dict[str, Any]) -> Any:
            if self.on:
                self.calls.append((service, operation, params))
            return call(operation, params)

        return recording

    def counts(self) -> Counter:
        return Counter(op for _, op, _ in self.calls)


def build_store(endpoints: dict[str, str], prefix: str) -> Container:
    # The bench leaves many orders unpaid per user on purpose (points + cash latency), so the per-user cap on
    # pending orders is lifted to its maximum; BENCH_N up to 900 stays within it over the 10 users (ROUNDS orders).
    settings = Settings(
        stage="local",
        resource_prefix=prefix,
        dynamodb_endpoint=endpoints["dynamodb"],
        sqs_endpoint=endpoints["sqs"],
        jwt_secret="bench-secret-long-enough-for-hs256",
        max_pending_orders=100,
    )
    store = Container(settings)
    provision.create_tables(store.dynamodb, prefix)
    provision.create_queues(store.sqs, prefix)
    catalog.seed(store.catalog, catalog.load())
    for sku, points, cash in (("BENCH-POINTS", True, False), ("BENCH-MIXED", True, True)):
        store.catalog.create(
            "bench",
            ProductInput.model_validate(
                {
                    "product_id": sku.lower(),
                    "category": "tech",
                    "title": sku,
                    "title_zh": "基准",
                    "status": "active",
                    "accepts": {"points": points, "cash": cash},
                    "skus": [{"sku": sku, "price_fen": 1000, "stock": 1_000_000}],
                }
            ),
        )
    store.campaigns.create("bench", CampaignInput(campaign_id="bench", name="Bench", budget_points=10**9))
    for user in USERS:
        store.users.ensure_profile(user)
        store.campaigns.grant("bench", "bench", GrantInput(user_id=user, points=10**7, reason="bench", ref=user))
    return store


def pair_ratios(handler: list[float], floor: list[float]) -> dict[str, Any]:
    """Each request's time over its own replay's, taken right after it: the median, the spread of the middle half
    over it, and the notch of a box plot (about a 90% interval of the median)."""
    if len(handler) < 2:
        return {"pair_ratio": None, "pair_spread": None, "pair_ratio_interval": None, "timed": len(handler)}
    median, spread, interval = cold_start.median_spread([h / f for h, f in zip(handler, floor, strict=True)])
    return {"pair_ratio": median, "pair_spread": spread, "pair_ratio_interval": interval, "timed": len(handler)}


def _side(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def by_name_p50(results: list[dict[str, Any]], name: str) -> float:
    return next(r["handler_p50_ms"] for r in results if r["name"] == name)


class Bench:
    def __init__(self, a: Container, b: Container) -> None:
        self.a, self.b = a, b
        self.recorder = Recorder(a.dynamodb, a.sqs, b.dynamodb, b.sqs)
        self.rename = (a.settings.prefix + "-", b.settings.prefix + "-")
        # (the app's store, the floor's, their names' prefixes): the app on A, or on B with the floor on A
        self.sides = ((a, b, self.rename), (b, a, (self.rename[1], self.rename[0])))
        self.side = 0
        bootstrap.use(a)
        from app import app

        self.app = app
        self.routes = RouteMatcher(list(app.routes))
        self.events: dict[tuple[str, str], dict[str, Any]] = {}
        self.tokens = {u: mint_local_token(a.settings.local_jwt_secret, u, [], 3600, int(time.time())) for u in USERS}
        self.handler_s = 0.0  # the time spent in the Lambda entry point since `measure` last set it to 0

    def request(self, method: str, path: str, user: str, body: Any = None, headers: dict | None = None) -> int:
        """One request through the Lambda entry point; only `app(event, None)` is timed (into `handler_s`): the
        client sends the body, API Gateway builds the event."""
        if user not in self.tokens:
            self.tokens[user] = mint_local_token(self.a.settings.local_jwt_secret, user, [], 3600, int(time.time()))
        h = {"Content-Type": "application/json", "Authorization": f"Bearer {self.tokens[user]}", **(headers or {})}
        event = {**self.gateway_event(method, path), "headers": h, "body": json.dumps(body) if body else None}
        event["multiValueHeaders"] = {k: [v] for k, v in h.items()}
        event["requestContext"] = {**event["requestContext"], "requestId": f"bench-{time.time_ns()}"}  # as API GW does
        started = time.perf_counter()
        response = self.app(event, None)
        self.handler_s += time.perf_counter() - started
        return int(response["statusCode"])

    def gateway_event(self, method: str, path: str) -> dict[str, Any]:
        """The API Gateway proxy event of a request to `path`, but its headers and body: the Lambda entry point is
        what is timed, as in production. Matching the path to its route is API Gateway's work, so it is done once
        per path here, not in the handler's time (chalice's local gateway would do it on every request)."""
        if (method, path) not in self.events:
            route = self.routes.match_route(path)
            query = route.query_params or None
            self.events[(method, path)] = {
                "resource": route.route,
                "path": path.split("?")[0],
                "httpMethod": method,
                "pathParameters": route.captured or None,
                "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
                "multiValueQueryStringParameters": query,
                "stageVariables": None,
                "isBase64Encoded": False,
                "requestContext": {
                    "resourcePath": route.route,
                    "httpMethod": method,
                    "stage": "api",
                    "path": path.split("?")[0],
                    "identity": {"sourceIp": "127.0.0.1"},
                },  # fmt: skip
            }
        return self.events[(method, path)]

    def use(self, side: int) -> None:
        """The app on A (side 0: its floor on B) or on B (side 1: its floor on A)."""
        self.side = side
        bootstrap.use(self.sides[side][0])

    def replay(self) -> float:
        """The app's recorded calls on the other store with plain boto3; only the calls are timed (their parameters
        are renamed for that store before the clock starts)."""
        _, floor, rename = self.sides[self.side]
        calls = []
        for service, op, params in self.recorder.calls:
            client = floor.dynamodb if service == "dynamodb" else floor.sqs
            mine = {k: v for k, v in params.items() if k != "ClientRequestToken"}  # botocore makes a new one
            calls.append((client, getattr(client, xform_name(op)), json.loads(json.dumps(mine).replace(*rename))))
        self.recorder.on = False
        started = time.perf_counter()
        try:
            for client, call, renamed in calls:
                try:
                    call(**renamed)
                except client.exceptions.TransactionCanceledException:
                    pass  # the stores are in the same state, so this only happens when the app's call failed alike
            return time.perf_counter() - started
        finally:
            self.recorder.on = True

    def measure(self, name: str, call: Callable[[int], int], expect: int, timed: int = N) -> dict[str, Any]:
        """`timed` requests timed against their floors, in blocks of BLOCK with the app on A, then on B, and so on;
        the ratios are of all of them (each side's own ratio is kept, to show how far the two stores differ). Each
        request and its replay also make a pair: the median of the pairs' ratios, their spread and how well that
        median is known (as for the cold start) are given beside the ratio of the medians."""
        handler: list[list[float]] = [[], []]
        floor: list[list[float]] = [[], []]
        counts: Counter = Counter()
        try:
            for i in range(rounds(timed)):
                block, at = divmod(i, BLOCK + 1)
                self.use(block % 2)
                self.recorder.calls.clear()
                self.handler_s = 0.0
                status = call(i)
                if status != expect:
                    raise SystemExit(f"{name}: status {status}, expected {expect}")
                took = self.handler_s
                if at:  # the first request after a swap is neither timed nor counted (BLOCK)
                    counts += self.recorder.counts()
                floor_s = self.replay()
                if at:
                    handler[self.side].append(took)
                    floor[self.side].append(floor_s)
        finally:
            self.use(0)
        per_op = {op: round(n / timed, 2) for op, n in sorted(counts.items())}
        by_side = [  # none for a side that ran no timed request (BENCH_N of BLOCK or less)
            burst_floor.against_floor_ms(h, f)["p50_ratio"] if h else None for h, f in zip(handler, floor, strict=True)
        ]
        return {
            "name": name,
            "calls": per_op,
            "ddb_calls": round(sum(per_op.values()), 2),
            **burst_floor.against_floor_ms(handler[0] + handler[1], floor[0] + floor[1]),
            "p50_ratio_app_on_a": by_side[0],
            "p50_ratio_app_on_b": by_side[1],
            **pair_ratios(handler[0] + handler[1], floor[0] + floor[1]),
        }

    def claim_once(self) -> tuple[int, dict[str, int]]:
        """The calls of one claim of a campaign-funded envelope by a known user, once the container knows the
        envelope's terms (the first claim in a container reads them: one BatchGetItem more)."""
        made = self.a.envelopes.create(
            "bench-merch",
            True,
            f"bench-{time.time_ns()}",
            EnvelopeInput.model_validate(
                {"total_points": 1000, "shares": 100, "audience": {"kind": "link"}, "campaign_id": "bench"}
            ),
        )
        self.request("POST", f"/envelopes/{made.envelope_id}/claims", USERS[1])  # users 3.. must match B
        self.recorder.calls.clear()
        status = self.request("POST", f"/envelopes/{made.envelope_id}/claims", USERS[2])
        return status, dict(self.recorder.counts())

    def points_order(self, i: int) -> int:
        return self.request(
            "POST",
            "/orders",
            USERS[i % len(USERS)],
            {"items": [{"sku": "BENCH-POINTS", "qty": 1}], "points": 100, "shipping_address": ADDRESS},
            {"Idempotency-Key": f"bench-{time.time_ns()}"},
        )


def import_ratio(runs: int = 5) -> dict[str, float]:
    def fastest(code: str) -> float:
        times = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(float(out.stdout.strip()))
        return min(times)

    base = fastest("import boto3, chalice, pydantic")
    # `import pydantic` alone is lazy and loads no model machinery; any pydantic app pays for BaseModel.
    models = fastest("import boto3, chalice; from pydantic import BaseModel, Field")
    app = fastest("import app")
    # boto3 and the services load on the first request that needs them: what a cold checkout pays in all.
    first = fastest(
        "import app, chalicelib.services.checkout, chalicelib.services.orders, chalicelib.adapters.payments"
    )
    return {
        "import_base_ms": base * 1000,
        "import_models_ms": models * 1000,
        "import_app_ms": app * 1000,
        "import_first_order_ms": first * 1000,
        "import_ratio": app / base,
        "import_ratio_vs_basemodel": app / models,
        "import_ratio_first_order": first / base,
    }


def twin_terms(a: Container, b: Container) -> None:
    """Give B's SKUs A's terms_version (each store stamped its own at creation), so replays meet equal conditions."""
    for sku in ("BENCH-POINTS", "BENCH-MIXED"):
        key = {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": "META"}}
        terms = a.dynamodb.get_item(TableName=a.settings.store_table, Key=key)["Item"]["terms_version"]
        b.dynamodb.update_item(
            TableName=b.settings.store_table,
            Key=key,
            UpdateExpression="SET terms_version = :t",
            ExpressionAttributeValues={":t": terms},
        )


def bulk_orders(store: Container, count: int) -> None:
    """`count` more orders in the store (written directly: only their number matters here)."""
    client, table = store.dynamodb, store.settings.store_table
    for start in range(0, count, 25):
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"ORDER#bulk-{n}"},
                        "sk": {"S": "META"},
                        "order_id": {"S": f"bulk-{n}"},
                        "user_id": {"S": USERS[n % len(USERS)]},
                        "status": {"S": "paid"},
                        "gsi2pk": {"S": "ORDER#S#paid"},
                        "gsi2sk": {"S": f"2026-01-01T00:00:00.000Z#bulk-{n}"},
                        "gsi3pk": {"S": f"ORDER#U#{USERS[n % len(USERS)]}"},
                        "gsi3sk": {"S": f"2026-01-01#bulk-{n}"},
                        "gsi4pk": {"S": "ORDER"},
                        "gsi4sk": {"S": f"2026-01-01#bulk-{n}"},
                    }
                }
            }
            for n in range(start, min(start + 25, count))
        ]
        request = {table: items}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def main() -> int:
    os.environ.update(localstack.LOCAL_CREDENTIALS)
    logs.get("bench").parent.setLevel(logging.WARNING)  # one line per order would drown the results
    # A and B each on a DynamoDB Local of its own: in one, the tables created later answer 5-10% slower (the same
    # BatchGetItem of the same items in two stores), which flattered the app against its floor on B
    ddb_port = localstack.free_port()  # each port taken before the next is asked for
    procs = [localstack.start_dynamodb(ddb_port)]
    floor_port = localstack.free_port()
    procs.append(localstack.start_dynamodb(floor_port))
    sqs_port = localstack.free_port()
    procs.append(localstack.start_sqs(sqs_port))
    try:
        endpoints = {"dynamodb": f"http://127.0.0.1:{ddb_port}", "sqs": f"http://127.0.0.1:{sqs_port}"}
        floor_endpoints = {**endpoints, "dynamodb": f"http://127.0.0.1:{floor_port}"}
        run = str(time.time_ns())[-8:]
        bench = Bench(build_store(endpoints, f"bench-a{run}"), build_store(floor_endpoints, f"bench-b{run}"))
        twin_terms(bench.a, bench.b)
        checkers = [f"checkin-{i}" for i in range(ROUNDS)]  # one check-in a day each: a user of their own per request
        for user in checkers:
            bench.a.users.ensure_profile(user)
            bench.b.users.ensure_profile(user)
        for side in (1, 0):  # the app runs on each store in turn: both containers warm alike
            bench.use(side)
            for user in USERS + checkers:  # profiles known to the container, its policy schedule read, models built
                bench.request("GET", "/me", user)
        for side in (1, 0):  # an order on each side (the stores stay in the same state: each write is replayed)
            bench.use(side)
            bench.recorder.calls.clear()
            bench.points_order(0)
            bench.replay()
        quote = {
            "items": [{"sku": "FOOD-COF-500-M", "qty": 1}, {"sku": "BENCH-MIXED", "qty": 2}],
            "points": 500,
            "shipping_address": ADDRESS,
        }
        # Both DynamoDB Locals answer slower while their JVMs compile: the quote's call took 3.6-3.9 ms at this
        # point in one run and 1.4-1.8 ms once warm, and its ratio swung 1.07-1.20 from run to run. Reads made on
        # A and replayed on B, and the other way round, until they answer at their steady pace (untimed; they change
        # nothing).
        bench.recorder.calls.clear()
        for i in range(WARM_UP):
            bench.use(i % 2)
            bench.request("GET", "/products?category=food&limit=20", USERS[0])
            bench.request("POST", "/orders/quote", USERS[i % 10], quote)
            bench.replay()
            bench.recorder.calls.clear()
        bench.use(0)
        results = [
            bench.measure(
                "catalog_page",
                lambda i: bench.request("GET", "/products?category=food&limit=20", USERS[0]),
                200,
                READS,
            ),
            bench.measure("quote", lambda i: bench.request("POST", "/orders/quote", USERS[i % 10], quote), 200, READS),
            bench.measure("checkin", lambda i: bench.request("POST", "/me/checkins", checkers[i]), 201),
            bench.measure("checkout_points", bench.points_order, 201),
            bench.measure(
                "checkout_points_cash",
                lambda i: bench.request(
                    "POST",
                    "/orders",
                    USERS[i % 10],
                    {"items": [{"sku": "BENCH-MIXED", "qty": 2}], "points": 100, "shipping_address": ADDRESS},
                    {"Idempotency-Key": f"bench-{time.time_ns()}"},
                ),
                201,
            ),
        ]
        orders_before = ROUNDS * 2 + 2
        bench.recorder.calls.clear()
        bench.points_order(1)
        calls_small = dict(bench.recorder.counts())
        bulk_orders(bench.a, 10_000)
        bench.recorder.calls.clear()
        bench.points_order(2)
        calls_large = dict(bench.recorder.counts())
        claim_status, calls_claim = bench.claim_once()
        if claim_status != 201:
            raise SystemExit(f"envelope claim: status {claim_status}, expected 201")
        imports = import_ratio()
        env_a = {
            "LIFESHOP_STAGE": "local",
            "LIFESHOP_RESOURCE_PREFIX": bench.a.settings.prefix,
            "LIFESHOP_DYNAMODB_ENDPOINT": endpoints["dynamodb"],
            "LIFESHOP_SQS_ENDPOINT": endpoints["sqs"],
            "LIFESHOP_REGION": "cn-north-1",
            "LIFESHOP_JWT_SECRET": bench.a.settings.local_jwt_secret,
        }

        def first_orders(tag: str, runs: int) -> list[dict[str, Any]]:
            # users 3.. only: the orders of users 0-2 above ran on A alone, so their profiles differ on B (each
            # cold order's calls are replayed on B, so B keeps up with A for these)
            return [
                {
                    "token": bench.tokens[USERS[3 + i % (len(USERS) - 3)]],
                    "key": f"{tag}-{i}-{time.time_ns()}",
                    "body": {"items": [{"sku": "BENCH-POINTS", "qty": 1}], "points": 100, "shipping_address": ADDRESS},
                }
                for i in range(runs)
            ]

        waited = cold_start.settle()
        load = os.getloadavg()
        print(f"load average at the cold start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores; "
              f"waited {waited:.0f} s for it to settle)")  # fmt: skip
        runs = first_orders("cold", COLD_PAIRS * cold_start.RUNS_PER_PAIR)
        cold = cold_start.cold_first_order(env_a, floor_endpoints["dynamodb"], bench.rename, runs)
        prewarmed = cold_start.prewarmed_first_order(env_a, first_orders("snap", COLD_RUNS))
        # each burst on a DynamoDB Local of its own, beside its floor (tools/burst_floor.py)
        launch, envelope, drops = [], [], []
        for capacity in (150, 300):  # below and above the sharding threshold (200 places: 16 shards)
            with burst_floor.fresh_dynamodb(endpoints["sqs"]) as fresh:
                launch.append(launch_day.burst(fresh, f"bench-l{capacity}{run}", capacity, people=400))
        for most in (1, 32):  # 400 people on a 400-share envelope: its shares on 1 shard item, then on 16
            with burst_floor.fresh_dynamodb(endpoints["sqs"]) as fresh:
                envelope.append(
                    envelope_burst.burst(fresh, f"bench-e{most}{run}", shares=400, people=400, max_shards=most)
                )
        for shards in (1, 16):
            with burst_floor.fresh_dynamodb(endpoints["sqs"]) as fresh:
                drops.append(drop_burst.burst(fresh, f"bench-d{shards}{run}", shards))
        search = search_bench.run(lambda: burst_floor.fresh_dynamodb(endpoints["sqs"]), max(5, N // 10))
        beyond = merchant_bench.run(lambda: burst_floor.fresh_dynamodb(endpoints["sqs"]))
        reviewed = reviews_bench.run(lambda: burst_floor.fresh_dynamodb(endpoints["sqs"]))
        voted = polls_bench.run(lambda: burst_floor.fresh_dynamodb(endpoints["sqs"]))
    finally:
        localstack.stop(*procs)

    print(
        f"{'operation':<22}{'calls per operation':<58}{'p50 ms':>8}{'floor':>8}{'ratio':>7}"
        f"{'p95 ms':>8}{'floor':>8}{'ratio':>7}{'p50 ratio, app on A / on B':>28}"
    )
    for r in results:
        calls = ", ".join(f"{op} {n:g}" for op, n in r["calls"].items())
        print(
            f"{r['name']:<22}{calls:<58}{r['handler_p50_ms']:8.2f}{r['floor_p50_ms']:8.2f}{r['p50_ratio']:7.2f}"
            f"{r['handler_p95_ms']:8.2f}{r['floor_p95_ms']:8.2f}{r['p95_ratio']:7.2f}"
            f"{_side(r['p50_ratio_app_on_a']):>20} / {_side(r['p50_ratio_app_on_b'])}"
        )
    for r in results:
        if r["pair_ratio"] is not None:
            print(
                f"  {r['name']}: {r['timed']} timed; each over its own replay, median {r['pair_ratio']:.3f} "
                f"(+/-{r['pair_ratio_interval']:.3f}), spread of the middle half {r['pair_spread']:.2f}"
            )
    print(
        f"points-only order calls with {orders_before} orders: {calls_small}; "
        f"with {orders_before + 10_000}: {calls_large}"
    )
    print(
        f"import: app {imports['import_app_ms']:.0f} ms (boto3 and services load on the first request; with them "
        f"{imports['import_first_order_ms']:.0f} ms), boto3+chalice+pydantic {imports['import_base_ms']:.0f} ms, "
        f"with pydantic's BaseModel loaded {imports['import_models_ms']:.0f} ms"
    )
    print(
        f"cold start (fresh interpreter, first POST /orders through the Lambda handler): "
        f"{cold['cold_first_order_ms']:.0f} ms; boto3+chalice+pydantic with the same calls "
        f"{cold['cold_floor_ms']:.0f} ms (medians of all {cold['pairs'] * cold['runs_per_pair']} runs a side, "
        f"ratio {cold['cold_ratio_of_medians']:.3f}); {cold['pairs']} pairs, each the fastest of "
        f"{cold['runs_per_pair']} runs a side, run alternately: ratio "
        + (
            f"{cold['cold_first_order_ratio']:.3f}"
            if cold["cold_first_order_ratio"] is not None
            else f"not reported, the machine was too noisy ({cold['noisy']})"
        )
        + f" (median of the pair ratios, all {cold['cold_pair_ratio_min']:.2f}-{cold['cold_pair_ratio_max']:.2f}, "
        f"spread of the middle half {cold['cold_pair_spread']:.2f}, the median known to "
        f"+/-{cold['cold_median_interval']:.3f} of itself; "
        f"min/min as before {cold['cold_first_order_ratio_of_minima']:.3f}); by CPU time (user + system, which "
        f"waiting for a core does not count in) {cold['cold_cpu_ratio']:.3f}, spread {cold['cold_cpu_spread']:.2f}"
    )
    print(
        f"after a SnapStart-style init (bootstrap.prewarm), the first POST /orders took "
        f"{prewarmed['prewarmed_first_request_ms']:.1f} ms in the handler (min of {COLD_RUNS}; warm p50 "
        f"{by_name_p50(results, 'checkout_points'):.1f} ms); peak memory of a first-order interpreter "
        f"{prewarmed['first_order_peak_rss_mb']:.0f} MB"
    )
    for day in launch:
        print(
            f"launch day, {day['capacity']} places on {day['shards']} shard(s), 400 people at once: "
            f"{day['seated']} seated, {day['registrations_per_s']:.0f} registrations/s here, floor "
            f"{day['floor_per_s']:.0f}/s (ratio {day['ratio_to_floor']:.2f}); busiest partition "
            f"{day['hot_partition_write_share']:.3f} of all writes; AWS ceiling (modelled) "
            f"{day['aws_ceiling_registrations_per_s']} registrations/s"
        )
    for e in envelope:
        ceiling = e["aws_ceiling"]
        print(
            f"red envelope, {e['shares']} shares on {e['shards']} shard(s), {e['people']} people at once through "
            f"chalice local: {e['claims']} claims, {e['claims_per_s']:.0f} claims/s here, floor {e['floor_per_s']:.0f}/s "
            f"(ratio {e['ratio_to_floor']:.2f}); busiest item "
            f"{e['hot_item_write_share']:.3f} of all writes (target ≤ 1.5/K = {e['target_share']:.3f}), busiest shard "
            f"{e['hot_shard_share_of_shard_writes']:.3f} of shard writes; calls per request "
            f"{e['ddb_calls_per_request']}; AWS ceiling (modelled, shard items of {e['largest_shard_bytes']} bytes) "
            f"{ceiling['claims_per_s']} claims/s (shard writes {ceiling['by_shard_writes']}, shard reads "
            f"{ceiling['by_shard_reads']}, claim listing {ceiling['by_listing']})"
        )
    print(f"one uncontended claim through the handler: {calls_claim}")
    for d in drops:
        print(
            f"limited drop, one SKU's stock on {d['shards']} item(s), {d['buyers']} buyers at once through chalice "
            f"local: {d['orders_per_s']:.0f} orders/s here, floor {d['floor_per_s']:.0f}/s (ratio "
            f"{d['ratio_to_floor']:.2f}); busiest item {d['hot_item_write_share']:.3f} of all writes "
            f"(target with 16 shards ≤ 0.1), busiest stock item {d['hot_stock_item_share']:.3f} of stock writes; "
            f"AWS ceiling (modelled) {d['aws_ceiling_orders_per_s']} orders/s"
        )
    for figures in search.values():
        calls = ", ".join(f"{q} {c['calls']}" for q, c in figures["calls"].items() if not q.startswith("home"))
        for name in ("search", "listing"):
            f = figures[name]
            print(
                f"{name} at {figures['products']} products: p50 {f['handler_p50_ms']:.1f} ms, floor "
                f"{f['floor_p50_ms']:.1f} (ratio {f['p50_ratio']:.2f}); p95 {f['handler_p95_ms']:.1f} ms, floor "
                f"{f['floor_p95_ms']:.1f} (ratio {f['p95_ratio']:.2f})"
            )
        print(
            f"  DynamoDB calls per query, each equal to docs/api.md's formula: {calls}; indexed whole in "
            f"{figures['index_all_s']} s"
            + (f"; index lag after an edit {figures['index_lag_s']} s" if "index_lag_s" in figures else "")
        )
        if "hot_items" in figures:
            hot = figures["hot_items"]
            print(
                f"  hot items: {hot['search_count_writes']} searches of one query wrote {hot['search_count_shards_used']} "
                f"counter items, the busiest {hot['search_count_busiest_share']:.3f} of them (1/16 = 0.063); "
                f"{hot['bestseller_unit_writes']} sales of one product wrote {hot['bestseller_shards_used']} "
                f"partitions, the busiest {hot['bestseller_busiest_share']:.3f} (1/8 = 0.125)"
            )
        home = figures["calls"]["home"]
        print(
            f"  GET /home: {home['calls']} DynamoDB calls ({', '.join(home['ops'])}); with its ETag: "
            f"{figures['calls']['home_etag']['status']} after {figures['calls']['home_etag']['calls']} calls"
        )
    print(
        f"a bestseller's reviews: {reviewed['reviews']} approved by {reviewed['threads']} threads at once in "
        f"{reviewed['seconds']} s ({reviewed['approvals_per_s']}/s), the rating exact; its writes on "
        f"{reviewed['shards_used']} shard items, the busiest {reviewed['busiest_shard_share']} of them "
        f"(even: {reviewed['even_share']})"
    )
    print(
        f"a poll's crowd: {voted['ballots']} ballots ({voted['voters']} voters, the rest replacing theirs) by "
        f"{voted['threads']} threads at once in {voted['seconds']} s ({voted['ballots_per_s']}/s), the results "
        f"equal to a recount ({voted['capped_voters']} voters capped, largest share {voted['largest_share']}); "
        f"its writes on {voted['shards_used']} tally shards, the busiest {voted['busiest_shard_share']} of them "
        f"(even: {voted['even_share']})"
    )
    print("points beyond the shop (docs/api.md states each count):")
    for name, c in beyond["calls"].items():
        print(f"  {name}: {c['calls']} DynamoDB calls ({', '.join(c['ops'])})")
    for name, c in beyond["expiry"].items():
        print(f"  {name.replace('_', ' ')}: {c['calls']} DynamoDB calls ({', '.join(c['ops'])})")
    slot = beyond["slot_race"]
    print(
        f"  {slot['orders']} orders racing for {slot['slots_asked']} one-place slots of one room: {slot['sold']} sold, "
        f"{slot['refused_slot_full']} slot_full, in {slot['seconds']} s ({slot['orders_per_s']} orders/s); the busiest "
        f"slot drew {slot['busiest_slot_share_of_attempts']:.3f} of the attempts (even: {slot['even_share']:.3f}), each "
        "slot its own item"
    )
    by_name = {r["name"]: r for r in results}
    summary = {
        "iterations": N,
        "checkout_points_ddb_calls": by_name["checkout_points"]["ddb_calls"],
        "checkout_points_calls": by_name["checkout_points"]["calls"],
        "checkout_points_p50_ratio": round(by_name["checkout_points"]["p50_ratio"], 3),
        "checkout_points_p95_ratio": round(by_name["checkout_points"]["p95_ratio"], 3),
        "checkout_points_cash_p50_ratio": round(by_name["checkout_points_cash"]["p50_ratio"], 3),
        "quote_p50_ratio": round(by_name["quote"]["p50_ratio"], 3),
        "quote_p50_ratio_by_side": [
            None if ratio is None else round(ratio, 3)
            for ratio in (by_name["quote"]["p50_ratio_app_on_a"], by_name["quote"]["p50_ratio_app_on_b"])
        ],
        "quote_timed": by_name["quote"]["timed"],
        **{
            f"quote_{name}": None if by_name["quote"][name] is None else round(by_name["quote"][name], 3)
            for name in ("pair_ratio", "pair_spread", "pair_ratio_interval")
        },
        "checkin_calls": by_name["checkin"]["calls"],
        "checkin_p50_ratio": round(by_name["checkin"]["p50_ratio"], 3),
        "catalog_page_p50_ratio": round(by_name["catalog_page"]["p50_ratio"], 3),
        "catalog_page_p95_ratio": round(by_name["catalog_page"]["p95_ratio"], 3),
        "calls_equal_at_10_and_10000_orders": calls_small == calls_large,
        "import_ratio": round(imports["import_ratio"], 3),
        "import_ratio_vs_basemodel": round(imports["import_ratio_vs_basemodel"], 3),
        "import_ratio_first_order": round(imports["import_ratio_first_order"], 3),
        "cold_first_order_ratio": None
        if cold["cold_first_order_ratio"] is None
        else round(cold["cold_first_order_ratio"], 3),
        "cold_first_order_ms": round(cold["cold_first_order_ms"]),
        "cold_pair_ratio_range": [round(cold["cold_pair_ratio_min"], 3), round(cold["cold_pair_ratio_max"], 3)],
        "cold_pair_spread": round(cold["cold_pair_spread"], 3),
        "cold_median_interval": round(cold["cold_median_interval"], 3),
        "cold_ratio_of_medians": round(cold["cold_ratio_of_medians"], 3),
        "cold_runs_per_pair": cold["runs_per_pair"],
        "cold_first_order_ratio_of_minima": round(cold["cold_first_order_ratio_of_minima"], 3),
        "cold_cpu_ratio": round(cold["cold_cpu_ratio"], 3),
        "cold_cpu_spread": round(cold["cold_cpu_spread"], 3),
        "prewarmed_first_request_ms": round(prewarmed["prewarmed_first_request_ms"], 1),
        "first_order_peak_rss_mb": round(prewarmed["first_order_peak_rss_mb"]),
        "event_registrations_per_s": {f"{d['shards']}_shards": round(d["registrations_per_s"]) for d in launch},
        "event_hot_partition_write_share": {
            f"{d['shards']}_shards": round(d["hot_partition_write_share"], 3) for d in launch
        },
        "envelope_claims_per_s": {f"{e['shards']}_shards": round(e["claims_per_s"]) for e in envelope},
        "envelope_claim_ddb_calls": calls_claim,
        "envelope_hot_item_write_share": {
            f"{e['shards']}_shards": round(e["hot_item_write_share"], 4) for e in envelope
        },
        "envelope_hot_shard_share": {
            f"{e['shards']}_shards": round(e["hot_shard_share_of_shard_writes"], 3) for e in envelope
        },
        "envelope_aws_ceiling_claims_per_s": {
            f"{e['shards']}_shards": e["aws_ceiling"]["claims_per_s"] for e in envelope
        },
        "drop_orders_per_s": {f"{d['shards']}_shards": round(d["orders_per_s"]) for d in drops},
        "burst_ratio_to_floor": {
            **{f"launch_{d['shards']}_shards": round(d["ratio_to_floor"], 2) for d in launch},
            **{f"envelope_{e['shards']}_shards": round(e["ratio_to_floor"], 2) for e in envelope},
            **{f"drop_{d['shards']}_shards": round(d["ratio_to_floor"], 2) for d in drops},
        },
        "drop_hot_item_write_share": {f"{d['shards']}_shards": round(d["hot_item_write_share"], 4) for d in drops},
        "drop_aws_ceiling_orders_per_s": {f"{d['shards']}_shards": d["aws_ceiling_orders_per_s"] for d in drops},
        "search_p50_ratio": {size: round(f["search"]["p50_ratio"], 3) for size, f in search.items()},
        "search_p95_ratio": {size: round(f["search"]["p95_ratio"], 3) for size, f in search.items()},
        "search_p50_ms": {size: round(f["search"]["handler_p50_ms"], 1) for size, f in search.items()},
        "sorted_listing_p50_ratio": {size: round(f["listing"]["p50_ratio"], 3) for size, f in search.items()},
        "sorted_listing_p95_ratio": {size: round(f["listing"]["p95_ratio"], 3) for size, f in search.items()},
        "search_calls": {
            size: {q: c["calls"] for q, c in f["calls"].items() if "formula" in c} for size, f in search.items()
        },
        "search_calls_equal_formula": all(
            c["calls"] == c["formula"] for f in search.values() for c in f["calls"].values() if "formula" in c
        ),
        "search_index_lag_s": search["64"]["index_lag_s"],
        "home_calls": {size: f["calls"]["home"]["calls"] for size, f in search.items()},
        "search_hot_items": search["64"]["hot_items"],
        "merchant_calls": {name: c["calls"] for name, c in beyond["calls"].items()},
        "slot_race": beyond["slot_race"],
        "expiry_calls": {name: c["calls"] for name, c in beyond["expiry"].items()},
        "review_approvals": reviewed,
        "poll_crowd": voted,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
