"""Reading a work list to its end without handling an item twice in one run."""

from __future__ import annotations

from chalicelib.services.worklists import unseen


def test_pages_are_read_until_one_holds_nothing_new():
    due = [f"o-{n}" for n in range(250)]

    def page() -> list[str]:
        return due[:100]  # a handled item leaves the list, so each read returns the next 100

    handled = []
    for item in unseen(page):
        handled.append(item)
        due.remove(item)
    assert handled == [f"o-{n}" for n in range(250)] and due == []


def test_an_item_that_stays_due_is_handled_once_per_run_and_ends_the_run():
    stuck = ["o-stuck", "o-1"]
    handled = list(unseen(lambda: list(stuck)))
    assert handled == ["o-stuck", "o-1"]


def test_a_run_stops_at_its_bound():
    counter = iter(range(10**9))
    assert len(list(unseen(lambda: [f"o-{next(counter)}"], max_items=5))) == 5
