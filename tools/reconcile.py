"""`make reconcile`: for every user, available + held must equal the sum of their ledger, and the contribution
score the sum of its ledger; for every design, its score the sum of its votes' recorded weights; for every red
envelope, its claims and what is left (or went back) add up to its total; coupons' budgets, counts and uses; and
every day of the points report against the ledger entries it counted.

Checks available = sum(delta) and held = sum(held_delta) separately, so a misfiled hold shows too; a contribution
balance against the sum of its entries, and one entry per once-only source record; a design's `votes` against its
vote records, `score` against their weights, and the gallery's rank item against `score`.
An offline tool: it scans the table (no request path ever does). Exit code 1 if anything differs.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union

from chalicelib.adapters.contribution_repo import BALANCE, ContributionRepository
from chalicelib.adapters.designs_repo import DesignRepository, score_of
from chalicelib.adapters.dynamo import from_item, key
from chalicelib.adapters.envelopes_repo import EnvelopeRepository
from chalicelib.adapters.polls_repo import POLLS, PollRepository
from chalicelib.adapters.users_repo import UserRepository, expiry_list
from chalicelib.domain import polls as poll_rules
from chalicelib.domain.designs import PUBLIC_STATUSES
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.lots import expired as lot_expired
from chalicelib.domain.points import shanghai_day
from chalicelib.services.polls import count_results


@dataclass
class Difference:
    user_id: str
    available: int
    held: int
    ledger_available: int
    ledger_held: int

    def describe(self) -> str:
        return (
            f"{self.user_id}: available {self.available} held {self.held} but the ledger says "
            f"available {self.ledger_available} held {self.ledger_held}"
        )


@dataclass
class ContributionDifference:
    user_id: str
    contribution: int
    ledger_contribution: int
    entries: int
    sources: int

    def describe(self) -> str:
        return (
            f"{self.user_id}: contribution {self.contribution} but its ledger sums to {self.ledger_contribution} "
            f"({self.entries} entries for {self.sources} sources)"
        )


@dataclass
class ScoreDifference:
    design_id: str
    votes: int
    score: int
    vote_records: int
    weights: int
    rank_score: Optional[int]  # the gallery's rank item (None: a public design missing from the score listing)

    def describe(self) -> str:
        return (
            f"design {self.design_id}: votes {self.votes} score {self.score} but {self.vote_records} votes "
            f"weigh {self.weights}; ranked at {self.rank_score}"
        )


def profiles(client: Any, table: str, sk: str = "PROFILE", pk_prefix: str = "USER#") -> Iterator[dict[str, Any]]:
    """Every item with sort key `sk` in a partition starting with `pk_prefix` (a Scan)."""
    return _scan(client, table, "sk = :p AND begins_with(pk, :u)", {":p": {"S": sk}, ":u": {"S": pk_prefix}})


def _scan(client: Any, table: str, condition: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": condition, "ExpressionAttributeValues": values}
    while True:
        out = client.scan(**kwargs)
        yield from (from_item(i) for i in out.get("Items", []))
        if "LastEvaluatedKey" not in out:
            return
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


@dataclass
class EnvelopeDifference:
    envelope_id: str
    problem: str

    def describe(self) -> str:
        return f"envelope {self.envelope_id}: {self.problem}"


AnyDifference = Union[
    Difference,
    ContributionDifference,
    ScoreDifference,
    EnvelopeDifference,
    "VoucherDifference",
    "CouponDifference",
    "ReportDifference",
    "UncountedDifference",
    "PolicyDifference",
    "ItemDifference",
]


def reconcile(
    client: Any, table: Any, uncounted_before: str = "", settled_before: str = ""
) -> tuple[int, list[AnyDifference]]:
    """(users checked, differences) for one store table (`table` is an adapters.dynamo.Table); with
    `uncounted_before` (an ISO time), ledger entries written before it that the points report never counted are
    differences too (`make reconcile` gives a day ago: the stream should have delivered them); with `settled_before`
    (`make reconcile`: now), polls still taking ballots or not yet counted then are left out."""
    repo = UserRepository(table)
    checked, users = 0, []
    for profile in profiles(client, table.name):
        checked += 1
        ledger_available, ledger_held = repo.ledger_sums(profile["user_id"])
        if (ledger_available, ledger_held) != (profile["points_available"], profile["points_held"]):
            users.append(
                Difference(
                    profile["user_id"],
                    profile["points_available"],
                    profile["points_held"],
                    ledger_available,
                    ledger_held,
                )
            )
    return checked, (
        users
        + contribution_differences(client, table)
        + score_differences(client, table)
        + envelope_differences(client, table)
        + voucher_differences(client, table)
        + coupon_differences(client, table)
        + report_differences(client, table, uncounted_before)
        + policy_differences(table)
        + merchant_differences(client, table, uncounted_before)
        + tip_differences(client, table, uncounted_before)
        + booking_differences(client, table)
        + lot_differences(client, table)
        + rating_differences(client, table, uncounted_before)
        + poll_differences(table, settled_before)
    )


def poll_differences(table: Any, settled_before: str = "") -> list[AnyDifference]:
    """Every poll recounted from its ballots: each ballot's weight is its voter's contribution at the opening (from
    the dated ledger), its tally shards hold exactly the ballots' sums, and its results (as stored, or as counted
    now from the shards and the heaviest ballots) are the recount's. With `settled_before` (an ISO time), polls whose
    results are not counted by then are left out: voting may still move them."""
    repo, scores = PollRepository(table), ContributionRepository(table)
    found: list[AnyDifference] = []
    for item in table.partition("gsi1", POLLS):
        poll = repo.get(item["poll_id"])
        if poll is None or (settled_before and poll_rules.counted_from(poll) > settled_before):
            continue
        what = f"poll {poll['poll_id']}"
        ballots = list(repo.ballots(poll["poll_id"]))
        for ballot in ballots:
            score = scores.score_at(ballot["user_id"], poll["opens_at"])
            if (ballot["contribution"], ballot["weight"]) != (score, poll_rules.weight_of(poll["weighting"], score)):
                found.append(ItemDifference(what, f"{ballot['user_id']}'s ballot weighs {ballot['weight']} for "
                                            f"contribution {ballot['contribution']}; the ledger had {score} at the opening"))  # fmt: skip
        sums, recounted = poll_rules.recount(poll, ballots)
        shards = {k: v for k, v in poll_rules.shard_sums(repo.tallies(poll["poll_id"])).items() if v}
        if shards != sums:
            moved = sorted(k for k in set(shards) | set(sums) if shards.get(k) != sums.get(k))
            found.append(ItemDifference(what, f"tally shards differ from the ballots on {moved}"))
        try:
            results = poll_rules.PollResults.model_validate(poll["results"]) if poll.get("results") else None
            results = results or count_results(repo, poll)
        except Unavailable:
            found.append(ItemDifference(what, "its weight index does not hold every ballot the tally shards count"))
            continue
        if results != recounted:
            found.append(ItemDifference(what, "its results differ from a recount of its ballots"))
    return found


def rating_differences(client: Any, table: Any, uncounted_before: str = "") -> list[AnyDifference]:
    """Every product's rating shards add up to its approved reviews not yet excluded; with `uncounted_before`, an
    approved review still counted whose order was refunded or cancelled before it is a difference too (the stream
    should have taken it out)."""
    expected: dict[str, list[int]] = {}
    stale: list[AnyDifference] = []
    for item in _scan(
        client, table.name, "begins_with(pk, :p) AND sk = :m", {":p": {"S": "REVIEW#"}, ":m": {"S": "META"}}
    ):
        if item["status"] == "approved" and not item.get("excluded"):
            sums = expected.setdefault(item["product_id"], [0, 0])
            sums[0] += int(item["rating"])
            sums[1] += 1
            order = table.get(key(f"ORDER#{item['order_id']}", "META")) if uncounted_before else None
            if order and order["status"] in ("refunded", "cancelled") and order["updated_at"] < uncounted_before:
                stale.append(ItemDifference(f"review {item['review_id']}", f"its order was {order['status']} at "
                                            f"{order['updated_at']} but it still counts in the rating"))  # fmt: skip
    found: dict[str, list[int]] = {}
    for shard in _scan(client, table.name, "begins_with(pk, :p) AND begins_with(sk, :r)",
                       {":p": {"S": "PRODUCT#"}, ":r": {"S": "RATING#"}}):  # fmt: skip
        sums = found.setdefault(shard["pk"].removeprefix("PRODUCT#"), [0, 0])
        sums[0] += int(shard.get("sum", 0))
        sums[1] += int(shard.get("count", 0))
    differences: list[AnyDifference] = stale
    for product in sorted(set(expected) | set(found)):
        want, have = expected.get(product, [0, 0]), found.get(product, [0, 0])
        if want != have:
            differences.append(ItemDifference(f"rating of {product}", f"shards hold sum {have[0]} of {have[1]}, "
                                              f"approved reviews {want[0]} of {want[1]}"))  # fmt: skip
    return differences


def lot_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Points that expire by lot: every kept set of lots holds exactly available + held, each lot is on its month's
    work list (so the sweep reaches it), and every `expire` entry took points of one lot whose month was over."""
    found: list[AnyDifference] = []
    for profile in profiles(client, table.name):
        lots = profile.get("lots")
        if lots is None:
            continue
        user = profile["user_id"]
        if (
            sum(lots.values()) != max(profile["points_available"], 0) + profile["points_held"]  # < 0: a debt
            or min(lots.values(), default=1) < 1
        ):
            found.append(ItemDifference(f"lots of {user}", f"{lots} but {profile['points_available']} available + "
                                        f"{profile['points_held']} held"))  # fmt: skip
        for lot in lots:
            if table.get(key(expiry_list(lot, user), f"USER#{user}")) is None:
                found.append(ItemDifference(f"lots of {user}", f"lot {lot} is not on its work list"))
    for entry in _scan(client, table.name, "kind = :k AND begins_with(sk, :l)", {":k": {"S": "expire"},
                                                                              ":l": {"S": "LEDGER#"}}):  # fmt: skip
        moved = entry.get("lots") or {}
        day = shanghai_day(dt.datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00")))
        if len(moved) != 1 or sum(moved.values()) != entry["delta"] or not lot_expired(next(iter(moved)), day):
            found.append(ItemDifference(f"ledger {entry['pk']} {entry['sk']}", f"expire entry {moved} "
                                        f"{entry['delta']} is not one lot that had ended"))  # fmt: skip
    return found


@dataclass
class PolicyDifference:
    version: int
    problem: str

    def describe(self) -> str:
        return f"policy version {self.version}: {self.problem}"


def policy_differences(table: Any) -> list[AnyDifference]:
    """The schedule every container reads must be the versions as written: each entry a scheduled version with
    the same effective_from and policy; no two at one instant; version 1 from the start."""
    from chalicelib.adapters.policy_repo import PolicyRepository

    repo = PolicyRepository(table)
    head = repo.head()
    if head is None:
        return []  # nothing changed yet: version 1 from the settings
    found: list[AnyDifference] = []
    instants = [s.effective_from for s in head.schedule]
    if len(set(instants)) != len(instants):
        found.append(PolicyDifference(0, f"two versions take effect at one instant: {sorted(instants)}"))
    for entry, policy in head.entries:
        version = repo.get(entry.version)
        if version is None:
            found.append(PolicyDifference(entry.version, "is scheduled but was never written"))
        elif version.status != "scheduled":
            found.append(PolicyDifference(entry.version, f"is scheduled but its own status is {version.status}"))
        elif (version.entry, version.policy) != (entry, policy):
            found.append(PolicyDifference(entry.version, "the schedule holds another effective_from or policy than it"))
    if head.entries and repo.get(1) is None:
        found.append(PolicyDifference(1, "the schedule exists but version 1 was never written"))
    return found


def contribution_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Users with a profile or a contribution balance whose balance is not the sum of their contribution ledger."""
    repo = ContributionRepository(table)
    users = {p["pk"].removeprefix("USER#") for sk in ("PROFILE", BALANCE) for p in profiles(client, table.name, sk)}
    found: list[AnyDifference] = []
    for user_id in sorted(users):
        balance = repo.balance(user_id)
        amount, entries, sources = repo.ledger_sum(user_id)
        if (amount, entries) != (balance, sources):
            found.append(ContributionDifference(user_id, balance, amount, entries, sources))
    return found


def score_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Designs whose votes or score differ from their vote records, or whose rank in the gallery by score does."""
    repo = DesignRepository(table)
    found: list[AnyDifference] = []
    for design in profiles(client, table.name, "META", "DESIGN#"):
        votes = repo.votes(design["design_id"])
        weights, score = sum(v["weight"] for v in votes), score_of(design)
        rank = table.get(key(design["pk"], "RANK")) if design["status"] in PUBLIC_STATUSES else {"score": score}
        rank_score = rank["score"] if rank else None
        if (design.get("votes", 0), score, rank_score) != (len(votes), weights, weights):
            found.append(
                ScoreDifference(design["design_id"], design.get("votes", 0), score, len(votes), weights, rank_score)
            )
    return found


@dataclass
class VoucherDifference:
    sku: str
    stock: int
    unsold: int

    def describe(self) -> str:
        return f"voucher sku {self.sku}: stock {self.stock} but {self.unsold} unsold codes"


def voucher_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Voucher SKUs whose stock is not their number of unsold codes (a code is unsold until an order takes it)."""
    unsold: dict[str, int] = {}
    for code in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "VCODE#"}}):
        if "order_id" not in code and "void_at" not in code:
            unsold[code["sku"]] = unsold.get(code["sku"], 0) + 1
    return [
        VoucherDifference(sku["sku"], sku["stock"], unsold.get(sku["sku"], 0))
        for sku in profiles(client, table.name, "META", "SKU#")
        if sku.get("kind") == "voucher" and sku["stock"] != unsold.get(sku["sku"], 0)
    ]


@dataclass
class CouponDifference:
    what: str
    problem: str

    def describe(self) -> str:
        return f"{self.what}: {self.problem}"


ENDED = ("expired", "cancelled", "payment_failed", "refunded")  # an order in these holds no coupon
TAKEN_BACK = ("cancelled", "refunded")  # a coupon bought by an order in these is revoked (or in use, until freed)


def coupon_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Coupons that do not add up: a template's budget left plus its coupons not taken back make its budget_count;
    each user's count of a template's coupons matches the coupons they hold; a used coupon names an order that
    holds it and every order that holds a coupon is named by it; no coupon whose purchase was cancelled or refunded
    is usable; an order's discount is the sum of its lines' and its points and cash pay exactly the rest."""
    held: dict[str, list[dict[str, Any]]] = {}
    for coupon in _scan(
        client,
        table.name,
        "begins_with(pk, :u) AND begins_with(sk, :c)",
        {":u": {"S": "USER#"}, ":c": {"S": "COUPON#"}},
    ):
        if "revoked_at" not in coupon:
            held.setdefault(coupon["coupon_id"], []).append(coupon)
    statuses = {o["order_id"]: o["status"] for o in profiles(client, table.name, "META", "ORDER#")}
    found: list[AnyDifference] = [
        CouponDifference(
            f"coupon {c['coupon']}", f"is usable, but order {c['ref']} that bought it was {statuses[c['ref']]}"
        )
        for coupons in held.values()
        for c in coupons
        if c["source"] == "purchase" and not c.get("order_id") and statuses.get(c["ref"]) in TAKEN_BACK
    ]
    limits: dict[str, int] = {}
    for template in profiles(client, table.name, "META", "COUPON#"):
        limits[template["coupon_id"]] = template["per_user_limit"]
        cid, issued = template["coupon_id"], held.get(template["coupon_id"], [])
        left = sum(
            i["left"]
            for i in table.batch_get(
                [key(f"CPNBUDGET#{cid}#{n:02d}", "META") for n in range(template["budget_shards"])]
            )
        )
        if left + len(issued) != template["budget_count"]:
            found.append(
                CouponDifference(
                    f"coupon {cid}", f"{left} left + {len(issued)} issued != budget {template['budget_count']}"
                )
            )
    counts = {
        tuple(c["pk"].split("#")[1:3]): c["count"]
        for c in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "CPNUSER#"}})
    }
    per_user: dict[tuple[str, str], int] = {}
    for cid, coupons in held.items():
        for c in coupons:
            per_user[(cid, c["user_id"])] = per_user.get((cid, c["user_id"]), 0) + 1
    for pair in sorted(set(counts) | set(per_user)):
        if counts.get(pair, 0) != per_user.get(pair, 0):
            found.append(
                CouponDifference(
                    f"coupon {pair[0]} of {pair[1]}", f"counted {counts.get(pair, 0)} but holds {per_user.get(pair, 0)}"
                )
            )
        if per_user.get(pair, 0) > limits.get(pair[0], 0):
            found.append(
                CouponDifference(
                    f"coupon {pair[0]} of {pair[1]}", f"holds {per_user[pair]}, over the limit {limits.get(pair[0])}"
                )
            )
    used = {c["coupon"]: c.get("order_id") for coupons in held.values() for c in coupons}
    for order in profiles(client, table.name, "META", "ORDER#"):
        oid, lines = order["order_id"], order["lines"]
        parts = sum(line.get("discount_fen", 0) for line in lines)
        paid = order["cash_due_fen"] + order["points_applied"] * 10
        problems = [
            f"discount {order.get('discount_fen', 0)} but its lines' parts sum to {parts}"
            if parts != order.get("discount_fen", 0)
            else "",
            f"points and cash pay {paid}, not {order['subtotal_fen']} - {parts}"
            if paid != order["subtotal_fen"] - parts
            else "",
        ]
        coupon = order.get("coupon")
        if coupon and order["status"] not in ENDED and used.get(coupon) != oid:
            problems.append(f"uses coupon {coupon}, which names order {used.get(coupon)}")
        found += [CouponDifference(f"order {oid}", p) for p in problems if p]
        if coupon and used.get(coupon) == oid and order["status"] in ENDED:
            found.append(CouponDifference(f"coupon {coupon}", f"still used by {order['status']} order {oid}"))
    found += [
        CouponDifference(f"coupon {c}", f"used by order {o}, which does not exist")
        for c, o in used.items()
        if o and o not in statuses
    ]
    return found


