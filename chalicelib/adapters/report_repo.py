"""DynamoDB repository of the points report (key formats: infra/README.md): each day's per-line sums of ledger
entries on 16 shard items, a partition per shard, so a day's items are written in parallel and a range of days is
one Query per shard. A ledger entry is counted once: the transaction that adds it to its day marks the entry
`reported` on condition it was not yet, so a stream record delivered twice is counted once."""
from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import LostRace, Table, from_item, key, to_values
from chalicelib.domain.report import REPORT_SHARDS, line_sums


def report_pk(shard: int) -> str:
    return f"PREPORT#{shard:02d}"


class ReportRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def count(self, entry_key: dict[str, Any], entry: dict[str, Any], day: str, shard: int) -> bool:
        """Add one ledger entry to its day's shard and mark it reported, in one transaction; False if it was
        counted already (LostRace: it is being counted right now by another delivery, or is gone)."""
        sums = line_sums([entry])
        tx = self._table.transaction()
        tx.update(entry_key, "SET reported = :yes", {":yes": True},
                  condition="attribute_exists(pk) AND attribute_not_exists(reported)", on_fail=_Counted)
        names = {f"#{n}": name for n, name in enumerate(sorted(sums))}
        adds = ", ".join(f"#{n} :{n}" for n in range(len(names)))
        values = {f":{n}": sums[name] for n, name in enumerate(sorted(sums))}
        tx.update(key(report_pk(shard), day), f"ADD entries :one{', ' + adds if adds else ''}",
                  {":one": 1, **values}, names=names or None)
        try:
            tx.commit()
        except _Counted:
            return False
        return True

    def days(self, last: str) -> dict[str, dict[str, int]]:
        """Every day's sums up to `last`, added over the shards: one Query (paged) per shard."""
        days: dict[str, dict[str, int]] = {}
        for shard in range(REPORT_SHARDS):
            params: dict[str, Any] = {
                "TableName": self._table.name, "ConsistentRead": True,
                "KeyConditionExpression": "pk = :pk AND sk <= :last",
                "ExpressionAttributeValues": to_values({":pk": report_pk(shard), ":last": last})}
            while True:
                out = self._table.client.query(**params)
                for item in (from_item(i) for i in out.get("Items", [])):
                    sums = days.setdefault(item["sk"], {})
                    for name, value in item.items():
                        if name not in ("pk", "sk"):
                            sums[name] = sums.get(name, 0) + value
                if "LastEvaluatedKey" not in out:
                    break
                params["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return days


class _Counted(LostRace):
    """The ledger entry carries `reported` already."""
