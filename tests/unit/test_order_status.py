"""The order state machine: every (from, to) pair of OrderStatus against a table written out by hand."""

from __future__ import annotations

import itertools
from typing import get_args

import pytest

from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.transitions import can_move

STATUSES = (
    "pending_payment",
    "paid",
    "partially_shipped",
    "shipped",
    "expired",
    "cancelled",
    "payment_failed",
    "refunded",
)
ALLOWED = {
    ("pending_payment", "paid"),
    ("pending_payment", "expired"),
    ("pending_payment", "cancelled"),
    ("pending_payment", "payment_failed"),
    ("paid", "partially_shipped"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("paid", "refunded"),
    ("partially_shipped", "partially_shipped"),
    ("partially_shipped", "shipped"),  # another partner's parcel
    ("partially_shipped", "refunded"),
    ("shipped", "refunded"),
}
TERMINAL = ("expired", "cancelled", "payment_failed", "refunded")


def test_the_table_covers_exactly_the_order_statuses():
    assert set(get_args(OrderStatus)) == set(STATUSES)


@pytest.mark.parametrize("current, target", sorted(itertools.product(STATUSES, STATUSES)))
def test_can_move_matches_the_table(current, target):
    assert can_move(current, target) is ((current, target) in ALLOWED)


@pytest.mark.parametrize("current", TERMINAL)
def test_terminal_statuses_go_nowhere(current):
    assert [target for target in STATUSES if can_move(current, target)] == []


@pytest.mark.parametrize(
    "current, targets",
    [
        ("pending_payment", ["paid", "expired", "cancelled", "payment_failed"]),
        ("paid", ["partially_shipped", "shipped", "cancelled", "refunded"]),
        ("partially_shipped", ["partially_shipped", "shipped", "refunded"]),
        ("shipped", ["refunded"]),
    ],
)
def test_each_live_status_reaches_exactly_its_targets(current, targets):
    assert [target for target in STATUSES if can_move(current, target)] == targets


@pytest.mark.parametrize(
    "current, target",
    [
        ("shipped", "cancelled"),  # a parcel on its way cannot be cancelled, only refunded
        ("partially_shipped", "cancelled"),
        ("pending_payment", "shipped"),  # nothing ships before it is paid
        ("pending_payment", "refunded"),  # nothing to refund before payment
        ("paid", "pending_payment"),  # no going back
        ("refunded", "paid"),
        ("unknown", "paid"),
        ("paid", "unknown"),
        ("", ""),
    ],
)
def test_notable_moves_are_refused(current, target):
    assert can_move(current, target) is False
