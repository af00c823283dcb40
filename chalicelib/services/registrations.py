"""Registrations: an order of an event's ticket (or a place in its queue), a user's events, and their cancel."""

from __future__ import annotations

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.community_repo import EventRepository
from chalicelib.adapters.dynamo import LostRace, Transaction
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.domain import community as rules
from chalicelib.domain.checkout import LineRequest, OrderRequest
from chalicelib.domain.community import RegistrationRecord
from chalicelib.domain.errors import AlreadyRegistered, EventFull, InsufficientStock, NotCancellable, NotFound
from chalicelib.domain.orders import Order
from chalicelib.domain.transitions import Transition
from chalicelib.services.checkout import CheckoutService
from chalicelib.services.event_reads import RegistrationViews, event_views, read_event
from chalicelib.services.orders import OrderService
from chalicelib.services.waitlist import WaitlistService


class RegistrationService:
    def __init__(
        self,
        repo: EventRepository,
        checkout: CheckoutService,
        orders: OrderService,
        order_repo: OrderRepository,
        waitlist: WaitlistService,
        views: RegistrationViews,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._checkout = checkout
        self._orders = orders
        self._order_repo = order_repo
        self._waitlist = waitlist
        self._views = views
        self._clock = clock

    def register(self, user_id: str, event_id: str, idem_key: str, body: rules.RegistrationInput) -> rules.Registration:
        """An order of the event's ticket, `attendees` places, paid like any order; with it, in the same
        transaction, the registration and the marker that allows one active registration per user and event."""
        sku = rules.ticket_sku(event_id)
        request = OrderRequest(items=[LineRequest(sku=sku, qty=body.attendees)], points=body.points)
        written: list[RegistrationRecord] = []

        def record(tx: Transaction, order: Order) -> None:
            entry = RegistrationRecord(
                registration_id=rules.registration_id(order.order_id),
                event_id=event_id,
                user_id=user_id,
                order_id=order.order_id,
                attendees=body.attendees,
                created_at=order.created_at,
            )
            self._repo.add_registration(
                tx,
                rules.making(entry),
                on_repeat=AlreadyRegistered(
                    "you already have a registration for this event; cancel it to register again",
                    {"event_id": event_id},
                ),
            )
            written[:] = [entry]  # the last attempt's is the one committed

        try:
            order = self._checkout.place(user_id, idem_key, request, follow=record)
        except AlreadyRegistered:
            queued = self._repo.registration_of(event_id, user_id)
            if queued and not queued.order_id and queued.idempotency_key == idem_key:
                return self._views.one(user_id, queued.registration_id)  # this request queued it before
            raise
        except NotFound:
            raise NotFound(f"event {event_id!r} not found", {"event_id": event_id}) from None
        except InsufficientStock as full:
            left = full.details.get("stock", 0)
            if body.waitlist and left == 0:  # with places left, ask for as many: a bigger group would block them
                return self._waitlist.queue(user_id, event_id, idem_key, body)
            raise EventFull(
                f"only {left} places left" if left else "the event is full", {"event_id": event_id, "places_left": left}
            ) from None
        if written and written[0].order_id == order.order_id:  # placed now: nothing more to read
            return self._views.of(written[0], order)
        return self._views.one(user_id, rules.registration_id(order.order_id), order)  # a replay

    def registration(self, user_id: str, reg_id: str) -> rules.Registration:
        """One of the user's registrations."""
        return self._views.one(user_id, reg_id)

    def my_events(self, user_id: str, limit: int = 50) -> rules.MyEvents:
        hosted = event_views(self._repo, self._repo.hosted_by(user_id, limit))
        items = self._repo.registrations_of(user_id, limit)
        ids = [i.order_id for i in items if i.order_id]
        orders = {o.order_id: o for o in self._order_repo.many(ids)} if ids else {}
        return rules.MyEvents(
            hosted=hosted,
            registrations=[
                self._views.of(i, orders.get(i.order_id or "")) for i in items if not i.order_id or i.order_id in orders
            ],
        )

    def cancel(self, user_id: str, reg_id: str) -> rules.Registration:
        """The attendee's cancel: out of the queue any time; an order's registration until the event's
        `cancel_until`, as an order cancel (points and cash back, places freed). Places freed go to the queue."""
        item = self._repo.registration(reg_id)
        if item is None or item.user_id != user_id:
            raise NotFound(f"registration {reg_id!r} not found", {"registration_id": reg_id})
        target = rules.cancel_target(item)
        if not rules.can_move(item.status, target):  # out of the queue already
            status = rules.QUEUE_STATUS[item.status]
            raise NotCancellable(f"this registration is {status}", {"status": status})
        rule = rules.MOVES[(item.status, target)]
        if not rule.order_moves:  # leaving the queue, or turning an offer down: any time
            try:
                self._repo.end_offer(rules.move(item, target))
            except LostRace:  # the offer lapsed or was accepted meanwhile: answer from what it is now
                now_item = self._repo.registration(reg_id) or item
                if not now_item.order_id:
                    status = rules.QUEUE_STATUS[now_item.status]
                    raise NotCancellable(f"this registration is {status}", {"status": status}) from None
                return self.cancel(user_id, reg_id)
            if rule.offers_next:
                self._waitlist.offer_waitlist(item.event_id)
            return self._views.one(user_id, reg_id)
        if rule.unless_checked_in and item.checked_in_at:
            raise NotCancellable("this ticket was checked in at the door", {"checked_in_at": item.checked_in_at})
        event, _ = read_event(self._repo, item.event_id)
        if rule.until_cancel_until and iso(self._clock.now()) > event.cancel_until:
            raise NotCancellable(
                f"registrations for this event could be cancelled until {event.cancel_until}",
                {"cancel_until": event.cancel_until},
            )
        assert item.order_id is not None  # an order's registration
        order = self._orders.cancel(
            user_id,
            item.order_id,
            registration=True,
            # the door may check the ticket in meanwhile: then this cancel fails, inside the transaction
            guard=lambda tx: self._repo.not_checked_in(tx, reg_id, on_fail=lambda: self._checked_in(reg_id)),
        )
        if rule.offers_next:
            self._waitlist.offer_waitlist(item.event_id)  # the places freed go to the queue first
        return self._views.of(item, order)

    def _checked_in(self, reg_id: str) -> NotCancellable:
        item = self._repo.registration(reg_id)
        return NotCancellable("this ticket was checked in at the door", {"checked_in_at": item and item.checked_in_at})


class RegistrationFollower:
    """In an order's transaction: when a ticket order is cancelled, expires, fails or is refunded, its user may
    register for the event again (their marker goes with it)."""

    def __init__(self, repo: EventRepository) -> None:
        self._repo = repo

    def follow(self, tx: Transaction, t: Transition) -> None:
        if t.before is None or t.rule.stock != "give_back":
            return
        for line in t.after.lines:
            event_id = rules.event_of_sku(line.sku)
            if event_id and line.category == rules.TICKET_CATEGORY:
                self._repo.release(tx, event_id, t.after.user_id, t.after.order_id)
