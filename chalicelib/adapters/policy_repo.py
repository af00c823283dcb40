"""DynamoDB repository of the issuance policy (key formats: infra/README.md).

One partition `POLICY`: a `SCHEDULE` head item holding the schedule (every version that is or will be in force,
with its whole policy: one GetItem tells a container everything it needs) and a revision every change moves; one
`V#<version>` item per version (the history, drafts included). A version's policy never changes once written."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key

PARTITION = "POLICY"
HEAD = key(PARTITION, "SCHEDULE")


def _sk(version: int) -> str:
    return f"V#{version:06d}"


def version_key(version: int) -> dict[str, Any]:
    return key(PARTITION, _sk(version))


def _version_item(version: dict[str, Any]) -> dict[str, Any]:
    return {"pk": PARTITION, "sk": _sk(int(version["version"])), **version}


class PolicyRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    def head(self, consistent: bool = True) -> Optional[dict[str, Any]]:
        """{revision, next_version, entries: [{version, effective_from, policy}]}, or None before the first change
        (version 1 is then the deploy-time defaults)."""
        if consistent:
            return self._table.get(HEAD)
        items = self._table.batch_get([HEAD], consistent=False)
        return items[0] if items else None

    def get(self, version: int) -> Optional[dict[str, Any]]:
        return self._table.get(version_key(version))

    def page(
        self, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        """Versions, newest first."""
        return self._table.query_page(PARTITION, "V#", limit, start)

    def found(self, tx: Transaction, first: dict[str, Any], head: dict[str, Any]) -> None:
        """Write version 1 (the deploy-time defaults) and the head the first time anything changes."""
        tx.create(_version_item(first), on_fail=LostRace)
        tx.create({"pk": PARTITION, "sk": "SCHEDULE", **head}, on_fail=LostRace)

    def add_draft(self, tx: Transaction, version: dict[str, Any], read_next: Optional[int]) -> None:
        """A new draft numbered from the head's counter, as read (LostRace: another draft took the number); with
        `read_next` None the head is being founded in the same transaction, already counting it."""
        if read_next is None:
            tx.create(_version_item(version), on_fail=LostRace)
            return
        tx.update(
            HEAD,
            "SET next_version = :next",
            {":next": read_next + 1, ":read": read_next},
            condition="next_version = :read",
            on_fail=LostRace,
        )
        tx.create(_version_item(version), on_fail=LostRace)

    def schedule(
        self,
        tx: Transaction,
        version: int,
        entries: list[dict[str, Any]],
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
            {":entries": entries, ":next": read_revision + 1, ":read": read_revision},
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
