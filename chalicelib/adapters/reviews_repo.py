"""DynamoDB repository of reviews (key formats: infra/README.md): the review, its order line's claim (one review
per line), helpful votes (one per user), and the product's rating on RATING_SHARDS shard items."""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, error_code, key, move_status, to_values
from chalicelib.domain.reviews import RATING_SHARDS, shard_of

HELPFUL_DIGITS = 10  # sort keys compare as text: helpful counts are zero-padded


def review_key(review_id: str) -> dict[str, Any]:
    return key(f"REVIEW#{review_id}", "META")


def rating_key(product_id: str, shard: int) -> dict[str, Any]:
    return key(f"PRODUCT#{product_id}", f"RATING#{shard:02d}")


def listing(product_id: Optional[str] = None, sort: str = "new", status: Optional[str] = None,
            user_id: Optional[str] = None) -> tuple[str, str]:  # fmt: skip
    """(index, partition) of a listing: a product's public reviews by date or helpfulness, the moderation queue
    by status, an author's own."""
    if user_id:
        return "gsi3", f"REVIEWS#U#{user_id}"
    if status:
        return "gsi2", f"REVIEWS#S#{status}"
    return ("gsi4", f"REVIEWS#H#{product_id}") if sort == "helpful" else ("gsi1", f"REVIEWS#P#{product_id}")


def _index_keys(review: dict[str, Any]) -> dict[str, Any]:
    made = f"{review['created_at']}#{review['review_id']}"
    keys: dict[str, Any] = {
        "gsi2pk": f"REVIEWS#S#{review['status']}",
        "gsi2sk": made,
        "gsi3pk": f"REVIEWS#U#{review['user_id']}",
        "gsi3sk": made,
    }
    if review["status"] == "approved" and not review.get("excluded"):
        decided = f"{review['decided_at']}#{review['review_id']}"
        keys.update(
            gsi1pk=f"REVIEWS#P#{review['product_id']}",
            gsi1sk=decided,
            gsi4pk=f"REVIEWS#H#{review['product_id']}",
            gsi4sk=f"{int(review.get('helpful', 0)):0{HELPFUL_DIGITS}d}#{decided}",
        )
    return keys


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk") and not k.startswith("gsi")}


class ReviewRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def begin(self) -> Transaction:
        return self.table.transaction()

    def get(self, review_id: str) -> Optional[dict[str, Any]]:
        item = self.table.get(review_key(review_id))
        return _shown(item) if item else None

    def reviews_of_order(self, order_id: str) -> list[str]:
        """The reviews of an order's lines (at most one a line; an order has at most 50 lines)."""
        items, _ = self.table.query_page(f"REVIEWLINE#{order_id}", "SKU#", 100, None)
        return [i["review_id"] for i in items]

    def add(self, tx: Transaction, review: dict[str, Any], *, on_repeat: OnFail) -> None:
        """A new review, and its order line's claim: one review per line (`on_repeat` for a second)."""
        tx.create(
            {"pk": f"REVIEWLINE#{review['order_id']}", "sk": f"SKU#{review['sku']}", "review_id": review["review_id"]},
            on_fail=on_repeat,
        )
        tx.create({"pk": f"REVIEW#{review['review_id']}", "sk": "META", **review, **_index_keys(review)})

    def move(self, tx: Transaction, before: dict[str, Any], changes: dict[str, Any], *, on_fail: OnFail) -> None:
        """Change the review only if it still has the status it was read with (an update: helpful votes ADD)."""
        after = {**before, **changes}
        sets = {**changes, **_index_keys(after)}
        removed = [k for k in ("gsi1pk", "gsi1sk", "gsi4pk", "gsi4sk") if k not in sets]
        move_status(tx, review_key(before["review_id"]), before["status"], sets, removed, on_fail=on_fail)

    def exclude(self, tx: Transaction, review: dict[str, Any], at: str) -> None:
        """Mark a review of a refunded order excluded (out of the public lists), from the status it was read with."""
        after = {**review, "excluded": True, "excluded_at": at}
        removed = [k for k in ("gsi1pk", "gsi1sk", "gsi4pk", "gsi4sk") if k not in _index_keys(after)]
        tx.update(
            review_key(review["review_id"]),
            "SET excluded = :yes, excluded_at = :at" + (" REMOVE " + ", ".join(removed) if removed else ""),
            {":yes": True, ":at": at, ":from": review["status"]},
            condition="#st = :from AND attribute_not_exists(excluded)",
            names={"#st": "status"},
            on_fail=LostRace,
        )

    def count_rating(self, tx: Transaction, product_id: str, review_id: str, rating: int, sign: int) -> None:
        """Add (sign 1) or take out (sign -1) one rating on the product's shard for this review."""
        tx.update(
            rating_key(product_id, shard_of(review_id)),
            "ADD #sum :r, #count :n",
            {":r": sign * rating, ":n": sign},
            names={"#sum": "sum", "#count": "count"},
        )

    def show_rating(self, product_id: str, total: int, count: int) -> bool:
        """Copy a rating onto the product item unless it shows it already (its version moves with it)."""
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=key(f"PRODUCT#{product_id}", "META"),
                UpdateExpression="SET rating_sum = :s, rating_count = :c ADD version :one",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(rating_sum) OR rating_sum <> :s OR rating_count <> :c)",
                ExpressionAttributeValues=to_values({":s": total, ":c": count, ":one": 1}),
            )
            return True
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False

    def rating_shards(self, product_id: str) -> list[dict[str, Any]]:
        """The product's rating shards (one Query)."""
        items, _ = self.table.query_page(f"PRODUCT#{product_id}", "RATING#", RATING_SHARDS, None)
        return items

    def helpful(self, tx: Transaction, review: dict[str, Any], user_id: str, at: str, *, on_repeat: OnFail) -> None:
        """One helpful vote per user; the review's count moves from the value read (its sort key depends on it)."""
        tx.create({"pk": f"REVIEW#{review['review_id']}", "sk": f"HELPFUL#{user_id}", "at": at}, on_fail=on_repeat)
        after = {**review, "helpful": int(review.get("helpful", 0)) + 1}
        keys = _index_keys(after)
        tx.update(
            review_key(review["review_id"]),
            "SET helpful = :new, gsi4sk = :sk",
            {
                ":new": after["helpful"],
                ":old": int(review.get("helpful", 0)),
                ":sk": keys.get("gsi4sk", "-"),
                ":approved": "approved",
            },  # fmt: skip
            condition="helpful = :old AND #st = :approved",
            names={"#st": "status"},
            on_fail=LostRace,
        )

    def page(
        self, index: str, partition: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self.table.page(index, partition, limit, start)
        return [_shown(i) for i in items], last