@dataclass
class ReportDifference:
    day: str
    report: dict[str, int]
    ledgers: dict[str, int]

    def describe(self) -> str:
        return f"points report {self.day}: {self.report} but the ledger entries it counted sum to {self.ledgers}"


@dataclass
class UncountedDifference:
    entries: int
    before: str

    def describe(self) -> str:
        return (
            f"points report: {self.entries} ledger entries written before {self.before} were never counted "
            "(run make backfill-report)"
        )


def report_differences(client: Any, table: Any, uncounted_before: str = "") -> list[AnyDifference]:
    """Days whose points report differs from the ledger entries marked as counted in it (entries the stream has
    not delivered yet are not in the report, nor marked); and, with `uncounted_before`, entries older than it that
    are not counted."""
    from chalicelib.adapters.report_repo import ReportRepository
    from chalicelib.domain.report import line_sums
    from chalicelib.services.report import day_and_shard

    ledgers: dict[str, dict[str, int]] = {}
    for entry in _scan(
        client,
        table.name,
        "begins_with(pk, :u) AND begins_with(sk, :l) AND reported = :yes",
        {":u": {"S": "USER#"}, ":l": {"S": "LEDGER#"}, ":yes": {"BOOL": True}},
    ):
        sums = ledgers.setdefault(day_and_shard(entry)[0], {"entries": 0})
        sums["entries"] += 1
        for line, points in line_sums([entry]).items():
            sums[line] = sums.get(line, 0) + points
    report = ReportRepository(table).days("9999-12-31")
    lost: list[AnyDifference] = []
    if uncounted_before:
        old = sum(
            1
            for _ in _scan(
                client,
                table.name,
                "begins_with(pk, :u) AND begins_with(sk, :l) AND "
                "attribute_not_exists(reported) AND created_at < :before",
                {":u": {"S": "USER#"}, ":l": {"S": "LEDGER#"}, ":before": {"S": uncounted_before}},
            )
        )
        lost = [UncountedDifference(old, uncounted_before)] if old else []
    return lost + [
        ReportDifference(day, report.get(day, {}), ledgers.get(day, {}))
        for day in sorted(set(report) | set(ledgers))
        if {k: v for k, v in report.get(day, {}).items() if v} != {k: v for k, v in ledgers.get(day, {}).items() if v}
    ]


