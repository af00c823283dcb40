"""An order body read from JSON: a basket of SKU lines takes the short way (no per-item discriminator), and reads
exactly as the full model reads it; anything else, and every error, is the full model's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain.checkout import BookingRequest, LineRequest, OrderRequest
from chalicelib.services.checkout import request_hash

ADDRESS = {
    "name": "Li Lei",
    "phone": "+86 138 0000 0000",
    "line1": "1 Road",
    "city": "上海",
    "province": "Shanghai",
    "postal_code": "201805",
    "country": "CN",
}
BOOKING = {"booking": {"resource_id": "room-1", "date": "2027-01-02", "start": "10:00", "slots": 1}}


def full(raw: bytes) -> OrderRequest:
    """The full model alone (the discriminated union of SKU and booking lines)."""
    return OrderRequest.__pydantic_validator__.validate_json(raw)


def errors_of(read: Any, raw: bytes) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        read(raw)
    return json.loads(caught.value.json(include_url=False))  # (a ValueError in ctx compares by identity)


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"sku": "A-1", "qty": 2}], "points": 100},
        {"items": [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": 3}], "points": 0, "shipping_address": ADDRESS},
        {"items": [{"sku": "A-1", "qty": 1}], "points": 5, "expected": {"cash_due_fen": 0, "points": 5}},
    ],
)
def test_a_basket_of_sku_lines_reads_as_the_full_model_reads_it(body):
    raw = json.dumps(body, ensure_ascii=False).encode()
    read = OrderRequest.model_validate_json(raw)
    assert isinstance(read, OrderRequest) and all(type(i) is LineRequest for i in read.items)
    assert read.model_dump() == full(raw).model_dump() and request_hash(read) == request_hash(full(raw))


def test_a_basket_with_a_booking_is_read_by_the_full_model():
    raw = json.dumps({"items": [{"sku": "A-1", "qty": 1}, BOOKING], "points": 0}).encode()
    assert [type(i) for i in OrderRequest.model_validate_json(raw).items] == [LineRequest, BookingRequest]


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"sku": "A-1", "qty": 0}], "points": 0},
        {"items": [{"sku": "A-1", "qty": 1}, {"sku": "A-1", "qty": 1}], "points": 0},
        {"items": [{"sku": "A-1", "qty": 1, **BOOKING}], "points": 0},
        {"items": [{"sku": "A-1", "qty": 1}, {"booking": {"resource_id": "room-1"}}], "points": 0},
        {"items": [], "points": 0},
        {"items": [{"sku": "A-1", "qty": 1}], "points": -1, "extra": True},
    ],
)
def test_every_error_is_the_full_models(body):
    raw = json.dumps(body).encode()
    assert errors_of(OrderRequest.model_validate_json, raw) == errors_of(full, raw)
