"""NIO House bookings: a house's resources and their availability (public), merchandisers' resources, a house's day
and book loans. Booking itself is a line of POST /orders (`{"booking": {...}}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.routing import PUBLIC, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.bookings import Availability, HouseDay, Loan, LoanPage, Resource, ResourceList

bp = Blueprint(__name__)
BOOKINGS = "chalicelib.domain.bookings"


@route(
    bp,
    "/admin/resources",
    "POST",
    auth="merchandiser",
    body=f"{BOOKINGS}:ResourceInput",
    response=f"{BOOKINGS}:Resource",
    status=201,
    tag="bookings",
    errors=("already_exists", "not_found"),
    summary="Add a room or a book to a NIO House (a registered nio_house merchant), audited",
)
def create(ctx: Ctx) -> Resource:
    return ctx.services.bookings.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/houses/{house}/resources",
    auth=PUBLIC,
    response=f"{BOOKINGS}:ResourceList",
    tag="bookings",
    summary="A NIO House's rooms and books, with their opening hours and price per slot",
)
def of_house(ctx: Ctx, house: str) -> ResourceList:
    return ctx.services.bookings.of_house(house)


@route(
    bp,
    "/resources/{resource_id}/availability",
    auth=PUBLIC,
    query=f"{BOOKINGS}:AvailabilityQuery",
    response=f"{BOOKINGS}:Availability",
    tag="bookings",
    errors=("not_found",),
    summary="Every slot of a Shanghai date with how many bookings it still takes (none on a closed day)",
)
def availability(ctx: Ctx, resource_id: str) -> Availability:
    return ctx.services.bookings.availability(resource_id, ctx.query.date)


@route(
    bp,
    "/admin/houses/{house}/day",
    auth="merchandiser",
    query=f"{BOOKINGS}:AvailabilityQuery",
    response=f"{BOOKINGS}:HouseDay",
    tag="bookings",
    summary="A house's day: each resource's slots, what is left and the bookings that hold them",
)
def day(ctx: Ctx, house: str) -> HouseDay:
    return ctx.services.bookings.day(house, ctx.query.date)


@route(
    bp,
    "/admin/loans",
    auth="merchandiser",
    query=f"{BOOKINGS}:LoanQuery",
    response=f"{BOOKINGS}:LoanPage",
    tag="bookings",
    summary="Books out on loan, soonest due first (overdue=true: only those past due_at)",
)
def loans(ctx: Ctx) -> LoanPage:
    return ctx.services.bookings.loans(ctx.query)


@route(
    bp,
    "/admin/loans/{loan_id}/return",
    "POST",
    auth="merchandiser",
    response=f"{BOOKINGS}:Loan",
    tag="bookings",
    errors=("not_found", "conflict"),
    summary="A book is back: the loan leaves the list of loans out",
)
def return_loan(ctx: Ctx, loan_id: str) -> Loan:
    return ctx.services.bookings.return_loan(ctx.user_id, loan_id)
