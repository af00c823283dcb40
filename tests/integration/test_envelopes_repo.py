"""EnvelopeRepository against DynamoDB Local: an envelope with its audience, shards and Idempotency-Key record, a
share taken once by one claimant, the largest share crowned once, closing from the shards as read, and the listings
(recent and all claims, the expiry work list, a sender's envelopes)."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from chalicelib.adapters.dynamo import LostRace, Replay, to_item
from chalicelib.adapters.envelopes_repo import EnvelopeRepository, audience_key, envelope_key, shard_key, to_terms
from chalicelib.adapters.users_repo import new_profile
from chalicelib.domain.envelopes import LISTING_PARTITIONS, Shard, Terms, already, largest
from chalicelib.domain.errors import AlreadyClaimed
from tests.helpers import uid
from tests.integration.builders import T0, stored

# Repositories written alone leave what the shop writes with them unwritten: not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")

EXPIRES = "2024-05-02T08:00:00.000Z"
T1 = "2024-05-01T09:00:00.000Z"
DEALT = [[5, 1, 3], [2, 9]]  # shard 1 index 1 holds the largest share


@pytest.fixture
def repo(services) -> EnvelopeRepository:
    return EnvelopeRepository(services.table)


def _envelope(sender: Optional[str] = None, dealt: list[list[int]] = DEALT, **overrides: Any) -> dict[str, Any]:
    """An envelope as EnvelopeService.create makes it."""
    users = overrides.pop("user_ids", None)
    return {
        "envelope_id": uid("rp"),
        "sender_id": sender or uid("u"),
        "funded_by": "points",
        "campaign_id": None,
        "total_points": sum(map(sum, dealt)),
        "shares": sum(map(len, dealt)),
        "split": "random",
        "audience_kind": "users" if users else "link",
        "audience_size": len(users) if users else None,
        "greeting": "恭喜发财",
        "shard_count": len(dealt),
        "luckiest_at": list(largest(dealt)),
        "created_at": T0,
        "expires_at": EXPIRES,
        **overrides,
    }


def _send(repo, envelope, dealt=DEALT, user_ids=None, idem_key=None) -> dict[str, Any]:
    request = {"idempotency_key": idem_key or uid("idem"), "request_hash": "hash-1", "created_at": T0}
    tx = repo.begin()
    repo.add(tx, envelope, user_ids, dealt, request, on_replay=Replay)
    tx.commit()
    return request


def _sent(repo, dealt=DEALT, **overrides: Any) -> dict[str, Any]:
    envelope = _envelope(dealt=dealt, **overrides)
    _send(repo, envelope, dealt)
    return envelope


def _claim(
    envelope, shard: int, index: int, user_id: Optional[str] = None, at: str = T1, points: int = 1
) -> dict[str, Any]:
    """A claim as EnvelopeService._take makes it, of share `index` on `shard`."""
    return {
        "envelope_id": envelope["envelope_id"],
        "user_id": user_id or uid("u"),
        "points": points,
        "shard": shard,
        "index": index,
        "claimed_at": at,
    }


def _take(repo, claim, crown: bool = False) -> None:
    tx = repo.begin()
    repo.take(tx, claim, on_claimed=lambda: already(claim["envelope_id"], None))
    if crown:
        repo.crown(tx, claim)
    tx.commit()


def _close(repo, envelope, shards, refunded: int, at: str = "2024-05-02T08:00:05.000Z") -> None:
    tx = repo.begin()
    repo.close(tx, envelope, shards, refunded, at)
    tx.commit()


def _shards(repo, envelope) -> list[Shard]:
    return repo.shards(envelope["envelope_id"], envelope["shard_count"])[0]


def _claimants(claims) -> list[str]:
    return [c["user_id"] for c in claims]


def test_an_envelope_reads_back_with_its_audience_shards_and_idempotency_record(services, repo):
    sender, users = uid("u"), sorted(uid("u") for _ in range(5))
    envelope = _envelope(sender, user_ids=users)
    request = _send(repo, envelope, DEALT, users)
    eid = envelope["envelope_id"]
    read = repo.get(eid)
    assert {k: read[k] for k, v in envelope.items() if v is not None} == {
        k: v for k, v in envelope.items() if v is not None
    }
    assert read["user_ids"] == users
    assert "user_ids" not in services.table.get(envelope_key(eid)), "the ids stay off the item the indexes copy"
    assert to_terms(read) == Terms(eid, sender, "users", tuple(users), 2, (1, 1), EXPIRES)
    assert _shards(repo, envelope) == [Shard(0, (5, 1, 3)), Shard(1, (2, 9))]
    assert {services.table.get(shard_key(eid, k))["expires_at"] for k in (0, 1)} == {EXPIRES}
    record = repo.idempotency(sender, request["idempotency_key"])
    assert (record["envelope_id"], record["request_hash"]) == (eid, "hash-1")


def test_an_envelope_for_anyone_with_the_link_has_no_audience_list(services, repo):
    envelope = _sent(repo)
    assert repo.get(envelope["envelope_id"])["user_ids"] is None
    assert stored(services.table, audience_key(envelope["envelope_id"])) == []
    assert to_terms(repo.get(envelope["envelope_id"])).user_ids is None
    assert repo.get(uid("rp")) is None


def test_an_idempotency_key_used_before_replays_and_nothing_of_the_second_envelope_is_written(services, repo):
    first = _envelope()
    request = _send(repo, first)
    dealt, users = [[4], [4], [4]], [uid("u") for _ in range(3)]
    second = _envelope(first["sender_id"], dealt=dealt, user_ids=users)
    with pytest.raises(Replay):
        _send(repo, second, dealt, users, request["idempotency_key"])
    sid = second["envelope_id"]
    assert repo.get(sid) is None
    assert stored(services.table, audience_key(sid), *(shard_key(sid, k) for k in range(3))) == []
    assert repo.idempotency(first["sender_id"], request["idempotency_key"])["envelope_id"] == first["envelope_id"]
    assert [e["envelope_id"] for e in repo.sent_page(first["sender_id"], 10, None)[0]] == [first["envelope_id"]]
    assert repo.due(EXPIRES) == [first["envelope_id"]]
    _send(repo, _envelope(), idem_key=request["idempotency_key"])  # the key is the sender's own


def test_claim_reads_return_the_claimants_profile_their_claim_and_every_shard(services, repo):
    envelope = _sent(repo)
    eid, user = envelope["envelope_id"], uid("u")
    assert repo.claim_reads(eid, user, 2, True) == (None, None, _shards(repo, envelope))
    services.user_repo.create_if_absent(new_profile(user, T0))
    claim = _claim(envelope, 0, 2, user)
    _take(repo, claim)
    for consistent in (True, False):
        profile, mine, shards = repo.claim_reads(eid, user, 2, consistent)
        assert profile["user_id"] == user
        assert {k: mine[k] for k in claim} == claim
        assert shards == [Shard(0, (5, 1, 3), frozenset({2}), 1), Shard(1, (2, 9))]


def test_a_claim_takes_its_share_off_its_shard_and_is_the_claimants_own(repo):
    envelope = _sent(repo)
    eid = envelope["envelope_id"]
    claim = _claim(envelope, 1, 0, points=2)
    _take(repo, claim)
    assert {k: repo.claim_of(eid, claim["user_id"])[k] for k in claim} == claim
    shards, mine = repo.shards(eid, 2, claim["user_id"])
    assert shards == [Shard(0, (5, 1, 3)), Shard(1, (2, 9), frozenset({0}), 1)]
    assert mine["points"] == 2
    assert repo.shards(eid, 2, uid("u"))[1] is None
    assert "luckiest" not in repo.get(eid), "only the largest share is crowned"


def test_a_share_taken_twice_loses_the_race_and_the_second_claimant_gets_nothing(repo):
    envelope = _sent(repo)
    first, second = _claim(envelope, 0, 1), _claim(envelope, 0, 1)
    _take(repo, first)
    with pytest.raises(LostRace) as lost:
        _take(repo, second)
    assert type(lost.value) is LostRace, "pick again, not 'already claimed'"
    assert repo.claim_of(envelope["envelope_id"], second["user_id"]) is None
    assert _shards(repo, envelope)[0] == Shard(0, (5, 1, 3), frozenset({1}), 1)


def test_a_second_claim_by_the_same_user_raises_on_claimed_and_takes_no_share(repo):
    envelope = _sent(repo)
    first = _claim(envelope, 0, 0, points=5)
    _take(repo, first)
    with pytest.raises(AlreadyClaimed):
        _take(repo, _claim(envelope, 1, 1, first["user_id"], points=9))
    assert repo.claim_of(envelope["envelope_id"], first["user_id"])["points"] == 5
    assert _shards(repo, envelope) == [Shard(0, (5, 1, 3), frozenset({0}), 1), Shard(1, (2, 9))]


@pytest.mark.parametrize("case", ["swept", "at expiry", "after expiry", "no such shard"])
def test_a_closed_expired_or_missing_shard_refuses_the_claim(repo, case):
    envelope = _sent(repo)
    if case == "swept":
        _close(repo, envelope, _shards(repo, envelope), 20)
    at = {"at expiry": EXPIRES, "after expiry": "2024-05-02T08:00:00.001Z"}.get(case, T1)
    claim = _claim(envelope, 0, 0, at=at)
    if case == "no such shard":
        claim["shard"] = 2
    with pytest.raises(LostRace):
        _take(repo, claim)
    assert repo.claim_of(envelope["envelope_id"], claim["user_id"]) is None
    assert all(s.taken == 0 and not s.claimed for s in _shards(repo, envelope))
    assert repo.recent_claims(envelope["envelope_id"], 2, 10) == []


def test_the_largest_share_is_crowned_once_and_a_second_crown_writes_nothing(repo):
    envelope = _sent(repo)
    eid = envelope["envelope_id"]
    luckiest = _claim(envelope, 1, 1, points=9)
    _take(repo, luckiest, crown=True)
    assert repo.get(eid)["luckiest"] == {k: luckiest[k] for k in ("user_id", "points", "claimed_at")}
    other = _claim(envelope, 0, 0, at="2024-05-01T09:30:00.000Z")
    with pytest.raises(LostRace):
        _take(repo, other, crown=True)
    assert repo.get(eid)["luckiest"]["user_id"] == luckiest["user_id"]
    assert repo.claim_of(eid, other["user_id"]) is None
    assert _shards(repo, envelope)[0] == Shard(0, (5, 1, 3))


def test_closing_sweeps_every_shard_records_the_refund_and_leaves_the_work_list(services, repo):
    envelope = _sent(repo)
    eid = envelope["envelope_id"]
    _take(repo, _claim(envelope, 1, 1))
    assert repo.due(EXPIRES) == [eid]
    _close(repo, envelope, _shards(repo, envelope), 11, "2024-05-02T08:00:05.000Z")
    read = repo.get(eid)
    assert (read["refunded_points"], read["swept_at"]) == (11, "2024-05-02T08:00:05.000Z")
    assert [s.swept for s in _shards(repo, envelope)] == [True, True]
    assert _shards(repo, envelope)[1].claimed == {1}
    assert repo.due("2024-05-03T00:00:00.000Z") == []
    assert repo.sent_page(envelope["sender_id"], 10, None)[0][0]["refunded_points"] == 11


def test_closing_from_shards_read_before_a_claim_loses_the_race_and_closes_nothing(repo):
    envelope = _sent(repo)
    eid = envelope["envelope_id"]
    read = _shards(repo, envelope)
    _take(repo, _claim(envelope, 1, 0))  # lands between the sweep's read and its write
    with pytest.raises(LostRace):
        _close(repo, envelope, read, 20)
    assert [s.swept for s in _shards(repo, envelope)] == [False, False]
    assert "refunded_points" not in repo.get(eid) and "swept_at" not in repo.get(eid)
    assert repo.due(EXPIRES) == [eid]
    _close(repo, envelope, _shards(repo, envelope), 18)  # read again, it closes
    assert repo.get(eid)["refunded_points"] == 18


def test_an_envelope_closes_once(repo):
    envelope = _sent(repo)
    eid = envelope["envelope_id"]
    _close(repo, envelope, _shards(repo, envelope), 20, "2024-05-02T08:00:05.000Z")
    with pytest.raises(LostRace):
        _close(repo, envelope, _shards(repo, envelope), 7, "2024-05-02T08:01:00.000Z")
    with pytest.raises(LostRace):  # the envelope's own condition, whatever the shards say
        _close(repo, envelope, [], 7, "2024-05-02T08:01:00.000Z")
    read = repo.get(eid)
    assert (read["refunded_points"], read["swept_at"]) == (20, "2024-05-02T08:00:05.000Z")


def test_recent_claims_are_the_newest_over_every_listing_partition(repo):
    shards = LISTING_PARTITIONS + 2  # shards 8 and 9 share listing partitions with 0 and 1
    dealt = [[1] for _ in range(shards)]
    envelope = _sent(repo, dealt)
    other = _sent(repo, dealt)
    eid = envelope["envelope_id"]
    claims = [
        _claim(envelope, k, 0, at=f"2024-05-01T09:{minute:02d}:00.000Z")
        for minute, k in enumerate([9, 0, 8, 1, 5, 3, 7, 2, 6, 4])
    ]
    for claim in claims:
        _take(repo, claim)
    _take(repo, _claim(other, 0, 0, at="2024-05-01T23:00:00.000Z"))
    newest_first = _claimants(reversed(claims))
    assert _claimants(repo.recent_claims(eid, shards, 3)) == newest_first[:3]
    assert _claimants(repo.recent_claims(eid, shards, 100)) == newest_first
    assert sorted(_claimants(repo.all_claims(eid, shards))) == sorted(newest_first)


class _Created:
    """Stands in for a transaction to collect the claim items `take` creates, to store many at once."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def create(self, item: dict[str, Any], **_: Any) -> None:
        self.items.append(item)

    def update(self, *_: Any, **__: Any) -> None:
        pass


