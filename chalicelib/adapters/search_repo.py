"""DynamoDB repository of discovery (key formats: infra/README.md): the search index (a token's postings in a map on
8 bucket items, each posting carrying what result lists filter and sort on), what each product was last indexed as, the
merchandisers' synonyms, the searches counted per day on shard partitions, and units sold per day on shard
partitions with their 30-day ranking."""

from __future__ import annotations

import functools
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import LostRace, Table, error_code, from_item, key, to_item, to_values
from chalicelib.domain.search import SALES_SHARDS, STATS_SHARDS, Facts

SEARCH = "SEARCH"
BUCKETS = 8  # a token's postings are spread over this many items (each at most ~30 KB at 5,000 products)
WRITERS = 8  # a product's posting writes in flight at once (the consumer's, off the request path)


def posting_pk(token: str) -> str:
    return f"SRCH#{token}"


def bucket(product_id: str) -> str:
    return f"{zlib.crc32(product_id.encode()) % BUCKETS:02d}"


def manifest_key(product_id: str) -> dict[str, Any]:
    return key(f"SRCHDOC#{product_id}", "META")


def sales_pk(day: str, shard: int) -> str:
    return f"SALES#{day}#{shard:02d}"


def stats_pk(shard: int) -> str:
    return f"SRCHSTAT#{shard:02d}"


def encode(weight: int, facts: Facts) -> str:
    """A posting as stored in its bucket's map: `weight|category|published|points|pay|owner-only`."""
    return f"{weight}|{facts.category}|{facts.published}|{facts.points}|{facts.pay}|{int(facts.owner_only)}"


def decode_all(values: dict[str, Any]) -> dict[str, tuple[int, Facts]]:
    """A bucket's map as DynamoDB sent it ({product_id: {"S": posting}}), decoded in one pass."""
    out = {}
    for product_id, value in values.items():
        weight, category, published, points, pay, own = value["S"].split("|")
        out[product_id] = (int(weight), Facts(product_id, category, int(published), int(points), pay, own == "1"))
    return out


class Stale(Exception):
    """A newer version of the product was indexed meanwhile: this (older) one is not written over it."""


class SearchRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- the index ------------------------------------------------------------------------------------
    def postings(self, token: str) -> dict[str, tuple[int, Facts]]:
        """{product_id: (weight, facts)} of one token: one Query of its buckets (more pages only past 1 MB, some
        20,000 products). Read as DynamoDB sent them: a posting is one string."""
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": posting_pk(token)}},
        }
        out: dict[str, tuple[int, Facts]] = {}
        while True:
            page = self._table.client.query(**params)
            for item in page.get("Items", []):
                out.update(decode_all((item.get("m") or {}).get("M", {})))
            if "LastEvaluatedKey" not in page:
                return out
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def manifest(self, product_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(manifest_key(product_id))

    def write_index(
        self,
        product_id: str,
        tokens: dict[str, int],
        facts: Optional[Facts],
        before: dict[str, str],
        version: int,
    ) -> int:
        """The product's postings as `tokens` and `facts` say, from what the manifest says was written (`before`:
        token → posting; "" where it is unknown): changed ones set, lost ones removed. The manifest says first that
        a write is under way (every token it may touch, none trusted), then what was written; a write that stops
        half-way is redone whole by the next one. Stale if a newer version was indexed meanwhile. How many postings
        changed."""
        after = {t: encode(w, facts) for t, w in tokens.items()} if facts else {}
        self._manifest(product_id, {**{t: "" for t in before}, **{t: "" for t in after}}, version, pending=True)
        writes: list[Callable[[], None]] = [
            functools.partial(self._set, t, product_id, p) for t, p in after.items() if before.get(t) != p
        ]
        writes += [functools.partial(self._remove, t, product_id) for t in set(before) - set(after)]
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:  # each its own item: no order among them
            list(pool.map(lambda write: write(), writes))
        self._manifest(product_id, after, version, pending=False)
        return len(writes)

    def _manifest(self, product_id: str, postings: dict[str, str], version: int, pending: bool) -> None:
        item = {"pk": f"SRCHDOC#{product_id}", "sk": "META", "postings": postings, "version": version}
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=to_item({**item, **({"pending": True} if pending else {})}),
                ConditionExpression="attribute_not_exists(pk) OR version <= :v",
                ExpressionAttributeValues={":v": {"N": str(version)}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Stale(product_id) from None
            raise

    def _set(self, token: str, product_id: str, posting: str) -> None:
        k = key(posting_pk(token), bucket(product_id))
        update = {
            "TableName": self._table.name,
            "Key": k,
            "UpdateExpression": "SET m.#p = :v",
            "ExpressionAttributeNames": {"#p": product_id},
            "ExpressionAttributeValues": {":v": {"S": posting}},
        }
        try:
            self._table.client.update_item(**update)
        except ClientError as exc:
            if error_code(exc) != "ValidationException":
                raise
            # the bucket is new: make its map, then set (two writers may both make it; if_not_exists keeps one)
            self._table.client.update_item(
                TableName=self._table.name,
                Key=k,
                UpdateExpression="SET m = if_not_exists(m, :empty)",
                ExpressionAttributeValues={":empty": {"M": {}}},
            )
            self._table.client.update_item(**update)

    def _remove(self, token: str, product_id: str) -> None:
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=key(posting_pk(token), bucket(product_id)),
                UpdateExpression="REMOVE m.#p",
                ExpressionAttributeNames={"#p": product_id},
                ConditionExpression="attribute_exists(m)",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # no bucket: nothing to remove

    def load(self, indexed: list[tuple[str, dict[str, int], Facts, int]]) -> None:
        """A whole index at once, for products none of which is indexed yet (a new shop's first index, the bench):
        every bucket item written whole, then the manifests. Not for an index in use: a bucket written whole would
        drop what the consumer set in it meanwhile."""
        buckets: dict[tuple[str, str], dict[str, str]] = {}
        manifests = []
        for product_id, tokens, facts, version in indexed:
            after = {t: encode(w, facts) for t, w in tokens.items()}
            for token, posting in after.items():
                buckets.setdefault((token, bucket(product_id)), {})[product_id] = posting
            manifests.append({"pk": f"SRCHDOC#{product_id}", "sk": "META", "postings": after, "version": version})
        items = [{"pk": posting_pk(t), "sk": b, "m": m} for (t, b), m in buckets.items()] + manifests
        requests = [{"PutRequest": {"Item": to_item(i)}} for i in items]
        chunks = [requests[start : start + 500] for start in range(0, len(requests), 500)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._batch_write, chunks))

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self._table.name: requests[start : start + 25]}
            for attempt in range(10):
                pending = self._table.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.02 * 2**attempt)
            if pending:
                raise RuntimeError("the index could not be written")

    # -- synonyms ---------------------------------------------------------------------------------------
    def synonyms(self) -> list[list[str]]:
        item = self._table.get(key(SEARCH, "SYNONYMS"))
        return (item or {}).get("groups", [])

    def put_synonyms(self, groups: list[list[str]], tx_audit: Any) -> None:
        tx = self._table.transaction()
        tx.put({"pk": SEARCH, "sk": "SYNONYMS", "groups": groups})
        tx_audit(tx)
        tx.commit()

    # -- searches counted ---------------------------------------------------------------------------------
    def count_search(self, shard: int, day: str, q: str, found: bool) -> None:
        """One search of `q`: a counter on one of STATS_SHARDS partitions (a popular query is written everywhere)."""
        self._table.client.update_item(
            TableName=self._table.name,
            Key=key(stats_pk(shard), f"{day}#{q}"),
            UpdateExpression="ADD n :one, zero :zero",
            ExpressionAttributeValues=to_values({":one": 1, ":zero": 0 if found else 1}),
        )

    def search_counts(self, first: str, last: str) -> tuple[list[tuple[str, int, int]], bool]:
        """(query, searches, zero-result searches) per shard and day from day `first` to `last`, and whether that is
        all of them: one Query page (1 MB) per shard, so a flood of distinct queries cannot make it unbounded."""
        rows, complete = [], True
        for shard in range(STATS_SHARDS):
            page = self._table.client.query(
                TableName=self._table.name,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues=to_values({":pk": stats_pk(shard), ":a": first, ":b": f"{last}#\uffff"}),
            )
            complete = complete and "LastEvaluatedKey" not in page
            for item in (from_item(i) for i in page.get("Items", [])):
                rows.append((item["sk"][11:], int(item.get("n", 0)), int(item.get("zero", 0))))
        return rows, complete

    # -- units sold, for `popular` --------------------------------------------------------------------------
    def count_sale(self, order_id: str, day: str, shard: int, units: dict[str, int]) -> bool:
        """Add an order's units to its day's shard, once: False if the order was counted already."""
        tx = self._table.transaction()
        tx.create({"pk": f"SALESMARK#{order_id}", "sk": "META", "day": day})
        for product_id, n in sorted(units.items()):
            tx.update(key(sales_pk(day, shard), product_id), "ADD units :n", {":n": n})
        try:
            tx.commit()
        except LostRace:  # the mark exists: counted by an earlier delivery
            return False
        return True

    def uncount_sale(self, order_id: str, shard: int, units: dict[str, int]) -> bool:
        """Take a refunded order's units back out of the day they were counted in, once: False if they were never
        counted or were taken out already."""
        mark = self._table.get(key(f"SALESMARK#{order_id}", "META"))
        if not mark:
            return False
        tx = self._table.transaction()
        tx.create({"pk": f"SALESMARK#{order_id}", "sk": "REVERSED", "day": mark["day"]})
        for product_id, n in sorted(units.items()):
            tx.update(key(sales_pk(mark["day"], shard), product_id), "ADD units :n", {":n": -n})
        try:
            tx.commit()
        except LostRace:
            return False
        return True

    def units_sold(self, days: list[str]) -> dict[str, int]:
        """Units per product over `days`: one Query per day and shard."""
        units: dict[str, int] = {}
        for day in days:
            for shard in range(SALES_SHARDS):
                params = {
                    "KeyConditionExpression": "pk = :pk",
                    "ExpressionAttributeValues": to_values({":pk": sales_pk(day, shard)}),
                }
                for item in self._table.query_all(params):
                    units[item["sk"]] = units.get(item["sk"], 0) + int(item["units"])
        return units

    def put_popular(self, units: dict[str, int], top: list[str], at: str) -> None:
        """The ranking `sort=popular` reads (every product's units) and the short list the home reads."""
        for item in ({"sk": "POPULAR", "units": units}, {"sk": "POPULAR#TOP", "top": top}):
            self._table.client.put_item(TableName=self._table.name, Item=to_item({"pk": SEARCH, **item, "at": at}))

    def popular_top(self) -> list[str]:
        """The products that sold most over 30 days, most first (at most 24; one small GetItem)."""
        out = self._table.client.get_item(TableName=self._table.name, Key=key(SEARCH, "POPULAR#TOP"))
        return list(from_item(out["Item"]).get("top", [])) if "Item" in out else []

    def popular(self) -> dict[str, int]:
        """The last ranking's units sold over 30 days, by product (one GetItem, eventually consistent)."""
        out = self._table.client.get_item(TableName=self._table.name, Key=key(SEARCH, "POPULAR"))
        return from_item(out["Item"]).get("units", {}) if "Item" in out else {}
