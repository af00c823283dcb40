"""DynamoDB repository of products, SKUs and category counters (key formats: infra/README.md)."""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import Table, key
from chalicelib.domain.errors import AlreadyExists, Conflict, DomainError, InvalidTransition, NotFound

META = "META"
# Product fields a SKU item repeats, so checkout reads one item per line.
SKU_COPIED_FIELDS = ("product_id", "category", "title", "status", "owner_only", "accepts", "designer_id",
                     "design_id")


def product_key(product_id: str) -> dict[str, Any]:
    return key(f"PRODUCT#{product_id}", META)


def sku_key(sku: str) -> dict[str, Any]:
    return key(f"SKU#{sku}", META)


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
    for index, (_, partition) in zip(("gsi1", "gsi2", "gsi3", "gsi4"), (
            listing(status, category), listing(status, None), listing(None, category), listing(None, None))):
        keys[f"{index}pk"], keys[f"{index}sk"] = partition, sort
    return keys


def _product_item(product: dict[str, Any]) -> dict[str, Any]:
    """The stored product: its SKUs without stock (stock lives on the SKU items)."""
    skus = [{k: v for k, v in s.items() if k in ("sku", "attributes", "price_fen")} for s in product["skus"]]
    return {**product, "skus": skus, "pk": f"PRODUCT#{product['product_id']}", "sk": META, **_listing_keys(product)}


def _sku_item(product: dict[str, Any], sku: dict[str, Any]) -> dict[str, Any]:
    copied = {f: product.get(f) for f in SKU_COPIED_FIELDS}
    return {"pk": f"SKU#{sku['sku']}", "sk": META, "sku": sku["sku"], "attributes": sku.get("attributes", {}),
            "price_fen": sku["price_fen"], "stock": sku.get("stock", 0), **copied}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "version") and not k.startswith("gsi")}


class CatalogRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- reads -------------------------------------------------------------------------------
    def get_product(self, product_id: str) -> Optional[dict[str, Any]]:
        item = self._table.get(product_key(product_id))
        return self._with_stock([item])[0] if item else None

    def get_sku(self, sku: str) -> Optional[dict[str, Any]]:
        return self._table.get(sku_key(sku))

    def page(self, status: Optional[str], category: Optional[str], limit: int,
             start: Optional[dict[str, Any]]) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        index, partition = listing(status, category)
        items, last = self._table.page(index, partition, limit, start)
        return self._with_stock(items), last

    def _with_stock(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [sku_key(s["sku"]) for p in items for s in p.get("skus", [])]
        stock = {i["sku"]: i["stock"] for i in self._table.batch_get(keys)}
        products = []
        for item in items:
            product = _public(item)
            product["version"] = item.get("version", 0)
            product["skus"] = [{**s, "stock": stock.get(s["sku"], 0)} for s in item.get("skus", [])]
            products.append(product)
        return products

    def category_counts(self, categories: list[str]) -> dict[str, int]:
        items = self._table.batch_get([category_key(c) for c in categories])
        counts = {i["pk"].split("#", 1)[1]: i.get("active_count", 0) for i in items}
        return {c: counts.get(c, 0) for c in categories}

    # -- writes: each one transaction with the audit entry it is given ------------------------
    def create(self, product: dict[str, Any], audit_op: dict[str, Any],
               extra: Optional[tuple[dict[str, Any], str]] = None) -> None:
        t = self._table
        ops = [t.put({**_product_item(product), "version": 1}, "attribute_not_exists(pk)")]
        labels = [f"new-product:{product['product_id']}"]
        for sku in product["skus"]:
            ops.append(t.put(_sku_item(product, sku), "attribute_not_exists(pk)"))
            labels.append(f"new-sku:{sku['sku']}")
        if product["status"] == "active":
            ops.append(self._count(product["category"], 1))
            labels.append("count")
        ops.append(audit_op)
        labels.append("audit")
        if extra:
            ops.append(extra[0])
            labels.append(extra[1])
        t.transact(ops, labels, _condition_error)

    def replace(self, before: dict[str, Any], after: dict[str, Any], audit_op: dict[str, Any]) -> None:
        """Write `after` over `before` if nobody changed the product since `before` was read.

        SKUs of `before` missing from `after` are deleted; stock of kept SKUs is untouched.
        """
        t = self._table
        item = {**_product_item(after), "version": before["version"] + 1}
        ops = [t.put(item, "attribute_exists(pk) AND version = :v", {":v": before["version"]})]
        labels = [f"product:{after['product_id']}"]
        kept = {s["sku"] for s in before["skus"]}
        for sku in after["skus"]:
            if sku["sku"] in kept:
                ops.append(self._refresh_sku(after, sku))
                labels.append(f"sku:{sku['sku']}")
            else:
                ops.append(t.put(_sku_item(after, sku), "attribute_not_exists(pk)"))
                labels.append(f"new-sku:{sku['sku']}")
        for sku in kept - {s["sku"] for s in after["skus"]}:
            ops.append(t.delete(sku_key(sku)))
            labels.append(f"sku:{sku}")
        ops += self._count_moves(before, after)
        labels += ["count"] * (len(ops) - len(labels))
        ops.append(audit_op)
        labels.append("audit")
        t.transact(ops, labels, _condition_error)

    def _refresh_sku(self, product: dict[str, Any], sku: dict[str, Any]) -> dict[str, Any]:
        fields = {"attributes": sku.get("attributes", {}), "price_fen": sku["price_fen"],
                  **{f: product.get(f) for f in SKU_COPIED_FIELDS}}
        sets = ", ".join(f"#{f} = :{f}" for f in fields)
        return self._table.update(
            sku_key(sku["sku"]), f"SET {sets}", {f":{f}": v for f, v in fields.items()},
            condition="attribute_exists(pk)", names={f"#{f}": f for f in fields})

    def _count_moves(self, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
        moves: dict[str, int] = {}
        if before["status"] == "active":
            moves[before["category"]] = moves.get(before["category"], 0) - 1
        if after["status"] == "active":
            moves[after["category"]] = moves.get(after["category"], 0) + 1
        return [self._count(c, d) for c, d in moves.items() if d]

    def _count(self, category: str, delta: int) -> dict[str, Any]:
        return self._table.update(category_key(category), "ADD active_count :d", {":d": delta})

    def set_stock(self, sku: str, expected: int, new: int, audit_op: dict[str, Any]) -> None:
        """Move stock from exactly `expected` to `new` (optimistic: a concurrent change fails it)."""
        op = self._table.update(sku_key(sku), "SET stock = :new", {":new": new, ":expected": expected},
                                condition="attribute_exists(pk) AND stock = :expected")
        self._table.transact([op, audit_op], [f"sku:{sku}", "audit"], _condition_error)


def _condition_error(label: str) -> DomainError:
    kind, _, ident = label.partition(":")
    if kind == "new-product":
        return AlreadyExists(f"product {ident!r} already exists", {"product_id": ident})
    if kind == "new-sku":
        return AlreadyExists(f"sku {ident!r} already exists", {"sku": ident})
    if kind in ("product", "sku"):
        return Conflict(f"{kind} {ident!r} changed while saving; reload and try again", {kind: ident})
    if kind == "design":
        return InvalidTransition("the design is no longer approved", {"to": "productized"})
    return NotFound(f"{kind} {ident!r} not found")
