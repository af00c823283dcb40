"""DynamoDB repository of points paid at merchants (key formats: infra/README.md): a shopper's live payment code
(stored by its SHA-256, never in the clear), payments and their refunds, the merchant's Idempotency-Key records, and
the statements the stream consumer keeps per merchant and Shanghai day."""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from chalicelib.adapters.dynamo import LostRace, Replay, Table, Transaction, key, to_values
from chalicelib.domain.errors import CodeInvalid

CODE_INVALID = "this payment code is not valid: it is expired, used, replaced by a newer one, or was never issued"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _plain(pk: str, sk: str) -> dict[str, str]:
    return {"pk": pk, "sk": sk}


def code_key(code: str) -> dict[str, Any]:
    return key(f"PAYCODE#{code_hash(code)}", "META")


def live_code_key(user_id: str) -> dict[str, Any]:
    return key(f"USER#{user_id}", "PAYCODE")


def payment_key(payment_id: str) -> dict[str, Any]:
    return key(f"MPAY#{payment_id}", "META")


def request_key(merchant_id: str, kind: str, idem_key: str) -> dict[str, Any]:
    return key(*_request(merchant_id, kind, idem_key).values())


def _request(merchant_id: str, kind: str, idem_key: str) -> dict[str, str]:
    return _plain(f"IDEM#MERCHANT#{merchant_id}", f"{kind}#{idem_key}")


def statement_key(merchant_id: str, day: str) -> dict[str, Any]:
    return key(f"MSTMT#{merchant_id}", day)


class MerchantPaymentRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    # -- payment codes ------------------------------------------------------------------------------------
    def live_code(self, user_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(live_code_key(user_id))

    def replace_code(
        self, user_id: str, code: str, created_at: str, expires_at: str, before: Optional[dict[str, Any]]
    ) -> None:
        """The user's one live code becomes `code`: the code item, the user's pointer (on condition it still names
        the code read as `before`: LostRace) and the old code's deletion, in one transaction."""
        digest = code_hash(code)
        tx = self._table.transaction()
        tx.create(
            {
                **_plain(f"PAYCODE#{digest}", "META"),
                "user_id": user_id,
                "created_at": created_at,
                "expires_at": expires_at,
            }
        )
        pointer = {
            **_plain(f"USER#{user_id}", "PAYCODE"),
            "code_hash": digest,
            "created_at": created_at,
            "expires_at": expires_at,
        }
        if before:
            tx.put(pointer, "code_hash = :old", {":old": before["code_hash"]})
            tx.delete(key(f"PAYCODE#{before['code_hash']}", "META"))
        else:
            tx.create(pointer)
        tx.commit()

    def code(self, code: str) -> Optional[dict[str, Any]]:
        return self._table.get(code_key(code))

    def reads(self, merchant_id: str, kind: str, idem_key: str, code: str) -> dict[str, Optional[dict[str, Any]]]:
        """What a capture decides from, in one BatchGetItem: the merchant, its earlier request with this key, and the
        code."""
        from chalicelib.adapters.merchants_repo import merchant_key

        wanted = {
            "merchant": merchant_key(merchant_id),
            "request": request_key(merchant_id, kind, idem_key),
            "code": code_key(code),
        }
        found = {(i["pk"], i["sk"]): i for i in self._table.batch_get(list(wanted.values()))}
        return {name: found.get((k["pk"]["S"], k["sk"]["S"])) for name, k in wanted.items()}

    # -- payments and refunds ------------------------------------------------------------------------------
    def request(self, merchant_id: str, kind: str, idem_key: str) -> Optional[dict[str, Any]]:
        return self._table.get(request_key(merchant_id, kind, idem_key))

    def capture(
        self, tx: Transaction, payment: dict[str, Any], code: str, now: str, request: Optional[dict[str, Any]]
    ) -> None:
        """Add to `tx`: the merchant's request record (Replay if its key was used already), the code's deletion
        (CodeInvalid unless it is there and unexpired: a code pays once) and the payment."""
        mid, pid = payment["merchant_id"], payment["payment_id"]
        if request:
            tx.create({**_request(mid, "PAY", request["idempotency_key"]), **request}, on_fail=Replay)
        tx.delete(
            code_key(code),
            "attribute_exists(pk) AND expires_at > :now",
            {":now": now},
            on_fail=CodeInvalid(CODE_INVALID),
        )
        tx.create(
            {
                **_plain(f"MPAY#{pid}", "META"),
                "gsi2pk": f"MPAY#M#{mid}",
                "gsi2sk": f"{payment['captured_at']}#{pid}",
                **payment,
            }
        )

    def payment(self, payment_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(payment_key(payment_id))

    def with_refunds(self, payment_id: str) -> list[dict[str, Any]]:
        """The payment item and its refund items (one Query)."""
        params = {
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": f"MPAY#{payment_id}"}),
        }
        return list(self._table.query_all(params))

    def refund(
        self,
        tx: Transaction,
        payment: dict[str, Any],
        refund: dict[str, Any],
        request: Optional[dict[str, Any]],
    ) -> None:
        """Add to `tx`: the request record (Replay), the payment's refunded points moved on condition they are still
        what was read (LostRace: another refund got there first, so re-read and re-check), and the refund."""
        if request:
            tx.create(
                {**_request(payment["merchant_id"], "REFUND", request["idempotency_key"]), **request},
                on_fail=Replay,
            )
        tx.update(
            payment_key(payment["payment_id"]),
            "SET refunded = :after",
            {":before": payment["refunded"], ":after": payment["refunded"] + refund["points"]},
            condition="refunded = :before",
        )
        tx.create({"pk": f"MPAY#{payment['payment_id']}", "sk": f"REFUND#{refund['refund_id']}", **refund})

    def page(
        self, merchant_id: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        return self._table.page("gsi2", f"MPAY#M#{merchant_id}", limit, start)

    # -- statements (the stream consumer's) -----------------------------------------------------------------
    def state(self, groups: dict[tuple[str, str], dict[str, int]], sources: list[dict[str, Any]]) -> None:
        """Add each (merchant, day)'s sums to its statement and mark every source item (a payment or a refund)
        `stated`, in one transaction; Stated if any source was stated already (then nothing is written)."""
        tx = self._table.transaction()
        for item in sources:
            tx.update(
                key(item["pk"], item["sk"]),
                "SET stated = :yes",
                {":yes": True},
                condition="attribute_exists(pk) AND attribute_not_exists(stated)",
                on_fail=Stated,
            )
        for (merchant_id, day), sums in groups.items():
            names = sorted(sums)
            tx.update(
                statement_key(merchant_id, day),
                "SET merchant_id = :m, #day = :d, gsi2pk = :g, gsi2sk = :s ADD "
                + ", ".join(f"#{n} :{n}" for n in names),
                {
                    ":m": merchant_id,
                    ":d": day,
                    ":g": f"SETTLE#{day[:7]}",
                    ":s": f"{day}#{merchant_id}",
                    **{f":{n}": sums[n] for n in names},
                },
                names={"#day": "day", **{f"#{n}": n for n in names}},
            )
        tx.commit()

    def statement_days(self, merchant_id: str, first: str, last: str) -> dict[str, dict[str, int]]:
        params = {
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": to_values({":pk": f"MSTMT#{merchant_id}", ":a": first, ":b": last}),
        }
        return {i["sk"]: _sums(i) for i in self._table.query_all(params)}

    def settlement_days(self, first: str, last: str) -> dict[str, dict[str, dict[str, int]]]:
        """{merchant: {day: sums}} of every merchant with a statement in the range: one Query per month (gsi2)."""
        found: dict[str, dict[str, dict[str, int]]] = {}
        for month in _months(first, last):
            params = {
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :pk AND gsi2sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": to_values({":pk": f"SETTLE#{month}", ":a": first, ":b": f"{last}#~"}),
            }
            for item in self._table.query_all(params):
                found.setdefault(item["merchant_id"], {})[item["day"]] = _sums(item)
        return found


SUMS = ("payments", "refunds", "redeemed", "refunded")


def _sums(item: dict[str, Any]) -> dict[str, int]:
    return {k: int(item.get(k, 0)) for k in SUMS}


def _months(first: str, last: str) -> list[str]:
    months, (y, m) = [], (int(first[:4]), int(first[5:7]))
    while f"{y:04d}-{m:02d}" <= last[:7]:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


class Stated(LostRace):
    """A payment or refund of the group was added to its statement already."""
