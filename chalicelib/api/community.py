"""Community events: the public listing, hosting, registering, cancelling and checking in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.orders import IDEMPOTENCY, idempotency_key
from chalicelib.api.routing import PUBLIC, PUBLIC_MAX_AGE_S, USER, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.community import CheckinResult, CommunityEvent, EventPage, MyEvents, Registration

bp = Blueprint(__name__)
MERCH = "merchandiser"


EVENTS = "chalicelib.domain.community"


@route(
    bp,
    "/events",
    auth=PUBLIC,
    query=f"{EVENTS}:EventQuery",
    cache_s=PUBLIC_MAX_AGE_S,
    response=f"{EVENTS}:EventPage",
    tag="events",
    summary="Published events that have not ended, soonest first, optionally in one city",
)
def events(ctx: Ctx) -> EventPage:
    return ctx.services.events.page(ctx.query.city, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/events/{event_id}",
    auth=PUBLIC,
    cache_s=PUBLIC_MAX_AGE_S,
    response=f"{EVENTS}:CommunityEvent",
    tag="events",
    errors=("not_found",),
    summary="One published (or cancelled) event with its places left",
)
def event(ctx: Ctx, event_id: str) -> CommunityEvent:
    return ctx.services.events.get(event_id)


@route(
    bp,
    "/events",
    "POST",
    auth=USER,
    body=f"{EVENTS}:EventInput",
    response=f"{EVENTS}:CommunityEvent",
    status=201,
    tag="events",
    errors=("owner_only", "not_available"),
    summary="A verified owner proposes an event to host; a merchandiser reviews it before it is published",
)
def propose(ctx: Ctx) -> CommunityEvent:
    return ctx.services.events.create(ctx.user_id, ctx.body, official=False)


@route(
    bp,
    "/admin/events",
    "POST",
    auth=MERCH,
    body=f"{EVENTS}:AdminEventInput",
    response=f"{EVENTS}:CommunityEvent",
    status=201,
    tag="admin",
    errors=("not_available",),
    summary="An official event: published at once unless status draft",
)
def create_official(ctx: Ctx) -> CommunityEvent:
    return ctx.services.events.create(ctx.user_id, ctx.body, official=True)


@route(
    bp,
    "/admin/events",
    auth=MERCH,
    query=f"{EVENTS}:AdminEventQuery",
    response=f"{EVENTS}:EventPage",
    tag="admin",
    summary="Events by status, soonest first (default: submitted, the review queue)",
)
def admin_events(ctx: Ctx) -> EventPage:
    return ctx.services.events.admin_page(ctx.query.status, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/admin/events/{event_id}",
    auth=MERCH,
    response=f"{EVENTS}:CommunityEvent",
    tag="admin",
    errors=("not_found",),
    summary="Any event, in any status",
)
def admin_event(ctx: Ctx, event_id: str) -> CommunityEvent:
    return ctx.services.events.get(event_id, public=False)


@route(
    bp,
    "/admin/events/{event_id}/decision",
    "POST",
    auth=MERCH,
    body=f"{EVENTS}:EventDecision",
    response=f"{EVENTS}:CommunityEvent",
    tag="admin",
    errors=("not_found", "invalid_status_transition"),
    summary="Approve (published) or reject (with a note for the host) a user-hosted event",
)
def decide(ctx: Ctx, event_id: str) -> CommunityEvent:
    return ctx.services.events.decide(ctx.user_id, event_id, ctx.body)


@route(
    bp,
    "/events/{event_id}/registrations",
    "POST",
    auth=USER,
    body=f"{EVENTS}:RegistrationInput",
    response=f"{EVENTS}:Registration",
    status=201,
    tag="events",
    headers=IDEMPOTENCY,
    errors=(
        "not_found",
        "not_available",
        "tier_too_low",
        "event_full",
        "already_registered",
        "invalid_points_split",
        "insufficient_points",
        "cash_below_minimum",
        "idempotency_key_reused",
        "too_many_pending_orders",
        "payment_provider_error",
    ),
    summary="Register for an event (an order of its ticket: free, points, points + cash or cash)",
)
def register(ctx: Ctx, event_id: str) -> Registration:
    return ctx.services.registrations.register(ctx.user_id, event_id, idempotency_key(ctx), ctx.body)


@route(
    bp,
    "/me/events",
    auth=USER,
    response=f"{EVENTS}:MyEvents",
    tag="events",
    summary="Events you host (any status) and your registrations, newest first",
)
def my_events(ctx: Ctx) -> MyEvents:
    return ctx.services.registrations.my_events(ctx.user_id)


@route(
    bp,
    "/registrations/{registration_id}",
    auth=USER,
    response=f"{EVENTS}:Registration",
    tag="events",
    errors=("not_found",),
    summary="One of your registrations, with its ticket code once confirmed",
)
def registration(ctx: Ctx, registration_id: str) -> Registration:
    return ctx.services.registrations.registration(ctx.user_id, registration_id)


@route(
    bp,
    "/registrations/{registration_id}/cancel",
    "POST",
    auth=USER,
    response=f"{EVENTS}:Registration",
    tag="events",
    errors=("not_found", "not_cancellable"),
    summary="Cancel your registration until the event's cancel_until: points and cash back, places freed",
)
def cancel(ctx: Ctx, registration_id: str) -> Registration:
    return ctx.services.registrations.cancel(ctx.user_id, registration_id)


@route(
    bp,
    "/events/{event_id}/checkins",
    "POST",
    auth=USER,
    body=f"{EVENTS}:CheckinInput",
    response=f"{EVENTS}:CheckinResult",
    tag="events",
    errors=("not_found", "not_available", "already_checked_in"),
    summary="The host or a merchandiser checks a ticket in at the door (from 2 h before the start to the end)",
)
def check_in(ctx: Ctx, event_id: str) -> CheckinResult:
    return ctx.services.ticket_checkin.check_in(ctx.user_id, ctx.is_merchandiser, event_id, ctx.body.ticket_code)


@route(
    bp,
    "/events/{event_id}/cancel",
    "POST",
    auth=USER,
    body=f"{EVENTS}:EventCancel",
    response=f"{EVENTS}:CommunityEvent",
    tag="events",
    errors=("not_found", "invalid_status_transition"),
    summary="The host or a merchandiser cancels an event: every registration is refunded",
)
def cancel_event(ctx: Ctx, event_id: str) -> CommunityEvent:
    return ctx.services.events.cancel_event(ctx.user_id, ctx.is_merchandiser, event_id, ctx.body.reason)


@route(
    bp,
    "/registrations/{registration_id}/accept",
    "POST",
    auth=USER,
    body=f"{EVENTS}:OfferAcceptance",
    response=f"{EVENTS}:Registration",
    tag="events",
    headers=IDEMPOTENCY,
    errors=(
        "not_found",
        "not_available",
        "invalid_points_split",
        "insufficient_points",
        "cash_below_minimum",
        "idempotency_key_reused",
        "too_many_pending_orders",
        "payment_provider_error",
    ),
    summary="Take up a place the waitlist offered you (before offer_expires_at): paid as any registration",
)
def accept_offer(ctx: Ctx, registration_id: str) -> Registration:
    return ctx.services.waitlist.accept_offer(ctx.user_id, registration_id, idempotency_key(ctx), ctx.body)
