"""NIO House bookings: merchandisers add a house's resources (audited); anyone reads them and their availability;
booking lines are sold through checkout (chalicelib/services/checkout_parts.py: BookingSlots, BookingFollower); a
house's day view, and book loans returned and overdue."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.bookings_repo import BookingRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.domain import bookings as rules
from chalicelib.domain.errors import NotFound
from chalicelib.domain.money import FEN_PER_POINT
from chalicelib.services.merchants import MerchantService

ALWAYS = 1_000_000_000  # a booking SKU's stock: never what limits it (its slots do)


class BookingService:
    def __init__(
        self, repo: BookingRepository, merchants: MerchantService, audit: AuditRepository, clock: Clock
    ) -> None:
        self._repo = repo
        self._merchants = merchants
        self._audit = audit
        self._clock = clock

    def create(self, actor: str, body: rules.ResourceInput) -> rules.Resource:
        """A resource of a registered NIO House, with the SKU its booking lines are priced as, audited."""
        house = self._merchants.names([body.house]).get(body.house)
        if not house or house.get("kind") != "nio_house":
            raise NotFound(
                f"no NIO House {body.house!r} is registered (POST /admin/merchants with kind nio_house)",
                {"fields": {"house": "a registered merchant of kind nio_house"}},
            )
        now = iso(self._clock.now())
        resource = {**body.model_dump(mode="json"), "created_at": now, "created_by": actor}
        sku = rules.booking_sku(body.resource_id)
        self._repo.create(
            resource,
            {
                "sku": sku,
                "product_id": body.resource_id,
                "category": rules.BOOKING_CATEGORY,
                "kind": "booking",
                "title": body.title,
                "status": "active",
                "price_fen": body.price_fen_per_slot,
                "stock": ALWAYS,
                "accepts": body.accepts.model_dump(mode="json"),
                "owner_only": False,
                "min_tier": body.min_tier,
                "attributes": {},
                "terms_version": time.time_ns() // 1000,
                "resource": rules.rules_of(resource),
            },
            lambda tx: self._audit.record(tx, actor, "resource.create", body.resource_id, None, resource, now),
        )
        return _resource(resource)

    def of_house(self, house: str) -> rules.ResourceList:
        return rules.ResourceList(items=[_resource(r) for r in self._repo.of_house(house)])

    def availability(self, resource_id: str, date: str) -> rules.Availability:
        resource = self._resource(resource_id)
        return rules.availability(rules.rules_of(resource), date, self._repo.taken(resource_id, date))

    def day(self, house: str, date: str) -> rules.HouseDay:
        """A house's day: each resource's slots with what is left and the bookings that hold them."""
        views = []
        for resource in self._repo.of_house(house):
            rid = resource["resource_id"]
            views.append(
                rules.ResourceDay(
                    resource=_resource(resource),
                    slots=rules.availability(rules.rules_of(resource), date, self._repo.taken(rid, date)).slots,
                    bookings=[rules.DayBooking.model_validate(b) for b in self._repo.bookings(rid, date)],
                )
            )
        return rules.HouseDay(house=house, date=date, resources=views)

    def loans(self, query: rules.LoanQuery) -> rules.LoanPage:
        now = iso(self._clock.now())
        before = now if query.overdue == "true" else "9999"
        return rules.LoanPage(items=[_loan(i, now) for i in self._repo.loans_out(before)])

    def return_loan(self, actor: str, loan_id: str) -> rules.Loan:
        now = iso(self._clock.now())
        return _loan(self._repo.return_loan(loan_id, now, actor), now)

    def _resource(self, resource_id: str) -> dict[str, Any]:
        found = self._repo.get(resource_id)
        if not found:
            raise NotFound(f"no resource {resource_id!r}", {"resource_id": resource_id})
        return found


def _resource(item: dict[str, Any]) -> rules.Resource:
    return rules.Resource.model_validate(
        {
            **item,
            "points_price_per_slot": item["price_fen_per_slot"] // FEN_PER_POINT,
            "sku": rules.booking_sku(item["resource_id"]),
        }
    )


def _loan(item: dict[str, Any], now: str) -> rules.Loan:
    back = item.get("returned_at")
    return rules.Loan.model_validate({**item, "overdue": not back and item["due_at"] < now})
