"""Fulfillment events: what each partner reads from its own SQS FIFO queue (schemas in docs/events/).

Schema version 2: an event goes to one partner and carries only that partner's lines and parcels; the
order's money (points, cash) is the shop's business, not the partner's."""

from typing import Literal, Optional

from pydantic import Field

from chalicelib.domain.base import Model
from chalicelib.domain.orders import LineItem, Order, OrderStatus, Shipment, ShippingAddress

EventType = Literal["order.paid", "order.cancelled", "order.refunded", "order.shipped"]
SCHEMA_VERSION: Literal[2] = 2


class PartnerLine(LineItem):
    """A line as its partner sees it: no designer, no routing."""


class PartnerOrder(Model):
    """An order as one partner sees it: its lines, its parcels, where they go, and the order's status."""

    order_id: str
    user_id: str
    status: OrderStatus = Field(
        description="the whole order's status (partially_shipped while another partner's lines wait)"
    )
    lines: list[PartnerLine]
    shipping_address: Optional[ShippingAddress]
    shipments: list[Shipment]
    created_at: str


class OrderEvent(Model):
    """One change of an order, for one partner. Consumers deduplicate on event_id (also the SQS deduplication id)."""

    event_id: str
    type: EventType
    schema_version: Literal[2] = SCHEMA_VERSION
    occurred_at: str
    partner_id: str
    order: PartnerOrder
    shipment: Optional[Shipment] = Field(default=None, description="order.shipped: the parcel this event reports")


def partner_view(order: Order, partner_id: str) -> PartnerOrder:
    return PartnerOrder(
        order_id=order.order_id,
        user_id=order.user_id,
        status=order.status,
        lines=[
            PartnerLine.model_validate(line.model_dump(include=set(PartnerLine.model_fields)))
            for line in order.lines_of(partner_id)
        ],
        shipping_address=order.shipping_address,
        shipments=[s for s in order.shipments if s.partner_id == partner_id],
        created_at=order.created_at,
    )


def order_event(
    event_id: str, event_type: str, occurred_at: str, order: Order, partner_id: str, shipment: Optional[Shipment] = None
) -> OrderEvent:
    return OrderEvent.model_validate(
        {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": occurred_at,
            "partner_id": partner_id,
            "order": partner_view(order, partner_id),
            "shipment": shipment,
        }
    )
