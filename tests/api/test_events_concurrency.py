"""Registration bursts through a live `chalice local` on DynamoDB Local: a place is never given twice."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from chalicelib.adapters.orders_repo import shard_key
from tests.api.shop import give_points
from tests.api.test_events import event_body
from tests.helpers import uid
from tools.reconcile import reconcile


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def launch(live_api, capacity: int) -> str:
    r = live_api.merch(
        "POST",
        "/admin/events",
        event_body(capacity=capacity, starts_at="2027-01-10T11:00:00Z", ends_at="2027-01-10T14:00:00Z"),
    )
    assert r.status == 201, r.json
    return r.json["event_id"]


def test_sixty_four_people_registering_for_five_places_get_exactly_five(live_api, live_server):
    event_id = launch(live_api, 5)
    people = [uid("fan") for _ in range(64)]
    replies = parallel(
        64,
        lambda i: live_api.post(
            f"/events/{event_id}/registrations", {}, user=people[i], headers={"Idempotency-Key": f"burst-{people[i]}"}
        ),
    )
    assert sorted(r.status for r in replies) == [201] * 5 + [409] * 59, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"event_full"}
    assert {r.json["status"] for r in replies if r.status == 201} == {"confirmed"}
    event = live_api.get(f"/events/{event_id}").json
    assert (event["places_left"], event["registered"]) == (0, 5)
    services = live_server["container"]
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_one_person_registering_eight_times_at_once_holds_one_registration(live_api):
    event_id = launch(live_api, 20)
    me = uid("eager")
    replies = parallel(
        8,
        lambda i: live_api.post(
            f"/events/{event_id}/registrations",
            {"attendees": 2},
            user=me,
            headers={"Idempotency-Key": f"eager-key-{i}"},
        ),
    )
    assert sorted(r.status for r in replies) == [201] + [409] * 7, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"already_registered"}
    assert live_api.get(f"/events/{event_id}").json["places_left"] == 18
    assert len(live_api.get("/me/events", user=me).json["registrations"]) == 1


def test_cancels_and_new_registrations_racing_over_a_waitlist_never_give_a_place_twice(live_api, live_server):
    """16 registered, 16 queued; then 16 cancels and 16 newcomers (waitlist: true) at once, and offers running
    after each cancel: every place is held by exactly one registration or offer, never two."""
    event_id = launch(live_api, 16)
    seated = [uid("seated") for _ in range(16)]
    queued = [uid("queued") for _ in range(16)]
    regs = parallel(
        16,
        lambda i: (
            live_api.post(
                f"/events/{event_id}/registrations",
                {},
                user=seated[i],
                headers={"Idempotency-Key": f"seat-{seated[i]}"},
            ).json
        ),
    )
    for user in queued:
        r = live_api.post(
            f"/events/{event_id}/registrations",
            {"waitlist": True},
            user=user,
            headers={"Idempotency-Key": f"queue-{user}"},
        )
        assert r.json["status"] == "waitlisted", r.json
    newcomers = [uid("new") for _ in range(16)]

    def act(i):
        if i % 2:
            return live_api.post(f"/registrations/{regs[i // 2]['registration_id']}/cancel", user=seated[i // 2])
        return live_api.post(
            f"/events/{event_id}/registrations",
            {"waitlist": True},
            user=newcomers[i // 2],
            headers={"Idempotency-Key": f"new-{newcomers[i // 2]}"},
        )

    replies = parallel(32, act)
    assert all(r.status in (200, 201) for r in replies), [r.json for r in replies if r.status not in (200, 201)]
    statuses = {}
    for user in seated + queued + newcomers:
        for reg in live_api.get("/me/events", user=user).json["registrations"]:
            statuses[reg["registration_id"]] = (reg["status"], reg["attendees"])
    holding = [s for s, _ in statuses.values() if s in ("confirmed", "offered", "pending_payment")]
    event = live_api.get(f"/events/{event_id}").json
    assert len(holding) + event["places_left"] == 16, (sorted(statuses.values()), event["places_left"])
    assert event["places_left"] == 0, "every freed place went to the queue"
    offered = [
        u
        for u in queued
        if any(r["status"] == "offered" for r in live_api.get("/me/events", user=u).json["registrations"])
    ]
    assert offered == queued, "the 16 places freed went to the 16 who queued first"
    assert all(r.json["status"] == "waitlisted" for i, r in enumerate(replies) if i % 2 == 0), (
        "newcomers never jump the queue"
    )


def test_a_launch_day_burst_on_a_sharded_event_fills_it_exactly(live_api, live_server):
    """200 places (16 shards of 12-13), 64 groups of 4 at once: the groups seated hold every place but those too
    few to seat a group, split over shards where one is short; no shard goes below zero."""
    event_id = launch(live_api, 200)
    services = live_server["container"]
    shards = lambda: [services.table.get(shard_key(f"TICKET-{event_id}", i)) for i in range(16)]  # noqa: E731
    assert sum(i["stock"] for i in shards()) == 200
    people = [uid("launch") for _ in range(64)]
    replies = parallel(
        64,
        lambda i: live_api.post(
            f"/events/{event_id}/registrations",
            {"attendees": 4},
            user=people[i],
            headers={"Idempotency-Key": f"l-{people[i]}"},
        ),
    )
    seated = [r for r in replies if r.status == 201]
    assert {r.error_code for r in replies if r.status != 201} <= {"event_full"}, [r.json for r in replies]
    items = shards()
    left = live_api.get(f"/events/{event_id}").json["places_left"]
    assert len(seated) * 4 + left == 200 and left == sum(i["stock"] for i in items) and left < 4
    assert min(i["stock"] for i in items) >= 0
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_check_in_and_a_cancel_at_the_same_instant_never_both_win(live_api, live_server):
    """An event whose cancel_until is its start (the host's choice) has the door open while attendees may still
    cancel: the host's check-in and the attendee's cancel, sent together 20 times, are never both 200, and a
    registration never ends cancelled with its ticket checked in (the fee back and the +5 contribution kept)."""
    services = live_server["container"]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    starts = now + dt.timedelta(hours=1)  # the door opened an hour ago; cancelling is open for an hour more
    body = event_body(
        capacity=40,
        fee_fen=1000,
        starts_at=starts.isoformat(),
        ends_at=(starts + dt.timedelta(hours=2)).isoformat(),
        cancel_until=starts.isoformat(),
    )
    event = live_api.merch("POST", "/admin/events", body)
    assert event.status == 201, event.json
    event_id, both, wrong, outcomes = event.json["event_id"], [], [], []
    for round_ in range(20):
        fan = uid("door")
        give_points(services, fan, 100)
        reg = live_api.post(
            f"/events/{event_id}/registrations", {"points": 100}, user=fan, headers={"Idempotency-Key": f"k-{fan}"}
        ).json
        assert reg["status"] == "confirmed", reg
        checkin, cancel = parallel(
            2,
            lambda i, reg=reg, fan=fan: (
                live_api.merch("POST", f"/events/{event_id}/checkins", {"ticket_code": reg["ticket_code"]})
                if i == 0
                else live_api.post(f"/registrations/{reg['registration_id']}/cancel", user=fan)
            ),
        )
        assert checkin.status < 500 and cancel.status < 500, (checkin.json, cancel.json)
        outcomes.append((checkin.status, cancel.status))
        if checkin.status == 200 and cancel.status == 200:
            both.append(round_)
        shown = live_api.get(f"/registrations/{reg['registration_id']}", user=fan).json
        me = live_api.get("/me", user=fan).json
        ended = (shown["status"], bool(shown["checked_in_at"]), me["points"]["available"], me["contribution"])
        if ended not in (("confirmed", True, 0, 5), ("cancelled", False, 100, 0)):
            wrong.append(ended)
    assert both == [], f"check-in and cancel both won in rounds {both} of 20: {outcomes}"
    assert wrong == [], "(status, checked in, points back, contribution): in at the door or out with the fee"
    assert reconcile(services.dynamodb, services.table)[1] == []
