"""MerchantPaymentRepository against DynamoDB Local: one live code per shopper (stored by its hash), a code that pays
once and only before it expires, refunds checked against the refunded points as read, statements added once per
payment or refund, settlements read across months; and reconcile flags what does not add up."""

from __future__ import annotations

import secrets
from typing import Any, Optional

import pytest

from chalicelib.adapters.dynamo import LostRace, Replay
from chalicelib.adapters.merchant_payments_repo import (
    MerchantPaymentRepository,
    Stated,
    code_hash,
    code_key,
    live_code_key,
    payment_key,
    statement_key,
)
from chalicelib.domain.errors import CodeInvalid
from chalicelib.domain.merchants import new_code
from tests.helpers import uid
from tools.reconcile import merchant_differences

pytestmark = pytest.mark.usefixtures("throwaway")  # repositories written alone: not for the final reconcile

NOW = "2026-12-06T04:00:00.000Z"
LATER = "2026-12-06T04:01:00.000Z"


@pytest.fixture
def repo(services) -> MerchantPaymentRepository:
    return MerchantPaymentRepository(services.table)


def _issue(repo: MerchantPaymentRepository, user: str, expires: str = LATER) -> str:
    code = new_code(secrets.randbelow)
    repo.replace_code(user, code, NOW, expires, repo.live_code(user))
    return code


def _payment(merchant: str = "nio-house-sh", points: int = 300, **extra: Any) -> dict[str, Any]:
    return {
        "payment_id": uid("mp"),
        "merchant_id": merchant,
        "user_id": uid("u"),
        "points": points,
        "refunded": 0,
        "reference": "r",
        "description": None,
        "taken_by": "staff",
        "captured_at": NOW,
        **extra,
    }


def _capture(repo, payment, code, now=NOW, request: Optional[dict[str, Any]] = None) -> None:
    tx = repo.begin()
    repo.capture(tx, payment, code, now, request)
    tx.commit()


def test_a_shopper_has_one_live_code_stored_only_by_its_hash(repo, services):
    user = uid("u")
    first = _issue(repo, user)
    second = _issue(repo, user)
    assert repo.code(first) is None and repo.code(second)["user_id"] == user
    assert repo.live_code(user)["code_hash"] == code_hash(second)
    assert services.table.get(live_code_key(user)) == repo.live_code(user)
    raw = services.dynamodb.get_item(TableName=services.table.name, Key=code_key(second))["Item"]
    assert second not in str(raw) and second not in str(repo.live_code(user))
    with pytest.raises(LostRace):  # planned from the first code while the second replaced it
        repo.replace_code(user, new_code(secrets.randbelow), NOW, LATER, {"code_hash": code_hash(first)})
    assert repo.code(second) is not None


def test_ten_thousand_random_guesses_among_fifty_live_codes_find_nothing(repo, services):
    live = {_issue(repo, uid("u")) for _ in range(50)}
    guesses = [new_code(secrets.randbelow) for _ in range(10_000)]
    assert not live & set(guesses)
    found = services.table.batch_get([code_key(g) for g in guesses], consistent=False)
    assert found == []
    assert len(services.table.batch_get([code_key(c) for c in live])) == 50


def test_a_code_pays_once_only_before_it_expires_and_a_key_once(repo):
    user = uid("u")
    code = _issue(repo, user)
    with pytest.raises(CodeInvalid):
        _capture(repo, _payment(), code, now=LATER)  # at its expiry it is worth nothing
    request = {"idempotency_key": "k-00000001", "request_hash": "h", "payment_id": "x", "created_at": NOW}
    first = _payment()
    _capture(repo, first, code, request=request)
    assert repo.code(code) is None and repo.payment(first["payment_id"])["points"] == 300
    with pytest.raises(CodeInvalid):
        _capture(repo, _payment(), code)
    with pytest.raises(Replay):
        _capture(repo, _payment(), _issue(repo, user), request=request)
    assert repo.request("nio-house-sh", "PAY", "k-00000001")["payment_id"] == "x"


