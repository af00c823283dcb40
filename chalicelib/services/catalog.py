"""Catalog use cases: public browsing and the merchandiser's product management."""

from __future__ import annotations

from typing import Any, Callable, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.catalog_repo import CatalogRepository
from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.coupons_repo import CouponRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.pseudonyms import Pseudonyms
from chalicelib.adapters.vouchers_repo import VoucherRepository
from chalicelib.domain import catalog as rules
from chalicelib.domain.errors import InsufficientStock, InvalidRequest, InvalidTransition, NotAvailable, NotFound
from chalicelib.domain.tickets import TICKET_CATEGORY
from chalicelib.services.retry import on_lost_race


def _stored(body: rules.ProductInput, exclude: Optional[set[str]] = None) -> dict[str, Any]:
    """A product as stored: a drop's start as a UTC ISO time (compared with the clock as text)."""
    product = body.model_dump(exclude=exclude)
    if body.sale_starts_at is not None:
        product["sale_starts_at"] = iso(body.sale_starts_at)
    return product


def _audited(product: dict[str, Any]) -> dict[str, Any]:
    """A product as its audit entry shows it (without the stock the repository read to guard a change)."""
    return {**product, "skus": [{k: v for k, v in s.items() if k != "held"} for s in product["skus"]]}


def public_view(product: dict[str, Any], names: Pseudonyms) -> rules.Product:
    """The product as the public sees it (the designer by display name)."""
    return _view(product, names)


def _view(product: dict[str, Any], names: Optional[Pseudonyms] = None) -> rules.Product:
    """The product as merchandisers see it; with `names`, as the public does (the designer by display name)."""
    data = {k: v for k, v in product.items() if k != "version"}
    data["skus"] = [rules.sku_view(s, s["stock"]) for s in product["skus"]]
    if names is not None and data.get("designer_id"):
        data["designer_name"], data["designer_id"] = names.designer(data["designer_id"]), None
    return rules.Product.model_validate(data)