@dataclass
class ItemDifference:
    what: str
    problem: str

    def describe(self) -> str:
        return f"{self.what}: {self.problem}"


def merchant_differences(client: Any, table: Any, uncounted_before: str = "") -> list[AnyDifference]:
    """Points paid at merchants that do not add up: a payment's refunded points are the sum of its refunds and never
    above it; the shopper's ledger holds exactly `merchant_payment` of the payment and one `merchant_refund` per
    refund; every statement day equals the payments and refunds marked stated in it; and, with `uncounted_before`,
    no payment or refund older than it is missing from its statement (a record the stream never delivered)."""
    from chalicelib.adapters.merchant_payments_repo import SUMS
    from chalicelib.services.merchant_payments import statement_day_of, statement_sums

    users = UserRepository(table)
    payments: dict[str, dict[str, Any]] = {}
    refunds: dict[str, list[dict[str, Any]]] = {}
    stated: dict[tuple[str, str], dict[str, int]] = {}
    unstated: list[str] = []
    for item in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "MPAY#"}}):
        at = item.get("captured_at") or item.get("created_at", "")
        if uncounted_before and not item.get("stated") and at < uncounted_before:
            unstated.append(item.get("refund_id") or item["payment_id"])
        if item["sk"] == "META":
            payments[item["payment_id"]] = item
        else:
            refunds.setdefault(item["payment_id"], []).append(item)
        if item.get("stated"):
            sums = stated.setdefault((item["merchant_id"], statement_day_of(item)), {})
            for name, value in statement_sums(item).items():
                sums[name] = sums.get(name, 0) + value
    found: list[AnyDifference] = [
        ItemDifference(f"merchant payment or refund {i}", f"written before {uncounted_before}, never in a statement")
        for i in sorted(unstated)
    ]
    for pid, payment in sorted(payments.items()):
        back = [r["points"] for r in refunds.get(pid, [])]
        if payment["refunded"] != sum(back) or payment["refunded"] > payment["points"]:
            found.append(
                ItemDifference(
                    f"merchant payment {pid}", f"refunded {payment['refunded']} of {payment['points']}, refunds {back}"
                )
            )
        entries = sorted(
            (e["kind"], e["delta"]) for e in users.ledger_entries(payment["user_id"], f"merchant_payment:{pid}")
        )
        expected = sorted([("merchant_payment", -payment["points"])] + [("merchant_refund", b) for b in back])
        if entries != expected:
            found.append(
                ItemDifference(f"merchant payment {pid}", f"the shopper's ledger has {entries}, expected {expected}")
            )
    for pid in sorted(set(refunds) - set(payments)):
        found.append(ItemDifference(f"merchant payment {pid}", "has refunds but no payment"))
    kept = {
        (i["merchant_id"], i["day"]): {k: i.get(k, 0) for k in SUMS if i.get(k, 0)}
        for i in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "MSTMT#"}})
    }
    for merchant_day in sorted(set(kept) | set(stated)):
        if kept.get(merchant_day, {}) != stated.get(merchant_day, {}):
            found.append(
                ItemDifference(
                    f"merchant statement {'/'.join(merchant_day)}",
                    f"statement {kept.get(merchant_day, {})} but its stated payments and refunds sum to "
                    f"{stated.get(merchant_day, {})}",
                )
            )
    return found


