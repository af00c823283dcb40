"""DynamoDB repository of polls (key formats: infra/README.md): the poll, one ballot per voter, and the tallies on
TALLY_SHARDS shard items. The heaviest ballots are found on gsi2 (a poll's ballots by weight, in one partition per
tally shard so that a crowd's index writes spread too), the polls on gsi1 (by opening, newest first).

Once counted, the results are stored on the poll and every tally shard is sealed in the same transaction, each on
condition that no ballot moved it since it was read (`writes`); a ballot's shard update requires the shard not to
be sealed, so no ballot can land after the count."""

from __future__ import annotations

import json
from typing import Any, Iterator, Optional

from chalicelib.adapters.dynamo import OnFail, Replay, Table, Transaction, key, to_values
from chalicelib.domain.polls import TALLY_SHARDS, shard_of

POLLS = "POLLS"
WEIGHT_DIGITS = 12  # sort keys compare as text: weights are zero-padded


def poll_key(poll_id: str) -> dict[str, Any]:
    return key(f"POLL#{poll_id}", "META")


def ballot_key(poll_id: str, user_id: str) -> dict[str, Any]:
    return key(f"POLL#{poll_id}", f"BALLOT#{user_id}")


def tally_key(poll_id: str, shard: int) -> dict[str, Any]:
    return key(f"POLL#{poll_id}", f"TALLY#{shard:02d}")


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in item.items() if k not in ("pk", "sk") and not k.startswith("gsi")}
    if "results" in shown:
        shown["results"] = json.loads(shown["results"])
    return shown


class PollRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def begin(self) -> Transaction:
        return self.table.transaction()

    def add(self, tx: Transaction, poll: dict[str, Any], *, on_repeat: OnFail) -> None:
        tx.create(
            {
                "pk": f"POLL#{poll['poll_id']}",
                "sk": "META",
                **poll,
                "gsi1pk": POLLS,
                "gsi1sk": f"{poll['opens_at']}#{poll['poll_id']}",
            },
            on_fail=on_repeat,
        )

    def get(self, poll_id: str) -> Optional[dict[str, Any]]:
        item = self.table.get(poll_key(poll_id))
        return _shown(item) if item else None

    def page(
        self, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self.table.page("gsi1", POLLS, limit, start)
        return [_shown(i) for i in items], last

    def for_ballot(self, poll_id: str, user_id: str) -> tuple[Optional[dict[str, Any]], ...]:
        """(poll, the voter's ballot, the voter's profile) in one BatchGetItem."""
        keys = [poll_key(poll_id), ballot_key(poll_id, user_id), key(f"USER#{user_id}", "PROFILE")]
        found = {(i["pk"], i["sk"]): i for i in self.table.batch_get(keys)}
        poll, ballot, profile = (found.get((k["pk"]["S"], k["sk"]["S"])) for k in keys)
        return (_shown(poll) if poll else None), (_shown(ballot) if ballot else None), profile

    def ballot(self, poll_id: str, user_id: str) -> Optional[dict[str, Any]]:
        item = self.table.get(ballot_key(poll_id, user_id))
        return _shown(item) if item else None

    def cast(self, tx: Transaction, before: Optional[dict[str, Any]], ballot: dict[str, Any],
             moves: dict[str, int], *, on_sealed: OnFail) -> None:  # fmt: skip
        """The voter's ballot (new, or replacing the version read) and its moves on the voter's tally shard, unless
        the shard is sealed (`on_sealed`: the results were counted)."""
        poll_id, user_id = ballot["poll_id"], ballot["user_id"]
        shard = shard_of(user_id)
        item = {
            "pk": f"POLL#{poll_id}",
            "sk": f"BALLOT#{user_id}",
            **ballot,
            "gsi2pk": f"POLLW#{poll_id}#{shard:02d}",
            "gsi2sk": f"{int(ballot['weight']):0{WEIGHT_DIGITS}d}#{user_id}",
        }
        if before is None:
            tx.create(item)
        else:
            tx.put(item, "version = :v", {":v": before["version"]})
        if moves:
            names = {f"#a{n}": name for n, name in enumerate(moves)}
            values: dict[str, Any] = {f":a{n}": delta for n, delta in enumerate(moves.values())}
            tx.update(
                tally_key(poll_id, shard),
                "ADD writes :one, " + ", ".join(f"#a{n} :a{n}" for n in range(len(moves))),
                {**values, ":one": 1},
                condition="attribute_not_exists(sealed)",
                names=names,
                on_fail=on_sealed,
            )

    def tallies(self, poll_id: str) -> list[dict[str, Any]]:
        """The poll's tally shards (one Query)."""
        items, _ = self.table.query_page(f"POLL#{poll_id}", "TALLY#", TALLY_SHARDS, None)
        return items

    def heaviest(self, poll_id: str, count: int) -> list[dict[str, Any]]:
        """The `count` heaviest ballots, heaviest first (the heaviest `count` of each shard's partition, merged)."""
        found: list[dict[str, Any]] = []
        for shard in range(TALLY_SHARDS):
            items, _ = self.table.page("gsi2", f"POLLW#{poll_id}#{shard:02d}", count, None)
            found.extend(_shown(i) for i in items)
        return sorted(found, key=lambda b: -int(b["weight"]))[:count]

    def indexed(self, poll_id: str, shard: int) -> int:
        """How many ballots of the shard the weight index holds (it is eventually consistent)."""
        params: dict[str, Any] = {
            "TableName": self.table.name,
            "IndexName": "gsi2",
            "Select": "COUNT",
            "KeyConditionExpression": "gsi2pk = :p",
            "ExpressionAttributeValues": to_values({":p": f"POLLW#{poll_id}#{shard:02d}"}),
        }
        count = 0
        while True:
            out = self.table.client.query(**params)
            count += int(out["Count"])
            if "LastEvaluatedKey" not in out:
                return count
            params["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def ballots_of(self, poll_id: str, users: list[str]) -> list[dict[str, Any]]:
        """These voters' ballots as they are now (a consistent read, in the order given)."""
        found = {i["user_id"]: _shown(i) for i in self.table.batch_get([ballot_key(poll_id, u) for u in users])}
        return [found[u] for u in users if u in found]

    def ballots(self, poll_id: str) -> Iterator[dict[str, Any]]:
        """Every ballot of the poll (reconcile's recount)."""
        params = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :b)",
            "ExpressionAttributeValues": to_values({":pk": f"POLL#{poll_id}", ":b": "BALLOT#"}),
            "ConsistentRead": True,
        }
        yield from (_shown(i) for i in self.table.query_all(params))

    def seal(self, tx: Transaction, poll_id: str, shards: list[dict[str, Any]], results: str, at: str) -> None:
        """Store the results counted from `shards` (as read) on the poll and seal all its tally shards, each on
        condition it is as read (LostRace: a ballot landed meanwhile; Replay: another count was stored first)."""
        tx.update(
            poll_key(poll_id),
            "SET results = :r, counted_at = :at",
            {":r": results, ":at": at},
            condition="attribute_exists(pk) AND attribute_not_exists(results)",
            on_fail=Replay(),
        )
        writes = {int(s["sk"].removeprefix("TALLY#")): s.get("writes") for s in shards}
        for shard in range(TALLY_SHARDS):
            seen = writes.get(shard)
            condition = "attribute_not_exists(writes)" if seen is None else "writes = :w"
            values = {":at": at} if seen is None else {":at": at, ":w": seen}
            tx.update(tally_key(poll_id, shard), "SET sealed = :at", values, condition=condition)

    def publish(self, tx: Transaction, poll_id: str, at: str, *, on_fail: OnFail) -> None:
        tx.update(
            poll_key(poll_id),
            "SET published_at = :at",
            {":at": at},
            condition="attribute_exists(results) AND attribute_not_exists(published_at)",
            on_fail=on_fail,
        )
