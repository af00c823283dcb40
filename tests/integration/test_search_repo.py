"""The search index on DynamoDB Local: postings set and removed product by product (the consumer's way) agree with a
whole index written at once, every write can be repeated, and an older image never undoes a newer one."""

from __future__ import annotations

import pytest

from chalicelib.adapters.search_repo import BUCKETS, SearchRepository, Stale
from chalicelib.domain import search as rules
from chalicelib.services.search import SearchIndexer
from tests.conftest import make_container
from tests.unit.test_search_rules import DASHCAM, UMBRELLA, pinyin


def indexer(services) -> tuple[SearchIndexer, SearchRepository]:
    repo = SearchRepository(services.table)
    return SearchIndexer(repo, services.clock, pinyin), repo


def everything(repo: SearchRepository, products) -> dict[str, dict]:
    tokens = {t for p in products for t in rules.product_tokens(p, pinyin)}
    return {t: repo.postings(t) for t in sorted(tokens)}


def test_product_by_product_and_all_at_once_write_the_same_index(services, endpoints):
    products = [{**UMBRELLA, "version": 1}, {**DASHCAM, "version": 1}]
    one, one_repo = indexer(services)
    for p in products:
        assert one.index(p)
    other_services = make_container(endpoints)
    other, other_repo = indexer(other_services)
    assert other.load(products) == 2
    assert everything(one_repo, products) == everything(other_repo, products)
    assert set(one_repo.postings(rules.ALL)) == {"umbrella", "dashcam"}
    assert one_repo.postings("z:伞")["umbrella"][0] == rules.WEIGHT["title"]


def test_an_edit_moves_the_postings_and_an_archive_removes_them_all(services):
    index, repo = indexer(services)
    index.index({**UMBRELLA, "version": 1})
    index.index({**UMBRELLA, "title_zh": "月光伞", "version": 2})
    assert "umbrella" not in repo.postings("z:星空") and "umbrella" in repo.postings("z:月光")
    assert "umbrella" in repo.postings("z:伞")
    index.index({**UMBRELLA, "title_zh": "月光伞", "status": "archived", "version": 3})
    assert all("umbrella" not in repo.postings(t) for t in rules.product_tokens(UMBRELLA, pinyin))
    assert repo.manifest("umbrella")["postings"] == {}


def test_a_redelivered_older_image_changes_nothing_and_a_repeat_is_harmless(services):
    index, repo = indexer(services)
    index.index({**UMBRELLA, "version": 1})
    index.index({**UMBRELLA, "title": "Moonlit Umbrella", "version": 2})
    assert not index.index({**UMBRELLA, "version": 1})  # the stream delivers an older record again
    assert "umbrella" in repo.postings("w:moonlit") and "umbrella" not in repo.postings("w:starry")
    before = everything(repo, [UMBRELLA, {**UMBRELLA, "title": "Moonlit Umbrella"}])
    assert index.index({**UMBRELLA, "title": "Moonlit Umbrella", "version": 2})  # the same image again
    assert everything(repo, [UMBRELLA, {**UMBRELLA, "title": "Moonlit Umbrella"}]) == before


def test_a_price_change_rewrites_what_the_postings_carry(services):
    index, repo = indexer(services)
    index.index({**UMBRELLA, "version": 1})
    cheaper = {**UMBRELLA, "skus": [{"sku": "NL-UMB-01", "price_fen": 5000}], "version": 2}
    index.index(cheaper)
    assert repo.postings("w:umbrella")["umbrella"][1].points == 500


def test_a_token_on_many_products_is_spread_over_its_buckets(services):
    index, repo = indexer(services)
    products = [{**UMBRELLA, "product_id": f"umbrella-{n}", "version": 1} for n in range(40)]
    index.load(products)
    items = services.dynamodb.query(
        TableName=services.table.name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SRCH#w:umbrella"}},
    )["Items"]
    assert len(items) == BUCKETS
    assert sum(len(i["m"]["M"]) for i in items) == 40
    assert len(repo.postings("w:umbrella")) == 40


def test_a_write_that_stopped_half_way_is_redone_whole_by_the_next(services, monkeypatch):
    index, repo = indexer(services)
    index.index({**UMBRELLA, "version": 1})
    calls = {"n": 0}
    real = repo._set

    def fails_after_ten(*args):
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("the consumer's Lambda timed out")
        real(*args)

    monkeypatch.setattr(repo, "_set", fails_after_ten)
    moved = {**UMBRELLA, "title_zh": "月光伞", "skus": [{"sku": "NL-UMB-01", "price_fen": 5000}], "version": 2}
    try:
        index.index(moved)
    except RuntimeError:
        pass
    assert repo.manifest("umbrella")["pending"] is True
    monkeypatch.setattr(repo, "_set", real)
    index.index(moved)  # the stream delivers the record again
    assert "pending" not in repo.manifest("umbrella")
    assert all(repo.postings(t)["umbrella"][1].points == 500 for t in rules.product_tokens(moved, pinyin))
    assert "umbrella" not in repo.postings("z:星空")


def test_an_older_version_never_overwrites_a_newer_one_in_the_index(services):
    index, repo = indexer(services)
    index.index({**UMBRELLA, "title": "Moonlit Umbrella", "version": 3})
    # the race: an older writer got past its first check before the newer one finished
    with pytest.raises(Stale):
        repo.write_index("umbrella", {"w:starry": 10}, rules.facts(UMBRELLA), {}, 2)
    assert repo.manifest("umbrella")["version"] == 3 and "umbrella" not in repo.postings("w:starry")
