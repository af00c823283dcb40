"""DynamoDB repository of products, SKUs and category counters (key formats: infra/README.md)."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from chalicelib.adapters.dynamo import LostRace, Table, Transaction, key
from chalicelib.domain.catalog import spread
from chalicelib.domain.errors import AlreadyExists, Conflict, InvalidRequest

META = "META"
# Product fields a SKU item repeats, so checkout reads one item per line (with `terms_version`, moved by every
# product write, which checkout's stock condition pins; a new SKU item starts it at the time in µs, so a SKU id
# removed and added again never repeats a version checkout may have read).
SKU_COPIED_FIELDS = (
    "product_id",
    "category",
    "title",
    "status",
    "owner_only",
    "accepts",
    "designer_id",
    "design_id",
    "sale_starts_at",
    "per_user_limit",
    "kind",
    "coupon_id",
)


def product_key(product_id: str) -> dict[str, Any]:
    return key(f"PRODUCT#{product_id}", META)


def sku_key(sku: str) -> dict[str, Any]:
    return key(f"SKU#{sku}", META)


def shard_key(sku: str, shard: int) -> dict[str, Any]:
    """A shard of a hot SKU's stock: a partition of its own (a partition takes ~1,000 WCU/s, whatever it holds)."""
    return key(f"SKU#{sku}#SHARD#{shard:02d}", META)


def category_key(category: str) -> dict[str, Any]:
    return key(f"CATEGORY#{category}", META)


def listing(status: Optional[str], category: Optional[str]) -> tuple[str, str]:
    """(index, partition value) of the product listing that answers this filter."""
    if status and category:
        return "gsi1", f"PRODUCT#S#{status}#C#{category}"
    if status:
        return "gsi2", f"PRODUCT#S#{status}"
    if category:
        return "gsi3", f"PRODUCT#C#{category}"
    return "gsi4", "PRODUCT"


def _listing_keys(product: dict[str, Any]) -> dict[str, str]:
    sort = f"{product['created_at']}#{product['product_id']}"
    status, category = product["status"], product["category"]
    keys: dict[str, str] = {}
    for index, (_, partition) in zip(
        ("gsi1", "gsi2", "gsi3", "gsi4"),
        (listing(status, category), listing(status, None), listing(None, category), listing(None, None)),
        strict=False,
    ):
        keys[f"{index}pk"], keys[f"{index}sk"] = partition, sort
    return keys


def _product_item(product: dict[str, Any]) -> dict[str, Any]:
    """The stored product: its SKUs without stock (stock lives on the SKU items)."""
    skus = [
        {k: v for k, v in s.items() if k in ("sku", "attributes", "price_fen", "stock_shards")} for s in product["skus"]
    ]
    return {**product, "skus": skus, "pk": f"PRODUCT#{product['product_id']}", "sk": META, **_listing_keys(product)}


def _sku_item(product: dict[str, Any], sku: dict[str, Any]) -> dict[str, Any]:
    copied = {f: product.get(f) for f in SKU_COPIED_FIELDS}
    shards = sku.get("stock_shards", 1)
    return {
        "pk": f"SKU#{sku['sku']}",
        "sk": META,
        "sku": sku["sku"],
        "attributes": sku.get("attributes", {}),
        "price_fen": sku["price_fen"],
        "stock": 0 if shards > 1 else sku.get("stock", 0),
        "stock_shards": shards,
        "terms_version": time.time_ns() // 1000,
        **copied,
    }


def _plain(item_key: dict[str, Any]) -> dict[str, str]:
    return {k: v["S"] for k, v in item_key.items()}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    hidden = ("pk", "sk", "version", "index_nudged_at")
    return {k: v for k, v in item.items() if k not in hidden and not k.startswith("gsi")}


class CatalogRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    # -- reads -------------------------------------------------------------------------------
    def get_product(self, product_id: str) -> Optional[dict[str, Any]]:
        item = self._table.get(product_key(product_id))
        return self._with_stock([item])[0] if item else None

    def get_products(self, product_ids: list[str]) -> list[dict[str, Any]]:
        """Products with their stock, in the order asked (missing ones left out), for lists: a BatchGetItem of the
        products, one of their SKUs (and one of shards, if any is sharded), eventually consistent (half the read
        cost; a list may show stock a second old, checkout reads it again)."""
        found = {i["product_id"]: i for i in self._table.batch_get([product_key(p) for p in product_ids], False)}
        return self._with_stock([found[p] for p in product_ids if p in found], consistent=False)

    def existing(self, product_ids: list[str]) -> set[str]:
        """Which of these products exist (one BatchGetItem a hundred)."""
        return {i["product_id"] for i in self._table.batch_get([product_key(p) for p in product_ids])}

    def every_product(self) -> list[dict[str, Any]]:
        """Every product item as stored, whatever its status (for rebuilding what is derived from the catalog)."""
        return self._table.partition("gsi4", "PRODUCT")

    def get_sku(self, sku: str) -> Optional[dict[str, Any]]:
        return self._table.get(sku_key(sku))

    def page(
        self, status: Optional[str], category: Optional[str], limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        index, partition = listing(status, category)
        items, last = self._table.page(index, partition, limit, start)
        return self._with_stock(items), last

    def _with_stock(self, items: list[dict[str, Any]], consistent: bool = True) -> list[dict[str, Any]]:
        """Products with each SKU's stock: the SKU items in one BatchGetItem, and the shards of sharded ones in
        another (`stock` is their exact sum; `held` keeps what was read, for a change that must not lose a race)."""
        found = {
            i["sku"]: i
            for i in self._table.batch_get([sku_key(s["sku"]) for p in items for s in p.get("skus", [])], consistent)
        }
        sharded = {sku: i["stock_shards"] for sku, i in found.items() if i.get("stock_shards", 1) > 1}
        shards = self.shard_stocks(sharded, consistent)
        products = []
        for item in items:
            product = _public(item)
            product["version"] = item.get("version", 0)
            product["skus"] = [
                {
                    **s,
                    "stock": self._stock(found.get(s["sku"]), shards.get(s["sku"])),
                    "stock_shards": (found.get(s["sku"]) or {}).get("stock_shards", 1),
                    "held": {"item": (found.get(s["sku"]) or {}).get("stock", 0), "shards": shards.get(s["sku"], {})},
                }
                for s in item.get("skus", [])
            ]
            products.append(product)
        return products

    @staticmethod
    def _stock(item: Optional[dict[str, Any]], shards: Optional[dict[int, int]]) -> int:
        return (item or {}).get("stock", 0) + sum((shards or {}).values())

    def shard_stocks(self, sharded: dict[str, int], consistent: bool = True) -> dict[str, dict[int, int]]:
        """{sku: {shard: stock}} for SKUs whose stock is on shards (one BatchGetItem per 100 shards)."""
        keys = [shard_key(sku, i) for sku, count in sharded.items() for i in range(count)]
        out: dict[str, dict[int, int]] = {sku: {} for sku in sharded}
        for item in self._table.batch_get(keys, consistent):
            sku, _, shard = item["pk"].removeprefix("SKU#").rpartition("#SHARD#")
            if int(shard) < sharded[sku]:
                out[sku][int(shard)] = item["stock"]
        return out

    def category_counts(self, categories: list[str]) -> dict[str, int]:
        items = self._table.batch_get([category_key(c) for c in categories])
        counts = {i["pk"].split("#", 1)[1]: i.get("active_count", 0) for i in items}
        return {c: counts.get(c, 0) for c in categories}

    # -- writes: each one transaction with the audit entry it is given ------------------------
    def create(
        self,
        product: dict[str, Any],
        audit: Callable[[Transaction], None],
        also: Optional[Callable[[Transaction], None]] = None,
    ) -> None:
        """A new product and its SKUs; `also` adds more writes to the same transaction (a design becoming it)."""
        tx = self._table.transaction()
        product_id = product["product_id"]
        tx.create(
            {**_product_item(product), "version": 1},
            on_fail=AlreadyExists(f"product {product_id!r} already exists", {"product_id": product_id}),
        )
        for sku in product["skus"]:
            self._add_sku(tx, product, sku)
        if product["status"] == "active":
            self._count(tx, product["category"], 1)
        audit(tx)
        if also:
            also(tx)
        tx.commit()

    def replace(self, before: dict[str, Any], after: dict[str, Any], audit: Callable[[Transaction], None]) -> None:
        """Write `after` over `before` if nobody changed the product since `before` was read (409 `conflict` else).

        SKUs of `before` missing from `after` are deleted; stock of kept SKUs is untouched.
        """
        tx = self._table.transaction()
        product_id = after["product_id"]
        changed = Conflict(
            f"product {product_id!r} changed while saving; reload and try again", {"product": product_id}
        )
        tx.put(
            {**_product_item(after), "version": before["version"] + 1},
            "attribute_exists(pk) AND version = :v",
            {":v": before["version"]},
            on_fail=changed,
        )
        kept = {s["sku"]: s for s in before["skus"]}
        for sku in after["skus"]:
            if sku["sku"] in kept:
                self._refresh_sku(tx, after, sku, kept[sku["sku"]])
            else:
                self._add_sku(tx, after, sku)
        for sku_id in set(kept) - {s["sku"] for s in after["skus"]}:
            tx.delete(
                sku_key(sku_id),
                "attribute_not_exists(codes_total) OR codes_total = :zero",
                {":zero": 0},
                on_fail=InvalidRequest(
                    f"voucher sku {sku_id!r} has codes, so it stays (archive the product to stop selling it)",
                    {"fields": {"skus": f"keep {sku_id}"}},
                ),
            )
            for shard in kept[sku_id].get("held", {}).get("shards", {}):
                tx.delete(shard_key(sku_id, shard))
        for category, delta in _count_moves(before, after).items():
            self._count(tx, category, delta)
        audit(tx)
        tx.commit()

    def _add_sku(self, tx: Transaction, product: dict[str, Any], sku: dict[str, Any]) -> None:
        tx.create(
            _sku_item(product, sku), on_fail=AlreadyExists(f"sku {sku['sku']!r} already exists", {"sku": sku["sku"]})
        )
        shards = sku.get("stock_shards", 1)
        if shards > 1:
            for shard, stock in enumerate(spread(sku.get("stock", 0), shards)):
                tx.put({**_plain(shard_key(sku["sku"], shard)), "stock": stock})

    def _refresh_sku(
        self, tx: Transaction, product: dict[str, Any], sku: dict[str, Any], before: dict[str, Any]
    ) -> None:
        """The SKU's copy of the product's terms; a new `stock_shards` moves its stock onto the new shards (each
        as it was read: an order in between makes the save a 409 conflict)."""
        changed = Conflict(f"sku {sku['sku']!r} changed while saving; reload and try again", {"sku": sku["sku"]})
        old, new = before.get("stock_shards", 1), sku.get("stock_shards", 1)
        fields = {
            "attributes": sku.get("attributes", {}),
            "price_fen": sku["price_fen"],
            "stock_shards": new,
            **{f: product.get(f) for f in SKU_COPIED_FIELDS},
        }
        values: dict[str, Any] = {f":{f}": v for f, v in fields.items()}
        condition = "attribute_exists(pk)"
        held = before.get("held", {"item": 0, "shards": {}})
        if old != new:
            layout = [before["stock"]] if new == 1 else [0]
            fields["stock"], values[":stock"] = layout[0], layout[0]
            values[":held"] = held["item"]
            condition += " AND stock = :held"
            self._move_shards(tx, sku["sku"], held["shards"], spread(before["stock"], new) if new > 1 else [], changed)
        sets = ", ".join(f"#{f} = :{f}" for f in fields)
        # terms_version moves with every change of what checkout sells on, so an order planned before it re-plans.
        tx.update(
            sku_key(sku["sku"]),
            f"SET {sets} ADD terms_version :one",
            {**values, ":one": 1},
            condition=condition,
            names={f"#{f}": f for f in fields},
            on_fail=changed,
        )

    def _move_shards(
        self, tx: Transaction, sku: str, held: dict[int, int], wanted: list[int], on_fail: Conflict
    ) -> None:
        """From the shards as read (`held`) to `wanted` (one stock per shard; [] for none)."""
        for shard, stock in held.items():
            if shard < len(wanted):
                tx.update(
                    shard_key(sku, shard),
                    "SET stock = :new",
                    {":new": wanted[shard], ":held": stock},
                    condition="stock = :held",
                    on_fail=on_fail,
                )
            else:
                tx.delete(shard_key(sku, shard), "stock = :held", {":held": stock}, on_fail=on_fail)
        for shard in range(len(wanted)):
            if shard not in held:
                tx.put({**_plain(shard_key(sku, shard)), "stock": wanted[shard]})

    def _count(self, tx: Transaction, category: str, delta: int) -> None:
        tx.update(category_key(category), "ADD active_count :d", {":d": delta})

    def set_stock(self, sku: str, expected: int, new: int, audit: Callable[[Transaction], None]) -> None:
        """Move stock from exactly `expected` to `new` (optimistic: a concurrent change raises LostRace)."""
        tx = self._table.transaction()
        tx.update(
            sku_key(sku),
            "SET stock = :new",
            {":new": new, ":expected": expected, ":one": 1},
            condition="attribute_exists(pk) AND stock = :expected AND "
            "(attribute_not_exists(stock_shards) OR stock_shards = :one)",
        )  # not resharded since
        audit(tx)
        tx.commit()

    def set_shard_stock(
        self, sku: str, expected: dict[int, int], new: dict[int, int], audit: Callable[[Transaction], None]
    ) -> None:
        """Move each changed shard from exactly its `expected` stock to its `new` one, the SKU still on as many
        shards (LostRace if anything moved)."""
        tx = self._table.transaction()
        tx.check(sku_key(sku), "stock_shards = :count", {":count": len(expected)}, on_fail=LostRace)
        for shard, stock in new.items():
            if stock != expected[shard]:
                tx.update(
                    shard_key(sku, shard),
                    "SET stock = :new",
                    {":new": stock, ":expected": expected[shard]},
                    condition="attribute_exists(pk) AND stock = :expected",
                )
        audit(tx)
        tx.commit()


def _count_moves(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    moves: dict[str, int] = {}
    if before["status"] == "active":
        moves[before["category"]] = moves.get(before["category"], 0) - 1
    if after["status"] == "active":
        moves[after["category"]] = moves.get(after["category"], 0) + 1
    return {c: d for c, d in moves.items() if d}
