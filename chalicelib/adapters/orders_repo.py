"""DynamoDB repository of orders, their idempotency records and the stock they take (key formats: infra/README.md)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Sequence

from botocore.exceptions import ClientError

from chalicelib.adapters.catalog_repo import shard_key, sku_key
from chalicelib.adapters.coupons_repo import user_coupon_key
from chalicelib.adapters.dynamo import (
    LostRace,
    OnFail,
    Table,
    Transaction,
    error_code,
    from_item,
    key,
    to_values,
)
from chalicelib.adapters.users_repo import PROFILE, profile_key, typed_profile
from chalicelib.domain.checkout import SkuOffer
from chalicelib.domain.orders import Order, OrderLine, Payment
from chalicelib.domain.points import Profile
from chalicelib.domain.text import STORED

EXPIRY = "ORDER#EXPIRY"
REFUND_DUE = "ORDER#REFUND_DUE"  # cancelled or refunded, paid in cash, the provider's refund not yet confirmed
_BOOKKEEPING = (
    "version",
    "idempotency_key",
    "late_payment_refund",
    "stock_shards",
    "purchase_limits",
    "coupon_budget",
)  # stored, never shown


def purchases_key(product_id: str, user_id: str) -> dict[str, Any]:
    """Units of a limited product a user holds over all their orders (`units`)."""
    return key(f"PURCHASES#{product_id}#{user_id}", "META")


def order_key(order_id: str) -> dict[str, Any]:
    return key(f"ORDER#{order_id}", "META")


def idempotency_key(user_id: str, idem_key: str) -> dict[str, Any]:
    return key(f"IDEM#{user_id}", f"KEY#{idem_key}")


def listing(status: Optional[str], user_id: Optional[str]) -> tuple[str, str]:
    if user_id:
        return "gsi3", f"ORDER#U#{user_id}"
    if status:
        return "gsi2", f"ORDER#S#{status}"
    return "gsi4", "ORDER"


def _item(order: Order, version: int) -> dict[str, Any]:
    sort = f"{order.created_at}#{order.order_id}"
    item = {
        "pk": f"ORDER#{order.order_id}",
        "sk": "META",
        **order.model_dump(exclude={"shipment"}),
        **{name: getattr(order, name) for name in _BOOKKEEPING},
        "version": version,
        "gsi2pk": f"ORDER#S#{order.status}",
        "gsi2sk": sort,
        "gsi3pk": f"ORDER#U#{order.user_id}",
        "gsi3sk": sort,
        "gsi4pk": "ORDER",
        "gsi4sk": sort,
    }
    if order.status == "pending_payment" and order.expires_at:
        item.update(gsi1pk=EXPIRY, gsi1sk=f"{order.expires_at}#{order.order_id}")
    elif order.payment and order.payment.status == "refund_pending":
        item.update(gsi1pk=REFUND_DUE, gsi1sk=f"{order.updated_at}#{order.order_id}")
    return item


def _order(item: dict[str, Any]) -> Order:
    return Order.model_validate(
        {k: v for k, v in item.items() if k not in ("pk", "sk") and not k.startswith("gsi")}, context=STORED
    )


def _offer(item: dict[str, Any]) -> SkuOffer:
    """A SKU item as checkout reads it: SkuOffer's fields in their order (positional: the quote's
    hottest constructor, a fifth faster than by keyword; a test names each field's source)."""
    get = item.get
    accepts = get("accepts") or {}
    return SkuOffer(
        item["sku"],
        item["product_id"],
        item["title"],
        item["category"],
        get("status", ""),
        item["price_fen"],
        item["stock"],
        accepts.get("points", True),
        accepts.get("cash", True),
        bool(get("owner_only")),
        (get("attributes") or {}).get("date", ""),
        get("min_tier") or "fan",
        get("sale_ends_at") or "",
        get("sale_starts_at") or "",
        get("per_user_limit"),
        get("kind") or "physical",
        get("coupon_id"),
        get("queued", 0),
        get("stock_shards", 1),
        get("designer_id"),
        get("design_id"),
        get("terms_version", 0),
        get("resource"),
    )


def _as_sent(item: dict[str, Any]) -> dict[str, Any]:
    return item


class CheckoutReads(NamedTuple):
    """What checkout reads in one BatchGetItem (a named tuple: immutable, built on every checkout)."""

    profile: Optional[Profile]
    idempotency: Optional[dict[str, Any]]
    skus: dict[str, SkuOffer]
    coupon: Optional[dict[str, Any]] = None  # the coupon the order asks to use, if the buyer holds it


class OrderRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def begin(self) -> Transaction:
        return self.table.transaction()

    # -- reads -------------------------------------------------------------------------------
    def get(self, order_id: str) -> Optional[Order]:
        item = self.table.get(order_key(order_id))
        return _order(item) if item else None

    def many(self, order_ids: list[str]) -> list[Order]:
        return [_order(i) for i in self.table.batch_get([order_key(o) for o in order_ids])]

    def checkout_reads(
        self, user_id: str, idem_key: Optional[str], skus: list[str], coupon: Optional[str] = None
    ) -> CheckoutReads:
        """One BatchGetItem: the profile, the idempotency record, the SKUs and the buyer's coupon."""
        keys = [profile_key(user_id)] + [sku_key(s) for s in skus]
        if idem_key:
            keys.append(idempotency_key(user_id, idem_key))
        if coupon:
            keys.append(user_coupon_key(user_id, coupon))
        profile, record, found, held = None, None, {}, None
        for item in self.table.batch_read(keys, _as_sent):  # each converted by what it is (of a profile item, only
            sk = item["sk"]["S"]  # the profile's own attributes)
            if sk == PROFILE:
                profile = typed_profile(item)
            elif item["pk"]["S"].startswith("IDEM#"):
                record = from_item(item)
            elif sk.startswith("COUPON#"):
                held = {k: v for k, v in from_item(item).items() if k not in ("pk", "sk")}
            else:
                offer = _offer(from_item(item))
                found[offer.sku] = offer
        return CheckoutReads(profile, record, found, held)

    def idempotency(self, user_id: str, idem_key: str) -> Optional[dict[str, Any]]:
        return self.table.get(idempotency_key(user_id, idem_key))

    def page(
        self, status: Optional[str], user_id: Optional[str], limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[Order], Optional[dict[str, Any]]]:
        index, partition = listing(status, user_id)
        items, last = self.table.page(index, partition, limit, start)
        return [_order(i) for i in items], last

    def overdue(self, now_iso: str, limit: int = 100) -> list[str]:
        """Pending orders whose payment window closed before `now_iso`."""
        return [i["order_id"] for i in self.table.due(EXPIRY, now_iso, limit)]

    def refunds_due(self, before_iso: str, limit: int = 100) -> list[str]:
        """Cancelled or refunded orders whose cash refund the provider has not confirmed."""
        return [i["order_id"] for i in self.table.due(REFUND_DUE, before_iso, limit)]

    # -- writes in a transaction -------------------------------------------------------------
    def add(self, tx: Transaction, order: Order, request_hash: str, *, on_replay: OnFail) -> None:
        """A new order with its idempotency record (`on_replay` when the shopper's key was used already)."""
        tx.create(_item(order, 1))
        tx.create(
            {
                "pk": f"IDEM#{order.user_id}",
                "sk": f"KEY#{order.idempotency_key}",
                "request_hash": request_hash,
                "order_id": order.order_id,
                "created_at": order.created_at,
            },
            on_fail=on_replay,
        )

    def save(self, tx: Transaction, after: Order, *, expected: Order) -> None:
        """Write `after` only if the order is still exactly `expected` (version and status), else LostRace."""
        tx.put(
            _item(after, expected.version + 1),
            "version = :v AND #status = :s",
            {":v": expected.version, ":s": expected.status},
            names={"#status": "status"},
        )

    def check_status(self, tx: Transaction, order_id: str, statuses: Sequence[str], *, on_fail: OnFail) -> None:
        """A condition in `tx` that the order is in one of `statuses` when it commits (it is not written)."""
        names = {f":s{n}": status for n, status in enumerate(statuses)}
        tx.check(
            order_key(order_id),
            f"#status IN ({', '.join(names)})",
            names,
            names={"#status": "status"},
            on_fail=on_fail,
        )

    def shard_stock(self, sku: str, shards: int) -> dict[int, int]:
        """The stock on each shard of a sharded SKU (one BatchGetItem)."""
        items = self.table.batch_get([shard_key(sku, i) for i in range(shards)])
        return {int(i["pk"].rsplit("#", 1)[1]): i["stock"] for i in items}

    def check_on_sale(self, tx: Transaction, lines: Sequence[OrderLine]) -> None:
        """Stock set aside already (a waitlist offer): the SKUs must still be on sale, nothing is taken."""
        for line in lines:
            tx.check(
                sku_key(line.sku),
                "#status = :active",
                {":active": "active"},
                names={"#status": "status"},
                on_fail=LostRace,
            )

    def take_stock(
        self,
        tx: Transaction,
        lines: Sequence[OrderLine],
        read: dict[str, SkuOffer],
        shards: Optional[dict[str, list[list[int]]]] = None,
    ) -> None:
        """Take the lines' stock, each SKU still active, with enough left and on the terms that were read (price
        and rules: `terms_version`); else LostRace, and the re-read prices anew or names the precise error.
        A sharded SKU's units come off the shards in `shards`; its SKU item is only checked (a read, which does not
        conflict with the other buyers of a hot SKU)."""
        for line in lines:
            if shards and line.sku in shards:
                tx.check(
                    sku_key(line.sku),
                    "#status = :active AND terms_version = :terms AND (attribute_not_exists(queued) OR queued = :zero)",
                    {":active": "active", ":terms": read[line.sku].terms_version, ":zero": 0},
                    names={"#status": "status"},
                    on_fail=LostRace,
                )
                for shard, qty in shards[line.sku]:
                    tx.update(
                        shard_key(line.sku, shard), "SET stock = stock - :q", {":q": qty}, condition="stock >= :q"
                    )
                continue
            tx.update(
                sku_key(line.sku),
                "SET stock = stock - :q",
                {":q": line.qty, ":active": "active", ":terms": read[line.sku].terms_version, ":zero": 0},
                condition="attribute_exists(pk) AND stock >= :q AND #status = :active AND "
                "(terms_version = :terms OR (attribute_not_exists(terms_version) AND :terms = :zero)) "
                "AND (attribute_not_exists(queued) OR queued = :zero)",  # an event's waitlist
                names={"#status": "status"},
            )

    def give_back_stock(
        self, tx: Transaction, lines: Sequence[OrderLine], shards: Optional[dict[str, list[list[int]]]] = None
    ) -> None:
        """Return the lines' stock to the SKUs that still exist: to the shards it came from, as the SKU is sharded
        now (a merchandiser may have changed its shards since the order was placed)."""
        existing = {i["sku"]: i for i in self.table.batch_get([sku_key(line.sku) for line in lines])} if lines else {}
        for line in lines:
            item = existing.get(line.sku)
            kind = "coupon" if line.coupon_id else "voucher" if line.digital else "physical"
            if item is None or (item.get("kind") or "physical") != kind:
                continue  # the SKU is gone (its id may now be another kind of SKU)
            count = item.get("stock_shards", 1)
            if count <= 1:  # still unsharded and of this kind when it commits, else the re-read decides
                tx.update(
                    sku_key(line.sku),
                    "SET stock = stock + :q",
                    {":q": line.qty, ":one": 1, ":kind": kind, ":physical": "physical"},
                    condition="attribute_exists(pk) AND (attribute_not_exists(stock_shards) OR stock_shards = :one)"
                    " AND (kind = :kind OR (attribute_not_exists(kind) AND :kind = :physical))",
                )
                continue
            back: dict[int, int] = {}
            for shard, qty in (shards or {}).get(line.sku) or [[0, line.qty]]:
                back[shard % count] = back.get(shard % count, 0) + qty
            for shard, qty in back.items():
                tx.update(
                    shard_key(line.sku, shard), "SET stock = stock + :q", {":q": qty}, condition="attribute_exists(pk)"
                )

    def count_purchases(
        self, tx: Transaction, user_id: str, units: dict[str, tuple[int, int]], *, on_fail: Callable[[str], OnFail]
    ) -> None:
        """Add each limited product's units to the user's count, only while it stays within the limit:
        `units` is {product_id: (qty, limit)}; `on_fail(product_id)` says what a full count means."""
        for product_id, (qty, limit) in units.items():
            tx.update(
                purchases_key(product_id, user_id),
                "ADD units :q",
                {":q": qty, ":room": limit - qty},
                condition="attribute_not_exists(units) OR units <= :room",
                on_fail=on_fail(product_id),
            )

    def purchases(self, product_id: str, user_id: str) -> int:
        return (self.table.get(purchases_key(product_id, user_id)) or {}).get("units", 0)

    def release_purchases(self, tx: Transaction, user_id: str, units: dict[str, int]) -> None:
        """An order that no longer counts (cancelled, expired, refunded) gives its units back to the user's counts."""
        for product_id, qty in units.items():
            tx.update(
                purchases_key(product_id, user_id), "ADD units :q", {":q": -qty}, condition="attribute_exists(pk)"
            )

    # -- single writes after a commit ----------------------------------------------------------
    def mark_refunded(self, order_id: str, refund_id: str) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=order_key(order_id),
            UpdateExpression="SET payment.#s = :s, payment.refund_id = :r ADD version :one REMOVE gsi1pk, gsi1sk",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_values({":s": "refunded", ":r": refund_id, ":one": 1}),
        )

    def record_late_refund(self, order_id: str, payment_intent_id: str, refund_id: str) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=order_key(order_id),
            UpdateExpression="SET late_payment_refund = :r ADD version :one",
            ExpressionAttributeValues=to_values(
                {":r": {"payment_intent_id": payment_intent_id, "refund_id": refund_id}, ":one": 1}
            ),
        )

    def attach_payment(self, order_id: str, payment: Payment) -> None:
        """Record the PaymentIntent of a pending order (once; a replay that raced here changes nothing). The version
        moves, so a change planned from the order before it (a cancel) re-reads instead of dropping the payment."""
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=order_key(order_id),
                UpdateExpression="SET payment = :p ADD version :one",
                ConditionExpression="attribute_not_exists(payment)",
                ExpressionAttributeValues=to_values({":p": payment.model_dump(), ":one": 1}),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