def test_all_claims_pages_through_a_crowded_listing_partition(services, repo):
    envelope = _sent(repo, [[1] * 5])
    created = _Created()
    for n in range(503):
        claim = _claim(envelope, 0, n, at=f"2024-05-01T09:{n // 60:02d}:{n % 60:02d}.000Z")
        repo.take(created, claim, on_claimed=LostRace())
    for start in range(0, len(created.items), 25):
        batch = [{"PutRequest": {"Item": to_item(i)}} for i in created.items[start : start + 25]]
        services.table.client.batch_write_item(RequestItems={services.table.name: batch})
    found = repo.all_claims(envelope["envelope_id"], 1)
    assert len(found) == 503
    assert sorted(_claimants(found)) == sorted(i["user_id"] for i in created.items)


def test_due_lists_the_envelopes_expired_at_or_before_now_until_closed(repo):
    early = _sent(repo, expires_at="2024-05-01T08:10:00.000Z")
    on_time = _sent(repo, expires_at="2024-05-01T08:20:00.000Z")
    _sent(repo, expires_at="2024-05-01T09:00:00.000Z")
    assert sorted(repo.due("2024-05-01T08:20:00.000Z")) == sorted([early["envelope_id"], on_time["envelope_id"]])
    assert repo.due("2024-05-01T08:19:59.999Z") == [early["envelope_id"]]
    _close(repo, early, _shards(repo, early), 20)
    assert repo.due("2024-05-01T08:20:00.000Z") == [on_time["envelope_id"]]


def test_a_senders_envelopes_are_listed_newest_first_and_page_on(repo):
    sender = uid("u")
    mine = [_sent(repo, sender_id=sender, created_at=f"2024-05-0{d}T08:00:00.000Z") for d in (1, 3, 2)]
    _sent(repo, created_at="2024-05-04T08:00:00.000Z")
    first, start = repo.sent_page(sender, 2, None)
    rest, end = repo.sent_page(sender, 2, start)
    assert [e["created_at"][:10] for e in first + rest] == ["2024-05-03", "2024-05-02", "2024-05-01"]
    assert end is None
    assert {e["envelope_id"] for e in first + rest} == {e["envelope_id"] for e in mine}
