"""DynamoDB repository of user accounts: the profile (tier, balances, today's earning) and its ledger.

Every balance change is one transaction: the profile moves from the exact version that was read
(compare-and-swap) together with the ledger entries that explain it, so `available_after` is exact
and the balance always equals the sum of the ledger.
"""
from __future__ import annotations

from typing import Any, Optional


from chalicelib.adapters.dynamo import Table, key

PROFILE = "PROFILE"


def profile_key(user_id: str) -> dict[str, Any]:
    return key(f"USER#{user_id}", PROFILE)


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def new_profile(user_id: str, now: str) -> dict[str, Any]:
    return {"user_id": user_id, "tier": "fan", "points_available": 0, "points_held": 0,
            "earned_day": "", "earned_today": 0, "created_at": now, "version": 0}


class UserRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, user_id: str) -> Optional[dict[str, Any]]:
        item = self._table.get(profile_key(user_id))
        if not item:
            return None
        item.pop("pk"), item.pop("sk")
        # Fields a profile gained later read as their starting values.
        return {**new_profile(user_id, item.get("created_at", "")), **item}

    def create_if_absent(self, profile: dict[str, Any]) -> None:
        self._table.put_if_absent({"pk": _user_pk(profile["user_id"]), "sk": PROFILE, **profile})

    def save_op(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Write `after` only if the stored profile is still `before` (same version, or still absent)."""
        item = {"pk": _user_pk(after["user_id"]), "sk": PROFILE, **after, "version": before["version"] + 1}
        if before.get("stored", True):
            return self._table.put(item, "version = :v OR (attribute_not_exists(version) AND :v = :zero)",
                                   {":v": before["version"], ":zero": 0})
        return self._table.put(item, "attribute_not_exists(pk)")

    def ledger_op(self, user_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        item = {"pk": _user_pk(user_id), "sk": f"LEDGER#{entry['seq']}", **entry}
        return self._table.put(item, "attribute_not_exists(pk)")

    def marker_op(self, user_id: str, marker: str, data: dict[str, Any]) -> dict[str, Any]:
        """A once-only record (a day's check-in, a task ref): the transaction fails if it exists."""
        return self._table.put({"pk": _user_pk(user_id), "sk": marker, **data}, "attribute_not_exists(pk)")

    def marker(self, user_id: str, marker: str) -> Optional[dict[str, Any]]:
        return self._table.get(key(_user_pk(user_id), marker))

    def ledger_page(self, user_id: str, limit: int, start: Optional[dict[str, Any]]
                    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        return self._table.query_page(_user_pk(user_id), "LEDGER#", limit, start)

    def ledger_sums(self, user_id: str) -> tuple[int, int]:
        """(sum of delta, sum of held_delta) over the user's whole ledger."""
        available = held = 0
        start = None
        while True:
            items, start = self._table.query_page(_user_pk(user_id), "LEDGER#", 500, start)
            available += sum(i["delta"] for i in items)
            held += sum(i.get("held_delta", 0) for i in items)
            if start is None:
                return available, held

    def transact(self, ops: list[dict[str, Any]], labels: list[str], on_condition: Any) -> None:
        self._table.transact(ops, labels, on_condition)
