"""`make bench`'s figures for points beyond the shop, on a DynamoDB Local of its own:

- the DynamoDB calls of a shopper's payment code, a merchant's capture and a refund, and of an order booking a room,
  through the handler (in process), each checked against the number docs/api.md states;
- the calls of a points order and of its refund with the policy's expiry off and on;
- 64 orders racing for 8 slots of one room (capacity 1, each order one slot, 32 threads at once): exactly 8 are
  sold, every other order is refused `slot_full`, the slots hold 8; how long the race took; and how the slots'
  conditional writes spread (each slot is its own item: the busiest slot's share of the slot writes, against 1/8)."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ContextManager

from chalicelib import bootstrap
from chalicelib.adapters.tokens import mint_local_token
from chalicelib.domain.checkout import BookingLine, BookingRequest, OrderRequest
from chalicelib.domain.errors import DomainError
from chalicelib.domain.points import CampaignInput, GrantInput
from tools.burst_floor import ADDRESS, bench_store, points_product

# The calls docs/api.md states, for the second request of each kind (a warm container; a capture reads the merchant in
# the same BatchGetItem as its key's record and the code, a refund reads it alone).
EXPECTED = {"payment_code": 2, "capture": 3, "refund": 5, "booking_order": 2}
WEEK = {d: ["10:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _grant(services: Any, user: str, points: int) -> None:
    try:
        services.campaigns.create("bench", CampaignInput(campaign_id="bench-bank", name="Bench", budget_points=10**9))
    except DomainError:
        pass
    services.campaigns.grant(
        "bench", "bench-bank", GrantInput(user_id=user, points=points, reason="bench", ref=f"{user}-{time.time_ns()}")
    )


def _call(http: Any, recorder: Any, method: str, path: str, token: str, body: Any = None, key: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    recorder.calls.clear()
    reply = http.request(method, path, headers=headers, body=json.dumps(body).encode() if body is not None else b"")
    if reply.status_code >= 300:
        raise SystemExit(f"merchant bench: {method} {path} answered {reply.status_code} {reply.body[:300]!r}")
    return json.loads(reply.body), sorted(op for _, op, _ in recorder.calls)


def calls(services: Any) -> dict[str, Any]:
    """The DynamoDB calls of each request, the second of its kind (a warm container)."""
    from chalice.test import Client

    from app import app
    from tools.bench import Recorder

    bootstrap.use(services)
    http = Client(app, stage_name="local").http
    recorder = Recorder(services.dynamodb)
    secret, now = services.settings.local_jwt_secret, int(time.time())
    merch = mint_local_token(secret, "bench-merch", ["merchandiser"], 3600, now)
    staff = mint_local_token(secret, "bench-barista", ["merchant"], 3600, now, None, "bench-house")
    house = {"merchant_id": "bench-house", "name": "Bench House", "name_zh": "门店", "kind": "nio_house"}
    _call(http, recorder, "POST", "/admin/merchants", merch, house)
    room = {
        "resource_id": "bench-call-room",
        "house": "bench-house",
        "kind": "room",
        "title": "Room",
        "title_zh": "房间",
        "capacity": 1,
        "slot_minutes": 60,
        "hours": WEEK,
        "price_fen_per_slot": 1000,
    }
    _call(http, recorder, "POST", "/admin/resources", merch, room)
    day = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=3)).isoformat()
    found: dict[str, Any] = {}
    for n in range(2):
        shopper = f"bench-shopper-{n}"
        _grant(services, shopper, 10_000)
        token = mint_local_token(secret, shopper, [], 3600, now)
        _call(http, recorder, "GET", "/me", token)  # the profile exists, as for a shopper of the app
        code, found["payment_code"] = _call(http, recorder, "POST", "/me/payment-codes", token)
        body = {"code": code["code"], "points": 300, "reference": f"till-{n}"}
        paid, found["capture"] = _call(http, recorder, "POST", "/merchant/payments", staff, body, key=f"pay-{n}-key")
        refund = {"points": 100, "reason": "bench"}
        _, found["refund"] = _call(
            http, recorder, "POST", f"/merchant/payments/{paid['payment_id']}/refunds", staff, refund
        )
        line = {"booking": {"resource_id": "bench-call-room", "date": day, "start": f"1{n}:00", "slots": 1}}
        order = {"items": [line], "points": 100}
        _, found["booking_order"] = _call(http, recorder, "POST", "/orders", token, order, key=f"book-{n}-key")
    result = {name: {"calls": len(ops), "ops": ops, "expected": EXPECTED[name]} for name, ops in found.items()}
    wrong = {k: v for k, v in result.items() if v["calls"] != v["expected"]}
    if wrong:
        raise SystemExit(f"merchant bench: calls differ from docs/api.md: {wrong}")
    return result


class _Ahead:
    """The real clock, moved ahead on demand: a policy scheduled a minute out is in force without waiting."""

    def __init__(self) -> None:
        self.ahead = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.ahead


def expiry_calls(services: Any) -> dict[str, Any]:
    """The DynamoDB calls of a points order (the second of a shopper's, warm) with expiry off, then on (the lots
    move inside the profile's compare-and-swap: the same calls), and of its refund (on: one GetItem more, what the
    order drew)."""
    from chalice.test import Client

    from app import app
    from chalicelib.adapters.clock import iso
    from chalicelib.bootstrap import Container
    from chalicelib.domain.policy import VersionInput
    from tools.bench import Recorder

    clock = _Ahead()
    shop = Container(services.settings, clock=clock)
    bootstrap.use(shop)
    http = Client(app, stage_name="local").http
    recorder = Recorder(shop.dynamodb)
    secret, now = shop.settings.local_jwt_secret, int(time.time())
    merch = mint_local_token(secret, "bench-merch", ["merchandiser"], 3600, now)
    points_product(shop, "bench-lots", "BENCH-LOTS", "Lots")

    def order_and_refund(user: str) -> tuple[list[str], list[str]]:
        _grant(shop, user, 10_000)
        token = mint_local_token(secret, user, [], 3600, now)
        body = {"items": [{"sku": "BENCH-LOTS", "qty": 1}], "points": 100, "shipping_address": ADDRESS}
        _call(http, recorder, "POST", "/orders", token, body, key=f"{user}-first")
        order, ops = _call(http, recorder, "POST", "/orders", token, body, key=f"{user}-second")
        refund = {"reason": "bench"}
        _, refund_ops = _call(http, recorder, "POST", f"/admin/orders/{order['order_id']}/refund", merch, refund)
        return ops, refund_ops

    _call(http, recorder, "GET", "/admin/policy", merch)  # the first policy read writes version 1, once
    off, refund_off = order_and_refund("bench-lots-off")
    policy = shop.policy_book.current().model_dump(mode="json")
    policy["expiry"] = {"months": 12}
    start = iso(clock.now() + dt.timedelta(seconds=61))
    draft = shop.policy.create("bench", VersionInput.model_validate({"policy": policy, "effective_from": start,
                                                                     "note": "bench: expiry on"}))  # fmt: skip
    shop.policy.schedule("bench", draft.version)
    clock.ahead = dt.timedelta(seconds=62)
    on, refund_on = order_and_refund("bench-lots-on")
    kept = shop.accounts.load("bench-lots-on").lots
    if not kept or on != off or len(refund_on) != len(refund_off) + 1:
        raise SystemExit(f"expiry bench: order {off} -> {on}, refund {refund_off} -> {refund_on}, lots {kept}")
    return {
        "points_order_expiry_off": {"calls": len(off), "ops": off},
        "points_order_expiry_on": {"calls": len(on), "ops": on},
        "order_refund_expiry_off": {"calls": len(refund_off), "ops": refund_off},
        "order_refund_expiry_on": {"calls": len(refund_on), "ops": refund_on},
    }


def race(services: Any, orders: int = 64, slots: int = 8, threads: int = 32) -> dict[str, Any]:
    """`orders` one-slot orders, each for a random one of `slots` slots of one room, `threads` at a time."""
    from chalicelib.domain.bookings import ResourceInput

    services.merchants.create("bench", _house())
    day = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=3)).isoformat()
    room = {
        "resource_id": "bench-room",
        "house": "bench-house-r",
        "kind": "room",
        "title": "Bench room",
        "title_zh": "房间",
        "capacity": 1,
        "slot_minutes": 60,
        "hours": WEEK,
        "price_fen_per_slot": 1000,
    }
    services.bookings.create("bench", ResourceInput.model_validate(room))
    buyers = [f"bench-booker-{i}" for i in range(orders)]
    for b in buyers:
        _grant(services, b, 1_000)
    rng = random.Random(11)
    wanted = [f"{10 + rng.randrange(slots):02d}:00" for _ in buyers]

    def one(i: int) -> str:
        body = OrderRequest(
            items=[BookingRequest(booking=BookingLine(resource_id="bench-room", date=day, start=wanted[i], slots=1))],
            points=100,
        )
        try:
            services.checkout.place(buyers[i], f"bench-race-{i}", body)
            return "sold"
        except DomainError as exc:
            return exc.code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(one, range(orders)))
    elapsed = time.perf_counter() - started
    taken = services.booking_repo.taken("bench-room", day)
    asked = Counter(wanted)
    sold = Counter(o for o in outcomes)
    if sold["sold"] != len(asked) or sum(taken.values()) != len(asked) or set(sold) - {"sold", "slot_full"}:
        raise SystemExit(f"merchant bench: the slot race sold {dict(sold)} with slots {taken} for {dict(asked)}")
    return {
        "orders": orders,
        "slots_asked": len(asked),
        "sold": sold["sold"],
        "refused_slot_full": sold["slot_full"],
        "seconds": round(elapsed, 2),
        "orders_per_s": round(orders / elapsed),
        "busiest_slot_share_of_attempts": round(max(asked.values()) / orders, 3),
        "even_share": round(1 / slots, 3),
    }


def _house() -> Any:
    from chalicelib.domain.merchants import MerchantInput

    return MerchantInput(merchant_id="bench-house-r", name="Bench House", name_zh="门店", kind="nio_house")


def run(fresh: Callable[[], ContextManager[dict[str, str]]]) -> dict[str, Any]:
    with fresh() as endpoints:
        services = bench_store(endpoints, "bench-m")
        try:
            return {"calls": calls(services), "slot_race": race(services), "expiry": expiry_calls(services)}
        finally:
            bootstrap.use(None)
