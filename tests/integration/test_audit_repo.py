"""AuditRepository against DynamoDB Local: an entry exists exactly when the action it records committed."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import LostRace
from tests.helpers import uid


def _record(services, entity_id: str, at: str, before=None, after=None, also=None) -> None:
    tx = services.table.transaction()
    services.audit_repo.record(tx, "merch-t", "product.update", entity_id, before, after or {}, at)
    if also:
        also(tx)
    tx.commit()


def test_entries_list_newest_first_without_bookkeeping(services):
    for day in (1, 3, 2):
        _record(
            services,
            f"p-{day}",
            f"2024-05-0{day}T08:00:00.000Z",
            before={"title": "Old", "version": day},
            after={"title": "New", "version": day + 1, "stored": True},
        )
    first, start = services.audit_repo.page(2, None)
    rest, end = services.audit_repo.page(2, start)
    assert [e["entity_id"] for e in first + rest] == ["p-3", "p-2", "p-1"] and end is None
    assert (first[0]["before"], first[0]["after"], first[0]["entity_type"]) == (
        {"title": "Old"},
        {"title": "New"},
        "product",
    )


def test_no_entry_is_kept_for_an_action_that_did_not_commit(services):
    taken = uid("taken")
    services.table.put_if_absent({"pk": taken, "sk": "META"})
    with pytest.raises(LostRace):
        _record(services, "p-1", "2024-05-01T08:00:00.000Z", also=lambda tx: tx.create({"pk": taken, "sk": "META"}))
    assert services.audit_repo.page(10, None) == ([], None)
