"""DynamoDB repository of contribution scores: each user's balance, the once-only record of each source, and the
ledger (key formats: infra/README.md).

The score only grows and no rule depends on its value while earning, so an award is `ADD` on the balance in the
same transaction as the source record (`attribute_not_exists`) and the ledger entry: no read-and-swap, which lets
any other feature's transaction carry an award without re-planning around a version."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key, to_values

BALANCE = "CONTRIBUTION"
SOURCE = "CONTRIB#SOURCE#"
LEDGER = "CONTRIB#LEDGER#"


def balance_key(user_id: str) -> dict[str, Any]:
    return key(f"USER#{user_id}", BALANCE)


def _source_sk(kind: str, ref: str) -> str:
    return f"{SOURCE}{kind}#{ref}"


class ContributionRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    def balance(self, user_id: str) -> int:
        item = self._table.get(balance_key(user_id))
        return int(item.get("contribution", 0)) if item else 0

    def source(self, user_id: str, kind: str, ref: str) -> Optional[dict[str, Any]]:
        """The entry a source earned, if it has."""
        item = self._table.get(key(f"USER#{user_id}", _source_sk(kind, ref)))
        return _entry(item) if item else None

    def add(self, tx: Transaction, entry: dict[str, Any], *, on_repeat: OnFail = LostRace) -> None:
        """The source's once-only record (`on_repeat` if it exists), the ledger entry, and the balance moved by it."""
        user_id = entry["user_id"]
        tx.create({"pk": f"USER#{user_id}", "sk": _source_sk(entry["kind"], entry["ref"]), **entry}, on_fail=on_repeat)
        tx.create({"pk": f"USER#{user_id}", "sk": f"{LEDGER}{entry['created_at']}#{entry['entry_id']}", **entry})
        tx.update(balance_key(user_id), "ADD contribution :a, entries :one", {":a": entry["amount"], ":one": 1})

    def hold_below(self, tx: Transaction, user_id: str, threshold: int, *, on_fail: OnFail = LostRace) -> None:
        """A condition that the user's contribution is still below `threshold` when `tx` commits."""
        tx.check(
            balance_key(user_id),
            "attribute_not_exists(contribution) OR contribution < :t",
            {":t": threshold},
            on_fail=on_fail,
        )

    def ledger_page(
        self, user_id: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self._table.query_page(f"USER#{user_id}", LEDGER, limit, start)
        return [_entry(i) for i in items], last

    def score_at(self, user_id: str, at: str) -> int:
        """The score as it stood at instant `at` (ISO, milliseconds): the sum of the ledger entries made up to then
        (the ledger is keyed by time and never rewritten; the balance only ever moves with an entry)."""
        params = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": to_values({":pk": f"USER#{user_id}", ":lo": LEDGER, ":hi": f"{LEDGER}{at}#~"}),
            "ProjectionExpression": "amount",
            "ConsistentRead": True,
        }
        return sum(int(i["amount"]) for i in self._table.query_all(params))

    def ledger_sum(self, user_id: str) -> tuple[int, int, int]:
        """(sum of amounts, ledger entries, source records) over the user's whole history."""
        amount = entries = sources = 0
        for prefix in (LEDGER, SOURCE):
            start = None
            while True:
                items, start = self._table.query_page(f"USER#{user_id}", prefix, 500, start)
                if prefix == LEDGER:
                    amount += sum(i["amount"] for i in items)
                    entries += len(items)
                else:
                    sources += len(items)
                if start is None:
                    break
        return amount, entries, sources


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk")}
