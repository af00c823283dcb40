"""Crowds booking NIO House slots through a live `chalice local`: a slot is never sold past its capacity, however
many orders race for it (one condition per slot item in each order's transaction)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import give_points
from tests.helpers import uid
from tools.reconcile import booking_differences

WEEK = {d: ["10:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DAY = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=2)).isoformat()  # the live clock


def _room(live_api, resource_id: str, capacity: int) -> None:
    house = {"merchant_id": "race-house-b", "name": "Race House", "name_zh": "门店", "kind": "nio_house"}
    assert live_api.merch("POST", "/admin/merchants", house).status in (201, 409)
    room = {
        "resource_id": resource_id,
        "house": "race-house-b",
        "kind": "room",
        "title": "Room",
        "title_zh": "房间",
        "capacity": capacity,
        "slot_minutes": 60,
        "hours": WEEK,
        "price_fen_per_slot": 1000,
    }
    assert live_api.merch("POST", "/admin/resources", room).status == 201


def _race(live_api, services, resource_id: str, people: int, start=lambda i: "14:00", slots=lambda i: 1):
    buyers = [uid("buyer") for _ in range(people)]
    for b in buyers:
        give_points(services, b, 1_000)

    def one(i: int):
        line = {"booking": {"resource_id": resource_id, "date": DAY, "start": start(i), "slots": slots(i)}}
        body = {"items": [line], "points": 100 * slots(i)}
        return live_api.post("/orders", body, user=buyers[i], headers={"Idempotency-Key": uid("k")})

    with ThreadPoolExecutor(max_workers=people) as pool:
        return list(pool.map(one, range(people)))


def _left(live_api, resource_id: str) -> dict[str, int]:
    days = live_api.get(f"/resources/{resource_id}/availability?date={DAY}").json["slots"]
    return {s["start"]: s["left"] for s in days}


def test_thirty_two_people_booking_one_room_slot_at_once_get_it_once(live_api, live_server):
    services = live_server["container"]
    _room(live_api, "race-room-1", 1)
    replies = _race(live_api, services, "race-room-1", 32)
    assert sorted(r.status for r in replies) == [201] + [409] * 31, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"slot_full"}
    assert _left(live_api, "race-room-1")["14:00"] == 0
    assert [d.describe() for d in booking_differences(services.dynamodb, services.table)] == []


def test_overlapping_spans_on_a_three_place_slot_never_oversell_any_hour(live_api, live_server):
    services = live_server["container"]
    _room(live_api, "race-room-3", 3)
    # 24 bookings of 1-3 hours starting 13:00, 14:00 or 15:00: every hour they cover holds at most 3
    replies = _race(
        live_api, services, "race-room-3", 24, start=lambda i: f"{13 + i % 3}:00", slots=lambda i: 1 + i % 3
    )
    won = [r.json["lines"][0]["booking"]["slot_starts"] for r in replies if r.status == 201]
    assert {r.error_code for r in replies if r.status != 201} <= {"slot_full"}, [r.json for r in replies]
    held: dict[str, int] = {}
    for slots in won:
        for s in slots:
            held[s.split(" ")[1]] = held.get(s.split(" ")[1], 0) + 1
    left = _left(live_api, "race-room-3")
    assert all(n <= 3 for n in held.values()) and won
    assert all(left[h] == 3 - held.get(h, 0) for h in left), (held, left)
    assert [d.describe() for d in booking_differences(services.dynamodb, services.table)] == []
