"""Discovery: search and sorted listings answered from the index (a DynamoDB Query per token), the index kept by a
stream consumer (SearchIndexer, off the request path), units sold counted for `popular`, synonyms and search stats."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import zlib
from typing import Any, Callable, Optional

from chalicelib import logs
from chalicelib.adapters.catalog_repo import CatalogRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.pseudonyms import Pseudonyms
from chalicelib.adapters.search_repo import SearchRepository, Stale
from chalicelib.bootstrap import no_collection
from chalicelib.domain import search as rules
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.home import most_sold
from chalicelib.domain.points import shanghai_day
from chalicelib.services.catalog import public_view

log = logs.get("search")
SOLD = ("paid", "partially_shipped", "shipped")  # an order in any of these has sold its units (counted once)
UNSOLD = ("refunded", "cancelled")  # ... and in these, gave them back (taken out once, if they were counted)
Audit = Callable[[Transaction, str, str, str, Any, Any, str], None]


class SearchService:
    def __init__(
        self,
        repo: SearchRepository,
        catalog: CatalogRepository,
        cursors: CursorCodec,
        clock: Clock,
        names: Pseudonyms,
        tier_of: Callable[[str], str],
        audit: Audit,
        synonyms_ttl_s: float = 60,
    ) -> None:
        self._repo = repo
        self._catalog = catalog
        self._cursors = cursors
        self._clock = clock
        self._names = names
        self._tier_of = tier_of
        self.tier_of = tier_of
        self._audit = audit
        self._ttl = synonyms_ttl_s
        self._synonyms: tuple[float, list[list[str]]] = (-1e18, [])

    # -- shoppers -----------------------------------------------------------------------------------
    def search(self, query: rules.SearchQuery, user_id: Optional[str]) -> rules.SearchPage:
        plan = rules.plan(query.q, self.synonyms())
        with no_collection():
            postings = {token: self._repo.postings(token) for token in plan.tokens}
            found = rules.matches(plan, postings)
            page = self._page(found, query, f"search|{' '.join(rules.terms(query.q))}", user_id)
        if query.cursor is None:  # a search, counted once however many pages the shopper reads
            normalised = " ".join(rules.terms(query.q))[: rules.MAX_QUERY]
            day = shanghai_day(self._clock.now())
            try:  # a count that cannot be written never fails the search it counts
                self._repo.count_search(rules.stats_shard(random.getrandbits(16)), day, normalised, bool(page.items))
            except Exception:
                log.warning("a search could not be counted", exc_info=True)
        return page

    def listed(self, query: rules.ListQuery, user_id: Optional[str]) -> rules.SearchPage:
        """GET /products with a `sort`: every active product (in its category) from the index's `*` token."""
        category, pay = query.category, query.pay
        with no_collection():
            found = [
                rules.Match(f)
                for _, f in self._repo.postings(rules.ALL).values()
                if (category is None or f.category == category) and rules.pays(f, pay)
            ]
            return self._page(found, query, "products", user_id)

    def newest(
        self, category: Optional[str], limit: int, cursor: Optional[str], user_id: Optional[str]
    ) -> rules.SearchPage:
        """GET /products without a sort: active products newest-created first, from the catalog's own listing."""
        scope = f"products|active|{category or '*'}"
        items, last = self._catalog.page("active", category, limit, self._cursors.decode(cursor, scope))
        tier = self._tier_of(user_id) if user_id else None
        return rules.SearchPage(
            items=[self.view(p, tier) for p in items], next_cursor=self._cursors.encode(last, scope)
        )

    def _page(self, found: list[rules.Match], q: Any, scope: str, user_id: Optional[str]) -> rules.SearchPage:
        sort = q.sort or "new"
        scope = f"{scope}|{q.category or '*'}|{sort}|{q.pay or '*'}|{int(q.in_stock)}"
        found = [
            m for m in found if (q.category is None or m.facts.category == q.category) and rules.pays(m.facts, q.pay)
        ]
        if sort == "popular":
            units = self._repo.popular()
            for m in found:
                m.units = units.get(m.facts.product_id, 0)
        ordered = rules.ranked(found, sort, self._after(q.cursor, scope))
        tier = self._tier_of(user_id) if user_id else None
        items: list[rules.Listed] = []
        last: Optional[rules.Match] = None
        taken = 0
        # A page reads at most MAX_EXAMINED products (sold out or archived ones skipped): then it ends short, with a
        # cursor after the last one read, and the next page goes on from there.
        while len(items) < q.limit and taken < min(len(ordered), rules.MAX_EXAMINED):
            want = q.limit - len(items)
            exact = taken == 0 and not q.in_stock  # usually nothing is skipped: read just the page
            size = min(rules.MAX_EXAMINED - taken, want if exact else max(2 * want, 25))
            chunk = ordered[taken : taken + size]
            taken += len(chunk)
            products = {p["product_id"]: p for p in self._catalog.get_products([m.facts.product_id for m in chunk])}
            for m in chunk:
                product = products.get(m.facts.product_id)
                last = m
                if not product or not rules.indexed(product):
                    continue  # archived a moment ago: the index follows within seconds
                if q.in_stock and not any(s["stock"] > 0 for s in product["skus"]):
                    continue
                items.append(self.view(product, tier))
                if len(items) == q.limit:
                    break
        more = last is not None and ordered[-1] is not last
        cursor = (
            self._cursors.encode({"sk": json.dumps(list(rules.sort_key(last, sort)))}, scope) if more and last else None
        )
        return rules.SearchPage(items=items, next_cursor=cursor)

    def _after(self, cursor: Optional[str], scope: str) -> Optional[tuple[int, int, str]]:
        start = self._cursors.decode(cursor, scope)
        if start is None:
            return None
        try:
            first, published, product_id = json.loads(start["sk"])
            if isinstance(first, int) and isinstance(published, int) and isinstance(product_id, str):
                return (first, published, product_id)
        except (KeyError, ValueError, TypeError):
            pass
        raise InvalidRequest("cursor is not valid for this listing", {"fields": {"cursor": "invalid cursor"}})

    def view(self, product: dict[str, Any], tier: Optional[str]) -> rules.Listed:
        """A product in a list, for a caller of `tier` (None: no token)."""
        view = public_view(product, self._names).model_dump()
        eligible = None if tier is None else (not product.get("owner_only") or tier == "owner")
        return rules.Listed(**view, rating=rules.rating(product), eligible=eligible)

    # -- merchandisers ----------------------------------------------------------------------------------
    def synonyms(self, fresh: bool = False) -> list[list[str]]:
        """The synonym groups, read at most once a `synonyms_ttl_s` per container (or now, if `fresh`)."""
        fetched, groups = self._synonyms
        if fresh or time.monotonic() - fetched >= self._ttl:
            groups = self._repo.synonyms()
            self._synonyms = (time.monotonic(), groups)
        return groups

    def put_synonyms(self, actor: str, body: rules.Synonyms) -> rules.SynonymGroups:
        try:
            groups = rules.synonym_groups(body)
        except ValueError as exc:
            raise InvalidRequest(str(exc), {"fields": {"groups": str(exc)}}) from None
        now = iso(self._clock.now())
        before = self._repo.synonyms()
        self._repo.put_synonyms(
            groups,
            lambda tx: self._audit(
                tx, actor, "search.synonyms", "synonyms", {"groups": before}, {"groups": groups}, now
            ),
        )
        self._synonyms = (time.monotonic(), groups)
        return rules.SynonymGroups(groups=groups)

    def stats(self, days: int) -> rules.SearchStats:
        today = self._clock.now()
        first = shanghai_day(today - dt.timedelta(days=days - 1))
        rows, complete = self._repo.search_counts(first, shanghai_day(today))
        searches, top, zero = rules.top_queries(rows)
        return rules.SearchStats(days=days, searches=searches, top=top, zero_results=zero, complete=complete)


