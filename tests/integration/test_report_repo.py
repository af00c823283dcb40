"""ReportRepository against DynamoDB Local: ledger entries counted once into their day's shard, a group that meets
an entry counted before writing nothing, and a range of days read back summed over the shards."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

import pytest

from chalicelib.adapters.dynamo import key
from chalicelib.adapters.report_repo import Counted, ReportRepository, report_pk
from chalicelib.adapters.users_repo import new_profile
from chalicelib.domain.points import Entry
from chalicelib.domain.report import REPORT_SHARDS
from tests.helpers import uid
from tests.integration.builders import T0

# Repositories written alone leave what the shop writes with them unwritten: not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")

D1, D2, D3 = "2024-05-01", "2024-05-02", "2024-05-03"


@pytest.fixture
def report(services) -> ReportRepository:
    return ReportRepository(services.table)


def _ledger(services, *entries: Entry, user: Optional[str] = None) -> list[dict[str, Any]]:
    """The ledger items one account change writes, as the stream hands them to the report."""
    user = user or uid("u")
    before = replace(new_profile(user, T0), stored=False)
    tx = services.table.transaction()
    services.user_repo.record(tx, before, before.posted(entries), entries, T0)
    tx.commit()
    return sorted(services.user_repo.ledger_page(user, 100, None)[0], key=lambda e: e["sk"])


def _grant(services, points: int) -> dict[str, Any]:
    return _ledger(services, Entry(delta=points, kind="grant", ref=uid("g")))[0]


def _reported(services, *entries: dict[str, Any]) -> list[bool]:
    return [bool(services.table.get(key(e["pk"], e["sk"])).get("reported")) for e in entries]


def test_entries_are_summed_into_their_day_and_shard_per_line_and_marked_reported(services, report):
    ref = uid("o")
    held, spent = Entry(-50, "hold", ref, held_delta=50), Entry(0, "spend", ref, held_delta=-50)
    granted = _grant(services, 100)
    hold, spend = _ledger(services, held, spent)
    report.count([(granted, D1, 3), (hold, D1, 3), (spend, D1, 3)])
    day = services.table.get(key(report_pk(3), D1))
    assert {k: v for k, v in day.items() if k not in ("pk", "sk")} == {"entries": 3, "grant": 100, "redeemed": -50}
    assert report.days(D1) == {D1: {"entries": 3, "grant": 100, "redeemed": -50}}
    assert _reported(services, granted, hold, spend) == [True, True, True]
    with pytest.raises(Counted):  # the stream delivers a record again
        report.count([(granted, D1, 3)])
    assert report.days(D1)[D1] == {"entries": 3, "grant": 100, "redeemed": -50}


def test_days_add_up_every_shard_of_a_day_and_stop_at_the_last_day(services, report):
    first, second, third, fourth, later = (_grant(services, p) for p in (1, 10, 100, 1000, 5))
    report.count([(first, D1, 0), (second, D1, REPORT_SHARDS - 1), (third, D2, 7), (later, D3, 0)])
    report.count([(fourth, D1, 0)])  # a later delivery adds to what the day's shard holds
    assert services.table.get(key(report_pk(0), D1))["grant"] == 1001
    assert report.days(D2) == {D1: {"entries": 3, "grant": 1011}, D2: {"entries": 1, "grant": 100}}
    assert report.days(D3)[D3] == {"entries": 1, "grant": 5}
    assert report.days("2024-04-30") == {}


def test_a_group_with_an_entry_counted_before_raises_counted_and_writes_nothing(services, report):
    counted, fresh, other_day = (_grant(services, p) for p in (1, 10, 100))
    report.count([(counted, D1, 0)])
    with pytest.raises(Counted):
        report.count([(fresh, D1, 0), (counted, D1, 0), (other_day, D2, 5)])
    assert _reported(services, fresh, other_day) == [False, False]
    assert report.days(D3) == {D1: {"entries": 1, "grant": 1}}
    report.count([(fresh, D1, 0)])  # one at a time, the others still count
    report.count([(other_day, D2, 5)])
    assert report.days(D3) == {D1: {"entries": 2, "grant": 11}, D2: {"entries": 1, "grant": 100}}


def test_an_entry_that_is_gone_raises_counted_and_is_not_made_up(services, report):
    real = _grant(services, 10)
    gone = {**real, "sk": "LEDGER#999999999999#000"}
    with pytest.raises(Counted):
        report.count([(real, D1, 0), (gone, D1, 0)])
    assert services.table.get(key(gone["pk"], gone["sk"])) is None
    assert _reported(services, real) == [False]
    assert report.days(D1) == {}
