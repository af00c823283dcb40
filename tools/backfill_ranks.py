"""`make backfill-ranks`: once, after upgrading a database from before weighted votes, put every public design in
the gallery by score (`GET /designs?sort=score`); designs approved since are ranked when approved. Safe to repeat
and to run while the API serves votes (a design that already has its rank is left alone)."""

from __future__ import annotations

import sys

from chalicelib.adapters.designs_repo import DesignRepository, listing


def backfill(repo: DesignRepository) -> int:
    """How many public designs got their rank."""
    ranked, start = 0, None
    while True:
        items, start = repo.page(*listing(), 100, start)
        ranked += sum(repo.rank_if_absent(d) for d in items)
        if start is None:
            return ranked


def main() -> int:
    from tools.reconcile import local_services

    services = local_services()
    print(f"backfill {services.settings.store_table}: {backfill(services.design_repo)} designs ranked by score")
    return 0


if __name__ == "__main__":
    sys.exit(main())
