"""Registration bursts through a live `chalice local` on DynamoDB Local: a place is never given twice."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.test_events import event_body
from tests.helpers import uid
from tools.reconcile import reconcile


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def launch(live_api, capacity: int) -> str:
    r = live_api.merch("POST", "/admin/events", event_body(capacity=capacity, starts_at="2027-01-10T11:00:00Z",
                                                           ends_at="2027-01-10T14:00:00Z"))
    assert r.status == 201, r.json
    return r.json["event_id"]


def test_sixty_four_people_registering_for_five_places_get_exactly_five(live_api, live_server):
    event_id = launch(live_api, 5)
    people = [uid("fan") for _ in range(64)]
    replies = parallel(64, lambda i: live_api.post(f"/events/{event_id}/registrations", {}, user=people[i],
                                                   headers={"Idempotency-Key": f"burst-{people[i]}"}))
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
    replies = parallel(8, lambda i: live_api.post(f"/events/{event_id}/registrations", {"attendees": 2}, user=me,
                                                  headers={"Idempotency-Key": f"eager-key-{i}"}))
    assert sorted(r.status for r in replies) == [201] + [409] * 7, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"already_registered"}
    assert live_api.get(f"/events/{event_id}").json["places_left"] == 18
    assert len(live_api.get("/me/events", user=me).json["registrations"]) == 1
