"""DynamoDB repository of points red envelopes: the envelope, its share shards and one claim item per claimant
(key formats: infra/README.md).

A claim writes only its shard (one of K, each its own partition), its own claim item and the claimant's account;
the envelope item is read, and written once more only by the claim of the largest share and by the expiry sweep.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key
from chalicelib.adapters.users_repo import profile_key
from chalicelib.domain.envelopes import LISTING_PARTITIONS, Shard, Terms, listing_partition

EXPIRY_PARTITIONS = 8  # the expiry work list is spread so a burst of new envelopes does not meet one index partition


def envelope_key(envelope_id: str) -> dict[str, Any]:
    return key(f"ENVELOPE#{envelope_id}", "META")


def audience_key(envelope_id: str) -> dict[str, Any]:
    return key(f"ENVELOPE#{envelope_id}", "AUDIENCE")


def idempotency_key(user_id: str, idem_key: str) -> dict[str, Any]:
    return key(f"IDEM#{user_id}", f"ENVKEY#{idem_key}")


def _expiry(envelope_id: str) -> str:
    return f"ENVELOPE#EXPIRY#{int(hashlib.sha256(envelope_id.encode()).hexdigest()[:8], 16) % EXPIRY_PARTITIONS}"


def shard_key(envelope_id: str, shard: int) -> dict[str, Any]:
    return key(f"ENVSHARD#{envelope_id}#{shard:02d}", "META")


def claim_key(envelope_id: str, user_id: str) -> dict[str, Any]:
    return key(f"ENVCLAIM#{envelope_id}#{user_id}", "META")


def _listing(envelope_id: str, partition: int) -> str:
    return f"ENVELOPE#{envelope_id}#C#{partition}"


def to_shard(item: dict[str, Any]) -> Shard:
    return Shard(
        shard=int(item["shard"]),
        amounts=tuple(int(a) for a in item["amounts"]),
        claimed=frozenset(int(i) for i in item.get("claimed", ())),
        taken=int(item.get("taken", 0)),
        swept=bool(item.get("swept")),
    )


def to_terms(envelope: dict[str, Any]) -> Terms:
    """An envelope's unchanging terms, from the envelope as `get` returns it."""
    users = envelope.get("user_ids")
    return Terms(
        envelope_id=envelope["envelope_id"],
        sender_id=envelope["sender_id"],
        audience_kind=envelope["audience_kind"],
        user_ids=tuple(users) if users else None,
        shard_count=int(envelope["shard_count"]),
        luckiest_at=(int(envelope["luckiest_at"][0]), int(envelope["luckiest_at"][1])),
        expires_at=envelope["expires_at"],
    )


def _shards(items: list[dict[str, Any]]) -> list[Shard]:
    return sorted((to_shard(i) for i in items if i["pk"].startswith("ENVSHARD#")), key=lambda s: s.shard)


class EnvelopeRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    # -- reads -------------------------------------------------------------------------------
    def get(self, envelope_id: str) -> Optional[dict[str, Any]]:
        """The envelope, with `user_ids` from its audience item when it names users."""
        found = {i["sk"]: i for i in self._table.batch_get([envelope_key(envelope_id), audience_key(envelope_id)])}
        if "META" not in found:
            return None
        return {**found["META"], "user_ids": found.get("AUDIENCE", {}).get("user_ids")}

    def idempotency(self, user_id: str, idem_key: str) -> Optional[dict[str, Any]]:
        return self._table.get(idempotency_key(user_id, idem_key))

    def shards(
        self, envelope_id: str, count: int, viewer: Optional[str] = None
    ) -> tuple[list[Shard], Optional[dict[str, Any]]]:
        """Every shard of an envelope (in order) and, with `viewer`, their claim: one BatchGetItem."""
        keys = [shard_key(envelope_id, k) for k in range(count)]
        if viewer:
            keys.append(claim_key(envelope_id, viewer))
        items = self._table.batch_get(keys)
        mine = next((i for i in items if i["pk"].startswith("ENVCLAIM#")), None)
        return _shards(items), mine

    def claim_reads(
        self, envelope_id: str, user_id: str, count: int, consistent: bool
    ) -> tuple[Optional[dict[str, Any]], Optional[dict[str, Any]], list[Shard]]:
        """What a claim decides from, in one BatchGetItem: the claimant's profile, their claim if any, and every
        shard (`consistent=False`: half the read capacity; the claim's write conditions catch a stale read)."""
        keys = [profile_key(user_id), claim_key(envelope_id, user_id)] + [
            shard_key(envelope_id, k) for k in range(count)
        ]
        items = self._table.batch_get(keys, consistent)
        profile = next((i for i in items if i["pk"] == f"USER#{user_id}"), None)
        mine = next((i for i in items if i["pk"].startswith("ENVCLAIM#")), None)
        return profile, mine, _shards(items)

    def claim_of(self, envelope_id: str, user_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(claim_key(envelope_id, user_id))

    def recent_claims(self, envelope_id: str, count: int, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` claims, merged from the envelope's listing partitions (one Query each)."""
        pages = [
            self._table.page("gsi2", _listing(envelope_id, p), limit, None)[0]
            for p in range(min(count, LISTING_PARTITIONS))
        ]
        return list(heapq.merge(*pages, key=lambda c: c["gsi2sk"], reverse=True))[:limit]

    def all_claims(self, envelope_id: str, count: int) -> list[dict[str, Any]]:
        """Every claim of an envelope (reconcile)."""
        found: list[dict[str, Any]] = []
        for p in range(min(count, LISTING_PARTITIONS)):
            start = None
            while True:
                items, start = self._table.page("gsi2", _listing(envelope_id, p), 500, start)
                found.extend(items)
                if start is None:
                    break
        return found

    def due(self, now: str) -> list[str]:
        """Envelopes that expired at or before `now` and are not closed yet (one Query per work-list partition)."""
        return [
            i["envelope_id"]
            for p in range(EXPIRY_PARTITIONS)  # '~' sorts after every id
            for i in self._table.due(f"ENVELOPE#EXPIRY#{p}", f"{now}#~")
        ]

    def sent_page(
        self, sender_id: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        return self._table.page("gsi3", f"ENVELOPE#S#{sender_id}", limit, start)

    # -- writes ------------------------------------------------------------------------------
    def add(
        self,
        tx: Transaction,
        envelope: dict[str, Any],
        user_ids: Optional[list[str]],
        dealt: list[list[int]],
        request: dict[str, Any],
        *,
        on_replay: OnFail,
    ) -> None:
        """The sender's Idempotency-Key record (`on_replay` if it exists), the envelope (listed for the expiry sweep
        and under its sender), its audience list, and its shards, each with its shares and the expiry."""
        eid = envelope["envelope_id"]
        tx.create(
            {
                "pk": f"IDEM#{envelope['sender_id']}",
                "sk": f"ENVKEY#{request['idempotency_key']}",
                "envelope_id": eid,
                **request,
            },
            on_fail=on_replay,
        )
        tx.create(
            {
                "pk": f"ENVELOPE#{eid}",
                "sk": "META",
                **envelope,
                "gsi1pk": _expiry(eid),
                "gsi1sk": f"{envelope['expires_at']}#{eid}",
                "gsi3pk": f"ENVELOPE#S#{envelope['sender_id']}",
                "gsi3sk": f"{envelope['created_at']}#{eid}",
            }
        )
        if user_ids:  # kept off the envelope item, which the index copies (up to 32 KB of ids)
            tx.create({"pk": f"ENVELOPE#{eid}", "sk": "AUDIENCE", "user_ids": user_ids})
        for k, amounts in enumerate(dealt):
            tx.create(
                {
                    "pk": f"ENVSHARD#{eid}#{k:02d}",
                    "sk": "META",
                    "envelope_id": eid,
                    "shard": k,
                    "amounts": amounts,
                    "taken": 0,
                    "expires_at": envelope["expires_at"],
                }
            )

    def take(self, tx: Transaction, claim: dict[str, Any], *, on_claimed: OnFail) -> None:
        """A claimant's claim item (once per user: `on_claimed`) and their share off its shard, unless someone took
        that share or the envelope was closed first (LostRace: re-read, pick again)."""
        eid, user_id = claim["envelope_id"], claim["user_id"]
        tx.create(
            {
                "pk": f"ENVCLAIM#{eid}#{user_id}",
                "sk": "META",
                **claim,
                "gsi2pk": _listing(eid, listing_partition(claim["shard"])),
                "gsi2sk": f"{claim['claimed_at']}#{user_id}",
            },
            on_fail=on_claimed,
        )
        tx.update(
            shard_key(eid, claim["shard"]),
            "ADD taken :one, claimed :index",
            {":one": 1, ":index": {claim["index"]}, ":i": claim["index"], ":now": claim["claimed_at"]},
            condition="attribute_exists(pk) AND NOT contains(claimed, :i) AND attribute_not_exists(swept) "
            "AND (expires_at > :now OR attribute_not_exists(expires_at))",
        )

    def crown(self, tx: Transaction, claim: dict[str, Any]) -> None:
        """The claim of the largest share, on the envelope (written once)."""
        luckiest = {k: claim[k] for k in ("user_id", "points", "claimed_at")}
        tx.update(
            envelope_key(claim["envelope_id"]),
            "SET luckiest = :l",
            {":l": luckiest},
            condition="attribute_exists(pk) AND attribute_not_exists(luckiest)",
        )

    def close(self, tx: Transaction, envelope: dict[str, Any], shards: list[Shard], refunded: int, at: str) -> None:
        """Close every shard as it was read (no claim after this) and record what went back, once."""
        for shard in shards:
            tx.update(
                shard_key(envelope["envelope_id"], shard.shard),
                "SET swept = :yes",
                {":yes": True, ":taken": shard.taken},
                condition="taken = :taken AND attribute_not_exists(swept)",
            )
        tx.update(
            envelope_key(envelope["envelope_id"]),
            "SET refunded_points = :r, swept_at = :at REMOVE gsi1pk, gsi1sk",
            {":r": refunded, ":at": at},
            condition="attribute_exists(pk) AND attribute_not_exists(swept_at)",
            on_fail=LostRace,
        )
