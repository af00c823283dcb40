"""DynamoDB repository of polls (key formats: infra/README.md): the poll, one ballot per voter, and the tallies on
TALLY_SHARDS shard items. The heaviest ballots are found on gsi2 (a poll's ballots by weight), the polls on gsi1
(by opening, newest first)."""

from __future__ import annotations

import json
from typing import Any, Iterator, Optional

from chalicelib.adapters.dynamo import OnFail, Table, Transaction, key, to_values
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
             moves: dict[str, int]) -> None:  # fmt: skip
        """The voter's ballot (new, or replacing the version read) and its moves on the voter's tally shard."""
        poll_id, user_id = ballot["poll_id"], ballot["user_id"]
        item = {
            "pk": f"POLL#{poll_id}",
            "sk": f"BALLOT#{user_id}",
            **ballot,
            "gsi2pk": f"POLLW#{poll_id}",
            "gsi2sk": f"{int(ballot['weight']):0{WEIGHT_DIGITS}d}#{user_id}",
        }
        if before is None:
            tx.create(item)
        else:
            tx.put(item, "version = :v", {":v": before["version"]})
        if moves:
            names = {f"#a{n}": name for n, name in enumerate(moves)}
            values = {f":a{n}": delta for n, delta in enumerate(moves.values())}
            tx.update(
                tally_key(poll_id, shard_of(user_id)),
                "ADD " + ", ".join(f"#a{n} :a{n}" for n in range(len(moves))),
                values,
                names=names,
            )

    def tallies(self, poll_id: str) -> list[dict[str, Any]]:
        """The poll's tally shards (one Query)."""
        items, _ = self.table.query_page(f"POLL#{poll_id}", "TALLY#", TALLY_SHARDS, None)
        return items

    def heaviest(self, poll_id: str, count: int) -> list[dict[str, Any]]:
        """The `count` heaviest ballots, heaviest first."""
        items, _ = self.table.page("gsi2", f"POLLW#{poll_id}", count, None)
        return [_shown(i) for i in items]

    def ballots(self, poll_id: str) -> Iterator[dict[str, Any]]:
        """Every ballot of the poll (reconcile's recount)."""
        params = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :b)",
            "ExpressionAttributeValues": to_values({":pk": f"POLL#{poll_id}", ":b": "BALLOT#"}),
            "ConsistentRead": True,
        }
        yield from (_shown(i) for i in self.table.query_all(params))

    def publish(self, tx: Transaction, poll_id: str, results: str, at: str, *, on_fail: OnFail) -> None:
        tx.update(
            poll_key(poll_id),
            "SET published_at = :at, results = :r",
            {":at": at, ":r": results},
            condition="attribute_exists(pk) AND attribute_not_exists(published_at)",
            on_fail=on_fail,
        )