def test_a_refund_planned_from_stale_refunded_points_loses_the_race_and_writes_nothing(repo):
    payment = _payment()
    _capture(repo, payment, _issue(repo, uid("u")))
    tx = repo.begin()
    repo.refund(tx, payment, {"refund_id": "mr-1", "payment_id": payment["payment_id"], "points": 100}, None)
    tx.commit()
    tx = repo.begin()
    repo.refund(tx, payment, {"refund_id": "mr-2", "payment_id": payment["payment_id"], "points": 250}, None)
    with pytest.raises(LostRace):
        tx.commit()
    items = repo.with_refunds(payment["payment_id"])
    assert [i["sk"] for i in items] == ["META", "REFUND#mr-1"] and items[0]["refunded"] == 100


def test_statements_add_each_payment_once_and_settlements_read_across_months(repo, services):
    nov = _payment(points=70, captured_at="2026-11-30T15:00:00.000Z")  # 23:00 in Shanghai, November 30
    dec = _payment(points=30, captured_at="2026-11-30T16:00:00.000Z")  # 00:00 on December 1
    other = _payment("swap-station-9", points=5)
    for p in (nov, dec, other):
        _capture(repo, p, _issue(repo, p["user_id"]))  # stated on the Shanghai day of captured_at
    items = services.table.batch_get([payment_key(p["payment_id"]) for p in (nov, dec, other)])
    assert services.merchant_statements.count(items) == 3
    assert services.merchant_statements.count(items) == 0  # a stream delivering them again
    with pytest.raises(Stated):
        repo.state({("nio-house-sh", "2026-12-01"): {"payments": 1}}, items[:1])
    assert repo.statement_days("nio-house-sh", "2026-11-01", "2026-12-31") == {
        "2026-11-30": {"payments": 1, "refunds": 0, "redeemed": 70, "refunded": 0},
        "2026-12-01": {"payments": 1, "refunds": 0, "redeemed": 30, "refunded": 0},
    }
    settled = repo.settlement_days("2026-11-30", "2026-12-06")
    assert {m: sorted(d) for m, d in settled.items()} == {
        "nio-house-sh": ["2026-11-30", "2026-12-01"],
        "swap-station-9": ["2026-12-06"],
    }
    assert repo.settlement_days("2026-12-02", "2026-12-05") == {}


def test_reconcile_flags_a_statement_or_a_payment_that_does_not_add_up(repo, services):
    payment = _payment(points=40)
    _capture(repo, payment, _issue(repo, payment["user_id"]))
    services.merchant_statements.count(services.table.batch_get([payment_key(payment["payment_id"])]))
    problems = [d.describe() for d in merchant_differences(services.dynamodb, services.table)]
    assert len(problems) == 1 and "ledger" in problems[0]  # written alone: the shopper's ledger never saw it
    services.table.client.update_item(
        TableName=services.table.name,
        Key=statement_key("nio-house-sh", "2026-12-06"),
        UpdateExpression="ADD redeemed :x",
        ExpressionAttributeValues={":x": {"N": "1"}},
    )
    services.table.client.update_item(
        TableName=services.table.name,
        Key=payment_key(payment["payment_id"]),
        UpdateExpression="SET refunded = :x",
        ExpressionAttributeValues={":x": {"N": "5"}},
    )
    problems = [d.describe() for d in merchant_differences(services.dynamodb, services.table)]
    assert any("statement" in p for p in problems) and any("refunded 5 of 40" in p for p in problems), problems


def test_reconcile_flags_a_payment_the_stream_never_brought_to_its_statement(repo, services):
    payment = _payment(points=40)
    _capture(repo, payment, _issue(repo, payment["user_id"]))
    late = [d.describe() for d in merchant_differences(services.dynamodb, services.table, "2026-12-07T00:00:00.000Z")]
    assert any(payment["payment_id"] in p and "never in a statement" in p for p in late), late
    early = [d.describe() for d in merchant_differences(services.dynamodb, services.table, "2026-12-06T00:00:00.000Z")]
    assert not any("never in a statement" in p for p in early)  # newer than the cut-off: the stream may bring it
