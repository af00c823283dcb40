"""Reading a work list (a gsi1 partition of items due) to its end, for the scheduled sweeps."""

from __future__ import annotations

from typing import Callable, Iterator

MAX_ITEMS_PER_RUN = 100_000


def unseen(fetch_page: Callable[[], list[str]], max_items: int = MAX_ITEMS_PER_RUN) -> Iterator[str]:
    """Ids from the list a page at a time until a page holds nothing new: handled items leave the list, and one
    that lingers (a lagging index, or an item that failed and stays due) is not handled twice in one run."""
    seen: set[str] = set()
    while len(seen) < max_items:
        page = [item for item in fetch_page() if item not in seen]
        if not page:
            return
        for item in page:
            seen.add(item)
            yield item
