"""Points paid beyond the shop: a shopper's one-minute payment code, the merchant's capture and refunds (each with
an Idempotency-Key), and the statements the bank settles on, kept per merchant and Shanghai day off the request
path (docs/decisions.md "Merchants: payment codes, refunds and settlement")."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any, Optional

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import Replay, Transaction
from chalicelib.adapters.merchant_payments_repo import CODE_INVALID, MerchantPaymentRepository, Stated
from chalicelib.domain import merchants as rules
from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import (
    CodeInvalid,
    Forbidden,
    IdempotencyKeyReused,
    InsufficientPoints,
    NotFound,
    RefundExceedsPayment,
)
from chalicelib.domain.points import Entry, Profile, shanghai_day
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.merchants import MerchantService, registered
from chalicelib.services.retry import on_lost_race, once_in_groups

GROUP = 25  # payments and refunds stated per transaction (25 marks and at most 25 statement days)


def _digest(body: Any, payment_id: str = "") -> str:
    """What a request with an Idempotency-Key asked for: its body, and for a refund the payment it refunds."""
    asked = {**body.model_dump(mode="json"), **({"payment_id": payment_id} if payment_id else {})}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def _ref(payment_id: str) -> str:
    return f"merchant_payment:{payment_id}"


class PaymentCodes:
    def __init__(self, repo: MerchantPaymentRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def issue(self, user_id: str) -> rules.PaymentCode:
        """A new code for the shopper, replacing any code they had: one live code, valid 60 s, shown once."""

        def attempt() -> rules.PaymentCode:
            before = self._repo.live_code(user_id)
            now = self._clock.now()
            code = rules.new_code(secrets.randbelow)
            expires = iso(now + dt.timedelta(seconds=rules.CODE_TTL_S))
            self._repo.replace_code(user_id, code, iso(now), expires, before)
            return rules.PaymentCode(code=code, expires_at=expires)

        return on_lost_race(attempt, "your payment code")


class MerchantPayments:
    def __init__(
        self,
        repo: MerchantPaymentRepository,
        merchants: MerchantService,
        accounts: Accounts,
        cursors: CursorCodec,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._merchants = merchants
        self._accounts = accounts
        self._cursors = cursors
        self._clock = clock

    # -- capture -------------------------------------------------------------------------------------------
    def capture(self, principal: Principal, idem_key: str, body: rules.PaymentInput) -> rules.Payment:
        """Take `points` from the shopper whose live code this is: the code deleted (it pays once), the payment,
        the request record and the shopper's balance in one transaction. A retry with the same key and body gets
        the first payment."""
        request = {"idempotency_key": idem_key, "request_hash": _digest(body)}
        reads = self._repo.reads(principal.merchant_id or "-", "PAY", idem_key, body.code)
        merchant = registered(principal, lambda _: reads["merchant"])
        if reads["request"]:
            return self._replayed(reads["request"], request, merchant.merchant_id)
        found, now = reads["code"], iso(self._clock.now())
        if not found or found["expires_at"] <= now:
            first = self._repo.request(merchant.merchant_id, "PAY", idem_key)  # a retry whose first try just paid
            if first:
                return self._replayed(first, request, merchant.merchant_id)
            raise CodeInvalid(CODE_INVALID)
        if found["user_id"] == principal.user_id:
            raise Forbidden("staff cannot take their own payment code: another member of staff takes it")
        payment = {
            "payment_id": f"mp-{secrets.token_hex(12)}",
            "merchant_id": merchant.merchant_id,
            "user_id": found["user_id"],
            "points": body.points,
            "refunded": 0,
            "reference": body.reference,
            "description": body.description,
            "taken_by": principal.user_id,
        }
        request["payment_id"] = payment["payment_id"]

        def plan(profile: Profile, at: dt.datetime, tx: Transaction) -> Plan:
            if profile.points_available < body.points:
                raise InsufficientPoints(
                    f"the shopper has {profile.points_available} points available, not {body.points}",
                    {"available": profile.points_available, "required": body.points},
                )
            payment["captured_at"] = request["created_at"] = iso(at)
            self._repo.capture(tx, payment, body.code, iso(at), request)
            entry = Entry(delta=-body.points, kind="merchant_payment", ref=_ref(payment["payment_id"]))
            return Plan(profile.posted([entry]), [entry])

        try:
            self._accounts.change(found["user_id"], plan)
        except (Replay, CodeInvalid):
            first = self._repo.request(merchant.merchant_id, "PAY", idem_key)  # a twin with this key got there first
            if first is None:
                raise
            return self._replayed(first, request, merchant.merchant_id)
        return _payment(payment, [])

    def _replayed(self, first: dict[str, Any], request: dict[str, Any], merchant_id: str) -> rules.Payment:
        if first["request_hash"] != request["request_hash"]:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for another request; use a new one",
                {key: first[key] for key in ("payment_id", "refund_id") if key in first},
            )
        return self._get(merchant_id, first["payment_id"])

    # -- refunds -------------------------------------------------------------------------------------------
    def refund(
        self, principal: Principal, payment_id: str, idem_key: Optional[str], body: rules.RefundInput
    ) -> rules.Payment:
        """Give back part or all of a payment, never more than is left of it: the payment's refunded points move
        on condition they are what was read, so refunds racing each other are each checked against the others."""
        merchant = self._merchants.acting_for(principal).merchant_id
        request = {"idempotency_key": idem_key, "request_hash": _digest(body, payment_id)} if idem_key else None
        if idem_key and request:
            first = self._repo.request(merchant, "REFUND", idem_key)
            if first:
                return self._replayed(first, request, merchant)
        payment = self._own(merchant, self._repo.payment(payment_id), payment_id)
        refund = {
            "refund_id": f"mr-{secrets.token_hex(12)}",
            "payment_id": payment_id,
            "merchant_id": merchant,
            "user_id": payment["user_id"],
            "points": body.points,
            "reason": body.reason,
            "by": principal.user_id,
        }
        if request:
            request.update(payment_id=payment_id, refund_id=refund["refund_id"])

        first_read = [payment]  # the first attempt plans from it; a retry (a refund got there first) reads again

        def plan(profile: Profile, at: dt.datetime, tx: Transaction) -> Plan:
            current = (
                first_read.pop() if first_read else self._own(merchant, self._repo.payment(payment_id), payment_id)
            )
            left = current["points"] - current["refunded"]
            if body.points > left:
                raise RefundExceedsPayment(
                    f"{left} of this payment's {current['points']} points can still be refunded, not {body.points}",
                    {"refundable": left, "points": current["points"], "refunded": current["refunded"]},
                )
            refund["created_at"] = iso(at)
            if request:
                request["created_at"] = iso(at)
            self._repo.refund(tx, current, refund, request)
            entry = Entry(delta=body.points, kind="merchant_refund", ref=_ref(payment_id))
            return Plan(profile.posted([entry]), [entry])

        try:
            self._accounts.change(payment["user_id"], plan)
        except Replay:
            first = self._repo.request(merchant, "REFUND", idem_key or "")
            if first is None or request is None:
                raise
            return self._replayed(first, request, merchant)
        return self._get(merchant, payment_id)

    # -- reads ---------------------------------------------------------------------------------------------
    def get(self, principal: Principal, payment_id: str) -> rules.Payment:
        return self._get(self._merchants.acting_for(principal).merchant_id, payment_id)

    def _get(self, merchant_id: str, payment_id: str) -> rules.Payment:
        items = self._repo.with_refunds(payment_id)
        payment = self._own(merchant_id, next((i for i in items if i["sk"] == "META"), None), payment_id)
        refunds = sorted((i for i in items if i["sk"].startswith("REFUND#")), key=lambda r: r["created_at"])
        return _payment(payment, refunds)

    def page(self, principal: Principal, limit: int, cursor: Optional[str]) -> rules.PaymentPage:
        merchant = self._merchants.acting_for(principal).merchant_id
        items, last = self._repo.page(merchant, limit, self._cursors.decode(cursor, f"mpay:{merchant}"))
        return rules.PaymentPage(
            items=[_payment(i, []) for i in items], next_cursor=self._cursors.encode(last, f"mpay:{merchant}")
        )

    @staticmethod
    def _own(merchant_id: str, payment: Optional[dict[str, Any]], payment_id: str) -> dict[str, Any]:
        """The payment if this merchant took it; another merchant's is as unknown as one that does not exist."""
        if not payment or payment["merchant_id"] != merchant_id:
            raise NotFound(f"no payment {payment_id!r} taken by {merchant_id!r}", {"payment_id": payment_id})
        return payment