def booking_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Bookings that do not add up: every slot item holds as many bookings as the day records that cover it, never
    more than its resource's capacity; and every day record belongs to a booking line of an order that still holds
    its slots (not expired, cancelled, refunded or failed)."""
    from chalicelib.adapters.orders_repo import OrderRepository

    orders = OrderRepository(table)
    released = ("expired", "cancelled", "refunded", "payment_failed")
    covered: dict[tuple[str, str, str], int] = {}
    found: list[AnyDifference] = []
    for record in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "BOOKING#"}}):
        day = record["pk"].split("#")[2]  # a record on each day the booking covers: count that day's slots
        for slot in record["slot_starts"]:
            date, start = slot.split(" ")
            if date == day:
                k = (record["resource_id"], date, start)
                covered[k] = covered.get(k, 0) + 1
        order = orders.get(record["order_id"])
        if order is None or order.status in released:
            found.append(
                ItemDifference(
                    f"booking {record['order_id']}",
                    f"holds {record['resource_id']} slots but its order is {order.status if order else 'missing'}",
                )
            )
    capacity = {r["resource_id"]: r["capacity"] for r in profiles(client, table.name, "META", "RESOURCE#")}
    taken: dict[tuple[str, str, str], int] = {}
    for item in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "SLOT#"}}):
        rid, date = item["pk"].split("#")[1:3]
        taken[(rid, date, item["sk"])] = item.get("taken", 0)
    for k in sorted(set(taken) | set(covered)):
        if taken.get(k, 0) != covered.get(k, 0) or taken.get(k, 0) > capacity.get(k[0], 0):
            found.append(
                ItemDifference(
                    f"slot {' '.join(k)}",
                    f"holds {taken.get(k, 0)} (capacity {capacity.get(k[0])}) but {covered.get(k, 0)} bookings cover it",
                )
            )
    return found


def tip_differences(client: Any, table: Any, uncounted_before: str = "") -> list[AnyDifference]:
    """Tips that do not add up: what the creator got plus what burned is the tip; the sender's ledger holds
    `tip_sent` of the tip and the creator's `tip_received` of what they got (so the report's `burned` is the tips'
    burn); every day's sender → recipient flow equals the tips marked counted in it; and, with `uncounted_before`, no
    tip older than it is missing from its flow."""
    from chalicelib.services.tips import day_of

    users = UserRepository(table)
    counted: dict[tuple[str, str, str], tuple[int, int]] = {}
    found: list[AnyDifference] = []
    for tip in profiles(client, table.name, "META", "TIP#"):
        tid, ref = tip["tip_id"], f"tip:{tip['tip_id']}"
        if tip["received"] + tip["burned"] != tip["points"] or tip["received"] < 1:
            found.append(ItemDifference(f"tip {tid}", f"received {tip['received']} + burned {tip['burned']}"))
        sent = [(e["kind"], e["delta"]) for e in users.ledger_entries(tip["from_user_id"], ref)]
        got = [(e["kind"], e["delta"]) for e in users.ledger_entries(tip["to_user_id"], ref)]
        if sent != [("tip_sent", -tip["points"])] or got != [("tip_received", tip["received"])]:
            found.append(ItemDifference(f"tip {tid}", f"ledgers: sender {sent}, creator {got}"))
        if uncounted_before and not tip.get("counted") and tip["created_at"] < uncounted_before:
            found.append(ItemDifference(f"tip {tid}", f"written before {uncounted_before}, never in a flow"))
        if tip.get("counted"):
            pair = (day_of(tip), tip["from_user_id"], tip["to_user_id"])
            points, n = counted.get(pair, (0, 0))
            counted[pair] = (points + tip["points"], n + 1)
    kept = {
        (i["pk"].split("#")[1], i["from_user_id"], i["to_user_id"]): (i["points"], i["tips"])
        for i in _scan(client, table.name, "begins_with(pk, :p)", {":p": {"S": "TIPFLOW#"}})
    }
    for pair in sorted(set(kept) | set(counted)):
        if kept.get(pair) != counted.get(pair):
            found.append(ItemDifference(f"tip flow {pair}", f"kept {kept.get(pair)}, tips {counted.get(pair)}"))
    return found


def envelope_differences(client: Any, table: Any) -> list[AnyDifference]:
    """Red envelopes whose points do not add up: all K shards exist and their shares sum to the total; every claim
    item matches one share taken off its shard, with that share's points; claims plus what is left (or went back,
    once closed) make the total; and the funding matches: the sender's ledger holds `envelope_sent` of the total and
    `envelope_refund` of what came back, or the campaign holds the funding (and return) record."""
    repo = EnvelopeRepository(table)
    users = UserRepository(table)
    found: list[AnyDifference] = []
    for envelope in profiles(client, table.name, "META", "ENVELOPE#"):
        eid, total, count = envelope["envelope_id"], envelope["total_points"], envelope["shard_count"]
        shards, _ = repo.shards(eid, count)
        if [s.shard for s in shards] != list(range(count)):
            found.append(EnvelopeDifference(eid, f"has {len(shards)} of its {count} shards"))
            continue
        claims = repo.all_claims(eid, count)
        wrong = [
            c["user_id"]
            for c in claims
            if c["index"] not in shards[c["shard"]].claimed or shards[c["shard"]].amounts[c["index"]] != c["points"]
        ]
        paid, dealt = sum(c["points"] for c in claims), sum(sum(s.amounts) for s in shards)
        closed = "swept_at" in envelope
        rest = envelope["refunded_points"] if closed else sum(s.points_left for s in shards)
        taken = sum(s.taken for s in shards)
        problems = [
            f"its shares sum to {dealt}, not {total}" if dealt != total else "",
            f"{taken} shares taken but {len(claims)} claims" if taken != len(claims) else "",
            f"claims of {wrong} match no share taken" if wrong else "",
            f"claims {paid} + left or returned {rest} != total {total}" if paid + rest != total else "",
            _funding_problem(table, users, envelope, closed),
        ]
        found += [EnvelopeDifference(eid, p) for p in problems if p]
    return found


def _funding_problem(table: Any, users: UserRepository, envelope: dict[str, Any], closed: bool) -> str:
    eid, returned = envelope["envelope_id"], envelope.get("refunded_points", 0) if closed else 0
    if envelope["funded_by"] == "campaign":
        pk = f"CAMPAIGN#{envelope['campaign_id']}"
        funded = table.get(key(pk, f"ENVELOPE#{eid}"))
        back = table.get(key(pk, f"ENVELOPE#{eid}#RETURN"))
        got = ((funded or {}).get("points"), (back or {}).get("points", 0))
        return (
            ""
            if got == (envelope["total_points"], returned)
            else f"campaign records {got}, expected ({envelope['total_points']}, {returned})"
        )
    entries = users.ledger_entries(envelope["sender_id"], f"envelope:{eid}")
    sent = sorted((e["kind"], e["delta"]) for e in entries)
    expected = sorted(
        [("envelope_sent", -envelope["total_points"])] + ([("envelope_refund", returned)] if returned else [])
    )
    return "" if sent == expected else f"sender's ledger has {sent}, expected {expected}"


def local_services() -> Any:
    """The container of the `make run` database (DynamoDB Local on LIFESHOP_DDB_PORT, default 8001)."""
    import os

    from chalicelib.bootstrap import Container
    from chalicelib.settings import Settings
    from tools.localstack import LOCAL_CREDENTIALS

    for k, v in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(k, v)
    os.environ.setdefault(
        "LIFESHOP_DYNAMODB_ENDPOINT", f"http://127.0.0.1:{os.environ.get('LIFESHOP_DDB_PORT', '8001')}"
    )
    return Container(Settings())


def main() -> int:
    import datetime as dt

    services = local_services()
    a_day_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat(timespec="milliseconds")
    now = services.clock.now().astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    checked, differences = reconcile(services.dynamodb, services.table, a_day_ago.replace("+00:00", "Z"), now)
    for d in differences:
        print(d.describe())
    print(f"reconcile {services.settings.store_table}: {checked} users checked, {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
