"""`make backfill-report`: once, after upgrading a database from before the points report and the console, count
every ledger entry the stream consumer never saw (entries written before it existed, or that it gave up on) into
the report, and list the campaigns created before `GET /admin/campaigns`. Safe to repeat and to run while the
consumer runs: an entry is counted once, whoever counts it first."""

from __future__ import annotations

import sys
from typing import Any

from tools.reconcile import _scan


def backfill(services: Any) -> int:
    """How many ledger entries were counted now."""
    counted, batch = 0, []
    for entry in _scan(
        services.dynamodb,
        services.table.name,
        "begins_with(pk, :u) AND begins_with(sk, :l) AND attribute_not_exists(reported)",
        {":u": {"S": "USER#"}, ":l": {"S": "LEDGER#"}},
    ):
        batch.append(entry)
        if len(batch) == 500:
            counted, batch = counted + services.points_report.count(batch), []
    return counted + services.points_report.count(batch)


def list_campaigns(services: Any) -> int:
    """Campaigns created before `GET /admin/campaigns` get its list keys; how many."""
    return sum(
        services.campaigns.list_if_unlisted(c)
        for c in _scan(
            services.dynamodb,
            services.table.name,
            "begins_with(pk, :c) AND sk = :m AND attribute_not_exists(gsi2pk)",
            {":c": {"S": "CAMPAIGN#"}, ":m": {"S": "META"}},
        )
    )


def main() -> int:
    from tools.reconcile import local_services

    services = local_services()
    print(
        f"backfill {services.settings.store_table}: {backfill(services)} ledger entries counted in the points report, "
        f"{list_campaigns(services)} campaigns listed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
