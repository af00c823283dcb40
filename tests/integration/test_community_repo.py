"""EventRepository against DynamoDB Local: an event with its ticket (and the ticket's shards), listings by city,
status and host, saves that lose to a change made meanwhile, a registration and the user's one marker, the waitlist
(queue, offer that sets places aside, offer ended, offer claimed), and a check-in that happens once."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from chalicelib.adapters.catalog_repo import sku_key
from chalicelib.adapters.community_repo import (
    OFFERS,
    SETTLE,
    EventRepository,
    event_key,
    marker_key,
    registration_key,
)
from chalicelib.adapters.dynamo import LostRace, key
from chalicelib.adapters.orders_repo import shard_key
from chalicelib.domain.catalog import Accepts
from chalicelib.domain.community import EventRecord, Places, RegistrationRecord, making, move, ticket_sku
from chalicelib.domain.errors import AlreadyCheckedIn, AlreadyRegistered, Conflict, NotFound
from tests.helpers import uid
from tests.integration.builders import T0, stored

# Repositories written alone leave what the shop writes with them unwritten: not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")

NOW = "2024-05-02T08:00:00.000Z"
LAPSES = "2024-05-02T08:30:00.000Z"


class Closed(Exception):
    """The `not_open` error of these tests."""


@pytest.fixture
def repo(services) -> EventRepository:
    return EventRepository(services.table)


def _event(status: str = "published", capacity: int = 10, **changes: Any) -> EventRecord:
    """An event as EventService makes it."""
    fields: dict[str, Any] = {
        "event_id": uid("ev"),
        "host_id": uid("host"),
        "official": False,
        "status": status,
        "title": "Meet-up",
        "title_zh": "聚会",
        "description": "x",
        "city": uid("City"),
        "venue": "Hall 1",
        "starts_at": "2024-05-20T11:00:00.000Z",
        "ends_at": "2024-05-20T14:00:00.000Z",
        "cancel_until": "2024-05-19T11:00:00.000Z",
        "capacity": capacity,
        "min_tier": "fan",
        "fee_fen": 5000,
        "accepts": Accepts(),
        "created_at": T0,
        "updated_at": T0,
    }
    return EventRecord.model_validate({**fields, **changes})


def _created(repo, **changes: Any) -> EventRecord:
    event = _event(**changes)
    repo.create(event)
    return event


def _entry(event: EventRecord, status: str = "ordered", attendees: int = 1, **changes: Any) -> RegistrationRecord:
    return RegistrationRecord.model_validate(
        {
            "registration_id": uid("reg"),
            "event_id": event.event_id,
            "user_id": uid("u"),
            "order_id": uid("o") if status == "ordered" else None,
            "attendees": attendees,
            "status": status,
            "created_at": T0,
            **changes,
        }
    )


def _register(repo, entry: RegistrationRecord) -> None:
    tx = repo.begin()
    repo.add_registration(tx, making(entry), on_repeat=AlreadyRegistered("registered"))
    tx.commit()


def _queue(repo, event: EventRecord, entry: Optional[RegistrationRecord] = None) -> RegistrationRecord:
    entry = entry or _entry(event, "waiting")
    tx = repo.begin()
    repo.add_waiting(
        tx, making(entry), event.ends_at, on_repeat=AlreadyRegistered("registered"), not_open=Closed("closed")
    )
    tx.commit()
    return entry


def _ticket(services, event: EventRecord) -> dict[str, Any]:
    return services.table.get(sku_key(ticket_sku(event.event_id)))


def test_an_event_reads_back_with_its_ticket_and_places(services, repo):
    event = _created(repo)
    found = repo.get(event.event_id)
    assert found is not None and found[0].model_dump() == event.model_dump()
    assert found[1] == Places(10, 0)
    ticket = _ticket(services, event)
    assert (ticket["status"], ticket["stock"], ticket["price_fen"]) == ("active", 10, 5000)
    assert repo.get(uid("ev")) is None


def test_a_big_event_spreads_its_places_over_the_tickets_shards(services, repo):
    event = _created(repo, capacity=103, stock_shards=4)
    shards = [services.table.get(shard_key(ticket_sku(event.event_id), i))["stock"] for i in range(4)]
    assert shards == [26, 26, 26, 25]
    assert _ticket(services, event)["stock"] == 0
    assert repo.places_left([event.event_id]) == {event.event_id: Places(103, 0)}


def test_an_event_id_used_before_fails_and_its_ticket_is_untouched(services, repo):
    first = _created(repo)
    with pytest.raises(LostRace):
        repo.create(_event(event_id=first.event_id, capacity=99, title="Other"))
    assert _ticket(services, first)["stock"] == 10
    assert repo.get(first.event_id)[0].title == "Meet-up"


def test_events_list_by_city_status_and_host_and_drafts_are_not_public(repo):
    city = uid("City")
    later = _created(repo, city=city, starts_at="2024-05-21T11:00:00.000Z", ends_at="2024-05-21T14:00:00.000Z")
    sooner = _created(repo, city=city)
    draft = _created(repo, status="draft", city=city)
    over = _created(repo, city=city, ends_at="2024-05-01T12:00:00.000Z", starts_at="2024-05-01T09:00:00.000Z")
    in_city = [e.event_id for e in repo.published(city.upper(), "0", NOW, 10, None)[0]]
    assert in_city == [sooner.event_id, later.event_id], "soonest first; drafts and ended events left out"
    assert draft.event_id in [e.event_id for e in repo.by_status("draft", 100, None)[0]]
    assert [e.event_id for e in repo.hosted_by(over.host_id, 10)] == [over.event_id]


def test_a_hosted_published_event_is_on_the_settle_list_until_its_reward_is_credited(services, repo):
    event = _created(repo)
    assert services.table.get(event_key(event.event_id))["gsi1pk"] == SETTLE
    assert event.event_id in repo.due(SETTLE, "9999")
    credited = repo.save(event.model_copy(update={"reward_status": "credited"}), expected=event)
    assert credited.version == 1
    assert event.event_id not in repo.due(SETTLE, "9999")


def test_a_save_loses_to_a_change_made_meanwhile_and_writes_nothing(services, repo):
    event = _created(repo)
    cancelled = repo.save(event.model_copy(update={"status": "cancelled"}), expected=event)
    assert _ticket(services, event)["status"] == "inactive", "a cancel closes the ticket with the event"
    with pytest.raises(Conflict):
        repo.save(event.model_copy(update={"title": "Stale"}), expected=event)
    stored_event = repo.get(event.event_id)[0]
    assert (stored_event.status, stored_event.title, stored_event.version) == ("cancelled", "Meet-up", 1)
    assert cancelled.version == 1


def test_one_active_registration_per_user_and_event(services, repo):
    event = _created(repo)
    first = _entry(event)
    _register(repo, first)
    second = _entry(event, user_id=first.user_id)
    with pytest.raises(AlreadyRegistered):
        _register(repo, second)
    assert repo.registration(second.registration_id) is None
    assert repo.registration_of(event.event_id, first.user_id).registration_id == first.registration_id
    assert [r.registration_id for r in repo.registrations_of(first.user_id, 10)] == [first.registration_id]
    assert [r.registration_id for r in repo.registrations_for(event.event_id)] == [first.registration_id]


def test_only_the_order_that_holds_the_marker_releases_it(services, repo):
    event = _created(repo)
    entry = _entry(event)
    _register(repo, entry)
    tx = repo.begin()
    repo.release(tx, event.event_id, entry.user_id, uid("o"))
    with pytest.raises(LostRace):
        tx.commit()
    assert stored(services.table, marker_key(event.event_id, entry.user_id)) != []
    tx = repo.begin()
    repo.release(tx, event.event_id, entry.user_id, entry.order_id)
    tx.commit()
    assert repo.registration_of(event.event_id, entry.user_id) is None
    _register(repo, _entry(event, user_id=entry.user_id))  # may register again


def test_the_queue_counts_its_people_and_keeps_them_in_order(services, repo):
    event = _created(repo)
    second = _queue(repo, event, _entry(event, "waiting", created_at="2024-05-01T08:00:01.000Z"))
    first = _queue(repo, event)  # queued a second earlier (written after: the order is the time's)
    assert [e.registration_id for e in repo.waiting(event.event_id, 10)] == [
        first.registration_id,
        second.registration_id,
    ]
    assert repo.get(event.event_id)[1] == Places(10, 2)
    assert event.event_id in repo.waitlisted_events()
    repo.forget_waitlist(event.event_id)
    assert event.event_id not in repo.waitlisted_events()


def test_no_one_queues_for_an_event_that_takes_no_registrations(services, repo):
    event = _created(repo)
    repo.save(event.model_copy(update={"status": "cancelled"}), expected=event)
    entry = _entry(event, "waiting")
    with pytest.raises(Closed):
        _queue(repo, event, entry)
    assert repo.registration(entry.registration_id) is None
    assert stored(services.table, marker_key(event.event_id, entry.user_id)) == []


def test_an_offer_sets_places_aside_and_a_lapsed_offer_gives_them_back(services, repo):
    event = _created(repo, capacity=3)
    entry = _queue(repo, event, _entry(event, "waiting", attendees=2))
    repo.offer(move(entry, "offered", offer_expires_at=LAPSES))
    assert repo.get(event.event_id)[1] == Places(1, 0)
    offered = repo.registration(entry.registration_id)
    assert (offered.status, offered.offer_expires_at) == ("offered", LAPSES)
    assert [r.registration_id for r in repo.offers_due("9999")] == [entry.registration_id]
    with pytest.raises(LostRace):  # offered once only
        repo.offer(move(entry, "offered", offer_expires_at=LAPSES))
    repo.end_offer(move(offered, "lapsed"))
    assert repo.get(event.event_id)[1] == Places(3, 0)
    assert repo.offers_due("9999") == []
    assert repo.registration_of(event.event_id, entry.user_id) is None


def test_an_offer_needs_the_places_and_takes_nothing_without_them(services, repo):
    event = _created(repo, capacity=1)
    entry = _queue(repo, event, _entry(event, "waiting", attendees=2))
    with pytest.raises(LostRace):
        repo.offer(move(entry, "offered", offer_expires_at=LAPSES))
    assert repo.get(event.event_id)[1] == Places(1, 1)
    assert repo.registration(entry.registration_id).status == "waiting"


def test_an_offer_on_a_sharded_ticket_holds_places_on_the_shards_and_gives_them_back_there(services, repo):
    event = _created(repo, capacity=8, stock_shards=4)
    entry = _queue(repo, event, _entry(event, "waiting", attendees=3))
    repo.offer(move(entry, "offered", offer_expires_at=LAPSES), sharded=4)
    offered = repo.registration(entry.registration_id)
    assert sum(n for _, n in offered.held) == 3
    assert repo.places_left([event.event_id])[event.event_id] == Places(5, 0)
    repo.end_offer(move(offered, "withdrawn"))
    sku = ticket_sku(event.event_id)
    assert [services.table.get(shard_key(sku, i))["stock"] for i in range(4)] == [2, 2, 2, 2]


def test_an_offer_is_claimed_by_one_order_while_it_is_open(services, repo):
    event = _created(repo)
    entry = _queue(repo, event)
    repo.offer(move(entry, "offered", offer_expires_at=LAPSES))
    offered = repo.registration(entry.registration_id)
    late = repo.begin()
    repo.claim_offer(late, move(offered, "ordered", order_id="o-late"), LAPSES, on_fail=Conflict("lapsed"))
    with pytest.raises(Conflict):
        late.commit()
    tx = repo.begin()
    repo.claim_offer(tx, move(offered, "ordered", order_id="o-1"), NOW, on_fail=Conflict("lapsed"))
    tx.commit()
    claimed = repo.registration(entry.registration_id)
    assert (claimed.status, claimed.order_id) == ("ordered", "o-1")
    assert services.table.get(marker_key(event.event_id, entry.user_id))["order_id"] == "o-1"
    assert OFFERS not in str(services.table.get(registration_key(entry.registration_id)).get("gsi1pk"))


def test_a_ticket_is_checked_in_once_with_what_checking_in_writes(services, repo):
    event = _created(repo)
    entry = _entry(event)
    _register(repo, entry)
    also_key = key(f"TEST#{uid('x')}", "META")

    def also(tx) -> None:
        tx.update(also_key, "ADD n :one", {":one": 1})

    repo.check_in(entry.registration_id, NOW, also)
    assert repo.registration(entry.registration_id).checked_in_at == NOW
    with pytest.raises(AlreadyCheckedIn):
        repo.check_in(entry.registration_id, LAPSES, also)
    with pytest.raises(NotFound):
        repo.check_in(uid("reg"), NOW, also)
    assert services.table.get(also_key)["n"] == 1, "a refused check-in writes nothing"
    assert repo.registration(entry.registration_id).checked_in_at == NOW


def test_a_checked_in_ticket_fails_the_cancels_condition(repo):
    event = _created(repo)
    entry = _entry(event)
    _register(repo, entry)
    repo.check_in(entry.registration_id, NOW, lambda tx: None)
    tx = repo.begin()
    repo.not_checked_in(tx, entry.registration_id, on_fail=AlreadyCheckedIn("checked in"))
    tx.update(marker_key(event.event_id, entry.user_id), "SET touched = :t", {":t": 1})
    with pytest.raises(AlreadyCheckedIn):
        tx.commit()
    assert "touched" not in repo.table.get(marker_key(event.event_id, entry.user_id))
