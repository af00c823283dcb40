"""DynamoDB repository of voucher codes: one item per code, whatever its SKU (a code is unique in the whole shop),
listed while unsold on one of 8 index partitions of its SKU (key formats: infra/README.md). A code is sold by a
condition in its order's transaction, so it is never given to two orders; the SKU item's `stock` counts the codes
for sale and moves in the same transactions, and its `codes_total` counts every code it ever had."""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any, Callable, Optional

from chalicelib.adapters.catalog_repo import sku_key
from chalicelib.adapters.dynamo import Contention, LostRace, Table, Transaction, key
from chalicelib.domain.errors import Conflict

FREE_PARTITIONS = 8  # a hot voucher's unsold codes are listed over this many index partitions
MAX_TRANSACTION_CODES = 98  # an upload writes this many codes per transaction, with the SKU and the audit entry
_RNG = random.SystemRandom()


def code_key(code: str) -> dict[str, Any]:
    return key(f"VCODE#{code}", "META")


def _free(sku: str, partition: int) -> str:
    return f"VCODE#FREE#{sku}#{partition}"


def _partition(code: str) -> int:
    return int(hashlib.sha256(code.encode()).hexdigest()[:8], 16) % FREE_PARTITIONS


class VoucherRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def existing(self, codes: list[str]) -> set[str]:
        """Which of `codes` the shop has already, on any SKU (sold or not)."""
        return {i["code"] for i in self._table.batch_get([code_key(c) for c in codes])}

    def add(
        self, sku: str, codes: list[str], at: str, *, not_voucher: Exception, audit: Callable[[Transaction, int], None]
    ) -> int:
        """New codes for sale, each created only if no SKU has it, with the SKU's stock raised by as many and an
        audit entry, in transactions of up to 98 codes; a code that appeared meanwhile (a concurrent upload) is
        skipped, a transaction that lost a race is tried again. How many were added."""
        added = 0
        for start in range(0, len(codes), MAX_TRANSACTION_CODES):
            chunk = codes[start : start + MAX_TRANSACTION_CODES]
            for attempt in range(20):
                if not chunk:
                    break
                tx = self._table.transaction()
                tx.update(
                    sku_key(sku),
                    "ADD stock :n, codes_total :n",
                    {":n": len(chunk), ":voucher": "voucher"},
                    condition="attribute_exists(pk) AND kind = :voucher",
                    on_fail=not_voucher,
                )
                for code in chunk:
                    tx.create(
                        {
                            "pk": f"VCODE#{code}",
                            "sk": "META",
                            "sku": sku,
                            "code": code,
                            "added_at": at,
                            "gsi1pk": _free(sku, _partition(code)),
                            "gsi1sk": f"{at}#{code}",
                        }
                    )
                audit(tx, len(chunk))
                try:
                    tx.commit()
                    added += len(chunk)
                    break
                except LostRace:  # another upload added some of them first
                    taken = self.existing(chunk)
                    chunk = [c for c in chunk if c not in taken]
                except Contention:  # an order took the SKU's stock meanwhile: nothing was written
                    time.sleep(_RNG.uniform(0.005, 0.05) * (attempt + 1))
            else:
                raise Conflict(
                    "the voucher is selling fast; upload the rest again (codes added are counted as duplicates)",
                    {"sku": sku, "added": added},
                )
        return added

    def unsold(self, sku: str, wanted: int) -> list[str]:
        """Up to `wanted` unsold codes, picked at random among the oldest of a random index partition (and the
        next ones when it runs short), so concurrent buyers rarely pick the same code. The index may lag: the
        order's condition on each code decides."""
        start = _RNG.randrange(FREE_PARTITIONS)
        found: list[str] = []
        for step in range(FREE_PARTITIONS):
            items = self._table.due(_free(sku, (start + step) % FREE_PARTITIONS), "~", limit=4 * wanted + 8)
            found += [i["code"] for i in items]  # '~' sorts after every `<added_at>#<code>`
            if len(found) >= 4 * wanted:
                break
        return _RNG.sample(found, min(wanted, len(found)))

    def sell(self, tx: Transaction, sku: str, code: str, order_id: str, at: str) -> None:
        """The code goes to this order, unless another order has it (LostRace: pick again)."""
        tx.update(
            code_key(code),
            "SET order_id = :o, sold_at = :at REMOVE gsi1pk, gsi1sk",
            {":o": order_id, ":at": at, ":sku": sku},
            condition="sku = :sku AND attribute_not_exists(order_id)",
        )

    def unsell(self, tx: Transaction, sku: str, code: str, order_id: str, at: str) -> None:
        """A code of an order that was never paid (never shown) goes back on sale; a void one never does."""
        tx.update(
            code_key(code),
            "SET gsi1pk = :p, gsi1sk = :s REMOVE order_id, sold_at",
            {":p": _free(sku, _partition(code)), ":s": f"{at}#{code}", ":o": order_id},
            condition="order_id = :o AND attribute_not_exists(void_at)",
        )

    def void(self, tx: Transaction, sku: str, code: str, order_id: str, at: str) -> None:
        """A code that was shown to its buyer is void when its order is cancelled or refunded: never sold again."""
        tx.update(code_key(code), "SET void_at = :at", {":at": at, ":o": order_id}, condition="order_id = :o")

    def get(self, code: str) -> Optional[dict[str, Any]]:
        return self._table.get(code_key(code))
