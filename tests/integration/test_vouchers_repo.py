"""VoucherRepository against DynamoDB Local: codes added once in the whole shop with the SKU's stock, listed while
unsold, sold to one order, put back on sale or voided by that order only."""

from __future__ import annotations

import pytest

from chalicelib.adapters.catalog_repo import CatalogRepository, sku_key
from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.vouchers_repo import MAX_TRANSACTION_CODES, VoucherRepository
from chalicelib.domain.errors import NotAvailable
from tests.helpers import uid
from tests.integration.builders import T0, audit, product

# Repositories written alone leave what the shop writes with them unwritten: not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")

T1 = "2024-05-01T09:00:00.000Z"


class NotVoucher(NotAvailable):
    """The `not_voucher` error these tests hand to `add`, told apart from anything else it could raise."""


@pytest.fixture
def vouchers(services) -> VoucherRepository:
    return services.voucher_repo


def _sku(services, kind: str = "voucher") -> str:
    sku = uid("V").upper()
    p = product(kind=kind, skus=[{"sku": sku, "attributes": {}, "price_fen": 2000, "stock": 0}])
    CatalogRepository(services.table).create(p, audit(services, p["product_id"]))
    return sku


def _add(services, sku: str, codes: list[str], at: str = T0) -> int:
    def audited(tx, count: int) -> None:
        services.audit_repo.record(tx, "merch-t", "sku.codes", sku, None, {"added": count}, at)

    return services.voucher_repo.add(sku, codes, at, not_voucher=NotVoucher("not a voucher"), audit=audited)


def _codes(n: int) -> list[str]:
    return [uid("CODE").upper() for _ in range(n)]


def _sku_counts(services, sku: str) -> tuple[int, int]:
    item = services.table.get(sku_key(sku))
    return item["stock"], item.get("codes_total", 0)


def _uploads(services, sku: str) -> list[int]:
    """The `added` count of each audit entry of a code upload to `sku`, oldest first."""
    entries = services.audit_repo.page(100, None)[0]
    return sorted(e["after"]["added"] for e in entries if e["action"] == "sku.codes" and e["entity_id"] == sku)


def _sell(services, sku: str, codes: list[str], order_id: str) -> None:
    """One order's transaction taking `codes`."""
    tx = services.table.transaction()
    for code in codes:
        services.voucher_repo.sell(tx, sku, code, order_id, T1)
    tx.commit()


def _change(services, method: str, sku: str, code: str, order_id: str, at: str = T1) -> None:
    """`unsell` or `void` of one code, in a transaction of its own."""
    tx = services.table.transaction()
    getattr(services.voucher_repo, method)(tx, sku, code, order_id, at)
    tx.commit()


def test_added_codes_read_back_unsold_and_raise_the_skus_stock(services, vouchers):
    sku = _sku(services)
    codes = _codes(3)
    assert _add(services, sku, codes) == 3
    for code in codes:
        item = vouchers.get(code)
        assert (item["sku"], item["code"], item["added_at"]) == (sku, code, T0)
        assert "order_id" not in item and "void_at" not in item
    assert _sku_counts(services, sku) == (3, 3)
    assert vouchers.existing(codes + ["NEVER-ADDED"]) == set(codes)
    assert sorted(vouchers.unsold(sku, 10)) == sorted(codes)
    assert _uploads(services, sku) == [3]


def test_a_code_the_shop_has_on_any_sku_is_skipped_and_stays_where_it_was(services, vouchers):
    first, second = _sku(services), _sku(services)
    shared, mine, new = _codes(3)
    assert _add(services, first, [shared, mine]) == 2
    assert _add(services, second, [shared, new]) == 1
    assert (vouchers.get(shared)["sku"], vouchers.get(new)["sku"]) == (first, second)
    assert _sku_counts(services, first) == (2, 2)
    assert _sku_counts(services, second) == (1, 1)
    assert _uploads(services, second) == [1], "the attempt that met the duplicate wrote nothing, not even its audit"
    assert vouchers.unsold(second, 10) == [new]


def test_an_upload_of_only_known_codes_adds_nothing_and_writes_nothing(services, vouchers):
    sku = _sku(services)
    codes = _codes(2)
    _add(services, sku, codes)
    assert _add(services, sku, list(reversed(codes))) == 0
    assert _sku_counts(services, sku) == (2, 2)
    assert _uploads(services, sku) == [2]


def test_an_upload_spans_several_transactions_each_with_its_audit_entry(services, vouchers):
    sku = _sku(services)
    codes = _codes(2 * MAX_TRANSACTION_CODES + 4)
    assert _add(services, sku, codes) == len(codes)
    assert _sku_counts(services, sku) == (len(codes), len(codes))
    assert _uploads(services, sku) == [4, MAX_TRANSACTION_CODES, MAX_TRANSACTION_CODES]
    assert vouchers.existing(codes) == set(codes)


