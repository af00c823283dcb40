"""A small shop for checkout tests: products of every payment kind, and users with points."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.catalog import ProductInput
from chalicelib.domain.points import CampaignInput, GrantInput, TierChange
from tests.helpers import uid

ADDRESS = {
    "name": "Li Lei",
    "phone": "+86 138 0000 0000",
    "line1": "1 Anting Road",
    "city": "Shanghai",
    "province": "Shanghai",
    "postal_code": "201805",
    "country": "CN",
}
OWNER_VIN = "LJ1E6A2U5N7000001"


def add_product(
    services: Any,
    *,
    price_fen: int,
    stock: int,
    points: bool = True,
    cash: bool = True,
    category: str = "tech",
    owner_only: bool = False,
    sku_attrs: dict | None = None,
) -> str:
    sku = uid("SKU").upper()
    services.catalog.create(
        "merch-t",
        ProductInput.model_validate(
            {
                "product_id": uid("p"),
                "category": category,
                "title": f"Item {sku}",
                "title_zh": "商品",
                "status": "active",
                "owner_only": owner_only,
                "accepts": {"points": points, "cash": cash},
                "skus": [{"sku": sku, "price_fen": price_fen, "stock": stock, "attributes": sku_attrs or {}}],
            }
        ),
    )
    return sku


def give_points(services: Any, user_id: str, points: int) -> None:
    try:
        services.campaigns.create("merch-t", CampaignInput(campaign_id="test-bank", name="Test", budget_points=10**9))
    except Exception:  # already there
        pass
    services.campaigns.grant(
        "merch-t", "test-bank", GrantInput(user_id=user_id, points=points, reason="test", ref=uid("ref"))
    )


def make_owner(services: Any, user_id: str) -> None:
    services.points.set_tier("merch-t", user_id, TierChange(tier="owner", vin=OWNER_VIN))


def order_body(*lines: tuple[str, int], points: int = 0, address: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"items": [{"sku": s, "qty": q} for s, q in lines], "points": points}
    if address:
        body["shipping_address"] = ADDRESS
    return body


def place(api: Any, user: str, body: dict[str, Any], key: str | None = None):
    return api.post("/orders", body, user=user, headers={"Idempotency-Key": key or uid("idem-key")})


def stock(services: Any, sku: str) -> int:
    return services.catalog._repo.get_sku(sku)["stock"]


def balance(api: Any, user: str) -> dict[str, int]:
    return api.get("/me", user=user).json["points"]


def drain_stream(services: Any) -> int:
    """What Lambda does on AWS: hand the table's new stream records to the outbox consumer."""
    from tools.streams import outbox_poller

    if "outbox_poller" not in services.__dict__:  # one per container: it remembers where each shard stopped
        services.__dict__["outbox_poller"] = outbox_poller(services)
    return services.__dict__["outbox_poller"].poll()


def queued_events(services: Any, partner: str | None = None) -> list[dict[str, Any]]:
    """The events a partner (default: every partner, one queue after another) received, after the stream
    consumer has run; read and deleted, as a partner's consumer does."""
    drain_stream(services)
    events = []
    for name in [partner] if partner else services.settings.partners:
        events += read_queue(
            services.sqs, services.sqs.get_queue_url(QueueName=services.settings.partner_queue(name))["QueueUrl"]
        )
    return events


def read_queue(sqs: Any, url: str) -> list[dict[str, Any]]:
    import json

    events = []
    while True:
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not out.get("Messages"):
            return events
        for m in out["Messages"]:
            events.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def award(api, user: str, amount: int, kind: str = "forum_answer", ref: str | None = None):
    """Contribution score from another service of the platform (POST /internal/contribution)."""
    return api.post(
        "/internal/contribution",
        {"user_id": user, "kind": kind, "ref": ref or uid("ref"), "amount": amount},
        user="svc",
        groups=("service",),
    )


def contribution(api, user: str) -> int:
    return api.get("/me", user=user).json["contribution"]


def contribution_ledger(api, user: str) -> list[tuple[str, str, int]]:
    return [(e["kind"], e["ref"], e["amount"]) for e in api.get("/me/contribution/ledger", user=user).json["items"]]


def order_of(api: Any, order: dict[str, Any]) -> dict[str, Any]:
    """The order as its buyer reads it now."""
    return api.get(f"/orders/{order['order_id']}", user=order["user_id"]).json


class RecordingGateway:
    """The local gateway, recording what the shop asked of the provider."""

    def __init__(self, inner):
        self._inner, self.provider = inner, inner.provider
        self.refunds: list[tuple[str, int, str]] = []
        self.cancelled: list[str] = []

    def create_intent(self, order_id, amount_fen):
        return self._inner.create_intent(order_id, amount_fen)

    def refund(self, payment_intent_id, amount_fen, refund_key):
        self.refunds.append((payment_intent_id, amount_fen, refund_key))
        return self._inner.refund(payment_intent_id, amount_fen, refund_key)

    def cancel_intent(self, payment_intent_id):
        self.cancelled.append(payment_intent_id)


def record_gateway(services: Any) -> RecordingGateway:
    """Put a RecordingGateway in front of the container's payment gateway (the `gateway` fixture of a test file)."""
    recording = RecordingGateway(services.payment_gateway)
    services.__dict__["payment_gateway"] = recording
    return recording
