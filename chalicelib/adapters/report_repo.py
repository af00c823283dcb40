"""DynamoDB repository of the points report (key formats: infra/README.md): each day's per-line sums of ledger
entries on 16 shard items, a partition per shard, so a day's items are written in parallel and a range of days is
one Query per shard. A ledger entry is counted once: the transaction that adds it to its day marks the entry
`reported` on condition it was not yet, so a stream record delivered twice is counted once. The day items have
one attribute per report line (`entries` and line names such as `grant` or `redeemed`)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import LostRace, Table, key, to_values
from chalicelib.domain.report import REPORT_SHARDS, line_sums

LOTS = "LOTS"  # the shard's item of points per lot (its day items' sort keys are days, which sort before it)


def report_pk(shard: int) -> str:
    return f"PREPORT#{shard:02d}"


class ReportRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def count(self, entries: list[tuple[dict[str, Any], str, int]]) -> None:
        """Add ledger entries, each given with its (day, shard), to their days' shards and mark each reported, in one
        transaction (one update per day and shard, however many entries it gets). Counted raises if any entry was
        counted already (or is gone), and then nothing is written: count that group one entry at a time."""
        groups: dict[tuple[str, int], dict[str, int]] = {}
        tx = self._table.transaction()
        for entry, day, shard in entries:
            tx.update(
                key(entry["pk"], entry["sk"]),
                "SET reported = :yes",
                {":yes": True},
                condition="attribute_exists(pk) AND attribute_not_exists(reported)",
                on_fail=Counted,
            )
            sums = groups.setdefault((day, shard), {"entries": 0})
            sums["entries"] += 1
            for line, points in line_sums([entry]).items():
                sums[line] = sums.get(line, 0) + points
        lots: dict[int, dict[str, int]] = {}
        for entry, _, shard in entries:
            for lot, points in (entry.get("lots") or {}).items():
                mine = lots.setdefault(shard, {})
                mine[lot] = mine.get(lot, 0) + points
        for shard, moved in lots.items():  # what each lot holds across users: the report's expiring points
            names = {f"#{n}": lot for n, lot in enumerate(sorted(moved))}
            values = {f":{n}": moved[lot] for n, lot in enumerate(sorted(moved))}
            tx.update(key(report_pk(shard), LOTS), "ADD " + ", ".join(f"#{n} :{n}" for n in range(len(names))), values,
                      names=names)  # fmt: skip
        for (day, shard), sums in groups.items():
            names = {f"#{n}": name for n, name in enumerate(sorted(sums))}
            values = {f":{n}": sums[name] for n, name in enumerate(sorted(sums))}
            tx.update(
                key(report_pk(shard), day),
                "ADD " + ", ".join(f"#{n} :{n}" for n in range(len(names))),
                values,
                names=names,
            )
        tx.commit()

    def lot_totals(self) -> dict[str, int]:
        """Points in each lot across all users (Σ of what the counted ledger entries moved), from the 16 shards."""
        totals: dict[str, int] = {}
        for item in self._table.batch_get([key(report_pk(s), LOTS) for s in range(REPORT_SHARDS)]):
            for lot, points in item.items():
                if lot not in ("pk", "sk"):
                    totals[lot] = totals.get(lot, 0) + points
        return totals

    def days(self, last: str) -> dict[str, dict[str, int]]:
        """Every day's sums up to `last`, added over the shards: one Query (paged) per shard."""
        days: dict[str, dict[str, int]] = {}
        for shard in range(REPORT_SHARDS):
            params = {
                "ConsistentRead": True,
                "KeyConditionExpression": "pk = :pk AND sk <= :last",
                "ExpressionAttributeValues": to_values({":pk": report_pk(shard), ":last": last}),
            }
            for item in self._table.query_all(params):
                sums = days.setdefault(item["sk"], {})
                for name, value in item.items():
                    if name not in ("pk", "sk"):
                        sums[name] = sums.get(name, 0) + value
        return days


class Counted(LostRace):
    """A ledger entry of the group carries `reported` already."""
