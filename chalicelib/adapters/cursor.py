"""Opaque, tamper-safe pagination cursors: a DynamoDB key signed with the server's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any, Optional

from chalicelib.domain.errors import InvalidRequest

_KEY_NAME = re.compile(r"^(pk|sk|gsi[1-4](pk|sk))$")


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes, scope: str) -> bytes:
        return hmac.new(self._secret, scope.encode() + b"|" + payload, hashlib.sha256).digest()[:16]

    def encode(self, last_key: Optional[dict[str, Any]], scope: str) -> Optional[str]:
        """`scope` binds the cursor to one listing, so it cannot be replayed on another."""
        if not last_key:
            return None
        payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
        token = self._sign(payload, scope) + payload
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, cursor: Optional[str], scope: str) -> Optional[dict[str, Any]]:
        if cursor is None:
            return None
        bad = InvalidRequest("cursor is not valid for this listing", {"fields": {"cursor": "invalid cursor"}})
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, TypeError):
            raise bad from None
        signature, payload = raw[:16], raw[16:]
        if len(signature) < 16 or not hmac.compare_digest(signature, self._sign(payload, scope)):
            raise bad
        try:
            key = json.loads(payload)
        except ValueError:
            raise bad from None
        if (
            not isinstance(key, dict)
            or not key
            or not all(
                isinstance(k, str) and _KEY_NAME.fullmatch(k) and isinstance(v, str) and 0 < len(v) <= 2048
                for k, v in key.items()
            )
        ):
            raise bad  # signed with our key but not a key of ours (a forged or stale cursor): never a 500
        return key
