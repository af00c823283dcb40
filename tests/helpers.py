"""Test builders and a tiny API client with one interface for in-process and live HTTP calls."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from chalicelib.adapters.tokens import mint_local_token


def uid(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def product_body(**overrides: Any) -> dict[str, Any]:
    sku = uid("SKU").upper()
    body: dict[str, Any] = {
        "product_id": uid("p"),
        "category": "tech",
        "title": "Test Gadget",
        "title_zh": "测试小工具",
        "description": "made by a test",
        "skus": [{"sku": sku, "attributes": {"colour": "black"}, "price_fen": 19900, "stock": 10}],
    }
    body.update(overrides)
    return body


class FakeClock:
    """Real time until pinned with `set`; tests move it across the Asia/Shanghai midnight."""

    def __init__(self) -> None:
        self.fixed: Optional[dt.datetime] = None

    def now(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.timezone.utc)

    def set(self, iso_utc: str) -> None:
        self.fixed = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))


@dataclass
class Reply:
    status: int
    json: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> Optional[str]:
        return (self.json or {}).get("error", {}).get("code") if isinstance(self.json, dict) else None


class Tokens:
    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(
        self,
        user_id: str,
        *groups: str,
        lifetime_s: int = 3600,
        partner_id: Optional[str] = None,
        merchant_id: Optional[str] = None,
    ) -> str:
        now = int(time.time())
        return mint_local_token(self.secret, user_id, list(groups), lifetime_s, now, partner_id, merchant_id)

    def header(self, user_id: str, *groups: str, partner_id: Optional[str] = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self(user_id, *groups, partner_id=partner_id)}"}


class ApiClient:
    """`as_user` picks the bearer token; `raw` sends bytes as they are."""

    def __init__(self, send: Any, tokens: Tokens) -> None:
        self._send = send
        self.tokens = tokens

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: Optional[str] = None,
        groups: tuple[str, ...] = (),
        headers: Optional[dict[str, str]] = None,
        raw: Optional[bytes] = None,
        partner: Optional[str] = None,
    ) -> Reply:
        """`partner` calls as a user of that fulfillment partner (group partner, claim partner_id)."""
        h = {"Content-Type": "application/json"}
        if partner:
            user, groups = user or f"{partner}-staff", ("partner", *groups)
        if user:
            h.update(self.tokens.header(user, *groups, partner_id=partner))
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        return self._send(method, path, h, data)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def merch(self, method: str, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call(method, path, body, user="merch-t", groups=("merchandiser",), **kw)