class CatalogService:
    def __init__(
        self,
        repo: CatalogRepository,
        audit: AuditRepository,
        cursors: CursorCodec,
        clock: Clock,
        names: Pseudonyms,
        vouchers: VoucherRepository,
        coupons: CouponRepository,
    ) -> None:
        self._vouchers = vouchers
        self._coupons = coupons
        self._names = names
        self._repo = repo
        self._audit = audit
        self._cursors = cursors
        self._clock = clock

    # -- public ------------------------------------------------------------------------------
    def categories(self) -> rules.CategoryList:
        counts = self._repo.category_counts(list(rules.CATEGORIES))
        return rules.CategoryList(
            items=[
                rules.Category(id=c, name=name, name_zh=name_zh, product_count=max(counts[c], 0))
                for c, (name, name_zh) in rules.CATEGORIES.items()
            ]
        )

    def products(
        self, status: Optional[str], category: Optional[str], limit: int, cursor: Optional[str], public: bool = False
    ) -> rules.ProductPage:
        scope = f"products|{status or '*'}|{category or '*'}"
        items, last = self._repo.page(status, category, limit, self._cursors.decode(cursor, scope))
        names = self._names if public else None
        return rules.ProductPage(items=[_view(p, names) for p in items], next_cursor=self._cursors.encode(last, scope))

    def product(self, product_id: str, *, active_only: bool) -> rules.Product:
        """`active_only`: the public product page (active products only, the designer by display name)."""
        found = self._repo.get_product(product_id)
        if not found or (active_only and found["status"] != "active"):
            raise NotFound(f"product {product_id!r} not found", {"product_id": product_id})
        return _view(found, self._names if active_only else None)

    # -- merchandiser ------------------------------------------------------------------------
    def create(
        self,
        actor: str,
        body: rules.ProductInput,
        designer_id: Optional[str] = None,
        design_id: Optional[str] = None,
        also: Optional[Callable[[Transaction], None]] = None,
    ) -> rules.Product:
        """`also` adds more writes to the same transaction (a design becoming this product)."""
        now = iso(self._clock.now())
        if body.coupon_id and self._coupons.template(body.coupon_id) is None:
            raise InvalidRequest(
                f"no coupon {body.coupon_id!r}: create it first (POST /admin/coupons)",
                {"fields": {"coupon_id": "no such coupon"}},
            )
        product = _stored(body)
        product.update(
            product_id=body.product_id or new_id("p"),
            created_at=now,
            updated_at=now,
            designer_id=designer_id,
            design_id=design_id,
            published_at=now if body.status == "active" else None,
        )
        self._repo.create(
            product, self._audited(actor, "product.create", product["product_id"], None, product, now), also
        )
        return _view(product)

    def update(self, actor: str, product_id: str, body: rules.ProductUpdate) -> rules.Product:
        before = self._existing(product_id)
        now = iso(self._clock.now())
        if body.kind != before.get("kind", "physical"):
            raise InvalidRequest(
                "a product's kind cannot change (a voucher's stock is its codes): create a new product",
                {"fields": {"kind": f"stays {before.get('kind', 'physical')}"}},
            )
        if body.coupon_id != before.get("coupon_id"):  # its orders' coupons and their refunds name the template
            raise InvalidRequest(
                "a coupon product's coupon_id cannot change: create a new product",
                {"fields": {"coupon_id": f"stays {before.get('coupon_id')}"}},
            )
        old_limit, new_limit = before.get("per_user_limit"), body.per_user_limit
        tighter = new_limit is not None and (old_limit is None or new_limit < old_limit)
        sold = before["status"] != "draft" and not (before.get("sale_starts_at") or "") > now
        if tighter and sold:  # a draft was never on sale; a drop before its start has sold nothing
            raise InvalidRequest(
                "a per-user limit counts the orders placed while it is set: add or lower it only "
                "on a draft or before sale_starts_at (raising or removing it is always fine)",
                {"fields": {"per_user_limit": "can only be added or lowered before the sale"}},
            )
        after = {**before, **_stored(body, exclude={"product_id", "status"}), "updated_at": now}
        stock = {s["sku"]: s["stock"] for s in before["skus"]}
        after["skus"] = [{**s, "stock": stock.get(s["sku"], s["stock"])} for s in after["skus"]]
        self._repo.replace(
            before, after, self._audited(actor, "product.update", product_id, _audited(before), after, now)
        )
        return _view(after)

    def set_status(self, actor: str, product_id: str, status: str) -> rules.Product:
        before = self._existing(product_id)
        allowed = rules.PUBLISHABLE_FROM if status == "active" else rules.ARCHIVABLE_FROM
        if before["status"] not in allowed:
            raise InvalidTransition(
                f"a {before['status']} product cannot become {status}", {"from": before["status"], "to": status}
            )
        now = iso(self._clock.now())
        after = {**before, "status": status, "updated_at": now}
        if status == "active" and not before.get("published_at"):  # new arrivals: first published, kept on a relist
            after["published_at"] = now
        action = "product.publish" if status == "active" else "product.archive"
        self._repo.replace(
            before, after, self._audited(actor, action, product_id, _audited(before), _audited(after), now)
        )
        return _view(after)

    def adjust_stock(self, actor: str, sku: str, body: rules.StockAdjustment) -> rules.SkuStock:
        """A merchandiser's stock change with its reason in the audit log, exact before and after; a sharded SKU's
        units are added to its emptiest shards (or taken from its fullest), each shard as it was read."""

        def attempt() -> rules.SkuStock:
            item = self._repo.get_sku(sku)
            if not item:
                raise NotFound(f"sku {sku!r} not found", {"sku": sku})
            if item.get("kind") == "voucher":
                raise InvalidRequest(
                    "a voucher SKU's stock is its unsold codes: upload codes instead",
                    {"fields": {"delta": f"POST /admin/skus/{sku}/codes"}},
                )
            if item.get("category") == TICKET_CATEGORY:  # its stock is the places left: a change would misstate them
                raise InvalidRequest(
                    "an event ticket's stock is the event's places left: they change through the event",
                    {"fields": {"sku": "an event's ticket"}, "event_id": item.get("product_id")},
                )
            count = item.get("stock_shards", 1)
            shards = self._repo.shard_stocks({sku: count})[sku] if count > 1 else {}
            before = item["stock"] + sum(shards.values())
            new = before + body.delta
            moved = rules.restock(shards, body.delta) if shards else {}
            if new < 0 or new > rules.MAX_STOCK or moved is None:
                raise InsufficientStock(
                    f"stock of {sku!r} is {before}; it cannot change by {body.delta}",
                    {"sku": sku, "stock": before, "delta": body.delta},
                )
            now = iso(self._clock.now())
            shown = {"shards": [moved[k] for k in sorted(moved)]} if shards else {}
            audit = self._audited(
                actor,
                "sku.stock",
                sku,
                {"stock": before, **({"shards": [shards[k] for k in sorted(shards)]} if shards else {})},
                {"stock": new, "delta": body.delta, "reason": body.reason, **shown},
                now,
            )
            if shards:
                self._repo.set_shard_stock(sku, shards, moved or {}, audit)
            else:
                self._repo.set_stock(sku, item["stock"], new, audit)
            return rules.SkuStock(sku=sku, stock=new)

        return on_lost_race(attempt, f"stock of {sku!r}")

    def upload_codes(self, actor: str, sku: str, body: rules.CodeUpload) -> rules.CodesAdded:
        """New codes for a voucher SKU; codes given twice or already there are counted as duplicates, never stored
        twice. Audited with the numbers (never the codes)."""
        item = self._repo.get_sku(sku)
        if not item:
            raise NotFound(f"sku {sku!r} not found", {"sku": sku})
        not_voucher = NotAvailable(
            f"{sku!r} is not a voucher SKU: codes belong to products of kind voucher",
            {"sku": sku, "kind": item.get("kind") or "physical"},
        )
        if item.get("kind") != "voucher":
            raise not_voucher
        given = list(dict.fromkeys(body.codes))
        taken = self._vouchers.existing(given)  # on this SKU or another: a code is sold once in the whole shop
        now = iso(self._clock.now())

        def audit(tx: Transaction, count: int) -> None:  # each chunk's entry, in its own transaction: numbers only
            self._audit.record(tx, actor, "sku.codes", sku, None, {"added": count}, now)

        added = self._vouchers.add(sku, [c for c in given if c not in taken], now, not_voucher=not_voucher, audit=audit)
        after = self._repo.get_sku(sku) or item
        return rules.CodesAdded(added=added, duplicates=len(body.codes) - added, available=after["stock"])

    def _existing(self, product_id: str) -> dict[str, Any]:
        found = self._repo.get_product(product_id)
        if not found:
            raise NotFound(f"product {product_id!r} not found", {"product_id": product_id})
        return found

    def _audited(
        self, actor: str, action: str, entity_id: str, before: Any, after: Any, now: str
    ) -> Callable[[Transaction], None]:
        return lambda tx: self._audit.record(tx, actor, action, entity_id, before, after, now)
