"""What a claim decides, without a server: who is admitted, which share it takes, what status an envelope shows."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from chalicelib.domain.envelopes import Shard, Terms, admit, home_shard, pick_share, status
from chalicelib.domain.errors import NotInAudience, OwnEnvelope

LATER, EARLIER, NOW = "2026-12-06T12:00:00.000Z", "2026-12-06T10:00:00.000Z", "2026-12-06T11:00:00.000Z"


def terms(kind: str = "link", users: tuple[str, ...] | None = None) -> Terms:
    return Terms("rp-1", "sender", kind, users, 4, (0, 0), LATER)


def test_the_sender_is_never_admitted_and_a_named_audience_admits_only_its_names():
    with pytest.raises(OwnEnvelope):
        admit(terms(), "sender")
    admit(terms("users", ("ann", "bo")), "bo")
    with pytest.raises(NotInAudience):
        admit(terms("users", ("ann", "bo")), "cy")


def test_an_owners_envelope_admits_an_owner_and_refuses_a_fan_once_the_tier_is_known():
    admit(terms("owners"), "fan")  # before the profile is read: not decided yet
    admit(terms("owners"), "own", "owner")
    with pytest.raises(NotInAudience, match="vehicle owners"):
        admit(terms("owners"), "fan", "fan")


def test_free_shares_and_points_left_skip_the_claimed_ones():
    shard = Shard(0, (5, 7, 9), claimed=frozenset({1}), taken=1)
    assert (shard.free, shard.points_left) == ([0, 2], 14)


@pytest.mark.parametrize(
    "shards, now, expected",
    [
        ([Shard(0, (1, 2), taken=2), Shard(1, (3,), taken=1)], NOW, "empty"),
        ([Shard(0, (1, 2), taken=2), Shard(1, (3,), taken=1)], LATER, "empty"),  # emptied, then expired: empty
        ([Shard(0, (1, 2), taken=1), Shard(1, (3,))], NOW, "open"),
        ([Shard(0, (1, 2), taken=1), Shard(1, (3,))], LATER, "expired"),
        ([Shard(0, (1, 2), taken=1, swept=True), Shard(1, (3,), swept=True)], EARLIER, "expired"),  # swept early
    ],
)
def test_status_is_empty_once_every_share_is_taken_else_expired_past_its_time_or_once_swept(shards, now, expected):
    assert status(3, shards, now, LATER) == expected


def test_a_first_try_takes_a_free_share_of_the_claimants_home_shard():
    shards = [Shard(k, (10 + k, 20 + k)) for k in range(4)]
    for user in (f"u{n}" for n in range(50)):
        pick = pick_share(shards, user, retry=False, rng=random.Random(user))
        assert pick is not None and pick.shard == home_shard(user, 4)
        assert pick.points == shards[pick.shard].amounts[pick.index]


def test_an_empty_home_or_a_retry_falls_to_another_shard_weighted_by_what_it_has_left():
    user = "u1"
    home = home_shard(user, 3)
    shards = [Shard(k, (1, 1, 1, 1), claimed=frozenset({0, 1, 2, 3}) if k == home else frozenset()) for k in range(3)]
    shards[(home + 1) % 3] = Shard((home + 1) % 3, (1, 1, 1, 1), claimed=frozenset({0, 1, 2}))  # one share left
    rng = random.Random(3)
    landed = Counter(pick_share(shards, user, retry=False, rng=rng).shard for _ in range(2000))
    assert home not in landed
    assert 3 < landed[(home + 2) % 3] / landed[(home + 1) % 3] < 6  # 4 free against 1: about four times as often
    retried = {pick_share(shards, user, retry=True, rng=rng).shard for _ in range(200)}
    assert retried == {(home + 1) % 3, (home + 2) % 3}


def test_no_free_share_anywhere_is_no_pick_and_a_pick_never_takes_a_claimed_share():
    assert pick_share([Shard(0, (1,), claimed=frozenset({0}), taken=1)], "u", retry=True, rng=random.Random(1)) is None
    shard = Shard(0, (4, 5, 6), claimed=frozenset({0, 2}), taken=2)
    assert {pick_share([shard], "u", retry=False, rng=random.Random(n)).index for n in range(30)} == {1}
