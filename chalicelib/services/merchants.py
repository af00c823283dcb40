"""The merchant registry (audited) and which merchant a staff token acts for."""

from __future__ import annotations

from typing import Any, Callable, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.merchants_repo import MerchantRepository
from chalicelib.domain import merchants as rules
from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import Forbidden


class MerchantService:
    def __init__(self, repo: MerchantRepository, audit: AuditRepository, cursors: CursorCodec, clock: Clock) -> None:
        self._repo = repo
        self._audit = audit
        self._cursors = cursors
        self._clock = clock

    def create(self, actor: str, body: rules.MerchantInput) -> rules.Merchant:
        now = iso(self._clock.now())
        merchant = {**body.model_dump(), "created_at": now, "created_by": actor}
        self._repo.create(
            merchant,
            lambda tx: self._audit.record(tx, actor, "merchant.create", body.merchant_id, None, merchant, now),
        )
        return rules.Merchant.model_validate(merchant)

    def page(self, limit: int, cursor: Optional[str]) -> rules.MerchantPage:
        items, last = self._repo.page(limit, self._cursors.decode(cursor, "merchants"))
        return rules.MerchantPage(
            items=[rules.Merchant.model_validate(i) for i in items], next_cursor=self._cursors.encode(last, "merchants")
        )

    def acting_for(self, principal: Principal) -> rules.Merchant:
        """The registered merchant a `merchant` token names; 403 for a token naming none or one not registered."""
        return registered(principal, lambda merchant_id: self._repo.get(merchant_id))

    def names(self, merchant_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {m["merchant_id"]: m for m in self._repo.many(merchant_ids)}


def registered(principal: Principal, lookup: Callable[[str], Optional[dict[str, Any]]]) -> rules.Merchant:
    """The registered merchant of a staff token, `lookup` reading the registry."""
    if not principal.merchant_id:
        raise Forbidden("this merchant token has no merchant_id claim: ask the shop for a token naming yours")
    found = lookup(principal.merchant_id)
    if not found:
        raise Forbidden(
            f"merchant {principal.merchant_id!r} is not registered with the shop",
            {"merchant_id": principal.merchant_id},
        )
    return rules.Merchant.model_validate({**found, "created_by": None})