@pytest.mark.parametrize("kind", ["physical", "missing"])
def test_codes_for_a_sku_that_is_no_voucher_raise_not_voucher_and_store_nothing(services, vouchers, kind):
    sku = _sku(services, "physical") if kind == "physical" else uid("GONE").upper()
    codes = _codes(2)
    with pytest.raises(NotVoucher):
        _add(services, sku, codes)
    assert vouchers.existing(codes) == set()
    assert _uploads(services, sku) == []
    if kind == "physical":
        assert _sku_counts(services, sku) == (0, 0)
    else:
        assert services.table.get(sku_key(sku)) is None


def test_unsold_picks_distinct_codes_of_its_own_sku_only(services, vouchers):
    sku, other = _sku(services), _sku(services)
    codes = _codes(12)
    _add(services, sku, codes)
    _add(services, other, _codes(3))
    picked = vouchers.unsold(sku, 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(codes)
    assert vouchers.unsold(uid("NONE").upper(), 3) == []


def test_a_sold_code_belongs_to_its_order_and_leaves_the_unsold_list(services, vouchers):
    sku = _sku(services)
    sold, kept = _codes(2)
    _add(services, sku, [sold, kept])
    order_id = uid("o")
    _sell(services, sku, [sold], order_id)
    item = vouchers.get(sold)
    assert (item["order_id"], item["sold_at"]) == (order_id, T1)
    assert vouchers.unsold(sku, 10) == [kept]


def test_a_code_sold_to_one_order_is_not_sold_to_another_and_the_other_takes_nothing(services, vouchers):
    sku = _sku(services)
    contested, free = _codes(2)
    _add(services, sku, [contested, free])
    first = uid("o")
    _sell(services, sku, [contested], first)
    with pytest.raises(LostRace):
        _sell(services, sku, [free, contested], uid("o"))
    assert vouchers.get(contested)["order_id"] == first
    assert "order_id" not in vouchers.get(free)
    assert vouchers.unsold(sku, 10) == [free]


@pytest.mark.parametrize("case", ["another sku", "unknown code"])
def test_selling_a_code_that_is_not_of_the_sku_loses_the_race(services, vouchers, case):
    sku, other = _sku(services), _sku(services)
    code = _codes(1)[0]
    _add(services, other, [code])
    sold = code if case == "another sku" else uid("NOPE").upper()
    with pytest.raises(LostRace):
        _sell(services, sku, [sold], uid("o"))
    assert vouchers.get(code).get("order_id") is None
    assert vouchers.unsold(other, 10) == [code]
    if case == "unknown code":
        assert vouchers.get(sold) is None, "a failed sell must not create the code"


def test_unsell_puts_the_code_back_on_sale_only_for_its_own_order(services, vouchers):
    sku = _sku(services)
    code = _codes(1)[0]
    _add(services, sku, [code])
    order_id = uid("o")
    _sell(services, sku, [code], order_id)
    with pytest.raises(LostRace):
        _change(services, "unsell", sku, code, uid("o"))
    assert vouchers.get(code)["order_id"] == order_id and vouchers.unsold(sku, 10) == []
    _change(services, "unsell", sku, code, order_id)
    item = vouchers.get(code)
    assert "order_id" not in item and "sold_at" not in item
    assert vouchers.unsold(sku, 10) == [code]
    _sell(services, sku, [code], uid("o"))  # and sells again


def test_a_void_code_stays_with_its_order_and_off_sale(services, vouchers):
    sku = _sku(services)
    code = _codes(1)[0]
    _add(services, sku, [code])
    order_id = uid("o")
    _sell(services, sku, [code], order_id)
    with pytest.raises(LostRace):
        _change(services, "void", sku, code, uid("o"))
    assert "void_at" not in vouchers.get(code)
    _change(services, "void", sku, code, order_id, "2024-05-02T10:00:00.000Z")
    item = vouchers.get(code)
    assert (item["order_id"], item["void_at"]) == (order_id, "2024-05-02T10:00:00.000Z")
    assert vouchers.unsold(sku, 10) == []
    with pytest.raises(LostRace):
        _sell(services, sku, [code], uid("o"))


def test_voiding_or_unselling_an_unsold_code_loses_the_race(services, vouchers):
    sku = _sku(services)
    code = _codes(1)[0]
    _add(services, sku, [code])
    for method in ("void", "unsell"):
        with pytest.raises(LostRace):
            _change(services, method, sku, code, uid("o"))
    item = vouchers.get(code)
    assert "void_at" not in item and "order_id" not in item
    assert vouchers.unsold(sku, 10) == [code]


def test_a_void_code_is_never_put_back_on_sale(services, vouchers):
    sku = _sku(services)
    code = _codes(1)[0]
    _add(services, sku, [code])
    order_id = uid("o")
    _sell(services, sku, [code], order_id)
    _change(services, "void", sku, code, order_id)
    with pytest.raises(LostRace):
        _change(services, "unsell", sku, code, order_id)
    assert vouchers.unsold(sku, 10) == []
