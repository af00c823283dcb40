"""DynamoDB repository of community events, their ticket SKUs and registrations (key formats: infra/README.md)."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from chalicelib.adapters.catalog_repo import sku_key
from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key
from chalicelib.adapters.orders_repo import shard_key
from chalicelib.domain.checkout import allocate, home_shard
from chalicelib.domain.community import (
    TICKET_CATEGORY,
    EventRecord,
    Places,
    RegistrationMove,
    RegistrationRecord,
    ticket_sku,
)
from chalicelib.domain.errors import AlreadyCheckedIn, Conflict, NotFound

META = "META"
PUBLISHED = "published"
SETTLE = "EVENT#SETTLE"  # work list: user-hosted events whose host reward is not credited yet (sk: ends_at)
REFUND = "EVENT#REFUND"  # work list: cancelled events whose registrations are not all refunded yet
WAITLISTS = "EVENT#WAITLISTS"  # work list: events someone has queued for (sk: ends_at), looked at until they end
OFFERS = "EVENT#OFFERS"  # work list: waitlist offers not taken up yet (sk: when the offer lapses)
ALL = "~"  # a sort key above every time: the whole partition of a work list
LISTING_PARTS = 16  # an event's registrations are listed over this many index partitions (no hot one)


def queue_partition(event_id: str) -> str:
    return f"WAIT#{event_id}"


def event_key(event_id: str) -> dict[str, Any]:
    return key(f"EVENT#{event_id}", META)


def registration_key(reg_id: str) -> dict[str, Any]:
    return key(f"REG#{reg_id}", META)


def marker_key(event_id: str, user_id: str) -> dict[str, Any]:
    """One per user and event while a registration is active: what makes a second one 409."""
    return key(f"REGMARK#{event_id}#{user_id}", META)  # a partition per user: a launch day has no hot one


def city_partition(city: str) -> str:
    return f"EVENT#C#{city.strip().casefold()}"


def status_partition(status: str) -> str:
    return f"EVENT#S#{status}"


def host_partition(host_id: str) -> str:
    return f"EVENT#H#{host_id}"


def _event_item(event: EventRecord) -> dict[str, Any]:
    """The stored event with its listings: by status and (published only) by city, both by start; by host."""
    start = f"{event.starts_at}#{event.event_id}"
    item = {
        **event.model_dump(mode="json", exclude_none=True),
        "pk": f"EVENT#{event.event_id}",
        "sk": META,
        "gsi2pk": status_partition(event.status),
        "gsi2sk": start,
    }
    if event.status == PUBLISHED:
        item.update(gsi4pk=city_partition(event.city), gsi4sk=start)
    if event.host_id:
        item.update(gsi3pk=host_partition(event.host_id), gsi3sk=f"{event.created_at}#{event.event_id}")
    if event.status == PUBLISHED and event.host_id and event.reward_status != "credited":
        item.update(gsi1pk=SETTLE, gsi1sk=f"{event.ends_at}#{event.event_id}")
    elif event.status == "cancelled" and not event.refunds_done:
        item.update(gsi1pk=REFUND, gsi1sk=f"{event.updated_at}#{event.event_id}")
    return item


def _event(item: dict[str, Any]) -> EventRecord:
    return EventRecord.model_validate(item)


def _ticket_item(event: EventRecord) -> dict[str, Any]:
    """The event's ticket as checkout sells it: a SKU whose stock is the places left."""
    return {
        "pk": f"SKU#{ticket_sku(event.event_id)}",
        "sk": META,
        "sku": ticket_sku(event.event_id),
        "product_id": event.event_id,
        "category": TICKET_CATEGORY,
        "title": event.title,
        "status": "active" if event.status == PUBLISHED else "inactive",
        "price_fen": event.fee_fen,
        "stock": 0 if event.stock_shards > 1 else event.capacity,
        "accepts": event.accepts.model_dump(mode="json"),
        "owner_only": False,
        "stock_shards": event.stock_shards,
        "min_tier": event.min_tier,
        "sale_ends_at": event.starts_at,
        "attributes": {},
        "terms_version": time.time_ns() // 1000,
    }


def _registration_item(entry: RegistrationRecord) -> dict[str, Any]:
    """A new registration as stored: one placed as an order stores no status (its order's is its own), and only an
    offer holds places."""
    item = entry.model_dump(exclude_none=True)
    if entry.status == "ordered":
        del item["status"]
    if not entry.held:
        del item["held"]
    return item


def _registration(item: dict[str, Any]) -> RegistrationRecord:
    return RegistrationRecord.model_validate(item)


class EventRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def begin(self) -> Transaction:
        return self.table.transaction()

    # -- events --------------------------------------------------------------------------------
    def create(self, event: EventRecord) -> None:
        """The event and its ticket SKU, together; a big event's places spread over the ticket's shards."""
        tx = self.begin()
        tx.create(_event_item(event))
        tx.create(_ticket_item(event))
        shards = event.stock_shards
        if shards > 1:
            share, extra = divmod(event.capacity, shards)
            for i in range(shards):
                tx.create(
                    {
                        **{k: v["S"] for k, v in shard_key(ticket_sku(event.event_id), i).items()},
                        "stock": share + (i < extra),
                    }
                )
        tx.commit()

    def _places(self, ticket: dict[str, Any]) -> int:
        shards = ticket.get("stock_shards", 1)
        return int(ticket["stock"]) if shards <= 1 else sum(self._shards(ticket["product_id"], shards).values())

    def _shards(self, event_id: str, shards: int) -> dict[int, int]:
        items = self.table.batch_get([shard_key(ticket_sku(event_id), i) for i in range(shards)])
        return {int(i["pk"].rsplit("#", 1)[1]): i["stock"] for i in items}

    def get(self, event_id: str) -> Optional[tuple[EventRecord, Places]]:
        """The event and its places (left: its ticket's stock; waiting: how many are queued, from the ticket), in
        one BatchGetItem."""
        found = {i["pk"]: i for i in self.table.batch_get([event_key(event_id), sku_key(ticket_sku(event_id))])}
        event = found.get(f"EVENT#{event_id}")
        ticket = found.get(f"SKU#{ticket_sku(event_id)}")
        return (_event(event), Places(self._places(ticket), ticket.get("queued", 0))) if event and ticket else None

    def places_left(self, event_ids: list[str]) -> dict[str, Places]:
        """The places of each event (left, and people queued)."""
        items = self.table.batch_get([sku_key(ticket_sku(e)) for e in event_ids])
        return {i["product_id"]: Places(self._places(i), i.get("queued", 0)) for i in items}

    def published(
        self, city: Optional[str], since: str, now: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[EventRecord], Optional[dict[str, Any]]]:
        """Published events that have not ended, soonest first (one city, or all)."""
        index, partition = ("gsi4", city_partition(city)) if city else ("gsi2", status_partition(PUBLISHED))
        items, last = self.table.upcoming(index, partition, since, limit, start, ("ends_at", ">", now))
        return [_event(i) for i in items], last

    def by_status(
        self, status: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[EventRecord], Optional[dict[str, Any]]]:
        items, last = self.table.upcoming("gsi2", status_partition(status), "0", limit, start)  # every start time
        return [_event(i) for i in items], last

    def due(self, work: str, before: str, limit: int = 100) -> list[str]:
        """Event ids on a work list (SETTLE or REFUND) due before `before`, oldest first."""
        return [i["event_id"] for i in self.table.due(work, before, limit)]

    def registrations_for(self, event_id: str) -> list[RegistrationRecord]:
        """Every registration of an event (a page of 500 at a time, read to the end)."""
        found: list[RegistrationRecord] = []
        start, part = None, 0
        while True:
            items, start = self.table.page("gsi2", f"REG#E#{event_id}#{part}", 500, start)
            found += [_registration(i) for i in items]
            if start is None:
                if part == LISTING_PARTS - 1:
                    return found
                part += 1

    def hosted_by(self, host_id: str, limit: int) -> list[EventRecord]:
        return [_event(i) for i in self.table.page("gsi3", host_partition(host_id), limit, None)[0]]

    def save(self, after: EventRecord, *, expected: EventRecord) -> EventRecord:
        """`after` (a decision) if the event is still as `expected`; its ticket opens or closes with it."""
        stored = after.model_copy(update={"version": expected.version + 1})  # listings recomputed from it
        tx = self.begin()
        tx.put(
            _event_item(stored),
            "version = :v OR (attribute_not_exists(version) AND :v = :zero)",
            {":v": expected.version, ":zero": 0},
            on_fail=Conflict("the event changed meanwhile; reload it", {"event_id": expected.event_id}),
        )
        if stored.status != expected.status:
            tx.update(
                sku_key(ticket_sku(expected.event_id)),
                "SET #status = :s, terms_version = :t",
                {":s": "active" if stored.status == PUBLISHED else "inactive", ":t": time.time_ns() // 1000},
                condition="attribute_exists(pk)",
                names={"#status": "status"},
            )
        tx.commit()
        return stored

    # -- registrations -------------------------------------------------------------------------
    def add_registration(self, tx: Transaction, made: RegistrationMove, *, on_repeat: OnFail) -> None:
        """The registration (of an order) and the user's marker for the event (`on_repeat` if one is active
        already)."""
        self._add(tx, made.after, {}, on_repeat)

    def _add(self, tx: Transaction, entry: RegistrationRecord, listed: dict[str, Any], on_repeat: OnFail) -> None:
        reg_id, event_id, user_id = entry.registration_id, entry.event_id, entry.user_id
        tx.create(
            {
                **_registration_item(entry),
                **listed,
                "pk": f"REG#{reg_id}",
                "sk": META,
                "gsi3pk": f"REG#U#{user_id}",
                "gsi3sk": f"{entry.created_at}#{reg_id}",
                "gsi2pk": f"REG#E#{event_id}#{home_shard(user_id, event_id, LISTING_PARTS)}",
                "gsi2sk": f"{entry.created_at}#{reg_id}",
            }
        )
        tx.create(
            {
                **{k: v["S"] for k, v in marker_key(event_id, user_id).items()},
                "registration_id": reg_id,
                "order_id": entry.order_id,
            },
            on_fail=on_repeat,
        )

    def release(self, tx: Transaction, event_id: str, user_id: str, order_id: str) -> None:
        """The user may register again: their marker goes, if it is this order's."""
        tx.delete(marker_key(event_id, user_id), "attribute_not_exists(pk) OR order_id = :o", {":o": order_id})

    # -- the waitlist ----------------------------------------------------------------------------
    def add_waiting(
        self, tx: Transaction, made: RegistrationMove, ends_at: str, *, on_repeat: OnFail, not_open: OnFail
    ) -> None:
        """A place in the event's queue (a registration without an order), with the user's marker."""
        entry = made.after
        listed = {"gsi1pk": queue_partition(entry.event_id), "gsi1sk": f"{entry.created_at}#{entry.registration_id}"}
        self._add(tx, entry, listed, on_repeat)
        tx.put(
            {
                "pk": f"EVENT#{entry.event_id}",
                "sk": "WAITLIST",
                "event_id": entry.event_id,
                "gsi1pk": WAITLISTS,
                "gsi1sk": f"{ends_at}#{entry.event_id}",
            }
        )
        # while anyone waits, places freed go to the queue, never to a newcomer (checkout's stock condition);
        # and only while the event takes registrations (a cancel closes its ticket)
        tx.update(
            sku_key(ticket_sku(entry.event_id)),
            "ADD queued :one",
            {":one": made.rule.queued, ":active": "active"},
            condition="#status = :active",
            names={"#status": "status"},
            on_fail=not_open,
        )

    def waiting(self, event_id: str, limit: int) -> list[RegistrationRecord]:
        """The queue, first come first."""
        return [_registration(i) for i in self.table.due(queue_partition(event_id), ALL, limit)]

    def waitlisted_events(self) -> list[str]:
        """The ids of events someone has queued for (until they end)."""
        return [i["event_id"] for i in self.table.due(WAITLISTS, ALL, 1000)]

    def forget_waitlist(self, event_id: str) -> None:
        tx = self.begin()
        tx.delete(key(f"EVENT#{event_id}", "WAITLIST"))
        tx.commit()

    def offer(self, offered: RegistrationMove, sharded: int = 0) -> None:
        """Set the entry's places aside for it until its offer expires: out of the ticket's stock, so no one else
        can take them and no other offer can hold them (LostRace if either moved meanwhile); it leaves the queue's
        count."""
        entry, after = offered.before, offered.after
        assert entry is not None and after.offer_expires_at is not None
        tx = self.begin()
        sku, n = ticket_sku(entry.event_id), entry.attendees
        if sharded:  # the places come off the fullest shards
            found = allocate(self._shards(entry.event_id, sharded), n, home=-1)
            if found is None:
                raise LostRace()  # taken meanwhile: the caller looks again
            held: list[list[int]] = found
            tx.update(sku_key(sku), "ADD queued :less", {":less": offered.rule.queued})
            for shard, take in held:
                tx.update(shard_key(sku, shard), "SET stock = stock - :n", {":n": take}, condition="stock >= :n")
        else:
            tx.update(
                sku_key(sku),
                "SET stock = stock - :n ADD queued :less",
                {":n": n, ":less": offered.rule.queued},
                condition="stock >= :n",
            )
            held = []
        tx.update(
            registration_key(entry.registration_id),
            "SET #status = :offered, offer_expires_at = :x, gsi1pk = :list, gsi1sk = :sk, held = :held",
            {
                ":offered": after.status,
                ":x": after.offer_expires_at,
                ":list": OFFERS,
                ":waiting": entry.status,
                ":sk": f"{after.offer_expires_at}#{entry.registration_id}",
                ":held": held,
            },
            condition="#status = :waiting",
            names={"#status": "status"},
        )
        tx.commit()

    def offers_due(self, before: str) -> list[RegistrationRecord]:
        return [_registration(i) for i in self.table.due(OFFERS, before)]

    def end_offer(self, t: RegistrationMove) -> None:
        """An offer not taken up (lapsed) or a queued user who gives up (withdrawn): out of the queue (its count,
        or the places set aside go back to the ticket's stock), and the user may register again."""
        entry = t.before
        assert entry is not None
        sku = ticket_sku(entry.event_id)
        tx = self.begin()
        tx.update(
            registration_key(entry.registration_id),
            "SET #status = :to REMOVE gsi1pk, gsi1sk",
            {":to": t.after.status, ":was": entry.status},
            condition="#status = :was",
            names={"#status": "status"},
        )
        if t.rule.places == "give_back" and entry.held:  # its places go back to the shards they came from
            for shard, n in entry.held:
                tx.update(shard_key(sku, shard), "SET stock = stock + :n", {":n": n})
        elif t.rule.places == "give_back":  # its places go back (it left the queue's count when offered)
            tx.update(sku_key(sku), "SET stock = stock + :n", {":n": entry.attendees})
        if t.rule.queued:
            tx.update(sku_key(sku), "ADD queued :less", {":less": t.rule.queued})
        if t.rule.releases:
            tx.delete(marker_key(entry.event_id, entry.user_id), "registration_id = :r", {":r": entry.registration_id})
        tx.commit()

    def claim_offer(self, tx: Transaction, t: RegistrationMove, now: str, *, on_fail: OnFail) -> None:
        """In the order's transaction: the offer becomes the registration of its order, if still open."""
        entry, order_id = t.before, t.after.order_id
        assert entry is not None and order_id is not None
        tx.update(
            registration_key(entry.registration_id),
            "SET #status = :ordered, order_id = :o REMOVE gsi1pk, gsi1sk",
            {":ordered": t.after.status, ":o": order_id, ":offered": entry.status, ":now": now},
            condition="#status = :offered AND offer_expires_at > :now",
            names={"#status": "status"},
            on_fail=on_fail,
        )
        tx.update(
            marker_key(entry.event_id, entry.user_id),
            "SET order_id = :o",
            {":o": order_id, ":r": entry.registration_id},
            condition="registration_id = :r",
        )

    def registration_of(self, event_id: str, user_id: str) -> Optional[RegistrationRecord]:
        """The user's active registration for the event (through their marker)."""
        marker = self.table.get(marker_key(event_id, user_id))
        return self.registration(marker["registration_id"]) if marker else None

    def registration(self, reg_id: str) -> Optional[RegistrationRecord]:
        item = self.table.get(registration_key(reg_id))
        return _registration(item) if item else None

    def registrations_of(self, user_id: str, limit: int) -> list[RegistrationRecord]:
        return [_registration(i) for i in self.table.page("gsi3", f"REG#U#{user_id}", limit, None)[0]]

    def not_checked_in(self, tx: Transaction, reg_id: str, *, on_fail: OnFail) -> None:
        """A condition in `tx` (an attendee's cancel): the ticket is not checked in when it commits."""
        tx.check(
            registration_key(reg_id),
            "attribute_exists(pk) AND attribute_not_exists(checked_in_at)",
            {},
            on_fail=on_fail,
        )

    def check_in(self, reg_id: str, at: str, also: Callable[[Transaction], object]) -> None:
        """Mark the ticket checked in (once), with `also` (what else checking in writes) in the same transaction."""
        tx = self.begin()
        tx.update(
            registration_key(reg_id),
            "SET checked_in_at = :at",
            {":at": at},
            condition="attribute_exists(pk) AND attribute_not_exists(checked_in_at)",
            on_fail=lambda: self._why_not_checked_in(reg_id),
        )
        also(tx)  # after: a second check-in racing this one is told already_checked_in, not a lost race
        tx.commit()  # the order's own condition (still paid: not cancelled meanwhile) is among `also`'s

    def _why_not_checked_in(self, reg_id: str) -> Exception:
        item = self.registration(reg_id)
        if item is None:
            return NotFound("no such ticket for this event", {"registration_id": reg_id})
        return AlreadyCheckedIn(
            f"this ticket was checked in at {item.checked_in_at}", {"checked_in_at": item.checked_in_at}
        )
