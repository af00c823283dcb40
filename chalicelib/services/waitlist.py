"""An event's waitlist: a place in the queue, offers of places freed, taking one up, and offers that lapse."""

from __future__ import annotations

import datetime as dt

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.community_repo import EventRepository
from chalicelib.adapters.dynamo import LostRace, Transaction
from chalicelib.domain import community as rules
from chalicelib.domain.checkout import LineRequest, OrderRequest
from chalicelib.domain.community import RegistrationRecord
from chalicelib.domain.errors import AlreadyRegistered, IdempotencyKeyReused, NotAvailable, NotFound
from chalicelib.domain.orders import Order
from chalicelib.services.checkout import CheckoutService
from chalicelib.services.event_reads import RegistrationViews, read_event

log = logs.get("community")
MAX_OFFER_ROUNDS = 100


class WaitlistService:
    def __init__(
        self,
        repo: EventRepository,
        checkout: CheckoutService,
        views: RegistrationViews,
        clock: Clock,
        offer_s: int,
    ) -> None:
        self._repo = repo
        self._checkout = checkout
        self._views = views
        self._clock = clock
        self._offer_s = offer_s  # an offer lapses this long after it is made (or at the start, if sooner)

    def queue(self, user_id: str, event_id: str, idem_key: str, body: rules.RegistrationInput) -> rules.Registration:
        """A place in the queue (the event is full): first come, first offered."""
        event, _ = read_event(self._repo, event_id)
        now = iso(self._clock.now())
        reg_id = new_id("w")
        entry = RegistrationRecord(
            registration_id=reg_id,
            event_id=event_id,
            user_id=user_id,
            attendees=body.attendees,
            status="waiting",
            idempotency_key=idem_key,
            created_at=now,
        )
        tx = self._repo.begin()
        self._repo.add_waiting(
            tx,
            rules.making(entry),
            event.ends_at,
            on_repeat=AlreadyRegistered(
                "you already have a registration for this event; cancel it to register again", {"event_id": event_id}
            ),
            not_open=NotAvailable("this event no longer takes registrations", {"event_id": event_id}),
        )
        try:
            tx.commit()
        except AlreadyRegistered:
            mine = self._repo.registration_of(event_id, user_id)
            if not mine or mine.idempotency_key != idem_key or mine.attendees != body.attendees:
                raise
            reg_id = mine.registration_id  # the same request again: its place in the queue
        self.offer_waitlist(event_id)  # places freed meanwhile go to the queue, in order
        return self._views.one(user_id, reg_id)

    def offer_waitlist(self, event_id: str) -> int:
        """Offer the places left to the queue, first come first (skipping a group the places cannot seat), each
        place to one offer only: an offer takes its places out of the ticket's stock."""
        offered = 0
        for _ in range(MAX_OFFER_ROUNDS):  # bounded: a stale index can make the same entry lose again
            found = self._repo.get(event_id)
            now = self._clock.now()
            if found is None or found[0].status != "published" or found[1].left <= 0 or found[0].starts_at <= iso(now):
                return offered
            event, places = found
            entry = next(
                (
                    e
                    for e in self._repo.waiting(event_id, 50)
                    if e.attendees <= places.left and rules.can_move(e.status, "offered")
                ),
                None,
            )
            if entry is None:
                return offered
            lapses = min(
                now + dt.timedelta(seconds=self._offer_s),
                dt.datetime.fromisoformat(event.starts_at.replace("Z", "+00:00")),
            )
            try:
                shards = event.stock_shards
                self._repo.offer(
                    rules.move(entry, "offered", offer_expires_at=iso(lapses)), sharded=shards if shards > 1 else 0
                )
                offered += 1
                log.info("waitlist offer", extra={"event_id": event_id, "registration_id": entry.registration_id})
            except LostRace:
                continue  # another offer or a registration took them first: look again
        return offered

    def accept_offer(self, user_id: str, reg_id: str, idem_key: str, body: rules.OfferAcceptance) -> rules.Registration:
        """Take up an offer: an order of the places set aside (paid as any registration), before it lapses."""
        entry = self._repo.registration(reg_id)
        if entry is None or entry.user_id != user_id:
            raise NotFound(f"registration {reg_id!r} not found", {"registration_id": reg_id})
        if entry.order_id:  # accepted already: this request again, or another one
            return self._views.one(user_id, reg_id)
        if not rules.can_move(entry.status, "ordered"):
            status = rules.QUEUE_STATUS.get(entry.status, entry.status)
            raise NotAvailable(f"there is no open offer on this registration (it is {status})", {"status": status})
        request = OrderRequest(
            items=[LineRequest(sku=rules.ticket_sku(entry.event_id), qty=entry.attendees)], points=body.points
        )
        now = iso(self._clock.now())

        def claim(tx: Transaction, order: Order) -> None:
            self._repo.claim_offer(
                tx,
                rules.move(entry, "ordered", order_id=order.order_id),
                now,
                on_fail=NotAvailable(
                    "the offer lapsed before it was accepted", {"offer_expires_at": entry.offer_expires_at}
                ),
            )

        held = {rules.ticket_sku(entry.event_id): entry.held} if entry.held else None
        order = self._checkout.place(user_id, idem_key, request, follow=claim, reserved=True, shards=held)
        accepted = self._views.one(user_id, reg_id)
        if accepted.order_id != order.order_id:  # the key replayed an earlier order: this offer is still open
            raise IdempotencyKeyReused(
                "this Idempotency-Key belongs to another request; use a new one", {"order_id": order.order_id}
            )
        return accepted

    def lapse_offers(self) -> int:
        """Scheduled: offers not taken up in time go back to the queue's next in line."""
        lapsed = 0
        for entry in self._repo.offers_due(iso(self._clock.now())):
            if not rules.can_move(entry.status, "lapsed"):
                continue  # a lagging index: it moved on
            t = rules.move(entry, "lapsed")
            try:
                self._repo.end_offer(t)
                lapsed += 1
            except LostRace:
                continue  # accepted at the last moment
            if t.rule.offers_next:
                self.offer_waitlist(entry.event_id)
        return lapsed

    def offer_waitlists(self) -> int:
        """Scheduled: places freed by expired or refunded orders go to the queues; ended events leave the list."""
        offered = 0
        for event_id in self._repo.waitlisted_events():
            found = self._repo.get(event_id)
            if found is None or found[0].ends_at <= iso(self._clock.now()):
                self._repo.forget_waitlist(event_id)
                continue
            offered += self.offer_waitlist(event_id)
        return offered
