"""Discovery's pure rules: tokens of a product, lookups of a query, matching and ranking."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain import search as rules

# A stand-in for pypinyin (the consumer's tokeniser): one syllable per character.
SYLLABLES = {"星": "xing", "空": "kong", "伞": "san", "行": "xing", "车": "che", "记": "ji", "录": "lu", "仪": "yi"}
SYLLABLES |= {"双": "shuang", "镜": "jing", "头": "tou", "雨": "yu"}


def pinyin(run: str) -> list[str]:
    return [SYLLABLES.get(ch, "") for ch in run]


def product(pid: str, title: str, title_zh: str, **more) -> dict:
    base = {
        "product_id": pid,
        "title": title,
        "title_zh": title_zh,
        "category": "travel",
        "status": "active",
        "created_at": "2026-11-01T00:00:00Z",
        "skus": [{"sku": f"{pid.upper()}-01", "price_fen": 9900}],
        "accepts": {"points": True, "cash": True},
        "tags": [],
        "description": "",
    }
    return {**base, **more}


UMBRELLA = product(
    "umbrella", "Starry Sky Umbrella", "星空伞", tags=["rain-gear"], skus=[{"sku": "NL-UMB-01", "price_fen": 19900}]
)
DASHCAM = product("dashcam", "Dual Dash Camera", "双镜头行车记录仪", description="Records 4K while you drive.")
CATALOG = [UMBRELLA, DASHCAM]


def search(q: str, synonyms=()) -> list[rules.Match]:
    plan = rules.plan(q, synonyms)
    index: dict[str, dict[str, tuple[int, rules.Facts]]] = {}
    for p in CATALOG:
        for token, weight in rules.product_tokens(p, pinyin).items():
            index.setdefault(token, {})[p["product_id"]] = (weight, rules.facts(p))
    return rules.ranked(rules.matches(plan, {t: index.get(t, {}) for t in plan.tokens}), "relevance", None)


def found(q: str, synonyms=()) -> list[str]:
    return [m.facts.product_id for m in search(q, synonyms)]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("伞", ["umbrella"]),  # one Chinese character
        ("星空", ["umbrella"]),
        ("记录仪", ["dashcam"]),  # a substring in the middle
        ("行车记录", ["dashcam"]),
        ("UMBR", ["umbrella"]),  # an English prefix, any case
        ("ｕｍｂｒｅｌｌａ", ["umbrella"]),  # full-width
        ("xingkong", ["umbrella"]),  # pinyin in full
        ("xks", ["umbrella"]),  # initials
        ("jiluyi", ["dashcam"]),
        ("NL-UMB-01", ["umbrella"]),  # a SKU code
        ("rain", ["umbrella"]),  # a tag word
        ("4k", ["dashcam"]),  # a description word
        ("sky 伞", ["umbrella"]),  # every term must match
        ("sky 记录仪", []),
        ("雨伞", []),
    ],
)
def test_a_query_finds_what_a_shopper_means(q, expected):
    assert found(q) == expected


def test_a_synonym_finds_what_its_group_finds():
    assert found("雨伞", [["雨伞", "umbrella"]]) == ["umbrella"]
    assert found("brolly", [["brolly", "starry sky"]]) == ["umbrella"]


def test_an_exact_title_ranks_above_a_title_word_above_a_description_word():
    CATALOG.append(product("camera-bag", "Camera", "相机包"))
    CATALOG.append(product("tripod", "Tripod", "三脚架", description="for any camera"))
    try:
        assert found("camera") == ["camera-bag", "dashcam", "tripod"]
        scores = {m.facts.product_id: m.score for m in search("camera")}
        assert scores["camera-bag"] >= rules.EXACT > scores["dashcam"] > scores["tripod"]
    finally:
        del CATALOG[2:]


def test_a_long_query_looks_up_at_most_the_budget_and_says_what_it_left_out():
    plan = rules.plan(" ".join(f"w{n}" for n in range(30)))
    assert len(plan.tokens) <= rules.MAX_LOOKUPS + 1
    assert plan.ignored and plan.ignored[-1] == "w29"
    assert rules.plan("双镜头行车记录仪").tokens == ["x:双镜头行车记录仪", "z:双镜", "z:头行", "z:车记", "z:录仪"]


def test_an_archived_draft_or_ticket_product_has_no_tokens_to_be_found_by():
    assert rules.indexed(UMBRELLA)
    assert not rules.indexed({**UMBRELLA, "status": "archived"})
    assert not rules.indexed({**UMBRELLA, "status": "draft"})
    assert not rules.indexed({**UMBRELLA, "category": "events"})


def test_sorts_and_their_ties_give_a_stable_order():
    a = rules.Match(rules.Facts("a", "food", 100, 50, "pc", False), score=10, units=3)
    b = rules.Match(rules.Facts("b", "food", 200, 20, "p", False), score=10, units=9)
    c = rules.Match(rules.Facts("c", "food", 200, 90, "c", True), score=20, units=0)

    def ids(sort):
        return [m.facts.product_id for m in rules.ranked([a, b, c], sort, None)]

    assert ids("relevance") == ["c", "b", "a"]  # a tie on score: newer first
    assert ids("new") == ["b", "c", "a"]
    assert ids("popular") == ["b", "a", "c"]
    assert ids("points_asc") == ["b", "a", "c"]
    assert ids("points_desc") == ["c", "a", "b"]
    after = rules.sort_key(b, "points_asc")
    assert [m.facts.product_id for m in rules.ranked([a, b, c], "points_asc", after)] == ["a", "c"]


def test_pay_filters_by_what_a_product_accepts():
    points, cash, both = (rules.Facts("x", "food", 0, 1, pay, False) for pay in ("p", "c", "pc"))
    assert [rules.pays(f, "points") for f in (points, cash, both)] == [True, False, True]
    assert [rules.pays(f, "cash") for f in (points, cash, both)] == [False, True, True]
    assert [rules.pays(f, "points_cash") for f in (points, cash, both)] == [False, False, True]


@pytest.mark.parametrize("q", ["", "x" * 65, "!!!", "🌂🌂", "a\x00b", "伞\u202e"])
def test_a_query_without_anything_searchable_or_with_control_characters_is_refused(q):
    with pytest.raises(ValidationError) as caught:
        rules.SearchQuery(q=q)
    assert caught.value.errors()[0]["loc"] == ("q",)


def test_sql_or_regex_syntax_is_searched_as_its_words():
    assert rules.terms("'; DROP TABLE products; --") == ["drop", "table", "products"]
    assert rules.terms(".*[a-z]+") == ["a", "z"]


def test_synonym_groups_are_normalised_and_a_group_of_one_is_refused():
    assert rules.synonym_groups(rules.Synonyms(groups=[["雨伞", " Umbrella ", "umbrella"]])) == [["雨伞", "umbrella"]]
    with pytest.raises(ValueError, match="names one thing"):
        rules.synonym_groups(rules.Synonyms(groups=[["Umbrella", "umbrella"]]))
    with pytest.raises(ValueError, match="no letter"):
        rules.synonym_groups(rules.Synonyms(groups=[["umbrella", "!!"]]))


def test_top_queries_add_up_over_shards_and_days():
    searches, top, zero = rules.top_queries([("伞", 3, 0), ("伞", 2, 0), ("xyz", 4, 4), ("camera", 1, 0)])
    assert searches == 10
    assert [(t.q, t.count) for t in top] == [("伞", 5), ("xyz", 4), ("camera", 1)]
    assert [(t.q, t.count) for t in zero] == [("xyz", 4)]


def test_a_rating_is_an_average_to_one_decimal():
    assert rules.rating({}).model_dump() == {"average": None, "count": 0}
    assert rules.rating({"rating_sum": 14, "rating_count": 3}).model_dump() == {"average": 4.7, "count": 3}
    assert rules.rating({"rating_sum": 9, "rating_count": 2}).model_dump() == {"average": 4.5, "count": 2}


def test_a_long_pasted_title_is_searched_by_its_beginning_never_by_nothing():
    pasted = "".join(chr(0x4E00 + 7 * n) for n in range(40))  # more bigrams than one query may look up
    plan = rules.plan(pasted)
    assert len(plan.terms) == 1 and len(plan.tokens) == rules.MAX_LOOKUPS + 1
    CATALOG.append(product("long", "Long", pasted))
    try:
        assert found(pasted) == ["long"]
    finally:
        del CATALOG[2:]


def test_synonyms_never_crowd_out_the_query_itself():
    many = [["伞", "折叠晴雨两用伞", "自动开合防风伞", "黑胶防晒太阳伞", "umbrella"]]
    plan = rules.plan("sky 伞", many)
    assert [t.text for t in plan.terms] == ["sky", "伞"] and plan.ignored == ()
    assert ("z:伞",) in plan.terms[1].alternatives and len(plan.tokens) <= rules.MAX_LOOKUPS + 1
    assert found("sky 伞", many) == ["umbrella"]
    assert found("伞", [["伞", "x" * 60]]) == ["umbrella"]


def test_a_synonym_longer_than_a_query_once_normalised_is_refused():
    with pytest.raises(ValueError, match="longer than 64"):
        rules.synonym_groups(rules.Synonyms(groups=[["㍿" * 17, "company"]]))  # each ㍿ is 株式会社
