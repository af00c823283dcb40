"""Fulfillment events: what partners read from the SQS FIFO queue (schemas in docs/events/)."""
from __future__ import annotations

from typing import Literal, Optional


from chalicelib.domain.base import Model
from chalicelib.domain.orders import Order, OrderLine, OrderStatus, ShippingAddress

EventType = Literal["order.paid", "order.cancelled", "order.refunded", "order.shipped"]
SCHEMA_VERSION: Literal[1] = 1


class EventOrder(Model):
    order_id: str
    user_id: str
    status: OrderStatus
    lines: list[OrderLine]
    shipping_address: Optional[ShippingAddress]
    subtotal_fen: int
    points_applied: int
    cash_due_fen: int


class OrderEvent(Model):
    """One change of an order. Consumers deduplicate on event_id (also the SQS deduplication id)."""

    event_id: str
    type: EventType
    schema_version: Literal[1] = SCHEMA_VERSION
    occurred_at: str
    order: EventOrder


def order_event(event_id: str, event_type: str, occurred_at: str, order: Order) -> OrderEvent:
    return OrderEvent.model_validate({
        "event_id": event_id, "type": event_type, "occurred_at": occurred_at,
        "order": {name: getattr(order, name) for name in EventOrder.model_fields}})
