"""CouponRepository against DynamoDB Local: a template with its budget over shards, coupons issued off the shards
within the per-user limit, one grant per ref, a coupon used by one order and given back by that order only, taken
back while unused, and a coupon whose purchase was refunded while in use revoked when it is let go."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from chalicelib.adapters.coupons_repo import (
    CouponRepository,
    budget_key,
    grant_key,
    received_key,
    template_key,
    user_coupon_key,
)
from chalicelib.adapters.dynamo import LostRace, Replay
from chalicelib.domain.coupons import CouponInput, issued_coupon
from chalicelib.domain.errors import AlreadyExists, CouponLimit
from tests.helpers import uid
from tests.integration.builders import T0, stored

# Repositories written alone leave what the shop writes with them unwritten: not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")

T1 = "2024-05-01T09:00:00.000Z"
AFTER_EXPIRY = "2024-06-01T08:00:00.000Z"  # the templates below are valid for 7 days


@pytest.fixture
def repo(services) -> CouponRepository:
    return CouponRepository(services.table)


def _template(per_user_limit: int = 2, budget: tuple[int, ...] = (3, 2), **overrides: Any) -> dict[str, Any]:
    """A template as CouponService.create makes it."""
    body = CouponInput(
        coupon_id=uid("cpn"),
        title="Ten off",
        amount_off_fen=1000,
        valid_days=7,
        budget_count=sum(budget),
        per_user_limit=per_user_limit,
        **overrides,
    )
    return {**body.model_dump(), "budget_shards": len(budget), "created_at": T0, "created_by": "merch-t"}


def _added(repo, budget: tuple[int, ...] = (3, 2), **overrides: Any) -> dict[str, Any]:
    template = _template(budget=budget, **overrides)
    tx = repo.begin()
    repo.add(tx, template, list(budget), on_fail=AlreadyExists("exists"))
    tx.commit()
    return template


def _coupon(template: dict[str, Any], user_id: str) -> dict[str, Any]:
    at = dt.datetime(2024, 5, 1, 8, tzinfo=dt.timezone.utc)
    return issued_coupon(template, uid("uc"), user_id, "grant", uid("ref"), at, T0)


def _issue(repo, template, user_id: str, count: int = 1, shards=None) -> list[dict[str, Any]]:
    coupons = [_coupon(template, user_id) for _ in range(count)]
    tx = repo.begin()
    repo.issue(tx, template, user_id, coupons, shards or [[0, count]], on_limit=CouponLimit("over the limit"))
    tx.commit()
    return coupons


def _one(repo, method: str, *args: Any, **kwargs: Any) -> None:
    """One repository write in a transaction of its own."""
    tx = repo.begin()
    getattr(repo, method)(tx, *args, **kwargs)
    tx.commit()


def _use(repo, user_id: str, coupon: str, order_id: str, at: str = T1) -> None:
    _one(repo, "use", user_id, coupon, order_id, at)


def test_a_template_reads_back_with_its_budget_on_its_shards(repo):
    template = _added(repo, [3, 2])
    assert repo.template(template["coupon_id"]) == {k: v for k, v in template.items() if v is not None}
    assert repo.budget(template["coupon_id"], 2) == {0: 3, 1: 2}
    assert repo.template(uid("cpn")) is None


def test_a_template_id_used_before_fails_and_writes_no_second_budget(services, repo):
    first = _added(repo, [3, 2])
    again = {**_template(budget=[5, 5, 5]), "coupon_id": first["coupon_id"]}
    tx = repo.begin()
    repo.add(tx, again, [5, 5, 5], on_fail=AlreadyExists("exists"))
    with pytest.raises(AlreadyExists):
        tx.commit()
    assert repo.budget(first["coupon_id"], 3) == {0: 3, 1: 2}
    assert stored(services.table, budget_key(first["coupon_id"], 2)) == []


def test_templates_list_newest_first(repo):
    older = _added(repo)
    newest = {**_template(), "created_at": "2024-05-03T08:00:00.000Z"}
    tx = repo.begin()
    repo.add(tx, newest, [3, 2], on_fail=AlreadyExists("exists"))
    tx.commit()
    ids = [t["coupon_id"] for t in repo.templates(100, None)[0]]
    assert ids.index(newest["coupon_id"]) < ids.index(older["coupon_id"])


def test_issued_coupons_take_their_budget_and_count_against_the_users_limit(repo):
    template = _added(repo, [3, 2])
    user = uid("u")
    coupons = _issue(repo, template, user, 2, [[0, 1], [1, 1]])
    assert repo.budget(template["coupon_id"], 2) == {0: 2, 1: 1}
    assert repo.received(template["coupon_id"], user) == 2
    held = repo.user_coupons(user, [c["coupon"] for c in coupons])
    assert sorted(c["coupon"] for c in held) == sorted(c["coupon"] for c in coupons)
    assert {c["amount_off_fen"] for c in held} == {1000}
    listed = [c["coupon"] for c in repo.page(user, 10, None)[0]]
    assert listed == sorted((c["coupon"] for c in coupons), reverse=True), (
        "highest id first: the shop's coupon ids begin with the time of issue"
    )


def test_a_coupon_past_the_users_limit_is_refused_and_nothing_is_taken(services, repo):
    template = _added(repo, [3, 2], per_user_limit=2)
    user = uid("u")
    _issue(repo, template, user, 1)
    extra = [_coupon(template, user) for _ in range(2)]
    tx = repo.begin()
    repo.issue(tx, template, user, extra, [[0, 2]], on_limit=CouponLimit("over the limit"))
    with pytest.raises(CouponLimit):
        tx.commit()
    assert repo.budget(template["coupon_id"], 2) == {0: 2, 1: 2}
    assert repo.received(template["coupon_id"], user) == 1
    assert stored(services.table, *(user_coupon_key(user, c["coupon"]) for c in extra)) == []


def test_more_coupons_than_the_limit_at_once_are_refused_for_a_new_user_too(services, repo):
    template = _added(repo, [3, 2], per_user_limit=2)
    user = uid("u")
    with pytest.raises(CouponLimit):
        _issue(repo, template, user, 3)
    assert stored(services.table, received_key(template["coupon_id"], user)) == []
    assert repo.budget(template["coupon_id"], 2) == {0: 3, 1: 2}


def test_a_shard_short_of_the_coupons_is_a_lost_race_and_issues_nothing(services, repo):
    template = _added(repo, [3, 2], per_user_limit=5)
    user = uid("u")
    with pytest.raises(LostRace):
        _issue(repo, template, user, 3, [[1, 3]])
    assert repo.budget(template["coupon_id"], 2) == {0: 3, 1: 2}
    assert repo.received(template["coupon_id"], user) == 0
    assert repo.page(user, 10, None)[0] == []


def test_a_grants_ref_is_recorded_once(repo):
    template = _added(repo)
    cid, ref = template["coupon_id"], uid("ref")
    record = {"coupon_id": cid, "ref": ref, "user_id": uid("u"), "coupon": uid("uc"), "granted_at": T0}
    _one(repo, "record_grant", cid, ref, record, on_replay=Replay)
    with pytest.raises(Replay):
        _one(repo, "record_grant", cid, ref, {**record, "user_id": uid("u")}, on_replay=Replay)
    assert repo.grant(cid, ref) == record
    assert repo.grant(cid, uid("ref")) is None


def test_a_coupon_is_used_by_one_order_and_given_back_by_that_order_only(repo):
    template = _added(repo)
    user = uid("u")
    (coupon,) = _issue(repo, template, user)
    c = coupon["coupon"]
    _use(repo, user, c, "o-1")
    with pytest.raises(LostRace):
        _use(repo, user, c, "o-2")
    with pytest.raises(LostRace):
        _one(repo, "give_back", user, c, "o-2")
    assert repo.user_coupon(user, c)["order_id"] == "o-1"
    _one(repo, "give_back", user, c, "o-1")
    freed = repo.user_coupon(user, c)
    assert "order_id" not in freed and "used_at" not in freed
    _use(repo, user, c, "o-2")
    assert repo.user_coupon(user, c)["order_id"] == "o-2"


def test_an_expired_a_revoked_or_a_missing_coupon_cannot_be_used(repo):
    template = _added(repo)
    user = uid("u")
    expired, revoked = (c["coupon"] for c in _issue(repo, template, user, 2, [[0, 2]]))
    with pytest.raises(LostRace):
        _use(repo, user, expired, "o-1", AFTER_EXPIRY)
    _one(repo, "revoke", template["coupon_id"], user, [revoked], [[0, 1]], T1, on_used=LostRace)
    with pytest.raises(LostRace):
        _use(repo, user, revoked, "o-1")
    with pytest.raises(LostRace):
        _use(repo, user, uid("uc"), "o-1")
    assert "order_id" not in repo.user_coupon(user, expired)
    assert repo.user_coupon(user, uid("uc")) is None


def test_revoking_unused_coupons_returns_their_budget_and_lowers_the_count(repo):
    template = _added(repo, [3, 2])
    user = uid("u")
    coupons = [c["coupon"] for c in _issue(repo, template, user, 2, [[0, 1], [1, 1]])]
    _one(repo, "revoke", template["coupon_id"], user, coupons, [[0, 1], [1, 1]], T1, on_used=LostRace)
    assert repo.budget(template["coupon_id"], 2) == {0: 3, 1: 2}
    assert repo.received(template["coupon_id"], user) == 0
    assert {c["revoked_at"] for c in repo.user_coupons(user, coupons)} == {T1}


class Used(Exception):
    """The `on_used` error of these tests."""


def test_a_used_coupon_is_not_revoked_and_nothing_of_the_revoke_is_written(repo):
    template = _added(repo, [3, 2])
    user = uid("u")
    unused, used = (c["coupon"] for c in _issue(repo, template, user, 2, [[0, 2]]))
    _use(repo, user, used, "o-1")
    with pytest.raises(Used):
        _one(repo, "revoke", template["coupon_id"], user, [unused, used], [[0, 2]], T1, on_used=Used)
    assert "revoked_at" not in repo.user_coupon(user, unused)
    assert repo.budget(template["coupon_id"], 2) == {0: 1, 1: 2}
    assert repo.received(template["coupon_id"], user) == 2


def test_a_coupon_whose_purchase_was_refunded_in_use_is_revoked_when_its_order_lets_it_go(repo):
    template = _added(repo, [3, 2])
    user = uid("u")
    (coupon,) = _issue(repo, template, user, 1, [[1, 1]])
    c = coupon["coupon"]
    with pytest.raises(LostRace):  # only a coupon some order is using is marked
        _one(repo, "mark_purchase_refunded", user, c, 1, T1)
    _use(repo, user, c, "o-1")
    _one(repo, "mark_purchase_refunded", user, c, 1, T1)
    with pytest.raises(LostRace):  # marked: the using order cannot simply free it
        _one(repo, "give_back", user, c, "o-1")
    marked = repo.user_coupon(user, c)
    with pytest.raises(LostRace):  # only the order that uses it lets it go
        _one(repo, "revoke_freed", marked, "o-2", T1)
    _one(repo, "revoke_freed", marked, "o-1", T1)
    final = repo.user_coupon(user, c)
    assert final["revoked_at"] == T1 and "order_id" not in final
    assert repo.budget(template["coupon_id"], 2) == {0: 3, 1: 2}
    assert repo.received(template["coupon_id"], user) == 0
    with pytest.raises(LostRace):
        _use(repo, user, c, "o-2")


def test_keys_are_where_the_contract_says(services, repo):
    template = _added(repo, [1])
    user = uid("u")
    (coupon,) = _issue(repo, template, user)
    cid = template["coupon_id"]
    assert services.table.get(template_key(cid))["gsi2pk"] == "COUPON"
    assert services.table.get(received_key(cid, user))["count"] == 1
    assert services.table.get(user_coupon_key(user, coupon["coupon"]))["user_id"] == user
    assert stored(services.table, grant_key(cid, "none")) == []
