"""Check-in at the door: the host or a merchandiser checks a confirmed ticket in, once."""

from __future__ import annotations

import datetime as dt

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.community_repo import EventRepository
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.domain import community as rules
from chalicelib.domain.contribution import EVENT_ATTENDED
from chalicelib.domain.errors import Forbidden, NotAvailable, NotFound
from chalicelib.services.contribution import ContributionService
from chalicelib.services.event_reads import read_event
from chalicelib.services.orders import OrderService
from chalicelib.services.retry import on_lost_race


class TicketCheckin:
    def __init__(
        self,
        repo: EventRepository,
        orders: OrderService,
        order_repo: OrderRepository,
        contribution: ContributionService,
        clock: Clock,
        ticket_key: bytes,
    ) -> None:
        self._repo = repo
        self._orders = orders
        self._order_repo = order_repo
        self._contribution = contribution
        self._clock = clock
        self._ticket_key = ticket_key  # signs ticket codes

    def check_in(self, actor: str, is_merchandiser: bool, event_id: str, code: str) -> rules.CheckinResult:
        """At the door: the host or a merchandiser checks a confirmed ticket in, once, from two hours before
        the start until the end."""
        event, _ = read_event(self._repo, event_id)
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
