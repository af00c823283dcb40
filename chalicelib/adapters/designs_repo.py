"""DynamoDB repository of designs, their (weighted) votes, their place in the gallery by score, and each
designer's count of open submissions."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key, move_status
from chalicelib.domain.designs import MAX_OPEN_DESIGNS, PUBLIC_STATUSES

GALLERY = "DESIGN#PUBLIC"
BY_SCORE = f"{GALLERY}#SCORE"
SCORE_DIGITS = 12  # sort keys compare as text: scores are zero-padded


def score_of(design: dict[str, Any]) -> int:
    """The weighted score; a design whose votes predate weights (no `score`) counts each vote once."""
    return int(design.get("score", design.get("votes", 0)))


def design_key(design_id: str) -> dict[str, Any]:
    return key(f"DESIGN#{design_id}", "META")


def listing(
    *,
    status: Optional[str] = None,
    designer_id: Optional[str] = None,
    category: Optional[str] = None,
    by_score: bool = False,
) -> tuple[str, str]:
    """(index, partition) of a listing. The gallery by score lists the designs' rank items (see `page`)."""
    if designer_id:
        return "gsi3", f"DESIGN#U#{designer_id}"
    if status:
        return "gsi2", f"DESIGN#S#{status}"
    gallery = BY_SCORE if by_score else GALLERY
    if category:
        return "gsi4", f"{gallery}#C#{category}"
    return "gsi1", gallery


def _index_keys(design: dict[str, Any]) -> dict[str, Any]:
    sort = f"{design['created_at']}#{design['design_id']}"
    keys: dict[str, Any] = {
        "gsi2pk": f"DESIGN#S#{design['status']}",
        "gsi2sk": sort,
        "gsi3pk": f"DESIGN#U#{design['designer_id']}",
        "gsi3sk": sort,
    }
    if design["status"] in PUBLIC_STATUSES:
        keys.update(gsi1pk=GALLERY, gsi1sk=sort, gsi4pk=f"{GALLERY}#C#{design['category']}", gsi4sk=sort)
    return keys


def _rank(design: dict[str, Any], score: int) -> dict[str, Any]:
    """The design's place in the gallery by score (highest first, then newest): its own item, because the design
    item's four index slots already serve the other listings."""
    sort = f"{score:0{SCORE_DIGITS}d}#{design['created_at']}#{design['design_id']}"
    return {
        "pk": f"DESIGN#{design['design_id']}",
        "sk": "RANK",
        "design_id": design["design_id"],
        "score": score,
        "gsi1pk": BY_SCORE,
        "gsi1sk": sort,
        "gsi4pk": f"{BY_SCORE}#C#{design['category']}",
        "gsi4sk": sort,
    }


def _public(item: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in item.items() if k not in ("pk", "sk") and not k.startswith("gsi")}
    if "votes" in shown:
        shown["score"] = score_of(shown)
    return shown


class DesignRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, design_id: str) -> Optional[dict[str, Any]]:
        item = self.table.get(design_key(design_id))
        return _public(item) if item else None

    def page(
        self, index: str, partition: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        items, last = self.table.page(index, partition, limit, start)
        if partition.startswith(BY_SCORE):  # rank items: the designs themselves in one BatchGetItem, in rank order
            found = {d["design_id"]: d for d in self.table.batch_get([design_key(i["design_id"]) for i in items])}
            items = [found[i["design_id"]] for i in items if i["design_id"] in found]
        return [_public(i) for i in items], last

    def begin(self) -> Transaction:
        return self.table.transaction()

    def add(self, tx: Transaction, design: dict[str, Any], *, on_too_many: OnFail) -> None:
        """A new submission, counted among the designer's open ones (at most MAX_OPEN_DESIGNS, else `on_too_many`)."""
        tx.create({"pk": f"DESIGN#{design['design_id']}", "sk": "META", **design, **_index_keys(design)})
        if design["status"] in PUBLIC_STATUSES:
            tx.put(_rank(design, score_of(design)))
        self.count_open(tx, design["designer_id"], 1, on_fail=on_too_many)

    def count_open(self, tx: Transaction, designer_id: str, delta: int, *, on_fail: OnFail = LostRace) -> None:
        """One more (bounded by MAX_OPEN_DESIGNS) or one fewer design waiting for review."""
        if delta > 0:
            tx.update(
                key(f"USER#{designer_id}", "DESIGNS"),
                "ADD open_count :d",
                {":d": delta, ":max": MAX_OPEN_DESIGNS},
                condition="attribute_not_exists(open_count) OR open_count < :max",
                on_fail=on_fail,
            )
        else:
            tx.update(key(f"USER#{designer_id}", "DESIGNS"), "ADD open_count :d", {":d": delta})

    def move(self, tx: Transaction, before: dict[str, Any], changes: dict[str, Any], *, on_fail: OnFail) -> None:
        """Change status (and fields) only if the design still has the status it was read with (`on_fail` else).

        An update, not a put: votes and sales counters move concurrently with ADD and must survive."""
        after = {**before, **changes}
        sets = {**changes, **_index_keys(after)}
        removed = [k for k in ("gsi1pk", "gsi1sk", "gsi4pk", "gsi4sk") if k not in sets]
        move_status(tx, design_key(before["design_id"]), before["status"], sets, removed, on_fail=on_fail)
        public = after["status"] in PUBLIC_STATUSES
        if public != (before["status"] in PUBLIC_STATUSES):  # every public design has its rank, no other one
            if public:
                tx.put(_rank(after, score_of(after)))
            else:
                tx.delete(key(f"DESIGN#{before['design_id']}", "RANK"))

    def vote(
        self,
        tx: Transaction,
        design: dict[str, Any],
        voter_id: str,
        weight: int,
        contribution: int,
        now: str,
        *,
        on_repeat: OnFail,
        on_changed: OnFail,
    ) -> None:
        """A once-per-user vote that records its weight (and the voter's contribution behind it), the design's
        votes and score, and its rank — only while the design is public, never the designer's own, and only from
        the score that was read (`on_changed` otherwise: the rank's sort key is computed from it)."""
        design_id = design["design_id"]
        tx.create(
            {
                "pk": f"DESIGN#{design_id}",
                "sk": f"VOTE#{voter_id}",
                "at": now,
                "weight": weight,
                "contribution": contribution,
            },
            on_fail=on_repeat,
        )
        score = score_of(design)
        tx.update(
            design_key(design_id),
            "SET score = :new ADD votes :one",
            {
                ":one": 1,
                ":a": PUBLIC_STATUSES[0],
                ":p": PUBLIC_STATUSES[1],
                ":voter": voter_id,
                ":old": score,
                ":new": score + weight,
            },
            condition="#st IN (:a, :p) AND designer_id <> :voter AND "
            "(score = :old OR (attribute_not_exists(score) AND votes = :old))",
            names={"#st": "status"},
            on_fail=on_changed,
        )
        tx.put(_rank(design, score + weight))

    def rank_if_absent(self, design: dict[str, Any]) -> bool:
        """Give a public design from before weighted votes its place in the gallery by score (a vote meanwhile
        wrote it already, and wins); True if this call did."""
        return self.table.put_if_absent(_rank(design, score_of(design)))

    def votes(self, design_id: str) -> list[dict[str, Any]]:
        """Every vote of a design (weight 1 for votes cast before weights existed)."""
        found, start = [], None
        while True:
            items, start = self.table.query_page(f"DESIGN#{design_id}", "VOTE#", 500, start)
            found += [{"voter_id": i["sk"].removeprefix("VOTE#"), "weight": i.get("weight", 1)} for i in items]
            if start is None:
                return found

    def count_sales(
        self, tx: Transaction, design_id: str, units: int = 0, points: int = 0, pending_points: int = 0
    ) -> None:
        """Move the design's counters: units sold, royalty points credited, and royalty points still pending."""
        tx.update(
            design_key(design_id),
            "ADD units_sold :u, royalty_points :p, royalty_points_pending :q",
            {":u": units, ":p": points, ":q": pending_points},
            condition="attribute_exists(pk)",
        )
