"""DynamoDB audit log: one immutable entry per merchandiser action, newest first on gsi4."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.clock import new_id
from chalicelib.adapters.dynamo import Table, Transaction

AUDIT_PARTITION = "AUDIT"


class AuditRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(
        self, tx: Transaction, actor: str, action: str, entity_id: str, before: Any, after: Any, at: str
    ) -> None:
        """Add the audit entry of one merchandiser action to the transaction that makes the change it records;
        `action` is "<entity_type>.<verb>"."""
        audit_id = new_id("a")
        tx.create(
            {
                "pk": f"AUDIT#{audit_id}",
                "sk": "META",
                "gsi4pk": AUDIT_PARTITION,
                "gsi4sk": f"{at}#{audit_id}",
                "audit_id": audit_id,
                "actor": actor,
                "action": action,
                "entity_type": action.split(".", 1)[0],
                "entity_id": entity_id,
                "before": _strip(before),
                "after": _strip(after),
                "at": at,
            }
        )

    def page(
        self, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self._table.page("gsi4", AUDIT_PARTITION, limit, start)
        return [{k: v for k, v in i.items() if k not in ("pk", "sk", "gsi4pk", "gsi4sk")} for i in items], last


def _strip(state: Any) -> Any:
    """Internal bookkeeping (versions) is not part of what a merchandiser changed."""
    return {k: v for k, v in state.items() if k not in ("version", "stored")} if isinstance(state, dict) else state
