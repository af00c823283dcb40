"""OrderRepository against DynamoDB Local: orders with their idempotency records, optimistic saves, stock and
the work lists (payment windows, refunds)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.catalog_repo import CatalogRepository, sku_key
from chalicelib.adapters.dynamo import LostRace, Replay
from chalicelib.adapters.orders_repo import order_key
from chalicelib.adapters.users_repo import new_profile
from chalicelib.domain.checkout import SkuOffer
from chalicelib.domain.orders import Payment
from tests.helpers import uid
from tests.integration.builders import audit, line, order, product, stored

PAYMENT = Payment(
    provider="local", payment_intent_id="pi_local_1", client_secret="secret_1", status="requires_payment_method"
)


def _add(repo, o, request_hash: str = "h1") -> None:
    tx = repo.begin()
    repo.add(tx, o, request_hash, on_replay=Replay)
    tx.commit()


def _save(repo, after, expected) -> None:
    tx = repo.begin()
    repo.save(tx, after, expected=expected)
    tx.commit()


def _sku(services, stock: int, status: str = "active") -> str:
    p = product(status=status)
    p["skus"][0]["stock"] = stock
    CatalogRepository(services.table).create(p, audit(services, p["product_id"]))
    return p["skus"][0]["sku"]


def _stock(services, sku: str) -> int:
    return services.table.get(sku_key(sku))["stock"]


def test_an_order_reads_back_as_written_with_its_bookkeeping_kept_in_storage(services):
    repo = services.order_repo
    lines = [line(uid("SKU").upper(), qty=2), line(uid("SKU").upper(), designer_id="u-designer", design_id="d-1")]
    placed = order(lines=lines, payment=PAYMENT, expires_at="2024-05-01T08:15:00.000Z")
    _add(repo, placed, "hash-1")
    read = repo.get(placed.order_id)
    assert read.model_dump() == placed.model_dump()
    assert (read.version, read.idempotency_key) == (1, placed.idempotency_key)
    raw = services.table.get(order_key(placed.order_id))
    assert (raw["version"], raw["idempotency_key"]) == (1, placed.idempotency_key)
    assert "version" not in read.model_dump() and "idempotency_key" not in read.model_dump()
    assert repo.idempotency(placed.user_id, placed.idempotency_key)["order_id"] == placed.order_id


def test_an_idempotency_key_used_before_replays_and_the_second_order_is_not_written(services):
    repo = services.order_repo
    first = order()
    _add(repo, first, "hash-1")
    again = order(first.user_id, idempotency_key=first.idempotency_key)
    with pytest.raises(Replay):
        _add(repo, again, "hash-2")
    assert repo.get(again.order_id) is None
    record = repo.idempotency(first.user_id, first.idempotency_key)
    assert (record["order_id"], record["request_hash"]) == (first.order_id, "hash-1")
    _add(repo, order(uid("u"), idempotency_key=first.idempotency_key))  # the key is the shopper's own


def test_saving_from_a_stale_order_loses_the_race(services):
    repo = services.order_repo
    placed = order(expires_at="2024-05-01T08:15:00.000Z")
    _add(repo, placed)
    read = repo.get(placed.order_id)
    _save(repo, read.model_copy(update={"status": "paid", "updated_at": "2024-05-01T08:05:00.000Z"}), read)
    with pytest.raises(LostRace):
        _save(repo, read.model_copy(update={"status": "cancelled"}), read)
    now = repo.get(placed.order_id)
    assert (now.status, now.version) == ("paid", 2)


def test_overdue_lists_pending_orders_whose_window_closed_oldest_first(services):
    repo = services.order_repo
    late = order(expires_at="2024-05-01T08:10:00.000Z")
    later = order(expires_at="2024-05-01T08:12:00.000Z")
    open_ = order(expires_at="2024-05-01T09:00:00.000Z")
    paid = order(status="paid")
    for o in (later, open_, paid, late):
        _add(repo, o)
    assert repo.overdue("2024-05-01T08:30:00.000Z") == [late.order_id, later.order_id]
    assert repo.overdue("2024-05-01T08:30:00.000Z", limit=1) == [late.order_id]
    read = repo.get(late.order_id)
    _save(repo, read.model_copy(update={"status": "paid"}), read)
    assert repo.overdue("2024-05-01T08:30:00.000Z") == [later.order_id]


def test_refunds_due_lists_unconfirmed_cash_refunds_until_marked_refunded(services):
    repo = services.order_repo
    placed = order(status="paid", payment=PAYMENT.model_copy(update={"status": "succeeded"}))
    _add(repo, placed)
    read = repo.get(placed.order_id)
    assert repo.refunds_due("2024-05-01T09:00:00.000Z") == []
    cancelled = read.model_copy(
        update={
            "status": "cancelled",
            "updated_at": "2024-05-01T08:20:00.000Z",
            "payment": PAYMENT.model_copy(update={"status": "refund_pending"}),
        }
    )
    _save(repo, cancelled, read)
    assert repo.refunds_due("2024-05-01T08:20:00.000Z") == []  # not older than the bound yet
    assert repo.refunds_due("2024-05-01T09:00:00.000Z") == [placed.order_id]
    repo.mark_refunded(placed.order_id, "re_1")
    assert repo.refunds_due("2024-05-01T09:00:00.000Z") == []
    payment = repo.get(placed.order_id).payment
    assert (payment.status, payment.refund_id) == ("refunded", "re_1")


def test_order_listings_are_newest_first_and_page_on(services):
    repo = services.order_repo
    user = uid("u")
    mine = [order(user, at=f"2024-05-0{d}T08:00:00.000Z") for d in (1, 3, 2)]
    for o in mine + [order(at="2024-05-04T08:00:00.000Z")]:
        _add(repo, o)
    first, start = repo.page(None, user, 2, None)
    rest, end = repo.page(None, user, 2, start)
    assert [o.created_at[:10] for o in first + rest] == ["2024-05-03", "2024-05-02", "2024-05-01"]
    assert end is None and all(o.version == 1 for o in first + rest)
    assert [o.user_id for o in repo.page("pending_payment", None, 10, None)[0]].count(user) == 3


def test_taking_more_than_the_stock_loses_the_race_and_takes_nothing(services):
    repo = services.order_repo
    plenty, scarce = _sku(services, 10), _sku(services, 1)
    tx = repo.begin()
    repo.take_stock(tx, [line(plenty, qty=3), line(scarce, qty=2)], _read(repo, plenty, scarce))
    with pytest.raises(LostRace):
        tx.commit()
    assert (_stock(services, plenty), _stock(services, scarce)) == (10, 1)


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_taking_stock_of_a_sku_not_on_sale_loses_the_race(services, status):
    repo = services.order_repo
    sku = _sku(services, 10, status="draft")
    if status == "archived":
        services.table.client.update_item(
            TableName=services.table.name,
            Key=sku_key(sku),
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "archived"}},
        )
    tx = repo.begin()
    repo.take_stock(tx, [line(sku, qty=1)], _read(repo, sku))
    with pytest.raises(LostRace):
        tx.commit()
    assert _stock(services, sku) == 10


def test_taking_stock_of_a_deleted_sku_loses_the_race(services):
    tx = services.order_repo.begin()
    gone = uid("GONE").upper()
    services.order_repo.take_stock(tx, [line(gone)], {gone: _offer(gone)})
    with pytest.raises(LostRace):
        tx.commit()


def test_stock_is_taken_and_given_back_skipping_skus_deleted_since(services):
    repo = services.order_repo
    kept, deleted = _sku(services, 5), _sku(services, 5)
    lines = [line(kept, qty=2), line(deleted, qty=3)]
    tx = repo.begin()
    repo.take_stock(tx, lines, _read(repo, kept, deleted))
    tx.commit()
    assert (_stock(services, kept), _stock(services, deleted)) == (3, 2)
    services.table.client.delete_item(TableName=services.table.name, Key=sku_key(deleted))
    tx = repo.begin()
    repo.give_back_stock(tx, lines)
    tx.commit()
    assert _stock(services, kept) == 5
    assert stored(services.table, sku_key(deleted)) == []


def test_taking_stock_on_terms_that_changed_since_the_read_loses_the_race(services):
    repo = services.order_repo
    sku = _sku(services, 10)
    read = _read(repo, sku)
    product = CatalogRepository(services.table).get_product(read[sku].product_id)
    after = {**product, "owner_only": True, "skus": [{**s, "price_fen": s["price_fen"] * 2} for s in product["skus"]]}
    CatalogRepository(services.table).replace(product, after, lambda tx: None)  # a merchandiser's edit
    tx = repo.begin()
    repo.take_stock(tx, [line(sku, qty=1)], read)
    with pytest.raises(LostRace):
        tx.commit()
    assert _stock(services, sku) == 10
    assert _read(repo, sku)[sku].terms_version == read[sku].terms_version + 1


def _read(repo, *skus):
    return repo.checkout_reads(uid("u"), None, list(skus)).skus


def _offer(sku):
    return SkuOffer(sku=sku, product_id="p", title="t", category="home", status="active", price_fen=10, stock=1)


def test_a_payment_is_attached_once(services):
    repo = services.order_repo
    placed = order()
    _add(repo, placed)
    repo.attach_payment(placed.order_id, PAYMENT)
    repo.attach_payment(placed.order_id, PAYMENT.model_copy(update={"payment_intent_id": "pi_other"}))
    assert repo.get(placed.order_id).payment == PAYMENT


def test_checkout_reads_the_profile_the_idempotency_record_and_the_skus_at_once(services):
    repo = services.order_repo
    sku = _sku(services, 4)
    placed = order()
    _add(repo, placed, "hash-9")
    services.user_repo.create_if_absent(new_profile(placed.user_id, placed.created_at))
    reads = repo.checkout_reads(placed.user_id, placed.idempotency_key, [sku, uid("NOPE").upper()])
    assert reads.profile.user_id == placed.user_id
    assert reads.idempotency["request_hash"] == "hash-9"
    offer = reads.skus[sku]
    assert (list(reads.skus), offer.stock, offer.price_fen, offer.status) == ([sku], 4, 19900, "active")
