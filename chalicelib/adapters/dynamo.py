"""DynamoDB plumbing: item (de)serialisation, reads, and the one unit of work (`Transaction`) every change goes through."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Container, Iterable, Iterator, Optional, Sequence, TypeVar, Union

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.domain.errors import InvalidRequest

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
T = TypeVar("T")


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def to_values(data: dict[str, Any]) -> dict[str, Any]:
    """Expression attribute values (keys start with ':')."""
    return {k: _serializer.serialize(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def from_item(item: dict[str, Any], only: Optional[Container[str]] = None) -> dict[str, Any]:
    """An item as plain values (`only` those attributes, if given). Strings, whole numbers, booleans and maps, most of
    every item, are read inline (a third faster than a call per attribute: every item a request reads passes here);
    the rest through `_value`."""
    plain = {}
    for name, typed in item.items():
        if only is not None and name not in only:
            continue
        if "S" in typed:
            plain[name] = typed["S"]
        elif "N" in typed and typed["N"].isdigit():
            plain[name] = int(typed["N"])
        elif "BOOL" in typed:
            plain[name] = typed["BOOL"]
        elif "M" in typed:  # a map's values read as an item's are
            plain[name] = from_item(typed["M"])
        else:
            plain[name] = _value(typed)
    return plain


def _value(typed: dict[str, Any]) -> Any:
    """One attribute value as a plain one: the shop's types directly (numbers are whole: fen, points, counts),
    anything else through boto3's deserializer; the same values as `_plain(deserialize(...))`, about three times
    faster (every item a request reads passes here)."""
    if len(typed) == 1:
        kind, value = next(iter(typed.items()))
        if kind == "S" or kind == "BOOL":
            return value
        if kind == "N":
            return int(value) if value.lstrip("-").isdigit() else int(DYNAMODB_CONTEXT.create_decimal(value))
        if kind == "M":
            return {k: _value(v) for k, v in value.items()}
        if kind == "L":
            return [_value(v) for v in value]
        if kind == "NULL":
            return None
    return _plain(_deserializer.deserialize(typed))


def from_image(image: dict[str, Any]) -> dict[str, Any]:
    """A stream record's item image as plain values. DynamoDB Local writes an empty map as `{}` (no type) in stream
    images; that is read as the empty map it was."""

    def typed(value: Any) -> Any:
        if value == {}:
            return {"M": {}}
        if "M" in value:
            return {"M": {k: typed(v) for k, v in value["M"].items()}}
        if "L" in value:
            return {"L": [typed(v) for v in value["L"]]}
        return value

    return from_item({k: typed(v) for k, v in image.items()})


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def cancellation_codes(exc: ClientError) -> list[str]:
    """One code per transaction item, in order ('None' where that item did not fail)."""
    reasons: Iterable[dict[str, Any]] = exc.response.get("CancellationReasons", [])
    return [r.get("Code", "None") for r in reasons]


def batch_get(
    client: Any,
    table: str,
    keys: list[dict[str, Any]],
    consistent: bool = True,
    read: Callable[[dict[str, Any]], Any] = from_item,
) -> list[Any]:
    """Every existing item of `keys` (unprocessed keys retried), as plain dicts, or as `read` makes them of the item
    DynamoDB sent; `consistent=False` reads at half the capacity and may miss the last second's writes (for a plan
    whose write conditions catch that)."""
    found: list[Any] = []
    for start in range(0, len(keys), 100):
        request = {table: {"Keys": keys[start : start + 100], "ConsistentRead": consistent}}
        while request:
            out = client.batch_get_item(RequestItems=request)
            found.extend(map(read, out.get("Responses", {}).get(table, [])))
            request = out.get("UnprocessedKeys") or {}
    return found


class LostRace(Exception):
    """The state a write was planned from changed before it committed: re-read, re-plan, retry."""


class Replay(Exception):
    """A once-only record already exists: the caller answers with the first result."""


class Contention(Exception):
    """A transaction lost a race with another one (no condition failed); safe to retry."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(f"transaction conflicted: {codes}")
        self.codes = codes


@dataclass(frozen=True)
class KeyRange:
    """The items one Query reads: the partition `partition` of key `pk_name` (the table's or an index's), sort keys
    (`sk_name`) starting with `sk_prefix` and from `sk_from` on. A page's starting key must lie in it: DynamoDB
    refuses one that does not (a 500), and a signed cursor of another listing must not read this one's items."""

    pk_name: str
    partition: str
    sk_name: str
    sk_prefix: str = ""
    sk_from: str = ""

    def holds(self, start: dict[str, Any]) -> bool:
        sort = start.get(self.sk_name)
        return (
            start.get(self.pk_name) == self.partition
            and isinstance(sort, str)
            and sort.startswith(self.sk_prefix)
            and sort >= self.sk_from
        )


