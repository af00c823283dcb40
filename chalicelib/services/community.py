"""Community events: official and user-hosted events, registrations through checkout, tickets and check-in."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.community_repo import REFUND, SETTLE, EventRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace, Transaction
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.adapters.users_repo import UserRepository
from chalicelib.domain import community as rules
from chalicelib.domain.checkout import LineRequest, OrderRequest
from chalicelib.domain.community import EventRecord, Places, RegistrationRecord
from chalicelib.domain.contribution import EVENT_ATTENDED, EVENT_HOSTED
from chalicelib.domain.errors import (
    AlreadyRegistered,
    BudgetExhausted,
    EventFull,
    Forbidden,
    IdempotencyKeyReused,
    InsufficientStock,
    NotAvailable,
    NotCancellable,
    NotFound,
    OwnerOnly,
)
from chalicelib.domain.orders import Order
from chalicelib.domain.points import GrantInput
from chalicelib.domain.transitions import Transition
from chalicelib.services.campaigns import CampaignService
from chalicelib.services.checkout import CheckoutService
from chalicelib.services.contribution import ContributionService
from chalicelib.services.orders import OrderService
from chalicelib.services.retry import on_lost_race
from chalicelib.services.worklists import unseen
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

log = logs.get("community")
EVENT_REWARDS = "event-rewards"  # the built-in campaign whose budget pays hosts
MAX_OFFER_ROUNDS = 100
REFUNDS_SETTLE_S = 60  # a cancelled event is marked refunded only after a pass this long after the cancel


class EventService:
    def __init__(
        self,
        repo: EventRepository,
        checkout: CheckoutService,
        orders: OrderService,
        order_repo: OrderRepository,
        users: UserRepository,
        campaigns: CampaignService,
        contribution: ContributionService,
        cursors: CursorCodec,
        clock: Clock,
        ticket_key: bytes,
        settings: Settings,
        policy: PolicyBook,
    ) -> None:
        self._policy = policy
        self._repo = repo
        self._checkout = checkout
        self._orders = orders
        self._order_repo = order_repo
        self._users = users
        self._cursors = cursors
        self._clock = clock
        self._ticket_key = ticket_key
        self._campaigns = campaigns
        self._contribution = contribution
        self._settings = settings

    # -- events ---------------------------------------------------------------------------------
    def create(self, actor: str, body: rules.EventInput, official: bool) -> rules.CommunityEvent:
        """An official event (published at once unless a draft), or one a verified owner proposes (submitted for
        review, like a design)."""
        if not official:
            profile = self._users.get(actor)
            if profile is None or profile.tier != "owner":
                raise OwnerOnly(
                    "only verified vehicle owners may host events", {"tier": getattr(profile, "tier", "fan")}
                )
        now = iso(self._clock.now())
        if iso(body.starts_at) <= now:
            raise NotAvailable("an event must start in the future", {"fields": {"starts_at": "in the past"}})
        status = getattr(body, "status", "published") if official else "submitted"
        cancel_until = body.cancel_until or body.starts_at - rules.DEFAULT_CANCEL_BEFORE
        shards = self._settings.ticket_shards if body.capacity >= self._settings.ticket_shard_min_capacity else 1
        event = EventRecord.model_validate(
            {
                **body.model_dump(mode="json", exclude={"status"}),
                "event_id": new_id("e"),
                "stock_shards": shards,
                "host_id": None if official else actor,
                "official": official,
                "status": status,
                "starts_at": iso(body.starts_at),
                "ends_at": iso(body.ends_at),
                "cancel_until": iso(cancel_until),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        self._repo.create(event)
        log.info("event created", extra={"event_id": event.event_id, "status": status, "official": official})
        return rules.event_view(event, Places(body.capacity))

    def decide(self, actor: str, event_id: str, body: rules.EventDecision) -> rules.CommunityEvent:
        event, places = self._read(event_id)
        after = self._repo.save(rules.review(event, body, actor, iso(self._clock.now())), expected=event)
        return rules.event_view(after, places)

    def cancel_event(self, actor: str, is_merchandiser: bool, event_id: str, reason: str) -> rules.CommunityEvent:
        """The host or a merchandiser calls the event off: no more registrations, and every registration is
        refunded (as an order refund: points and cash back), now and, for whatever fails, by the sweep."""
        event, places = self._read(event_id)
        if not is_merchandiser and event.host_id != actor:
            raise Forbidden("only the event's host or a merchandiser cancels it", {"event_id": event_id})
        after = self._repo.save(rules.call_off(event, actor, reason, iso(self._clock.now())), expected=event)
        log.info("event cancelled", extra={"event_id": event_id, "by": actor})
        after = self._refund_registrations(after, final=False)
        left = self._repo.places_left([event_id]).get(event_id, places).left
        return rules.event_view(after, Places(left, places.waiting))  # the queue as it was before the cancel

    def refund_cancelled(self) -> int:
        """Scheduled: finish the refunds of cancelled events (each registration once; safe to repeat)."""
        done = 0
        # only events cancelled a while ago: a registration committed just before the cancel is in the index by then
        settled = iso(self._clock.now() - dt.timedelta(seconds=REFUNDS_SETTLE_S))
        for event_id in unseen(lambda: self._repo.due(REFUND, settled)):
            try:
                done += bool(self._refund_registrations(self._read(event_id)[0], final=True).refunds_done)
            except Exception:  # one event never stops the others
                log.exception("refunding a cancelled event failed; the next run retries", extra={"event_id": event_id})
        return done

    def _refund_registrations(self, event: EventRecord, final: bool) -> EventRecord:
        failed = 0
        for entry in self._repo.registrations_for(event.event_id):
            try:
                self._refund_one(event, entry)
            except Exception:
                failed += 1
                log.exception("refunding one registration failed", extra={"registration_id": entry.registration_id})
        if final and not failed:
            return self._repo.save(event.model_copy(update={"refunds_done": True}), expected=event)
        return event

    def _refund_one(self, event: EventRecord, entry: RegistrationRecord) -> None:
        """Out of the queue (nothing was paid), or through its order: refunded, or an unpaid order cancelled. The
        event is called off: no one is next in line."""
        target = rules.cancel_target(entry, called_off=True)
        if not rules.can_move(entry.status, target):
            return  # out of the queue already
        if not rules.MOVES[(entry.status, target)].order_moves:
            self._repo.end_offer(rules.move(entry, target))
            return
        assert entry.order_id is not None  # an order's registration
        order = self._orders.get(entry.order_id)
        t = rules.move(entry, target, order_status=order.status)
        if t.order_move is not None:
            self._orders.move(
                order.order_id, t.order_move, actor="system", audit_reason=f"event {event.event_id} cancelled"
            )

    def settle_rewards(self) -> int:
        """Scheduled: once a user-hosted event has ended, credit its host `event_host_share` of the net income
        (fees of registrations paid and not refunded, cash and points) in points, once, from the `event-rewards`
        budget. A budget too small leaves the event listed (reward_status budget_exhausted) for the next run."""
        credited = 0
        for event_id in unseen(lambda: self._repo.due(SETTLE, iso(self._clock.now()))):
            try:
                credited += self._settle(self._read(event_id)[0])
            except Exception:
                log.exception("settling one event failed; the next run retries", extra={"event_id": event_id})
        return credited

    def _settle(self, event: EventRecord) -> int:
        host = event.host_id
        assert host is not None  # only user-hosted events are settled
        registrations = self._repo.registrations_for(event.event_id)
        ids = [r.order_id for r in registrations if r.order_id]  # queue entries paid nothing
        orders = self._order_repo.many(ids) if ids else []
        confirmed = {o.order_id for o in orders if rules.ORDER_TO_REGISTRATION[o.status] == "confirmed"}
        net = sum(o.subtotal_fen for o in orders if o.order_id in confirmed)
        ended = dt.datetime.fromisoformat(event.ends_at.replace("Z", "+00:00"))
        points = rules.host_reward_points(net, self._policy.at(ended).event_host_share)
        if points:
            campaign = self._campaigns.ensure(
                EVENT_REWARDS, "Event host rewards", self._settings.event_reward_budget_points
            )
            try:
                self._campaigns.grant(
                    "system",
                    campaign["campaign_id"],
                    GrantInput(
                        user_id=host,
                        points=points,
                        reason=f"hosted event {event.event_id}",
                        ref=f"event:{event.event_id}",
                    ),
                    kind="event_reward",
                    audit=("event.reward", event.event_id),
                )
            except BudgetExhausted:
                if event.reward_status != "budget_exhausted":
                    waits = event.model_copy(update={"reward_status": "budget_exhausted", "reward_points": points})
                    self._repo.save(waits, expected=event)
                log.warning("event reward waits for budget", extra={"event_id": event.event_id, "points": points})
                return 0
        attended = rules.attendees_checked_in(registrations, confirmed, host)
        if attended >= self._settings.event_host_min_attendees:  # an empty event earns no contribution
            self._contribution.earn(host, EVENT_HOSTED, f"event:{event.event_id}")  # once per event
        credited = {"reward_status": "credited", "reward_points": points, "net_income_fen": net}
        self._repo.save(event.model_copy(update=credited), expected=event)
        log.info(
            "event reward credited",
            extra={"event_id": event.event_id, "points": points, "net_fen": net, "attended": attended},
        )
        return 1

    def get(self, event_id: str, public: bool = True) -> rules.CommunityEvent:
        event, places = self._read(event_id)
        if public and event.status not in rules.PUBLIC:
            raise NotFound(f"event {event_id!r} not found", {"event_id": event_id})
        return rules.event_view(event, places)

    def page(self, city: Optional[str], limit: int, cursor: Optional[str]) -> rules.EventPage:
        now = self._clock.now()
        since = iso(now - dt.timedelta(days=rules.MAX_EVENT_DAYS))  # anything older has ended
        scope = f"events|{(city or '*').strip().casefold()}"
        items, last = self._repo.published(city, since, iso(now), limit, self._cursors.decode(cursor, scope))
        return rules.EventPage(items=self._views(items), next_cursor=self._cursors.encode(last, scope))

    def admin_page(self, status: str, limit: int, cursor: Optional[str]) -> rules.EventPage:
        scope = f"admin-events|{status}"
        items, last = self._repo.by_status(status, limit, self._cursors.decode(cursor, scope))
        return rules.EventPage(items=self._views(items), next_cursor=self._cursors.encode(last, scope))

    def _read(self, event_id: str) -> tuple[EventRecord, Places]:
        found = self._repo.get(event_id)
        if found is None:
            raise NotFound(f"event {event_id!r} not found", {"event_id": event_id})
        return found

    def _views(self, events: list[EventRecord]) -> list[rules.CommunityEvent]:
        places = self._repo.places_left([e.event_id for e in events]) if events else {}
        return [rules.event_view(e, places.get(e.event_id, Places(0))) for e in events]

    # -- registrations --------------------------------------------------------------------------
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
                return self.registration(user_id, queued.registration_id)  # this request queued it before
            raise
        except NotFound:
            raise NotFound(f"event {event_id!r} not found", {"event_id": event_id}) from None
        except InsufficientStock as full:
            left = full.details.get("stock", 0)
            if body.waitlist and left == 0:  # with places left, ask for as many: a bigger group would block them
                return self._queue(user_id, event_id, idem_key, body)
            raise EventFull(
                f"only {left} places left" if left else "the event is full", {"event_id": event_id, "places_left": left}
            ) from None
        if written and written[0].order_id == order.order_id:  # placed now: nothing more to read
            return self._registration_view(written[0], order)
        return self.registration(user_id, rules.registration_id(order.order_id), order)  # a replay

    # -- the waitlist ----------------------------------------------------------------------------
    def _queue(self, user_id: str, event_id: str, idem_key: str, body: rules.RegistrationInput) -> rules.Registration:
        """A place in the queue (the event is full): first come, first offered."""
        event, _ = self._read(event_id)
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
        return self.registration(user_id, reg_id)

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
                now + dt.timedelta(seconds=self._settings.waitlist_offer_s),
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
            return self.registration(user_id, reg_id)
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
        accepted = self.registration(user_id, reg_id)
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

    def registration(self, user_id: Optional[str], reg_id: str, order: Optional[Order] = None) -> rules.Registration:
        """One registration, to its user (or to anyone, with `user_id` None)."""
        item = self._repo.registration(reg_id)
        if item is None or (user_id is not None and item.user_id != user_id):
            raise NotFound(f"registration {reg_id!r} not found", {"registration_id": reg_id})
        if not item.order_id:
            return self._registration_view(item, None)
        return self._registration_view(item, order or self._orders.get(item.order_id))

    def my_events(self, user_id: str, limit: int = 50) -> rules.MyEvents:
        hosted = self._views(self._repo.hosted_by(user_id, limit))
        items = self._repo.registrations_of(user_id, limit)
        ids = [i.order_id for i in items if i.order_id]
        orders = {o.order_id: o for o in self._order_repo.many(ids)} if ids else {}
        return rules.MyEvents(
            hosted=hosted,
            registrations=[
                self._registration_view(i, orders.get(i.order_id or ""))
                for i in items
                if not i.order_id or i.order_id in orders
            ],
        )

    def cancel(self, user_id: str, reg_id: str) -> rules.Registration:
        """The attendee's cancel, until the event's `cancel_until`: as an order cancel (points and cash back,
        places freed)."""
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
                self.offer_waitlist(item.event_id)
            return self.registration(user_id, reg_id)
        if rule.unless_checked_in and item.checked_in_at:
            raise NotCancellable("this ticket was checked in at the door", {"checked_in_at": item.checked_in_at})
        event, _ = self._read(item.event_id)
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
            self.offer_waitlist(item.event_id)  # the places freed go to the queue first
        return self._registration_view(item, order)

    def _checked_in(self, reg_id: str) -> NotCancellable:
        item = self._repo.registration(reg_id)
        return NotCancellable("this ticket was checked in at the door", {"checked_in_at": item and item.checked_in_at})

    def check_in(self, actor: str, is_merchandiser: bool, event_id: str, code: str) -> rules.CheckinResult:
        """At the door: the host or a merchandiser checks a confirmed ticket in, once, from two hours before
        the start until the end."""
        event, _ = self._read(event_id)
        if not is_merchandiser and event.host_id != actor:
            raise Forbidden("only the event's host or a merchandiser checks tickets in", {"event_id": event_id})
        now = self._clock.now()
        opens = dt.datetime.fromisoformat(event.starts_at.replace("Z", "+00:00")) - rules.CHECKIN_OPENS
        if not iso(opens) <= iso(now) <= event.ends_at:
            raise NotAvailable(
                "check-in is open from two hours before the start until the end",
                {"opens_at": iso(opens), "closes_at": event.ends_at},
            )
        reg_id = rules.ticket_matches(self._ticket_key, event_id, code)
        item = self._repo.registration(reg_id) if reg_id else None
        if item is None or item.event_id != event_id or item.order_id is None:  # a queue entry holds no ticket
            raise NotFound("no such ticket for this event", {"event_id": event_id})
        order_id, at = item.order_id, iso(now)

        def attempt() -> None:
            order = self._orders.get(order_id)
            if rules.ORDER_TO_REGISTRATION[order.status] != "confirmed":
                raise self._not_confirmed(order.order_id)

            def also(tx: Transaction) -> None:
                # still confirmed when it commits: a cancel racing the door leaves exactly one of the two done
                self._order_repo.check_status(
                    tx,
                    order.order_id,
                    rules.CONFIRMED_ORDER_STATUSES,
                    on_fail=lambda: self._not_confirmed(order.order_id),
                )
                self._contribution.add(tx, item.user_id, EVENT_ATTENDED, f"event:{event_id}", at)  # +5, once

            self._repo.check_in(item.registration_id, at, also)

        on_lost_race(attempt, f"ticket {item.registration_id!r}")
        return rules.CheckinResult(
            registration_id=item.registration_id,
            event_id=event_id,
            user_id=item.user_id,
            attendees=item.attendees,
            checked_in_at=iso(now),
        )

    def _not_confirmed(self, order_id: str) -> NotAvailable:
        status = rules.ORDER_TO_REGISTRATION[self._orders.get(order_id).status]
        return NotAvailable(f"this registration is {status}", {"status": status})

    def _registration_view(self, item: RegistrationRecord, order: Optional[Order]) -> rules.Registration:
        return rules.registration_view(item, order, self._ticket_key)


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