def _payment(item: dict[str, Any], refunds: list[dict[str, Any]]) -> rules.Payment:
    return rules.Payment(
        payment_id=item["payment_id"],
        merchant_id=item["merchant_id"],
        points=item["points"],
        refunded_points=item["refunded"],
        status=rules.payment_status(item["points"], item["refunded"]),
        reference=item["reference"],
        description=item.get("description"),
        captured_at=item["captured_at"],
        refunds=[rules.PaymentRefund.model_validate(r) for r in refunds],
    )


class MerchantStatements:
    """Statements per merchant and Shanghai day, from the payments and refunds the stream delivers (each once)."""

    def __init__(self, repo: MerchantPaymentRepository, merchants: MerchantService, clock: Clock) -> None:
        self._repo = repo
        self._merchants = merchants
        self._clock = clock

    def count(self, items: list[dict[str, Any]], attempts: int = 8) -> int:
        """Add payments and refunds to their merchant's day, each once (25 to a transaction). How many now."""
        return once_in_groups(items, self._state, Stated, GROUP, attempts)

    def _state(self, group: list[dict[str, Any]]) -> None:
        sums: dict[tuple[str, str], dict[str, int]] = {}
        for item in group:
            day = sums.setdefault((item["merchant_id"], statement_day_of(item)), {})
            for name, value in statement_sums(item).items():
                day[name] = day.get(name, 0) + value
        self._repo.state(sums, group)

    def statement(self, principal: Principal, query: rules.StatementQuery) -> rules.Statement:
        merchant = self._merchants.acting_for(principal)
        first, last = query.days(shanghai_day(self._clock.now()))
        days = self._repo.statement_days(merchant.merchant_id, first, last)
        return rules.statement(merchant.model_dump(), first, last, days)

    def settlements(self, query: rules.StatementQuery) -> rules.Settlements:
        first, last = query.days(shanghai_day(self._clock.now()))
        found = self._repo.settlement_days(first, last)
        names = self._merchants.names(list(found))
        return rules.settlements(
            first,
            last,
            [rules.statement(names.get(m, {"merchant_id": m}), first, last, found[m]) for m in sorted(found)],
        )


def is_payment_or_refund(item: dict[str, Any]) -> bool:
    return str(item.get("pk", "")).startswith("MPAY#") and (
        item.get("sk") == "META" or str(item.get("sk", "")).startswith("REFUND#")
    )


def statement_day_of(item: dict[str, Any]) -> str:
    at = item["captured_at"] if item["sk"] == "META" else item["created_at"]
    return shanghai_day(dt.datetime.fromisoformat(at.replace("Z", "+00:00")))


def statement_sums(item: dict[str, Any]) -> dict[str, int]:
    if item["sk"] == "META":
        return {"payments": 1, "redeemed": int(item["points"])}
    return {"refunds": 1, "refunded": int(item["points"])}
