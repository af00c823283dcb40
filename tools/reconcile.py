"""`make reconcile`: for every user, available + held must equal the sum of their ledger.

Checks available = sum(delta) and held = sum(held_delta) separately, so a misfiled hold shows too.
An offline tool: it scans the table (no request path ever does). Exit code 1 if any user differs.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Iterator

from chalicelib.adapters.dynamo import from_item
from chalicelib.adapters.users_repo import UserRepository


@dataclass
class Difference:
    user_id: str
    available: int
    held: int
    ledger_available: int
    ledger_held: int


def profiles(client: Any, table: str) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": "sk = :p",
                              "ExpressionAttributeValues": {":p": {"S": "PROFILE"}}}
    while True:
        out = client.scan(**kwargs)
        yield from (from_item(i) for i in out.get("Items", []))
        if "LastEvaluatedKey" not in out:
            return
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def reconcile(client: Any, table: Any) -> tuple[int, list[Difference]]:
    """(users checked, differences) for one store table (`table` is an adapters.dynamo.Table)."""
    repo = UserRepository(table)
    checked, differences = 0, []
    for profile in profiles(client, table.name):
        checked += 1
        ledger_available, ledger_held = repo.ledger_sums(profile["user_id"])
        if (ledger_available, ledger_held) != (profile["points_available"], profile["points_held"]):
            differences.append(Difference(profile["user_id"], profile["points_available"], profile["points_held"],
                                          ledger_available, ledger_held))
    return checked, differences


def main() -> int:
    from chalicelib.bootstrap import Container
    from chalicelib.settings import Settings
    from tools.localstack import LOCAL_CREDENTIALS
    import os

    for k, v in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(k, v)
    os.environ.setdefault("LIFESHOP_DYNAMODB_ENDPOINT", f"http://127.0.0.1:{os.environ.get('LIFESHOP_DDB_PORT', '8001')}")
    services = Container(Settings())
    checked, differences = reconcile(services.dynamodb, services.table)
    for d in differences:
        print(f"{d.user_id}: available {d.available} held {d.held} but the ledger says "
              f"available {d.ledger_available} held {d.ledger_held}")
    print(f"reconcile {services.settings.store_table}: {checked} users checked, {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
