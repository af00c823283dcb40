"""A quote and its lines are made without validation (`Model.trusted`): what they hold, compare and write must be
what `model_validate` makes of the same values, for every kind of line and with a coupon's discounts."""

from __future__ import annotations

from typing import Optional

import pytest
from pydantic import BaseModel

from chalicelib.domain.base import Model
from chalicelib.domain.checkout import PricedLine, Quote, split
from chalicelib.domain.orders import BookingDetail, LineItem, OrderLine

BOOKING = BookingDetail(
    resource_id="room-1",
    house="sh-jingan",
    kind="room",
    date="2027-01-02",
    start="10:00",
    slots=2,
    starts_at="2027-01-02T02:00:00.000Z",
    ends_at="2027-01-02T03:00:00.000Z",
    cancel_until="2027-01-02T00:00:00.000Z",
    slot_starts=["2027-01-02 10:00", "2027-01-02 10:30"],
)
PLAIN = PricedLine("SKU-A", "prod-a", "Cap", "apparel", 2, 4950, True, True, False)
# every field its own value: a field written from another one's source shows
DESIGNED = PricedLine(
    "SKU-B", "prod-b", "Mug", "home", 3, 2000, True, False, True, "designer-1", "design-1", False, None, None
)
COUPON = PricedLine("SKU-C", "prod-c", "Coupon pack", "coupon", 1, 1000, True, True, False, None, None, True, "tpl-1")
BOOKED = PricedLine("RES-room-1", "prod-r", "Room", "booking", 2, 3000, True, True, False, booking=BOOKING)
VOUCHER = PricedLine("SKU-V", "prod-v", "Voucher", "voucher", 1, 5000, True, True, False, digital=True)


def expected_line(line: PricedLine, discount_fen: int) -> OrderLine:
    """The order line by name, each field from its source, validated."""
    return OrderLine.model_validate(
        {
            "sku": line.sku,
            "product_id": line.product_id,
            "title": line.title,
            "category": line.category,
            "qty": line.qty,
            "unit_price_fen": line.unit_price_fen,
            "line_total_fen": line.unit_price_fen * line.qty,
            "designer_id": line.designer_id,
            "design_id": line.design_id,
            "digital": line.digital,
            "coupon_id": line.coupon_id,
            "booking": line.booking,
            "discount_fen": discount_fen,
        }
    )


@pytest.mark.parametrize("line", [PLAIN, DESIGNED, COUPON, BOOKED, VOUCHER], ids=lambda line: line.sku)
@pytest.mark.parametrize("discount_fen", [0, 150])
def test_a_line_is_what_validation_makes_of_its_fields(line, discount_fen):
    made, expected = line.line(discount_fen), expected_line(line, discount_fen)
    assert made == expected
    assert made.model_fields_set == expected.model_fields_set | {"partner_id"}
    assert list(made.__dict__) == list(OrderLine.model_fields)  # every field, in order
    for view in ({"shopper": True}, {"shopper": False}, None):
        assert made.model_dump_json(context=view) == expected.model_dump_json(context=view)
    assert made.net_fen == line.unit_price_fen * line.qty - discount_fen


@pytest.mark.parametrize(
    "lines, points, discounts, coupon",
    [
        ([PLAIN], 0, None, None),
        ([PLAIN, DESIGNED, COUPON, BOOKED, VOUCHER], 1200, None, None),
        ([PLAIN, DESIGNED, COUPON], 900, [300, 0, 100], "uc-abcdefgh"),
    ],
)
def test_a_quote_is_what_validation_makes_of_it(lines, points, discounts, coupon):
    made = split(lines, points, 0, discounts, coupon)
    expected = Quote.model_validate(made.model_dump())  # the same numbers, validated
    assert made == expected
    assert made.model_dump_json(context={"shopper": True}) == expected.model_dump_json(context={"shopper": True})
    assert made.model_dump() == expected.model_dump()
    assert made.lines == [line.line(d) for line, d in zip(lines, discounts or [0] * len(lines), strict=True)]
    assert made.model_fields_set == set(Quote.model_fields)
    assert made.model_dump_json(context={"shopper": True}).count('"designer_id":null') == len(lines)


PLAIN_TYPES = {int, str, bool, Optional[str], Optional[BookingDetail], list[OrderLine]}


@pytest.mark.parametrize("model", [Quote, OrderLine, LineItem])
def test_what_is_made_trusted_has_nothing_validation_would_do(model: type[Model]):
    """`trusted` skips validation: a validator, a constraint, a type to coerce to, a default factory, a private
    attribute or extra fields added to these models would silently not apply there."""
    decorators = model.__pydantic_decorators__
    assert not decorators.field_validators and not decorators.model_validators and not decorators.validators
    for name, field in model.model_fields.items():
        assert field.annotation in PLAIN_TYPES and not field.metadata and field.default_factory is None, name
    assert not model.__private_attributes__ and model.model_post_init is BaseModel.model_post_init
    assert model.model_config.get("extra") in (None, "ignore")
