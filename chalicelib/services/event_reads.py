"""What the community services read alike: an event with its places, events and registrations as shown."""

from __future__ import annotations

from typing import Optional

from chalicelib.adapters.community_repo import EventRepository
from chalicelib.domain import community as rules
from chalicelib.domain.community import EventRecord, Places, RegistrationRecord
from chalicelib.domain.errors import NotFound
from chalicelib.domain.orders import Order
from chalicelib.services.orders import OrderService


def read_event(repo: EventRepository, event_id: str) -> tuple[EventRecord, Places]:
    """The event and its places (one BatchGetItem), or NotFound."""
    found = repo.get(event_id)
    if found is None:
        raise NotFound(f"event {event_id!r} not found", {"event_id": event_id})
    return found


def event_views(repo: EventRepository, events: list[EventRecord]) -> list[rules.CommunityEvent]:
    """Events as the API shows them, with their places (one BatchGetItem for them all)."""
    places = repo.places_left([e.event_id for e in events]) if events else {}
    return [rules.event_view(e, places.get(e.event_id, Places(0))) for e in events]


class RegistrationViews:
    """A registration as the API shows it: where it is in the queue, or its order's status, price and ticket."""

    def __init__(self, repo: EventRepository, orders: OrderService, ticket_key: bytes) -> None:
        self._repo = repo
        self._orders = orders
        self._ticket_key = ticket_key

    def one(self, user_id: Optional[str], reg_id: str, order: Optional[Order] = None) -> rules.Registration:
        """One registration, to its user (or to anyone, with `user_id` None); `order`, when the caller has it."""
        item = self._repo.registration(reg_id)
        if item is None or (user_id is not None and item.user_id != user_id):
            raise NotFound(f"registration {reg_id!r} not found", {"registration_id": reg_id})
        if not item.order_id:
            return self.of(item, None)
        return self.of(item, order or self._orders.get(item.order_id))

    def of(self, entry: RegistrationRecord, order: Optional[Order]) -> rules.Registration:
        return rules.registration_view(entry, order, self._ticket_key)
