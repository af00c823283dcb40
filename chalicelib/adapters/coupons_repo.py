"""DynamoDB repository of coupons (key formats: infra/README.md): a template with its budget spread over shard
items, one grant record per ref, a per-user count of coupons received, and each coupon a user holds, kept in the
user's partition so checkout reads it in the same BatchGetItem as the profile."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key

COUPON_PARTITION = "COUPON"  # templates, newest first on gsi2


def template_key(coupon_id: str) -> dict[str, Any]:
    return key(f"COUPON#{coupon_id}", "META")


def budget_key(coupon_id: str, shard: int) -> dict[str, Any]:
    """One shard of a template's budget (`left`): coupons still to issue from it."""
    return key(f"CPNBUDGET#{coupon_id}#{shard:02d}", "META")


def grant_key(coupon_id: str, ref: str) -> dict[str, Any]:
    return key(f"COUPON#{coupon_id}", f"GRANT#{ref}")


def received_key(coupon_id: str, user_id: str) -> dict[str, Any]:
    """How many coupons of a template a user received (`count`), against its per-user limit."""
    return key(f"CPNUSER#{coupon_id}#{user_id}", "META")


def user_coupon_key(user_id: str, coupon: str) -> dict[str, Any]:
    return key(f"USER#{user_id}", f"COUPON#{coupon}")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk") and not k.startswith("gsi")}


class CouponRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    # -- templates -------------------------------------------------------------------------------
    def add(self, tx: Transaction, template: dict[str, Any], shards: list[int], *, on_fail: OnFail) -> None:
        cid = template["coupon_id"]
        tx.create(
            {
                "pk": f"COUPON#{cid}",
                "sk": "META",
                **template,
                "gsi2pk": COUPON_PARTITION,
                "gsi2sk": f"{template['created_at']}#{cid}",
            },
            on_fail=on_fail,
        )
        for shard, left in enumerate(shards):
            tx.create(
                {"pk": f"CPNBUDGET#{cid}#{shard:02d}", "sk": "META", "coupon_id": cid, "shard": shard, "left": left}
            )

    def template(self, coupon_id: str) -> Optional[dict[str, Any]]:
        item = self._table.get(template_key(coupon_id))
        return _plain(item) if item else None

    def templates(
        self, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self._table.page("gsi2", COUPON_PARTITION, limit, start)
        return [_plain(i) for i in items], last

    def budget(self, coupon_id: str, shards: int) -> dict[int, int]:
        """What each budget shard has left (one BatchGetItem)."""
        return {i["shard"]: i["left"] for i in self._table.batch_get([budget_key(coupon_id, n) for n in range(shards)])}

    # -- issuing ---------------------------------------------------------------------------------
    def issue(
        self,
        tx: Transaction,
        template: dict[str, Any],
        user_id: str,
        coupons: list[dict[str, Any]],
        shards: list[list[int]],
        *,
        on_limit: OnFail,
    ) -> None:
        """`coupons` for `user_id`, taken from the budget `shards` ([[shard, count], ...]; a shard short of them is a
        lost race) and counted against the user's limit (`on_limit` past it)."""
        cid, count = template["coupon_id"], len(coupons)
        for shard, n in shards:
            tx.update(
                budget_key(cid, shard),
                "ADD #left :neg",
                {":neg": -n, ":n": n},
                condition="#left >= :n",
                names={"#left": "left"},
            )
        tx.update(
            received_key(cid, user_id),
            "ADD #count :n",
            {":n": count, ":room": template["per_user_limit"] - count, ":zero": 0},
            condition="(attribute_not_exists(#count) AND :room >= :zero) OR #count <= :room",
            names={"#count": "count"},
            on_fail=on_limit,
        )
        for coupon in coupons:
            tx.create({"pk": f"USER#{user_id}", "sk": f"COUPON#{coupon['coupon']}", **coupon})

    def record_grant(
        self, tx: Transaction, coupon_id: str, ref: str, record: dict[str, Any], *, on_replay: OnFail
    ) -> None:
        tx.create({"pk": f"COUPON#{coupon_id}", "sk": f"GRANT#{ref}", **record}, on_fail=on_replay)

    def grant(self, coupon_id: str, ref: str) -> Optional[dict[str, Any]]:
        item = self._table.get(grant_key(coupon_id, ref))
        return _plain(item) if item else None

    def received(self, coupon_id: str, user_id: str) -> int:
        return (self._table.get(received_key(coupon_id, user_id)) or {}).get("count", 0)

    def revoke(
        self,
        tx: Transaction,
        cid: str,
        user_id: str,
        coupons: list[str],
        shards: list[list[int]],
        at: str,
        *,
        on_used: OnFail,
    ) -> None:
        """Take back unused coupons (the order that bought them was cancelled or refunded): each must still be
        unused (`on_used` otherwise); their budget returns to `shards` and the user's count goes down."""
        for coupon in coupons:
            tx.update(
                user_coupon_key(user_id, coupon),
                "SET revoked_at = :at",
                {":at": at},
                condition="attribute_exists(pk) AND attribute_not_exists(order_id) AND "
                "attribute_not_exists(revoked_at)",
                on_fail=on_used,
            )
        for shard, n in shards:
            tx.update(
                budget_key(cid, shard),
                "ADD #left :n",
                {":n": n},
                condition="attribute_exists(pk)",
                names={"#left": "left"},
            )
        tx.update(
            received_key(cid, user_id),
            "ADD #count :neg",
            {":neg": -len(coupons)},
            condition="attribute_exists(pk)",
            names={"#count": "count"},
        )

    # -- a user's coupons ------------------------------------------------------------------------
    def user_coupon(self, user_id: str, coupon: str) -> Optional[dict[str, Any]]:
        item = self._table.get(user_coupon_key(user_id, coupon))
        return _plain(item) if item else None

    def user_coupons(self, user_id: str, coupons: list[str]) -> list[dict[str, Any]]:
        return [_plain(i) for i in self._table.batch_get([user_coupon_key(user_id, c) for c in coupons])]

    def page(
        self, user_id: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self._table.query_page(f"USER#{user_id}", "COUPON#", limit, start)
        return [_plain(i) for i in items], last

    def use(
        self, tx: Transaction, user_id: str, coupon: str, order_id: str, at: str, on_fail: OnFail = LostRace
    ) -> None:
        """The coupon goes to this order only: unused, not taken back, not expired at `at`."""
        tx.update(
            user_coupon_key(user_id, coupon),
            "SET order_id = :o, used_at = :at",
            {":o": order_id, ":at": at},
            condition="attribute_exists(pk) AND attribute_not_exists(order_id) AND "
            "attribute_not_exists(revoked_at) AND expires_at > :at",
            on_fail=on_fail,
        )

    def give_back(self, tx: Transaction, user_id: str, coupon: str, order_id: str) -> None:
        """The order that used the coupon ended without being paid for, or was cancelled: the coupon is free again
        (usable while it has not expired), unless the order that bought it was refunded meanwhile (LostRace: the
        re-read finds it marked, and `revoke_freed` takes it back instead)."""
        tx.update(
            user_coupon_key(user_id, coupon),
            "REMOVE order_id, used_at",
            {":o": order_id},
            condition="order_id = :o AND attribute_not_exists(purchase_refunded_at)",
        )

    def mark_purchase_refunded(self, tx: Transaction, user_id: str, coupon: str, shard: int, at: str) -> None:
        """The order that bought the coupon was refunded while another order uses it: it stays with that order,
        and is taken back (its budget to `shard`) when that order lets it go. LostRace if it was freed meanwhile
        (the re-read revokes it at once)."""
        tx.update(
            user_coupon_key(user_id, coupon),
            "SET purchase_refunded_at = :at, refund_shard = :shard",
            {":at": at, ":shard": shard},
            condition="attribute_exists(order_id) AND attribute_not_exists(revoked_at)",
        )

    def revoke_freed(self, tx: Transaction, coupon: dict[str, Any], order_id: str, at: str) -> None:
        """The order using a coupon whose purchase was refunded lets it go: revoked, never usable again; its budget
        returns and the user's count goes down, as for any coupon taken back."""
        user_id, cid = coupon["user_id"], coupon["coupon_id"]
        tx.update(
            user_coupon_key(user_id, coupon["coupon"]),
            "SET revoked_at = :at REMOVE order_id, used_at",
            {":at": at, ":o": order_id},
            condition="order_id = :o AND attribute_exists(purchase_refunded_at)",
        )
        tx.update(
            budget_key(cid, coupon["refund_shard"]),
            "ADD #left :one",
            {":one": 1},
            condition="attribute_exists(pk)",
            names={"#left": "left"},
        )
        tx.update(
            received_key(cid, user_id),
            "ADD #count :neg",
            {":neg": -1},
            condition="attribute_exists(pk)",
            names={"#count": "count"},
        )
