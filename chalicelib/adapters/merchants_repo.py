"""DynamoDB repository of merchants (key formats: infra/README.md): one item each, listed newest first on gsi2."""

from __future__ import annotations

from typing import Any, Callable, Optional

from chalicelib.adapters.dynamo import Table, Transaction, key
from chalicelib.domain.errors import AlreadyExists

MERCHANT_PARTITION = "MERCHANT"


def merchant_key(merchant_id: str) -> dict[str, Any]:
    return key(f"MERCHANT#{merchant_id}", "META")


class MerchantRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, merchant_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(merchant_key(merchant_id))

    def many(self, merchant_ids: list[str]) -> list[dict[str, Any]]:
        return self._table.batch_get([merchant_key(m) for m in sorted(set(merchant_ids))]) if merchant_ids else []

    def create(self, merchant: dict[str, Any], audit: Callable[[Transaction], None]) -> None:
        merchant_id = merchant["merchant_id"]
        tx = self._table.transaction()
        tx.create(
            {
                "pk": f"MERCHANT#{merchant_id}",
                "sk": "META",
                "gsi2pk": MERCHANT_PARTITION,
                "gsi2sk": f"{merchant['created_at']}#{merchant_id}",
                **merchant,
            },
            on_fail=AlreadyExists(f"merchant {merchant_id!r} already exists", {"merchant_id": merchant_id}),
        )
        audit(tx)
        tx.commit()

    def page(
        self, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        return self._table.page("gsi2", MERCHANT_PARTITION, limit, start)
