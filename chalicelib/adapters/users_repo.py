"""DynamoDB repository of user accounts: the profile (tier, balances, today's earning), its ledger and once-only
earning records (key formats: infra/README.md).

Every balance change is one transaction: the profile moves from the exact version that was read
(compare-and-swap) together with the ledger entries that explain it, so `available_after` is exact
and the balance always equals the sum of the ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any, Iterator, Optional, Sequence

from chalicelib.adapters.clock import new_id
from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, from_item, key, to_item, to_values
from chalicelib.domain.lots import WORKLIST_PARTITIONS
from chalicelib.domain.points import Entry, Profile, shanghai_day

PROFILE = "PROFILE"
_PROFILE_FIELDS = {f.name for f in dataclasses.fields(Profile)} - {"stored", "lapsed"}
_PROFILE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Profile) if f.default is not dataclasses.MISSING}
# `_profile` sets the fields without __init__: that is the same object only while every field but user_id has a
# plain default (no default_factory) and nothing runs after __init__
_PROFILE_DEFAULTED = {f.name for f in dataclasses.fields(Profile)} - {"user_id"}
if hasattr(Profile, "__post_init__") or set(_PROFILE_DEFAULTS) != _PROFILE_DEFAULTED:
    raise TypeError("Profile's fields need plain defaults (user_id excepted) for users_repo._profile")


def profile_key(user_id: str) -> dict[str, Any]:
    return key(_user_pk(user_id), PROFILE)


def expiry_list(lot: str, user_id: str) -> str:
    """The work-list partition of a lot that a user is on: a month's users spread over WORKLIST_PARTITIONS."""
    return f"EXPIRY#{lot}#{_partition(user_id, WORKLIST_PARTITIONS):02d}"


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def new_profile(user_id: str, now: str) -> Profile:
    return Profile(user_id=user_id, created_at=now)


def to_profile(item: dict[str, Any]) -> Profile:
    """A stored profile item (fields a profile gained later read as their starting values)."""
    return _profile({k: v for k, v in item.items() if k in _PROFILE_FIELDS})


def typed_profile(item: dict[str, Any]) -> Profile:
    """`to_profile` of an item as DynamoDB sent it: only the profile's own attributes are converted."""
    return _profile(from_item(item, _PROFILE_FIELDS))


def _profile(stored: dict[str, Any]) -> Profile:
    """The Profile of its stored fields, as `Profile(**stored)` makes it without the frozen dataclass's
    `object.__setattr__` per field (a fifth of the time; every checkout reads a profile)."""
    if "user_id" not in stored:
        raise ValueError("a stored profile without its user_id")
    made = object.__new__(Profile)
    made.__dict__.update(_PROFILE_DEFAULTS)
    made.__dict__.update(stored)
    return made


class UserRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    def get(self, user_id: str) -> Optional[Profile]:
        item = self._table.get(profile_key(user_id))
        return to_profile(item) if item else None

    def create_if_absent(self, profile: Profile) -> None:
        self._table.put_if_absent({"pk": _user_pk(profile.user_id), "sk": PROFILE, **_stored(profile)})

    def record(
        self,
        tx: Transaction,
        before: Profile,
        after: Profile,
        entries: Sequence[Entry],
        at: str,
        moved: Optional[Sequence[dict[str, int]]] = None,
    ) -> None:
        """Write `after` only if the stored profile is still `before` (same version, or still absent), with the
        ledger entries that explain the change (and what each did to the lots, `moved`); a lost race raises
        LostRace. `before` is the profile as stored: its available points are where the ledger entries start."""
        version = before.version + 1
        item = {"pk": _user_pk(after.user_id), "sk": PROFILE, **_stored(after), "version": version}
        if before.stored:
            tx.put(
                item,
                "version = :v OR (attribute_not_exists(version) AND :v = :zero)",
                {":v": before.version, ":zero": 0},
            )
        else:
            tx.create(item)
        available = before.points_available
        for seq, entry in enumerate(entries):
            available += entry.delta
            tx.create(
                {
                    "pk": _user_pk(after.user_id),
                    "sk": f"LEDGER#{version:012d}#{seq:03d}",
                    "entry_id": new_id("l"),
                    "delta": entry.delta,
                    "held_delta": entry.held_delta,
                    "kind": entry.kind,
                    "ref": entry.ref,
                    "available_after": available,
                    "created_at": at,
                    "seq": f"{version:012d}#{seq:03d}",
                    **({"lots": moved[seq]} if moved and moved[seq] else {}),
                    **_lever_index(after.user_id, entry.kind, at, version, seq),
                }
            )

    def drawn(self, user_id: str, ref: str) -> dict[str, int]:
        """What `ref` drew from the user's lots and has not had back (a refund's one extra read)."""
        item = self._table.get(key(_user_pk(user_id), f"DRAWN#{ref}"))
        return dict(item["lots"]) if item else {}

    def record_lots(
        self, tx: Transaction, user_id: str, owed: dict[str, dict[str, int]], new_lots: Sequence[str], at: str
    ) -> None:
        """Beside a change of the profile (whose compare-and-swap orders them): what each ref drew and has not had
        back, and the user on the work list of each lot the change opened (the sweep's list, by month)."""
        for ref, lots in owed.items():
            if lots:
                tx.put({"pk": _user_pk(user_id), "sk": f"DRAWN#{ref}", "lots": lots, "updated_at": at})
            else:
                tx.delete(key(_user_pk(user_id), f"DRAWN#{ref}"))
        for lot in new_lots:
            tx.put({"pk": expiry_list(lot, user_id), "sk": _user_pk(user_id), "lot": lot, "since": at})

    def on_expiry_list(self, lot: str, partition: int, limit: int) -> list[str]:
        """Users on a lot's work list, in one of its partitions (those whose lot may still hold points)."""
        items, _ = self._table.query_page(f"EXPIRY#{lot}#{partition:02d}", "USER#", limit, None)
        return [i["sk"].removeprefix("USER#") for i in items]

    def all_on_expiry_list(self, lot: str, partition: int) -> Iterator[str]:
        start = None
        while True:
            items, start = self._table.query_page(f"EXPIRY#{lot}#{partition:02d}", "USER#", 500, start)
            yield from (i["sk"].removeprefix("USER#") for i in items)
            if start is None:
                return

    def add_notice(self, notice: dict[str, Any]) -> bool:
        """Write a notice once (its stream record sends it): False if it was written before."""
        return self._table.put_if_absent({"pk": f"NOTICE#{notice['event_id']}", "sk": "META", "notice": notice})

    def leave_expiry_list(self, tx: Transaction, lot: str, user_id: str) -> None:
        tx.delete(key(expiry_list(lot, user_id), _user_pk(user_id)))

    def opening_progress(self, run: str) -> Any:
        """Where the opening pass of an expiry run stands: None (not started), "done", or the Scan's next key."""
        item = self._table.get(key("EXPIRY#OPENED", run))
        return item["next"] if item else None

    def mark_opening(self, run: str, progress: Any, at: str) -> None:
        self._table.client.put_item(
            TableName=self._table.name, Item=to_item({"pk": "EXPIRY#OPENED", "sk": run, "next": progress, "at": at})
        )

    def without_lots(self, run: str, start: Any = None) -> Iterator[tuple[str, Any]]:
        """(user, the key to resume from) for users holding points whose lots are not kept in expiry run `run`
        (a Scan: once per switch of expiry to on, resumable)."""
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "FilterExpression": "sk = :p AND (attribute_not_exists(lots_run) OR lots_run <> :run) "
            "AND (points_available > :z OR points_held > :z)",
            "ExpressionAttributeValues": to_values({":p": PROFILE, ":z": 0, ":run": run}),
            "ProjectionExpression": "pk",
        }
        if start:
            params["ExclusiveStartKey"] = start
        while True:
            out = self._table.client.scan(**params)
            resume = params.get("ExclusiveStartKey")  # a run cut short scans this page again: opening is idempotent
            yield from ((i["pk"]["S"].removeprefix("USER#"), resume) for i in out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                return
            params["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def noticed(self, lot: str, days: int) -> set[int]:
        """The work-list partitions whose `days` notice pass for `lot` is done."""
        item = self._table.get(key("EXPIRY#NOTICED", f"{lot}#{days}"))
        return {int(p) for p in item.get("partitions", [])} if item else set()

    def mark_noticed(self, lot: str, days: int, partition: int, at: str) -> None:
        self._table.client.update_item(
            TableName=self._table.name,
            Key=key("EXPIRY#NOTICED", f"{lot}#{days}"),
            UpdateExpression="ADD #done :p SET #at = :at",
            ExpressionAttributeNames={"#done": "partitions", "#at": "at"},
            ExpressionAttributeValues=to_values({":p": {partition}, ":at": at}),
        )

    def require_version(self, tx: Transaction, profile: Profile) -> None:
        """The profile is still the version read (a write beside it that must not outrun a change of it)."""
        tx.check(
            profile_key(profile.user_id),
            "version = :v OR (attribute_not_exists(version) AND :v = :zero)",
            {":v": profile.version, ":zero": 0},
            on_fail=LostRace,
        )

    def backdate(self, user_id: str, created_at: str) -> None:
        """Demo data only (`make run`): an account first seen at `created_at` if it was seen later, so demo members
        are old enough to tip."""
        found = self.get(user_id)
        if found and found.created_at > created_at:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=profile_key(user_id),
                UpdateExpression="SET created_at = :c",
                ExpressionAttributeValues=to_values({":c": created_at}),
            )

    def add_checkin(
        self, tx: Transaction, user_id: str, day: str, data: dict[str, Any], tier: str, *, on_fail: OnFail
    ) -> None:
        """The day's check-in record (Asia/Shanghai day); the transaction fails with `on_fail` if it exists."""
        item = {"pk": _user_pk(user_id), "sk": f"CHECKIN#{day}", **data}
        tx.create({**item, **_completion(user_id, "checkin", day, tier, data["at"])}, on_fail=on_fail)

    def add_task_award(
        self,
        tx: Transaction,
        user_id: str,
        task: str,
        ref: str,
        data: dict[str, Any],
        day: str,
        tier: str,
        *,
        on_fail: OnFail,
    ) -> None:
        """The once-only record of a task award (the same task and ref never pay twice)."""
        item = {"pk": _user_pk(user_id), "sk": f"EARN#{task}#{ref}", **data}
        tx.create({**item, **_completion(user_id, task, day, tier, data["at"])}, on_fail=on_fail)

    def birthday(self, user_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(key(_user_pk(user_id), "BIRTHDAY"))

    def set_birthday(self, user_id: str, birthday: str, at: str, changeable_before: str, *, on_fail: OnFail) -> None:
        """The user's birthday, on the work list of its day; refused (`on_fail`) if it was set after
        `changeable_before` (once a year)."""
        tx = self._table.transaction()
        tx.put(
            {
                "pk": _user_pk(user_id),
                "sk": "BIRTHDAY",
                "user_id": user_id,
                "birthday": birthday,
                "set_at": at,
                "gsi1pk": f"BIRTHDAY#{birthday}#{_partition(user_id)}",
                "gsi1sk": user_id,
            },
            "attribute_not_exists(set_at) OR set_at <= :before",
            {":before": changeable_before},
            on_fail=on_fail,
        )
        tx.commit()

    def born_on(self, birthday: str) -> list[tuple[str, str]]:
        """(user, when the birthday was set) of users whose birthday is `birthday` (MM-DD): one Query per work
        partition."""
        return [
            (i["user_id"], i["set_at"])
            for n in range(COMPLETION_PARTITIONS)
            for i in self._table.partition("gsi1", f"BIRTHDAY#{birthday}#{n}")
        ]

    def completions(self, day: str) -> list[dict[str, Any]]:
        """Every task completion of a Shanghai day, paid or not (a policy's dry-run replays them): one Query per
        work partition."""
        return [i for n in range(COMPLETION_PARTITIONS) for i in self._table.partition("gsi4", f"TASKDONE#{day}#{n}")]

    def issued_entries(self, day: str) -> list[dict[str, Any]]:
        """Every ledger entry of a Shanghai day that a policy lever priced (referral, design reward, royalty,
        reversal, event reward)."""
        return [i for n in range(COMPLETION_PARTITIONS) for i in self._table.partition("gsi4", f"ISSUED#{day}#{n}")]

    def count_task_day(
        self, tx: Transaction, user_id: str, day: str, task: str, per_day: int, *, on_full: OnFail
    ) -> None:
        """One more completion of `task` paid on `day`, never more than `per_day` (`on_full`)."""
        tx.update(
            key(_user_pk(user_id), f"TASKDAY#{day}#{task}"),
            "ADD paid :one",
            {":one": 1, ":max": per_day},
            condition="attribute_not_exists(paid) OR paid < :max",
            on_fail=on_full,
        )

    def task_award(self, user_id: str, task: str, ref: str) -> Optional[dict[str, Any]]:
        return self._table.get(key(_user_pk(user_id), f"EARN#{task}#{ref}"))

    def require_owner(self, tx: Transaction, user_id: str, *, on_fail: OnFail) -> None:
        """A condition that the user is a verified owner when the transaction commits."""
        tx.check(profile_key(user_id), "tier = :owner", {":owner": "owner"}, on_fail=on_fail)

    def ledger_page(
        self, user_id: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        return self._table.query_page(_user_pk(user_id), "LEDGER#", limit, start)

    def ledger_entries(self, user_id: str, ref: str) -> list[dict[str, Any]]:
        """The user's ledger entries with `ref` (reads the whole ledger: reconcile only)."""
        found: list[dict[str, Any]] = []
        start = None
        while True:
            items, start = self._table.query_page(_user_pk(user_id), "LEDGER#", 500, start)
            found += [i for i in items if i["ref"] == ref]
            if start is None:
                return found

    def ledger_sums(self, user_id: str) -> tuple[int, int]:
        """(sum of delta, sum of held_delta) over the user's whole ledger."""
        available = held = 0
        start = None
        while True:
            items, start = self._table.query_page(_user_pk(user_id), "LEDGER#", 500, start)
            available += sum(i["delta"] for i in items)
            held += sum(i.get("held_delta", 0) for i in items)
            if start is None:
                return available, held


COMPLETION_PARTITIONS = 4  # a day's completions (and lever-priced entries) spread so a busy day is not one partition
LEVER_KINDS = ("referral", "design_reward", "royalty", "reversal", "event_reward")


def _partition(user_id: str, partitions: int = 0) -> int:
    return int(hashlib.sha256(user_id.encode()).hexdigest()[:8], 16) % (partitions or COMPLETION_PARTITIONS)


def _completion(user_id: str, task: str, day: str, tier: str, at: str) -> dict[str, Any]:
    """What a dry-run needs of a completion, on the day's work partition of gsi4."""
    return {
        "user_id": user_id,
        "task": task,
        "day": day,
        "tier": tier,
        "gsi4pk": f"TASKDONE#{day}#{_partition(user_id)}",
        "gsi4sk": f"{at}#{user_id}#{task}",
    }


def _lever_index(user_id: str, kind: str, at: str, version: int, seq: int) -> dict[str, Any]:
    """Ledger entries a policy lever priced are listed by day, for a dry-run; others are not indexed."""
    if kind not in LEVER_KINDS:
        return {}
    day = shanghai_day(dt.datetime.fromisoformat(at.replace("Z", "+00:00")))
    return {"gsi4pk": f"ISSUED#{day}#{_partition(user_id)}", "gsi4sk": f"{at}#{user_id}#{version:012d}#{seq:03d}"}


def _stored(profile: Profile) -> dict[str, Any]:
    return {
        k: v
        for k, v in dataclasses.asdict(profile).items()
        if k not in ("stored", "lapsed") and not (k == "lots" and v is None)
    }
