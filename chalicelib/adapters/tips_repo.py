"""DynamoDB repository of tips (key formats: infra/README.md): the tip, the sender's Idempotency-Key record, and the
sender → recipient sums per Shanghai day that the stream consumer keeps for review."""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, Replay, Table, Transaction, key, to_values
from chalicelib.adapters.users_repo import profile_key
from chalicelib.domain.tips import FLOW_SHARDS


def _flow_pk(day: str, from_user: str, to_user: str) -> str:
    shard = int(hashlib.sha256(f"{from_user}|{to_user}".encode()).hexdigest()[:8], 16) % FLOW_SHARDS
    return f"TIPFLOW#{day}#{shard}"


def _ref_key(kind: str, ref_id: str) -> dict[str, Any]:
    return key(f"{'DESIGN' if kind == 'design' else 'EVENT'}#{ref_id}", "META")


def _creator(kind: str, ref: Optional[dict[str, Any]]) -> Optional[str]:
    return (ref or {}).get("designer_id" if kind == "design" else "host_id")


class TipRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    def reads(
        self, sender: str, recipient: Optional[str], idem_key: str, kind: str, ref_id: str
    ) -> dict[str, Optional[dict[str, Any]]]:
        """What a tip decides from, in one BatchGetItem: the sender's profile, their earlier request with this key,
        the design or event tipped for, and the recipient's profile (when the request names the recipient; else
        read after, from the creator the design or event names)."""
        wanted = {
            "sender": profile_key(sender),
            "request": key(f"IDEM#{sender}", f"TIPKEY#{idem_key}"),
            "ref": _ref_key(kind, ref_id),
        }
        if recipient:
            wanted["recipient"] = profile_key(recipient)
        found = {(i["pk"], i["sk"]): i for i in self._table.batch_get(list(wanted.values()))}
        reads = {name: found.get((k["pk"]["S"], k["sk"]["S"])) for name, k in wanted.items()}
        creator = _creator(kind, reads["ref"])
        if not recipient and creator:
            reads["recipient"] = self._table.get(profile_key(creator))
        return reads

    def request(self, sender: str, idem_key: str) -> Optional[dict[str, Any]]:
        return self._table.get(key(f"IDEM#{sender}", f"TIPKEY#{idem_key}"))

    def add(self, tx: Transaction, tip: dict[str, Any], request: dict[str, Any]) -> None:
        """Add to `tx`: the request record (Replay if its key was used already) and the tip."""
        tx.create(
            {"pk": f"IDEM#{tip['from_user_id']}", "sk": f"TIPKEY#{request['idempotency_key']}", **request},
            on_fail=Replay,
        )
        tx.create({"pk": f"TIP#{tip['tip_id']}", "sk": "META", **tip})

    def tip(self, tip_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(key(f"TIP#{tip_id}", "META"))

    # -- flows (the stream consumer's) ---------------------------------------------------------------------
    def count(self, tips: list[tuple[dict[str, Any], str]]) -> None:
        """Add tips, each given with its Shanghai day, to their (day, sender, recipient) sums and mark each counted,
        in one transaction; Counted if any was counted already (then nothing is written)."""
        sums: dict[tuple[str, str, str], list[int]] = {}
        tx = self._table.transaction()
        for tip, day in tips:
            tx.update(
                key(f"TIP#{tip['tip_id']}", "META"),
                "SET counted = :yes",
                {":yes": True},
                condition="attribute_exists(pk) AND attribute_not_exists(counted)",
                on_fail=Counted,
            )
            s = sums.setdefault((day, tip["from_user_id"], tip["to_user_id"]), [0, 0])
            s[0] += tip["points"]
            s[1] += 1
        for (day, f, t), (points, n) in sums.items():
            tx.update(
                key(_flow_pk(day, f, t), f"{f}#{t}"),
                "SET from_user_id = :f, to_user_id = :t ADD points :p, tips :n",
                {":f": f, ":t": t, ":p": points, ":n": n},
            )
        tx.commit()

    def flows(self, days: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
        """{(from, to): (points, tips)} summed over `days`: one Query per day and shard."""
        found: dict[tuple[str, str], tuple[int, int]] = {}
        for day in days:
            for shard in range(FLOW_SHARDS):
                params = {
                    "KeyConditionExpression": "pk = :pk",
                    "ExpressionAttributeValues": to_values({":pk": f"TIPFLOW#{day}#{shard}"}),
                }
                for item in self._table.query_all(params):
                    pair = (item["from_user_id"], item["to_user_id"])
                    points, tips = found.get(pair, (0, 0))
                    found[pair] = (points + int(item["points"]), tips + int(item["tips"]))
        return found


class Counted(LostRace):
    """A tip of the group was counted in its flow already."""
