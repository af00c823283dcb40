"""`make backfill-report`: once, after upgrading a database from before the points report, count every ledger entry
the stream consumer never saw (entries written before it existed, or older than the stream's 24 hours) into the
report. Safe to repeat and to run while the consumer runs: an entry is counted once, whoever counts it first."""
from __future__ import annotations

import sys
from typing import Any

from tools.reconcile import _scan


def backfill(services: Any) -> int:
    """How many ledger entries were counted now."""
    counted = 0
    for entry in _scan(services.dynamodb, services.table.name,
                       "begins_with(pk, :u) AND begins_with(sk, :l) AND attribute_not_exists(reported)",
                       {":u": {"S": "USER#"}, ":l": {"S": "LEDGER#"}}):
        counted += services.points_report.count(entry)
    return counted


def main() -> int:
    from tools.reconcile import local_services

    services = local_services()
    print(f"backfill {services.settings.store_table}: {backfill(services)} ledger entries counted in the points report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
