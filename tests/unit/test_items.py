"""DynamoDB's typed attribute values read as plain ones: the shop's fast path gives exactly what boto3's
deserializer (with numbers as whole ints, sets as lists) gives."""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.types import Binary, TypeDeserializer

from chalicelib.adapters.dynamo import _plain, from_item, to_item


def test_the_fast_reader_gives_what_boto3s_deserializer_gives():
    item = to_item(
        {
            "pk": "SKU#A",
            "stock": 12,
            "zero": 0,
            "empty": "",
            "off": False,
            "negative": -5,
            "big": 10**20,
            "fraction": Decimal("1.5"),
            "accepts": {"points": True, "cash": False},
            "attributes": {},
            "lines": [1, {"a": [2, "x"]}],
            "names": {"x", "y"},
            "numbers": {1, 2},
            "blob": Binary(b"\x00\x01"),
        }
    )
    item["missing"] = {"NULL": True}
    slow = {k: _plain(TypeDeserializer().deserialize(v)) for k, v in item.items()}
    fast = from_item(item)
    for name in ("names", "numbers"):
        assert sorted(fast.pop(name)) == sorted(slow.pop(name))
    assert fast == slow and fast["fraction"] == 1 and fast["missing"] is None
    assert all(type(fast[k]) is type(slow[k]) for k in fast)


def test_only_the_attributes_asked_for_are_read():
    item = to_item({"pk": "USER#u", "sk": "PROFILE", "tier": "fan", "lots": {"2027-01": 5}})
    assert from_item(item, {"tier", "lots", "absent"}) == {"tier": "fan", "lots": {"2027-01": 5}}
