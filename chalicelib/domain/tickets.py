"""Event tickets as products: the SKU of an event's ticket, the category of its order line, and the registration an
order of it makes. Kept apart from the community rules (chalicelib/domain/community.py) so that an order loads only
these few names."""

from __future__ import annotations

from typing import Optional

TICKET_CATEGORY = "event"  # the category of a ticket's order line: no partner ships it, no address needed


def ticket_sku(event_id: str) -> str:
    return f"TICKET-{event_id}"


def event_of_sku(sku: str) -> Optional[str]:
    return sku.removeprefix("TICKET-") if sku.startswith("TICKET-") else None


def registration_id(order_id: str) -> str:
    """A registration is named after its order (so a replayed request finds it without another read)."""
    return f"r-{order_id.removeprefix('o-')}"
