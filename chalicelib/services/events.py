"""Community events: an event's creation, review and cancel (with its registrations' refunds), and its reads."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.community_repo import REFUND, EventRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.users_repo import UserRepository
from chalicelib.domain import community as rules
from chalicelib.domain.community import EventRecord, Places, RegistrationRecord
from chalicelib.domain.errors import Forbidden, NotAvailable, NotFound, OwnerOnly
from chalicelib.services.event_reads import event_views, read_event
from chalicelib.services.orders import OrderService
from chalicelib.services.worklists import unseen

log = logs.get("community")
REFUNDS_SETTLE_S = 60  # a cancelled event is marked refunded only after a pass this long after the cancel


class EventService:
    def __init__(
        self,
        repo: EventRepository,
        orders: OrderService,
        users: UserRepository,
        cursors: CursorCodec,
        clock: Clock,
        ticket_shards: int,
        ticket_shard_min_capacity: int,
    ) -> None:
        self._repo = repo
        self._orders = orders
        self._users = users
        self._cursors = cursors
        self._clock = clock
        self._ticket_shards = ticket_shards  # a ticket's places spread over this many items ...
        self._shard_min_capacity = ticket_shard_min_capacity  # ... from this many places

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
        shards = self._ticket_shards if body.capacity >= self._shard_min_capacity else 1
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
        event, places = read_event(self._repo, event_id)
        after = self._repo.save(rules.review(event, body, actor, iso(self._clock.now())), expected=event)
        return rules.event_view(after, places)

    def cancel_event(self, actor: str, is_merchandiser: bool, event_id: str, reason: str) -> rules.CommunityEvent:
        """The host or a merchandiser calls the event off: no more registrations, and every registration is
        refunded (as an order refund: points and cash back), now and, for whatever fails, by the sweep."""
        event, places = read_event(self._repo, event_id)
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
                done += bool(self._refund_registrations(read_event(self._repo, event_id)[0], final=True).refunds_done)
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

    # -- reads -----------------------------------------------------------------------------------
    def get(self, event_id: str, public: bool = True) -> rules.CommunityEvent:
        event, places = read_event(self._repo, event_id)
        if public and event.status not in rules.PUBLIC:
            raise NotFound(f"event {event_id!r} not found", {"event_id": event_id})
        return rules.event_view(event, places)

    def page(self, city: Optional[str], limit: int, cursor: Optional[str]) -> rules.EventPage:
        now = self._clock.now()
        since = iso(now - dt.timedelta(days=rules.MAX_EVENT_DAYS))  # anything older has ended
        scope = f"events|{(city or '*').strip().casefold()}"
        items, last = self._repo.published(city, since, iso(now), limit, self._cursors.decode(cursor, scope))
        return rules.EventPage(items=event_views(self._repo, items), next_cursor=self._cursors.encode(last, scope))

    def admin_page(self, status: str, limit: int, cursor: Optional[str]) -> rules.EventPage:
        scope = f"admin-events|{status}"
        items, last = self._repo.by_status(status, limit, self._cursors.decode(cursor, scope))
        return rules.EventPage(items=event_views(self._repo, items), next_cursor=self._cursors.encode(last, scope))
