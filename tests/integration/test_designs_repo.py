"""DesignRepository against DynamoDB Local: open submissions are bounded, reviews move from the status read,
votes count once and only for public designs of someone else."""

from __future__ import annotations

import pytest

from chalicelib.adapters.designs_repo import design_key, listing
from chalicelib.adapters.dynamo import LostRace, key
from chalicelib.domain.designs import MAX_OPEN_DESIGNS
from chalicelib.domain.errors import AlreadyExists, Conflict, NotFound
from tests.helpers import uid
from tests.integration.builders import design, stored


class TooMany(Exception):
    pass


def _add(repo, d) -> dict:
    tx = repo.begin()
    repo.add(tx, d, on_too_many=TooMany("too many open designs"))
    tx.commit()
    return d


def _move(repo, before, **changes) -> None:
    tx = repo.begin()
    repo.move(tx, before, changes, on_fail=Conflict("changed meanwhile"))
    tx.commit()


def _vote(repo, design_id, voter, weight: int = 1, read: dict | None = None) -> None:
    """A vote planned from `read` (default: the design as stored now)."""
    seen = read or repo.get(design_id) or {**design(), "design_id": design_id}
    tx = repo.begin()
    repo.vote(
        tx,
        seen,
        voter,
        weight,
        0,
        "2024-05-02T00:00:00.000Z",
        on_repeat=AlreadyExists("voted"),
        on_changed=NotFound("not public, or changed since read"),
    )
    tx.commit()


def _ids(repo, **where) -> list[str]:
    return [d["design_id"] for d in repo.page(*listing(**where), 50, None)[0]]


def test_a_designer_has_at_most_the_open_designs_allowed_until_one_is_decided(services):
    repo, designer = services.design_repo, uid("u")
    added = [_add(repo, design(designer)) for _ in range(MAX_OPEN_DESIGNS)]
    one_more = design(designer)
    with pytest.raises(TooMany):
        _add(repo, one_more)
    assert repo.get(one_more["design_id"]) is None
    assert len(_ids(repo, designer_id=designer)) == MAX_OPEN_DESIGNS
    _add(repo, design(uid("u")))  # someone else's count is their own

    tx = repo.begin()
    repo.move(tx, added[0], {"status": "rejected"}, on_fail=LostRace)
    repo.count_open(tx, designer, -1)
    tx.commit()
    _add(repo, one_more)
    assert repo.get(one_more["design_id"])["status"] == "submitted"


def test_a_review_moves_a_design_only_from_the_status_it_was_read_with(services):
    repo = services.design_repo
    d = _add(repo, design())
    _move(repo, d, status="approved")
    with pytest.raises(Conflict):
        _move(repo, d, status="rejected", note="too late")
    now = repo.get(d["design_id"])
    assert now["status"] == "approved" and "note" not in now


def test_approval_opens_the_gallery_and_keeps_the_votes_through_productization(services):
    repo = services.design_repo
    d = _add(repo, design())
    assert d["design_id"] not in _ids(repo)
    _move(repo, d, status="approved")
    assert d["design_id"] in _ids(repo) and d["design_id"] in _ids(repo, category="tech")
    assert _ids(repo, status="approved") == [d["design_id"]] and _ids(repo, status="submitted") == []
    _vote(repo, d["design_id"], uid("voter"))
    _move(repo, repo.get(d["design_id"]), status="productized", product_id="p-1")
    now = repo.get(d["design_id"])
    assert (now["status"], now["votes"], now["product_id"]) == ("productized", 1, "p-1")
    assert d["design_id"] in _ids(repo)


def test_a_rejected_design_leaves_no_trace_in_the_gallery(services):
    repo = services.design_repo
    d = _add(repo, design(status="approved"))
    assert _ids(repo) == [d["design_id"]]
    _move(repo, d, status="rejected")
    assert _ids(repo) == [] and _ids(repo, category="tech") == []
    assert _ids(repo, by_score=True) == [] and _ids(repo, by_score=True, category="tech") == []
    assert _ids(repo, status="rejected") == [d["design_id"]]


def test_a_second_vote_by_the_same_user_is_refused_and_not_counted(services):
    repo, voter = services.design_repo, uid("voter")
    d = _add(repo, design(status="approved"))
    _vote(repo, d["design_id"], voter)
    with pytest.raises(AlreadyExists):
        _vote(repo, d["design_id"], voter)
    _vote(repo, d["design_id"], uid("voter"))
    assert repo.get(d["design_id"])["votes"] == 2


@pytest.mark.parametrize("case", ["own design", "not public yet", "unknown design"])
def test_a_vote_that_cannot_count_is_gone_and_leaves_no_marker(services, case):
    repo, voter = services.design_repo, uid("voter")
    d = _add(
        repo,
        design(
            designer_id=voter if case == "own design" else None,
            status="submitted" if case == "not public yet" else "approved",
        ),
    )
    design_id = uid("d") if case == "unknown design" else d["design_id"]
    with pytest.raises(NotFound):
        _vote(repo, design_id, voter)
    assert repo.get(d["design_id"])["votes"] == 0
    assert stored(services.table, key(f"DESIGN#{design_id}", f"VOTE#{voter}")) == []
    ranks = [r["score"] for r in stored(services.table, key(f"DESIGN#{design_id}", "RANK"))]
    assert ranks == ([0] if case == "own design" else [])  # only a public design has a rank, and it did not move
    if case == "unknown design":
        assert stored(services.table, design_key(design_id)) == []
    if case == "not public yet":  # nothing was kept from the refused vote: once approved, it counts
        _move(repo, d, status="approved")
        _vote(repo, design_id, voter)
        assert repo.get(design_id)["votes"] == 1


