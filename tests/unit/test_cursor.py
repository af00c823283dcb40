"""Pagination cursors: opaque, bound to one listing and one secret, and refused when touched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from chalicelib.adapters.cursor import CursorCodec
from chalicelib.domain.errors import InvalidRequest

SECRET = b"unit-test-cursor-secret"
SCOPE = "orders:u-1"
KEYS = [
    {"pk": "USER#u-1", "sk": "ORDER#2025-03-01T00:00:00Z#o-1"},
    {"pk": "PRODUCT#a", "sk": "META", "gsi1pk": "CATEGORY#tech", "gsi1sk": "2025-03-01"},
    {"pk": "DESIGN#d-1", "sk": "META", "gsi4pk": "DESIGN#PUBLIC#C#home", "gsi4sk": "2025-03-01T00:00:00Z#d-1"},
    {"pk": "用户#名", "sk": "订单#1"},  # non-ASCII keys survive
]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(SECRET)


def refused(codec: CursorCodec, cursor, scope: str = SCOPE) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as err:
        codec.decode(cursor, scope)
    return err.value


@pytest.mark.parametrize("key", KEYS)
def test_round_trip(codec, key):
    cursor = codec.encode(key, SCOPE)
    assert isinstance(cursor, str) and codec.decode(cursor, SCOPE) == key


@pytest.mark.parametrize("key", KEYS)
def test_cursor_is_url_safe_without_padding(codec, key):
    cursor = codec.encode(key, SCOPE)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_key_order_does_not_change_the_cursor(codec):
    assert codec.encode({"pk": "a", "sk": "b"}, SCOPE) == codec.encode({"sk": "b", "pk": "a"}, SCOPE)


@pytest.mark.parametrize("last_key", [None, {}])
def test_no_last_key_means_no_cursor(codec, last_key):
    assert codec.encode(last_key, SCOPE) is None


def test_no_cursor_means_the_first_page(codec):
    assert codec.decode(None, SCOPE) is None


def test_cursor_format_is_a_16_byte_hmac_of_scope_and_payload_then_the_payload(codec):
    raw = unb64(codec.encode({"pk": "a", "sk": "b"}, SCOPE))
    payload = b'{"pk":"a","sk":"b"}'
    assert raw[16:] == payload
    assert raw[:16] == hmac.new(SECRET, SCOPE.encode() + b"|" + payload, hashlib.sha256).digest()[:16]


@pytest.mark.parametrize("other_scope", ["orders:u-2", "orders:u-1 ", "ORDERS:U-1", "products:tech", ""])
def test_a_cursor_is_bound_to_its_listing(codec, other_scope):
    cursor = codec.encode(KEYS[0], SCOPE)
    error = refused(codec, cursor, other_scope)
    assert error.code == "invalid_request"
    assert error.details == {"fields": {"cursor": "invalid cursor"}}


@pytest.mark.parametrize("other_secret", [b"another-secret", SECRET + b"x", SECRET[:-1], b""])
def test_a_cursor_is_bound_to_its_secret(codec, other_secret):
    refused(CursorCodec(other_secret), codec.encode(KEYS[0], SCOPE))


def test_another_instance_with_the_same_secret_reads_the_cursor(codec):
    # the next page may be served by a different Lambda instance
    cursor = codec.encode(KEYS[0], SCOPE)
    assert CursorCodec(bytes(SECRET)).decode(cursor, SCOPE) == KEYS[0]


@pytest.mark.parametrize("position", [0, 7, 15, 16, 17, -2, -1])
def test_flipping_any_byte_is_refused(codec, position):
    raw = bytearray(unb64(codec.encode(KEYS[0], SCOPE)))
    raw[position] ^= 0x01
    refused(codec, b64(bytes(raw)))


def test_a_forged_payload_with_the_old_signature_is_refused(codec):
    raw = unb64(codec.encode({"pk": "USER#u-1", "sk": "A"}, SCOPE))
    forged = raw[:16] + b'{"pk":"USER#u-2","sk":"A"}'
    refused(codec, b64(forged))


@pytest.mark.parametrize("cut", [1, 4, 10])
def test_a_truncated_cursor_is_refused(codec, cut):
    refused(codec, codec.encode(KEYS[0], SCOPE)[:-cut])


def test_only_the_signature_is_refused(codec):
    raw = unb64(codec.encode(KEYS[0], SCOPE))
    refused(codec, b64(raw[:16]))
    refused(codec, b64(raw[:15]))


def test_a_signed_payload_that_is_not_json_is_refused(codec):
    for payload in (b"not json", b"\xff\xfe", b""):
        signature = hmac.new(SECRET, SCOPE.encode() + b"|" + payload, hashlib.sha256).digest()[:16]
        refused(codec, b64(signature + payload))


@pytest.mark.parametrize(
    "cursor", ["", "!!!", "***", "A", "AAAAA", "not a cursor", "游标", "%%%%%%%%%%%%", "=" * 8, "eyJwayI6ImEifQ"]
)  # the last is a bare unsigned {"pk":"a"}
def test_garbage_is_refused_as_an_invalid_request(codec, cursor):
    error = refused(codec, cursor)
    assert error.message == "cursor is not valid for this listing"


@pytest.mark.parametrize("cursor", [123, b"bytes-cursor"])
def test_a_cursor_of_the_wrong_type_is_refused(codec, cursor):
    refused(codec, cursor)


@pytest.mark.parametrize(
    "forged",
    [
        {"pk": "DESIGN#d-1", "sk": "META", "votes": 12},  # not a key attribute
        {"pk": "DESIGN#d-1", "sk": 7},  # not a string
        {"pk": ""},
        {},
        ["pk", "sk"],
        "PRODUCT#a",
        42,  # empty, or not a key at all
    ],
)
def test_a_cursor_signed_with_our_key_that_is_not_a_key_is_refused(forged):
    """Whoever holds the signing key (stage local's is public) still cannot make a listing fail with a 500."""
    codec = CursorCodec(b"k1")
    payload = json.dumps(forged).encode()
    cursor = b64(codec._sign(payload, "scope") + payload)
    with pytest.raises(InvalidRequest):
        codec.decode(cursor, "scope")