def _pypinyin() -> rules.Pinyin:
    """Loaded by the index consumer only (never in the API's cold start)."""
    from pypinyin import Style, lazy_pinyin

    return lambda run: lazy_pinyin(run, style=Style.NORMAL, errors="ignore")


class SearchIndexer:
    """What the stream consumers and the sales ranking do: a product's postings, an order's units, the ranking."""

    def __init__(self, repo: SearchRepository, clock: Clock, pinyin: Optional[rules.Pinyin] = None) -> None:
        self._repo = repo
        self._clock = clock
        self._pinyin = pinyin

    def index(self, product: dict[str, Any]) -> bool:
        """Index the product as this image shows it (an active one under its tokens, any other under none); an image
        older than the one indexed last is skipped. True if the index changed."""
        if self._pinyin is None:
            self._pinyin = _pypinyin()
        manifest = self._repo.manifest(product["product_id"]) or {"postings": {}, "version": -1}
        version = int(product.get("version", 0))
        if version < int(manifest["version"]):
            return False
        tokens = rules.product_tokens(product, self._pinyin) if rules.indexed(product) else {}
        facts = rules.facts(product) if tokens else None
        before = manifest["postings"]
        if manifest.get("pending"):  # a write stopped half-way: none of what it lists is trusted
            before = {t: "" for t in before}
        try:
            self._repo.write_index(product["product_id"], tokens, facts, before, version)
        except Stale:
            return False
        return True

    def load(self, products: list[dict[str, Any]]) -> int:
        """The first index of products none of which is indexed (SearchRepository.load); how many are in it."""
        if self._pinyin is None:
            self._pinyin = _pypinyin()
        pinyin = self._pinyin
        indexed = [
            (p["product_id"], rules.product_tokens(p, pinyin), rules.facts(p), int(p.get("version", 0)))
            for p in products
            if rules.indexed(p)
        ]
        self._repo.load(indexed)
        return len(indexed)

    def count_sale(self, order: dict[str, Any]) -> bool:
        """An order that has sold: its units by product into the day it sold, once; a refunded or cancelled one
        that was counted: its units taken back out of that day, once."""
        units: dict[str, int] = {}
        for line in order.get("lines") or []:
            units[line["product_id"]] = units.get(line["product_id"], 0) + int(line["qty"])
        if not units:
            return False
        shard = zlib.crc32(order["order_id"].encode()) % rules.SALES_SHARDS  # a bestseller's orders spread
        if order.get("status") in UNSOLD:
            return self._repo.uncount_sale(order["order_id"], shard, units)
        moment = dt.datetime.fromisoformat(order["updated_at"].replace("Z", "+00:00"))
        return self._repo.count_sale(order["order_id"], shanghai_day(moment), shard, units)

    def rank_popular(self) -> int:
        """Units sold per product over the last 30 Shanghai days (today included), as one ranking item."""
        now = self._clock.now()
        days = [shanghai_day(now - dt.timedelta(days=n)) for n in range(rules.POPULAR_DAYS)]
        units = {p: n for p, n in self._repo.units_sold(days).items() if n > 0}
        self._repo.put_popular(units, most_sold(units, 24), iso(now))
        return len(units)
