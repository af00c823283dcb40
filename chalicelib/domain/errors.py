"""Domain errors: each carries a stable snake_case code; api/errors.py maps codes to HTTP."""

from __future__ import annotations

from typing import Any, Optional


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, details: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidRequest(DomainError):
    code = "invalid_request"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class Unavailable(DomainError):
    """A service the request needs cannot be reached (503 with Retry-After)."""

    code = "unavailable"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class AlreadyExists(DomainError):
    code = "already_exists"


class InvalidTransition(DomainError):
    code = "invalid_status_transition"


class TierTooLow(DomainError):
    code = "tier_too_low"


class AlreadyRegistered(DomainError):
    code = "already_registered"


class EventFull(DomainError):
    code = "event_full"


class AlreadyShipped(DomainError):
    code = "already_shipped"


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"


class BudgetExhausted(DomainError):
    code = "budget_exhausted"


class InsufficientPoints(DomainError):
    code = "insufficient_points"


class SelfReferral(DomainError):
    code = "self_referral"


class AlreadyReferred(DomainError):
    code = "already_referred"


class InvalidPointsSplit(DomainError):
    code = "invalid_points_split"


class CashBelowMinimum(DomainError):
    code = "cash_below_minimum"


class OwnerOnly(DomainError):
    code = "owner_only"


class NotAvailable(DomainError):
    code = "not_available"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class NotCancellable(DomainError):
    code = "not_cancellable"


class InvalidSignature(DomainError):
    code = "invalid_signature"


class PaymentProviderError(DomainError):
    code = "payment_provider_error"


class PriceChanged(DomainError):
    code = "price_changed"


class TooManyPendingOrders(DomainError):
    code = "too_many_pending_orders"


class TooManyOpenDesigns(DomainError):
    code = "too_many_open_designs"


class AlreadyVoted(DomainError):
    code = "already_voted"


class NotABuyer(DomainError):
    code = "not_a_buyer"


class AlreadyReviewed(DomainError):
    code = "already_reviewed"


class OwnReview(DomainError):
    code = "own_review"


class OwnDesign(DomainError):
    code = "own_design"


class AlreadyClaimed(DomainError):
    code = "already_claimed"


class EnvelopeEmpty(DomainError):
    code = "envelope_empty"


class EnvelopeExpired(DomainError):
    code = "envelope_expired"


class NotInAudience(DomainError):
    code = "not_in_audience"


class OwnEnvelope(DomainError):
    code = "own_envelope"


class SendLimitReached(DomainError):
    code = "send_limit_reached"


class NotYetOnSale(DomainError):
    code = "not_yet_on_sale"


class PurchaseLimit(DomainError):
    code = "purchase_limit"


class CouponNotApplicable(DomainError):
    code = "coupon_not_applicable"


class CouponLimit(DomainError):
    code = "coupon_limit"


class TooSoon(DomainError):
    code = "too_soon"


class UnknownTask(DomainError):
    code = "unknown_task"


class CodeInvalid(DomainError):
    """A payment code that is unknown, expired, replaced by a newer one, or used already."""

    code = "code_invalid"


class RefundExceedsPayment(DomainError):
    code = "refund_exceeds_payment"


class SelfTip(DomainError):
    code = "self_tip"


class AccountTooNew(DomainError):
    code = "account_too_new"


class TipLimitReached(DomainError):
    """The sender's daily tipping cap (by tier)."""

    code = "tip_limit_reached"


class ReceiveLimitReached(DomainError):
    """The recipient's daily cap on tips received."""

    code = "receive_limit_reached"


class NotTheCreator(DomainError):
    code = "not_the_creator"


class SlotFull(DomainError):
    """A slot a booking line covers holds its capacity of bookings already."""

    code = "slot_full"


class NotEligible(DomainError):
    """A poll's eligibility (tier, contribution at its opening) excludes the voter."""

    code = "not_eligible"


class PollNotOpen(DomainError):
    """A ballot before a poll opens or after it closes."""

    code = "poll_not_open"