# What a failed condition means: an error to raise, or a function that builds it (for errors that read first).
OnFail = Union[Exception, Callable[[], Exception]]


class Transaction:
    """One TransactWriteItems. Each operation is added with what its failed condition means, and `commit`
    raises exactly that (by default `LostRace`: what was read changed, so the caller re-reads and re-plans)."""

    def __init__(self, table: "Table") -> None:
        self._table = table
        self._ops: list[dict[str, Any]] = []
        self._on_fail: list[OnFail] = []

    def __len__(self) -> int:
        return len(self._ops)

    def put(
        self,
        item: dict[str, Any],
        condition: Optional[str] = None,
        values: Optional[dict[str, Any]] = None,
        names: Optional[dict[str, str]] = None,
        *,
        on_fail: OnFail = LostRace,
    ) -> None:
        self._add("Put", {"Item": to_item(item)}, condition, values, names, on_fail)

    def create(self, item: dict[str, Any], *, on_fail: OnFail = LostRace) -> None:
        """Put `item` only if nothing has its key yet."""
        self.put(item, "attribute_not_exists(pk)", on_fail=on_fail)

    def update(
        self,
        item_key: dict[str, Any],
        expression: str,
        values: dict[str, Any],
        condition: Optional[str] = None,
        names: Optional[dict[str, str]] = None,
        *,
        on_fail: OnFail = LostRace,
    ) -> None:
        self._add("Update", {"Key": item_key, "UpdateExpression": expression}, condition, values, names, on_fail)

    def delete(
        self,
        item_key: dict[str, Any],
        condition: Optional[str] = None,
        values: Optional[dict[str, Any]] = None,
        *,
        on_fail: OnFail = LostRace,
    ) -> None:
        self._add("Delete", {"Key": item_key}, condition, values, None, on_fail)

    def check(
        self,
        item_key: dict[str, Any],
        condition: str,
        values: dict[str, Any],
        names: Optional[dict[str, str]] = None,
        *,
        on_fail: OnFail,
    ) -> None:
        """A condition on an item this transaction does not write."""
        self._add("ConditionCheck", {"Key": item_key}, condition, values, names, on_fail)

    def _add(
        self,
        kind: str,
        op: dict[str, Any],
        condition: Optional[str],
        values: Optional[dict[str, Any]],
        names: Optional[dict[str, str]],
        on_fail: OnFail,
    ) -> None:
        op["TableName"] = self._table.name
        if condition:
            op["ConditionExpression"] = condition
        if values:
            op["ExpressionAttributeValues"] = to_values(values)
        if names:
            op["ExpressionAttributeNames"] = names
        self._ops.append({kind: op})
        self._on_fail.append(on_fail)

    def commit(self) -> None:
        """Write everything or nothing; a failed condition raises that operation's own error (the first one
        added, when several fail)."""
        if not self._ops:
            return
        if len(self._ops) > MAX_TRANSACTION_ITEMS:
            raise InvalidRequest(
                f"this change would write {len(self._ops)} items at once; at most "
                f"{MAX_TRANSACTION_ITEMS} can change together, so split it into smaller changes",
                {"items": len(self._ops), "max_items": MAX_TRANSACTION_ITEMS},
            )
        try:
            self._table.client.transact_write_items(TransactItems=self._ops)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(exc)
            for on_fail, code in zip(self._on_fail, codes, strict=False):
                if code == "ConditionalCheckFailed":
                    raise (on_fail if isinstance(on_fail, Exception) else on_fail()) from None
            raise Contention(codes) from None


def move_status(
    tx: Transaction,
    item_key: dict[str, Any],
    status_before: str,
    sets: dict[str, Any],
    removed: Sequence[str],
    *,
    on_fail: OnFail,
) -> None:
    """Update an item's attributes (`sets`, dropping `removed`) only if its status is still `status_before`: an
    update, not a put, so counters other writers ADD to survive."""
    expression = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
    if removed:
        expression += " REMOVE " + ", ".join(removed)
    values = {f":{k}": v for k, v in sets.items()}
    values[":from"] = status_before
    names = {f"#{k}": k for k in sets}
    names["#st"] = "status"
    tx.update(item_key, expression, values, condition="#st = :from", names=names, on_fail=on_fail)


