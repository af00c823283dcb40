"""DynamoDB repository of the issuance policy (key formats: infra/README.md).

One partition `POLICY`: a `SCHEDULE` head item holding the schedule (every version that is or will be in force,
with its whole policy: one GetItem tells a container everything it needs) and a revision every change moves; one
`V#<version>` item per version (the history, drafts included). A version's policy never changes once written."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key
from chalicelib.domain.policy import Head, Policy, Scheduled, VersionRecord

PARTITION = "POLICY"
HEAD = key(PARTITION, "SCHEDULE")


def _sk(version: int) -> str:
    return f"V#{version:06d}"


def version_key(version: int) -> dict[str, Any]:
    return key(PARTITION, _sk(version))


def _version_item(record: VersionRecord) -> dict[str, Any]:
    return {
        "pk": PARTITION,
        "sk": _sk(record.version),
        "version": record.version,
        "status": record.status,
        "effective_from": record.effective_from,
        "note": record.note,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "policy": record.policy.model_dump(mode="json"),
    }


def to_record(item: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        version=int(item["version"]),
        status=item["status"],
        effective_from=item["effective_from"],
        note=item["note"],
        created_by=item["created_by"],
        created_at=item["created_at"],
        policy=Policy.model_validate(item["policy"]),
    )


def _entries(entries: Sequence[tuple[Scheduled, Policy]]) -> list[dict[str, Any]]:
    return [
        {"version": s.version, "effective_from": s.effective_from, "policy": p.model_dump(mode="json")}
        for s, p in entries
    ]


def to_head(item: dict[str, Any]) -> Head:
    return Head(
        revision=int(item["revision"]),
        next_version=int(item["next_version"]),
        entries=tuple(
            (Scheduled(int(e["version"]), e["effective_from"]), Policy.model_validate(e["policy"]))
            for e in item["entries"]
        ),
    )


class PolicyRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    def head(self, consistent: bool = True) -> Optional[Head]:
        """The schedule, or None before the first change (version 1 is then the deploy-time defaults)."""
        if consistent:
            item = self._table.get(HEAD)
        else:
            items = self._table.batch_get([HEAD], consistent=False)
            item = items[0] if items else None
        return to_head(item) if item else None

    def get(self, version: int) -> Optional[VersionRecord]:
        item = self._table.get(version_key(version))
        return to_record(item) if item else None

    def page(self, limit: int, start: Optional[dict[str, Any]]) -> tuple[list[VersionRecord], Optional[dict[str, Any]]]:
        """Versions, newest first."""
        items, last = self._table.query_page(PARTITION, "V#", limit, start)
        return [to_record(i) for i in items], last

    def found(self, tx: Transaction, first: VersionRecord, head: Head) -> None:
        """Write version 1 (the deploy-time defaults) and the head the first time anything changes."""
        tx.create(_version_item(first), on_fail=LostRace)
        item = {"revision": head.revision, "next_version": head.next_version, "entries": _entries(head.entries)}
        tx.create({"pk": PARTITION, "sk": "SCHEDULE", **item}, on_fail=LostRace)

    def add_draft(self, tx: Transaction, draft: VersionRecord, read_next: Optional[int]) -> None:
        """A new draft numbered from the head's counter, as read (LostRace: another draft took the number); with
        `read_next` None the head is being founded in the same transaction, already counting it."""
        if read_next is not None:
            tx.update(
                HEAD,
                "SET next_version = :next",
                {":next": read_next + 1, ":read": read_next},
                condition="next_version = :read",
                on_fail=LostRace,
            )
        tx.create(_version_item(draft), on_fail=LostRace)

    def schedule(
        self,
        tx: Transaction,
        version: int,
        entries: Sequence[tuple[Scheduled, Policy]],
        read_revision: int,
        *,
        on_conflict: OnFail,
        on_not_draft: OnFail,
    ) -> None:
        """The draft becomes scheduled and the head's schedule becomes `entries`, unless the schedule changed since
        it was read (`on_conflict`) or the version is no longer a draft (`on_not_draft`)."""
        tx.update(
            HEAD,
            "SET entries = :entries, revision = :next",
            {":entries": _entries(entries), ":next": read_revision + 1, ":read": read_revision},
            condition="revision = :read",
            on_fail=on_conflict,
        )
        tx.update(
            version_key(version),
            "SET #status = :scheduled",
            {":scheduled": "scheduled", ":draft": "draft"},
            condition="#status = :draft",
            names={"#status": "status"},
            on_fail=on_not_draft,
        )