def test_sales_add_up_on_the_design_and_a_missing_design_loses_the_race(services):
    repo = services.design_repo
    d = _add(repo, design(status="productized"))
    for units, points in ((2, 40), (1, 20)):
        tx = repo.begin()
        repo.count_sales(tx, d["design_id"], units, points)
        tx.commit()
    now = repo.get(d["design_id"])
    assert (now["units_sold"], now["royalty_points"]) == (3, 60)
    tx = repo.begin()
    repo.count_sales(tx, uid("d"), 1, 20)
    with pytest.raises(LostRace):
        tx.commit()


def test_votes_keep_their_weight_and_the_score_adds_the_weights(services):
    repo = services.design_repo
    d = _add(repo, design(status="approved"))
    light, heavy = uid("voter"), uid("voter")
    _vote(repo, d["design_id"], light, weight=1)
    _vote(repo, d["design_id"], heavy, weight=3)
    now = repo.get(d["design_id"])
    assert (now["votes"], now["score"]) == (2, 4)
    assert sorted((v["voter_id"], v["weight"]) for v in repo.votes(d["design_id"])) == sorted([(light, 1), (heavy, 3)])


def test_a_vote_planned_from_a_score_that_moved_writes_nothing(services):
    repo = services.design_repo
    d = _add(repo, design(status="approved"))
    stale = repo.get(d["design_id"])
    _vote(repo, d["design_id"], uid("voter"), weight=2)
    late = uid("voter")
    with pytest.raises(NotFound):  # the rank's sort key was computed from the old score
        _vote(repo, d["design_id"], late, weight=1, read=stale)
    assert (repo.get(d["design_id"])["score"], len(repo.votes(d["design_id"]))) == (2, 1)
    _vote(repo, d["design_id"], late, weight=1)  # planned again from what is stored now
    assert repo.get(d["design_id"])["score"] == 3


def test_votes_cast_before_weights_existed_count_once_each(services):
    repo = services.design_repo
    d = _add(repo, design(status="approved"))
    services.table.client.update_item(  # a design as the previous version left it: votes, no score
        TableName=services.table.name,
        Key=design_key(d["design_id"]),
        UpdateExpression="SET votes = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    for voter in ("old-1", "old-2"):  # and its votes, without a weight
        services.table.client.put_item(
            TableName=services.table.name,
            Item={"pk": {"S": f"DESIGN#{d['design_id']}"}, "sk": {"S": f"VOTE#{voter}"}, "at": {"S": "2024-05-01"}},
        )
    assert repo.get(d["design_id"])["score"] == 2
    _vote(repo, d["design_id"], uid("voter"), weight=3)
    assert (repo.get(d["design_id"])["votes"], repo.get(d["design_id"])["score"]) == (3, 5)
    assert sorted(v["weight"] for v in repo.votes(d["design_id"])) == [1, 1, 3]


def test_the_gallery_by_score_lists_public_designs_highest_first_then_newest(services):
    repo = services.design_repo
    older = _add(repo, design(status="approved", at="2024-05-01T08:00:00.000Z"))
    newer = _add(repo, design(status="approved", at="2024-05-02T08:00:00.000Z"))
    top = _add(repo, design(status="approved", at="2024-04-01T08:00:00.000Z"))
    hidden = _add(repo, design(status="submitted"))
    for weight in (4, 4, 2):  # 10 beats a 9 even though "10" < "9" as text: the keys are zero-padded
        _vote(repo, top["design_id"], uid("voter"), weight=weight)
    for weight in (4, 4, 1):
        _vote(repo, older["design_id"], uid("voter"), weight=weight)
    _vote(repo, newer["design_id"], uid("voter"), weight=4)
    _vote(repo, newer["design_id"], uid("voter"), weight=4)
    _vote(repo, newer["design_id"], uid("voter"), weight=1)
    assert _ids(repo, by_score=True) == [top["design_id"], newer["design_id"], older["design_id"]]
    assert _ids(repo, by_score=True, category="tech") == _ids(repo, by_score=True)
    assert _ids(repo, by_score=True, category="home") == []
    assert hidden["design_id"] not in _ids(repo, by_score=True)
    _move(repo, hidden, status="approved")  # approval puts it in the score listing, at 0
    assert _ids(repo, by_score=True)[-1] == hidden["design_id"]
    first, cursor = repo.page(*listing(by_score=True), 2, None)
    rest, end = repo.page(*listing(by_score=True), 2, cursor)
    assert [d["design_id"] for d in first + rest] == _ids(repo, by_score=True) and end is None
    assert [d["score"] for d in first + rest] == [10, 9, 9, 0]