class Table:
    """One DynamoDB table: consistent reads, newest-first pages, work lists on gsi1, and transactions."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def transaction(self) -> Transaction:
        return Transaction(self)

    def get(self, item_key: dict[str, Any]) -> Optional[dict[str, Any]]:
        out = self.client.get_item(TableName=self.name, Key=item_key, ConsistentRead=True)
        return from_item(out["Item"]) if "Item" in out else None

    def batch_get(self, keys: list[dict[str, Any]], consistent: bool = True) -> list[dict[str, Any]]:
        return batch_get(self.client, self.name, keys, consistent) if keys else []

    def batch_read(self, keys: list[dict[str, Any]], read: Callable[[dict[str, Any]], T]) -> list[T]:
        """`batch_get` (consistent), each item made by `read` from the item as DynamoDB sent it (typed values)."""
        return batch_get(self.client, self.name, keys, True, read) if keys else []

    def page(
        self, index: str, partition: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        """Newest first on an overloaded GSI; one item more than asked tells if a next page exists."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "Limit": limit + 1,
            "ScanIndexForward": False,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": f"{index}pk"},
            "ExpressionAttributeValues": to_values({":pk": partition}),
        }
        reads = KeyRange(f"{index}pk", partition, f"{index}sk")
        return self._collect(params, limit, start, ("pk", "sk", f"{index}pk", f"{index}sk"), reads)

    def upcoming(
        self,
        index: str,
        partition: str,
        since: str,
        limit: int,
        start: Optional[dict[str, Any]],
        still: Optional[tuple[str, str, str]] = None,
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        """Oldest first on an overloaded GSI, from sort key `since`; `still` = (attribute, '>', value) keeps only
        the items for which it holds (a filter: pages are filled up to `limit` all the same)."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "Limit": limit + 1,
            "ScanIndexForward": True,
            "KeyConditionExpression": "#pk = :pk AND #sk >= :since",
            "ExpressionAttributeNames": {"#pk": f"{index}pk", "#sk": f"{index}sk"},
            "ExpressionAttributeValues": to_values({":pk": partition, ":since": since}),
        }
        if still:
            name, op, value = still
            params["FilterExpression"] = f"#f {op} :f"
            params["ExpressionAttributeNames"]["#f"] = name
            params["ExpressionAttributeValues"].update(to_values({":f": value}))
        reads = KeyRange(f"{index}pk", partition, f"{index}sk", sk_from=since)
        return self._collect(params, limit, start, ("pk", "sk", f"{index}pk", f"{index}sk"), reads)

    def partition(self, index: str, partition: str) -> list[dict[str, Any]]:
        """Every item of one partition of an index, oldest sort key first (for bounded partitions only)."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :p",
            "ExpressionAttributeNames": {"#pk": f"{index}pk"},
            "ExpressionAttributeValues": to_values({":p": partition}),
        }
        items: list[dict[str, Any]] = []
        while True:
            out = self.client.query(**params)
            items.extend(from_item(i) for i in out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                return items
            params["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def query_all(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a Query finds, page after page (for partitions whose size a caller bounds)."""
        params = {"TableName": self.name, **params}
        while True:
            out = self.client.query(**params)
            yield from (from_item(i) for i in out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                return
            params["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def due(self, partition: str, before: str, limit: int = 100, index: str = "gsi1") -> list[dict[str, Any]]:
        """A work list: items of `partition` on `index` whose sort key (`<time>#<id>...`) is below `before`,
        oldest first."""
        out = self.client.query(
            TableName=self.name,
            IndexName=index,
            Limit=limit,
            KeyConditionExpression="#pk = :p AND #sk < :t",
            ExpressionAttributeNames={"#pk": f"{index}pk", "#sk": f"{index}sk"},
            ExpressionAttributeValues=to_values({":p": partition, ":t": before}),
        )
        return [from_item(i) for i in out.get("Items", [])]

    def _collect(
        self,
        params: dict[str, Any],
        limit: int,
        start: Optional[dict[str, Any]],
        key_names: tuple[str, ...],
        reads: KeyRange,
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        """Every paged listing goes through here: a starting key (a decoded cursor) of another listing's shape, or
        outside the items this query reads, is 400, whoever signed it."""
        if start:
            if set(start) != set(key_names) or not reads.holds(start):
                raise InvalidRequest("cursor is not valid for this listing", {"fields": {"cursor": "invalid cursor"}})
            params["ExclusiveStartKey"] = to_item(start)
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            out = self.client.query(**params)
            items.extend(from_item(i) for i in out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                break
            params["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        if len(items) <= limit:
            return items, None
        items = items[:limit]
        tail = items[-1]
        return items, {k: tail[k] for k in key_names}

    def query_page(
        self, partition: str, sk_prefix: str, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        """Items of one partition whose sort key starts with `sk_prefix`, newest (highest sk) first."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "Limit": limit + 1,
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_values({":pk": partition, ":prefix": sk_prefix}),
        }
        return self._collect(params, limit, start, ("pk", "sk"), KeyRange("pk", partition, "sk", sk_prefix=sk_prefix))

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        """Write `item` unless an item with its key exists; True if this call wrote it."""
        try:
            self.client.put_item(
                TableName=self.name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
            return True
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
