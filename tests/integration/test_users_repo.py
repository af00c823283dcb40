"""UserRepository against DynamoDB Local: balances move only with their ledger, from the exact version read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.adapters.dynamo import LostRace, Replay, key
from chalicelib.adapters.users_repo import new_profile
from chalicelib.domain.errors import AlreadyCheckedIn, OwnerOnly
from chalicelib.domain.points import Entry, Profile
from tests.helpers import uid
from tests.integration.builders import T0


def _first_time(user_id: str) -> Profile:
    return replace(new_profile(user_id, T0), stored=False)


def _record(repo, before: Profile, entries: list[Entry], **changes) -> Profile:
    after = replace(before.posted(entries), **changes)
    tx = repo.begin()
    repo.record(tx, before, after, entries, T0)
    tx.commit()
    return after


def test_a_recorded_profile_reads_back_with_the_next_version_and_an_exact_ledger(services):
    repo, user = services.user_repo, uid("u")
    first = [Entry(500, "grant", "g-1"), Entry(-200, "hold", "o-1", held_delta=200)]
    after = _record(repo, _first_time(user), first, earned_day="2024-05-01", earned_today=0)
    read = repo.get(user)
    assert read == replace(after, version=1, stored=True)
    assert (read.points_available, read.points_held) == (300, 200)

    _record(repo, read, [Entry(0, "spend", "o-1", held_delta=-200), Entry(50, "earn", "post:1")])
    assert repo.get(user).version == 2
    ledger, nxt = repo.ledger_page(user, 10, None)
    assert nxt is None
    assert [(e["kind"], e["delta"], e["held_delta"], e["available_after"], e["seq"]) for e in ledger] == [
        ("earn", 50, 0, 350, "000000000002#001"),
        ("spend", 0, -200, 300, "000000000002#000"),
        ("hold", -200, 200, 300, "000000000001#001"),
        ("grant", 500, 0, 500, "000000000001#000"),
    ]
    assert repo.ledger_sums(user) == (350, 0) == (repo.get(user).points_available, repo.get(user).points_held)


def test_ledger_pages_continue_where_the_last_one_stopped(services):
    repo, user = services.user_repo, uid("u")
    profile = _first_time(user)
    for n in range(5):
        _record(repo, profile, [Entry(10, "earn", f"post:{n}")])
        profile = repo.get(user)
    first, start = repo.ledger_page(user, 3, None)
    rest, end = repo.ledger_page(user, 3, start)
    assert end is None
    assert [e["available_after"] for e in first + rest] == [50, 40, 30, 20, 10]


def test_recording_from_a_stale_profile_loses_the_race_and_writes_no_ledger(services):
    repo, user = services.user_repo, uid("u")
    _record(repo, _first_time(user), [Entry(100, "grant", "g-1")])
    stale = repo.get(user)
    _record(repo, stale, [Entry(-40, "spend", "o-1")])
    tx = repo.begin()
    repo.record(tx, stale, stale.posted([Entry(-90, "spend", "o-2")]), [Entry(-90, "spend", "o-2")], T0)
    with pytest.raises(LostRace):
        tx.commit()
    assert (repo.get(user).points_available, repo.get(user).version) == (60, 2)
    assert [e["ref"] for e in repo.ledger_page(user, 10, None)[0]] == ["o-1", "g-1"]


def test_two_first_writes_of_one_account_cannot_both_win(services):
    repo, user = services.user_repo, uid("u")
    _record(repo, _first_time(user), [Entry(100, "grant", "g-1")])
    tx = repo.begin()
    repo.record(
        tx, _first_time(user), _first_time(user).posted([Entry(7, "earn", "post:1")]), [Entry(7, "earn", "post:1")], T0
    )
    with pytest.raises(LostRace):
        tx.commit()
    assert repo.get(user).points_available == 100
    assert repo.ledger_sums(user) == (100, 0)


def test_a_second_checkin_on_the_same_day_fails_with_its_error_and_pays_nothing(services):
    repo, user = services.user_repo, uid("u")

    def check_in(day: str) -> None:
        before = repo.get(user) or _first_time(user)
        tx = repo.begin()
        repo.add_checkin(
            tx, user, day, {"points": 10, "at": T0}, "fan", on_fail=AlreadyCheckedIn("already checked in today")
        )
        repo.record(
            tx, before, before.posted([Entry(10, "earn", f"checkin:{day}")]), [Entry(10, "earn", f"checkin:{day}")], T0
        )
        tx.commit()

    check_in("2024-05-01")
    with pytest.raises(AlreadyCheckedIn):
        check_in("2024-05-01")
    check_in("2024-05-02")
    assert repo.get(user).points_available == 20
    assert repo.ledger_sums(user) == (20, 0)


def test_a_task_award_is_paid_once_per_ref(services):
    repo, user = services.user_repo, uid("u")
    tx = repo.begin()
    repo.add_task_award(tx, user, "post", "r-1", {"points": 30, "at": T0}, "2024-05-01", "fan", on_fail=Replay)
    tx.commit()
    tx = repo.begin()
    repo.add_task_award(tx, user, "post", "r-1", {"points": 99, "at": T0}, "2024-05-01", "fan", on_fail=Replay)
    repo.record(
        tx,
        _first_time(user),
        _first_time(user).posted([Entry(99, "earn", "post:r-1")]),
        [Entry(99, "earn", "post:r-1")],
        T0,
    )
    with pytest.raises(Replay):
        tx.commit()
    assert repo.task_award(user, "post", "r-1")["points"] == 30
    assert repo.get(user) is None
    assert repo.task_award(user, "comment", "r-1") is None


@pytest.mark.parametrize("tier", ["fan", "deposit", None])
def test_an_owner_only_write_fails_for_anyone_but_a_verified_owner(services, tier):
    repo, user, marker = services.user_repo, uid("u"), uid("bought")
    if tier:
        repo.create_if_absent(replace(new_profile(user, T0), tier=tier))
    tx = repo.begin()
    repo.require_owner(tx, user, on_fail=OwnerOnly("owners only"))
    tx.create({"pk": marker, "sk": "META"})
    with pytest.raises(OwnerOnly):
        tx.commit()
    assert services.table.get(key(marker, "META")) is None


def test_an_owner_only_write_commits_for_a_verified_owner(services):
    repo, user, marker = services.user_repo, uid("u"), uid("bought")
    repo.create_if_absent(replace(new_profile(user, T0), tier="owner", vin="LSVAA4182E2100001"))
    tx = repo.begin()
    repo.require_owner(tx, user, on_fail=OwnerOnly("owners only"))
    tx.create({"pk": marker, "sk": "META"})
    tx.commit()
    assert services.table.get(key(marker, "META")) is not None


def test_create_if_absent_keeps_an_existing_account(services):
    repo, user = services.user_repo, uid("u")
    _record(repo, _first_time(user), [Entry(100, "grant", "g-1")])
    repo.create_if_absent(new_profile(user, "2030-01-01T00:00:00.000Z"))
    assert (repo.get(user).points_available, repo.get(user).created_at) == (100, T0)


def test_completions_and_lever_priced_entries_are_listed_by_day_for_a_dry_run(services):
    repo, user = services.user_repo, uid("u")
    tx = repo.begin()
    repo.add_task_award(
        tx, user, "post", "r-9", {"points_awarded": 0, "at": T0}, "2024-05-01", "deposit", on_fail=Replay
    )
    entries = [Entry(200, "referral", "referral:test_drive:x"), Entry(5, "earn", "post:r-8")]
    repo.record(tx, _first_time(user), _first_time(user).posted(entries), entries, "2024-05-01T02:00:00.000Z")
    tx.commit()
    done = [c for c in repo.completions("2024-05-01") if c["user_id"] == user]
    assert [(c["task"], c["tier"], c["points_awarded"]) for c in done] == [("post", "deposit", 0)]
    issued = [e for e in repo.issued_entries("2024-05-01") if e["pk"] == f"USER#{user}"]
    assert [(e["kind"], e["delta"]) for e in issued] == [("referral", 200)], "an earn entry is not lever-priced"
